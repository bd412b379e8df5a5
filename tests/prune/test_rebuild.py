"""Physical rebuild: fewer channels, same function as the original with those channels zeroed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsetsc.nn import (
    LITE,
    Inception,
    InceptionConfig,
    LITEConfig,
    build_network,
    network_config,
)
from sparsetsc.prune.activity import guard_groups
from sparsetsc.prune.rebuild import rebuild_from_shapes, remove_channels


def _randomise_batchnorm(network: torch.nn.Module) -> None:
    # Non-trivial statistics and affine parameters, so that a wrong slice shows.
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    network.eval()


def _lite_case(n_channels):
    torch.manual_seed(0)
    network = LITE(LITEConfig(n_channels, 3))
    _randomise_batchnorm(network)
    config = network.config
    rng = np.random.default_rng(1)
    block1 = rng.random(config.block1_channels) > 0.6
    block1[config.hand_crafted_slice] = True  # never removed
    block1[config.branch_slices[2]] = False  # a branch with nothing left: the guard keeps one
    block1 = guard_groups(block1, config.branch_slices)
    keep = {"block1_relu": block1, "fcn1": rng.random(32) > 0.5, "fcn2": rng.random(32) > 0.5}
    return network, keep


@pytest.mark.parametrize("n_channels", [1, 3])  # LITE and LITEMV
def test_pruned_lite_computes_the_zeroed_original(n_channels, zeroed):
    network, keep = _lite_case(n_channels)
    x = torch.randn(5, n_channels, 57)
    pruned = remove_channels(network, keep, x[:2])
    expected = zeroed(network, keep, x)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), expected, rtol=1e-4, atol=1e-5)
    config = pruned.config_from_shapes()
    slices = network.config.branch_slices
    assert config.branch_filters == tuple(int(keep["block1_relu"][s].sum()) for s in slices)
    assert config.branch_filters[2] == 1
    assert config.fcn_filters == (int(keep["fcn1"].sum()), int(keep["fcn2"].sum()))
    # a registered network again: it rebuilds from its config and round-trips
    rebuilt = rebuild_from_shapes(pruned)
    name, saved = network_config(rebuilt)
    reloaded = build_network(name, saved)
    reloaded.load_state_dict(rebuilt.state_dict())
    reloaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), pruned(x))
    # the frozen hand-crafted filters survive untouched
    for before, after in zip(network.hand_crafted.weights, reloaded.hand_crafted.weights,
                             strict=True):  # fmt: skip
        assert torch.equal(before, after)
    assert sum(p.numel() for p in reloaded.parameters()) < sum(
        p.numel() for p in network.parameters()
    )
    # the original is untouched
    assert network.config_from_shapes() == network.config


def test_pruned_h_inception_with_residuals_computes_the_zeroed_original(zeroed):
    torch.manual_seed(0)
    network = Inception(InceptionConfig(1, 2, n_filters=8, hand_crafted=True))
    _randomise_batchnorm(network)
    rng = np.random.default_rng(2)
    stages = network.prunable_stages()
    # modules 2 and 5 end with a residual add: their stage is the output after it
    assert [s.output for s in stages] == ["blocks.0", "blocks.1", "residual_relus.0",
                                          "blocks.3", "blocks.4", "residual_relus.1"]  # fmt: skip
    keep = {}
    for block, stage in zip(network.blocks, stages, strict=True):
        mask = rng.random(block.out_channels) > 0.5
        for fixed in stage.fixed:
            mask[fixed] = True
        keep[stage.output] = guard_groups(mask, stage.groups)
    x = torch.randn(4, 1, 41)
    pruned = remove_channels(network, keep, x[:2])
    expected = zeroed(network, keep, x)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), expected, rtol=1e-4, atol=1e-5)
    rebuilt = rebuild_from_shapes(pruned)
    for d, row in enumerate(rebuilt.config.widths):
        groups = network.blocks[d].channel_groups
        mask = keep[stages[d].output]
        assert row == tuple(int(mask[groups[g]].sum()) for g in ("conv0", "conv1", "conv2", "pool"))
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(x), pruned(x))


def test_remove_channels_refuses_bad_masks():
    network, keep = _lite_case(1)
    x = torch.randn(2, 1, 30)
    with pytest.raises(ValueError, match="channels"):
        remove_channels(network, {"fcn1": np.ones(31, bool)}, x)
    with pytest.raises(ValueError, match="every channel"):
        remove_channels(network, {"fcn2": np.zeros(32, bool)}, x)
    with pytest.raises(ValueError, match="unknown stages"):
        remove_channels(network, {"head": np.ones(2, bool)}, x)
    never = keep["block1_relu"].copy()
    never[100] = False  # a hand-crafted channel
    with pytest.raises(ValueError, match="hand-crafted"):
        remove_channels(network, {"block1_relu": never}, x)
