"""What sparsetsc writes has the permissions of an ordinary file under the user's umask."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from sparsetsc._files import follow_umask, write_atomic
from sparsetsc.bench.store import ResultsTar, write_result


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_atomic_write_follows_the_umask(tmp_path, umask):
    write_atomic(tmp_path / "a.txt", "text")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert _mode(tmp_path / "a.txt") == _mode(tmp_path / "b.bin") == 0o666 & ~umask
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]  # no temporaries


def test_result_files_and_shipped_tars_follow_the_umask(tmp_path, umask):
    path = tmp_path / "runs" / "M" / "Predictions" / "D" / "testResample0.csv"
    write_result(
        path,
        dataset="D",
        model="M",
        resample=0,
        y_true=np.array([0, 1]),
        y_pred=np.array([0, 1]),
        probabilities=np.eye(2),
        metadata={},
    )
    assert _mode(path) == 0o666 & ~umask
    tar = ResultsTar(tmp_path / "out").add(path, "M/testResample0.csv")
    assert _mode(tar) == 0o666 & ~umask


def test_a_saved_model_folder_follows_the_umask(tmp_path, umask):
    from sparsetsc import FCNClassifier

    X = np.random.default_rng(0).normal(size=(6, 1, 16)).astype(np.float32)
    model = FCNClassifier(n_epochs=1, n_filters=(2,), kernel_sizes=(3,), random_state=0)
    model.fit(X, np.array([0, 1] * 3)).save(tmp_path / "model")
    folders = [tmp_path / "model", *(p for p in (tmp_path / "model").rglob("*") if p.is_dir())]
    files = [p for p in (tmp_path / "model").rglob("*") if p.is_file()]
    assert files and all(_mode(p) == 0o666 & ~umask for p in files)
    assert all(_mode(p) == 0o777 & ~umask for p in folders)


def test_follow_umask_reaches_into_a_folder(tmp_path, umask):
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (inner / "f").write_text("x")
    os.chmod(inner / "f", 0o600)
    os.chmod(inner, 0o700)
    follow_umask(tmp_path / "a")
    assert _mode(inner) == 0o777 & ~umask and _mode(inner / "f") == 0o666 & ~umask
