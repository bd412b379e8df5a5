"""The one training loop every sparsetsc model uses.

Adam, an LR schedule (cosine per epoch or ReduceLROnPlateau on the training loss), shuffled
mini-batches from in-memory tensors, callbacks (see :mod:`.callbacks`), and selection of the
checkpoint to keep: lowest training loss (what the official DSN, LITE and InceptionTime codes
do), or a metric on a validation split carved from the training data. Test data never enters.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn
from tqdm.auto import tqdm

from .callbacks import Callback, TrainState

__all__ = [
    "BATCH_SIZE_RULES",
    "SELECTIONS",
    "LR_SCHEDULES",
    "TrainConfig",
    "TrainResult",
    "resolve_batch_size",
    "fit_network",
    "predict_proba",
]

#: Batch size as a function of the number of training cases, by the name used in papers' code.
BATCH_SIZE_RULES: dict[str, Callable[[int], int]] = {
    # Wang et al. FCN / dl-4-tsc: min(N/10, 16)
    "fcn": lambda n: max(int(min(n / 10, 16)), 1),
    # DSN and OS-CNN: min(N/10, 16), at least 2
    "dsn": lambda n: max(int(min(n / 10, 16)), 2),
}
SELECTIONS = ("train_loss", "val_loss", "val_accuracy", "last")
LR_SCHEDULES = ("plateau", "cosine", "constant")


def resolve_batch_size(batch_size: int | str, n_cases: int) -> int:
    """Batch size for ``n_cases`` training cases: an int (capped at ``n_cases``) or a rule name."""
    if isinstance(batch_size, str):
        if batch_size not in BATCH_SIZE_RULES:
            raise ValueError(
                f"unknown batch_size rule {batch_size!r}; use an int or one of "
                f"{sorted(BATCH_SIZE_RULES)}"
            )
        size = BATCH_SIZE_RULES[batch_size](n_cases)
    elif isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        size = int(batch_size)
    else:
        raise ValueError(f"batch_size must be an int or a rule name; got {batch_size!r}")
    return min(size, n_cases)


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`fit_network`.

    Parameters
    ----------
    n_epochs : int
        Passes over the training data.
    batch_size : int or str
        An int, or a rule from :data:`BATCH_SIZE_RULES` (``"fcn"``, ``"dsn"``).
    lr : float
        Initial Adam learning rate.
    lr_schedule : {"plateau", "cosine", "constant"}
        ``"plateau"``: ReduceLROnPlateau on the epoch's training loss (``plateau_factor``,
        ``plateau_patience``, floor ``min_lr``); ``"cosine"``: cosine annealing from ``lr`` to
        ``min_lr`` over ``n_epochs``, stepped per epoch.
    selection : {"train_loss", "val_loss", "val_accuracy", "last"}
        Which epoch's weights to keep. ``val_*`` need ``validation_size > 0``.
    validation_size : float or int
        Fraction (0 < v < 1) or number of training cases held out, stratified by class.
        They are not trained on. 0 means no validation split.
    weight_decay : float
        Adam weight decay (L2).
    seed : int
        Seeds the shuffling and the validation split (weight init is seeded by the caller).
    verbose : bool
        Show a progress bar over epochs (on stderr).
    eval_batch_size : int
        Batch size for validation forward passes.
    """

    n_epochs: int = 100
    batch_size: int | str = 16
    lr: float = 1e-3
    lr_schedule: str = "plateau"
    min_lr: float = 1e-4
    plateau_factor: float = 0.5
    plateau_patience: int = 50
    selection: str = "train_loss"
    validation_size: float | int = 0.0
    weight_decay: float = 0.0
    seed: int = 0
    verbose: bool = False
    eval_batch_size: int = 256
    description: str = "training"

    def __post_init__(self) -> None:
        if not isinstance(self.n_epochs, (int, np.integer)) or self.n_epochs < 1:
            raise ValueError(f"n_epochs must be a positive int; got {self.n_epochs!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}; got {self.lr_schedule!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}; got {self.selection!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")
        if self.validation_size < 0 or (
            isinstance(self.validation_size, float) and self.validation_size >= 1
        ):
            raise ValueError(
                "validation_size must be a fraction in [0, 1) or a count of cases; got "
                f"{self.validation_size}"
            )
        if self.selection.startswith("val_") and not self.validation_size:
            raise ValueError(
                f"selection={self.selection!r} needs a validation split: set validation_size > 0"
            )


@dataclass
class TrainResult:
    """What training produced besides the trained network."""

    history: list[dict[str, Any]]
    selected_epoch: int  # 1-based epoch whose weights were kept
    batch_size: int
    n_train: int
    n_validation: int


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


def _adam(network: nn.Module, config: TrainConfig) -> torch.optim.Adam:
    # The fused kernel (CPU since torch 2.4, and CUDA) is several times faster than the
    # per-tensor loop on CPU; older torch builds fall back to the default implementation.
    parameters = [p for p in network.parameters() if p.requires_grad]
    try:
        return torch.optim.Adam(
            parameters, lr=config.lr, weight_decay=config.weight_decay, fused=True
        )
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def _build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    if config.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="min",
            factor=config.plateau_factor,
            patience=config.plateau_patience,
            min_lr=config.min_lr,
        )
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.n_epochs, eta_min=config.min_lr
        )
    return None


