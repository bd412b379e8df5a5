"""Read one UCR ``.tsv`` or UEA/tsml ``.ts`` file, refusing damaged or inconsistent ones.

Parsing is aeon's (``load_from_tsv_file``, ``load_from_ts_file``); what is here checks the
file against itself first, because a damaged file that parses is worse than one that does
not: a ``.tsv`` row cut short would be padded and trained on without a word.

* ``.tsv``: every line has the same number of tab-separated fields (the official files pad
  shorter series with ``NaN`` fields, so a line with fewer fields is a cut or damaged line),
  and no value is infinite.
* ``.ts``: the header's ``@dimensions``, ``@equalLength`` and ``@seriesLength`` agree with
  the data.

Every refusal is a :class:`DatasetFileError` naming the file, the split and the line.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from aeon.datasets import load_from_ts_file, load_from_tsv_file

from .preprocess import trim_trailing_nan

__all__ = ["DatasetFileError", "read_split_file"]

Series = np.ndarray | list[np.ndarray]

_SPLIT_IN_NAME = re.compile(r"_(train|test)\.(tsv|ts)$", re.IGNORECASE)


class DatasetFileError(ValueError):
    """A dataset file that cannot be read or disagrees with itself.

    The message names the file, its split and, where it applies, the line, and says what
    to do about it.
    """


def _describe(path: Path) -> str:
    match = _SPLIT_IN_NAME.search(path.name)
    split = f" ({match[1].upper()} split)" if match else ""
    return f"dataset file {str(path)!r}{split}"


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise DatasetFileError(
            f"{_describe(path)} is not UTF-8 text (byte {err.start}): it is damaged or not a "
            "dataset file"
        ) from err
    except OSError as err:
        raise DatasetFileError(f"could not read {_describe(path)}: {err}") from err


def _check_tsv_fields(path: Path, lines: list[str]) -> list[int]:
    """The file's data lines (1-based numbers); raise if their field counts differ."""
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise DatasetFileError(f"{_describe(path)} holds no series")
    counts = [line.count("\t") + 1 for _, line in numbered]
    expected, _ = Counter(counts).most_common(1)[0]
    for (number, _), count in zip(numbered, counts, strict=True):
        if count != expected:
            cut = "fewer" if count < expected else "more"
            raise DatasetFileError(
                f"{_describe(path)}, line {number}: {count} tab-separated fields, {cut} than "
                f"the {expected} of the other lines; the line is cut short or damaged (the "
                "UCR files pad shorter series with NaN fields, so every line has the same "
                "number). Restore the file, e.g. download the dataset again."
            )
    return [number for number, _ in numbered]


def _read_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    line_numbers = _check_tsv_fields(path, _lines(path))
    try:
        X, _ = load_from_tsv_file(str(path))
        X = np.asarray(X, dtype=np.float64)
    except (ValueError, OSError) as err:
        raise DatasetFileError(
            f"could not parse {_describe(path)}: {err}; every field after the label must "
            "be a number (NaN for a missing value)"
        ) from err
    # Read the labels again as text: pandas turns "01" or "1.0" into numbers.
    labels = pd.read_csv(
        path, sep="\t", header=None, usecols=[0], dtype=str, keep_default_na=False
    )[0].to_numpy()
    infinite = np.isinf(X)
    if infinite.any():
        case, _, time = np.argwhere(infinite)[0]
        raise DatasetFileError(
            f"{_describe(path)}, line {line_numbers[case]}: an infinite value (time point "
            f"{time}; {int(infinite.sum())} in the file); write missing values as NaN"
        )
    return X, labels


def _ts_header(path: Path, lines: list[str]) -> dict[str, str]:
    """``@key value`` lines before ``@data`` (keys lower-case)."""
    header: dict[str, str] = {}
    for line in lines:
        stripped = line.strip()
        if stripped.lower().startswith("@data"):
            break
        if stripped.startswith("@"):
            key, _, value = stripped[1:].partition(" ")
            header[key.lower()] = value.strip().lower()
    return header


def _check_ts_header(path: Path, header: dict[str, str], X: Series) -> None:
    series = [X[i] for i in range(len(X))]
    channels = {s.shape[0] for s in series}
    lengths = {s.shape[-1] for s in series}

    def refuse(what: str) -> None:
        raise DatasetFileError(f"{_describe(path)}: {what}; correct the header or restore the file")

    def declared(key: str, name: str) -> int:
        try:
            return int(header[key])
        except ValueError:
            refuse(f"@{name} {header[key]!r} is not a number")
            raise  # unreachable: refuse raises

    if "dimensions" in header:
        dimensions = declared("dimensions", "dimensions")
        if channels != {dimensions}:
            refuse(f"@dimensions says {dimensions} but the data has {sorted(channels)} channel(s)")
    if header.get("univariate") == "true" and channels != {1}:
        refuse(f"@univariate true but the data has {sorted(channels)} channels")
    if header.get("equallength") == "true":
        if len(lengths) > 1:
            refuse(f"@equalLength true but the series have lengths {min(lengths)}..{max(lengths)}")
        if "serieslength" in header:
            length = declared("serieslength", "seriesLength")
            if lengths != {length}:
                refuse(f"@seriesLength says {length} but the series have length {lengths.pop()}")


def _read_ts(path: Path) -> tuple[Series, np.ndarray]:
    header = _ts_header(path, _lines(path))
    try:
        X, labels = load_from_ts_file(str(path))
    except (ValueError, OSError, IndexError) as err:
        raise DatasetFileError(f"could not parse {_describe(path)}: {err}") from err
    X = X if isinstance(X, np.ndarray) else list(X)
    if len(labels) == 0:
        raise DatasetFileError(f"{_describe(path)} holds no series")
    _check_ts_header(path, header, X)
    return X, np.asarray(labels, dtype=str)


def read_split_file(path: Path) -> tuple[Series, np.ndarray]:
    """Parse one file into series (an array, or a list if of unequal length) and labels.

    ``.tsv`` series are split off their trailing NaN end padding; in ``.ts`` files, which
    state lengths explicitly, every NaN is a missing value.

    Raises
    ------
    DatasetFileError
        For a file that cannot be read or parsed, or that disagrees with itself (see the
        module docstring).
    """
    if path.suffix.lower() == ".ts":
        return _read_ts(path)
    X, labels = _read_tsv(path)
    labels = np.asarray(labels, dtype=str)
    if not np.isnan(X).any():
        return X, labels
    series = trim_trailing_nan(X)
    if len({s.shape[1] for s in series}) == 1:
        return np.stack(series), labels
    return series, labels
