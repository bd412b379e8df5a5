"""Dynamic structured pruning (DSP) as one pipeline over any network (:func:`fit_prune`):
the instance-wise sparsity loss, the global activation analysis that decides which channels
survive, the physical rebuild (torch-pruning's dependency graph, so no model class is
special-cased), recovery, the uniform-width control and the redundancy analyses.

Layer 6 of data → nn → cost → train → sparse → **prune** → estimators → export → bench →
report → cli: built on the trainer, whose callback protocol the sparsity loss implements.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..nn import stages as _stages
from .dsp import (
    RECOVERIES,
    DSPConfig,
    DSPResult,
    PruningResult,
    SparsityLoss,
    active_channels,
    channel_activity,
    dsp_keep_masks,
    dsp_prune,
    fit_prune,
    guard_groups,
    instance_l21,
    keep_channels,
    reinitialise,
)
from .rebuild import rebuild_from_shapes, remove_channels
from .redundancy import instance_redundancy, redundancy
from .uniform import matched_uniform_width, uniform_control, uniform_width

__all__ = [
    "RECOVERIES",
    "DSPConfig",
    "DSPResult",
    "PruningResult",
    "SparsityLoss",
    "active_channels",
    "channel_activity",
    "dsp_keep_masks",
    "dsp_prune",
    "fit_prune",
    "guard_groups",
    "instance_l21",
    "instance_redundancy",
    "keep_channels",
    "matched_uniform_width",
    "rebuild_from_shapes",
    "redundancy",
    "reinitialise",
    "remove_channels",
    "uniform_control",
    "uniform_width",
]

#: Names that moved to :mod:`sparsetsc.nn` (beside ``PrunableStage``); kept here for one
#: release with a DeprecationWarning.
_MOVED_TO_NN = {
    name: getattr(_stages, name) for name in ("StageRecorder", "stage_width", "stages_of")
}


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_NN:
        warnings.warn(
            f"sparsetsc.prune.{name} moved to sparsetsc.nn.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return _MOVED_TO_NN[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
