"""Tables of a sweep: results read back, accuracy per dataset, ranks, pairwise statistics."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from ..bench.store import CorruptResultError, iter_results, read_failure, read_result

__all__ = [
    "COST_COLUMNS",
    "MEMBER_COLUMNS",
    "PUBLISHED_SUFFIX",
    "SHAPE_COLUMNS",
    "accuracy_table",
    "cost_table",
    "load_runs",
    "ensemble_summary",
    "markdown",
    "member_spread",
    "pairwise_table",
    "rank_summary",
    "resample_spread",
    "wilcoxon_p",
]

#: Suffix of a published method's column in the accuracy table ("InceptionTime (published)").
PUBLISHED_SUFFIX = " (published)"

COST_COLUMNS = [
    "params",
    "params_nonzero",
    "macs",
    "fit_seconds",
    "latency_b1_ms",
    "latency_b64_ms",
]


#: Further columns of :func:`load_runs`: the input shape and, for pruned models, compression.
SHAPE_COLUMNS = [
    "params_trainable",
    "n_channels",
    "n_timepoints",
    "n_classes",
    "compression_trainable",
    "compression_all",
]

#: Further columns of :func:`load_runs` for ensembles whose members were tested alone: their
#: count and the mean, lowest and highest of the members' test accuracies.
MEMBER_COLUMNS = ["n_members", "member_accuracy_mean", "member_accuracy_min", "member_accuracy_max"]


def _members(meta: dict) -> dict:
    accuracies = meta.get("member_accuracies") or []
    return {
        "n_members": len(accuracies) or None,
        "member_accuracy_mean": float(np.mean(accuracies)) if accuracies else None,
        "member_accuracy_min": min(accuracies) if accuracies else None,
        "member_accuracy_max": max(accuracies) if accuracies else None,
    }


def _shape_and_compression(meta: dict) -> dict:
    compression = (meta.get("fitted") or {}).get("compression_") or {}
    classes = meta.get("classes")
    return {
        "params_trainable": meta.get("params_trainable"),
        "n_channels": meta.get("n_channels"),
        "n_timepoints": meta.get("n_timepoints"),
        "n_classes": len(classes) if classes is not None else None,
        "compression_trainable": compression.get("trainable"),
        "compression_all": compression.get("all"),
    }


def load_runs(runs_dir: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Results, failures and corrupt files of a runs directory.

    Returns ``(results, failures, corrupt)``: one row per finished job (model, dataset,
    resample, accuracy, the cost metadata, :data:`SHAPE_COLUMNS` and
    :data:`MEMBER_COLUMNS`), one row per failed job, and the messages of files that could
    not be read. The second and later members of an ensemble run as separate jobs are not
    rows of their own: their ensemble's row holds their accuracies (the first member is
    also the single model's result, so it stays).
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise ValueError(f"runs directory {runs_dir} does not exist")
    rows, corrupt = [], []
    for path in iter_results(runs_dir):
        try:
            result = read_result(path)
        except CorruptResultError as err:
            corrupt.append(str(err))
            continue
        meta = result.metadata
        if meta.get("member", 0):
            continue
        rows.append(
            {
                "model": result.model,
                "dataset": result.dataset,
                "resample": result.resample,
                "accuracy": result.accuracy,
                "epochs": meta.get("epochs"),
                **{column: meta.get(column) for column in COST_COLUMNS},
                **_shape_and_compression(meta),
                **_members(meta),
            }
        )
    failures = []
    for path in sorted(runs_dir.glob("*/Predictions/*/testResample*.failed.json")):
        record = read_failure(path)
        job = record.get("job", {})
        error = f"{record.get('error_type')}: {record.get('error')}"
        failures.append(
            {
                "model": path.parts[-4],
                "dataset": job.get("dataset"),
                "resample": job.get("resample"),
                "error": error,
            }
        )
    columns = [
        "model",
        "dataset",
        "resample",
        "accuracy",
        "epochs",
        *COST_COLUMNS,
        *SHAPE_COLUMNS,
        *MEMBER_COLUMNS,
    ]
    failure_columns = ["model", "dataset", "resample", "error"]
    return (
        pd.DataFrame(rows, columns=columns),
        pd.DataFrame(failures, columns=failure_columns),
        corrupt,
    )


def accuracy_table(results: pd.DataFrame) -> pd.DataFrame:
    """Datasets × models, accuracy averaged over resamples."""
    table = results.pivot_table(index="dataset", columns="model", values="accuracy", aggfunc="mean")
    table.columns.name = None
    table.index.name = "dataset"
    return table


def rank_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy and mean rank (1 = best, ties averaged) over the complete rows."""
    complete = table.dropna()
    ranks = complete.rank(axis=1, ascending=False, method="average")
    summary = pd.DataFrame(
        {"mean accuracy": complete.mean(), "mean rank": ranks.mean(), "datasets": len(complete)}
    )
    summary.index.name = "method"
    return summary.sort_values("mean rank")


