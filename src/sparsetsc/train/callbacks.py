"""Callback points of the training loop.

Dynamic sparse training (mask update after each optimizer step, prune/regrow every few
epochs) and the DSP sparsity loss (an extra loss term from forward hooks) plug in here,
so the loop itself never changes for a new method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["TrainState", "Callback"]


@dataclass
class TrainState:
    """What callbacks can read (and, for ``stop``, write) during training."""

    network: nn.Module
    optimizer: torch.optim.Optimizer
    n_epochs: int
    steps_per_epoch: int
    epoch: int = 0
    step: int = 0  # optimizer steps taken so far, over all epochs
    batch_inputs: torch.Tensor | None = None
    batch_targets: torch.Tensor | None = None
    batch_outputs: torch.Tensor | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    stop: bool = False  # a callback sets this to end training after the current epoch


class Callback:
    """Base class: override any hook; every hook is optional.

    Order within one optimisation step: forward -> :meth:`extra_loss` -> backward ->
    :meth:`on_after_backward` -> ``optimizer.step()`` -> :meth:`on_step_end`.
    """

    def on_train_begin(self, state: TrainState) -> None:
        """Called once, after the optimizer is built and before the first epoch."""

    def extra_loss(self, state: TrainState) -> torch.Tensor | None:
        """Return a scalar added to the batch loss (e.g. a sparsity penalty), or ``None``."""
        return None

    def on_after_backward(self, state: TrainState) -> None:
        """Gradients are available (e.g. for gradient-based regrowth)."""

    def on_step_end(self, state: TrainState) -> None:
        """After ``optimizer.step()`` (e.g. re-apply a sparsity mask)."""

    def on_epoch_end(self, state: TrainState, record: dict[str, Any]) -> None:
        """After each epoch and after checkpoint selection; ``record`` may be extended.

        Changes made here to the network (e.g. a prune/regrow update) take effect from the
        next epoch on; the checkpoint of this epoch was taken before them.
        """

    def on_train_end(self, state: TrainState) -> None:
        """After the last epoch, before the selected checkpoint is restored."""
