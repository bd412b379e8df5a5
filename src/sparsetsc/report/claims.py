"""The papers' claims against our runs: one row per claim, with ours, published, a verdict
and the evidence.

The claims are those of the DSP paper (LITE and Inception backbones) and the DSN paper, as
the reference material states them; every verdict follows a rule written next to it in
:data:`RULES`, fixed before any result was read. Both papers report 5-member ensembles
(DSP: LITETime and InceptionTime on 128 UCR sets; DSN: 85 UCR-2015 sets). Each claim is
checked on our single models (a single against a published ensemble figure, quoted as
such) and, where the runs hold them, on our 5-member ensembles, ensemble against ensemble;
every row says which of our models it compares.

Inputs are what :func:`sparsetsc.report.build_report` has: the accuracy table (datasets x
our models, plus published methods as ``"<name> (published)"`` columns) and the result rows
of :func:`~sparsetsc.report.tables.load_runs` (params, MACs, compression, input shape).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..bench.models import DISPLAY_NAMES
from ..bench.studies import UNIFORM_INCEPTIONTIME_8, UNIFORM_LITETIME_16, UNIFORM_OF_DSP_LITE
from ..cost import model_cost
from ..nn import Inception, InceptionConfig
from .tables import PUBLISHED_SUFFIX, pairwise_table

__all__ = [
    "CLAIMS_COLUMNS",
    "COMPRESSION_CLAIMS",
    "MIN_DIFFERING",
    "PUBLISHED",
    "PUBLISHED_EPOCHS",
    "RULES",
    "claims_table",
    "compression_summary",
]

CLAIMS_COLUMNS = ["claim", "ours", "published", "verdict", "evidence"]

#: Labels of our variants in the reproduction study (``sparsetsc study reproduce``).
LITE, DSP_LITE, DSN, INCEPTION, DSP_INCEPTION = (
    DISPLAY_NAMES[key] for key in ("lite", "dsp-lite", "dsn", "inception", "dsp-inception")
)
UNIFORM = UNIFORM_OF_DSP_LITE
#: Our 5-member ensembles (the reproduction study's labels).
LITETIME, DSP_LITETIME, INCEPTIONTIME, DSP_INCEPTIONTIME = (
    DISPLAY_NAMES[key] for key in ("litetime", "dsp-litetime", "inceptiontime", "dsp-inceptiontime")
)

#: The published epoch budget of the models the claims are about: their results at it make
#: a report show the claims (``build_report(claims=None)``); shorter runs say nothing of them.
PUBLISHED_EPOCHS = {DSP_LITE: 1500, DSP_INCEPTION: 1500, DSN: 1000}
PUBLISHED_EPOCHS |= {DSP_LITETIME: 1500, DSP_INCEPTIONTIME: 1500}

#: What the papers and the authors' material report (reference-dsp-lite-inception §1.6 and
#: the DSN paper's abstract).
PUBLISHED = {
    "dsp_compression_trainable": 0.582,  # DSP-LITETime, 128 UCR sets
    "dsp_compression_all": 0.558,  # counting the frozen hand-crafted filters
    "dsp_inception_compression": 0.745,  # DSP-InceptionTime, 128 UCR sets (no frozen filters)
    "dsp_inception_vs_inception_p": 0.104,  # InceptionTime vs DSP-InceptionTime, 41/26/61
    "dsp_vs_lite_p": 0.37,  # LITETime vs DSP-LITETime, no significant loss
    "uniform_vs_lite_p": 0.0044,  # uniform LITE, 16 filters (58.5 %), loses to LITETime
    "uniform_inception_vs_inception_p": 0.43,  # uniform InceptionTime, 8 filters (77 %)
    "uniform_inception_vs_dsp_p": 0.20,  # ... against DSP-InceptionTime
    "uniform_width": 16,
    # per-dataset DSP-LITE sizes in the authors' runs: (params, LITE params, accuracy)
    "dsp_sizes": {
        "Coffee": (1562, 10318, None),
        "BirdChicken": (1773, None, None),
        "SonyAIBORobotSurface1": (1655, None, 0.7754),
        "Adiac": (8771, 11473, None),
    },
    "dsn_macs_fraction": 0.5,  # DSN: state-of-the-art accuracy at under 50 % of the FLOPs
}

#: Fewest datasets that must differ before a Wilcoxon verdict is given: with n differing
#: datasets the exact two-sided p cannot go below 2 / 2**n, which is 0.0625 for n = 5.
MIN_DIFFERING = 6

#: How each verdict is decided (alpha = 0.05, Wilcoxon signed-rank over the datasets both
#: compared columns have; W/T/L counts exact ties).
RULES = {
    "testable": f"a comparison gets a verdict only if at least {MIN_DIFFERING} datasets differ "
    f"(W + L >= {MIN_DIFFERING}; with fewer no two-sided Wilcoxon p reaches 0.05) or at least "
    f"{MIN_DIFFERING} datasets all tie; otherwise it is not tested",
    "compression": "reproduced if our mean trainable compression is within 5 points of the "
    "published one (58.2 % for LITE, 74.5 % for Inception); otherwise not reproduced (lower "
    "or higher)",
    "no significant loss": "reproduced unless ours is significantly worse (p <= 0.05 and a "
    "lower mean accuracy)",
    "significant loss": "reproduced if the control is significantly worse (p <= 0.05 and a "
    "lower mean accuracy)",
    "size": "reproduced if our params are within 25 % of the published count on that dataset",
    "macs": "reproduced if DSN's mean non-zero MACs per series are under 50 % of "
    "InceptionTime's (5 Inception networks) on the same datasets",
    "faithful": "reproduced unless our LITE differs significantly from the published single "
    "LITE (p <= 0.05); the same for our LITETime against the published LITETime",
}


def compression_summary(results: pd.DataFrame, model: str = DSP_LITE) -> pd.DataFrame:
    """Mean, median, min and max of ``model``'s trainable and all-parameter compression."""
    own = results[results["model"] == model]
    columns = {"trainable": "compression_trainable", "all params": "compression_all"}
    summary = {
        name: own[column].astype(float).agg(["mean", "median", "min", "max", "count"])
        for name, column in columns.items()
        if column in own
    }
    return pd.DataFrame(summary).T


