"""LITE / Inception classifiers and their ensembles: learning, frozen filters, ensembles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sparsetsc
from sparsetsc import (
    DSNClassifier,
    EnsembleClassifier,
    HInceptionTimeClassifier,
    InceptionClassifier,
    InceptionTimeClassifier,
    LITEClassifier,
    LITETimeClassifier,
)
from sparsetsc.cost import estimator_cost
from sparsetsc.nn import LITE, LITEConfig
from sparsetsc.train import TrainConfig, fit_network, fit_networks, seeded

CPU = torch.device("cpu")
SMALL_LITE = {"n_filters": 8, "n_epochs": 3, "batch_size": 16, "device": "cpu"}


def _hand_crafted(estimator) -> list[torch.Tensor]:
    return [w.detach().clone() for w in estimator.network_.hand_crafted.weights]


# ----------------------------------------------------------------------------- learning
def test_lite_learns_gunpoint(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    clf = LITEClassifier(n_epochs=150, random_state=0, device="cpu").fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9
    assert clf.history_[-1]["loss"] < clf.history_[0]["loss"]
    cost = estimator_cost(clf)
    assert cost.params_trainable == 9_814 + 33 * 2
    assert cost.params == cost.params_trainable + 438


def test_inception_learns_gunpoint(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    clf = InceptionClassifier(n_epochs=40, random_state=0, device="cpu").fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9
    assert estimator_cost(clf).params == 420_192 + 129 * 2


def test_litetime_learns_gunpoint_with_members_trained_together(gunpoint):
    X_train, y_train, X_test, y_test = gunpoint
    ensemble = LITETimeClassifier(
        n_members=3, n_epochs=150, batched=True, random_state=0, device="cpu"
    )
    ensemble.fit(X_train, y_train)
    assert ensemble.batched_ and len(ensemble.estimators_) == 3
    assert len(set(ensemble.member_seeds_)) == 3
    assert ensemble.score(X_test, y_test) >= 0.9
    # the ensemble's probabilities are the mean of its members'
    members = np.stack([m.predict_proba(X_test) for m in ensemble.estimators_])
    np.testing.assert_allclose(ensemble.predict_proba(X_test), members.mean(axis=0), atol=1e-7)
    cost = estimator_cost(ensemble)
    assert cost.params_trainable == 3 * (9_814 + 66)
    assert cost.macs == sum(estimator_cost(m).macs for m in ensemble.estimators_)


@pytest.mark.parametrize("ensemble_class", [InceptionTimeClassifier, HInceptionTimeClassifier])
def test_inception_ensembles_learn_gunpoint(gunpoint, ensemble_class):
    X_train, y_train, X_test, y_test = gunpoint
    ensemble = ensemble_class(n_members=2, n_epochs=40, random_state=1, device="cpu")
    ensemble.fit(X_train, y_train)
    assert not ensemble.batched_  # "auto" batches on CUDA only
    assert ensemble.score(X_test, y_test) >= 0.9
    has_filters = ensemble_class is HInceptionTimeClassifier
    assert all(
        (m.network_.blocks[0].hand_crafted is not None) == has_filters for m in ensemble.estimators_
    )


def test_multivariate_input_uses_litemv_and_learns(tiny_data):
    X, y = tiny_data
    clf = LITETimeClassifier(
        n_members=2, n_filters=8, n_epochs=60, batch_size=12, random_state=0, device="cpu"
    ).fit(X, y)
    assert clf.score(X, y) >= 0.9
    network = clf.estimators_[0].network_
    assert network.config.multivariate and network.hand_crafted.out_channels == 17 * 3
    inception = InceptionClassifier(
        n_filters=4, depth=3, n_epochs=2, batch_size=12, device="cpu"
    ).fit(X, y)
    assert inception.predict_proba(X).shape == (len(X), 3)


# ----------------------------------------------------------------------------- frozen filters
def test_hand_crafted_filters_stay_bit_identical_through_training_and_save_load(gunpoint, tmp_path):
    X_train, y_train, X_test, _ = gunpoint
    untrained = LITE(LITEConfig(1, 2)).hand_crafted.weights
    for batched in (True, False):
        ensemble = LITETimeClassifier(n_members=2, batched=batched, random_state=0, **SMALL_LITE)
        ensemble.fit(X_train, y_train)
        assert ensemble.batched_ is batched
        for member in ensemble.estimators_:
            assert member.history_[-1]["loss"] != member.history_[0]["loss"]  # it trained
            for before, after in zip(untrained, _hand_crafted(member), strict=True):
                assert torch.equal(before, after)
                assert not member.network_.hand_crafted.weights[0].requires_grad
    ensemble.save(tmp_path / "model")
    loaded = sparsetsc.load(tmp_path / "model")
    for member, original in zip(loaded.estimators_, ensemble.estimators_, strict=True):
        for a, b in zip(_hand_crafted(member), _hand_crafted(original), strict=True):
            assert torch.equal(a, b)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), ensemble.predict_proba(X_test))


# ----------------------------------------------------------------------------- batched training
def test_batched_members_follow_their_sequential_twins(gunpoint):
    X_train, y_train, _, _ = gunpoint
    X = sparsetsc.data.znormalize(X_train)
    _, y = np.unique(y_train, return_inverse=True)
    seeds = [11, 12, 13]
    config = TrainConfig(n_epochs=1, batch_size=64)

    def build(seed):
        with seeded(seed, CPU):
            return LITE(LITEConfig(1, 2, n_filters=8))

    alone, together = [build(s) for s in seeds], [build(s) for s in seeds]
    for seed, network in zip(seeds, alone, strict=True):
        fit_network(network, X, y, TrainConfig(n_epochs=1, batch_size=64, seed=seed), CPU)
    results = fit_networks(together, X, y, config, CPU, seeds)
    # one full-batch Adam step: the same update up to floating-point summation order
    for a, b in zip(alone, together, strict=True):
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=name)
    assert [r.selected_epoch for r in results] == [1, 1, 1]


def test_batched_training_runs_per_member_schedules_and_checkpoints(gunpoint):
    X_train, y_train, _, _ = gunpoint
    X = sparsetsc.data.znormalize(X_train)
    _, y = np.unique(y_train, return_inverse=True)
    networks = []
    for seed in (0, 1):
        with seeded(seed, CPU):
            networks.append(LITE(LITEConfig(1, 2, n_filters=4)))
    # a large rate makes the loss bounce, so the plateau schedule has something to do
    config = TrainConfig(n_epochs=8, batch_size=16, lr=0.05, plateau_patience=0)
    results = fit_networks(networks, X, y, config, CPU, [0, 1])
    for result in results:
        losses = [r["loss"] for r in result.history]
        assert result.selected_epoch == int(np.argmin(losses)) + 1
        assert result.history[0]["lr"] == 0.05
    # each member's plateau schedule follows its own losses: replay them on a fresh scheduler
    for result in results:
        holder = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
        schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
            holder, factor=0.5, patience=0, min_lr=config.min_lr
        )
        expected = []
        for record in result.history:
            expected.append(holder.param_groups[0]["lr"])
            schedule.step(record["loss"])
        assert [r["lr"] for r in result.history] == expected
    assert any(r["lr"] < 0.05 for result in results for r in result.history)


def test_batched_training_refuses_what_it_cannot_do(gunpoint):
    X_train, y_train, _, _ = gunpoint
    X = sparsetsc.data.znormalize(X_train)
    _, y = np.unique(y_train, return_inverse=True)
    lite, other = LITE(LITEConfig(1, 2, n_filters=4)), LITE(LITEConfig(1, 2, n_filters=5))
    with pytest.raises(ValueError, match="identical architectures"):
        fit_networks([lite, other], X, y, TrainConfig(n_epochs=1), CPU, [0, 1])
    with pytest.raises(ValueError, match="selection"):
        config = TrainConfig(n_epochs=1, selection="val_loss", validation_size=0.2)
        fit_networks([lite], X, y, config, CPU, [0])
    with pytest.raises(ValueError, match="one seed per network"):
        fit_networks([lite], X, y, TrainConfig(n_epochs=1), CPU, [0, 1])
    ensemble = EnsembleClassifier(DSNClassifier(n_epochs=1), n_members=2, batched=True)
    with pytest.raises(ValueError, match="batched=True is impossible"):
        ensemble.fit(X_train, y_train)
    assert not ensemble.is_fitted


# ----------------------------------------------------------------------------- generic ensemble
def test_generic_ensemble_of_dsn_trains_members_in_turn_and_round_trips(gunpoint, tmp_path):
    X_train, y_train, X_test, _ = gunpoint
    member = DSNClassifier(n_filters=6, depth=2, n_epochs=2, batch_size=16, device="cpu")
    ensemble = EnsembleClassifier(member, n_members=2, random_state=3).fit(X_train, y_train)
    assert not ensemble.batched_
    assert [m.random_state for m in ensemble.estimators_] == ensemble.member_seeds_
    assert all(m.real_density_ > 0 for m in ensemble.estimators_)
    same = EnsembleClassifier(member, n_members=2, random_state=3).fit(X_train, y_train)
    np.testing.assert_array_equal(same.predict_proba(X_test), ensemble.predict_proba(X_test))
    ensemble.save(tmp_path / "ensemble")
    loaded = sparsetsc.load(tmp_path / "ensemble")
    assert isinstance(loaded, EnsembleClassifier)
    assert isinstance(loaded.estimator, DSNClassifier) and loaded.estimator.n_filters == 6
    np.testing.assert_array_equal(loaded.predict_proba(X_test), ensemble.predict_proba(X_test))


def test_ensemble_hyper_parameters_are_validated_before_training(gunpoint):
    X_train, y_train, _, _ = gunpoint
    with pytest.raises(ValueError, match="n_members"):
        LITETimeClassifier(n_members=0).fit(X_train, y_train)
    with pytest.raises(ValueError, match="batched"):
        LITETimeClassifier(batched="yes").fit(X_train, y_train)
    with pytest.raises(ValueError, match="needs estimator"):
        EnsembleClassifier().fit(X_train, y_train)
    with pytest.raises(ValueError, match="n_filters"):
        LITETimeClassifier(n_filters=0).fit(X_train, y_train)
