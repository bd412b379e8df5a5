from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sparsetsc.nn.inception import Inception, InceptionConfig


def trainable(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def frozen(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if not p.requires_grad)


def without_head(network: Inception) -> int:
    return trainable(network) - trainable(network.head)


def test_reference_parameter_counts():
    network = Inception(InceptionConfig(n_channels=1, n_classes=2))
    assert without_head(network) == 420_192
    assert trainable(network) == 420_192 + 129 * 2 == 420_450
    assert frozen(network) == 0
    # module 0 reads the univariate input directly; later modules have a 32-wide bottleneck
    assert network.blocks[0].bottleneck is None
    assert network.blocks[1].bottleneck.weight.shape == (32, 128, 1)
    assert [conv.weight.shape[-1] for conv in network.blocks[1].branches.values()] == [40, 20, 10]
    # the max-pool branch reads the module input (128 channels), not the bottleneck
    assert network.blocks[1].pool_conv.weight.shape == (32, 128, 1)
    assert [s.conv.weight.shape for s in network.shortcuts] == [(128, 1, 1), (128, 128, 1)]
    logits, stages = network.forward_stages(torch.randn(2, 1, 16))
    assert logits.shape == (2, 2)
    assert [s.shape for s in stages] == [(2, 128, 16)] * 6


@pytest.mark.parametrize("f", [8, 16, 32])
def test_uniform_width_formula(f):
    # The formula keeps the bottleneck at 32 (terms 32*4f and 32*f*70 per module 1..5).
    expected = 11979 * f + 36 * f**2
    assert without_head(Inception(InceptionConfig(1, 2, n_filters=f))) == expected
    rows = ((f, f, f, f),) * 6
    assert without_head(Inception(InceptionConfig(1, 2, widths=rows))) == expected


def test_hand_crafted_first_module_and_frozen_weights():
    torch.manual_seed(0)
    network = Inception(InceptionConfig(n_channels=1, n_classes=3, hand_crafted=True))
    first = network.blocks[0]
    assert first.bn.num_features == 145
    assert first.channel_groups["hand_crafted"] == slice(128, 145)
    assert all(block.hand_crafted is None for block in network.blocks[1:])
    assert frozen(network) == 438
    # 17 more BN channels (gamma, beta) in module 0 and 17 more inputs to module 1's
    # bottleneck (32 each) and max-pool conv (32 each)
    assert without_head(network) == 420_192 + 2 * 17 + 2 * 17 * 32
    # a shallow network keeps the training steps fast; module 0 is the same
    network = Inception(dataclasses.replace(network.config, depth=2, widths=None))
    first = network.blocks[0]
    before = {n: p.detach().clone() for n, p in network.named_parameters() if not p.requires_grad}
    conv_before = first.branches["conv0"].weight.detach().clone()
    optimizer = torch.optim.Adam(network.parameters(), lr=0.1)
    x, y = torch.randn(4, 1, 50), torch.tensor([0, 1, 2, 0])
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(network(x), y).backward()
        optimizer.step()
    after = dict(network.named_parameters())
    assert before  # the frozen weights live in blocks.0.hand_crafted
    for name, value in before.items():
        assert name.startswith("blocks.0.hand_crafted.")
        assert torch.equal(after[name], value)
    assert not torch.equal(first.branches["conv0"].weight, conv_before)  # training did happen


def test_multivariate_hand_crafted_channels():
    config = InceptionConfig(n_channels=3, n_classes=2, n_filters=8, depth=3, hand_crafted=True)
    network = Inception(config)
    assert config.module_channels == (32 + 51, 32, 32)
    assert network.blocks[0].bottleneck.weight.shape == (32, 3, 1)  # multivariate: bottleneck
    assert frozen(network) == 3 * 438
    _, stages = network.forward_stages(torch.randn(2, 3, 33))
    assert [s.shape for s in stages] == [(2, 83, 33), (2, 32, 33), (2, 32, 33)]


def test_pruned_widths_remove_branches():
    rows = ((5, 0, 3, 2), (0, 4, 0, 0), (1, 1, 1, 1), (0, 0, 0, 6), (2, 2, 2, 0), (3, 0, 0, 1))
    network = Inception(InceptionConfig(n_channels=1, n_classes=4, widths=rows))
    assert network.config.module_channels == (10, 4, 4, 6, 6, 4)
    first, second = network.blocks[0], network.blocks[1]
    assert list(first.branches) == ["conv0", "conv2"]
    assert not any(".conv1." in name for name, _ in first.named_parameters())
    assert first.channel_groups == {
        "conv0": slice(0, 5),
        "conv1": slice(5, 5),
        "conv2": slice(5, 8),
        "pool": slice(8, 10),
    }
    assert second.pool_conv is None and second.pool is None
    assert list(second.branches) == ["conv1"]
    assert second.bottleneck.weight.shape == (32, 10, 1)  # never pruned, reads 10 channels
    assert network.blocks[2].pool_conv.weight.shape == (1, 4, 1)
    # only the max-pool branch is left: no branch reads a bottleneck, so none is built
    assert network.blocks[3].bottleneck is None and len(network.blocks[3].branches) == 0
    assert network.blocks[3].pool_conv.weight.shape == (6, 4, 1)
    assert [s.conv.weight.shape for s in network.shortcuts] == [(4, 1, 1), (4, 4, 1)]
    assert network.head.in_features == 4
    expected = (
        (5 * 40 + 3 * 10 + 2 + 2 * 10)  # module 0: branches read the input, BN on 10
        + (10 * 32 + 4 * 32 * 20 + 2 * 4)  # module 1
        + (4 * 32 + 32 * (40 + 20 + 10) + 4 + 2 * 4)  # module 2
        + (4 * 6 + 2 * 6)  # module 3: max-pool branch only
        + (6 * 32 + 2 * 32 * 70 + 2 * 6)  # module 4
        + (6 * 32 + 3 * 32 * 40 + 6 + 2 * 4)  # module 5
        + (1 * 4 + 2 * 4)
        + (4 * 4 + 2 * 4)  # shortcuts
    )
    assert without_head(network) == expected
    logits, stages = network.forward_stages(torch.randn(3, 1, 17))
    assert logits.shape == (3, 4)
    assert [s.shape[1] for s in stages] == [10, 4, 4, 6, 6, 4]


def test_empty_module_is_rejected():
    rows = [[32] * 4] * 6
    rows[2] = [0, 0, 0, 0]
    with pytest.raises(ValueError, match="module 2 would have no output channels"):
        InceptionConfig(1, 2, widths=rows)
    rows[2] = [0, 0, 0, 1]
    InceptionConfig(1, 2, widths=rows)  # one channel is enough
    # with hand-crafted filters module 0 keeps 17 channels even without any branch
    rows[0] = [0, 0, 0, 0]
    assert InceptionConfig(1, 2, widths=rows, hand_crafted=True).module_channels[0] == 17
    with pytest.raises(ValueError, match="module 0"):
        InceptionConfig(1, 2, widths=rows)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"widths": [[32] * 4] * 5}, "one row per module"),
        ({"widths": [[32] * 3] * 6}, r"widths\[0\] must be 4"),
        ({"widths": [[32, 32, 32, -1]] * 6}, ">= 0"),
        ({"widths": [[32, 32, 32, 2.5]] * 6}, "integer"),
        ({"n_filters": 0}, "n_filters"),
        ({"depth": 0}, "depth"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"bottleneck_size": 0}, "bottleneck_size"),
        ({"use_residual": "yes"}, "use_residual"),
    ],
)
def test_bad_config_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InceptionConfig(1, 2, **kwargs)


