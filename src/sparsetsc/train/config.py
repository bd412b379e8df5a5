"""Settings and outcome of a training run: :class:`TrainConfig`, :class:`TrainResult`, and
the optimiser and learning-rate schedule they describe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .memory import parse_size
from .precision import PRECISIONS

__all__ = [
    "BATCH_SIZE_RULES",
    "LR_SCHEDULES",
    "SELECTIONS",
    "TrainConfig",
    "TrainResult",
    "build_optimizer",
    "build_scheduler",
    "resolve_batch_size",
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
    precision : {"fp32", "bf16", "auto"}
        ``"bf16"``: bfloat16 mixed precision (autocast; float32 weights, optimizer state,
        loss and BatchNorm statistics); ``"auto"``: bf16 where the device runs it natively
        (see :mod:`.precision`).
    max_memory : int or str, optional
        Memory a training step may use (bytes, or e.g. ``"8GB"``); by default
        ``$SPARSETSC_MAX_MEMORY``, else the memory available. A fit whose estimated step
        needs more is refused before any work (:mod:`.memory`).
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
    precision: str = "fp32"
    max_memory: int | str | None = None

    def __post_init__(self) -> None:
        if self.max_memory is not None:
            parse_size(self.max_memory)  # raises for an unreadable size
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}; got {self.precision!r}")
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
    precision: str = "fp32"  # what training ran in: "fp32" or "bf16"


def build_optimizer(network: nn.Module, config: TrainConfig) -> torch.optim.Adam:
    """Adam over the network's trainable parameters, with the config's rate and decay."""
    # The fused kernel (CPU since torch 2.4, and CUDA) is several times faster than the
    # per-tensor loop on CPU; older torch builds fall back to the default implementation.
    parameters = [p for p in network.parameters() if p.requires_grad]
    try:
        return torch.optim.Adam(
            parameters, lr=config.lr, weight_decay=config.weight_decay, fused=True
        )
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    """The config's learning-rate schedule on ``optimizer`` (``None`` for a constant rate)."""
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
