"""Dynamic structured pruning (DSP): the instance-wise sparsity loss, the global activation
analysis that decides which channels survive, and (to come) the physical rebuild."""

from .activity import active_channels, channel_activity, guard_groups, keep_channels
from .loss import SparsityLoss, StageRecorder, instance_l21

__all__ = [
    "SparsityLoss",
    "StageRecorder",
    "active_channels",
    "channel_activity",
    "guard_groups",
    "instance_l21",
    "keep_channels",
]
