"""The one training loop of sparsetsc, for one network or several trained together.

Adam, an LR schedule (cosine per epoch or ReduceLROnPlateau on the training loss), shuffled
mini-batches from in-memory tensors, callbacks (see :mod:`.callbacks`), and selection of the
checkpoint to keep: lowest training loss (what the official DSN, LITE and InceptionTime codes
do), or a metric on a validation split carved from the training data. Test data never enters.

The loop trains ``M`` members, each with its own batch order (a generator seeded with its
own seed), its own Adam state, learning-rate schedule and checkpoint. How the members'
losses are computed is the only thing that differs between the two ways of training:

* :func:`fit_network`: one network, run as it is; callbacks and a validation split work;
* :func:`fit_networks`: ``M`` networks of one architecture (an ensemble's members) as one
  vectorised model: ``torch.func.vmap`` runs their forward and backward passes together (a
  convolution over 5 members becomes one grouped convolution). Each member's parameters stay
  the leaves (autograd routes each gradient back to its own tensors) and BatchNorm statistics
  are stacked per member, so member ``m`` follows the same algorithm, from the same initial
  weights and batches, as when trained alone by :func:`fit_network`; only floating-point
  summation order differs.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn
from torch.func import functional_call, vmap

from .._progress import progress_bar
from ..nn.same_conv import fast_kernels
from .callbacks import Callback, TrainState
from .config import TrainConfig, TrainResult, build_optimizer, build_scheduler, resolve_batch_size
from .memory import check_training_memory, inference_batch_size
from .precision import precision_context, resolve_precision

__all__ = ["VECTORISED_SELECTIONS", "fit_network", "fit_networks", "predict_proba"]

#: Checkpoint rules of :func:`fit_networks` (it has no validation split and no callbacks).
VECTORISED_SELECTIONS = ("train_loss", "last")

State = dict[str, torch.Tensor]


def fit_network(
    network: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    """Train ``network`` in place on ``X`` (float32, 3-D) and ``y`` (class indices).

    The batch order and the validation split are seeded with ``config.seed`` (the weights
    were initialised by the caller). On return the network holds the selected checkpoint's
    weights (and buffers, so masks of sparse layers come with it) and is in eval mode.
    """
    train_idx, val_idx = _split_validation(y, config.validation_size, config.seed)
    (result,) = _train(
        _OneNetwork(network), X, y, train_idx, val_idx, config, device, [config.seed], [callbacks]
    )
    return result


def fit_networks(
    networks: Sequence[nn.Module],
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    seeds: Sequence[int],
) -> list[TrainResult]:
    """Train ``networks`` in place, together, as one vectorised model.

    Member ``m`` is shuffled with ``seeds[m]`` (its weights were initialised by the caller);
    ``config`` holds for every member, its ``seed`` aside. On return each network holds its
    selected checkpoint and is in eval mode.

    Raises
    ------
    ValueError
        For a selection other than :data:`VECTORISED_SELECTIONS`, a validation split,
        networks of different architectures, or a number of seeds different from the
        networks'.
    """
    if config.selection not in VECTORISED_SELECTIONS or config.validation_size:
        raise ValueError(
            f"batched training supports selection in {VECTORISED_SELECTIONS} without a "
            f"validation split; got selection={config.selection!r}, "
            f"validation_size={config.validation_size}"
        )
    if len(seeds) != len(networks) or not networks:
        raise ValueError(f"need one seed per network; got {len(seeds)} for {len(networks)}")
    members = _VectorisedMembers(networks)
    everything = np.arange(len(y))
    no_callbacks: list[Sequence[Callback]] = [() for _ in networks]
    return _train(members, X, y, everything, everything[:0], config, device, seeds, no_callbacks)


def _split_validation(
    y: np.ndarray, validation_size: float | int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    indices = np.arange(len(y))
    if not validation_size:
        return indices, indices[:0]
    try:
        train_idx, val_idx = train_test_split(
            indices, test_size=validation_size, stratify=y, random_state=seed
        )
    except ValueError as err:
        raise ValueError(
            f"cannot carve a stratified validation split of size {validation_size} from "
            f"{len(y)} training cases ({err}); use a smaller validation_size or "
            "selection='train_loss'"
        ) from None
    return np.sort(train_idx), np.sort(val_idx)


# ---------------------------------------------------------------------- how members compute
class _OneNetwork:
    """One network, called as it is (forward hooks and mask parametrizations see it)."""

    def __init__(self, network: nn.Module) -> None:
        self.networks = [network]

    def losses(
        self, states: list[TrainState], X: torch.Tensor, y: torch.Tensor, batches: torch.Tensor
    ) -> torch.Tensor:
        """Cross-entropy of the batch, shape ``(1,)``; the state holds the batch and logits."""
        (state,) = states
        state.batch_inputs, state.batch_targets = X[batches[0]], y[batches[0]]
        state.batch_outputs = self.networks[0](state.batch_inputs)
        return nn.functional.cross_entropy(state.batch_outputs, state.batch_targets).unsqueeze(0)

    def snapshot(self, member: int, into: State | None = None) -> State:
        """A copy of the member's weights and buffers, to restore at the end; written into
        an earlier snapshot's tensors when given (no allocation per improved epoch)."""
        state = self.networks[member].state_dict()
        if into is None:
            return {name: tensor.detach().clone() for name, tensor in state.items()}
        for name, tensor in state.items():
            into[name].copy_(tensor)
        return into

    def restore(self, member: int, state: State | None) -> None:
        """Give the member the kept checkpoint (``None``: its weights as they are)."""
        if state is not None:
            self.networks[member].load_state_dict(state)


