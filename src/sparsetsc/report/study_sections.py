"""The report section of a study: protocol, one row per variant, comparisons, per dataset,
and the study's analyses of what the trained models are (densities, kept widths, eNRF,
tap heatmaps, redundancy).

The analyses read each result's ``"fitted"`` metadata (DSN densities, DSP widths) or the
fitted models a study keeps (``Study.keep_models``). Figures need matplotlib (the ``viz``
extra); without it the section says so and keeps its tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..bench.jobs import load_resample
from ..bench.store import model_path, read_result, result_path
from ..bench.studies import Budget, Study
from ..estimators import load
from ..prune import redundancy
from ..sparse import (
    enrf_table,
    plot_enrf_distributions,
    plot_tap_heatmaps,
    pool_enrf_tables,
    tap_usage,
)
from .tables import (
    accuracy_table,
    load_runs,
    markdown,
    pairwise_table,
    rank_summary,
    resample_spread,
)

__all__ = ["ANALYSES", "REDUNDANCY_INSTANCES", "study_section", "study_tables"]

#: Training series a model's redundancy is averaged over (the first ones, in file order): its
#: mutual information is quadratic in the number of channels.
REDUNDANCY_INSTANCES = 256

#: Surviving LITE widths of the DSP authors' models (lambda 1e-5, stage weights 4/2/1, 1500
#: epochs; mean over 128 UCR sets x 5 seeds; reference-dsp-lite-inception §1.6), per
#: (stage, branch) of our LITE.
PUBLISHED_LITE_KEPT = {
    ("block1_relu", 0): 14.6,
    ("block1_relu", 1): 9.1,
    ("block1_relu", 2): 8.6,
    ("fcn1", 0): 16.7,
    ("fcn2", 0): 12.0,
}


@dataclass
class _Record:
    """One finished result of a study variant, with its fitted model when it was kept."""

    label: str
    model: str  # the model key of the variant
    dataset: str
    resample: int
    metadata: dict[str, Any]
    model_dir: Path | None

    @property
    def fitted(self) -> dict[str, Any]:
        return self.metadata.get("fitted") or {}


@dataclass
class _Context:
    study: Study
    budget: Budget
    records: list[_Record]
    figures_dir: Path | None  # where figures go (None: no figures)
    stem: str
    data_root: str | None


def _records(study: Study, budget: Budget, runs_dir: str | os.PathLike[str]) -> list[_Record]:
    records = []
    for variant in study.variants:
        for dataset in budget.datasets:
            for resample in range(budget.seeds):
                path = result_path(runs_dir, variant.name, dataset, resample)
                if not path.exists():
                    continue
                metadata = read_result(path).metadata
                folder = model_path(runs_dir, variant.name, dataset, resample)
                kept = folder if metadata.get("model_saved") and folder.is_dir() else None
                records.append(
                    _Record(variant.name, variant.model, dataset, resample, metadata, kept)
                )
    return records


# ---------------------------------------------------------------------- main tables
def study_tables(study: Study, budget: Budget, runs_dir: str | os.PathLike[str]) -> dict:
    """The study's results in ``runs_dir``, restricted to its variants and datasets.

    Returns ``{"summary", "comparisons", "per_dataset", "missing"}``: per variant the mean
    accuracy and mean rank (over datasets where every variant has a result), with more than
    one resample its spread over them (:func:`~sparsetsc.report.tables.resample_spread`),
    the datasets with a result, and mean params / non-zero params / MACs / fit seconds; per
    compared pair (:attr:`Study.comparisons`) wins/ties/losses and the Wilcoxon p over the
    datasets both have; accuracy per dataset; and the number of (variant, dataset, resample) results
    missing.
    """
    results, _, _ = load_runs(runs_dir)
    labels = [v.name for v in study.variants]
    results = results[
        results["model"].isin(labels)
        & results["dataset"].isin(budget.datasets)
        & (results["resample"] < budget.seeds)
    ]
    expected = len(labels) * len(budget.datasets) * budget.seeds
    per_dataset = accuracy_table(results).reindex(columns=labels)
    summary = pd.DataFrame(index=pd.Index(labels, name="variant"))
    complete = per_dataset.dropna()
    if len(complete):
        ranks = rank_summary(complete)
        summary["mean accuracy"] = ranks["mean accuracy"]
        summary["mean rank"] = ranks["mean rank"]
    if budget.seeds > 1:
        summary = summary.join(resample_spread(results, complete.index))
    summary["datasets"] = per_dataset.notna().sum()
    cost = results.groupby("model")[["params", "params_nonzero", "macs", "fit_seconds"]].mean()
    summary = summary.join(cost)
    pairs = [pairwise_table(per_dataset[[first, second]]) for first, second in study.comparisons]
    # A one-variant study compares nothing: an empty table with the same columns.
    comparisons = (
        pd.concat(pairs, ignore_index=True) if pairs else pairwise_table(per_dataset.iloc[:, :0])
    )
    comparisons.insert(2, "mean A", [per_dataset[a].mean() for a in comparisons["A"]])
    comparisons.insert(3, "mean B", [per_dataset[b].mean() for b in comparisons["B"]])
    return {
        "summary": summary,
        "comparisons": comparisons,
        "per_dataset": per_dataset,
        "missing": expected - len(results),
    }


# ---------------------------------------------------------------------- analyses
#: The caption of each analysis table (what its numbers are).
_CAPTIONS = {
    "density": "Real density of the sparse convolutions (active weights over all weights of "
    "the DSN layers; the `density` flag is relative to each group's region), mean over "
    "results:",
    "compression": "Compression `1 - params / params of the unpruned backbone`, over "
    "trainable parameters and over all (frozen hand-crafted filters included), mean over "
    "results; the uniform controls' width is their filters per branch:",
    "kept-widths": "Channels kept by DSP's activation analysis per stage and branch (mean over "
    "results; hand-crafted filters are never removed and are not counted):",
    "enrf": "Effective neighbour receptive field (eNRF: span from the first to the last "
    "active tap of a kernel) per layer and kernel group, pooled over the kept models (DSN "
    "paper, Fig. 6):",
}


def _captioned(
    name: str, table: pd.DataFrame, index: bool = True
) -> tuple[str, dict[str, pd.DataFrame]]:
    """An analysis' text (its caption over the table) and its one table, saved as ``name``."""
    return f"{_CAPTIONS[name]}\n\n{markdown(table, index=index)}", {name: table}


