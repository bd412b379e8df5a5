"""Locate and read UCR/UEA datasets: names, folders, files, the bundled data and the cache.

A dataset ``<Name>`` is a folder ``<Name>/`` holding ``<Name>_TRAIN`` and ``<Name>_TEST``
files, either UCR-2018 ``.tsv`` (label first, then the values) or UEA/tsml ``.ts``; when
both exist the ``.tsv`` file is read. A folder may also hold variants such as
``<Name>_eq_TRAIN.ts``, which load under the name ``<Name>_eq``. Files are read and checked
by :mod:`sparsetsc.data.files`.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from aeon.datasets.tsc_datasets import tsc_zenodo

from .download import archive_name, cache_dir, download_dataset
from .files import DatasetFileError
from .preprocess import (
    MISSING_STRATEGIES,
    UNEQUAL_LENGTH_STRATEGIES,
    MissingStrategy,
    UnequalLengthStrategy,
    _check_strategy,
    equalize_length,
    fill_missing,
)
from .tables import OWN_FILE_SUFFIXES, LabelColumn, read_series_file

__all__ = [
    "DATA_ENV",
    "DatasetFileError",
    "DatasetNotFoundError",
    "archive_datasets",
    "describe_dataset",
    "list_datasets",
    "load_dataset",
    "load_files",
    "load_train_test",
    "locate_dataset",
    "resolve_root",
]

#: Environment variable naming the default data root.
DATA_ENV = "SPARSETSC_DATA"

_BUNDLED_ROOT = Path(__file__).with_name("bundled")
_SPLITS = ("train", "test")
_EXTENSIONS = (".tsv", ".ts")  # in order of preference
_SPLIT_FILE = re.compile(r"^(?P<stem>.+)_(?P<split>train|test)(?P<ext>\.tsv|\.ts)$", re.IGNORECASE)
# Suffixes of the tsml variants (equal length, no missing values) stored beside a dataset.
_VARIANT = re.compile(r"^(?P<base>.+?)(?:_eq|_nmv)+$")

Series = np.ndarray | list[np.ndarray]
# "train" / "test" -> file; "file" -> the one file a path named, if it named a file.
DatasetFiles = dict[str, Path]


class DatasetNotFoundError(ValueError):
    """A dataset name or path that cannot be found locally nor downloaded.

    The message names the dataset, the places searched and, for an unknown name, the
    closest known names.
    """


def resolve_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root searched first for dataset names.

    Parameters
    ----------
    root : path, optional
        An archive folder holding ``<Name>/`` dataset folders, or folders of those (e.g. a
        folder with ``UCRArchive_2018/`` and ``UEAArchive_2018/``).

    Returns
    -------
    pathlib.Path
        ``root`` if given, else ``$SPARSETSC_DATA`` if set, else :func:`cache_dir`.

    Raises
    ------
    FileNotFoundError
        If ``root`` or ``$SPARSETSC_DATA`` is given but is not a folder.
    """
    if root is not None:
        path, source = Path(root).expanduser(), "root"
    elif os.environ.get(DATA_ENV):
        path, source = Path(os.environ[DATA_ENV]).expanduser(), f"${DATA_ENV}"
    else:
        return cache_dir()
    if not path.is_dir():
        raise FileNotFoundError(f"data root {str(path)!r} (from {source}) is not a folder")
    return path


def _search_locations(root: str | os.PathLike[str] | None) -> list[Path]:
    """Where names are looked up, in order: the data root, the bundled data, the cache."""
    locations: list[Path] = []
    for location in (resolve_root(root), _BUNDLED_ROOT, cache_dir()):
        if location.resolve() not in [known.resolve() for known in locations]:
            locations.append(location)
    return locations


def _subfolders(folder: Path) -> list[Path]:
    # Hidden folders are skipped: they include unfinished downloads.
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]


