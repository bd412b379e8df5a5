"""Locating and reading datasets: names, paths, roots, formats, unequal length, errors."""

from __future__ import annotations

import csv
import os
import shutil
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from aeon.datasets import load_from_tsv_file
from aeon.datasets.tsc_datasets import tsc_zenodo

from sparsetsc.data import archive
from sparsetsc.data.archive import (
    DatasetNotFoundError,
    archive_datasets,
    list_datasets,
    load_dataset,
    load_train_test,
    resolve_root,
)
from sparsetsc.data.download import cache_dir

REPO = Path(__file__).resolve().parents[2]
BUNDLED_GUNPOINT = REPO / "src" / "sparsetsc" / "data" / "bundled" / "GunPoint"


def shared_data_root() -> Path | None:
    """The read-only UCR/UEA copy beside the repository (``<repo>/../shared/data``), if any.

    ``$SPARSETSC_TEST_DATA`` points elsewhere.
    """
    candidate = Path(os.environ.get("SPARSETSC_TEST_DATA") or REPO.parent / "shared" / "data")
    return candidate if candidate.is_dir() else None


def ucr_summary() -> list[dict[str, str]]:
    """Rows of the shared archive's DataSummary.csv for the datasets present there."""
    root = shared_data_root()
    summary = root / "UCRArchive_2018" / "DataSummary.csv" if root else None
    if summary is None or not summary.is_file():
        return []
    with open(summary, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if (summary.parent / row["Name"]).is_dir()]


@pytest.fixture
def shared_data() -> Path:
    """The shared archive folder, or skip the test."""
    root = shared_data_root()
    if root is None:
        pytest.skip("the shared UCR/UEA data (../shared/data or $SPARSETSC_TEST_DATA) is absent")
    return root