def _recorded(context: _Context, *names: str) -> Iterator[tuple[_Record, list[Any]]]:
    """Each result whose fitted metadata holds all of ``names``, with their values."""
    for record in context.records:
        values = [record.fitted.get(name) for name in names]
        if all(value is not None for value in values):
            yield record, values


def _density(context: _Context) -> tuple[str, dict[str, pd.DataFrame]]:
    rows = [
        {"variant": r.label, "real conv density": density}
        for r, (density,) in _recorded(context, "real_density_")
    ]
    if not rows:
        return "No DSN densities recorded.", {}
    table = pd.DataFrame(rows).groupby("variant", sort=False).mean()
    table["conv sparsity"] = 1 - table["real conv density"]
    return _captioned("density", table)


def _compression(context: _Context) -> tuple[str, dict[str, pd.DataFrame]]:
    rows = []
    for r, (compression,) in _recorded(context, "compression_"):
        # an ensemble's uniform controls: the mean width of its members
        widths = [m.get("uniform_width_") for m in r.fitted.get("members", [r.fitted])]
        widths = [w for w in widths if w is not None]
        rows.append(
            {
                "variant": r.label,
                "compression (trainable)": compression["trainable"],
                "compression (all params)": compression["all"],
                "uniform width": float(np.mean(widths)) if widths else None,
            }
        )
    if not rows:
        return "No pruned models among the results.", {}
    table = pd.DataFrame(rows)
    table["uniform width"] = pd.to_numeric(table["uniform width"])
    table = table.groupby("variant", sort=False).mean()
    if table["uniform width"].isna().all():
        table = table.drop(columns="uniform width")
    return _captioned("compression", table)


def _kept_widths(context: _Context) -> tuple[str, dict[str, pd.DataFrame]]:
    rows = []
    for r, (before, kept) in _recorded(context, "stage_group_widths_", "dsp_group_widths_"):
        for stage, widths in before.items():
            for group, (width, survived) in enumerate(zip(widths, kept[stage], strict=True)):
                rows.append(
                    {
                        "variant": r.label,
                        "model": r.model,
                        "stage": stage,
                        "branch": group,
                        "width": width,
                        "kept": survived,
                    }
                )
    if not rows:
        return "No DSP widths recorded (results from before sparsetsc recorded them?).", {}
    frame = pd.DataFrame(rows)
    table = frame.pivot_table(
        index=["model", "stage", "branch"],
        columns="variant",
        values="kept",
        aggfunc="mean",
        sort=False,
    )
    table.columns.name = None
    widths = frame.groupby(["model", "stage", "branch"], sort=False)["width"].first()
    table.insert(0, "width", widths)
    published = [
        PUBLISHED_LITE_KEPT.get((stage, branch)) if model == "dsp-lite" and width == 32 else None
        for (model, stage, branch), width in table["width"].items()
    ]
    if any(value is not None for value in published):
        table["published (LITETime)"] = pd.to_numeric(pd.Series(published, index=table.index))
    table = table.reset_index()
    return _captioned("kept-widths", table, index=False)


