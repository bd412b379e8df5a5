"""Every bad input raises one clear ValueError before any work."""

from __future__ import annotations

import numpy as np
import pytest

from sparsetsc import FCNClassifier

FAST = dict(n_filters=(4,), kernel_sizes=(3,), n_epochs=1, batch_size=4, device="cpu")


def data(n_cases=12, n_channels=2, n_timepoints=16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n_cases, n_channels, n_timepoints)), np.array([0, 1] * (n_cases // 2))


def with_value(value):
    X, y = data()
    X[2, 1, 5] = value
    return X, y


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: with_value(np.nan), r"value\(s\) \(NaN\), first at case 2, channel 1, time 5"),
        (lambda: with_value(np.inf), r"infinite value\(s\), first at case 2, channel 1, time 5"),
        (lambda: with_value(-np.inf), "infinite"),
        (lambda: (data()[0][..., None], data()[1]), "must be 3-D .* got a 4-D array"),
        (lambda: (data()[0][:, 0, 0], data()[1]), "got a 1-D array"),
        (lambda: (data()[0][:0], data()[1][:0]), "X is empty"),
        (lambda: (data()[0][:, :, :0], data()[1]), "X is empty"),
        (lambda: (data()[0], np.zeros(12)), "single class"),
        (lambda: (data()[0], data()[1][:5]), "X has 12 cases but y has 5 labels"),
        (lambda: (data()[0].astype(str), data()[1]), "must hold numbers"),
        (lambda: data(n_timepoints=2), "series too short for FCNClassifier: n_timepoints=2"),
        (lambda: (data()[0], np.array([0, 1, np.nan] * 4)), "missing labels"),
    ],
)
def test_fit_rejects_bad_input(make, message):
    X, y = make()
    clf = FCNClassifier(**FAST)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "network_")


def test_bad_hyper_parameters_raise_before_training():
    X, y = data()
    for params, message in [
        ({"n_filters": (4, 4), "kernel_sizes": (3,)}, "same length"),
        ({"selection": "test"}, "selection"),
        ({"device": "gpu0"}, "device"),
        ({"batch_size": "big"}, "batch_size"),
    ]:
        clf = FCNClassifier(**{**FAST, **params})
        with pytest.raises(ValueError, match=message):
            clf.fit(X, y)
        assert not hasattr(clf, "network_")


def test_score_with_a_label_never_seen_in_fit_raises():
    X, y = data()
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"never seen in fit: 7"):
        clf.score(X, np.array([0, 1, 7] * 4))
    with pytest.raises(ValueError, match="X has 12 cases but y has 3"):
        clf.score(X, y[:3])
    assert 0.0 <= clf.score(X, np.ones(12, dtype=int)) <= 1.0  # one class at score is fine


def test_predict_rejects_bad_input_too():
    X, y = data()
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="too short"):
        clf.predict(X[:, :, :2])
    with pytest.raises(ValueError, match=r"X has 1 channel\(s\) .* fitted on 2 channel\(s\)"):
        clf.predict(X[:, :1, :])


def test_non_finite_positions_are_named_for_every_input_layout():
    from sparsetsc.data import check_X

    two_d = np.zeros((4, 10))
    two_d[3, 7] = np.nan
    with pytest.raises(ValueError, match="1 missing value.*first at case 3, time 7; fill"):
        check_X(two_d)
    series = [np.zeros((2, 8)), np.zeros((2, 5))]
    series[1][1, 2] = np.inf
    with pytest.raises(ValueError, match="infinite value.*first at case 1, channel 1, time 2"):
        check_X(series)
    nan_allowed = np.zeros((2, 1, 5))
    nan_allowed[0, 0, 0] = np.nan
    check_X(nan_allowed, allow_missing=True)  # no error