def _datasets_in_folder(folder: Path) -> dict[str, DatasetFiles]:
    """The datasets stored in one dataset folder, by name (the file stem)."""
    folder_name = folder.name.lower()
    try:
        paths = [path for path in folder.iterdir() if path.is_file()]
    except OSError:
        return {}
    matches = [(path, match) for path in paths if (match := _SPLIT_FILE.match(path.name))]
    # .tsv before .ts, so that the preferred format is the one kept when both exist.
    matches.sort(key=lambda pair: (_EXTENSIONS.index(pair[1]["ext"].lower()), pair[0].name))
    datasets: dict[str, DatasetFiles] = {}
    for path, match in matches:
        stem = match["stem"]
        if stem.lower() == folder_name or stem.lower().startswith(folder_name + "_"):
            datasets.setdefault(stem, {}).setdefault(match["split"].lower(), path)
    return datasets


def _index(location: Path) -> dict[str, DatasetFiles]:
    """Every dataset in ``location/<Name>/`` and, one level down, ``location/*/<Name>/``."""
    index: dict[str, DatasetFiles] = {}
    level_one = _subfolders(location)
    level_two = [sub for folder in level_one for sub in _subfolders(folder)]
    for folder in level_one + level_two:  # a direct dataset folder wins over an archive's
        for name, files in _datasets_in_folder(folder).items():
            index.setdefault(name, files)
    return index


def _lookup(name: str, indexes: list[dict[str, DatasetFiles]]) -> DatasetFiles | None:
    """Exact name in any location first, then the name ignoring case."""
    for index in indexes:
        if name in index:
            return index[name]
    for index in indexes:
        for known, files in index.items():
            if known.lower() == name.lower():
                return files
    return None


def _downloadable_name(name: str) -> str | None:
    """The archive dataset that holds ``name`` (itself, or the base of a variant)."""
    known = archive_name(name)
    if known is not None:
        return known
    variant = _VARIANT.match(name)
    return archive_name(variant["base"]) if variant else None


def _not_found(name: str, locations: list[Path], known: list[str], download: bool) -> str:
    where = ", ".join(str(location) for location in locations)
    if _downloadable_name(name) is not None and not download:
        return (
            f"Dataset {name!r} is not available locally (looked in: {where}) and download is "
            f"off; allow downloading (download=True) to fetch it into {cache_dir()}"
        )
    by_lower = {candidate.lower(): candidate for candidate in sorted(known)}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=5, cutoff=0.6)
    suggestion = f" Did you mean: {', '.join(by_lower[c] for c in close)}?" if close else ""
    return (
        f"Unknown dataset {name!r}.{suggestion} It is neither in {where} nor in the UCR/UEA "
        "archive: 'sparsetsc datasets' lists the local ones and 'sparsetsc datasets --all' the "
        "downloadable ones (list_datasets() and archive_datasets() in Python); a file of "
        "your own is given by its path (e.g. ./waves.csv)."
    )


def _locate_name(name: str, root: str | os.PathLike[str] | None, download: bool) -> DatasetFiles:
    locations = _search_locations(root)
    indexes = [_index(location) for location in locations]
    files = _lookup(name, indexes)
    if files is not None:
        return files
    archived = _downloadable_name(name) if download else None
    if archived is not None:
        folder = download_dataset(archived, cache_dir())
        files = _lookup(name, [_datasets_in_folder(folder)])
        if files is not None:
            return files
        raise DatasetNotFoundError(
            f"Dataset {name!r}: the archive's {archived!r} (in {folder}) holds no "
            f"{name}_TRAIN / {name}_TEST files"
        )
    known = {n for index in indexes for n in index} | set(tsc_zenodo)
    raise DatasetNotFoundError(_not_found(name, locations, sorted(known), download))


def _locate_path(path: Path) -> DatasetFiles:
    """The split files of a dataset folder, or of a single file and its sibling split."""
    if path.is_dir():
        datasets = _datasets_in_folder(path)
        files = datasets.get(path.name) or _lookup(path.name, [datasets])
        if files is None:
            raise DatasetNotFoundError(
                f"folder {str(path)!r} holds no {path.name}_TRAIN / {path.name}_TEST file "
                f"(.tsv or .ts); it holds: {sorted(p.name for p in path.iterdir())}"
            )
        return files
    if path.suffix.lower() not in _EXTENSIONS + OWN_FILE_SUFFIXES:
        raise DatasetNotFoundError(
            f"no dataset file or folder at {str(path)!r}: expected a dataset folder, or a "
            f"{', '.join(_EXTENSIONS + OWN_FILE_SUFFIXES)} file"
        )
    if not path.is_file():
        raise DatasetNotFoundError(f"no such dataset file: {str(path)!r}")
    files: DatasetFiles = {"file": path}
    match = _SPLIT_FILE.match(path.name)
    if match is not None:
        siblings = _datasets_in_folder(path.parent).get(match["stem"], {})
        if len(siblings) == len(_SPLITS):
            files.update(siblings)
    return files


