"""Dynamic structured pruning (DSP): the instance-wise sparsity loss, the global activation
analysis that decides which channels survive, and the physical rebuild (torch-pruning's
dependency graph, so no model class is special-cased)."""

from .activity import active_channels, channel_activity, guard_groups, keep_channels
from .loss import SparsityLoss, StageRecorder, instance_l21
from .rebuild import Stage, rebuild_from_shapes, remove_channels

__all__ = [
    "SparsityLoss",
    "Stage",
    "StageRecorder",
    "active_channels",
    "channel_activity",
    "guard_groups",
    "instance_l21",
    "keep_channels",
    "rebuild_from_shapes",
    "remove_channels",
]