class _VectorisedMembers:
    """Members of one architecture run as one model through ``torch.func.vmap``."""

    def __init__(self, networks: Sequence[nn.Module]) -> None:
        _check_same_architecture(networks)
        self.networks = list(networks)
        self.parameters = [dict(network.named_parameters()) for network in networks]
        self._parameter_names = list(self.parameters[0])
        self._template = copy.deepcopy(networks[0]).to("meta")  # architecture, no storage
        self.buffers: State = {}
        self._constants: State = {}

    def to(self, device: torch.device) -> None:
        # Saved buffers (BatchNorm statistics) live stacked during training and go back at
        # the end; buffers outside the state dict (constants such as index tables) are shared.
        saved = set(self.networks[0].state_dict())
        self.buffers = {
            name: torch.stack([dict(n.named_buffers())[name] for n in self.networks])
            for name, _ in self.networks[0].named_buffers()
            if name in saved
        }
        self._constants = {
            name: b for name, b in self.networks[0].named_buffers() if name not in saved
        }

        def member_forward(params: State, member_buffers: State, x: torch.Tensor) -> torch.Tensor:
            buffers = {**member_buffers, **self._constants}
            return functional_call(self._template, (params, buffers), (x,))

        self._forward = vmap(member_forward, randomness="different")

    def losses(
        self, states: list[TrainState], X: torch.Tensor, y: torch.Tensor, batches: torch.Tensor
    ) -> torch.Tensor:
        """Cross-entropy of every member's batch, shape ``(members,)``."""
        n_members = len(self.networks)
        stacked = {
            name: torch.stack([self.parameters[m][name] for m in range(n_members)])
            for name in self._parameter_names
        }
        with fast_kernels(False):  # vmap cannot batch the numba kernels
            logits = self._forward(stacked, self.buffers, X[batches])  # (members, batch, classes)
        losses = nn.functional.cross_entropy(
            logits.flatten(0, 1), y[batches].flatten(), reduction="none"
        )
        return losses.view(n_members, -1).mean(dim=1)

    def snapshot(self, member: int, into: State | None = None) -> State:
        state = {name: p.detach() for name, p in self.parameters[member].items()}
        state.update({name: stacked[member] for name, stacked in self.buffers.items()})
        if into is None:
            return {name: tensor.clone() for name, tensor in state.items()}
        for name, tensor in state.items():
            into[name].copy_(tensor)
        return into

    def restore(self, member: int, state: State | None) -> None:
        # The networks' own buffers were not updated during training: always load.
        self.networks[member].load_state_dict(state or self.snapshot(member))


