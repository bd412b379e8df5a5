"""DSPClassifier: sparsity training, pruning, recovery, reporting, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import sparsetsc
from sparsetsc.cost import estimator_cost
from sparsetsc.estimators import DSPClassifier

FAST = {"n_filters": 8, "batch_size": 16, "lam": 1e-3, "device": "cpu", "random_state": 0}


@pytest.mark.parametrize("backbone", ["lite", "inception"])
def test_dsp_prunes_reports_and_round_trips(gunpoint, tmp_path, backbone):
    X_train, y_train, X_test, _ = gunpoint
    clf = DSPClassifier(backbone=backbone, n_epochs=4, recovery_epochs=2, **FAST)
    clf.fit(X_train, y_train)
    cost = estimator_cost(clf)
    assert cost.params == clf.pruned_cost_["params"] < clf.base_cost_["params"]
    assert cost.macs == clf.pruned_cost_["macs"] < clf.base_cost_["macs"]
    expected = 1 - clf.pruned_cost_["params_trainable"] / clf.base_cost_["params_trainable"]
    assert clf.compression_["trainable"] == pytest.approx(expected) and expected > 0
    assert set(clf.kept_widths_) == set(clf.stage_widths_)
    assert all(1 <= clf.kept_widths_[s] <= clf.stage_widths_[s] for s in clf.stage_widths_)
    # per branch: every branch keeps a channel; LITE's 17 frozen filters are not counted
    fixed = 17 if backbone == "lite" else 0
    first = next(iter(clf.stage_widths_))
    assert sum(clf.dsp_group_widths_[first]) == clf.kept_widths_[first] - fixed
    assert all(1 <= kept <= 8 for kept in clf.dsp_group_widths_[first])
    assert clf.stage_group_widths_[first] == [8] * (3 if backbone == "lite" else 4)
    assert len(clf.history_) == 2 and len(clf.base_history_) == 4
    # the sparsity phase selects by the penalised loss
    assert all(r["loss"] > r["ce_loss"] for r in clf.base_history_)
    clf.save(tmp_path / "dsp")
    loaded = sparsetsc.load(tmp_path / "dsp")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
    assert loaded.kept_widths_ == clf.kept_widths_


def test_dsp_recovery_modes_and_bad_settings(gunpoint):
    X_train, y_train, _, _ = gunpoint
    none = DSPClassifier(recovery="none", n_epochs=3, **FAST).fit(X_train, y_train)
    assert none.history_ == none.base_history_  # nothing trained after pruning
    scratch = DSPClassifier(recovery="scratch", n_epochs=3, recovery_epochs=1, **FAST)
    scratch.fit(X_train, y_train)
    # same seed, same sparsity phase: same widths; scratch re-initialised the survivors
    assert scratch.kept_widths_ == none.kept_widths_
    assert scratch.network_.fcn2.bn.running_mean.ne(none.network_.fcn2.bn.running_mean).any()
    finetune = DSPClassifier(recovery="finetune", n_epochs=6, **FAST).fit(X_train, y_train)
    assert len(finetune.history_) == 2  # a third of n_epochs, as 500 of the published 1500
    for bad, match in (
        ({"backbone": "resnet"}, "backbone"),
        ({"recovery": "x"}, "recovery"),
        ({"lam": -1.0}, "lam"),
        ({"widths": "x"}, "widths"),
        ({"widths": "uniform", "recovery": "finetune"}, "scratch"),
    ):
        with pytest.raises(ValueError, match=match):
            DSPClassifier(**{**FAST, **bad}).fit(X_train, y_train)


def test_uniform_control_matches_the_pruned_size(gunpoint):
    from sparsetsc.nn import LITE, LITEConfig
    from sparsetsc.prune import matched_uniform_width

    X_train, y_train, _, _ = gunpoint
    clf = DSPClassifier(n_epochs=3, recovery="none", **FAST).fit(X_train, y_train)
    control = clf.uniform_control()
    assert type(control).__name__ == "LITEClassifier" and control.n_filters <= 8
    control.fit(X_train, y_train)
    target = clf.pruned_cost_["params_trainable"]
    got = estimator_cost(control).params_trainable
    # no other width is closer to the pruned network's size
    for width in range(1, 9):
        size = sum(
            p.numel()
            for p in LITE(LITEConfig(1, 2, n_filters=width)).parameters()
            if p.requires_grad
        )
        assert abs(got - target) <= abs(size - target)
    assert matched_uniform_width(lambda f: LITE(LITEConfig(1, 2, n_filters=f)), 10**9, 5) == 5


@pytest.mark.parametrize("backbone", ["lite", "inception"])
def test_uniform_widths_train_the_matched_control_after_the_same_sparsity_phase(gunpoint, backbone):
    X_train, y_train, X_test, _ = gunpoint
    settings = {**FAST, "backbone": backbone, "n_epochs": 3, "recovery_epochs": 2}
    dsp = DSPClassifier(**settings).fit(X_train, y_train)
    uniform = DSPClassifier(**settings, widths="uniform").fit(X_train, y_train)
    assert dsp.uniform_width_ is None and dsp.dsp_widths_ == dsp.kept_widths_
    # same seed, same sparsity phase: DSP's analysis found the same widths
    assert uniform.dsp_widths_ == dsp.kept_widths_
    assert [r["loss"] for r in uniform.base_history_] == [r["loss"] for r in dsp.base_history_]
    width = uniform.uniform_width_
    assert 1 <= width <= 8 and width == dsp.uniform_control().n_filters
    # the delivered network is the plain backbone at that width, costed as such
    rebuilt = dsp._build_network(1, 150, 2)
    rebuilt = type(rebuilt)(rebuilt.uniform_config(width))
    assert [p.shape for p in uniform.network_.parameters()] == [
        p.shape for p in rebuilt.parameters()
    ]
    assert estimator_cost(uniform).params == uniform.pruned_cost_["params"]
    assert len(uniform.history_) == 2
    assert uniform.predict_proba(X_test).shape == (len(X_test), 2)
    with pytest.raises(ValueError, match="already the uniform control"):
        uniform.uniform_control()
