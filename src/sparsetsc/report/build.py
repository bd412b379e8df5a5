"""The report of a sweep: Markdown and HTML with tables and PNG figures.

Our models are compared with each other and, with ``against``, with published results of
other methods on the same datasets (matched to our resamples, see
:func:`sparsetsc.bench.published.published_accuracy`). Statistics use the datasets where
every compared method has a result, and say how many that is.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..bench.published import load_published, published_accuracy
from ..bench.store import write_atomic
from .claims import (
    COMPRESSION_CLAIMS,
    PUBLISHED_EPOCHS,
    RULES,
    claims_table,
)
from .tables import (
    PUBLISHED_SUFFIX,
    accuracy_table,
    cost_table,
    ensemble_summary,
    load_runs,
    markdown,
    member_spread,
    pairwise_table,
    rank_summary,
    resample_spread,
)

__all__ = ["REPORT_DEFAULTS_FILE", "Report", "build_report", "report_defaults"]

#: A runs directory's own report options (JSON), read by ``sparsetsc report``: ``out``,
#: ``markdown`` (the file name), ``against`` (a list), ``published``, ``title``, ``intro``
#: (a Markdown file placed under the title, e.g. the protocol) and ``claims`` (true or false:
#: show the papers' claims whatever the budget, or never); relative paths are relative to
#: the runs directory, and the command line overrides each.
REPORT_DEFAULTS_FILE = "report.json"
REPORT_OPTIONS = ("out", "markdown", "against", "published", "title", "intro", "claims")


@dataclass
class Report:
    """What :func:`build_report` computed and where it wrote it."""

    accuracy: pd.DataFrame
    ranks: pd.DataFrame
    pairwise: pd.DataFrame
    cost: pd.DataFrame
    failures: pd.DataFrame
    corrupt: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    claims: pd.DataFrame | None = None  # the papers' claims, when a DSP model or DSN ran
    intro: str = ""  # Markdown under the title
    #: ensembles whose members were tested alone: against their members, and per dataset
    ensembles: pd.DataFrame | None = None
    member_spread: pd.DataFrame | None = None


def report_defaults(runs_dir: str | os.PathLike[str]) -> dict:
    """The options of :data:`REPORT_DEFAULTS_FILE` in ``runs_dir`` (``{}`` without one),
    paths resolved against ``runs_dir``; ``ValueError`` for an unknown key or bad JSON."""
    path = Path(runs_dir) / REPORT_DEFAULTS_FILE
    if not path.is_file():
        return {}
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    unknown = sorted(set(options) - set(REPORT_OPTIONS)) if isinstance(options, dict) else None
    if unknown is None or unknown:
        raise ValueError(
            f"{path}: expected an object with keys among {', '.join(REPORT_OPTIONS)}; "
            f"got {unknown if unknown else type(options).__name__}"
        )
    for key in ("out", "published", "intro"):
        if key in options:
            options[key] = str(Path(runs_dir) / options[key])
    return options


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> None:
    figure.savefig(path, dpi=150, bbox_inches="tight")
    _pyplot().close(figure)


def _compression_histogram(results: pd.DataFrame, path: Path) -> str | None:
    pruned = results.dropna(subset=["compression_trainable"])
    if pruned.empty:
        return "no compression histogram: no pruned model among the results"
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for model, own in pruned.groupby("model"):
        axes.hist(100 * own["compression_trainable"].astype(float), bins=20, alpha=0.6, label=model)
    drawn = set(pruned["model"])
    # one line per published ensemble whose single or ensemble counterpart is drawn
    lines = {c.ensemble: c for c in COMPRESSION_CLAIMS if c.model in drawn}
    for claim, style in zip(lines.values(), ("--", ":"), strict=False):
        axes.axvline(
            100 * claim.compression,
            color="black",
            linestyle=style,
            label=f"published {claim.ensemble} ({100 * claim.compression:.1f} %)",
        )
    axes.set_xlabel("trainable parameters removed (%)")
    axes.set_ylabel("datasets")
    axes.set_title("Compression per dataset")
    axes.legend(fontsize=8)
    _save(figure, path)
    return None


def _cd_diagram(table: pd.DataFrame, path: Path) -> str | None:
    complete = table.dropna()
    # aeon's diagram starts from a Friedman test, which needs three methods.
    if complete.shape[1] < 3 or len(complete) < 2:
        return (
            f"no critical-difference diagram: it needs 3 methods on 2 datasets "
            f"(have {complete.shape[1]} on {len(complete)})"
        )
    _pyplot()
    from aeon.visualisation import plot_critical_difference

    figure, _ = plot_critical_difference(complete.to_numpy(), list(complete.columns))
    _save(figure, path)
    return None


def _accuracy_vs_macs(ranks: pd.DataFrame, cost: pd.DataFrame, path: Path) -> str | None:
    measured = cost["macs"].dropna()
    models = [m for m in measured.index if m in ranks.index]
    if not models:
        return "no accuracy-vs-MACs figure: no model with counted MACs"
    figure, axes = _pyplot().subplots(figsize=(6, 4))
    for model in models:
        x, y = measured[model], ranks.loc[model, "mean accuracy"]
        axes.scatter(x, y, s=40)
        axes.annotate(model, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    axes.set_xscale("log")
    axes.set_xlabel("MACs per series (mean over datasets, log scale)")
    axes.set_ylabel("mean accuracy")
    axes.set_title("Accuracy vs inference cost")
    axes.grid(alpha=0.3)
    _save(figure, path)
    return None


def _sections(report: Report, title: str) -> list[tuple[str, pd.DataFrame | None, str]]:
    n_complete = int(report.ranks["datasets"].iloc[0]) if len(report.ranks) else 0
    claims = []
    if report.claims is not None:
        rules = "\n".join(f"- {name}: {rule}" for name, rule in RULES.items())
        claims = [
            (
                "Claims of the papers",
                report.claims,
                "Our models against the papers' claims, which the papers make for 5-member "
                "ensembles: a row naming a single model (LITE, DSP-LITE, Inception, DSN) "
                "compares our single models, one naming an ensemble (LITETime, "
                "DSP-LITETime, ...) our 5-member ensembles. Verdicts by these rules, alpha = "
                "0.05; each claim's rule was "
                "fixed before any result was read, and the testable rule, which can only "
                f"withhold a verdict, was added after the first five datasets:\n\n{rules}",
            )
        ]
    ensembles, spread = [], []
    if report.ensembles is not None:
        ensembles = [
            (
                "Ensembles and their members",
                report.ensembles,
                "Each ensemble's mean accuracy beside its members' tested alone: their mean, "
                "and the best and the worst member of each dataset, averaged over datasets; "
                "gain = ensemble - members' mean; W/T/L and Wilcoxon p of the ensemble against "
                "its members' mean, over datasets.",
            )
        ]
        spread = [
            (
                "Member spread per dataset",
                report.member_spread,
                "Per ensemble and dataset (mean over resamples): the ensemble's accuracy, its "
                "members' mean, worst and best, and the range between them.",
            )
        ]
    return [
        *claims,
        (
            "Mean accuracy and rank",
            report.ranks,
            f"Over the {n_complete} datasets where every method has a result; rank 1 is best.",
        ),
        (
            "Pairwise comparison",
            report.pairwise,
            "Wins/ties/losses of A against B and the two-sided Wilcoxon signed-rank p-value, "
            "over the datasets both have.",
        ),
        (
            "Size, cost and speed",
            report.cost,
            "Means over each model's results: parameters (all, non-zero), MACs per series, "
            "fit seconds, and predict_proba latency in ms at batch 1 and 64 (median of repeats).",
        ),
        *ensembles,
        ("Accuracy per dataset", report.accuracy, "Mean over resamples."),
        *spread,
    ]


_NO_INDEX = ("Pairwise comparison", "Claims of the papers")


def _write_markdown(report: Report, title: str, path: Path) -> None:
    lines = [f"# {title}", ""]
    if report.intro:
        lines += [report.intro.strip(), ""]
    for heading, frame, text in _sections(report, title):
        lines += [
            f"## {heading}",
            "",
            text,
            "",
            markdown(frame, index=heading not in _NO_INDEX),
            "",
        ]
        if heading == "Pairwise comparison" and "cd_diagram" in report.files:
            lines += ["![critical-difference diagram](cd_diagram.png)", ""]
        if heading == "Size, cost and speed" and "accuracy_vs_macs" in report.files:
            lines += ["![accuracy vs MACs](accuracy_vs_macs.png)", ""]
        if heading == "Claims of the papers" and "compression_histogram" in report.files:
            lines += ["![compression per dataset](compression_histogram.png)", ""]
    if len(report.failures):
        lines += ["## Failed jobs", "", markdown(report.failures, index=False), ""]
    if report.corrupt:
        lines += ["## Unreadable result files", "", *[f"- {c}" for c in report.corrupt], ""]
    if report.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in report.notes], ""]
    write_atomic(path, "\n".join(lines))


def _write_html(report: Report, title: str, path: Path) -> None:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>",
        "body{font-family:sans-serif;max-width:1100px;margin:auto}",
        "table{border-collapse:collapse}",
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}",
        f"</style></head><body><h1>{html.escape(title)}</h1>",
    ]
    for heading, frame, text in _sections(report, title):
        parts += [
            f"<h2>{heading}</h2>",
            f"<p>{html.escape(text)}</p>",
            frame.to_html(
                float_format=lambda v: f"{v:.4f}",
                na_rep="–",
                index=heading not in _NO_INDEX,
            ),
        ]
        if heading == "Pairwise comparison" and "cd_diagram" in report.files:
            parts.append("<img src='cd_diagram.png' alt='critical-difference diagram'>")
        if heading == "Size, cost and speed" and "accuracy_vs_macs" in report.files:
            parts.append("<img src='accuracy_vs_macs.png' alt='accuracy vs MACs'>")
        if heading == "Claims of the papers" and "compression_histogram" in report.files:
            parts.append("<img src='compression_histogram.png' alt='compression per dataset'>")
    if len(report.failures):
        parts += ["<h2>Failed jobs</h2>", report.failures.to_html(index=False)]
    if report.corrupt:
        parts += [
            "<h2>Unreadable result files</h2><ul>",
            *[f"<li>{html.escape(c)}</li>" for c in report.corrupt],
            "</ul>",
        ]
    if report.notes:
        parts += [
            "<h2>Notes</h2><ul>",
            *[f"<li>{html.escape(n)}</li>" for n in report.notes],
            "</ul>",
        ]
    parts.append("</body></html>")
    write_atomic(path, "\n".join(parts))


def _published_name(dataset: str, published: pd.Index) -> str:
    # The UEA archive's "<name>_eq" is <name> padded to equal length, the version deep
    # models are run on; published tables list it under <name>.
    base = dataset.removesuffix("_eq")
    return base if dataset not in published and base in published else dataset


def build_report(
    runs_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    against: list[str] | None = None,
    published_dir: str | os.PathLike[str] | None = None,
    title: str = "sparsetsc benchmark report",
    markdown_name: str = "report.md",
    intro: str | os.PathLike[str] | None = None,
    claims: bool | None = None,
) -> Report:
    """Read a runs directory and write ``report.md`` (or ``markdown_name``), ``report.html``,
    CSV tables and PNGs.

    ``against`` names published methods (``InceptionTime``, ``LITETime``, ``ROCKET``, or
    ``Method@source``) read from ``published_dir``; both are checked before anything is written.
    ``intro`` is a Markdown file whose text goes under the title. When DSP-LITE,
    DSP-Inception or DSN results (or their ensembles) ran at the papers' published epoch
    budget (``sparsetsc study reproduce --budget full``), the report opens with the papers'
    claims (:func:`~sparsetsc.report.claims.claims_table`) and adds a histogram of the
    compression per dataset; ``claims=True`` shows them at any budget, ``False`` never.
    Otherwise a report opens with its own results.
    """
    results, failures, corrupt = load_runs(runs_dir)
    if results.empty:
        raise ValueError(f"{runs_dir} holds no readable result files")
    if against and published_dir is None:
        raise ValueError("--against needs --published DIR, the folder of published result tables")
    table = accuracy_table(results)
    if against:
        published = load_published(published_dir)
        resamples = sorted(results["resample"].unique().tolist())
        for method in against:
            column = published_accuracy(published, method, resamples)
            table[method.partition("@")[0] + PUBLISHED_SUFFIX] = column.reindex(
                [_published_name(dataset, column.index) for dataset in table.index]
            ).to_numpy()
    out = Path(out_dir) if out_dir is not None else Path(runs_dir) / "report"
    if out.exists() and not out.is_dir():
        raise ValueError(f"report output {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    ranks = rank_summary(table)
    if results["resample"].nunique() > 1:  # how much each of our models moves between seeds
        ranks = ranks.join(resample_spread(results, table.dropna().index))
    report = Report(table, ranks, pairwise_table(table), cost_table(results), failures, corrupt)
    if intro is not None:
        report.intro = Path(intro).read_text(encoding="utf-8")
    claimed = results[results["model"].isin(list(PUBLISHED_EPOCHS))]
    at_budget = claimed["epochs"] == claimed["model"].map(PUBLISHED_EPOCHS)
    if claims or (claims is None and at_budget.any()):
        report.claims = claims_table(table, results)
    elif claims is None and not claimed.empty:
        report.notes.append(
            "the papers' claims are left out: no "
            + " / ".join(sorted(set(claimed["model"])))
            + " result ran at the published budget ("
            + ", ".join(f"{m} {PUBLISHED_EPOCHS[m]} epochs" for m in sorted(set(claimed["model"])))
            + "); 'sparsetsc report --claims' shows them anyway"
        )
    if results["member_accuracy_mean"].notna().any():
        report.ensembles = ensemble_summary(results)
        report.member_spread = member_spread(results)
    missing = table.isna().sum()
    for column, count in missing[missing > 0].items():
        report.notes.append(f"{column}: no result on {count} of {len(table)} datasets")
    figures = (
        ("cd_diagram", lambda p: _cd_diagram(table, p)),
        ("accuracy_vs_macs", lambda p: _accuracy_vs_macs(ranks, report.cost, p)),
    )
    if report.claims is not None:
        figures += (("compression_histogram", lambda p: _compression_histogram(results, p)),)
    for name, draw in figures:
        path = out / f"{name}.png"
        try:
            note = draw(path)
        except ImportError as err:
            note = f"no {name} figure: install matplotlib (pip install 'sparsetsc[viz]'): {err}"
        if note is None:
            report.files[name] = path
        else:
            report.notes.append(note)
    for name, frame in (
        ("accuracy", table),
        ("ranks", ranks),
        ("pairwise", report.pairwise),
        ("cost", report.cost),
        *((("claims", report.claims),) if report.claims is not None else ()),
        *(
            (("ensembles", report.ensembles), ("member_spread", report.member_spread))
            if report.ensembles is not None
            else ()
        ),
    ):
        path = out / f"{name}.csv"
        write_atomic(path, frame.to_csv(index=name not in ("pairwise", "claims")))
        report.files[name] = path
    _write_markdown(report, title, out / markdown_name)
    _write_html(report, title, out / "report.html")
    report.files["markdown"], report.files["html"] = out / markdown_name, out / "report.html"
    return report
