"""Ensembles cannot drift from their members: every member setting is an ensemble setting."""

from __future__ import annotations

import numpy as np
import pytest

from sparsetsc.estimators import ESTIMATORS, DSPLITETimeClassifier
from sparsetsc.estimators.ensemble import BaseEnsemble, EnsembleClassifier, _NamedEnsemble

NAMED = sorted(
    (cls for cls in ESTIMATORS.values() if issubclass(cls, _NamedEnsemble)),
    key=lambda cls: cls.__name__,
)


def test_every_ensemble_is_checked():
    ensembles = {cls for cls in ESTIMATORS.values() if issubclass(cls, BaseEnsemble)}
    # EnsembleClassifier takes any member estimator as a parameter: nothing to mirror
    assert ensembles == set(NAMED) | {EnsembleClassifier}
    assert len(NAMED) == 5


@pytest.mark.parametrize("ensemble", NAMED, ids=lambda cls: cls.__name__)
def test_ensemble_exposes_every_member_hyper_parameter(ensemble):
    member = set(ensemble._member_class._get_param_names())
    own = set(ensemble._get_param_names())
    # the one list of exclusions: what the ensemble sets itself, and what its class fixes
    excluded = set(ensemble.NOT_FROM_ENSEMBLE) | set(ensemble._fixed_member_params)
    assert member - excluded <= own, f"missing: {sorted(member - excluded - own)}"
    assert own - member == set(ensemble.ENSEMBLE_PARAMS)
    assert set(ensemble.member_param_names()) == member - excluded
    # and the defaults agree, so an ensemble's members are the member class's defaults
    member_defaults = ensemble._member_class().get_params()
    for name, value in ensemble().get_params().items():
        if name in member_defaults and name not in excluded:
            if ensemble.__name__ == "HInceptionTimeClassifier" and name == "hand_crafted":
                continue  # H-InceptionTime is InceptionTime with the hand-crafted filters
            assert value == member_defaults[name], name


def test_member_template_carries_every_setting_to_the_members():
    ensemble = DSPLITETimeClassifier(widths="uniform", hand_crafted=False, lam=2e-5, n_filters=6)
    member = ensemble._member_template()
    assert member.get_params()["widths"] == "uniform" and member.hand_crafted is False
    assert (member.lam, member.n_filters, member.backbone) == (2e-5, 6, "lite")
    X, y = np.random.default_rng(0).normal(size=(8, 1, 20)), np.array([0, 1] * 4)
    with pytest.raises(ValueError, match="batched=True is impossible"):
        DSPLITETimeClassifier(batched=True, n_members=2, n_epochs=1).fit(X, y)
