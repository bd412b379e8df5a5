"""DSP's decision step on constructed activations, and the whole pipeline on GunPoint."""

from __future__ import annotations

import numpy as np
import torch

from sparsetsc.nn import LITE, LITEConfig
from sparsetsc.prune import SparsityLoss, dsp_keep_masks, dsp_prune
from sparsetsc.train import TrainConfig, fit_network


def _set_channels(bn: torch.nn.BatchNorm1d, constant: dict[int, float]) -> None:
    # BN weight 0 makes a channel's output its bias: a constant map (0 after ReLU if < 0).
    with torch.no_grad():
        for channel, value in constant.items():
            bn.weight[channel] = 0.0
            bn.bias[channel] = value


def test_keep_masks_follow_constructed_activations():
    torch.manual_seed(0)
    network = LITE(LITEConfig(1, 2, n_filters=4))  # block 1: 3 branches x 4 + 17 hand-crafted
    network.eval()
    # block 1: branch 0 has two live channels, branch 1 none at all, branch 2 one
    live = {0: 5.0, 1: 5.0, 8: 5.0}
    _set_channels(network.bn1, {c: live.get(c, -1.0) for c in range(12)})
    # fcn1: channels 0 and 3 live; fcn2: only channel 2
    _set_channels(network.fcn1.bn, {0: 5.0, 1: -1.0, 2: -1.0, 3: 5.0})
    _set_channels(network.fcn2.bn, {0: -1.0, 1: -1.0, 2: 5.0, 3: -1.0})
    X = torch.randn(6, 1, 30)
    keep, counts = dsp_keep_masks(network, X, min_count=1)
    block1 = keep["block1_relu"]
    # live channels are active in all 6 instances; dead ones in none; branch 1 keeps its
    # first channel by the guard; the 17 hand-crafted channels are fixed (count -1)
    assert np.flatnonzero(block1[:12]).tolist() == [0, 1, 4, 8]
    assert block1[12:].all() and (counts["block1_relu"][12:] == -1).all()
    assert counts["block1_relu"][[0, 1, 8]].tolist() == [6, 6, 6]
    assert counts["block1_relu"][4] == 0
    assert keep["fcn1"].tolist() == [True, False, False, True]
    assert keep["fcn2"].tolist() == [False, False, True, False]


def test_dsp_pipeline_trains_sparse_then_prunes_a_smaller_equivalent_lite(gunpoint, zeroed):
    X_train, y_train, _, _ = gunpoint
    _, y = np.unique(y_train, return_inverse=True)
    torch.manual_seed(0)
    network = LITE(LITEConfig(1, 2, n_filters=8))
    loss = SparsityLoss(
        ["block1_relu", "fcn1", "fcn2"],
        weights=[4, 2, 1],
        lam=1e-3,
        channels={"block1_relu": slice(0, 24)},
    )
    fit_network(
        network, X_train, y, TrainConfig(n_epochs=15, batch_size=16), torch.device("cpu"), [loss]
    )
    result = dsp_prune(network, X_train, min_count=1)
    pruned = result.network
    assert type(pruned) is LITE and not pruned.training
    widths = result.kept_widths
    assert (widths["fcn1"], widths["fcn2"]) == pruned.config.fcn_filters
    assert sum(pruned.config.branch_filters) + 17 == widths["block1_relu"]
    n_before = sum(p.numel() for p in network.parameters())
    n_after = sum(p.numel() for p in pruned.parameters())
    assert n_after < n_before
    # on the training data the pruned network computes the original with channels zeroed
    X = torch.as_tensor(X_train)
    with torch.no_grad():
        torch.testing.assert_close(pruned(X), zeroed(network, result.keep, X), rtol=1e-4, atol=1e-5)