def _pair(table: pd.DataFrame, first: str, second: str) -> dict | None:
    if first not in table or second not in table:
        return None
    both = table[[first, second]].dropna()
    if both.empty:
        return None
    counts = pairwise_table(both).iloc[0]  # the report's own W/T/L and Wilcoxon
    return {
        "n": int(counts["datasets"]),
        "wins": int(counts["wins"]),
        "ties": int(counts["ties"]),
        "losses": int(counts["losses"]),
        "p": float(counts["wilcoxon p"]),
        "mean_a": float(both[first].mean()),
        "mean_b": float(both[second].mean()),
    }


def _row(claim: str, ours: str, published: str, verdict: str, evidence: str) -> dict:
    return dict(zip(CLAIMS_COLUMNS, (claim, ours, published, verdict, evidence), strict=True))


def _p_and_wtl(pair: dict) -> str:
    return f"p = {pair['p']:.3g}, W/T/L {pair['wins']}/{pair['ties']}/{pair['losses']}"


def _pair_text(pair: dict, first: str, second: str) -> str:
    return (
        f"{first} {pair['mean_a']:.4f} vs {second} {pair['mean_b']:.4f} on {pair['n']} "
        f"datasets; W/T/L {pair['wins']}/{pair['ties']}/{pair['losses']}, "
        f"Wilcoxon p = {pair['p']:.3g}"
    )


def _too_few(pair: dict) -> str | None:
    """The verdict of a comparison no Wilcoxon p could decide (see ``RULES["testable"]``)."""
    differing = pair["wins"] + pair["losses"]
    if differing >= MIN_DIFFERING or (differing == 0 and pair["n"] >= MIN_DIFFERING):
        return None
    return f"not tested (too few datasets: {differing} differ, {MIN_DIFFERING} needed)"


def _significantly_worse(pair: dict) -> bool:
    return pair["p"] <= 0.05 and pair["mean_a"] < pair["mean_b"]


def _missing(claim: str, published: str, needs: str) -> dict:
    return _row(claim, "not run", published, "not tested", f"needs {needs}")


