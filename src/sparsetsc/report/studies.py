"""The report section of a study: protocol, one row per variant, statistics, per dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..bench.studies import Budget, Study
from .tables import accuracy_table, load_runs, markdown, pairwise_table, rank_summary

__all__ = ["study_section", "study_tables"]


def study_tables(study: Study, budget: Budget, runs_dir: str | os.PathLike[str]) -> dict:
    """The study's results in ``runs_dir``, restricted to its variants and datasets.

    Returns ``{"summary", "per_dataset", "missing"}``: per variant the mean accuracy, mean
    rank (over datasets where every variant has a result), wins/ties/losses and Wilcoxon p
    against the reference variant, and mean params / non-zero params / MACs / fit seconds;
    accuracy per dataset; and the number of (variant, dataset, resample) results missing.
    """
    results, _, _ = load_runs(runs_dir)
    labels = [v.name for v in study.variants]
    results = results[results["model"].isin(labels)
                      & results["dataset"].isin(budget.datasets)
                      & (results["resample"] < budget.seeds)]  # fmt: skip
    expected = len(labels) * len(budget.datasets) * budget.seeds
    per_dataset = accuracy_table(results).reindex(columns=labels)
    summary = pd.DataFrame(index=pd.Index(labels, name="variant"))
    complete = per_dataset.dropna()
    if len(complete):
        ranks = rank_summary(complete)
        summary["mean accuracy"] = ranks["mean accuracy"]
        summary["mean rank"] = ranks["mean rank"]
    summary["datasets"] = per_dataset.notna().sum()
    reference = study.reference_label
    if len(complete) and len(labels) > 1:
        versus, p_values = [], []
        for label in labels:
            if label == reference:
                versus.append("-")
                p_values.append(float("nan"))
                continue
            pair = pairwise_table(complete[[label, reference]]).iloc[0]
            versus.append(f"{pair['wins']}/{pair['ties']}/{pair['losses']}")
            p_values.append(pair["wilcoxon p"])
        summary[f"W/T/L vs {reference}"] = versus
        summary["wilcoxon p"] = p_values
    cost = results.groupby("model")[["params", "params_nonzero", "macs", "fit_seconds"]].mean()
    summary = summary.join(cost)
    return {"summary": summary, "per_dataset": per_dataset, "missing": expected - len(results)}


def study_section(
    study: Study,
    budget_name: str,
    budget: Budget,
    runs_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
) -> str:
    """The study's Markdown section; with ``out_dir``, also its CSV tables and ``.md`` file."""
    tables = study_tables(study, budget, runs_dir)
    epochs = "each model's published default" if budget.epochs is None else str(budget.epochs)
    lines = [
        f"## {study.title} (`{study.name}`, {budget_name} budget)",
        "",
        f"Reproduces: {study.reproduces}.",
        "",
        f"Protocol: {budget.note}. Datasets ({len(budget.datasets)}, from `{study.archive}`): "
        f"{', '.join(budget.datasets)}. Resamples: 0..{budget.seeds - 1} (0 = official "
        f"split). Epochs: {epochs}. Selection: training loss; no test data in any choice.",
        "",
        "Variants: " + "; ".join(
            f"**{v.name}** = `{v.model}`" + (
                " with " + ", ".join(f"{k}={val!r}" for k, val in v.params) if v.params else "")
            for v in study.variants
        ) + ".",
        "",
        markdown(tables["summary"]),
        "",
        f"Mean rank and W/T/L over the datasets where every variant has a result; the "
        f"reference is {study.reference_label}.",
        "",
        f"Published: {study.published}",
        "",
    ]  # fmt: skip
    if tables["missing"]:
        lines += [f"**{tables['missing']} results are missing** (not run yet, or failed): "
                  "the tables use what there is.", ""]  # fmt: skip
    lines += ["Accuracy per dataset:", "", markdown(tables["per_dataset"]), ""]
    text = "\n".join(lines)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{study.name}-{budget_name}"
        tables["summary"].to_csv(out / f"{stem}-summary.csv")
        tables["per_dataset"].to_csv(out / f"{stem}-accuracy.csv")
        (out / f"{stem}.md").write_text(text, encoding="utf-8")
    return text