@torch.no_grad()
def _evaluate(
    network: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    was_training = network.training
    network.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(X), batch_size):
        logits = network(X[start : start + batch_size])
        target = y[start : start + batch_size]
        total_loss += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(dim=1) == target).sum().item()
    network.train(was_training)
    return total_loss / len(X), correct / len(X)


def fit_network(
    network: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    device: torch.device,
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    """Train ``network`` in place on ``X`` (float32, 3-D) and ``y`` (class indices).

    On return the network holds the selected checkpoint's weights (and buffers, so masks of
    sparse layers come with it) and is in eval mode.
    """
    train_idx, val_idx = _split_validation(y, config.validation_size, config.seed)
    X_all = torch.as_tensor(X, dtype=torch.float32).to(device)
    y_all = torch.as_tensor(y, dtype=torch.long).to(device)
    X_train, y_train = X_all[train_idx], y_all[train_idx]
    X_val, y_val = X_all[val_idx], y_all[val_idx]
    n_train = len(train_idx)
    batch_size = resolve_batch_size(config.batch_size, n_train)
    steps_per_epoch = math.ceil(n_train / batch_size)

    network.to(device).train()
    optimizer = _adam(network, config)
    scheduler = _build_scheduler(optimizer, config)
    shuffler = torch.Generator().manual_seed(config.seed)
    state = TrainState(
        network=network,
        optimizer=optimizer,
        n_epochs=config.n_epochs,
        steps_per_epoch=steps_per_epoch,
    )
    for callback in callbacks:
        callback.on_train_begin(state)

    best_score, best_state, best_epoch = math.inf, None, 0
    progress = tqdm(
        range(config.n_epochs),
        desc=config.description,
        disable=not config.verbose,
        unit="epoch",
        dynamic_ncols=True,
    )
    for epoch in progress:
        state.epoch = epoch
        started = time.perf_counter()
        order = torch.randperm(n_train, generator=shuffler).to(device)
        # Sums stay on the device: no host sync per step.
        loss_sum = torch.zeros((), device=device)
        ce_sum = torch.zeros((), device=device)
        for start in range(0, n_train, batch_size):
            batch = order[start : start + batch_size]
            state.batch_inputs, state.batch_targets = X_train[batch], y_train[batch]
            state.batch_outputs = network(state.batch_inputs)
            ce = nn.functional.cross_entropy(state.batch_outputs, state.batch_targets)
            loss = ce
            for callback in callbacks:
                extra = callback.extra_loss(state)
                if extra is not None:
                    loss = loss + extra
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            for callback in callbacks:
                callback.on_after_backward(state)
            optimizer.step()
            state.step += 1
            for callback in callbacks:
                callback.on_step_end(state)
            loss_sum += loss.detach() * len(batch)
            ce_sum += ce.detach() * len(batch)
        state.batch_inputs = state.batch_targets = state.batch_outputs = None

        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "loss": loss_sum.item() / n_train,
            "ce_loss": ce_sum.item() / n_train,
            "lr": optimizer.param_groups[0]["lr"],
        }
        if len(val_idx):
            record["val_loss"], record["val_accuracy"] = _evaluate(
                network, X_val, y_val, config.eval_batch_size
            )
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(record["loss"])
        elif scheduler is not None:
            scheduler.step()
        # Select before the epoch-end callbacks: they may change the network (a DST update
        # regrows weights at zero), and the checkpoint must be the weights the loss measured.
        if config.selection == "last":
            best_epoch = epoch + 1  # the network's final weights are kept; nothing to copy
        else:
            score = {
                "train_loss": record["loss"],
                "val_loss": record.get("val_loss"),
                "val_accuracy": -record.get("val_accuracy", 0.0),
            }[config.selection]
            if score < best_score:  # ties keep the earlier epoch
                best_score, best_epoch = score, epoch + 1
                best_state = copy.deepcopy(network.state_dict())
        for callback in callbacks:
            callback.on_epoch_end(state, record)
        record["seconds"] = time.perf_counter() - started
        state.history.append(record)
        progress.set_postfix(
            {k: f"{v:.4g}" for k, v in record.items() if k in ("loss", "val_accuracy", "lr")},
            refresh=False,
        )
        if state.stop:
            break
    progress.close()

    for callback in callbacks:
        callback.on_train_end(state)
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    return TrainResult(
        history=state.history,
        selected_epoch=best_epoch,
        batch_size=batch_size,
        n_train=n_train,
        n_validation=len(val_idx),
    )


@torch.no_grad()
def predict_proba(
    network: nn.Module, X: np.ndarray, device: torch.device, batch_size: int = 256
) -> np.ndarray:
    """Class probabilities of ``network`` (put in eval mode by the caller) for ``X``."""
    outputs = []
    for start in range(0, len(X), batch_size):
        batch = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32, device=device)
        outputs.append(torch.softmax(network(batch), dim=1).double().cpu())
    return torch.cat(outputs).numpy()