def _check_same_architecture(networks: Sequence[nn.Module]) -> None:
    def signature(network: nn.Module) -> list[tuple[str, tuple[int, ...], bool]]:
        tensors = [(k, tuple(p.shape), p.requires_grad) for k, p in network.named_parameters()]
        return tensors + [(k, tuple(b.shape), False) for k, b in network.named_buffers()]

    first = signature(networks[0])
    for network in networks[1:]:
        if signature(network) != first:
            raise ValueError("batched training needs networks with identical architectures")


# ---------------------------------------------------------------------- the loop
def _train(
    members: _OneNetwork | _VectorisedMembers,
    X: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    seeds: Sequence[int],
    callbacks: Sequence[Sequence[Callback]],
) -> list[TrainResult]:
    networks = members.networks
    n_members = len(networks)
    # Callbacks act on a member's own forward pass, which only a single network has.
    assert n_members == 1 or not any(callbacks), "callbacks need fit_network"
    X_all = torch.as_tensor(X, dtype=torch.float32).to(device)
    y_all = torch.as_tensor(y, dtype=torch.long).to(device)
    X_train, y_train = X_all[train_idx], y_all[train_idx]
    X_val, y_val = X_all[val_idx], y_all[val_idx]
    n_train = len(train_idx)
    batch_size = resolve_batch_size(config.batch_size, n_train)
    steps_per_epoch = math.ceil(n_train / batch_size)
    precision = resolve_precision(config.precision, device)

    for network in networks:
        network.to(device).train()
    # Refuse a step that cannot fit before any work (the probe leaves the network as it was).
    check_training_memory(
        networks[0],
        X.shape[1],
        X.shape[2],
        batch_size,
        precision,
        device,
        config.max_memory,
        n_members=n_members,
    )
    if isinstance(members, _VectorisedMembers):
        members.to(device)
    optimizers = [build_optimizer(network, config) for network in networks]
    schedulers = [build_scheduler(optimizer, config) for optimizer in optimizers]
    shufflers = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    states = [
        TrainState(network, optimizer, config.n_epochs, steps_per_epoch)
        for network, optimizer in zip(networks, optimizers, strict=True)
    ]
    for m, state in enumerate(states):
        for callback in callbacks[m]:
            callback.on_train_begin(state)

    best_score = [math.inf] * n_members
    best_epoch = [0] * n_members
    best_state: list[State | None] = [None] * n_members
    progress = progress_bar(
        range(config.n_epochs),
        desc=config.description,
        disable=not config.verbose,
        unit="epoch",
        dynamic_ncols=True,
    )
    for epoch in progress:
        started = time.perf_counter()
        orders = torch.stack(
            [torch.randperm(n_train, generator=shuffler) for shuffler in shufflers]
        ).to(device)
        # Sums stay on the device: no host sync per step.
        loss_sum = torch.zeros(n_members, device=device)
        ce_sum = torch.zeros(n_members, device=device)
        for state in states:
            state.epoch = epoch
        for start in range(0, n_train, batch_size):
            batches = orders[:, start : start + batch_size]  # (members, batch)
            with precision_context(precision, device):
                ce = members.losses(states, X_train, y_train, batches)
            losses = ce
            for m, state in enumerate(states):
                for callback in callbacks[m]:
                    extra = callback.extra_loss(state)
                    if extra is not None:
                        losses = losses + extra  # one member (see the assertion above)
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()  # members share no parameter: each gets its own gradient
            for m, state in enumerate(states):
                for callback in callbacks[m]:
                    callback.on_after_backward(state)
            for m, state in enumerate(states):
                optimizers[m].step()
                state.step += 1
                for callback in callbacks[m]:
                    callback.on_step_end(state)
            loss_sum += losses.detach() * batches.shape[1]
            ce_sum += ce.detach() * batches.shape[1]
        epoch_losses = [total / n_train for total in loss_sum.tolist()]
        epoch_ce = [total / n_train for total in ce_sum.tolist()]

        for m, state in enumerate(states):
            state.batch_inputs = state.batch_targets = state.batch_outputs = None
            record: dict[str, Any] = {
                "epoch": epoch + 1,
                "loss": epoch_losses[m],
                "ce_loss": epoch_ce[m],
                "lr": optimizers[m].param_groups[0]["lr"],
            }
            if len(val_idx):
                record["val_loss"], record["val_accuracy"] = _evaluate(
                    networks[m], X_val, y_val, config.eval_batch_size, precision, device
                )
            scheduler = schedulers[m]
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(record["loss"])
            elif scheduler is not None:
                scheduler.step()
            # Select before the epoch-end callbacks: they may change the network (a DST
            # update regrows weights at zero), and the checkpoint must be the weights the
            # loss measured.
            if config.selection == "last":
                best_epoch[m] = epoch + 1  # the final weights are kept; nothing to copy
            else:
                score = {
                    "train_loss": record["loss"],
                    "val_loss": record.get("val_loss"),
                    "val_accuracy": -record.get("val_accuracy", 0.0),
                }[config.selection]
                if score < best_score[m]:  # ties keep the earlier epoch
                    best_score[m], best_epoch[m] = score, epoch + 1
                    best_state[m] = members.snapshot(m, into=best_state[m])
            for callback in callbacks[m]:
                callback.on_epoch_end(state, record)
            record["seconds"] = (time.perf_counter() - started) / n_members  # a shared epoch
            state.history.append(record)
        shown = {"loss": f"{min(epoch_losses):.4g}", "lr": f"{record['lr']:.4g}"}
        if "val_accuracy" in record:
            shown["val_accuracy"] = f"{record['val_accuracy']:.4g}"
        progress.set_postfix(shown, refresh=False)
        if any(state.stop for state in states):
            break
    progress.close()

    results = []
    for m, (network, state) in enumerate(zip(networks, states, strict=True)):
        for callback in callbacks[m]:
            callback.on_train_end(state)
        members.restore(m, best_state[m])
        network.eval()
        results.append(
            TrainResult(
                history=state.history,
                selected_epoch=best_epoch[m],
                batch_size=batch_size,
                n_train=n_train,
                n_validation=len(val_idx),
                precision=precision,
            )
        )
    return results