class CompressionClaim(NamedTuple):
    """A DSP paper's compression claim for one backbone, on our single or ensemble model
    (an ensemble's compression is the mean of its members')."""

    model: str  # our pruned model
    ensemble: str  # the published ensemble it is compared with
    claim: str
    published: str
    compression: float  # the published mean trainable compression
    frozen: bool  # the backbone has frozen filters, so "all params" differs from trainable


COMPRESSION_CLAIMS = (
    CompressionClaim(
        DSP_LITE,
        "DSP-LITETime",
        "DSP removes 58.2 % of LITE's trainable parameters (55.8 % of all)",
        "58.2 % / 55.8 % (DSP-LITETime, 5 members, 128 sets)",
        PUBLISHED["dsp_compression_trainable"],
        True,
    ),
    CompressionClaim(
        DSP_INCEPTION,
        "DSP-InceptionTime",
        "DSP removes 74.5 % of Inception's parameters",
        "74.5 % (DSP-InceptionTime, 5 members, 128 sets; median 78.3 %, min 30.4, max 97.6)",
        PUBLISHED["dsp_inception_compression"],
        False,
    ),
    CompressionClaim(
        DSP_LITETIME,
        "DSP-LITETime",
        "DSP-LITETime removes 58.2 % of LITETime's trainable parameters (55.8 % of all)",
        "58.2 % / 55.8 % (DSP-LITETime, 5 members, 128 sets)",
        PUBLISHED["dsp_compression_trainable"],
        True,
    ),
    CompressionClaim(
        DSP_INCEPTIONTIME,
        "DSP-InceptionTime",
        "DSP-InceptionTime removes 74.5 % of InceptionTime's parameters",
        "74.5 % (DSP-InceptionTime, 5 members, 128 sets; median 78.3 %, min 30.4, max 97.6)",
        PUBLISHED["dsp_inception_compression"],
        False,
    ),
)

#: Our ensembles, whose compression is the mean over their members.
_ENSEMBLES = (DSP_LITETIME, DSP_INCEPTIONTIME)


def _compression_text(summary: pd.Series) -> str:
    return (
        f"mean {summary['mean']:.1%}, median {summary['median']:.1%}, min {summary['min']:.1%}, "
        f"max {summary['max']:.1%}"
    )


def _compression_rows(results: pd.DataFrame) -> list[dict]:
    rows = []
    for model, _, claim, published, expected, frozen in COMPRESSION_CLAIMS:
        summary = compression_summary(results, model)
        if summary.empty or not summary.loc["trainable", "count"]:
            rows.append(_missing(claim, published, f"{model} results"))
            continue
        trainable, every = summary.loc["trainable"], summary.loc["all params"]
        difference = trainable["mean"] - expected
        verdict = (
            "reproduced"
            if abs(difference) <= 0.05
            else f"not reproduced ({'lower' if difference < 0 else 'higher'})"
        )
        which = f"{model}, mean of its members" if model in _ENSEMBLES else f"single {model}"
        if frozen:
            ours = f"{trainable['mean']:.1%} / {every['mean']:.1%} ({which})"
            evidence = (
                f"trainable: {_compression_text(trainable)}; all params: {_compression_text(every)}"
            )
        else:
            ours = f"{trainable['mean']:.1%} ({which})"
            evidence = _compression_text(trainable)
        evidence += f"; {int(trainable['count'])} datasets"
        rows.append(_row(claim, ours, published, verdict, evidence))
    return rows


