"""DSP's whole pipeline (fit_prune) on every sparsetsc backbone and on a user's own network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from sparsetsc.data import znormalize
from sparsetsc.nn import (
    DSN,
    LITE,
    DSNConfig,
    Inception,
    InceptionConfig,
    LITEConfig,
    PrunableStage,
    stage_widths,
)
from sparsetsc.prune import DSPConfig, fit_prune
from sparsetsc.train import TrainConfig, seeded

FAST = DSPConfig(lam=1e-3, recovery_epochs=2, train=TrainConfig(n_epochs=4, batch_size=16))

NETWORKS = {
    "lite": lambda: LITE(LITEConfig(1, 2, n_filters=8)),
    "inception": lambda: Inception(InceptionConfig(1, 2, n_filters=4, depth=3)),
    "dsn": lambda: DSN(DSNConfig(1, 2, n_filters=4, kernel_size=9, depth=2)),
}


@pytest.fixture(scope="module")
def data(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    return znormalize(X_train), np.unique(y_train, return_inverse=True)[1], znormalize(X_test)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_fit_prune_trains_prunes_and_recovers_every_backbone(data, name):
    X, y, X_test = data
    with seeded(0):
        network = NETWORKS[name]()
        result = fit_prune(network, X, y, FAST)
    delivered = result.network
    assert type(delivered) is type(network) and not delivered.training
    assert result.base is network  # trained in place by the sparsity phase
    assert len(result.base_result.history) == 4 and len(result.recovery_result.history) == 2
    # the sparsity phase is penalised; the recovery is not
    assert all(r["loss"] > r["ce_loss"] for r in result.base_result.history)
    assert all(r["loss"] == r["ce_loss"] for r in result.recovery_result.history)
    # what was kept is what the delivered network has, stage by stage and group by group
    assert result.kept_widths == stage_widths(delivered, result.stages)
    assert result.kept_widths == result.pruning.kept_widths
    for stage in result.stages:
        kept = result.kept_group_widths[stage.output]
        before = result.group_widths[stage.output]
        assert all(1 <= k <= b for k, b in zip(kept, before, strict=True))
    assert result.cost.params < result.base_cost.params
    assert result.compression["trainable"] == pytest.approx(
        1 - result.cost.params_trainable / result.base_cost.params_trainable
    )
    with torch.no_grad():
        assert delivered(torch.as_tensor(X_test)).shape == (len(X_test), 2)


def test_same_seed_same_result_and_recovery_none_keeps_the_pruned_weights(data):
    X, y, _ = data
    runs = []
    for recovery in ("scratch", "scratch", "none"):
        with seeded(3):
            config = DSPConfig(lam=1e-3, recovery=recovery, train=TrainConfig(n_epochs=3))
            runs.append(fit_prune(LITE(LITEConfig(1, 2, n_filters=8)), X, y, config))
    first, again, none = runs
    for a, b in zip(first.network.parameters(), again.network.parameters(), strict=True):
        assert torch.equal(a, b)
    assert none.recovery_result is None and none.result is none.base_result
    assert none.kept_widths == first.kept_widths  # same sparsity phase, same analysis
    pruned = none.pruning.network
    for a, b in zip(none.network.parameters(), pruned.parameters(), strict=True):
        assert torch.equal(a, b)


def test_uniform_control_after_the_same_sparsity_phase(data):
    X, y, _ = data
    results = {}
    for uniform in (False, True):
        with seeded(0):
            config = DSPConfig(lam=1e-3, uniform=uniform, train=TrainConfig(n_epochs=3))
            results[uniform] = fit_prune(LITE(LITEConfig(1, 2, n_filters=8)), X, y, config)
    dsp, control = results[False], results[True]
    assert dsp.uniform_width is None and 1 <= control.uniform_width <= 8
    assert control.pruning.kept_widths == dsp.pruning.kept_widths
    widths = control.network.config
    assert widths.branch_filters == (control.uniform_width,) * 3
    assert widths.fcn_filters == (control.uniform_width,) * 2


def test_a_user_network_with_a_stage_description(data):
    X, y, _ = data
    with seeded(0):
        network = nn.Sequential(
            nn.Conv1d(1, 16, 7, padding=3),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(16, 2),
        )
        result = fit_prune(network, X, y, FAST, stages=[PrunableStage("2", "1")])
    kept = result.kept_widths["2"]
    assert 1 <= kept < 16
    assert result.network[0].out_channels == kept and result.network[5].in_features == kept
    with pytest.raises(ValueError, match="uniform width"):
        fit_prune(network, X, y, DSPConfig(uniform=True), stages=[PrunableStage("2", "1")])
    with pytest.raises(ValueError, match="prunable stages"):
        fit_prune(network, X, y, FAST)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lam": -1.0}, "lam"),
        ({"recovery": "x"}, "recovery"),
        ({"recovery_epochs": 0}, "recovery_epochs"),
        ({"uniform": True, "recovery": "finetune"}, "scratch"),
        ({"train": TrainConfig(selection="last")}, "total training loss"),
    ],
)
def test_bad_settings_raise_before_any_work(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DSPConfig(**kwargs)


def test_the_two_phases_show_labelled_progress_bars(data, capsys):
    X, y, _ = data
    train = TrainConfig(n_epochs=2, batch_size=16, verbose=True, description="DSP-LITE")
    config = DSPConfig(lam=1e-3, recovery_epochs=1, train=train)
    with seeded(0):
        fit_prune(NETWORKS["lite"](), X, y, config)
    err = capsys.readouterr().err
    assert "DSP-LITE: sparsity phase" in err
    assert "DSP-LITE: retraining the pruned network" in err
