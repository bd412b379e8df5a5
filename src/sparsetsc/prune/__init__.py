"""Dynamic structured pruning (DSP): the instance-wise sparsity loss, the global activation
analysis that decides which channels survive, and the physical rebuild (torch-pruning's
dependency graph, so no model class is special-cased)."""

from .activity import active_channels, channel_activity, guard_groups, keep_channels
from .controls import matched_uniform_width
from .dsp import PruningResult, dsp_keep_masks, dsp_prune
from .loss import SparsityLoss, StageRecorder, instance_l21
from .rebuild import rebuild_from_shapes, remove_channels, stage_width, stages_of
from .redundancy import instance_redundancy, redundancy

__all__ = [
    "PruningResult",
    "SparsityLoss",
    "StageRecorder",
    "active_channels",
    "channel_activity",
    "dsp_keep_masks",
    "dsp_prune",
    "guard_groups",
    "instance_redundancy",
    "instance_l21",
    "keep_channels",
    "matched_uniform_width",
    "rebuild_from_shapes",
    "redundancy",
    "remove_channels",
    "stage_width",
    "stages_of",
]