def _comparison_rows(table: pd.DataFrame) -> list[dict]:
    rows = []
    specs = [
        (
            "DSP-LITE is as accurate as LITE (no significant loss)",
            DSP_LITE,
            LITE,
            f"p = {PUBLISHED['dsp_vs_lite_p']} (DSP-LITETime vs LITETime)",
            "no significant loss",
        ),
        (
            "A uniform LITE of DSP's size loses significantly to LITE",
            UNIFORM,
            LITE,
            f"p = {PUBLISHED['uniform_vs_lite_p']} (uniform LITE of "
            f"{PUBLISHED['uniform_width']} filters, 58.5 %, vs LITETime)",
            "significant loss",
        ),
        (
            "DSP's widths beat a uniform width of the same size",
            UNIFORM,
            DSP_LITE,
            "implied: DSP-LITETime p = 0.37 vs LITETime while the uniform control p = 0.0044",
            "significant loss",
        ),
        (
            "DSP-Inception is as accurate as Inception (no significant loss)",
            DSP_INCEPTION,
            INCEPTION,
            f"p = {PUBLISHED['dsp_inception_vs_inception_p']} (DSP-InceptionTime vs "
            "InceptionTime, W/T/L 41/26/61)",
            "no significant loss",
        ),
        # The same claims, ensemble against ensemble, as the paper made them.
        (
            "DSP-LITETime is as accurate as LITETime (no significant loss)",
            DSP_LITETIME,
            LITETIME,
            f"p = {PUBLISHED['dsp_vs_lite_p']}",
            "no significant loss",
        ),
        (
            "The uniform LITETime of 16 filters per branch loses significantly to LITETime",
            UNIFORM_LITETIME_16,
            LITETIME,
            f"p = {PUBLISHED['uniform_vs_lite_p']} (58.5 % fewer trainable parameters)",
            "significant loss",
        ),
        (
            "DSP-LITETime beats the uniform LITETime of 16 filters per branch",
            UNIFORM_LITETIME_16,
            DSP_LITETIME,
            "implied: DSP-LITETime p = 0.37 vs LITETime while the uniform control p = 0.0044",
            "significant loss",
        ),
        (
            "DSP-InceptionTime is as accurate as InceptionTime (no significant loss)",
            DSP_INCEPTIONTIME,
            INCEPTIONTIME,
            f"p = {PUBLISHED['dsp_inception_vs_inception_p']} (W/T/L 41/26/61)",
            "no significant loss",
        ),
        (
            "The uniform InceptionTime of 8 filters per branch is as accurate as InceptionTime",
            UNIFORM_INCEPTIONTIME_8,
            INCEPTIONTIME,
            f"p = {PUBLISHED['uniform_inception_vs_inception_p']} (77 % fewer parameters)",
            "no significant loss",
        ),
        (
            "The uniform InceptionTime of 8 filters per branch is as accurate as DSP-InceptionTime",
            UNIFORM_INCEPTIONTIME_8,
            DSP_INCEPTIONTIME,
            f"p = {PUBLISHED['uniform_inception_vs_dsp_p']} (uniform 0.8439 / 0.8452 vs "
            "DSP-InceptionTime 0.8409 mean accuracy)",
            "no significant loss",
        ),
    ]
    for claim, first, second, published, rule in specs:
        pair = _pair(table, first, second)
        if pair is None:
            rows.append(_missing(claim, published, f"{first} and {second} results"))
            continue
        worse = _significantly_worse(pair)
        if rule == "no significant loss":
            verdict = "not reproduced (significant loss)" if worse else "reproduced"
        else:
            verdict = "reproduced" if worse else "not reproduced (no significant loss)"
        verdict = _too_few(pair) or verdict
        evidence = _pair_text(pair, first, second)
        rows.append(_row(claim, _p_and_wtl(pair), published, verdict, evidence))
    return rows


def _size_rows(results: pd.DataFrame) -> list[dict]:
    rows = []
    own = results[results["model"] == DSP_LITE].groupby("dataset")
    for dataset, (params, lite_params, accuracy) in PUBLISHED["dsp_sizes"].items():
        claim = f"DSP-LITE on {dataset} has {params:,} parameters"
        published = f"{params:,}" + (f" of {lite_params:,}" if lite_params else "")
        published += f", accuracy {accuracy}" if accuracy else ""
        if dataset not in own.groups:
            rows.append(_missing(claim, published, f"{DSP_LITE} on {dataset}"))
            continue
        mine = own.get_group(dataset)
        ours_params = float(mine["params"].mean())
        ratio = ours_params / params
        rows.append(
            _row(
                claim,
                f"{ours_params:,.0f} (accuracy {mine['accuracy'].mean():.4f})",
                published,
                "reproduced" if abs(ratio - 1) <= 0.25 else "not reproduced",
                f"ours / published = {ratio:.2f}; one single model, official split",
            )
        )
    return rows