@pytest.mark.parametrize("n_channels", [1, 3])
def test_output_shapes_and_stages(n_channels):
    network = Inception(InceptionConfig(n_channels=n_channels, n_classes=5, n_filters=8, depth=4))
    assert (network.blocks[0].bottleneck is None) == (n_channels == 1)
    assert len(network.shortcuts) == 1  # after module 2 only, for depth 4
    for length in (1, 2, 5, 8, 41):
        logits, stages = network.forward_stages(torch.randn(2, n_channels, length))
        assert logits.shape == (2, 5)
        assert [s.shape for s in stages] == [(2, 32, length)] * 4
    x = torch.randn(2, n_channels, 9)
    assert network(x).shape == (2, 5)
    assert network.forward_features(x).shape == (2, 32)


def test_min_timepoints_lengths_run():
    config = InceptionConfig(n_channels=2, n_classes=2, n_filters=4, depth=3, hand_crafted=True)
    assert config.min_timepoints == 1
    network = Inception(config)
    for length in range(config.min_timepoints, 6):
        network.train()
        network(torch.randn(2, 2, length)).sum().backward()
        network.eval()
        assert network(torch.randn(1, 2, length)).shape == (1, 2)


def test_residual_adds_shortcut_to_module_output_after_its_relu():
    torch.manual_seed(1)
    network = Inception(InceptionConfig(n_channels=2, n_classes=2, n_filters=8)).eval()
    with torch.no_grad():  # non-trivial BN statistics, so the ordering matters
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-1, 1)
                module.bias.uniform_(-1, 1)
    x = torch.randn(2, 2, 30)
    with torch.no_grad():
        _, stages = network.forward_stages(x)
        s1 = network.blocks[1](network.blocks[0](x))
        first = F.relu(network.blocks[2](s1) + network.shortcuts[0](x))
        torch.testing.assert_close(stages[2], first)
        s4 = network.blocks[4](network.blocks[3](first))
        second = F.relu(network.blocks[5](s4) + network.shortcuts[1](first))
        torch.testing.assert_close(stages[5], second)
        torch.testing.assert_close(network.forward_features(x), stages[5].mean(-1))