def resample_spread(results: pd.DataFrame, datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """Per model, how much its accuracy moves between resamples (seeds).

    Over ``datasets`` (default: all) where the model has every one of its resamples:
    ``resamples`` (how many), ``std over resamples`` (sample standard deviation of the mean
    accuracy over those datasets, one mean per resample: the mean's "± std") and
    ``mean per-dataset std`` (the standard deviation of each dataset's accuracy over its
    resamples, averaged over datasets). Both are NaN with a single resample.
    """
    rows = {}
    for model, own in results.groupby("model"):
        if datasets is not None:
            own = own[own["dataset"].isin(list(datasets))]
        grid = own.pivot_table(
            index="dataset", columns="resample", values="accuracy", aggfunc="mean"
        ).dropna()
        n_resamples = grid.shape[1]
        several = n_resamples > 1 and len(grid) > 0
        rows[model] = {
            "resamples": n_resamples,
            "std over resamples": float(grid.mean().std()) if several else float("nan"),
            "mean per-dataset std": float(grid.std(axis=1).mean()) if several else float("nan"),
        }
    spread = pd.DataFrame.from_dict(
        rows, orient="index", columns=["resamples", "std over resamples", "mean per-dataset std"]
    )
    spread.index.name = "method"
    return spread


def _ensembles(results: pd.DataFrame) -> pd.DataFrame:
    return results.dropna(subset=["member_accuracy_mean"])


def ensemble_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per ensemble whose members were tested alone: its mean accuracy beside its members'
    (mean, best and worst member per dataset, averaged over datasets), the gain of
    ensembling, and the ensemble's W/T/L and Wilcoxon p against its members' mean."""
    rows = {}
    for model, own in _ensembles(results).groupby("model"):
        per_dataset = own.groupby("dataset")[
            ["accuracy", "member_accuracy_mean", "member_accuracy_min", "member_accuracy_max"]
        ].mean()
        ensemble, members = per_dataset["accuracy"], per_dataset["member_accuracy_mean"]
        difference = ensemble.to_numpy() - members.to_numpy()
        rows[model] = {
            "datasets": len(per_dataset),
            "members": int(own["n_members"].max()),
            "ensemble": ensemble.mean(),
            "members' mean": members.mean(),
            "gain": float(np.mean(difference)),
            "best member": per_dataset["member_accuracy_max"].mean(),
            "worst member": per_dataset["member_accuracy_min"].mean(),
            "wins": int((difference > 0).sum()),
            "ties": int((difference == 0).sum()),
            "losses": int((difference < 0).sum()),
            "wilcoxon p": wilcoxon_p(ensemble.to_numpy(), members.to_numpy()),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "model"
    return frame


def member_spread(results: pd.DataFrame) -> pd.DataFrame:
    """Per ensemble and dataset (mean over resamples): the ensemble's accuracy and its
    members' mean, lowest and highest accuracy, and their range."""
    own = _ensembles(results)
    table = own.groupby(["model", "dataset"])[
        ["accuracy", "member_accuracy_mean", "member_accuracy_min", "member_accuracy_max"]
    ].mean()
    table.columns = ["ensemble", "members' mean", "worst member", "best member"]
    table["member range"] = table["best member"] - table["worst member"]
    return table


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of paired accuracies (1.0 when all are equal, NaN
    for none)."""
    differences = a - b
    if len(differences) == 0:
        return float("nan")
    if np.all(differences == 0):
        return 1.0
    return float(wilcoxon(a, b).pvalue)


def pairwise_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every ordered pair (A, B): wins/ties/losses of A against B and the Wilcoxon p-value.

    Each pair uses the datasets where both have a result; ties are exact equality of the
    (resample-averaged) accuracies.
    """
    rows = []
    models = list(table.columns)
    for i, first in enumerate(models):
        for second in models[i + 1 :]:
            both = table[[first, second]].dropna()
            a, b = both[first].to_numpy(), both[second].to_numpy()
            rows.append(
                {
                    "A": first,
                    "B": second,
                    "datasets": len(both),
                    "wins": int(np.sum(a > b)),
                    "ties": int(np.sum(a == b)),
                    "losses": int(np.sum(a < b)),
                    "wilcoxon p": wilcoxon_p(a, b),
                }
            )
    return pd.DataFrame(
        rows, columns=["A", "B", "datasets", "wins", "ties", "losses", "wilcoxon p"]
    )


def cost_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per model, the mean over its results of params, MACs, fit seconds and latency."""
    numeric = results[["model", *COST_COLUMNS]].copy()
    numeric[COST_COLUMNS] = numeric[COST_COLUMNS].apply(pd.to_numeric, errors="coerce")
    table = numeric.groupby("model").mean()
    table.insert(0, "results", results.groupby("model").size())
    return table


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4f}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return str(value)


def markdown(frame: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured Markdown table (no tabulate dependency)."""
    shown = frame.reset_index() if index else frame
    header = "| " + " | ".join(str(c) for c in shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    body = [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in shown.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])
