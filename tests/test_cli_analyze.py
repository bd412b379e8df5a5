from __future__ import annotations

import json

import numpy as np
import pytest

from sparsetsc.cli import main
from sparsetsc.estimators import DSNClassifier, FCNClassifier


def toy_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.3, size=(12, 1, 30)).astype(np.float32)
    y = np.array(["a", "b"] * 6)
    X[y == "a", 0, 10:20] += 3.0
    return X, y


@pytest.fixture(scope="module")
def saved_dsn(tmp_path_factory):
    X, y = toy_data()
    clf = DSNClassifier(
        n_filters=4,
        kernel_size=9,
        depth=2,
        n_epochs=2,
        update_every=1,
        batch_size=4,
        device="cpu",
        random_state=0,
    )
    clf.fit(X, y)
    path = tmp_path_factory.mktemp("models") / "m"
    clf.save(path)
    return path, clf


def test_analyze_json(saved_dsn, capsys):
    path, clf = saved_dsn
    assert main(f"analyze {path} --json".split()) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"layers", "tap_usage", "ever_active_fraction", "real_density"}
    layers = sorted({row["layer"] for row in result["layers"]})
    assert layers == sorted(clf.nonzero_per_group_)
    for row in result["layers"]:
        # after baking, weights regrown at the last update (still exactly 0) read as inactive
        assert 1 <= row["nonzero"] <= clf.nonzero_per_group_[row["layer"]][row["group"]]
        assert 1 <= row["enrf_max"] <= row["tap_stop"] - row["tap_start"] <= 9
        assert len(row["enrf_hist"]) == 9
    conv = clf.network_.blocks[0].conv
    assert [r["nonzero"] for r in result["layers"] if r["layer"] == "blocks.0.conv"] == [
        int((conv.weight[o0:o1] != 0).sum()) for o0, o1, _, _ in conv.regions
    ]
    assert result["real_density"] == pytest.approx(clf.real_density_)
    assert set(result["ever_active_fraction"]) == set(clf.ever_active_fraction_)
    for name, fractions in clf.ever_active_fraction_.items():
        assert result["ever_active_fraction"][name] == pytest.approx(fractions)
    assert all(len(u) == 9 for groups in result["tap_usage"].values() for u in groups)


def test_analyze_text_and_out(saved_dsn, tmp_path, capsys):
    path, _ = saved_dsn
    out = tmp_path / "analysis"
    assert main(f"analyze {path} --out {out}".split()) == 0
    text = capsys.readouterr().out
    assert "eNRF mean" in text and "blocks.0.conv" in text and "real density" in text
    for name in ("enrf_histograms.png", "tap_heatmaps.png", "analysis.json"):
        assert (out / name).stat().st_size > 0
    assert "layers" in json.loads((out / "analysis.json").read_text())


def test_analyze_a_dense_model_fails(tmp_path, capsys):
    X, y = toy_data()
    clf = FCNClassifier(n_filters=(4,), kernel_sizes=(3,), n_epochs=1, device="cpu")
    clf.fit(X, y)
    clf.save(tmp_path / "fcn")
    assert main(["analyze", str(tmp_path / "fcn")]) == 2
    err = capsys.readouterr().err
    assert "sparsetsc analyze: error:" in err and "no sparse layers" in err


def test_analyze_a_missing_model(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nothing")]) == 2
    assert "sparsetsc analyze: error:" in capsys.readouterr().err
