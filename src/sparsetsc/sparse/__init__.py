"""Dynamic sparse training for any ``nn.Conv1d``: masks, kernel groups and search regions,
prune / regrow rules and their schedule (DSN's training rule, model-agnostic), the eNRF
analysis of what a sparse network learned, and zero-skipping inference.

Layer 5 of data → nn → cost → train → **sparse** → prune → estimators → export → bench →
report → cli: DST is a :class:`sparsetsc.train.Callback`, imported downward.
"""

from .dst import (
    DSTConfig,
    DynamicSparseTraining,
    KernelGroup,
    SparseLayer,
    drop_fraction_at,
    real_density,
)
from .enrf import (
    active_taps,
    analyze,
    enrf,
    enrf_table,
    plot_enrf_distributions,
    plot_enrf_histograms,
    plot_tap_heatmaps,
    pool_enrf_tables,
    save_figures,
    sparse_layers,
    tap_usage,
)
from .inference import SparseConv1d, sparse_inference, trim_regions, weight_density
from .masks import KernelMask, attach_mask, bake_masks, get_mask

__all__ = [
    "DSTConfig",
    "DynamicSparseTraining",
    "KernelGroup",
    "KernelMask",
    "SparseConv1d",
    "SparseLayer",
    "attach_mask",
    "bake_masks",
    "drop_fraction_at",
    "get_mask",
    "real_density",
    "active_taps",
    "analyze",
    "enrf",
    "enrf_table",
    "plot_enrf_distributions",
    "plot_enrf_histograms",
    "pool_enrf_tables",
    "plot_tap_heatmaps",
    "save_figures",
    "sparse_inference",
    "sparse_layers",
    "tap_usage",
    "trim_regions",
    "weight_density",
]
