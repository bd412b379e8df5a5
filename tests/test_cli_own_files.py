"""The command line with a user's own files: fit --train / --test, predict, their refusals."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from sparsetsc import load
from sparsetsc.cli import main

T = np.linspace(0, 4 * np.pi, 40)


def _waves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 6, (2 * n, 1))
    X = np.concatenate([np.sin(T + phases[:n]), np.sign(np.sin(T + phases[n:]))])
    return X, np.array(["sine"] * n + ["square"] * n)


@pytest.fixture()
def own(tmp_path):
    """waves_train.csv and waves_test.csv (label first, header), new.csv (no labels)."""
    for name, (X, y) in (("waves_train", _waves(10, 0)), ("waves_test", _waves(5, 1))):
        frame = pd.DataFrame(X)
        frame.insert(0, "label", y)
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    pd.DataFrame(_waves(5, 1)[0]).to_csv(tmp_path / "new.csv", index=False, header=False)
    return tmp_path


@pytest.fixture()
def fitted(own, capsys):
    out = own / "model"
    status = main(
        f"fit --model fcn --train {own / 'waves_train.csv'} --test {own / 'waves_test.csv'} "
        f"--epochs 2 --out {out} --json --quiet".split()
    )
    assert status == 0
    return out, json.loads(capsys.readouterr().out)


def test_fit_trains_on_a_csv_and_scores_the_test_csv(fitted):
    out, result = fitted
    assert result["n_train"] == 20 and result["n_test"] == 10 and result["n_timepoints"] == 40
    assert 0 <= result["accuracy"] <= 1 and result["test"].endswith("waves_test.csv")
    assert list(load(out).classes_) == ["sine", "square"]


def test_fit_on_one_training_file_reports_training_accuracy(own, capsys):
    X, y = _waves(10, 0)
    np.savez(own / "waves.npz", X=X, y=y)
    status = main(
        f"fit --model fcn --dataset {own / 'waves.npz'} --epochs 2 --json --quiet".split()
    )
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert "accuracy" not in result and 0 <= result["train_accuracy"] <= 1
    assert result["n_test"] == 0


def test_predict_writes_one_row_per_series_to_stdout(fitted, own, capsys):
    out, _ = fitted
    model = load(out)
    X_new = _waves(5, 1)[0][:, None, :].astype(np.float32)
    assert main(["predict", str(out), "--input", str(own / "new.csv"), "--proba"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["prediction", "probability_sine", "probability_square"]
    assert [r[0] for r in rows[1:]] == list(model.predict(X_new))
    np.testing.assert_allclose(
        np.array([r[1:] for r in rows[1:]], dtype=float), model.predict_proba(X_new), atol=1e-5
    )


def test_predict_leaves_out_a_label_column_by_name_or_index(fitted, own, capsys):
    out, _ = fitted
    answers = []
    for column in ("label", "0"):
        path = own / f"by-{column}.csv"
        args = ["predict", str(out), "--input", str(own / "waves_test.csv"), "--out", str(path)]
        assert main([*args, "--label-column", column]) == 0
        answers.append(path.read_text())
    assert answers[0] == answers[1] and answers[0].count("\n") == 11
    assert "wrote 10 predictions" in capsys.readouterr().err


def test_predict_without_the_label_column_says_how_to_leave_it_out(fitted, own, capsys):
    out, _ = fitted
    assert main(["predict", str(out), "--input", str(own / "waves_test.csv")]) == 2
    assert "'sine' is not a number" in capsys.readouterr().err
    frame = pd.DataFrame(_waves(5, 1)[0])
    frame.insert(0, "id", 7)  # one numeric column too many
    frame.to_csv(own / "with_id.csv", index=False, header=False)
    assert main(["predict", str(out), "--input", str(own / "with_id.csv")]) == 2
    err = capsys.readouterr().err
    assert "1 channel(s) of 41 time points" in err and "--label-column 0" in err


def test_predict_overwrites_nothing_unless_asked(fitted, own, capsys):
    out, _ = fitted
    target = own / "answers.csv"
    target.write_text("mine\n")
    args = ["predict", str(out), "--input", str(own / "new.csv"), "--out", str(target)]
    assert main(args) == 2
    assert "exists; give --overwrite" in capsys.readouterr().err
    assert target.read_text() == "mine\n"
    assert main([*args, "--overwrite"]) == 0
    assert target.read_text().startswith("prediction\n")


def test_predict_with_a_bad_input_writes_nothing(fitted, own, capsys):
    out, _ = fitted
    (own / "ragged.csv").write_text("1,2,3\n1,2\n")
    target = own / "answers.csv"
    args = ["predict", str(out), "--input", str(own / "ragged.csv"), "--out", str(target)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "ragged.csv', line 2: 2 fields" in err and err.count("\n") == 1
    assert not target.exists()
    assert main(["predict", str(out), "--input", str(own / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_predict_from_an_onnx_export_matches_the_saved_model(fitted, own, capsys):
    pytest.importorskip("onnxruntime")
    out, _ = fitted
    onnx = own / "model.onnx"
    export = f"export {out} --onnx {onnx} --dataset {own / 'waves_test.csv'}"
    assert main(export.split()) == 0
    capsys.readouterr()
    answers = []
    for model in (out, onnx):
        assert main(["predict", str(model), "--input", str(own / "new.csv")]) == 0
        answers.append(capsys.readouterr().out)
    assert answers[0] == answers[1]


def test_test_without_train_is_a_usage_error(own, capsys):
    status = main(f"fit --model fcn --dataset GunPoint --test {own / 'new.csv'}".split())
    assert status == 2
    assert "--test goes with --train" in capsys.readouterr().err


def test_a_short_budget_left_at_chance_gets_a_hint(capsys):
    from argparse import Namespace

    from sparsetsc.cli import _hint_if_at_chance

    args = Namespace(epochs=2, model="lite")
    balanced = np.array(["a", "b"] * 10)
    _hint_if_at_chance({"accuracy": 0.5}, balanced, args, 1500)
    err = capsys.readouterr().err
    assert "at chance level (0.500" in err and "published budget, 1500" in err
    _hint_if_at_chance({"accuracy": 0.9}, balanced, args, 1500)
    assert capsys.readouterr().err == ""
