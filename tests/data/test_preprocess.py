"""Preprocessing: z-normalisation, missing values, unequal length."""

from __future__ import annotations

import numpy as np
import pytest

from sparsetsc.data.preprocess import (
    equalize_length,
    fill_missing,
    trim_trailing_nan,
    znormalize,
)

NAN = np.nan


# ---------------------------------------------------------------------------- znormalize
def test_znormalize_per_series_and_channel() -> None:
    rng = np.random.default_rng(0)
    X = (rng.normal(5, 3, size=(4, 2, 50))).astype(np.float32)
    Z = znormalize(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=-1), 1, atol=1e-5)
    expected = (X - X.mean(axis=-1, keepdims=True)) / X.std(axis=-1, keepdims=True)
    np.testing.assert_allclose(Z, expected, rtol=1e-4, atol=1e-5)


def test_znormalize_constant_series_becomes_zeros() -> None:
    X = np.array([[[3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0]]], dtype=np.float32)
    Z = znormalize(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[0, 0], 0.0)
    assert Z[0, 1].std() == pytest.approx(1.0, abs=1e-6)


def test_znormalize_eps_threshold_and_dtypes() -> None:
    nearly_constant = np.array([[0.0, 1e-9, 0.0, 1e-9]])
    np.testing.assert_array_equal(znormalize(nearly_constant), 0.0)
    assert znormalize(nearly_constant, eps=0.0)[0].std() == pytest.approx(1.0)
    assert znormalize(np.arange(6).reshape(1, 1, 6)).dtype == np.float32
    assert znormalize(np.ones((1, 1, 3), dtype=np.float64)).dtype == np.float64


def test_znormalize_does_not_modify_its_input() -> None:
    X = np.array([[[1.0, 2.0, 4.0]]], dtype=np.float32)
    before = X.copy()
    znormalize(X)
    np.testing.assert_array_equal(X, before)


# ---------------------------------------------------------------------------- fill_missing
def test_interpolate_exact_values() -> None:
    X = np.array([[[NAN, 1.0, NAN, NAN, 4.0, NAN], [2.0, NAN, 6.0, 6.0, NAN, NAN]]])
    before = X.copy()
    filled = fill_missing(X, "interpolate")
    np.testing.assert_array_equal(
        filled, [[[1.0, 1.0, 2.0, 3.0, 4.0, 4.0], [2.0, 4.0, 6.0, 6.0, 6.0, 6.0]]]
    )
    np.testing.assert_array_equal(X, before)  # the input is left as it was


def test_interpolate_all_missing_channel_becomes_zeros() -> None:
    X = np.array([[[NAN, NAN, NAN], [1.0, NAN, 3.0]]], dtype=np.float32)
    filled = fill_missing(X)
    assert filled.dtype == np.float32
    np.testing.assert_array_equal(filled, [[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]])


def test_fill_missing_zero_and_lists() -> None:
    series = [np.array([[1.0, NAN, 3.0]]), np.array([[NAN, 5.0]])]
    zeroed = fill_missing(series, "zero")
    assert isinstance(zeroed, list)
    np.testing.assert_array_equal(zeroed[0], [[1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(zeroed[1], [[0.0, 5.0]])
    interpolated = fill_missing(series, "interpolate")
    np.testing.assert_array_equal(interpolated[0], [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(interpolated[1], [[5.0, 5.0]])


def test_fill_missing_error_strategy() -> None:
    with pytest.raises(ValueError, match=r"missing values \(NaN\).*missing='interpolate'"):
        fill_missing(np.array([[[1.0, NAN]]]), "error")
    clean = np.array([[[1.0, 2.0]]], dtype=np.float32)
    np.testing.assert_array_equal(fill_missing(clean, "error"), clean)


def test_fill_missing_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="'interpolate', 'zero', 'error'"):
        fill_missing(np.zeros((1, 1, 2)), "mean")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- trim_trailing_nan
def test_trailing_nan_is_padding_earlier_nan_is_missing() -> None:
    X = np.array(
        [
            [[1.0, NAN, 3.0, NAN, NAN, NAN], [1.0, 2.0, 3.0, 4.0, 5.0, NAN]],
            [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]],
            [[NAN, NAN, NAN, NAN, NAN, NAN], [NAN, NAN, NAN, NAN, NAN, NAN]],
        ]
    )
    series = trim_trailing_nan(X)
    # The length is set by the channel observed last; the NaN inside stays missing.
    assert [s.shape for s in series] == [(2, 5), (2, 6), (2, 6)]
    np.testing.assert_array_equal(series[0][0], [1.0, NAN, 3.0, NAN, NAN])


# ---------------------------------------------------------------------------- equalize_length
SERIES = [np.array([[1.0, 2.0, 3.0]]), np.array([[4.0, 5.0]])]


def test_pad_to_longest_and_to_length() -> None:
    padded = equalize_length(SERIES, "pad")
    assert padded.dtype == np.float32 and padded.shape == (2, 1, 3)
    np.testing.assert_array_equal(padded, [[[1, 2, 3]], [[4, 5, 0]]])
    np.testing.assert_array_equal(equalize_length(SERIES, "pad", length=4)[1], [[4, 5, 0, 0]])
    with pytest.raises(ValueError, match="cannot pad to length 2"):
        equalize_length(SERIES, "pad", length=2)


def test_resample_values() -> None:
    resampled = equalize_length([np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 2.0]])], "resample")
    assert resampled.shape == (2, 1, 3)
    np.testing.assert_allclose(resampled[1], [[0.0, 1.0, 2.0]])
    np.testing.assert_allclose(resampled[0], [[1.0, 2.0, 3.0]])
    longer = equalize_length([np.array([[1.0, 2.0, 3.0]])], "resample", length=5)
    np.testing.assert_allclose(longer, [[[1.0, 1.5, 2.0, 2.5, 3.0]]])
    single = equalize_length([np.array([[7.0], [8.0]])], "resample", length=3)
    np.testing.assert_array_equal(single, [[[7, 7, 7], [8, 8, 8]]])


def test_truncate() -> None:
    truncated = equalize_length(SERIES, "truncate")
    np.testing.assert_array_equal(truncated, [[[1, 2]], [[4, 5]]])
    np.testing.assert_array_equal(equalize_length(SERIES, "truncate", length=1), [[[1]], [[4]]])
    with pytest.raises(ValueError, match="cannot truncate to length 3"):
        equalize_length(SERIES, "truncate", length=3)


def test_error_strategy_names_lengths() -> None:
    with pytest.raises(ValueError, match="min 2, max 3"):
        equalize_length(SERIES, "error")
    same = [np.ones((2, 4)), np.zeros((2, 4))]
    assert equalize_length(same, "error").shape == (2, 2, 4)
    with pytest.raises(ValueError, match="length=5"):
        equalize_length(same, "error", length=5)


def test_equalize_length_accepts_3d_array() -> None:
    X = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    np.testing.assert_array_equal(equalize_length(X, "pad"), X.astype(np.float32))


@pytest.mark.parametrize(
    ("series_list", "kwargs", "message"),
    [
        ([], {}, "empty"),
        ([np.ones((1, 3)), np.ones((2, 3))], {}, "same number of channels"),
        ([np.ones(3)], {}, "2-D"),
        (SERIES, {"length": 0}, "length must be >= 1"),
        (SERIES, {"strategy": "stretch"}, "unequal_length must be one of"),
    ],
)
def test_equalize_length_rejects_bad_input(series_list, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        equalize_length(series_list, **kwargs)
