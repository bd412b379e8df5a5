from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sparsetsc import FCNClassifier
from sparsetsc.cost import estimator_cost

FAST = dict(n_filters=(8, 8), kernel_sizes=(3, 3), n_epochs=5, batch_size=8, device="cpu")


def test_fcn_learns_gunpoint(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    clf = FCNClassifier(n_epochs=150, random_state=0, device="cpu").fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    assert accuracy >= 0.9, accuracy
    assert clf.selected_epoch_ == 1 + int(np.argmin([r["loss"] for r in clf.history_]))
    assert clf.batch_size_ == 5  # min(50 / 10, 16)
    assert len(clf.history_) == 150


def test_fit_predict_shapes_and_labels(tiny_data):
    X, y = tiny_data
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (36, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    predictions = clf.predict(X)
    assert predictions.shape == (36,) and set(predictions) <= {"a", "b", "c"}
    assert list(clf.classes_) == ["a", "b", "c"] and clf.n_classes_ == 3
    assert not clf.network_.training  # predict must not change state


def test_univariate_2d_input_is_accepted(tiny_data):
    X, y = tiny_data
    clf = FCNClassifier(**FAST, random_state=0).fit(X[:, 0, :], y)
    assert clf.predict(X[:, 0, :]).shape == (36,)


def test_same_seed_gives_identical_predictions_on_cpu(tiny_data):
    X, y = tiny_data
    first = FCNClassifier(**FAST, random_state=3).fit(X, y).predict_proba(X)
    second = FCNClassifier(**FAST, random_state=3).fit(X, y).predict_proba(X)
    other = FCNClassifier(**FAST, random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_hyper_parameters_only_stored_and_cloneable():
    clf = FCNClassifier(n_epochs=7, batch_size="dsn", random_state=1)
    params = clf.get_params()
    assert params["n_epochs"] == 7 and params["batch_size"] == "dsn"
    # aeon's base creates these, empty, in __init__; nothing learnt exists before fit
    public_fitted = {k: v for k, v in vars(clf).items() if k.endswith("_") and k[0] != "_"}
    assert public_fitted == {"metadata_": {}, "classes_": [], "n_classes_": -1}
    cloned = clone(clf.set_params(lr=0.01))
    assert cloned.get_params()["lr"] == 0.01


def test_works_inside_scikit_learn_grid_search(tiny_data):
    from sklearn.model_selection import GridSearchCV

    X, y = tiny_data
    search = GridSearchCV(FCNClassifier(**FAST, random_state=0), {"lr": [1e-3, 1e-2]}, cv=2).fit(
        X, y
    )
    assert search.best_params_["lr"] in (1e-3, 1e-2)
    assert search.predict(X).shape == (36,)


def test_last_selection_keeps_the_final_epoch(tiny_data):
    X, y = tiny_data
    clf = FCNClassifier(**FAST, selection="last", random_state=0).fit(X, y)
    assert clf.selected_epoch_ == FAST["n_epochs"]


def test_validation_split_selection_never_needs_test_data(tiny_data):
    X, y = tiny_data
    clf = FCNClassifier(**FAST, validation_size=0.25, selection="val_accuracy", random_state=0).fit(
        X, y
    )
    accuracies = [r["val_accuracy"] for r in clf.history_]
    assert clf.selected_epoch_ == 1 + int(np.argmax(accuracies))


def test_normalize_option_makes_predictions_scale_invariant(tiny_data):
    X, y = tiny_data
    clf = FCNClassifier(**FAST, random_state=0).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X * 100 + 5), clf.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_predict_before_fit_raises(tiny_data):
    with pytest.raises(NotFittedError):
        FCNClassifier(**FAST).predict(tiny_data[0])


def test_cost_of_fitted_model(tiny_data):
    X, y = tiny_data
    cost = estimator_cost(FCNClassifier(**FAST, random_state=0).fit(X, y))
    assert cost.params == (3 * 8 * 3 + 8 + 16) + (8 * 8 * 3 + 8 + 16) + (8 * 3 + 3)
    assert cost.macs == cost.macs_dense == 24 * (3 * 8 * 3 + 8 * 8 * 3) + 8 * 3