def _models(context: _Context) -> list[_Record]:
    return [r for r in context.records if r.model_dir is not None]


def _first_member(estimator: Any) -> Any:
    members = getattr(estimator, "estimators_", None)
    return members[0] if members else estimator


def _enrf(context: _Context) -> tuple[str, dict[str, pd.DataFrame]]:
    tables: dict[str, list[list[dict[str, Any]]]] = {}
    for record in _models(context):
        network = _first_member(load(record.model_dir)).network_
        tables.setdefault(record.label, []).append(enrf_table(network))
    if not tables:
        return "No kept DSN models to analyse.", {}
    pooled = {label: pool_enrf_tables(rows) for label, rows in tables.items()}
    table = pd.DataFrame(
        [
            {
                "variant": label,
                "layer": row["layer"],
                "group": row["group"],
                "region taps": f"{row['tap_start']}-{row['tap_stop'] - 1}",
                "models": row["models"],
                "mean eNRF": row["enrf_mean"],
                "median eNRF": row["enrf_median"],
                "max eNRF": row["enrf_max"],
                "empty kernels": row["empty_kernels"] / max(row["kernels"], 1),
            }
            for label, rows in pooled.items()
            for row in rows
        ]
    )
    text, tables = _captioned("enrf", table, index=False)
    figure = _save_figure(context, "enrf", lambda: plot_enrf_distributions(pooled))
    return f"{text}\n\n{figure}", tables


def _tap_heatmaps(context: _Context) -> tuple[str, dict[str, pd.DataFrame]]:
    first = context.study.variants[0].name
    records = [r for r in _models(context) if r.label == first and r.resample == 0]
    if not records:
        return "No kept DSN models to draw.", {}
    rows, figures = [], []
    for record in records:
        network = _first_member(load(record.model_dir)).network_
        regions = {(row["layer"], row["group"]): row for row in enrf_table(network)}
        for layer, groups in tap_usage(network).items():
            for group, usage in enumerate(groups):
                region = regions[layer, group]
                inside = usage[region["tap_start"] : region["tap_stop"]]
                rows.append(
                    {
                        "dataset": record.dataset,
                        "layer": layer,
                        "group": group,
                        "region taps": region["tap_stop"] - region["tap_start"],
                        "taps in use": float(np.mean(inside > 0)),
                        "kernels per tap": float(inside.mean()),
                    }
                )
        figures.append(
            _save_figure(
                context,
                f"heatmaps-{record.dataset}",
                lambda network=network: plot_tap_heatmaps(network),
                caption=f"{first} on {record.dataset}",
            )
        )
    table = pd.DataFrame(rows)
    summary = (
        table.groupby(["layer", "group"], sort=False)[
            ["region taps", "taps in use", "kernels per tap"]
        ]
        .mean()
        .reset_index()
    )
    text = (
        f"Active weights of the trained {first} models (resample 0), DSN paper Fig. 8. "
        "Per layer and kernel group, mean over datasets: the share of the group's region "
        "taps that some kernel uses, and the mean share of kernels using a region tap:"
        "\n\n" + markdown(summary, index=False) + "\n\n" + "\n\n".join(figures)
    )
    return text, {"tap-usage": table}


def _redundancy(context: _Context) -> tuple[str, dict[str, pd.DataFrame]]:
    rows = []
    for record in _models(context):
        estimator = _first_member(load(record.model_dir))
        X_train, _, _, _ = load_resample(record.dataset, record.resample, context.data_root)
        X = estimator._prepare(X_train[:REDUNDANCY_INSTANCES])
        for index, (stage, measures) in enumerate(redundancy(estimator.network_, X).items()):
            rows.append(
                {
                    "variant": record.label,
                    "dataset": record.dataset,
                    "resample": record.resample,
                    "stage": stage,
                    "stage index": index,
                    **measures,
                }
            )
    if not rows:
        return "No kept models to analyse.", {}
    frame = pd.DataFrame(rows)
    measures = ["mutual_information", "effective_rank", "energy95"]
    table = frame.groupby(["variant", "stage"], sort=False)[measures].mean().reset_index()
    first_stage = frame[frame["stage index"] == 0].pivot_table(
        index="dataset", columns="variant", values="mutual_information", aggfunc="mean"
    )
    first_stage.columns.name = None
    lines = [
        "Redundancy of each stage's channels on the training set (sparsetsc.prune.redundancy: "
        "sum of pairwise mutual information, effective rank over the active channels, share "
        f"of singular values for 95 % energy; the first {REDUNDANCY_INSTANCES} training "
        "series), mean over datasets:",
        "",
        markdown(table, index=False),
        "",
    ]
    pairs = [(a, b) for a, b in context.study.comparisons if a in first_stage and b in first_stage]
    if pairs:
        tests = pd.concat([pairwise_table(first_stage[[a, b]]) for a, b in pairs])
        tests = tests.rename(columns={"wins": "A higher", "ties": "equal", "losses": "A lower"})
        lines += [
            "First-stage mutual information, A against B over datasets (lower = less redundant):",
            "",
            markdown(tests, index=False),
            "",
        ]
    return "\n".join(lines), {"redundancy": table, "redundancy-first-stage": first_stage}