def _is_path(name_or_path: str | os.PathLike[str]) -> bool:
    """Whether to treat the argument as a path: path objects, separators, or it exists."""
    if not isinstance(name_or_path, str):
        return True
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in name_or_path for sep in separators) or Path(name_or_path).exists()


def _lengths(series: Series) -> list[int]:
    return [series.shape[-1]] if isinstance(series, np.ndarray) else [s.shape[1] for s in series]


def _finish(
    series: Series,
    unequal_length: UnequalLengthStrategy,
    missing: MissingStrategy,
    length: int | None,
) -> np.ndarray:
    """Fill missing values, then bring every series to one length; float32 out."""
    filled = fill_missing(series, missing)
    if isinstance(filled, np.ndarray) and length in (None, filled.shape[-1]):
        return filled.astype(np.float32, copy=False)
    return equalize_length(filled, unequal_length, length)


def _check_options(
    split: str | None, unequal_length: str, missing: str, length: int | None
) -> None:
    if split is not None and (not isinstance(split, str) or split.lower() not in _SPLITS):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    _check_strategy(unequal_length, UNEQUAL_LENGTH_STRATEGIES, "unequal_length")
    _check_strategy(missing, MISSING_STRATEGIES, "missing")
    is_integer = isinstance(length, (int, np.integer)) and not isinstance(length, bool)
    if length is not None and (not is_integer or length < 1):
        raise ValueError(f"length must be a positive int or None; got {length!r}")


def _locate(
    name_or_path: str | os.PathLike[str], root: str | os.PathLike[str] | None, download: bool
) -> DatasetFiles:
    if _is_path(name_or_path):
        return _locate_path(Path(name_or_path).expanduser())
    return _locate_name(name_or_path, root, download)


def locate_dataset(
    name_or_path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
) -> dict[str, Path]:
    """The files of a dataset by split (``{"train": ..., "test": ...}``) without reading them.

    Raises :class:`DatasetNotFoundError` (a ``ValueError``) naming the places searched, so a
    sweep can check all its datasets before any work.
    """
    return _locate(name_or_path, root, download)


