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
from sparsetsc.prune.rebuild import Stage, rebuild_from_shapes, remove_channels


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


def _with_dropped_channels_zeroed(network, stages, keep, x):
    modules = dict(network.named_modules())
    handles = []
    for name, mask in keep.items():
        scale = torch.as_tensor(mask, dtype=torch.float32).view(1, -1, 1)
        handles.append(modules[stages[name].output].register_forward_hook(
            lambda module, inputs, output, scale=scale: output * scale))  # fmt: skip
    try:
        with torch.no_grad():
            return network(x)
    finally:
        for handle in handles:
            handle.remove()


def _lite_case(n_channels):
    torch.manual_seed(0)
    network = LITE(LITEConfig(n_channels, 3))
    _randomise_batchnorm(network)
    config = network.config
    stages = {"block1": Stage("block1_relu", "bn1"), "fcn1": Stage("fcn1", "fcn1.bn"),
              "fcn2": Stage("fcn2", "fcn2.bn")}  # fmt: skip
    rng = np.random.default_rng(1)
    block1 = rng.random(config.block1_channels) > 0.6
    block1[config.hand_crafted_slice] = True  # never removed
    block1[config.branch_slices[2]] = False  # a branch with nothing left: the guard keeps one
    block1 = guard_groups(block1, config.branch_slices)
    keep = {"block1": block1, "fcn1": rng.random(32) > 0.5, "fcn2": rng.random(32) > 0.5}
    return network, stages, keep


@pytest.mark.parametrize("n_channels", [1, 3])  # LITE and LITEMV
def test_pruned_lite_computes_the_zeroed_original(n_channels):
    network, stages, keep = _lite_case(n_channels)
    x = torch.randn(5, n_channels, 57)
    pruned = remove_channels(network, keep, stages, x[:2])
    expected = _with_dropped_channels_zeroed(network, stages, keep, x)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), expected, rtol=1e-4, atol=1e-5)
    config = pruned.config_from_shapes()
    slices = network.config.branch_slices
    assert config.branch_filters == tuple(int(keep["block1"][s].sum()) for s in slices)
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


def test_pruned_h_inception_with_residuals_computes_the_zeroed_original():
    torch.manual_seed(0)
    network = Inception(InceptionConfig(1, 2, n_filters=8, hand_crafted=True))
    _randomise_batchnorm(network)
    rng = np.random.default_rng(2)
    stages, keep = {}, {}
    for d, block in enumerate(network.blocks):
        # modules 2 and 5 end with a residual add: the stage is the output after it
        output = f"residual_relus.{d // 3}" if d % 3 == 2 else f"blocks.{d}"
        stages[f"module{d}"] = Stage(output, f"blocks.{d}.bn")
        groups = block.channel_groups
        mask = rng.random(block.out_channels) > 0.5
        if "hand_crafted" in groups:
            mask[groups["hand_crafted"]] = True
        keep[f"module{d}"] = guard_groups(
            mask, [groups[g] for g in ("conv0", "conv1", "conv2", "pool")]
        )
    x = torch.randn(4, 1, 41)
    pruned = remove_channels(network, keep, stages, x[:2])
    expected = _with_dropped_channels_zeroed(network, stages, keep, x)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), expected, rtol=1e-4, atol=1e-5)
    rebuilt = rebuild_from_shapes(pruned)
    for d, row in enumerate(rebuilt.config.widths):
        groups = network.blocks[d].channel_groups
        mask = keep[f"module{d}"]
        assert row == tuple(int(mask[groups[g]].sum()) for g in ("conv0", "conv1", "conv2", "pool"))
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(x), pruned(x))


def test_remove_channels_refuses_bad_masks():
    network, stages, keep = _lite_case(1)
    x = torch.randn(2, 1, 30)
    with pytest.raises(ValueError, match="channels"):
        remove_channels(network, {"fcn1": np.ones(31, bool)}, stages, x)
    with pytest.raises(ValueError, match="every channel"):
        remove_channels(network, {"fcn2": np.zeros(32, bool)}, stages, x)
    never = keep["block1"].copy()
    never[100] = False  # a hand-crafted channel
    with pytest.raises(ValueError, match="hand-crafted"):
        remove_channels(network, {"block1": never}, stages, x)