#: Report analyses a study may name in ``Study.analyses``.
ANALYSES: dict[str, Callable[[_Context], tuple[str, dict[str, pd.DataFrame]]]] = {
    "density": _density,
    "compression": _compression,
    "kept_widths": _kept_widths,
    "enrf": _enrf,
    "tap_heatmaps": _tap_heatmaps,
    "redundancy": _redundancy,
}


def _save_figure(context: _Context, name: str, draw: Callable[[], Any], caption: str = "") -> str:
    if context.figures_dir is None:
        return ""
    try:
        figure = draw()
    except ImportError:
        return "(figures need matplotlib: pip install 'sparsetsc[viz]')"
    path = context.figures_dir / f"{context.stem}-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return f"![{caption or name}]({path.name})"


# ---------------------------------------------------------------------- section
_SEED_POLICY_TEXT = {
    "dataset": "a stable hash of (dataset, resample), so no two datasets start from one draw",
    "resample": "the resample id (tsml-eval's random_state = resample)",
}


def _variant_text(variant: Any) -> str:
    text = f"**{variant.name}** = `{variant.model}`"
    if variant.params:
        text += " with " + ", ".join(f"{k}={val!r}" for k, val in variant.params)
    if variant.members:
        text += (
            f", {variant.members} members averaged, each a job of its own (the first is "
            f"{variant.member_label})"
        )
    return text


def study_section(
    study: Study,
    budget_name: str,
    budget: Budget,
    runs_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    data_root: str | None = None,
) -> str:
    """The study's Markdown section; with ``out_dir``, also its CSV tables, figures and
    ``.md`` file. ``data_root`` is where analyses that need the training data (redundancy)
    find it."""
    tables = study_tables(study, budget, runs_dir)
    epochs = budget.epochs_text
    stem = f"{study.name}-{budget_name}"
    lines = [
        f"## {study.title} (`{study.name}`, {budget_name} budget)",
        "",
        f"Reproduces: {study.reproduces}.",
        "",
        f"Protocol: {budget.note}. Datasets ({len(budget.datasets)}, from `{study.archive}`): "
        f"{', '.join(budget.datasets)}. Resamples: 0..{budget.seeds - 1} (0 = official "
        f"split). Model seeds: {_SEED_POLICY_TEXT[budget.seed_policy]}. Epochs: {epochs}. "
        f"Precision: {budget.precision}. Selection: training loss; no test data in any choice.",
        "",
        "Variants: " + "; ".join(_variant_text(v) for v in study.variants) + ".",
        "",
        markdown(tables["summary"]),
        "",
        "Mean rank over the datasets where every variant has a result.",
        "",
    ]
    if len(tables["comparisons"]):
        lines += [
            "Comparisons (wins/ties/losses of A against B; Wilcoxon signed-rank over the "
            "datasets both have):",
            "",
            markdown(tables["comparisons"], index=False),
            "",
        ]
    lines += [f"Published: {study.published}", ""]
    if tables["missing"]:
        lines += [
            f"**{tables['missing']} results are missing** (not run yet, or failed): "
            "the tables use what there is.",
            "",
        ]
    lines += ["Accuracy per dataset:", "", markdown(tables["per_dataset"]), ""]
    figures_dir = Path(out_dir) if out_dir is not None else None
    context = _Context(
        study, budget, _records(study, budget, runs_dir), figures_dir, stem, data_root
    )
    extra_tables = {}
    for name in study.analyses:
        text, produced = ANALYSES[name](context)
        lines += [text, ""]
        extra_tables.update(produced)
    text = "\n".join(lines)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables["summary"].to_csv(out / f"{stem}-summary.csv")
        tables["comparisons"].to_csv(out / f"{stem}-comparisons.csv", index=False)
        tables["per_dataset"].to_csv(out / f"{stem}-accuracy.csv")
        for name, table in extra_tables.items():
            table.to_csv(out / f"{stem}-{name}.csv")
        (out / f"{stem}.md").write_text(text, encoding="utf-8")
    return text
