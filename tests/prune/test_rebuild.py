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
from sparsetsc.prune import guard_groups
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
    for before, after in zip(
        network.hand_crafted.weights, reloaded.hand_crafted.weights, strict=True
    ):
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
    assert [s.output for s in stages] == [
        "blocks.0",
        "blocks.1",
        "residual_relus.0",
        "blocks.3",
        "blocks.4",
        "residual_relus.1",
    ]
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


class _UserNet(torch.nn.Module):
    """A conv model sparsetsc knows nothing about."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv1d(2, 12, 5, padding=2),
            torch.nn.BatchNorm1d(12),
            torch.nn.ReLU(),
            torch.nn.Conv1d(12, 10, 3, padding=1),
            torch.nn.BatchNorm1d(10),
            torch.nn.ReLU(),
        )
        self.head = torch.nn.Linear(10, 3)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=-1))


def test_a_user_model_prunes_through_a_stage_description(zeroed):
    from sparsetsc.nn import PrunableStage
    from sparsetsc.prune import dsp_prune

    torch.manual_seed(0)
    network = _UserNet()
    _randomise_batchnorm(network)
    stages = [
        PrunableStage("features.2", "features.1", groups=(slice(0, 12),)),
        PrunableStage("features.5", "features.4", groups=(slice(0, 10),)),
    ]
    keep = {"features.2": np.arange(12) % 3 != 0, "features.5": np.arange(10) < 4}
    x = torch.randn(6, 2, 25)
    pruned = remove_channels(network, keep, x[:2], stages)
    assert pruned.features[0].out_channels == 8 and pruned.features[3].out_channels == 4
    assert pruned.head.in_features == 4
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), zeroed(network, keep, x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="does not describe its prunable stages"):
        remove_channels(network, keep, x[:2])
    # the whole DSP decision step works on it too; it stays a plain module
    result = dsp_prune(network, x, min_count=0, stages=stages)
    assert type(result.network) is _UserNet
    assert set(result.keep) == {"features.2", "features.5"}


@pytest.mark.parametrize("n_channels", [1, 3])  # without / with a bottleneck in block 0
def test_dsn_prunes_bottlenecks_and_kernel_groups(n_channels, zeroed):
    from sparsetsc.nn import DSN, DSNConfig
    from sparsetsc.nn.region_conv import tap_bands

    torch.manual_seed(0)
    network = DSN(DSNConfig(n_channels, 2, n_filters=6, kernel_size=9, depth=3))
    _randomise_batchnorm(network)
    rng = np.random.default_rng(3)
    stages = network.prunable_stages()
    names = [s.output for s in stages]
    assert ("blocks.0.bottleneck" in names) == (n_channels > 1)
    keep = {}
    for stage in stages:
        width = 6 if stage.output.endswith("bottleneck") else 18
        keep[stage.output] = guard_groups(rng.random(width) > 0.5, stage.groups)
    keep["blocks.1"][6:12] = False  # empty kernel group 1 of block 1 ...
    keep["blocks.1"] = guard_groups(keep["blocks.1"], stages[names.index("blocks.1")].groups)
    x = torch.randn(4, n_channels, 30)
    pruned = remove_channels(network, keep, x[:2])
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), zeroed(network, keep, x), rtol=1e-4, atol=1e-5)
    # ... keeps one channel (the guard), and every group keeps its own taps
    conv = pruned.blocks[1].conv
    sizes = [int(keep["blocks.1"][g * 6 : (g + 1) * 6].sum()) for g in range(3)]
    assert sizes[1] == 1
    assert [(o1 - o0, t1 - t0) for o0, o1, t0, t1 in conv.regions] == [
        (sizes[0], 3),
        (1, 6),
        (sizes[2], 9),
    ]
    assert tap_bands(conv.regions, 9) is not None  # still the fast nested-band path
