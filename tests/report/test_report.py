"""Reports built from fixture result files with known numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sparsetsc.bench.published import load_published, published_accuracy, read_table
from sparsetsc.bench.store import result_path, write_failure, write_result
from sparsetsc.cli import main
from sparsetsc.report import build_report

# Accuracy of each model on each dataset (10 test cases, so exact tenths).
ACCURACY = {
    "Alpha": {"D1": 0.9, "D2": 0.8, "D3": 1.0, "D4": 0.7, "D5": 0.6},
    "Beta": {"D1": 0.8, "D2": 0.8, "D3": 0.9, "D4": 0.5, "D5": 0.4},
}
MACS = {"Alpha": 1000, "Beta": 5000}


def _write_fixture(runs, resample: int = 0, shift: float = 0.0) -> None:
    for model, scores in ACCURACY.items():
        for dataset, accuracy in scores.items():
            accuracy = accuracy + shift if model == "Alpha" else accuracy
            correct = round(accuracy * 10)
            y_true = np.zeros(10, dtype=int)
            y_pred = np.array([0] * correct + [1] * (10 - correct))
            probabilities = np.eye(2)[y_pred]
            metadata = {
                "fit_seconds": 2.0,
                "predict_seconds": 0.1,
                "params": MACS[model] // 10,
                "params_nonzero": MACS[model] // 20,
                "macs": MACS[model],
                "latency_b1_ms": 1.0,
                "latency_b64_ms": 8.0,
                "epochs": 5,
            }
            write_result(
                result_path(runs, model, dataset, resample),
                dataset=dataset,
                model=model,
                resample=resample,
                y_true=y_true,
                y_pred=y_pred,
                probabilities=probabilities,
                metadata=metadata,
            )


def _write_published(folder) -> None:
    bakeoff = folder / "bakeoff2023"
    bakeoff.mkdir(parents=True)
    rows = ["Resamples:,0,1"] + [f"D{i},0.{i + 4},0.1" for i in range(1, 6)]
    (bakeoff / "Gamma_accuracy.csv").write_text("\n".join(rows) + "\n")
    (folder / "oscnn_table.csv").write_text(
        "dataset_name,OS-CNN\nD1,95.0(1.2)\nD2,90\nD3,100\nD4,70\nD5,50\n"
    )
    (folder / "rocket_table.csv").write_text(
        "dataset,accuracy_mean,accuracy_standard_deviation\nD1,0.5,0.01\n"
    )
    (folder / "long_table.csv").write_text(
        ",classifier_name,archive_name,dataset_name,iteration,precision,accuracy\n"
        "0,Delta,UCR,D1,0.0,0.5,0.75\n1,Delta,UCR,D2,0.0,0.5,0.25\n"
    )


def test_published_formats_are_read(tmp_path):
    _write_published(tmp_path)
    published = load_published(tmp_path)
    assert set(published["method"]) == {"Gamma", "OS-CNN", "ROCKET", "Delta"}
    gamma = published_accuracy(published, "Gamma")
    assert gamma["D1"] == pytest.approx(0.5)  # resample 0 only by default
    assert published_accuracy(published, "Gamma", [0, 1])["D1"] == pytest.approx(0.3)
    oscnn = published_accuracy(published, "OS-CNN")
    assert oscnn["D1"] == pytest.approx(0.95) and oscnn["D5"] == pytest.approx(0.5)
    assert published_accuracy(published, "ROCKET")["D1"] == 0.5
    assert published_accuracy(published, "Delta")["D2"] == 0.25
    with pytest.raises(ValueError, match="known methods"):
        published_accuracy(published, "Nope")
    with pytest.raises(ValueError, match="unknown results layout"):
        (tmp_path / "other.csv").write_text("a,b\n1,2\n")
        read_table(tmp_path / "other.csv")


def test_report_has_the_expected_numbers(tmp_path):
    runs = tmp_path / "runs"
    _write_fixture(runs)
    write_failure(
        runs / "Beta" / "Predictions" / "D6" / "testResample0.failed.json",
        {"job": {"dataset": "D6", "resample": 0}, "error_type": "ValueError", "error": "boom"},
    )
    published = tmp_path / "published"
    _write_published(published)
    report = build_report(runs, tmp_path / "out", ["Gamma"], published)
    # Alpha beats Beta on D1, D3, D4, D5 and ties on D2.
    pair = report.pairwise.set_index(["A", "B"]).loc[("Alpha", "Beta")]
    assert (pair["wins"], pair["ties"], pair["losses"]) == (4, 1, 0)
    assert pair["wilcoxon p"] == pytest.approx(0.125)  # 4 of 4 non-zero differences positive
    assert report.ranks.loc["Alpha", "mean accuracy"] == pytest.approx(0.8)
    assert report.ranks.loc["Beta", "mean accuracy"] == pytest.approx(0.68)
    # Gamma (published) = 0.5..0.9 on D1..D5: ranks per dataset averaged.
    assert report.ranks.loc["Gamma (published)", "mean accuracy"] == pytest.approx(0.7)
    assert report.ranks.index[0] == "Alpha"
    assert report.cost.loc["Beta", "macs"] == 5000
    text = (tmp_path / "out" / "report.md").read_text()
    assert "| Alpha | 0.8000 |" in text
    assert "| Alpha | Beta | 5 | 4 | 1 | 0 | 0.1250 |" in text
    assert "ValueError: boom" in text
    for name in ("report.html", "cd_diagram.png", "accuracy_vs_macs.png", "accuracy.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert "cd_diagram.png" in (tmp_path / "out" / "report.html").read_text()
    table = pd.read_csv(tmp_path / "out" / "accuracy.csv", index_col=0)
    assert table.loc["D4", "Alpha"] == pytest.approx(0.7)


def test_report_cli_and_errors(tmp_path, capsys):
    runs = tmp_path / "runs"
    _write_fixture(runs)
    assert main(f"report {runs}".split()) == 0
    assert (runs / "report" / "report.md").exists()
    assert "Alpha" in capsys.readouterr().out
    assert main(f"report {runs} --against Gamma".split()) == 2  # no --published
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "missing").exists()


def test_report_shows_the_spread_over_resamples(tmp_path):
    runs = tmp_path / "runs"
    _write_fixture(runs)
    one = build_report(runs, tmp_path / "one")
    assert "std over resamples" not in one.ranks.columns  # one resample: nothing to show
    _write_fixture(runs, resample=1, shift=-0.2)  # Alpha 0.2 lower everywhere, Beta the same
    report = build_report(runs, tmp_path / "out")
    assert report.ranks.loc["Alpha", "mean accuracy"] == pytest.approx(0.7)
    assert report.ranks.loc["Alpha", "resamples"] == 2
    # Per-resample means 0.8 and 0.6: sample std 0.1414; every dataset moves by 0.2 too.
    assert report.ranks.loc["Alpha", "std over resamples"] == pytest.approx(0.2 / np.sqrt(2))
    assert report.ranks.loc["Alpha", "mean per-dataset std"] == pytest.approx(0.2 / np.sqrt(2))
    assert report.ranks.loc["Beta", "std over resamples"] == pytest.approx(0.0)
    assert "std over resamples" in (tmp_path / "out" / "report.md").read_text()


def _write_ensemble(runs) -> None:
    """Alpha as an ensemble of 3 member jobs: the members' own files (the 2nd and 3rd
    marked as members) and the ensemble's file with their accuracies."""
    members = {"D1": [0.9, 0.7, 0.8], "D2": [0.6, 0.6, 0.6], "D3": [1.0, 0.8, 0.6]}
    ensemble = {"D1": 0.9, "D2": 0.5, "D3": 1.0}
    for dataset, accuracies in members.items():
        for k, accuracy in enumerate(accuracies):
            label = "Alpha" if k == 0 else f"Alpha (member {k + 1})"
            _write_one(runs, label, dataset, accuracy, {"member": k})
        _write_one(runs, "AlphaTime", dataset, ensemble[dataset], {"member_accuracies": accuracies})


