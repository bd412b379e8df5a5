"""Train several networks of the same architecture at once, as one vectorised model.

An ensemble's members (LITETime, InceptionTime: 5 networks) are independent: each has its
own initialisation, its own shuffling, its own Adam state, learning-rate schedule and
checkpoint. Training them one after the other repeats every small operation five times;
here ``torch.func.vmap`` runs the members' forward and backward passes together (a
convolution over 5 members becomes one grouped convolution), while everything that makes a
member independent stays per member:

* each member's own parameters are the leaves: every step stacks them (autograd routes each
  member's gradient back to its own tensors), and each member has its own
  ``torch.optim.Adam`` and learning-rate scheduler, the same objects :func:`fit_network`
  uses;
* each member draws its own batch order from a generator seeded with its own seed, as
  :func:`fit_network` does, so member ``m`` sees exactly the batches it would see alone;
* BatchNorm running statistics are stacked buffers, updated in place per member;
* the checkpoint with the lowest training loss is kept per member.

A member trained here therefore follows the same algorithm, from the same initial weights
and batches, as when trained alone; only floating-point summation order differs.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from .loop import TrainConfig, TrainResult, _adam, _build_scheduler, resolve_batch_size

__all__ = ["BATCHED_SELECTIONS", "fit_networks_batched"]

#: Checkpoint rules the batched trainer supports (no validation split, no callbacks).
BATCHED_SELECTIONS = ("train_loss", "last")


def _check_same_architecture(networks: Sequence[nn.Module]) -> None:
    def signature(network: nn.Module) -> list[tuple[str, tuple[int, ...], bool]]:
        tensors = [(k, tuple(p.shape), p.requires_grad) for k, p in network.named_parameters()]
        return tensors + [(k, tuple(b.shape), False) for k, b in network.named_buffers()]

    first = signature(networks[0])
    for network in networks[1:]:
        if signature(network) != first:
            raise ValueError("batched training needs networks with identical architectures")


def fit_networks_batched(
    networks: Sequence[nn.Module],
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    seeds: Sequence[int],
) -> list[TrainResult]:
    """Train ``networks`` in place on ``X`` (float32, 3-D) and ``y`` (class indices).

    Member ``m`` is shuffled with ``seeds[m]`` (its weights were initialised by the caller).
    ``config`` holds for every member, except that its ``seed`` is replaced by ``seeds[m]``.
    On return each network holds its selected checkpoint and is in eval mode.

    Raises
    ------
    ValueError
        For a selection other than :data:`BATCHED_SELECTIONS`, a validation split, networks
        of different architectures, or a number of seeds different from the networks'.
    """
    if config.selection not in BATCHED_SELECTIONS or config.validation_size:
        raise ValueError(
            f"batched training supports selection in {BATCHED_SELECTIONS} without a validation "
            f"split; got selection={config.selection!r}, validation_size={config.validation_size}"
        )
    if len(seeds) != len(networks) or not networks:
        raise ValueError(f"need one seed per network; got {len(seeds)} for {len(networks)}")
    _check_same_architecture(networks)
    n_members = len(networks)

    X_train = torch.as_tensor(X, dtype=torch.float32).to(device)
    y_train = torch.as_tensor(y, dtype=torch.long).to(device)
    n_train = len(X_train)
    batch_size = resolve_batch_size(config.batch_size, n_train)

    for network in networks:
        network.to(device).train()
    optimizers = [_adam(network, config) for network in networks]
    schedulers = [_build_scheduler(optimizer, config) for optimizer in optimizers]
    shufflers = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    parameters = [dict(network.named_parameters()) for network in networks]
    parameter_names = list(parameters[0])
    # Saved buffers (BatchNorm statistics) live stacked during training and go back at the
    # end; buffers outside the state dict (constants such as index tables) are shared.
    saved = set(networks[0].state_dict())
    buffers = {
        name: torch.stack([dict(n.named_buffers())[name] for n in networks])
        for name, _ in networks[0].named_buffers()
        if name in saved
    }
    constants = {name: b for name, b in networks[0].named_buffers() if name not in saved}
    template = copy.deepcopy(networks[0]).to("meta")  # architecture only, no storage

    def member_forward(params: dict, member_buffers: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(template, (params, {**member_buffers, **constants}), (x,))

    forward = vmap(member_forward, randomness="different")

    histories: list[list[dict[str, Any]]] = [[] for _ in networks]
    best_loss = [math.inf] * n_members
    best_epoch = [0] * n_members
    best_state: list[dict[str, torch.Tensor] | None] = [None] * n_members
    progress = tqdm(
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
        loss_sum = torch.zeros(n_members, device=device)
        for start in range(0, n_train, batch_size):
            batch = orders[:, start : start + batch_size]  # (members, batch)
            stacked = {
                name: torch.stack([parameters[m][name] for m in range(n_members)])
                for name in parameter_names
            }
            logits = forward(stacked, buffers, X_train[batch])  # (members, batch, classes)
            losses = (
                nn.functional.cross_entropy(
                    logits.flatten(0, 1), y_train[batch].flatten(), reduction="none"
                )
                .view(n_members, -1)
                .mean(dim=1)
            )
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()  # members share no parameter: each gets its own gradient
            for optimizer in optimizers:
                optimizer.step()
            loss_sum += losses.detach() * batch.shape[1]
        epoch_losses = (loss_sum / n_train).tolist()
        seconds = time.perf_counter() - started
        for m in range(n_members):
            record = {
                "epoch": epoch + 1,
                "loss": epoch_losses[m],
                "ce_loss": epoch_losses[m],
                "lr": optimizers[m].param_groups[0]["lr"],
                "seconds": seconds / n_members,  # the shared epoch, split evenly
            }
            scheduler = schedulers[m]
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(record["loss"])
            elif scheduler is not None:
                scheduler.step()
            if config.selection == "last":
                best_epoch[m] = epoch + 1
            elif record["loss"] < best_loss[m]:  # ties keep the earlier epoch
                best_loss[m], best_epoch[m] = record["loss"], epoch + 1
                best_state[m] = _member_state(parameters[m], buffers, m)
            histories[m].append(record)
        progress.set_postfix({"loss": f"{min(epoch_losses):.4g}"}, refresh=False)
    progress.close()

    for m, network in enumerate(networks):
        state = (
            best_state[m] if best_state[m] is not None else _member_state(parameters[m], buffers, m)
        )
        network.load_state_dict(state)
        network.eval()
    return [
        TrainResult(
            history=histories[m],
            selected_epoch=best_epoch[m],
            batch_size=batch_size,
            n_train=n_train,
            n_validation=0,
        )
        for m in range(n_members)
    ]


def _member_state(
    member_parameters: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], member: int
) -> dict[str, torch.Tensor]:
    state = {name: p.detach().clone() for name, p in member_parameters.items()}
    state.update({name: stacked[member].clone() for name, stacked in buffers.items()})
    return state
