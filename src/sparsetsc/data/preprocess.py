"""Preprocessing of time-series collections: z-normalisation, missing values, unequal length.

Every function here is pure: it takes numpy arrays, returns new arrays and never modifies
its input. Collections are ``(n_cases, n_channels, n_timepoints)`` arrays or, for series of
unequal length, lists of 2-D ``(n_channels, n_timepoints_i)`` arrays.

Unequal length versus missing values
------------------------------------
A UCR ``.tsv`` file stores variable-length series as rows right-padded with ``NaN``. The
rule that tells the two apart (see :func:`trim_trailing_nan`): ``NaN`` values *after the
last observed value* of a series are end padding, so the series is shorter; ``NaN`` values
*before* that point are missing values. Padding is handled by :func:`equalize_length`,
missing values by :func:`fill_missing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = [
    "MISSING_STRATEGIES",
    "UNEQUAL_LENGTH_STRATEGIES",
    "equalize_length",
    "fill_missing",
    "trim_trailing_nan",
    "znormalize",
]

MissingStrategy = Literal["interpolate", "zero", "error"]
UnequalLengthStrategy = Literal["pad", "resample", "truncate", "error"]

#: Valid values of ``missing`` / the ``strategy`` of :func:`fill_missing`.
MISSING_STRATEGIES: tuple[str, ...] = ("interpolate", "zero", "error")
#: Valid values of ``unequal_length`` / the ``strategy`` of :func:`equalize_length`.
UNEQUAL_LENGTH_STRATEGIES: tuple[str, ...] = ("pad", "resample", "truncate", "error")


def _float_dtype(array: np.ndarray) -> np.dtype:
    # Floating input keeps its precision; anything else becomes the library's float32.
    return array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float32)


def _check_strategy(strategy: str, valid: tuple[str, ...], parameter: str) -> None:
    if strategy not in valid:
        choices = ", ".join(repr(v) for v in valid)
        raise ValueError(f"{parameter} must be one of {choices}; got {strategy!r}")


def znormalize(X: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Z-normalise every series and channel over time: ``(x - mean) / std``.

    Parameters
    ----------
    X : np.ndarray
        ``(n_cases, n_channels, n_timepoints)``, or any array whose last axis is time.
        Values are assumed finite: fill missing values first (:func:`fill_missing`).
    eps : float, default=1e-8
        A series whose standard deviation is below ``eps`` is constant and becomes all
        zeros instead of being divided by (almost) zero.

    Returns
    -------
    np.ndarray
        Same shape as ``X``; mean 0 and standard deviation 1 along the last axis (0 for
        constant series). A floating dtype is kept (float32 stays float32); other dtypes
        become float32. Statistics are computed in float64.
    """
    values = np.asarray(X)
    dtype = _float_dtype(values)
    as64 = values.astype(np.float64)
    mean = as64.mean(axis=-1, keepdims=True)
    std = as64.std(axis=-1, keepdims=True)
    normalized = np.zeros_like(as64)
    np.divide(as64 - mean, std, out=normalized, where=std >= eps)
    return normalized.astype(dtype, copy=False)


def _interpolate_rows(rows: np.ndarray) -> None:
    """Fill the NaN values of each row of a 2-D float array in place."""
    positions = np.arange(rows.shape[1])
    for index in np.flatnonzero(np.isnan(rows).any(axis=1)):
        row = rows[index]  # a view: filled in place
        missing = np.isnan(row)
        observed = ~missing
        if not observed.any():
            row[:] = 0.0
            continue
        # np.interp repeats the first/last observed value outside the observed range,
        # which is the nearest-value rule for leading and trailing gaps.
        row[missing] = np.interp(positions[missing], positions[observed], row[observed])


def _fill_array(values: np.ndarray, strategy: str) -> np.ndarray:
    filled = values.astype(_float_dtype(values), copy=True)
    if strategy == "zero":
        filled[np.isnan(filled)] = 0.0
    elif strategy == "interpolate" and filled.size:
        _interpolate_rows(filled.reshape(-1, filled.shape[-1]))
    return filled


def fill_missing(
    X: np.ndarray | Sequence[np.ndarray], strategy: MissingStrategy = "interpolate"
) -> np.ndarray | list[np.ndarray]:
    """Replace missing values (NaN) in every series and channel.

    Parameters
    ----------
    X : np.ndarray or list of np.ndarray
        An array whose last axis is time, e.g. ``(n_cases, n_channels, n_timepoints)``, or a
        list of 2-D ``(n_channels, n_timepoints_i)`` arrays (series of unequal length).
    strategy : {"interpolate", "zero", "error"}, default="interpolate"
        - ``"interpolate"``: linear interpolation between the neighbouring observed values
          of the same series and channel; a leading or trailing gap takes the nearest
          observed value; a channel with no observed value becomes all zeros.
        - ``"zero"``: every NaN becomes 0 (what the official DSN and OS-CNN code does).
        - ``"error"``: raise ``ValueError`` if there is any NaN.

    Returns
    -------
    np.ndarray or list of np.ndarray
        The same kind and shapes as ``X``, without NaN. A floating dtype is kept; other
        dtypes become float32. Infinite values are left as they are.

    Raises
    ------
    ValueError
        For an unknown ``strategy``, or with ``strategy="error"`` when ``X`` holds NaN.
    """
    _check_strategy(strategy, MISSING_STRATEGIES, "missing")
    is_list = not isinstance(X, np.ndarray)
    collection = [np.asarray(series) for series in X] if is_list else [X]
    if strategy == "error":
        n_missing = sum(int(np.isnan(series).sum()) for series in collection)
        if n_missing:
            raise ValueError(
                f"X contains missing values (NaN): {n_missing} value(s); use "
                "missing='interpolate' or 'zero' to fill them"
            )
    filled = [_fill_array(series, strategy) for series in collection]
    return filled if is_list else filled[0]


