"""Input validation shared by every estimator: one clear ``ValueError`` per problem.

Each check runs before any training or writing, so bad input costs nothing and leaves no
files behind. Messages name the problem and, where there is one, the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target

__all__ = ["as_collection", "check_X", "check_y", "check_labels_seen"]


def as_collection(X: object) -> np.ndarray | list[np.ndarray]:
    """Return ``X`` as a numeric numpy array, or a list of 2-D arrays for unequal lengths.

    Array-likes (nested lists, pandas objects, numeric ``object`` arrays) are converted;
    anything that cannot be read as numbers raises ``ValueError``.
    """
    if X is None:
        raise ValueError(
            "X is None; expected an array of shape (n_cases, n_channels, n_timepoints)"
        )
    if scipy.sparse.issparse(X):
        raise ValueError("sparse input is not supported; pass a dense numpy array")
    if (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(isinstance(x, np.ndarray) and x.ndim == 2 for x in X)
    ):
        return [_numeric(x) for x in X]
    try:
        array = np.asarray(X)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            "X could not be read as an array of shape (n_cases, n_channels, n_timepoints); "
            f"for series of unequal length pass a list of 2-D arrays ({err})"
        ) from None
    return _numeric(array)


def _numeric(array: np.ndarray) -> np.ndarray:
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError("Complex data not supported; X must hold real numbers")
    if np.issubdtype(array.dtype, np.number):
        return array
    if array.dtype == np.bool_ or array.dtype == object:
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    raise ValueError(f"X must hold numbers; got values of dtype {array.dtype}")


def check_X(
    X: object,
    *,
    min_timepoints: int = 1,
    allow_missing: bool = False,
    model_name: str = "this model",
) -> np.ndarray | list[np.ndarray]:
    """Validate a collection of time series, raising one clear ``ValueError``.

    Parameters
    ----------
    X : array-like
        ``(n_cases, n_channels, n_timepoints)``, ``(n_cases, n_timepoints)`` (univariate) or
        a list of 2-D ``(n_channels, n_timepoints_i)`` arrays.
    min_timepoints : int, default=1
        Shortest series the model can process.
    allow_missing : bool, default=False
        Whether NaN is acceptable (infinite values never are).
    model_name : str
        Used in the "series too short" message.

    Returns
    -------
    np.ndarray or list of np.ndarray
        ``X`` as numbers (see :func:`as_collection`), unchanged otherwise.

    Raises
    ------
    ValueError
        For empty input, a wrong number of dimensions, non-numeric values, NaN (unless
        allowed), infinite values, or series shorter than ``min_timepoints``.
    """
    collection = as_collection(X)
    # (position prefix, values, names of the axes) for each array to inspect
    if isinstance(collection, list):
        pieces = [(f"case {i}, ", s, ("channel", "time")) for i, s in enumerate(collection)]
    else:
        if collection.size == 0:
            raise ValueError(
                f"X is empty: got shape {collection.shape}; at least one non-empty series is needed"
            )
        if collection.ndim not in (2, 3):
            raise ValueError(
                "X must be 3-D (n_cases, n_channels, n_timepoints) or 2-D (n_cases, "
                f"n_timepoints) for univariate series; got a {collection.ndim}-D array of "
                f"shape {collection.shape}"
            )
        axes = ("case", "channel", "time") if collection.ndim == 3 else ("case", "time")
        pieces = [("", collection, axes)]
    if any(values.size == 0 for _, values, _ in pieces):
        raise ValueError("X is empty: a series has no values; every series needs at least one")
    for prefix, values, axes in pieces:
        values = values.astype(np.float64, copy=False)
        problems = [("infinite value(s)", np.isinf(values), "")]
        if not allow_missing:
            fix = "; fill them first, e.g. sparsetsc.data.fill_missing(X, 'interpolate')"
            problems.insert(0, ("missing value(s) (NaN)", np.isnan(values), fix))
        for what, bad, fix in problems:
            if bad.any():
                first = ", ".join(
                    f"{axis} {int(i)}" for axis, i in zip(axes, np.argwhere(bad)[0], strict=True)
                )
                raise ValueError(
                    f"X contains {int(bad.sum())} {what}, first at {prefix}{first}{fix}"
                )
    shortest = min(values.shape[-1] for _, values, _ in pieces)
    if shortest < min_timepoints:
        raise ValueError(
            f"series too short for {model_name}: n_timepoints={shortest} but at least "
            f"{min_timepoints} time points are needed"
        )
    return collection


def check_y(y: object, n_cases: int, *, min_classes: int = 2) -> np.ndarray:
    """Validate class labels; return them as a 1-D numpy array.

    Parameters
    ----------
    y : array-like
        One label per case.
    n_cases : int
        Number of cases in the matching ``X``.
    min_classes : int, default=2
        Fewest distinct labels accepted (2 for training, 1 for scoring).

    Raises
    ------
    ValueError
        If ``y`` is not 1-D, its length differs from ``n_cases``, it contains missing labels,
        or it holds fewer than ``min_classes`` classes.
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is used as 1-D labels",
            DataConversionWarning,
            stacklevel=3,
        )
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per case); got shape {labels.shape}")
    if labels.shape[0] != n_cases:
        raise ValueError(
            f"X and y have different lengths: X has {n_cases} cases but y has "
            f"{labels.shape[0]} labels"
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError("y contains missing labels (NaN)")
    if labels.dtype == object and any(label is None for label in labels):
        raise ValueError("y contains missing labels (None)")
    target_type = type_of_target(labels)
    if target_type not in ("binary", "multiclass"):
        raise ValueError(
            f"Unknown label type: y looks {target_type!r}; classification needs discrete labels "
            "(strings or integers)"
        )
    n_classes = len(np.unique(labels))
    if n_classes < min_classes:
        raise ValueError(
            f"y holds a single class ({labels[0]!r}); classification needs at least two"
        )
    return labels


def check_labels_seen(y: object, classes: Sequence | np.ndarray) -> None:
    """Raise ``ValueError`` if ``y`` holds a label that was never seen in ``fit``."""
    known = np.asarray(classes).tolist()
    known_set = set(known)
    unseen = [label for label in np.unique(np.asarray(y)).tolist() if label not in known_set]
    if unseen:
        shown = ", ".join(repr(label) for label in unseen[:10])
        raise ValueError(
            f"y contains label(s) never seen in fit: {shown}; classes seen in fit: {known}"
        )
