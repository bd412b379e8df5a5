"""One generic trainer for 1..M networks: loop, optimiser and schedule, the callback
protocol, checkpoint selection, seeding and device.

Layer 4 of data → nn → cost → **train** → sparse → prune → estimators → export → bench →
report → cli. It knows nothing of dynamic sparse training or pruning: they plug in through
:class:`Callback`, which :mod:`sparsetsc.sparse` and :mod:`sparsetsc.prune` import.
"""

from __future__ import annotations

import warnings
from typing import Any

from .callbacks import Callback, TrainState
from .config import (
    BATCH_SIZE_RULES,
    LR_SCHEDULES,
    SELECTIONS,
    TrainConfig,
    TrainResult,
    build_optimizer,
    build_scheduler,
    resolve_batch_size,
)
from .loop import VECTORISED_SELECTIONS, fit_network, fit_networks, predict_proba
from .memory import MEMORY_ENV, InsufficientMemoryError
from .precision import (
    DEFAULT_PRECISION,
    PRECISIONS,
    native_bf16,
    precision_context,
    resolve_precision,
)
from .seeding import resolve_device, resolve_seed, seeded

__all__ = [
    "BATCH_SIZE_RULES",
    "DEFAULT_PRECISION",
    "InsufficientMemoryError",
    "MEMORY_ENV",
    "LR_SCHEDULES",
    "PRECISIONS",
    "SELECTIONS",
    "VECTORISED_SELECTIONS",
    "Callback",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "build_optimizer",
    "build_scheduler",
    "fit_network",
    "fit_networks",
    "native_bf16",
    "precision_context",
    "predict_proba",
    "resolve_batch_size",
    "resolve_device",
    "resolve_precision",
    "resolve_seed",
    "seeded",
]

#: Names of the previous release, kept for one release with a DeprecationWarning.
_DEPRECATED = {
    "fit_networks_batched": ("fit_networks", fit_networks),
    "BATCHED_SELECTIONS": ("VECTORISED_SELECTIONS", VECTORISED_SELECTIONS),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        new_name, value = _DEPRECATED[name]
        warnings.warn(
            f"sparsetsc.train.{name} is deprecated; use sparsetsc.train.{new_name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