def trim_trailing_nan(X: np.ndarray) -> list[np.ndarray]:
    """Split a NaN-padded collection into series of their true lengths.

    The length of a series is one past the last time point at which any of its channels
    is observed (not NaN); the NaN values after it are end padding and are removed. NaN
    values before it are missing values and are kept. A series with no observed value at
    all keeps its full length (it is entirely missing, not empty).

    Parameters
    ----------
    X : np.ndarray
        ``(n_cases, n_channels, n_timepoints)``, as read from a NaN-padded ``.tsv`` file.

    Returns
    -------
    list of np.ndarray
        One ``(n_channels, n_timepoints_i)`` view of ``X`` per case.
    """
    values = np.asarray(X)
    if values.ndim != 3:
        raise ValueError(f"X must be 3-D (n_cases, n_channels, n_timepoints); got {values.shape}")
    observed_at = (~np.isnan(values)).any(axis=1)  # (n_cases, n_timepoints)
    last_observed = values.shape[2] - 1 - np.argmax(observed_at[:, ::-1], axis=1)
    lengths = np.where(observed_at.any(axis=1), last_observed + 1, values.shape[2])
    return [series[:, :length] for series, length in zip(values, lengths, strict=True)]


def _resample(series: np.ndarray, length: int) -> np.ndarray:
    n_timepoints = series.shape[1]
    if n_timepoints == length:
        return series.astype(np.float64)
    if n_timepoints == 1:
        return np.repeat(series.astype(np.float64), length, axis=1)
    # The first and last time points stay where they are; the rest are linear in between.
    new_positions = np.linspace(0, n_timepoints - 1, length)
    old_positions = np.arange(n_timepoints)
    return np.stack([np.interp(new_positions, old_positions, channel) for channel in series])


def equalize_length(
    series_list: Sequence[np.ndarray] | np.ndarray,
    strategy: UnequalLengthStrategy = "pad",
    length: int | None = None,
) -> np.ndarray:
    """Bring series of unequal length to one common length.

    Parameters
    ----------
    series_list : list of np.ndarray or np.ndarray
        2-D ``(n_channels, n_timepoints_i)`` arrays with the same number of channels, or a
        3-D array (whose series then all have the same length).
    strategy : {"pad", "resample", "truncate", "error"}, default="pad"
        - ``"pad"``: right-pad each series with zeros to ``length`` (default: the longest
          series); what the official DSN and OS-CNN code does.
        - ``"resample"``: linear interpolation of each channel onto ``length`` equally
          spaced points (default: the longest length), keeping the first and last values.
        - ``"truncate"``: keep the first ``length`` time points (default: the shortest
          length).
        - ``"error"``: raise ``ValueError`` unless all series already have the same length
          (and that length is ``length``, if given).
    length : int, optional
        The common length. With ``"pad"`` no series may be longer, with ``"truncate"`` no
        series may be shorter.

    Returns
    -------
    np.ndarray
        float32 array of shape ``(n_cases, n_channels, length)``.

    Raises
    ------
    ValueError
        For an unknown strategy, an empty list, series that are not 2-D or differ in their
        number of channels, ``length < 1``, a series that the strategy cannot bring to
        ``length``, or unequal lengths with ``strategy="error"``.
    """
    _check_strategy(strategy, UNEQUAL_LENGTH_STRATEGIES, "unequal_length")
    collection = [np.asarray(series) for series in series_list]
    if not collection:
        raise ValueError("series_list is empty: at least one series is needed")
    if any(series.ndim != 2 for series in collection):
        shapes = sorted({series.shape for series in collection if series.ndim != 2})
        raise ValueError(f"every series must be 2-D (n_channels, n_timepoints); got {shapes}")
    n_channels = {series.shape[0] for series in collection}
    if len(n_channels) > 1:
        raise ValueError(f"all series must have the same number of channels; got {n_channels}")
    if length is not None and length < 1:
        raise ValueError(f"length must be >= 1; got {length}")
    lengths = [series.shape[1] for series in collection]
    shortest, longest = min(lengths), max(lengths)

    if strategy == "error":
        if shortest != longest or (length is not None and length != longest):
            wanted = f" (length={length} was asked for)" if length is not None else ""
            raise ValueError(
                f"series have unequal lengths: min {shortest}, max {longest}{wanted}; use "
                "unequal_length='pad', 'resample' or 'truncate'"
            )
        return np.stack(collection).astype(np.float32)

    if strategy == "truncate":
        target = shortest if length is None else length
        if shortest < target:
            raise ValueError(
                f"cannot truncate to length {target}: the shortest series has {shortest} "
                "time points; use unequal_length='pad' or 'resample'"
            )
        return np.stack([series[:, :target] for series in collection]).astype(np.float32)

    target = longest if length is None else length
    if strategy == "resample":
        return np.stack([_resample(series, target) for series in collection]).astype(np.float32)

    if longest > target:
        raise ValueError(
            f"cannot pad to length {target}: the longest series has {longest} time points; "
            "use unequal_length='truncate' or 'resample'"
        )
    padded = np.zeros((len(collection), collection[0].shape[0], target), dtype=np.float32)
    for out, series in zip(padded, collection, strict=True):
        out[:, : series.shape[1]] = series
    return padded
