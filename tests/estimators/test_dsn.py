from __future__ import annotations

import numpy as np
import pytest

import sparsetsc
from sparsetsc import DSNClassifier
from sparsetsc.cost import estimator_cost
from sparsetsc.sparse import get_mask

SMALL = dict(
    n_filters=6, kernel_size=9, depth=2, n_epochs=4, update_every=1, batch_size=6, device="cpu"
)


def test_dsn_learns_gunpoint_with_the_faithful_architecture(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    clf = DSNClassifier(n_epochs=40, random_state=0, device="cpu").fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9
    cost = estimator_cost(clf)
    assert cost.params == 802_153
    assert cost.params_nonzero == 125_404
    assert cost.macs_dense == 120_124_950 and cost.macs == 18_612_600
    assert clf.nonzero_per_group_["blocks.1.conv"] == [5743, 11486, 17230]
    assert clf.real_density_ == pytest.approx(0.1333, abs=1e-3)
    assert clf.batch_size_ == 5
    assert sum("dst_swapped" in r for r in clf.history_) == 7  # epochs 5, 10, ..., 35
    assert all(get_mask(m) is None for m in clf.network_.modules())  # masks baked into zeros
    for fractions in clf.ever_active_fraction_.values():
        assert all(0.0 < f <= 1.0 for f in fractions)


@pytest.mark.parametrize(
    "variant",
    [
        {"growth": "gradient"},
        {"fix": True},
        {"init": "random", "anchor": "center"},
        {"padding": "replicate"},
    ],
)
def test_variants_keep_the_budget(tiny_data, variant):
    X, y = tiny_data
    clf = DSNClassifier(**SMALL, **variant, random_state=0).fit(X, y)
    reference = DSNClassifier(**SMALL, random_state=0).fit(X, y)
    assert clf.nonzero_per_group_ == reference.nonzero_per_group_
    assert clf.predict(X).shape == (36,)
    swaps = [r.get("dst_swapped") for r in clf.history_]
    if variant.get("fix"):
        assert swaps == [None] * 4
    else:
        assert all(s > 0 for s in swaps[:3]) and swaps[3] is None


def test_no_groups_ablation_can_match_the_grouped_parameter_count(tiny_data):
    X, y = tiny_data
    grouped = DSNClassifier(**SMALL, random_state=0).fit(X, y)
    matched = DSNClassifier(**SMALL, n_groups=1, match_groups=3, random_state=0).fit(X, y)
    plain = DSNClassifier(**SMALL, n_groups=1, random_state=0).fit(X, y)
    total = {name: sum(v) for name, v in grouped.nonzero_per_group_.items()}
    assert {name: sum(v) for name, v in matched.nonzero_per_group_.items()} == pytest.approx(
        total, abs=2
    )
    assert plain.real_density_ == pytest.approx(0.2, abs=0.01)
    with pytest.raises(ValueError, match="match_groups"):
        DSNClassifier(**SMALL, match_groups=3).fit(X, y)


def test_dense_twin_has_no_masks(tiny_data):
    X, y = tiny_data
    clf = DSNClassifier(**SMALL, dense=True, random_state=0).fit(X, y)
    cost = estimator_cost(clf)
    assert cost.macs == cost.macs_dense
    assert clf.real_density_ == 1.0 and clf.nonzero_per_group_ == {}


def test_multivariate_round_trip_is_identical(tiny_data, tmp_path):
    X, y = tiny_data
    clf = DSNClassifier(**SMALL, random_state=0).fit(X, y)
    assert clf.network_.blocks[0].bottleneck.weight.shape == (6, 3, 1)
    clf.save(tmp_path / "dsn")
    loaded = sparsetsc.load(tmp_path / "dsn")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.nonzero_per_group_ == clf.nonzero_per_group_
    assert estimator_cost(loaded).params_nonzero == estimator_cost(clf).params_nonzero


def test_same_seed_same_sparse_model(tiny_data):
    X, y = tiny_data
    first = DSNClassifier(**SMALL, random_state=5).fit(X, y)
    second = DSNClassifier(**SMALL, random_state=5).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_bad_sparsity_settings_fail_before_training(tiny_data):
    X, y = tiny_data
    for params, message in [
        ({"density": 1.5}, "density"),
        ({"growth": "magic"}, "growth"),
        ({"n_groups": 50}, "n_groups"),
    ]:
        clf = DSNClassifier(**{**SMALL, **params})
        with pytest.raises(ValueError, match=message):
            clf.fit(X, y)
        assert not hasattr(clf, "network_")
