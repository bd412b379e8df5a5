"""One training loop for every model: optimiser, schedules, callbacks, selection, seeding."""

from .callbacks import Callback, TrainState
from .loop import (
    BATCH_SIZE_RULES,
    LR_SCHEDULES,
    SELECTIONS,
    TrainConfig,
    TrainResult,
    fit_network,
    predict_proba,
    resolve_batch_size,
)
from .seeding import resolve_device, resolve_seed, seeded

__all__ = [
    "BATCH_SIZE_RULES",
    "LR_SCHEDULES",
    "SELECTIONS",
    "Callback",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "fit_network",
    "predict_proba",
    "resolve_batch_size",
    "resolve_device",
    "resolve_seed",
    "seeded",
]
