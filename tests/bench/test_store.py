"""Result files: tsml layout, round trip, atomic writes and corruption detection."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest

from sparsetsc.bench.store import (
    CorruptResultError,
    ResultsTar,
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


def test_probabilities_round_trip_at_float32_precision_in_short_digits(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=12.0, size=(200, 5))  # spans tiny (1e-20) to near-one values
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = probabilities.argmax(axis=1)
    path = result_path(tmp_path, "FCN", "Toy", 0)
    write_result(
        path,
        dataset="Toy",
        model="FCN",
        resample=0,
        y_true=labels,
        y_pred=labels,
        probabilities=probabilities,
        metadata={},
    )
    read = read_result(path).probabilities
    assert read.dtype == np.float64
    np.testing.assert_array_equal(read, probabilities.astype(np.float32))
    digits = [len(v) for line in path.read_text().splitlines()[3:] for v in line.split(",")[3:]]
    assert max(digits) <= 16 and np.mean(digits) < 12  # float64's repr takes up to 24


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


def _members(tar):
    with tarfile.open(tar) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def test_results_tar_gathers_files_as_they_land_and_splits_at_its_limit(tmp_path):
    files = []
    for number in range(3):
        path = tmp_path / "runs" / f"M{number}.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes([65 + number]) * 9000)
        files.append(path)
    sizing = ResultsTar(tmp_path / "sizing")
    sizing.add(files[0], "a/M0.csv")
    sizing.add(files[1], "a/M1.csv")
    limit = sizing.part(1).stat().st_size  # exactly two such files (tar pads to 10 KiB)
    shipped = ResultsTar(tmp_path / "out", limit=limit, max_parts=2)
    assert shipped.add(files[0], "a/M0.csv") == tmp_path / "out" / "results.tar"
    assert _members(shipped.part(1)) == {"a/M0.csv": b"A" * 9000}
    shipped.add(files[1], "a/M1.csv")
    assert shipped.add(files[2], "b/M2.csv") == tmp_path / "out" / "results-2.tar"
    assert set(_members(shipped.part(1))) == {"a/M0.csv", "a/M1.csv"}
    assert _members(shipped.part(2)) == {"b/M2.csv": b"C" * 9000}
    assert shipped.added == ["a/M0.csv", "a/M1.csv", "b/M2.csv"]
    assert all(path.stat().st_size <= limit for path in (tmp_path / "out").iterdir())
    # a file too big for any part: refused, every tar as it was, no temporary left behind
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * limit)
    with pytest.raises(ValueError, match="fits in no results tar"):
        shipped.add(big, "big.csv")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["results-2.tar", "results.tar"]
    assert set(_members(shipped.part(1))) == {"a/M0.csv", "a/M1.csv"}


def test_results_tar_killed_mid_addition_keeps_the_previous_tar(tmp_path, monkeypatch):
    path = tmp_path / "r.csv"
    path.write_text("first")
    shipped = ResultsTar(tmp_path / "out")
    shipped.add(path, "r1.csv")

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("sparsetsc.bench.store.os.replace", killed)
    with pytest.raises(KeyboardInterrupt):
        shipped.add(path, "r2.csv")
    assert _members(shipped.part(1)) == {"r1.csv": b"first"}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["results.tar"]
