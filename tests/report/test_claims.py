"""The claims table: each of the papers' claims gets ours, published, a verdict by its rule,
and the evidence; a claim without results says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sparsetsc.report.claims import (
    CLAIMS_COLUMNS,
    DSN,
    DSP_INCEPTION,
    DSP_LITE,
    INCEPTION,
    LITE,
    UNIFORM,
    claims_table,
    compression_summary,
    inceptiontime_macs,
)

DATASETS = [f"D{i}" for i in range(8)] + ["Coffee"]


def _results(compression: list[float], dsn_macs: float = 1e6) -> pd.DataFrame:
    rows = []
    for i, dataset in enumerate(DATASETS):
        shape = {"n_channels": 1, "n_timepoints": 100, "n_classes": 2}
        rows.append(
            {
                "model": DSP_LITE,
                "dataset": dataset,
                "accuracy": 0.9,
                "params": 1600 if dataset == "Coffee" else 4000,
                "compression_trainable": compression[i],
                "compression_all": compression[i] - 0.02,
                "macs": 1e5,
                **shape,
            }
        )
        rows.append({"model": DSN, "dataset": dataset, "accuracy": 0.9, "macs": dsn_macs, **shape})
    return pd.DataFrame(rows)


def _table(lite, dsp, uniform, dsn=None, inceptiontime=None) -> pd.DataFrame:
    columns = {LITE: lite, DSP_LITE: dsp, UNIFORM: uniform}
    if dsn is not None:
        columns[DSN] = dsn
    if inceptiontime is not None:
        columns["InceptionTime (published)"] = inceptiontime
    return pd.DataFrame(columns, index=DATASETS)


def _verdicts(claims: pd.DataFrame) -> dict[str, str]:
    return dict(zip(claims["claim"], claims["verdict"], strict=True))


def test_compression_summary_and_its_verdict():
    compression = [0.50, 0.55, 0.60, 0.65, 0.58, 0.56, 0.62, 0.54, 0.57]
    summary = compression_summary(_results(compression))
    assert summary.loc["trainable", "mean"] == pytest.approx(np.mean(compression))
    assert summary.loc["trainable", "median"] == pytest.approx(0.57)
    assert summary.loc["all params", "min"] == pytest.approx(0.48)
    lite = np.full(9, 0.9)
    claims = claims_table(_table(lite, lite, lite), _results(compression))
    assert list(claims.columns) == CLAIMS_COLUMNS
    compression_row = claims.iloc[0]
    assert compression_row["verdict"] == "reproduced"  # mean 57.4 %, within 5 points of 58.2
    assert "median 57.0%" in compression_row["evidence"]
    low = claims_table(_table(lite, lite, lite), _results([0.3] * 9))
    assert low.iloc[0]["verdict"] == "not reproduced (lower)"


def test_comparison_verdicts_follow_their_rules():
    lite = np.linspace(0.80, 0.96, 9)
    dsp = lite - 0.001 * np.arange(1, 10)  # slightly worse on every dataset: significant
    uniform = lite - 0.05
    verdicts = _verdicts(claims_table(_table(lite, dsp, uniform), _results([0.58] * 9)))
    assert verdicts["DSP-LITE is as accurate as LITE (no significant loss)"] == (
        "not reproduced (significant loss)"
    )
    assert verdicts["A uniform LITE of DSP's size loses significantly to LITE"] == "reproduced"
    assert verdicts["DSP's widths beat a uniform width of the same size"] == "reproduced"
    # DSP equal to LITE, the uniform control too: the loss claims are not reproduced
    verdicts = _verdicts(claims_table(_table(lite, lite, lite), _results([0.58] * 9)))
    assert verdicts["DSP-LITE is as accurate as LITE (no significant loss)"] == "reproduced"
    assert verdicts["A uniform LITE of DSP's size loses significantly to LITE"] == (
        "not reproduced (no significant loss)"
    )


def test_a_comparison_of_too_few_differing_datasets_gets_no_verdict():
    lite = np.linspace(0.80, 0.96, 9)
    dsp = lite.copy()
    dsp[:5] -= 0.01  # worse on 5 datasets, tied on 4: the smallest possible p is 0.0625
    claims = claims_table(_table(lite, dsp, lite - 0.05), _results([0.58] * 9))
    verdicts = _verdicts(claims)
    assert verdicts["DSP-LITE is as accurate as LITE (no significant loss)"] == (
        "not tested (too few datasets: 5 differ, 6 needed)"
    )
    row = claims.set_index("claim").loc["DSP-LITE is as accurate as LITE (no significant loss)"]
    assert row["ours"] == "p = 0.0625, W/T/L 0/4/5"  # the evidence is still shown
    dsp[5] -= 0.01  # a sixth: now significant
    verdicts = _verdicts(claims_table(_table(lite, dsp, lite - 0.05), _results([0.58] * 9)))
    assert verdicts["DSP-LITE is as accurate as LITE (no significant loss)"] == (
        "not reproduced (significant loss)"
    )


def test_sizes_dsn_and_missing_evidence():
    lite = np.full(9, 0.9)
    inceptiontime = np.linspace(0.91, 0.99, 9)  # better than DSN's 0.9 on every dataset
    table = _table(lite, lite, lite, dsn=lite, inceptiontime=inceptiontime)
    claims = claims_table(table, _results([0.58] * 9, dsn_macs=1e6)).set_index("claim")
    coffee = claims.loc["DSP-LITE on Coffee has 1,562 parameters"]
    assert coffee["verdict"] == "reproduced" and "1.02" in coffee["evidence"]  # 1600 / 1562
    assert claims.loc["DSP-LITE on Adiac has 8,771 parameters", "verdict"] == "not tested"
    baseline = inceptiontime_macs(1, 100, 2)  # 5 Inception networks on 100 time points
    assert baseline > 1e7
    macs = claims.loc["DSN needs under 50 % of the baselines' FLOPs"]
    assert macs["verdict"] == "reproduced" and f"{baseline:,.0f}" in macs["evidence"]
    heavy = claims_table(table, _results([0.58] * 9, dsn_macs=baseline)).set_index("claim")
    assert heavy.loc["DSN needs under 50 % of the baselines' FLOPs", "verdict"] == (
        "not reproduced"
    )
    dsn = claims.loc["DSN is as accurate as the state of the art: InceptionTime"]
    assert dsn["verdict"] == "not reproduced (significantly worse)"
    assert dsn["ours"] == "p = 0.00391, W/T/L 0/0/9"
    assert claims.loc["DSN is as accurate as the state of the art: ROCKET", "verdict"] == (
        "not tested"
    )
    assert claims.loc["Our LITE is the published single LITE", "evidence"] == (
        "needs LITE results and --against LITE"
    )


def test_dsp_inception_claims_have_their_own_published_figures():
    lite = np.linspace(0.80, 0.96, 9)
    table = _table(lite, lite, lite)
    claims = claims_table(table, _results([0.58] * 9)).set_index("claim")
    compression_claim = "DSP removes 74.5 % of Inception's parameters"
    accuracy_claim = "DSP-Inception is as accurate as Inception (no significant loss)"
    assert claims.loc[compression_claim, "evidence"] == "needs DSP-Inception results"
    assert claims.loc[accuracy_claim, "verdict"] == "not tested"
    # DSP-Inception removing 58 %, as DSP-LITE does, is too little against the published 74.5
    inception_rows = _results([0.58] * 9).assign(model=DSP_INCEPTION, compression_all=np.nan)
    results = pd.concat([_results([0.58] * 9), inception_rows], ignore_index=True)
    table[INCEPTION] = lite
    table[DSP_INCEPTION] = lite - 0.001 * np.arange(1, 10)  # worse on all 9: significant
    claims = claims_table(table, results).set_index("claim")
    assert claims.loc[compression_claim, "verdict"] == "not reproduced (lower)"
    assert claims.loc[compression_claim, "ours"] == "58.0% (single DSP-Inception)"
    assert claims.loc[compression_claim, "evidence"] == (
        "mean 58.0%, median 58.0%, min 58.0%, max 58.0%; 9 datasets"
    )
    assert claims.loc[accuracy_claim, "verdict"] == "not reproduced (significant loss)"
    assert claims.loc[accuracy_claim, "ours"] == "p = 0.00391, W/T/L 0/0/9"
    # the LITE claims are untouched by the Inception rows
    assert claims.loc["DSP-LITE is as accurate as LITE (no significant loss)", "verdict"] == (
        "reproduced"
    )
    assert claims.iloc[0]["verdict"] == "reproduced"  # DSP-LITE's 58 % against 58.2 %


def test_inceptiontime_macs_do_not_depend_on_zeros_in_the_initial_weights(monkeypatch):
    import torch

    from sparsetsc.nn import Inception
    from sparsetsc.report import claims

    expected = claims.inceptiontime_macs.__wrapped__(1, 24, 2)

    def zeroed(config):  # an unlucky draw, taken to the limit: every weight exactly zero
        network = Inception(config)
        with torch.no_grad():
            for parameter in network.parameters():
                parameter.zero_()
        return network

    monkeypatch.setattr(claims, "Inception", zeroed)
    assert claims.inceptiontime_macs.__wrapped__(1, 24, 2) == expected > 0


def _write_runs(runs, epochs: int = 1500) -> None:
    from sparsetsc.bench.store import result_path, write_result

    for model, correct, compression in ((LITE, 9, None), (DSP_LITE, 8, 0.6)):
        for dataset in ("Coffee", "D1", "D2"):
            y_pred = np.array([0] * correct + [1] * (10 - correct))
            pruned = {"compression_": {"trainable": compression, "all": (compression or 0) - 0.02}}
            write_result(
                result_path(runs, model, dataset, 0),
                dataset=dataset,
                model=model,
                resample=0,
                y_true=np.zeros(10, dtype=int),
                y_pred=y_pred,
                probabilities=np.eye(2)[y_pred],
                metadata={
                    "params": 1600,
                    "macs": 10_000,
                    "classes": ["a", "b"],
                    "n_channels": 1,
                    "n_timepoints": 50,
                    "fitted": pruned if compression else {},
                    "epochs": epochs,
                },
            )


def test_a_runs_directory_regenerates_its_own_readme(tmp_path, capsys):
    import json

    from sparsetsc.cli import main

    runs = tmp_path / "results"
    _write_runs(runs)
    options = {"out": ".", "markdown": "README.md", "title": "Reproduction", "intro": "P.md"}
    (runs / "report.json").write_text(json.dumps(options))
    (runs / "P.md").write_text("Protocol: official split.\n")
    assert main(["report", str(runs)]) == 0
    readme = (runs / "README.md").read_text()
    assert readme.startswith("# Reproduction\n\nProtocol: official split.\n\n## Claims of")
    assert "| DSP removes 58.2 % of LITE's trainable parameters" in readme
    assert "60.0% / 58.0% (single DSP-LITE) |" in readme
    assert "![compression per dataset](compression_histogram.png)" in readme
    assert (runs / "compression_histogram.png").stat().st_size > 0
    claims = pd.read_csv(runs / "claims.csv")
    assert list(claims.columns) == CLAIMS_COLUMNS
    # the same files give the same README, byte for byte
    assert main(["report", str(runs)]) == 0
    assert (runs / "README.md").read_text() == readme
    (runs / "report.json").write_text(json.dumps({"colour": "red"}))
    assert main(["report", str(runs)]) == 2
    assert "keys among out, markdown, against, published, title, intro" in capsys.readouterr().err


def test_a_short_sweep_reports_its_own_results_without_the_papers_claims(tmp_path, capsys):
    from sparsetsc.cli import main

    runs = tmp_path / "smoke"
    _write_runs(runs, epochs=10)
    assert main(["report", str(runs)]) == 0
    assert "the papers' claims are left out" in capsys.readouterr().err
    report = (runs / "report" / "report.md").read_text()
    assert "Claims of the papers" not in report and "reproduced" not in report
    assert not (runs / "report" / "claims.csv").exists()
    assert not (runs / "report" / "compression_histogram.png").exists()
    assert main(["report", str(runs), "--claims", "--overwrite"]) == 0
    assert "## Claims of the papers" in (runs / "report" / "report.md").read_text()


def test_ensemble_claims_compare_ensembles_with_ensembles():
    from sparsetsc.report.claims import DSP_LITETIME, LITETIME, UNIFORM_LITETIME_16

    lite = np.linspace(0.80, 0.96, 9)
    table = _table(lite, lite, lite)
    claims = claims_table(table, _results([0.58] * 9)).set_index("claim")
    ensemble_claims = [
        "DSP-LITETime removes 58.2 % of LITETime's trainable parameters (55.8 % of all)",
        "DSP-LITETime is as accurate as LITETime (no significant loss)",
        "The uniform LITETime of 16 filters per branch loses significantly to LITETime",
        "DSP-LITETime beats the uniform LITETime of 16 filters per branch",
        "Our LITETime is the published LITETime",
    ]
    for claim in ensemble_claims:  # no ensemble among the runs: each says what it needs
        assert claims.loc[claim, "verdict"] == "not tested", claim
    # the ensembles: DSP-LITETime ties LITETime, the uniform LITETime-16 loses on all 9
    table[LITETIME] = lite
    table[DSP_LITETIME] = lite
    table[UNIFORM_LITETIME_16] = lite - 0.001 * np.arange(1, 10)
    table["LITETime (published)"] = lite + 0.001 * np.arange(1, 10)
    members = _results([0.60] * 9).assign(model=DSP_LITETIME)  # the members' mean compression
    results = pd.concat([_results([0.40] * 9), members], ignore_index=True)
    claims = claims_table(table, results).set_index("claim")
    assert claims.loc[ensemble_claims[0], "verdict"] == "reproduced"
    assert (
        claims.loc[ensemble_claims[0], "ours"]
        == "60.0% / 58.0% (DSP-LITETime, mean of its members)"
    )
    assert claims.loc[ensemble_claims[1], "verdict"] == "reproduced"
    assert claims.loc[ensemble_claims[2], "verdict"] == "reproduced"
    assert claims.loc[ensemble_claims[2], "ours"] == "p = 0.00391, W/T/L 0/0/9"
    assert claims.loc[ensemble_claims[3], "verdict"] == "reproduced"
    assert claims.loc[ensemble_claims[4], "verdict"] == "not reproduced (significantly different)"
    # the single-model rows still read the single models: DSP-LITE removes 40 % only
    single = "DSP removes 58.2 % of LITE's trainable parameters (55.8 % of all)"
    assert claims.loc[single, "verdict"] == "not reproduced (lower)"