@cache
def inceptiontime_macs(n_channels: int, n_timepoints: int, n_classes: int) -> int:
    """MACs per series of InceptionTime (5 default Inception networks) on this input."""
    network = Inception(InceptionConfig(n_channels, n_classes))
    # every weight counted: a random initialisation holds an exact zero now and then, and
    # the dense network's cost must not depend on the draw
    return 5 * model_cost(network, n_channels, n_timepoints).macs_dense


def _dsn_rows(table: pd.DataFrame, results: pd.DataFrame) -> list[dict]:
    rows = []
    claim = "DSN is as accurate as the state of the art"
    if DSN not in table:
        return [_missing(claim, "SOTA on 85 UCR-2015 sets", f"{DSN} results")]
    for baseline in ("InceptionTime", "LITETime", "ROCKET"):
        column = baseline + PUBLISHED_SUFFIX
        pair = _pair(table, DSN, column)
        published = f"DSN on par with or better than {baseline} (ensembles; 85 UCR-2015 sets)"
        if pair is None:
            rows.append(_missing(f"{claim}: {baseline}", published, f"--against {baseline}"))
            continue
        worse = _significantly_worse(pair)
        rows.append(
            _row(
                f"{claim}: {baseline}",
                _p_and_wtl(pair),
                published,
                _too_few(pair)
                or ("not reproduced (significantly worse)" if worse else "reproduced"),
                _pair_text(pair, "single DSN", f"published {baseline}"),
            )
        )
    own = results[results["model"] == DSN].dropna(subset=["macs", "n_timepoints"])
    claim = "DSN needs under 50 % of the baselines' FLOPs"
    if own.empty:
        rows.append(_missing(claim, "< 50 %", f"{DSN} results with MACs"))
        return rows
    shapes = own[["n_channels", "n_timepoints", "n_classes"]].astype(int).itertuples(index=False)
    baseline = np.array([inceptiontime_macs(*shape) for shape in shapes], dtype=float)
    dsn_macs = float(own["macs"].astype(float).mean())
    fraction = dsn_macs / baseline.mean()
    rows.append(
        _row(
            claim,
            f"{fraction:.1%} of InceptionTime's MACs ({fraction * 5:.1%} of one Inception)",
            "< 50 %",
            "reproduced" if fraction < PUBLISHED["dsn_macs_fraction"] else "not reproduced",
            f"mean non-zero MACs per series {dsn_macs:,.0f} (DSN) vs {baseline.mean():,.0f} "
            f"(InceptionTime, 5 x Inception) over {len(own)} results",
        )
    )
    return rows


def _faithfulness_rows(table: pd.DataFrame) -> list[dict]:
    rows = []
    specs = (
        (LITE, "LITE", "Our LITE is the published single LITE", "single model"),
        (LITETIME, "LITETime", "Our LITETime is the published LITETime", "5-member ensemble"),
    )
    for ours, theirs, claim, kind in specs:
        published = f"{theirs}, the authors' per-dataset results ({kind})"
        pair = _pair(table, ours, theirs + PUBLISHED_SUFFIX)
        if pair is None:
            rows.append(_missing(claim, published, f"{ours} results and --against {theirs}"))
            continue
        different = pair["p"] <= 0.05
        rows.append(
            _row(
                claim,
                f"mean {pair['mean_a']:.4f} vs {pair['mean_b']:.4f}, p = {pair['p']:.3g}",
                published,
                _too_few(pair)
                or ("not reproduced (significantly different)" if different else "reproduced"),
                _pair_text(pair, f"our {ours}", f"published {theirs}"),
            )
        )
    return rows


def claims_table(table: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: ``claim, ours, published, verdict, evidence`` (see :data:`RULES`).

    ``table``: accuracy per dataset (our models, published methods as ``"<name>
    (published)"``); ``results``: :func:`~sparsetsc.report.tables.load_runs` rows.
    A claim whose evidence is not among the results says "not tested" and what it needs.
    """
    rows = [
        *_compression_rows(results),
        *_comparison_rows(table),
        *_size_rows(results),
        *_dsn_rows(table, results),
        *_faithfulness_rows(table),
    ]
    return pd.DataFrame(rows, columns=CLAIMS_COLUMNS)
