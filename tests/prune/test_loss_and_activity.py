"""DSP's sparsity loss and activation analysis on hand-computed tensors and real networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsetsc.nn import LITE, Inception, InceptionConfig, LITEConfig, StageRecorder
from sparsetsc.prune import (
    SparsityLoss,
    active_channels,
    channel_activity,
    guard_groups,
    instance_l21,
    keep_channels,
)
from sparsetsc.train import TrainConfig, fit_network


def test_instance_l21_by_hand():
    # two instances, two channels, two time steps
    features = torch.tensor([[[3.0, 4.0], [0.0, 0.0]], [[1.0, 0.0], [6.0, 8.0]]])
    # ||(3,4)|| + ||(0,0)|| + ||(1,0)|| + ||(6,8)|| = 5 + 0 + 1 + 10: summed over the batch
    assert instance_l21(features).item() == pytest.approx(16.0)
    with pytest.raises(ValueError, match="batch, channels, time"):
        instance_l21(torch.ones(2, 3))


def test_sparsity_loss_weights_stages_and_selects_channels():
    loss = SparsityLoss(["a", "b"], weights=[4, 2], lam=0.5, channels={"a": slice(0, 1)})
    outputs = {
        "a": torch.tensor([[[3.0, 4.0], [100.0, 0.0]]]),  # channel 1 is not penalised
        "b": torch.tensor([[[0.0, 2.0]], [[1.0, 0.0]]]),
    }
    assert loss.penalty(outputs).item() == pytest.approx(4 * 5 + 2 * (2 + 1))
    with pytest.raises(ValueError, match="one weight per stage"):
        SparsityLoss(["a"], weights=[1, 2])
    with pytest.raises(ValueError, match="not penalised"):
        SparsityLoss(["a"], channels={"b": slice(0, 1)})


def test_sparsity_loss_trains_through_hooks_and_leaves_nothing_behind(gunpoint):
    X_train, y_train, _, _ = gunpoint
    _, y = np.unique(y_train, return_inverse=True)
    torch.manual_seed(0)
    network = LITE(LITEConfig(1, 2, n_filters=8))
    stages = ["block1_relu", "fcn1", "fcn2"]
    loss = SparsityLoss(stages, weights=[4, 2, 1], lam=1e-3, channels={"block1_relu": slice(0, 24)})
    config = TrainConfig(n_epochs=3, batch_size=16)
    result = fit_network(network, X_train, y, config, torch.device("cpu"), [loss])
    # the recorded loss is cross-entropy plus the penalty
    assert all(r["loss"] > r["ce_loss"] for r in result.history)
    assert all(not m._forward_hooks for m in network.modules())  # hooks removed


def test_recorder_rejects_unknown_stage_names():
    with pytest.raises(ValueError, match="has no modules"):
        StageRecorder(LITE(LITEConfig(1, 2, n_filters=4)), ["nope"])


def test_activity_rule_on_constructed_norms():
    norms = torch.tensor(
        [
            [4.0, 2.0, 0.0, 0.0],  # mu = 6 / 3 = 2: only channel 0 (> 2)
            [1.0, 1.0, 1.0, 1.0],  # mu = 4 / 5 = 0.8: all four
            [0.0, 0.0, 0.0, 0.0],
        ]
    )  # mu = 0 / 1 = 0: none
    expected = [[True, False, False, False], [True, True, True, True], [False] * 4]
    assert active_channels(norms).tolist() == expected
    counts = active_channels(norms).sum(0).numpy()  # [2, 1, 1, 1]
    assert keep_channels(counts, 1).tolist() == [True, False, False, False]  # LITE: > 1
    assert keep_channels(counts, 0).tolist() == [True, True, True, True]  # Inception: > 0


def test_guards_keep_one_channel_per_empty_group():
    keep = np.array([False, False, True, False, False, False])
    guarded = guard_groups(keep, [slice(0, 2), slice(2, 4), slice(4, 6)])
    assert guarded.tolist() == [True, False, True, False, True, False]
    assert keep.tolist() == [False, False, True, False, False, False]  # input untouched


def test_channel_activity_counts_instances_on_a_real_network():
    torch.manual_seed(0)
    network = Inception(InceptionConfig(1, 2, n_filters=4, depth=3))
    network.train()
    X = torch.randn(10, 1, 30)
    stages = ["blocks.0", "blocks.1", "residual_relus.0"]
    counts = channel_activity(network, X, stages, batch_size=4)
    assert network.training  # mode restored
    assert [c.shape for c in counts.values()] == [(16,), (16,), (16,)]
    # the same counts by hand, from forward_stages in eval mode
    network.eval()
    with torch.no_grad():
        _, outputs = network.forward_stages(X)
    for stage, name in zip(outputs, stages, strict=True):
        norms = torch.linalg.vector_norm(stage, dim=-1)
        np.testing.assert_array_equal(counts[name], active_channels(norms).sum(0).numpy())
    assert all(0 <= c.min() and c.max() <= 10 for c in counts.values())
    assert any(c.max() > 0 for c in counts.values())