def correlate(x: np.ndarray, w: np.ndarray, left: int) -> np.ndarray:
    """Length-preserving cross-correlation with ``left`` zeros before and the rest after."""
    k = w.shape[-1]
    padded = np.pad(x, ((0, 0), (left, k - 1 - left)))
    length = x.shape[-1]
    return np.stack(
        [
            [
                sum((w[o, c] * padded[c, t : t + k]).sum() for c in range(x.shape[0]))
                for t in range(length)
            ]
            for o in range(w.shape[0])
        ]
    )


@pytest.mark.parametrize("branch, kernel", [("conv0", 40), ("conv1", 20), ("conv2", 10)])
def test_even_kernels_pad_like_keras(branch, kernel):
    torch.manual_seed(2)
    conv = Inception(InceptionConfig(1, 2, widths=[[2, 2, 2, 1]] * 6)).blocks[0].branches[branch]
    assert conv.weight.shape == (2, 1, kernel)
    x = torch.randn(1, 1, 25, dtype=torch.float64)
    with torch.no_grad():
        got = conv.double()(x)[0].numpy()
    w = conv.weight.detach().numpy()
    # Keras "same": (k - 1) // 2 zeros on the left, the extra one on the right
    np.testing.assert_allclose(got, correlate(x[0].numpy(), w, (kernel - 1) // 2), atol=1e-12)
    # the extra zero on the left (k // 2, what symmetric k // 2 padding gives) differs
    assert not np.allclose(got, correlate(x[0].numpy(), w, kernel // 2))


def test_config_round_trip():
    config = InceptionConfig(
        n_channels=2, n_classes=3, hand_crafted=True, depth=2, widths=[[1, 2, 3, 4], [5, 0, 0, 1]]
    )
    assert config.widths == ((1, 2, 3, 4), (5, 0, 0, 1))
    assert InceptionConfig(**dataclasses.asdict(config)) == config
    as_json = json.loads(json.dumps(dataclasses.asdict(config)))
    assert isinstance(as_json["widths"][0], list)
    assert InceptionConfig(**as_json) == config
    # None is stored as the concrete widths, so a saved default config round-trips too
    default = InceptionConfig(1, 2, n_filters=8, depth=3)
    assert default.widths == ((8, 8, 8, 8),) * 3
    rebuilt = InceptionConfig(**json.loads(json.dumps(dataclasses.asdict(default))))
    assert rebuilt == default
    network = Inception(rebuilt)
    assert network.config is rebuilt
    assert Inception.config_class is InceptionConfig
    assert without_head(network) == without_head(Inception(default))
