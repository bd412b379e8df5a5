"""Result files: tsml layout, round trip, atomic writes and corruption detection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparsetsc.bench.store import (
    CorruptResultError,
    read_result,
    remove_stale_temporaries,
    result_path,
    write_atomic,
    write_result,
)


def _write(path, y_true=(0, 1, 1, 0), y_pred=(0, 1, 0, 0)):
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    write_result(
        path,
        dataset="Toy",
        model="FCN",
        resample=3,
        y_true=np.array(y_true),
        y_pred=np.array(y_pred),
        probabilities=probabilities,
        metadata={"fit_seconds": 1.5, "predict_seconds": 0.25, "params": 10},
    )


def test_tsml_layout_and_round_trip(tmp_path):
    path = result_path(tmp_path, "FCN", "Toy", 3)
    assert path == tmp_path / "FCN" / "Predictions" / "Toy" / "testResample3.csv"
    _write(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "Toy,FCN,TEST,3,MILLISECONDS,sparsetsc"
    assert json.loads(lines[1])["params"] == 10
    assert lines[2] == "0.75,1500,250,-1,-1,2,,-1,-1"
    assert lines[3] == "0,0,,0.9,0.1"
    assert len(lines) == 3 + 4
    result = read_result(path)
    assert (result.dataset, result.model, result.resample, result.accuracy) == (
        "Toy",
        "FCN",
        3,
        0.75,
    )
    np.testing.assert_array_equal(result.y_pred, [0, 1, 0, 0])
    assert result.probabilities.shape == (4, 2)
    assert list(tmp_path.rglob(".tmp-*")) == []


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda text: text[: len(text) // 2], "cases"),  # truncated mid-file
        (lambda text: text.replace("0.75,", "0.5,", 1), "accuracy"),
        (lambda text: text.replace("0.9,0.1", "0.9,0.9"), "sum to one"),
        (lambda text: text.replace("0,0,,0.9,0.1", "0,0,,0.9"), "fields"),
        (lambda text: "", "lines"),
    ],
)
def test_corrupt_files_are_detected(tmp_path, damage, message):
    path = result_path(tmp_path, "FCN", "Toy", 3)
    _write(path)
    path.write_text(damage(path.read_text()))
    with pytest.raises(CorruptResultError, match=message):
        read_result(path)


def test_interrupted_atomic_write_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "FCN" / "Predictions" / "Toy" / "testResample0.csv"

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("sparsetsc.bench.store.os.replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "content")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_stale_temporaries_are_removed(tmp_path):
    folder = tmp_path / "FCN" / "Predictions" / "Toy"
    folder.mkdir(parents=True)
    (folder / ".tmp-testResample0.csvab12").write_text("half")
    assert remove_stale_temporaries(tmp_path) == 1
    assert list(folder.iterdir()) == []