def _write_one(runs, model, dataset, accuracy, metadata) -> None:
    correct = round(accuracy * 10)
    y_pred = np.array([0] * correct + [1] * (10 - correct))
    write_result(
        result_path(runs, model, dataset, 0),
        dataset=dataset,
        model=model,
        resample=0,
        y_true=np.zeros(10, dtype=int),
        y_pred=y_pred,
        probabilities=np.eye(2)[y_pred],
        metadata={"params": 10, "macs": 100, **metadata},
    )


def test_an_ensemble_is_shown_beside_its_members(tmp_path):
    runs = tmp_path / "runs"
    _write_ensemble(runs)
    report = build_report(runs, tmp_path / "out")
    # the 2nd and 3rd members are not models of their own; the 1st is the single Alpha
    assert sorted(report.accuracy.columns) == ["Alpha", "AlphaTime"]
    row = report.ensembles.loc["AlphaTime"]
    assert (row["datasets"], row["members"]) == (3, 3)
    assert row["ensemble"] == pytest.approx(0.8)
    assert row["members' mean"] == pytest.approx((0.8 + 0.6 + 0.8) / 3)
    assert row["best member"] == pytest.approx((0.9 + 0.6 + 1.0) / 3)
    assert row["worst member"] == pytest.approx((0.7 + 0.6 + 0.6) / 3)
    assert (row["wins"], row["ties"], row["losses"]) == (2, 0, 1)  # D1, D3 up; D2 down
    spread = report.member_spread.loc[("AlphaTime", "D3")]
    assert spread["ensemble"] == 1.0 and spread["member range"] == pytest.approx(0.4)
    text = (tmp_path / "out" / "report.md").read_text()
    assert "## Ensembles and their members" in text and "## Member spread per dataset" in text
    assert "| AlphaTime | D3 | 1.0000 | 0.8000 | 0.6000 | 1.0000 | 0.4000 |" in text
    assert pd.read_csv(tmp_path / "out" / "member_spread.csv").shape == (3, 7)
    # a sweep without ensembles has neither section
    plain = tmp_path / "plain"
    _write_fixture(plain)
    build_report(plain, tmp_path / "out2")
    assert "Ensembles and their members" not in (tmp_path / "out2" / "report.md").read_text()


def test_an_equal_length_uea_set_meets_its_published_name(tmp_path):
    runs = tmp_path / "runs"
    for dataset in ("D1_eq", "D2"):
        _write_one(runs, "Alpha", dataset, 0.9, {})
    published = tmp_path / "published"
    _write_published(published)
    report = build_report(runs, tmp_path / "out", ["OS-CNN"], published)
    column = report.accuracy["OS-CNN (published)"]
    assert column["D1_eq"] == pytest.approx(0.95) and column["D2"] == pytest.approx(0.90)
