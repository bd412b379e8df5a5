"""Dynamic sparse training for any ``nn.Conv1d``: masks, kernel groups and search regions,
prune / regrow rules and their schedule (DSN's training rule, model-agnostic)."""

from .analysis import (
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
from .dst import (
    DSTConfig,
    DynamicSparseTraining,
    KernelGroup,
    SparseLayer,
    drop_fraction_at,
    real_density,
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