def write_tsv(path: Path, rows: Sequence[tuple[str, Sequence[float]]], width: int = 0) -> None:
    """Write UCR-style rows, right-padded with NaN to ``width`` columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = max([width] + [len(values) for _, values in rows])
    lines = []
    for label, values in rows:
        fields = [repr(float(v)) for v in values] + ["NaN"] * (width - len(values))
        lines.append("\t".join([label, *fields]))
    path.write_text("\n".join(lines) + "\n")


def make_dataset(
    folder: Path,
    train: Sequence[tuple[str, Sequence[float]]],
    test: Sequence[tuple[str, Sequence[float]]] | None = None,
) -> Path:
    """A ``.tsv`` dataset named after ``folder``."""
    write_tsv(folder / f"{folder.name}_TRAIN.tsv", train)
    write_tsv(folder / f"{folder.name}_TEST.tsv", test if test is not None else train)
    return folder


def toy(folder: Path, n_cases: int) -> Path:
    """A dataset whose number of cases tells which copy was loaded."""
    rows = [(str(i % 2), [float(i), 1.0, 2.0]) for i in range(n_cases)]
    return make_dataset(folder, rows)


# ---------------------------------------------------------------------------- bundled GunPoint
def test_bundled_gunpoint_matches_the_text() -> None:
    X_train, y_train = load_dataset("GunPoint", download=False)
    X_test, y_test = load_dataset("GunPoint", "test", download=False)
    assert X_train.shape == (50, 1, 150) and X_test.shape == (150, 1, 150)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert set(y_train) == {"1", "2"} and set(y_test) == {"1", "2"}
    for X, y, split in ((X_train, y_train, "TRAIN"), (X_test, y_test, "TEST")):
        text = np.loadtxt(BUNDLED_GUNPOINT / f"GunPoint_{split}.tsv", delimiter="\t", dtype=str)
        np.testing.assert_array_equal(y, text[:, 0])
        np.testing.assert_array_equal(X[:, 0, :], text[:, 1:].astype(np.float32))


def test_equal_length_data_is_aeons_parse_cast_to_float32() -> None:
    X, _ = load_dataset("GunPoint", "test", download=False)
    parsed, _ = load_from_tsv_file(str(BUNDLED_GUNPOINT / "GunPoint_TEST.tsv"))
    assert np.array_equal(X, parsed.astype(np.float32))


def test_load_train_test_gunpoint() -> None:
    X_train, y_train, X_test, y_test = load_train_test("GunPoint", download=False)
    assert (X_train.shape, y_train.shape, X_test.shape, y_test.shape) == (
        (50, 1, 150),
        (50,),
        (150, 1, 150),
        (150,),
    )


def test_split_is_case_insensitive_and_checked() -> None:
    X, _ = load_dataset("GunPoint", split="TEST", download=False)
    assert X.shape[0] == 150
    with pytest.raises(ValueError, match="split must be 'train' or 'test'; got 'validation'"):
        load_dataset("GunPoint", split="validation", download=False)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"unequal_length": "stretch"}, "unequal_length must be one of"),
        ({"missing": "drop"}, "missing must be one of"),
        ({"length": 0}, "length must be a positive int"),
        ({"length": 2.5}, "length must be a positive int"),
    ],
)
def test_bad_options_raise_before_reading(option, message) -> None:
    with pytest.raises(ValueError, match=message):
        load_dataset("NoSuchDataset", download=False, **option)


def test_length_option_applies_to_equal_length_data() -> None:
    X, _ = load_dataset("GunPoint", download=False, length=160)
    assert X.shape == (50, 1, 160)
    np.testing.assert_array_equal(X[:, :, 150:], 0.0)
    X, _ = load_dataset("GunPoint", download=False, length=100, unequal_length="resample")
    assert X.shape == (50, 1, 100)


# ---------------------------------------------------------------------------- paths
def test_folder_and_file_paths(tmp_path: Path) -> None:
    folder = tmp_path / "GunPoint"
    shutil.copytree(BUNDLED_GUNPOINT, folder)
    X, _ = load_dataset(str(folder), "test")
    assert X.shape == (150, 1, 150)
    # A single file is read whatever the split says.
    X, _ = load_dataset(folder / "GunPoint_TRAIN.tsv", "test")
    assert X.shape == (50, 1, 150)
    shapes = [a.shape[0] for a in load_train_test(str(folder / "GunPoint_TEST.tsv"))]
    assert shapes == [50, 50, 150, 150]


def test_single_file_without_its_other_split(tmp_path: Path) -> None:
    path = tmp_path / "series.tsv"
    write_tsv(path, [("a", [1.0, 2.0]), ("b", [3.0, 4.0])])
    X, y = load_dataset(str(path))
    assert X.shape == (2, 1, 2) and list(y) == ["a", "b"]
    with pytest.raises(DatasetNotFoundError, match="needs both splits"):
        load_train_test(str(path))


@pytest.mark.parametrize("relative", ["missing/GunPoint", "missing.tsv", "notes.txt"])
def test_bad_paths(tmp_path: Path, relative: str) -> None:
    (tmp_path / "notes.txt").write_text("not a dataset")
    with pytest.raises(DatasetNotFoundError):
        load_dataset(str(tmp_path / relative))


def test_folder_without_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "Empty"
    folder.mkdir()
    (folder / "Other_TRAIN.tsv").write_text("1\t1.0\n")
    with pytest.raises(DatasetNotFoundError, match="Empty_TRAIN"):
        load_dataset(str(folder))


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("empty.tsv", "", "holds no series"),
        ("text.tsv", "1\tabc\t2\n", "could not parse"),
        ("nothing.ts", "@data\n", "holds no series"),
    ],
)
def test_unreadable_files(tmp_path: Path, filename: str, content: str, message: str) -> None:
    (tmp_path / filename).write_text(content)
    with pytest.raises(ValueError, match=message):
        load_dataset(str(tmp_path / filename))


def test_tsv_is_preferred_over_ts(tmp_path: Path) -> None:
    folder = toy(tmp_path / "Both", n_cases=3)
    ts = "@problemName Both\n@univariate true\n@equalLength true\n@classLabel true a\n@data\n"
    for split in ("TRAIN", "TEST"):
        (folder / f"Both_{split}.ts").write_text(ts + "1.0,2.0:a\n")
    X, _ = load_dataset(str(folder))
    assert X.shape == (3, 1, 3)
    (folder / "Both_TRAIN.tsv").unlink()
    X, y = load_dataset(str(folder))
    assert X.shape == (1, 1, 2) and list(y) == ["a"]


def test_labels_are_kept_as_written(tmp_path: Path) -> None:
    rows = [("01", [1.0, 2.0]), ("1.0", [2.0, 3.0]), ("-1", [3.0, 4.0])]
    folder = make_dataset(tmp_path / "Labels", rows)
    _, y = load_dataset(str(folder))
    assert y.tolist() == ["01", "1.0", "-1"]


# ---------------------------------------------------------------------------- unequal length
VARIABLE_TRAIN = [("a", [1.0, 2.0, 3.0]), ("b", [1.0, float("nan"), 3.0, 4.0, 5.0])]
VARIABLE_TEST = [("a", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), ("b", [9.0, 8.0])]


def test_trailing_nan_is_end_padding(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "Var", VARIABLE_TRAIN, VARIABLE_TEST)
    X, y = load_dataset(str(folder))
    assert X.dtype == np.float32 and list(y) == ["a", "b"]
    # The NaN inside is interpolated, the NaN after "3" is padding, replaced by zeros.
    np.testing.assert_array_equal(X[:, 0], [[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]])
    X, _ = load_dataset(str(folder), missing="zero")
    np.testing.assert_array_equal(X[1, 0], [1, 0, 3, 4, 5])
    with pytest.raises(ValueError, match="missing values"):
        load_dataset(str(folder), missing="error")
    with pytest.raises(ValueError, match="min 3, max 5"):
        load_dataset(str(folder), unequal_length="error")
    # Padding alone is not a missing value.
    assert load_dataset(str(folder), "test", missing="error")[0].shape == (2, 1, 6)


def test_load_train_test_common_length(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "Var", VARIABLE_TRAIN, VARIABLE_TEST)
    X_train, _, X_test, _ = load_train_test(str(folder))
    assert X_train.shape == (2, 1, 6) and X_test.shape == (2, 1, 6)
    X_train, _, X_test, _ = load_train_test(str(folder), unequal_length="truncate")
    assert X_train.shape == (2, 1, 2) and X_test.shape == (2, 1, 2)
    X_train, _, X_test, _ = load_train_test(str(folder), unequal_length="resample", length=4)
    np.testing.assert_allclose(X_train[0, 0], [1, 5 / 3, 7 / 3, 3], rtol=1e-6)
    assert X_test.shape == (2, 1, 4)
    with pytest.raises(ValueError, match="min 2, max 6 over train and test"):
        load_train_test(str(folder), unequal_length="error")


def test_error_strategy_when_splits_differ_in_length(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "Split", [("a", [1.0, 2.0])], [("a", [1.0, 2.0, 3.0])])
    with pytest.raises(ValueError, match="min 2, max 3"):
        load_train_test(str(folder), unequal_length="error")


# ---------------------------------------------------------------------------- roots
def test_root_argument_beats_env_beats_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_data_env: Path
) -> None:
    toy(tmp_path / "argument" / "Toy", n_cases=1)
    toy(tmp_path / "env" / "Toy", n_cases=2)
    toy(isolated_data_env / "Toy", n_cases=3)
    assert resolve_root() == cache_dir() == isolated_data_env
    assert load_dataset("Toy", download=False)[0].shape[0] == 3
    monkeypatch.setenv("SPARSETSC_DATA", str(tmp_path / "env"))
    assert resolve_root() == tmp_path / "env"
    assert load_dataset("Toy", download=False)[0].shape[0] == 2
    assert resolve_root(tmp_path / "argument") == tmp_path / "argument"
    assert load_dataset("Toy", root=tmp_path / "argument", download=False)[0].shape[0] == 1


def test_root_must_be_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match="from root"):
        load_dataset("GunPoint", root=tmp_path / "nowhere")
    monkeypatch.setenv("SPARSETSC_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="SPARSETSC_DATA"):
        resolve_root()


def test_search_order_root_bundled_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_data_env: Path
) -> None:
    toy(isolated_data_env / "GunPoint", n_cases=3)
    monkeypatch.setenv("SPARSETSC_DATA", str(tmp_path))
    assert load_dataset("GunPoint", download=False)[0].shape[0] == 50  # bundled before cache
    toy(tmp_path / "GunPoint", n_cases=2)
    assert load_dataset("GunPoint", download=False)[0].shape[0] == 2  # root before bundled


def test_archive_subfolders_and_case(tmp_path: Path) -> None:
    toy(tmp_path / "UCRArchive_2018" / "Toy", n_cases=4)
    assert load_dataset("Toy", root=tmp_path, download=False)[0].shape[0] == 4
    assert load_dataset("toy", root=tmp_path, download=False)[0].shape[0] == 4
    toy(tmp_path / "Toy", n_cases=5)  # a dataset folder right in the root comes first
    assert load_dataset("Toy", root=tmp_path, download=False)[0].shape[0] == 5
    toy(tmp_path / "toy", n_cases=6)  # an exact name beats one that differs in case
    assert load_dataset("toy", root=tmp_path, download=False)[0].shape[0] == 6


def test_list_datasets(tmp_path: Path, isolated_data_env: Path) -> None:
    toy(tmp_path / "Zeta", n_cases=1)
    folder = toy(tmp_path / "Archive" / "alpha", n_cases=1)
    write_tsv(folder / "alpha_eq_TRAIN.tsv", [("a", [1.0])])
    write_tsv(folder / "alpha_eq_TEST.tsv", [("a", [1.0])])
    toy(tmp_path / ".hidden" / "Secret", n_cases=1)
    toy(isolated_data_env / "Cached", n_cases=1)
    assert list_datasets(tmp_path) == ["alpha", "alpha_eq", "Cached", "GunPoint", "Zeta"]
    assert load_dataset("alpha_eq", root=tmp_path, download=False)[0].shape == (1, 1, 1)
    assert list_datasets() == ["Cached", "GunPoint"]


def test_archive_datasets() -> None:
    names = archive_datasets()
    assert len(names) == len(tsc_zenodo)
    assert {"GunPoint", "BasicMotions", "JapaneseVowels"} <= set(names)
    assert names == sorted(names, key=lambda name: (name.lower(), name))


# ---------------------------------------------------------------------------- not found
def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(DatasetNotFoundError) as raised:
        load_dataset("GunPiont", download=False)
    message = str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert "Unknown dataset 'GunPiont'. Did you mean: GunPoint" in message
    assert str(cache_dir()) in message


def test_unknown_name_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(archive, "download_dataset", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(DatasetNotFoundError, match="Unknown dataset 'NoSuchThing'"):
        load_dataset("NoSuchThing", download=True)


def test_archive_name_without_download_says_so() -> None:
    with pytest.raises(DatasetNotFoundError, match="'Coffee' is not available locally.*download"):
        load_dataset("Coffee", download=False)


# ---------------------------------------------------------------------------- shared archive
@pytest.mark.parametrize("row", ucr_summary(), ids=lambda row: row["Name"])
def test_ucr_dataset_loads(shared_data: Path, row: dict[str, str]) -> None:
    X_train, y_train, X_test, y_test = load_train_test(
        row["Name"], root=shared_data, download=False
    )
    assert X_train.shape[0] == len(y_train) == int(row["Train"])
    assert X_test.shape[0] == len(y_test) == int(row["Test"])
    assert X_train.dtype == np.float32 and X_train.shape[1] == 1
    assert not np.isnan(X_train).any() and not np.isnan(X_test).any()
    if row["Length"] != "Vary":
        assert X_train.shape[2] == X_test.shape[2] == int(row["Length"])


def test_uea_basic_motions(shared_data: Path) -> None:
    X, y = load_dataset("BasicMotions", root=shared_data, download=False)
    assert X.shape == (40, 6, 100) and X.dtype == np.float32
    assert set(y) == {"standing", "running", "walking", "badminton"}


def test_uea_japanese_vowels_unequal_length(shared_data: Path) -> None:
    X_train, y_train, X_test, y_test = load_train_test(
        "JapaneseVowels", root=shared_data, download=False
    )
    assert X_train.shape == (270, 12, 29) and X_test.shape == (370, 12, 29)
    assert len(y_train) == 270 and len(y_test) == 370
    assert not np.isnan(X_train).any() and not np.isnan(X_test).any()
    # Padding: a short series ends in zeros.
    first_length = 20
    assert np.all(X_train[0, :, first_length:] == 0) and np.any(X_train[0, :, :first_length])
    X_eq, _, X_eq_test, _ = load_train_test("JapaneseVowels_eq", root=shared_data, download=False)
    assert X_eq.shape[:2] == (270, 12) and X_eq.shape[1:] == X_eq_test.shape[1:]


def test_shared_folder_as_data_root(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSETSC_DATA", str(shared_data))
    names = list_datasets()
    assert {"GunPoint", "BasicMotions", "JapaneseVowels", "JapaneseVowels_eq"} <= set(names)
    X, _ = load_dataset("UWaveGestureLibrary", "test", download=False)
    assert X.ndim == 3 and X.shape[1] == 3
