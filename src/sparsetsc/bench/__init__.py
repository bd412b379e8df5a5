"""Benchmark sweeps: models × datasets × resamples, resumable, local or on Dask.

Results are tsml-eval classification files plus our metadata (:mod:`.store`); published
results of other methods are read by :mod:`.published`; :mod:`sparsetsc.report` turns a
runs directory into tables and figures.

Layer 9 of data → nn → cost → train → sparse → prune → estimators → export → **bench** →
report → cli.
"""

from __future__ import annotations

import warnings
from typing import Any

from .jobs import (
    DEFAULT_SEED_POLICY,
    SEED_POLICIES,
    Job,
    JobOutcome,
    fit_and_predict,
    job_seed,
    load_resample,
    run_job,
)
from .models import DISPLAY_NAMES, PEERS, available_models, make_estimator
from .published import load_published, published_accuracy, read_table
from .store import CorruptResultError, Result, read_result, result_path, write_result
from .suites import SUITES, resolve_datasets
from .sweep import SweepPlan, SweepSummary, Variant, plan_sweep, run_sweep

__all__ = [
    "DEFAULT_SEED_POLICY",
    "DISPLAY_NAMES",
    "PEERS",
    "SEED_POLICIES",
    "SUITES",
    "CorruptResultError",
    "Job",
    "JobOutcome",
    "Result",
    "SweepPlan",
    "SweepSummary",
    "Variant",
    "available_models",
    "fit_and_predict",
    "job_seed",
    "load_published",
    "load_resample",
    "make_estimator",
    "plan_sweep",
    "published_accuracy",
    "read_result",
    "read_table",
    "resolve_datasets",
    "result_path",
    "run_job",
    "run_sweep",
    "write_result",
]


def __getattr__(name: str) -> Any:
    if name == "plan_variants":  # the previous release's name; plan_sweep takes variants now
        warnings.warn(
            "sparsetsc.bench.plan_variants is deprecated; use sparsetsc.bench.plan_sweep",
            DeprecationWarning,
            stacklevel=2,
        )
        return plan_sweep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