@torch.no_grad()
def _evaluate(
    network: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    precision: str,
    device: torch.device,
) -> tuple[float, float]:
    was_training = network.training
    network.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(X), batch_size):
        with precision_context(precision, device):
            logits = network(X[start : start + batch_size]).float()
        target = y[start : start + batch_size]
        total_loss += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(dim=1) == target).sum().item()
    network.train(was_training)
    return total_loss / len(X), correct / len(X)


@torch.no_grad()
def predict_proba(
    network: nn.Module,
    X: np.ndarray,
    device: torch.device,
    batch_size: int = 256,
    precision: str = "fp32",
    max_memory: int | str | None = None,
) -> np.ndarray:
    """Class probabilities of ``network`` (put in eval mode by the caller) for ``X``.

    ``precision``: ``"fp32"``, ``"bf16"`` (autocast forward; the softmax in float32) or
    ``"auto"``. Batches hold at most ``batch_size`` series, fewer if their forward pass
    would exceed the memory limit (:mod:`.memory`; ``max_memory`` caps it).
    """
    precision = resolve_precision(precision, device)
    batch_size = inference_batch_size(
        network, X.shape[1], X.shape[2], device, batch_size, max_memory
    )
    outputs = []
    for start in range(0, len(X), batch_size):
        batch = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32, device=device)
        with precision_context(precision, device):
            logits = network(batch).float()
        outputs.append(torch.softmax(logits, dim=1).double().cpu())
    return torch.cat(outputs).numpy()
