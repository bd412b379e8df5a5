"""DSP's decision step: from a sparsity-trained network and its training data to a smaller one.

1. :func:`channel_activity` counts, per stage and channel, the training instances in which
   the channel is active (eval mode; fixed channels such as hand-crafted filters are left
   out of the per-instance threshold, as the authors do for LITE's first block);
2. a channel stays when its count exceeds ``min_count``; fixed channels always stay; every
   declared group keeps at least one channel;
3. :func:`remove_channels` builds the physically smaller network, and
   :func:`rebuild_from_shapes` turns it back into a registered sparsetsc network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..nn.stages import PrunableStage
from .activity import channel_activity, guard_groups, keep_channels
from .rebuild import rebuild_from_shapes, remove_channels, stage_width, stages_of

__all__ = ["PruningResult", "dsp_keep_masks", "dsp_prune"]


def _stage_width(network: nn.Module, stage: PrunableStage) -> int:
    return stage_width(dict(network.named_modules())[stage.root])


def _fixed_mask(width: int, stage: PrunableStage) -> np.ndarray:
    fixed = np.zeros(width, dtype=bool)
    for channels in stage.fixed:
        fixed[channels] = True
    return fixed


def dsp_keep_masks(
    network: nn.Module,
    X: np.ndarray | torch.Tensor,
    min_count: int,
    stages: Sequence[PrunableStage] | None = None,
    batch_size: int = 256,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Which channels of each stage DSP keeps, and the activity counts behind it.

    Returns ``(keep, counts)``, both keyed by stage output name; ``keep[name]`` is a boolean
    array over the stage's channels, ``counts[name]`` the number of instances of ``X`` in
    which each channel is active (-1 for fixed channels, which are not counted).
    """
    stages = list(stages or stages_of(network))
    widths = {stage.output: _stage_width(network, stage) for stage in stages}
    fixed = {stage.output: _fixed_mask(widths[stage.output], stage) for stage in stages}
    counted = {name: np.flatnonzero(~mask) for name, mask in fixed.items()}
    activity = channel_activity(
        network, X, [s.output for s in stages], channels=counted, batch_size=batch_size
    )
    keep, counts = {}, {}
    for stage in stages:
        name = stage.output
        keep[name] = fixed[name].copy()
        keep[name][counted[name]] = keep_channels(activity[name], min_count)
        keep[name] = guard_groups(keep[name], stage.groups)
        counts[name] = np.full(widths[name], -1, dtype=np.int64)
        counts[name][counted[name]] = activity[name]
    return keep, counts


@dataclass
class PruningResult:
    """A pruned network and how it was obtained."""

    network: nn.Module  # the smaller network, a fresh registered network when possible
    keep: dict[str, np.ndarray]  # kept channels per stage (by stage output name)
    counts: dict[str, np.ndarray]  # activity counts per stage (-1 for fixed channels)

    @property
    def kept_widths(self) -> dict[str, int]:
        """Channels kept per stage."""
        return {name: int(mask.sum()) for name, mask in self.keep.items()}


def dsp_prune(
    network: nn.Module,
    X: np.ndarray | torch.Tensor,
    min_count: int,
    stages: Sequence[PrunableStage] | None = None,
    batch_size: int = 256,
) -> PruningResult:
    """Analyse ``network`` on ``X`` (its training data) and remove the unused channels.

    ``min_count``: a channel stays when it is active in more than this many instances
    (DSP: 1 for LITE, 0 for Inception). No pruning ratio is involved.
    """
    keep, counts = dsp_keep_masks(network, X, min_count, stages, batch_size)
    example = torch.as_tensor(X[: min(len(X), 2)], dtype=torch.float32)
    pruned = remove_channels(network, keep, example, stages)
    if hasattr(pruned, "config_from_shapes"):
        pruned = rebuild_from_shapes(pruned)
    return PruningResult(pruned.eval(), keep, counts)
