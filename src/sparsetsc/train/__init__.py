"""One training loop for every model: optimiser, schedules, callbacks, selection, seeding."""

from .batched import BATCHED_SELECTIONS, fit_networks_batched
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
    "BATCHED_SELECTIONS",
    "BATCH_SIZE_RULES",
    "LR_SCHEDULES",
    "SELECTIONS",
    "Callback",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "fit_network",
    "fit_networks_batched",
    "predict_proba",
    "resolve_batch_size",
    "resolve_device",
    "resolve_seed",
    "seeded",
]
