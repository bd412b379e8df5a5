"""Damaged and self-contradicting dataset files: one DatasetFileError naming file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsetsc.data import DatasetFileError, load_dataset, load_train_test

GOOD_ROWS = ["1\t0.5\t1.5\t-0.5\t2.0", "2\t1.0\t-1.0\t0.0\t0.25", "1\t3.0\t2.0\t1.0\t0.0"]


def _dataset(folder: Path, train_rows: list[str], test_rows: list[str] = GOOD_ROWS) -> Path:
    folder.mkdir(parents=True)
    (folder / f"{folder.name}_TRAIN.tsv").write_text("\n".join(train_rows) + "\n")
    (folder / f"{folder.name}_TEST.tsv").write_text("\n".join(test_rows) + "\n")
    return folder


def test_a_row_cut_short_names_the_file_and_line(tmp_path: Path) -> None:
    cut = [GOOD_ROWS[0], "2\t1.0\t-1.", GOOD_ROWS[2]]  # the second line cut mid-number
    folder = _dataset(tmp_path / "Cut", cut)
    with pytest.raises(DatasetFileError, match=r"Cut_TRAIN\.tsv.*TRAIN split.*line 2: 3 .*fewer"):
        load_train_test(str(folder))
    with pytest.raises(DatasetFileError, match="line 2"):
        load_dataset(str(folder), split="train")
    load_dataset(str(folder), split="test")  # the undamaged split still loads


def test_a_row_with_extra_fields_is_refused(tmp_path: Path) -> None:
    folder = _dataset(tmp_path / "Long", GOOD_ROWS, [*GOOD_ROWS, "2\t1\t2\t3\t4\t5"])
    with pytest.raises(DatasetFileError, match=r"Long_TEST\.tsv.*TEST split.*line 4: 6 .*more"):
        load_train_test(str(folder))


def test_nan_padded_unequal_lengths_still_load(tmp_path: Path) -> None:
    rows = ["1\t0.5\t1.5\t-0.5\t2.0", "2\t1.0\t-1.0\tNaN\tNaN", "1\t3.0\t2.0\t1.0\tNaN"]
    folder = _dataset(tmp_path / "Padded", rows)
    X, y = load_dataset(str(folder), unequal_length="truncate", length=2)
    assert X.shape == (3, 1, 2) and y.tolist() == ["1", "2", "1"]
    with pytest.raises(ValueError, match="unequal"):
        load_train_test(str(folder), unequal_length="error")


def test_an_infinite_value_names_the_file_split_and_line(tmp_path: Path) -> None:
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], "1\t3.0\tinf\t1.0\t0.0"]
    folder = _dataset(tmp_path / "Inf", GOOD_ROWS, rows)
    with pytest.raises(DatasetFileError, match=r"Inf_TEST\.tsv.*TEST split.*line 3.*infinite"):
        load_train_test(str(folder))


def _ts(path: Path, header: str, data: str) -> Path:
    path.write_text(f"@problemName Toy\n{header}@classLabel true a b\n@data\n{data}")
    return path


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        (
            "@univariate false\n@dimensions 3\n@equalLength true\n",
            "1,2:3,4:a\n5,6:7,8:b\n",
            "@dimensions says 3 but the data has \\[2\\] channel",
        ),
        (
            "@univariate true\n@equalLength true\n",
            "1,2,3:a\n4,5:b\n",
            "equal length",
        ),
        (
            "@univariate true\n@equalLength true\n@seriesLength 4\n",
            "1,2,3:a\n4,5,6:b\n",
            "@seriesLength says 4 but the series have length 3",
        ),
        (
            "@univariate true\n@dimensions 2\n@equalLength true\n",
            "1,2:a\n3,4:b\n",
            "@dimensions says 2",
        ),
    ],
)
def test_a_ts_header_that_contradicts_its_data_is_refused(
    tmp_path: Path, header: str, data: str, message: str
) -> None:
    path = _ts(tmp_path / "Toy_TRAIN.ts", header, data)
    with pytest.raises(DatasetFileError, match=message) as caught:
        load_dataset(str(path))
    assert "Toy_TRAIN.ts" in str(caught.value) and "TRAIN split" in str(caught.value)


def test_a_consistent_ts_file_loads(tmp_path: Path) -> None:
    header = "@univariate false\n@dimensions 2\n@equalLength true\n@seriesLength 2\n"
    path = _ts(tmp_path / "Toy_TRAIN.ts", header, "1,2:3,4:a\n5,6:7,8:b\n")
    X, y = load_dataset(str(path))
    np.testing.assert_array_equal(X, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    assert y.tolist() == ["a", "b"]
