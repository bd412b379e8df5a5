"""Reports of sweeps: tables, statistics (W/T/L, Wilcoxon, critical difference), plots.

Layer 10 of data → nn → cost → train → sparse → prune → estimators → export → bench →
**report** → cli.
"""

from __future__ import annotations

from .build import Report, build_report, report_defaults
from .claims import claims_table
from .tables import (
    accuracy_table,
    load_runs,
    markdown,
    pairwise_table,
    rank_summary,
    resample_spread,
)

__all__ = [
    "Report",
    "accuracy_table",
    "build_report",
    "claims_table",
    "load_runs",
    "markdown",
    "pairwise_table",
    "rank_summary",
    "report_defaults",
    "resample_spread",
]
