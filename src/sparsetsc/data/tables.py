"""Read your own data: CSV / TSV tables, NumPy ``.npz`` / ``.npy`` and Parquet files.

Layouts
-------
Table: ``.csv``, ``.tsv`` (a UCR ``.tsv``, label first and no header, is read as one),
``.parquet``
    **Univariate: one row per series.** One column holds the class label: the first by
    default, another by name or 0-based index (``label_column``), or none at all
    (``label_column=None``, unlabelled series). Every other column is one time point, in
    order. The first row is a header when one of its time-point fields is not a number, or
    when they number the columns from 0 or 1 (as pandas writes a frame's column names); a
    Parquet file always has one. A header column without a name (a row index written by
    pandas' ``to_csv`` without ``index=False``) is refused. An empty field or ``NaN`` is a
    missing value; missing values at the end of a row shorten that series, as in the UCR
    files, so series may differ in length.

    **Multivariate: one row per case and channel.** The header names a ``case`` column and
    a ``channel`` column besides the label column (by default the first other column),
    then the time points. The rows of one case hold its channels, in the order the
    channels first appear in the file; every case has the same channels, and a case's rows
    repeat the same label.

    The long format (one row per value: case, channel, time, value) is refused, with the
    pandas call that pivots it into the layout above.

NumPy
    ``.npz`` holding an array ``X``, ``(n_cases, n_timepoints)`` or ``(n_cases, n_channels,
    n_timepoints)``, and the labels ``y`` (optional for unlabelled series), as written by
    ``np.savez(path, X=X, y=y)``. A ``.npy`` file holds ``X`` alone: unlabelled series.

Every refusal is a :class:`~sparsetsc.data.DatasetFileError` in one line naming the file,
the row and the fix.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from .files import DatasetFileError, read_split_file
from .preprocess import trim_trailing_nan

__all__ = ["OWN_FILE_SUFFIXES", "LabelColumn", "read_series_file"]

#: File suffixes read by :func:`read_series_file` besides the UCR ``.tsv`` and UEA ``.ts``.
OWN_FILE_SUFFIXES = (".csv", ".npz", ".npy", ".parquet", ".pq")

#: A label column by 0-based index or header name; ``None`` for unlabelled series.
LabelColumn = int | str | None

Series = np.ndarray | list[np.ndarray]
_LONG_FORMAT_TIME = {"time", "timepoint", "timestamp", "t", "step"}
_MISSING = {"", "nan", "na", "null", "none"}


def read_series_file(path: Path, label_column: LabelColumn = 0) -> tuple[Series, np.ndarray | None]:
    """Series (an array, or a list if of unequal length) and labels (``None`` if unlabelled).

    Reads every format of the module docstring, and UCR ``.tsv`` / UEA ``.ts`` files through
    :func:`~sparsetsc.data.files.read_split_file`.

    Raises
    ------
    DatasetFileError
        For a file that cannot be read, or whose rows, values or label column are wrong.
    ImportError
        For a Parquet file without pyarrow installed.
    """
    suffix = path.suffix.lower()
    if suffix == ".ts":
        series, labels = read_split_file(path)
        return series, (None if label_column is None else labels)
    if suffix in (".npz", ".npy"):
        return _read_numpy(path)
    if suffix in (".parquet", ".pq"):
        header, rows = _parquet_rows(path)
        locations = [f"row {number}" for number in range(1, len(rows) + 1)]
        return _from_rows(path, header, rows, label_column, locations)
    if suffix == ".tsv" and label_column == 0 and _is_ucr_tsv(path):
        return read_split_file(path)  # the UCR layout: aeon's parser and its checks
    text = _text(path)
    delimiter = "\t" if suffix == ".tsv" else ","
    numbered = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1)
        if any(field.strip() for field in row)
    ]
    if not numbered:
        raise DatasetFileError(f"{_name(path)} holds no series")
    _check_ragged(path, numbered)
    first_row = numbered[0][1]
    has_header = isinstance(label_column, str) or _looks_like_header(
        first_row, _label_index(path, first_row, label_column, header=None)
    )
    header = first_row if has_header else None
    body = numbered[1:] if has_header else numbered
    if not body:
        raise DatasetFileError(f"{_name(path)} holds a header but no series")
    locations = [f"line {number}" for number, _ in body]
    return _from_rows(path, header, [row for _, row in body], label_column, locations)


def _is_ucr_tsv(path: Path) -> bool:
    """Whether a ``.tsv`` file starts without a header, as the UCR files do (its first line
    is enough: the archives' files are large, and read_split_file checks every line)."""
    try:
        with path.open(encoding="utf-8-sig") as lines:
            first = next((line for line in lines if line.strip()), "")
    except (OSError, UnicodeDecodeError):
        return True  # read_split_file says what is wrong with it
    fields = first.rstrip("\r\n").split("\t")
    # a header names its label column; a UCR line with text among its values is a damaged
    # line, which read_split_file reports as such
    named = not _is_number(fields[0]) and _looks_like_header(fields, 0)
    return not (named or _numbers_the_columns(fields[1:]))


def _looks_like_header(first_row: list[str], label_index: int | None) -> bool:
    # A header has a field that is not a number, or numbers the columns 0, 1, 2, ... (as
    # pandas' to_csv writes a frame of X), which no series is.
    fields = [field for i, field in enumerate(first_row) if i != label_index]
    return any(not _is_number(field) for field in fields) or _numbers_the_columns(fields)


def _numbers_the_columns(fields: list[str]) -> bool:
    try:
        numbers = [float(field) for field in fields]
    except ValueError:
        return False
    counting = numbers == [numbers[0] + i for i in range(len(numbers))]
    return len(numbers) >= 8 and numbers[0] in (0, 1) and counting


# ---------------------------------------------------------------------- reading files
def _name(path: Path) -> str:
    return f"file {str(path)!r}"


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: a BOM from a spreadsheet export
    except UnicodeDecodeError as err:
        raise DatasetFileError(
            f"{_name(path)} is not UTF-8 text (byte {err.start}); save it as UTF-8 CSV"
        ) from err
    except OSError as err:
        raise DatasetFileError(f"could not read {_name(path)}: {err}") from err


def _parquet_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except ImportError as err:
        raise ImportError(
            f"reading the Parquet file {str(path)!r} needs pyarrow: pip install "
            "'sparsetsc[parquet]' (or pyarrow)"
        ) from err
    except (OSError, ValueError) as err:
        raise DatasetFileError(f"could not read {_name(path)} as Parquet: {err}") from err
    if frame.empty:
        raise DatasetFileError(f"{_name(path)} holds no series")
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return [str(column) for column in frame.columns], rows


def _read_numpy(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DatasetFileError(
            f"could not read {_name(path)} as NumPy data: {err}; write it with "
            "np.savez(path, X=X, y=y) (or np.save(path, X) for unlabelled series)"
        ) from err
    if isinstance(loaded, np.ndarray):
        X, y = loaded, None
    else:
        with loaded:
            if "X" not in loaded.files:
                raise DatasetFileError(
                    f"{_name(path)} holds the arrays {sorted(loaded.files)} but no 'X'; write "
                    "it with np.savez(path, X=X, y=y)"
                )
            X, y = loaded["X"], (loaded["y"] if "y" in loaded.files else None)
    if X.dtype.kind not in "iuf" or X.ndim not in (2, 3):
        raise DatasetFileError(
            f"{_name(path)}: X is a {X.ndim}-D array of {X.dtype}; it must hold numbers, "
            "shaped (n_cases, n_timepoints) or (n_cases, n_channels, n_timepoints)"
        )
    X = X.astype(np.float64).reshape(X.shape[0], -1, X.shape[-1])
    if y is not None:
        y = np.asarray(y).astype(str)
        if y.shape != (X.shape[0],):
            raise DatasetFileError(
                f"{_name(path)}: y has shape {y.shape} but X holds {X.shape[0]} series; y "
                "must hold one label per series"
            )
    _check_finite(path, X, [f"case {i}" for i in range(len(X))])
    return _trimmed(X), y


# ---------------------------------------------------------------------- tables
def _check_ragged(path: Path, numbered: list[tuple[int, list[str]]]) -> None:
    expected = len(numbered[0][1])
    for number, row in numbered:
        if len(row) != expected:
            cut = "fewer" if len(row) < expected else "more"
            raise DatasetFileError(
                f"{_name(path)}, line {number}: {len(row)} fields, {cut} than the "
                f"{expected} of line {numbered[0][0]}; every row needs one field per column "
                "(leave a field empty, or write NaN, for a missing value)"
            )


def _is_number(field: Any) -> bool:
    if field is None:
        return True
    text = str(field).strip()
    if text.lower() in _MISSING:
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _label_index(
    path: Path, first_row: list[Any], label_column: LabelColumn, header: list[str] | None
) -> int | None:
    """The label column's index; a name is looked up in ``header`` (or the first row)."""
    n_columns = len(first_row)
    if label_column is None:
        return None
    if isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool):
        index = int(label_column)
        if not -n_columns <= index < n_columns:
            raise DatasetFileError(
                f"{_name(path)} has {n_columns} columns, so it has no label column {index} "
                f"(0-based); give the label column by index 0 to {n_columns - 1} or by name"
            )
        return index % n_columns
    names = [str(name).strip() for name in (header or first_row)]
    if label_column not in names:
        raise DatasetFileError(
            f"{_name(path)} has no column named {label_column!r}; its header is "
            f"{', '.join(names[:8])}{', ...' if len(names) > 8 else ''} (the label column is "
            "given by header name or 0-based index)"
        )
    return names.index(label_column)


def _from_rows(
    path: Path,
    header: list[str] | None,
    rows: list[list[Any]],
    label_column: LabelColumn,
    locations: list[str],
) -> tuple[Series, np.ndarray | None]:
    """Series and labels from a table's rows (strings, or Parquet values)."""
    names = [str(name).strip().lower() for name in header] if header else []
    _refuse_long_format(path, names)
    unnamed = [i for i, name in enumerate(names) if name in ("", "unnamed: 0")]
    if unnamed:
        raise DatasetFileError(
            f"{_name(path)}: column {unnamed[0]} has no name in the header; a row index "
            "(pandas writes one unless to_csv(..., index=False)) is not a time point: drop "
            "it, or name it and give the label column"
        )
    id_columns = {name: names.index(name) for name in ("case", "channel") if name in names}
    if id_columns and label_column == 0:  # the default: the first column that is not an id
        label_column = min(set(range(len(names))) - set(id_columns.values()))
    label_index = _label_index(path, rows[0], label_column, header)
    if len(id_columns) == 1:
        missing = ({"case", "channel"} - set(id_columns)).pop()
        raise DatasetFileError(
            f"{_name(path)} has a {next(iter(id_columns))!r} column but no {missing!r} column; "
            "a multivariate table has one row per case and channel, with both columns"
        )
    skipped = {label_index, *id_columns.values()} - {None}
    value_columns = [i for i in range(len(rows[0])) if i not in skipped]
    if not value_columns:
        raise DatasetFileError(f"{_name(path)} has no time-point columns besides its labels")
    values = _values(path, rows, value_columns, header, locations)
    _check_finite(path, values[:, np.newaxis, :], locations)
    labels = None
    if label_index is not None:
        labels = np.array(
            ["" if r[label_index] is None else str(r[label_index]).strip() for r in rows]
        )
        empty = np.flatnonzero(labels == "")
        if empty.size:
            raise DatasetFileError(
                f"{_name(path)}, {locations[empty[0]]}: no label in the label column "
                f"({_column_name(header, label_index)}); label every series, or choose the "
                "label column with --label-column / label_column"
            )
    if not id_columns:
        return _trimmed(values[:, np.newaxis, :]), labels
    return _multivariate(path, rows, values, labels, id_columns, locations)


def _column_name(header: list[str] | None, index: int) -> str:
    return f"column {index}" + (f" {str(header[index]).strip()!r}" if header else "")


def _refuse_long_format(path: Path, names: list[str]) -> None:
    if "value" in names and _LONG_FORMAT_TIME & set(names):
        time = sorted(_LONG_FORMAT_TIME & set(names))[0]
        raise DatasetFileError(
            f"{_name(path)} is in long format (one row per value, with {time!r} and 'value' "
            "columns), which is not read: give one row per case and channel, the time points "
            "as columns, e.g. df.pivot_table(index=['case', 'channel', 'label'], "
            f"columns='{time}', values='value').reset_index()"
        )


def _values(
    path: Path,
    rows: list[list[Any]],
    columns: list[int],
    header: list[str] | None,
    locations: list[str],
) -> np.ndarray:
    cells = [
        [
            "nan" if v is None or str(v).strip().lower() in _MISSING else v
            for v in (r[i] for i in columns)
        ]
        for r in rows
    ]
    try:
        return np.array(cells, dtype=np.float64)
    except (ValueError, TypeError):
        pass
    for location, row in zip(locations, cells, strict=True):
        for column, value in zip(columns, row, strict=True):
            if not _is_number(value):
                raise DatasetFileError(
                    f"{_name(path)}, {location}, {_column_name(header, column)}: {str(value)!r} "
                    "is not a number; every column but the label column (and case / channel) "
                    "must hold numbers, empty or NaN for a missing value (choose the label "
                    "column with --label-column / label_column)"
                )
    raise AssertionError("unreachable: a value that numpy refused was not found")


def _check_finite(path: Path, X: np.ndarray, locations: list[str]) -> None:
    infinite = np.isinf(X)
    if infinite.any():
        case, _, time = np.argwhere(infinite)[0]
        raise DatasetFileError(
            f"{_name(path)}, {locations[case]}: an infinite value (time point {time}); write "
            "missing values as NaN or leave them empty"
        )


def _trimmed(X: np.ndarray) -> Series:
    """Split off trailing missing values; one array again if the lengths agree."""
    if not np.isnan(X).any():
        return X
    series = trim_trailing_nan(X)
    return np.stack(series) if len({s.shape[1] for s in series}) == 1 else series


def _multivariate(
    path: Path,
    rows: list[list[Any]],
    values: np.ndarray,
    labels: np.ndarray | None,
    id_columns: dict[str, int],
    locations: list[str],
) -> tuple[Series, np.ndarray | None]:
    cases: dict[str, dict[str, int]] = {}  # case -> channel -> row index
    for row_index, row in enumerate(rows):
        case, channel = (str(row[id_columns[key]]).strip() for key in ("case", "channel"))
        channels = cases.setdefault(case, {})
        if channel in channels:
            raise DatasetFileError(
                f"{_name(path)}, {locations[row_index]}: case {case!r} has channel {channel!r} "
                f"twice (first at {locations[channels[channel]]}); give each channel of a case "
                "one row"
            )
        channels[channel] = row_index
    order = list(next(iter(cases.values())))
    series = []
    for case, channels in cases.items():
        if set(channels) != set(order):
            first = locations[next(iter(channels.values()))]
            raise DatasetFileError(
                f"{_name(path)}, {first}: case {case!r} has the channels {sorted(channels)}, "
                f"the first case {sorted(order)}; every case needs one row per channel"
            )
        indices = [channels[channel] for channel in order]
        if labels is not None and len(set(labels[indices])) > 1:
            raise DatasetFileError(
                f"{_name(path)}, {locations[indices[0]]}: the rows of case {case!r} carry "
                f"different labels {sorted(set(labels[indices]))}; a case has one label"
            )
        series.append(values[indices])
    case_labels = None
    if labels is not None:
        case_labels = np.array([labels[next(iter(ch.values()))] for ch in cases.values()])
    return _trimmed(np.stack(series)), case_labels
