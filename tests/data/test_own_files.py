"""Files of a user's own: CSV / TSV / Parquet tables, .npz / .npy arrays, their refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sparsetsc.data import DatasetFileError, load_dataset, load_files, read_series_file

T = np.linspace(0, 4 * np.pi, 50)


@pytest.fixture()
def waves():
    rng = np.random.default_rng(0)
    phases = rng.uniform(0, 6, (12, 1))
    X = np.concatenate([np.sin(T + phases[:6]), np.sign(np.sin(T + phases[6:]))])
    y = np.array(["sine"] * 6 + ["square"] * 6)
    return X, y


def _frame(X, y, label="label", at=0):
    frame = pd.DataFrame(X)
    frame.insert(at, label, y)
    return frame


@pytest.mark.parametrize(
    "write, kwargs",
    [
        (lambda f, p: f.to_csv(p.with_suffix(".csv"), index=False), {}),  # header 0, 1, 2 ...
        (lambda f, p: f.to_csv(p.with_suffix(".csv"), index=False, header=False), {}),
        (lambda f, p: f.to_csv(p.with_suffix(".tsv"), index=False, sep="\t"), {}),
        (lambda f, p: f.to_csv(p.with_suffix(".csv"), index=False), {"label_column": "label"}),
        (lambda f, p: f.to_parquet(p.with_suffix(".parquet")), {}),
    ],
    ids=["csv-header", "csv-no-header", "tsv-header", "csv-by-name", "parquet"],
)
def test_a_table_with_a_label_column_loads_as_the_arrays_it_holds(tmp_path, waves, write, kwargs):
    X, y = waves
    frame = _frame(X, y)
    frame.columns = [str(c) for c in frame.columns]
    write(frame, tmp_path / "waves")
    (path,) = tmp_path.iterdir()
    X_read, y_read = load_dataset(path, **kwargs)
    assert X_read.shape == (12, 1, 50) and X_read.dtype == np.float32
    np.testing.assert_allclose(X_read[:, 0], X, rtol=1e-6, atol=1e-6)
    assert list(y_read) == list(y)


def test_the_label_column_may_be_anywhere_by_index_or_name(tmp_path, waves):
    X, y = waves
    _frame(X, y, label="class", at=50).to_csv(tmp_path / "w.csv", index=False)
    by_name, by_index = (load_dataset(tmp_path / "w.csv", label_column=c) for c in ("class", 50))
    for X_read, y_read in (by_name, by_index):
        np.testing.assert_allclose(X_read[:, 0], X, rtol=1e-6, atol=1e-6)
        assert list(y_read) == list(y)
    with pytest.raises(DatasetFileError, match="column 50 'class': 'sine' is not a number"):
        load_dataset(tmp_path / "w.csv")  # the default, the first column, is a time point


def test_unlabelled_series_load_with_label_column_none(tmp_path, waves):
    X, _ = waves
    pd.DataFrame(X).to_csv(tmp_path / "new.csv", index=False, header=False)
    np.save(tmp_path / "new.npy", X)
    for name in ("new.csv", "new.npy"):
        X_read, y_read = load_dataset(tmp_path / name, label_column=None)
        assert y_read is None and X_read.shape == (12, 1, 50)
    with pytest.raises(DatasetFileError, match=r"holds no labels.*np\.savez"):
        load_dataset(tmp_path / "new.npy")


def test_npz_holds_x_and_y(tmp_path, waves):
    X, y = waves
    np.savez(tmp_path / "w.npz", X=X[:, None, :], y=y)
    X_read, y_read = load_dataset(tmp_path / "w.npz")
    np.testing.assert_allclose(X_read[:, 0], X, rtol=1e-6)
    assert list(y_read) == list(y)
    np.savez(tmp_path / "bad.npz", data=X)
    with pytest.raises(DatasetFileError, match=r"\['data'\] but no 'X'"):
        load_dataset(tmp_path / "bad.npz")
    np.savez(tmp_path / "short.npz", X=X, y=y[:5])
    with pytest.raises(DatasetFileError, match="one label per series"):
        load_dataset(tmp_path / "short.npz")


def test_a_multivariate_table_has_one_row_per_case_and_channel(tmp_path):
    (tmp_path / "mv.csv").write_text(
        "case,channel,label,t0,t1,t2\n"
        "a,x,up,1,2,3\n"
        "a,y,up,4,5,6\n"
        "b,y,down,7,8,9\n"  # rows of a case in any order: channels follow the first case
        "b,x,down,0,0,0\n"
    )
    X, y = load_dataset(tmp_path / "mv.csv")
    assert X.shape == (2, 2, 3)
    np.testing.assert_array_equal(X[1], [[0, 0, 0], [7, 8, 9]])
    assert list(y) == ["up", "down"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,1,2,3\nb,1,2\n", r"line 2: 3 fields, fewer than the 4 of line 1"),
        ("a,1,2,3\nb,1,x,3\n", r"line 2, column 2: 'x' is not a number"),
        ("a,1,2,3\nb,1,inf,3\n", r"line 2: an infinite value"),
        (",1,2,3\nb,1,2,3\n", r"line 1: no label"),
        ("case,channel,time,value,label\n0,0,0,1.5,a\n", r"long format.*pivot_table"),
        ("case,label,t0,t1\n0,a,1,2\n", r"no 'channel' column"),
        ("case,channel,label,t0\n0,x,a,1\n0,x,a,2\n", r"channel 'x' twice"),
        ("case,channel,label,t0\n0,x,a,1\n1,y,b,2\n", r"every case needs one row per channel"),
        ("case,channel,label,t0\n0,x,a,1\n0,y,b,2\n", r"different labels"),
        (",label,0,1\n0,a,1,2\n", r"column 0 has no name.*index=False"),
        ("", "holds no series"),
    ],
)
def test_a_bad_table_is_refused_in_one_line_naming_the_row_and_the_fix(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DatasetFileError, match=message) as raised:
        load_dataset(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_a_label_column_that_does_not_exist_is_refused(tmp_path, waves):
    X, y = waves
    _frame(X, y).to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(DatasetFileError, match="no column named 'target'"):
        load_dataset(tmp_path / "w.csv", label_column="target")
    with pytest.raises(DatasetFileError, match="no label column 60"):
        load_dataset(tmp_path / "w.csv", label_column=60)


def test_trailing_missing_values_shorten_a_series_and_inner_ones_are_filled(tmp_path):
    (tmp_path / "ragged.csv").write_text("a,1,2,3,4\nb,1,,3,\n")
    series, labels = read_series_file(tmp_path / "ragged.csv")
    assert [s.shape for s in series] == [(1, 4), (1, 3)] and list(labels) == ["a", "b"]
    X, _ = load_dataset(tmp_path / "ragged.csv")  # padded to the longest, the gap filled
    np.testing.assert_array_equal(X[1, 0], [1, 2, 3, 0])


def test_a_ucr_tsv_is_still_read_as_one(tmp_path):
    (tmp_path / "Toy_TRAIN.tsv").write_text("1\t0.5\t0.25\n2\t1.0\tNaN\n")
    series, labels = read_series_file(tmp_path / "Toy_TRAIN.tsv")
    assert list(labels) == ["1", "2"] and [s.shape for s in series] == [(1, 2), (1, 1)]


def test_load_files_gives_train_and_test_one_length(tmp_path, waves):
    X, y = waves
    _frame(X, y).to_csv(tmp_path / "train.csv", index=False)
    np.savez(tmp_path / "test.npz", X=X[:, :40], y=y)
    X_train, y_train, X_test, y_test = load_files(tmp_path / "train.csv", tmp_path / "test.npz")
    assert X_train.shape == X_test.shape == (12, 1, 50)  # the shorter test padded
    assert list(y_test) == list(y)
    X_only, _, none, no_labels = load_files(tmp_path / "train.csv")
    assert X_only.shape == (12, 1, 50) and none is None and no_labels is None