def load_dataset(
    name_or_path: str | os.PathLike[str],
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    *,
    unequal_length: UnequalLengthStrategy = "pad",
    missing: MissingStrategy = "interpolate",
    length: int | None = None,
    download: bool = True,
    label_column: LabelColumn = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load one split of a UCR/UEA dataset, or one file of your own, as ``(X, y)``.

    Parameters
    ----------
    name_or_path : str or path
        A dataset name (``"GunPoint"``), a dataset folder (``/data/GunPoint`` holding
        ``GunPoint_TRAIN.tsv`` or ``.ts``; the file stem is the folder name), or a single
        file, which is read whatever ``split`` says: UCR ``.tsv``, UEA ``.ts``, or a file
        of your own, ``.csv`` / ``.tsv`` / ``.parquet`` tables and ``.npz`` / ``.npy`` arrays
        (layouts: :mod:`sparsetsc.data.tables`). It is taken as a path if it contains a
        path separator or exists on disk.
    split : {"train", "test"}, default="train"
        Which split to load (case-insensitive).
    root : path, optional
        Data root for names (see :func:`resolve_root`). A name is looked up in
        ``root/<Name>/`` and ``root/*/<Name>/``, then in the data bundled with the package,
        then in the cache (:func:`cache_dir`), and finally downloaded into the cache. Names
        match exactly first, then ignoring case.
    unequal_length : {"pad", "resample", "truncate", "error"}, default="pad"
        How series of different lengths get one length; see
        :func:`~sparsetsc.data.equalize_length`. Use :func:`load_train_test` to give train
        and test the same length.
    missing : {"interpolate", "zero", "error"}, default="interpolate"
        How missing values (NaN) are filled; see :func:`~sparsetsc.data.fill_missing`.
    length : int, optional
        Bring every series to this length with ``unequal_length``, even when the dataset
        is of equal length.
    download : bool, default=True
        Download a dataset of the archive that is not found locally. The record API URL is
        ``$SPARSETSC_ARCHIVE_URL`` if set (see :func:`~sparsetsc.data.download_dataset`).
    label_column : int, str or None, default=0
        For a table of your own: the label column by 0-based index or header name, or
        ``None`` for unlabelled series (then ``y`` is ``None``).

    Returns
    -------
    X : np.ndarray
        float32, ``(n_cases, n_channels, n_timepoints)``. Series are split off their
        trailing NaN end padding (``.tsv``), missing values are filled, then lengths are
        equalised. Equal-length data without NaN is returned as parsed, cast to float32.
    y : np.ndarray or None
        1-D array of the labels as the strings written in the file (not encoded); ``None``
        with ``label_column=None``.

    Raises
    ------
    DatasetNotFoundError
        If the dataset cannot be found nor downloaded; the message suggests close names.
    DatasetFileError
        For a file that cannot be parsed or disagrees with itself (a ``.tsv`` line with
        fewer fields than the others, an infinite value, a ``.ts`` header that contradicts
        the data); a ``ValueError``.
    ValueError
        For an invalid ``split``, ``unequal_length``, ``missing`` or ``length``, or data the
        chosen strategies refuse.
    FileNotFoundError
        If ``root`` or ``$SPARSETSC_DATA`` is not a folder.
    DownloadError
        If a download fails.
    """
    _check_options(split, unequal_length, missing, length)
    files = _locate(name_or_path, root, download)
    path = files.get("file") or files.get(split.lower())
    if path is None:
        raise DatasetNotFoundError(
            f"dataset {str(name_or_path)!r} has no {split.upper()} file (found: "
            f"{sorted(str(p) for p in files.values())})"
        )
    series, y = _read(path, label_column)
    return _finish(series, unequal_length, missing, length), y


def _read(path: Path, label_column: LabelColumn) -> tuple[Series, np.ndarray | None]:
    series, y = read_series_file(path, label_column)
    if y is None and label_column is not None:
        raise DatasetFileError(
            f"file {str(path)!r} holds no labels; save X and y together (np.savez(path, X=X, "
            "y=y)) or use a table with a label column"
        )
    return series, y


def load_train_test(
    name_or_path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    *,
    unequal_length: UnequalLengthStrategy = "pad",
    missing: MissingStrategy = "interpolate",
    length: int | None = None,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load both splits of a dataset, brought to the same length.

    Takes the arguments of :func:`load_dataset` (without ``split``). A path to a single
    ``<Name>_TRAIN`` or ``<Name>_TEST`` file is paired with the other split beside it.
    Without ``length``, the common length is the longest series of either split for
    ``"pad"`` and ``"resample"`` and the shortest for ``"truncate"``, so that train and test
    shapes agree.

    Returns
    -------
    X_train, y_train, X_test, y_test : np.ndarray
        As returned by :func:`load_dataset`; ``X_train.shape[1:] == X_test.shape[1:]``.

    Raises
    ------
    ValueError
        As :func:`load_dataset`; also if the splits differ in their number of channels,
        or for ``unequal_length="error"`` when their lengths differ.
    """
    _check_options(None, unequal_length, missing, length)
    files = _locate(name_or_path, root, download)
    missing_splits = [split.upper() for split in _SPLITS if split not in files]
    if missing_splits:
        raise DatasetNotFoundError(
            f"dataset {str(name_or_path)!r} has no {' / '.join(missing_splits)} file; "
            f"load_train_test needs both splits (found: "
            f"{sorted(str(p) for p in files.values())})"
        )
    series_train, y_train = _read(files["train"], 0)
    series_test, y_test = _read(files["test"], 0)
    X_train, X_test = _common_shape(series_train, series_test, unequal_length, missing, length)
    return X_train, y_train, X_test, y_test


def load_files(
    train: str | os.PathLike[str],
    test: str | os.PathLike[str] | None = None,
    *,
    label_column: LabelColumn = 0,
    unequal_length: UnequalLengthStrategy = "pad",
    missing: MissingStrategy = "interpolate",
    length: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Load a training file of your own and, optionally, a test file, at one length.

    Each file is any format :func:`load_dataset` reads from a path (layouts:
    :mod:`sparsetsc.data.tables`), both with labels in ``label_column``. The options are
    those of :func:`load_train_test`.

    Returns
    -------
    X_train, y_train, X_test, y_test : np.ndarray
        As :func:`load_train_test`; ``X_test`` and ``y_test`` are ``None`` without ``test``.
    """
    _check_options(None, unequal_length, missing, length)
    paths = [Path(train).expanduser()] + ([Path(test).expanduser()] if test is not None else [])
    loaded = [_read(_own_file(path), label_column) for path in paths]
    if len(loaded) == 1:
        ((series_train, y_train),) = loaded
        return _finish(series_train, unequal_length, missing, length), y_train, None, None
    (series_train, y_train), (series_test, y_test) = loaded
    X_train, X_test = _common_shape(series_train, series_test, unequal_length, missing, length)
    return X_train, y_train, X_test, y_test


def _own_file(path: Path) -> Path:
    if path.is_dir():
        raise DatasetNotFoundError(
            f"{str(path)!r} is a folder; give a file here (a dataset folder is read by name "
            "or path with load_train_test, --dataset on the command line)"
        )
    return _locate_path(path)["file"]


def _common_shape(
    series_train: Series,
    series_test: Series,
    unequal_length: UnequalLengthStrategy,
    missing: MissingStrategy,
    length: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Both splits filled and brought to one length; their channel counts must agree."""
    lengths = _lengths(series_train) + _lengths(series_test)
    common = length
    if common is None and min(lengths) != max(lengths):
        if unequal_length == "error":
            raise ValueError(
                f"series have unequal lengths: min {min(lengths)}, max {max(lengths)} over "
                "train and test; use unequal_length='pad', 'resample' or 'truncate'"
            )
        common = min(lengths) if unequal_length == "truncate" else max(lengths)
    X_train = _finish(series_train, unequal_length, missing, common)
    X_test = _finish(series_test, unequal_length, missing, common)
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(
            f"train and test have different numbers of channels: {X_train.shape[1]} and "
            f"{X_test.shape[1]}"
        )
    return X_train, X_test


def list_datasets(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the datasets available without downloading.

    Parameters
    ----------
    root : path, optional
        Data root (see :func:`resolve_root`); searched with one level of archive folders.

    Returns
    -------
    list of str
        Sorted (ignoring case) names found in the data root, the bundled data and the
        cache, including variants such as ``JapaneseVowels_eq``.
    """
    names = {name for location in _search_locations(root) for name in _index(location)}
    return sorted(names, key=lambda name: (name.lower(), name))


def describe_dataset(
    name_or_path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Size and shape of a local dataset, read from its files (nothing is downloaded).

    Returns
    -------
    dict
        ``name``, ``n_train`` and ``n_test`` (cases; ``None`` for a missing split),
        ``n_channels``, ``min_length`` and ``max_length`` (time points, over both splits)
        and ``n_classes`` (distinct labels over both splits).
    """
    files = _locate(name_or_path, root, download=False)
    splits = {split: files.get(split) for split in _SPLITS}
    if not any(splits.values()):
        splits["train"] = files["file"]
    info: dict[str, Any] = {"name": str(name_or_path)}
    lengths: list[int] = []
    channels: set[int] = set()
    classes: set[str] = set()
    for split, path in splits.items():
        info[f"n_{split}"] = None
        if path is None:
            continue
        series, y = _read(path, 0)
        info[f"n_{split}"] = len(y)
        lengths += _lengths(series)
        channels |= {s.shape[0] for s in series}
        classes |= set(y.tolist())
    return info | {
        "n_channels": max(channels),
        "min_length": min(lengths),
        "max_length": max(lengths),
        "n_classes": len(classes),
    }


def archive_datasets() -> list[str]:
    """Names of the classification datasets the archive download knows (aeon's list).

    Returns
    -------
    list of str
        Sorted (ignoring case) keys of ``aeon.datasets.tsc_datasets.tsc_zenodo``.
    """
    return sorted(tsc_zenodo, key=lambda name: (name.lower(), name))
