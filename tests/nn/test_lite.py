from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from sparsetsc.nn.handcrafted import N_HAND_CRAFTED, HandCraftedFilters, hand_crafted_filters
from sparsetsc.nn.lite import LITE, LITEConfig, SeparableConv1d


def trainable_without_head(net: torch.nn.Module) -> int:
    return sum(
        p.numel() for n, p in net.named_parameters() if p.requires_grad and not n.startswith("head")
    )


def frozen(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if not p.requires_grad)


def expected_trainable(config: LITEConfig) -> int:
    """Trainable parameters without the head, counted from the architecture description."""
    c = config.n_channels
    b, (f0, f1) = config.branch_filters, config.fcn_filters
    ks = config.branch_kernel_sizes
    k1, k2 = config.fcn_kernel_sizes
    if config.multivariate:  # depthwise (C * k) + pointwise (C * b) per branch
        branches = sum(c * k + c * width for k, width in zip(ks, b, strict=True))
    else:
        branches = sum(c * k * width for k, width in zip(ks, b, strict=True))
    a = sum(b) + config.hand_crafted_channels
    bn1 = 2 * a
    fcn1 = k1 * a + f0 * a + 2 * f0
    fcn2 = k2 * f0 + f1 * f0 + 2 * f1
    return branches + bn1 + fcn1 + fcn2


def test_univariate_parameter_counts_match_the_paper():
    net = LITE(LITEConfig(n_channels=1, n_classes=2))
    assert trainable_without_head(net) == 9_814
    assert frozen(net) == 438
    assert sum(p.numel() for p in net.parameters()) == 10_318
    assert sum(p.numel() for p in net.head.parameters()) == 33 * 2
    assert sum(p.numel() for p in LITE(LITEConfig(1, 7)).head.parameters()) == 33 * 7


@pytest.mark.parametrize("f", [8, 16, 32])
def test_uniform_width_formula(f):
    net = LITE(LITEConfig(n_channels=1, n_classes=3, n_filters=f))
    formula = 70 * f + 2 * (3 * f + 17) + 20 * (3 * f + 17) + f * (3 * f + 17) + 14 * f + f**2
    assert trainable_without_head(net) == formula
    assert expected_trainable(net.config) == formula


def test_layer_shapes_kernels_and_dilations():
    net = LITE(LITEConfig(n_channels=1, n_classes=2))
    assert [b.weight.shape for b in net.branches] == [(32, 1, 40), (32, 1, 20), (32, 1, 10)]
    assert all(b.bias is None for b in net.branches)
    assert net.fcn1.conv.depthwise.weight.shape == (113, 1, 20)
    assert net.fcn1.conv.depthwise.dilation == (2,)
    assert net.fcn1.conv.pointwise.weight.shape == (32, 113, 1)
    assert net.fcn2.conv.depthwise.weight.shape == (32, 1, 10)
    assert net.fcn2.conv.depthwise.dilation == (4,)
    # Keras "same": the extra zero goes right, dilation included
    assert net.fcn1.conv.depthwise.same_padding == (19, 19)
    assert net.fcn2.conv.depthwise.same_padding == (18, 18)
    assert net.branches[0].same_padding == (19, 20)
    assert net.config.branch_slices == (slice(0, 32), slice(32, 64), slice(64, 96))
    assert net.config.hand_crafted_slice == slice(96, 113)
    undilated = LITE(LITEConfig(1, 2, use_dilation=False))
    assert undilated.fcn1.conv.depthwise.dilation == undilated.fcn2.conv.depthwise.dilation == (1,)


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 17, 64, 101])
def test_univariate_shapes(length):
    net = LITE(LITEConfig(n_channels=1, n_classes=4))
    x = torch.randn(2, 1, length)
    logits, stages = net.forward_stages(x)  # train mode: BN over batch * time >= 2 values
    assert logits.shape == (2, 4)
    assert [s.shape for s in stages] == [(2, 113, length), (2, 32, length), (2, 32, length)]
    assert all((s >= 0).all() for s in stages)  # after ReLU
    net.eval()
    assert net(x).shape == (2, 4)
    assert net.forward_features(x).shape == (2, 32)
    torch.testing.assert_close(net.forward_stages(x)[0], net(x))


@pytest.mark.parametrize("length", [1, 4, 9, 50])
def test_multivariate_shapes_and_counts(length):
    config = LITEConfig(n_channels=3, n_classes=5)
    assert config.multivariate
    net = LITE(config)
    assert isinstance(net.branches[0], SeparableConv1d)
    assert net.branches[0].depthwise.weight.shape == (3, 1, 40)
    assert net.branches[0].pointwise.weight.shape == (32, 3, 1)
    x = torch.randn(2, 3, length)
    logits, stages = net.forward_stages(x)
    assert logits.shape == (2, 5)
    assert [s.shape for s in stages] == [(2, 96 + 17 * 3, length), (2, 32, length), (2, 32, length)]
    assert frozen(net) == 438 * 3
    assert trainable_without_head(net) == expected_trainable(config)
    net.eval()
    assert net(x).shape == (2, 5)
    assert net.forward_features(x).shape == (2, 32)


def test_variants_without_hand_crafted_or_separable_branches():
    plain = LITE(LITEConfig(n_channels=3, n_classes=2, multivariate=False))
    assert plain.branches[1].weight.shape == (32, 3, 20)  # full conv over all channels
    assert trainable_without_head(plain) == expected_trainable(plain.config)
    assert plain(torch.randn(2, 3, 30)).shape == (2, 2)
    bare = LITE(LITEConfig(n_channels=1, n_classes=2, hand_crafted=False))
    assert bare.hand_crafted is None and frozen(bare) == 0
    assert bare.forward_stages(torch.randn(2, 1, 30))[1][0].shape == (2, 96, 30)
    assert trainable_without_head(bare) == expected_trainable(bare.config)
    mv_one = LITE(LITEConfig(n_channels=1, n_classes=2, multivariate=True))
    assert trainable_without_head(mv_one) == expected_trainable(mv_one.config)
    assert mv_one(torch.randn(2, 1, 30)).shape == (2, 2)


def test_per_branch_widths():
    config = LITEConfig(n_channels=1, n_classes=3, branch_filters=(5, 3, 2), fcn_filters=(7, 4))
    net = LITE(config)
    a = 10 + 17
    by_hand = (5 * 40 + 3 * 20 + 2 * 10) + 2 * a + (20 * a + 7 * a + 14) + (10 * 7 + 4 * 7 + 8)
    assert trainable_without_head(net) == expected_trainable(config) == by_hand
    assert config.branch_slices == (slice(0, 5), slice(5, 8), slice(8, 10))
    assert config.hand_crafted_slice == slice(10, 27)
    logits, stages = net.forward_stages(torch.randn(2, 1, 33))
    assert logits.shape == (2, 3)
    assert [s.shape[1] for s in stages] == [27, 7, 4]
    mv = LITE(LITEConfig(2, 3, branch_filters=(5, 3, 2), fcn_filters=(7, 4)))
    assert trainable_without_head(mv) == expected_trainable(mv.config)
    assert mv(torch.randn(2, 2, 33)).shape == (2, 3)


def test_hand_crafted_weights_stay_frozen_under_adam():
    torch.manual_seed(0)
    net = LITE(LITEConfig(n_channels=2, n_classes=3))
    frozen_before = [w.detach().clone() for w in net.hand_crafted.parameters()]
    assert frozen_before and not any(w.requires_grad for w in net.hand_crafted.parameters())
    branch_before = net.branches[0].pointwise.weight.detach().clone()
    net.requires_grad_(True)  # even so, the forward pass detaches the hand-crafted weights
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = torch.randn(8, 2, 40), torch.randint(0, 3, (8,))
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    for weight, before in zip(net.hand_crafted.parameters(), frozen_before, strict=True):
        assert weight.grad is None
        assert torch.equal(weight, before)
    assert not torch.equal(net.branches[0].pointwise.weight, branch_before)  # training happened


def test_hand_crafted_filter_values():
    filters = hand_crafted_filters()
    assert len(filters) == N_HAND_CRAFTED == 17
    assert filters[0].tolist() == [-1.0, 1.0]  # increasing, k=2
    assert filters[6 + 1].tolist() == [1.0, -1.0, 1.0, -1.0]  # decreasing, k=4
    assert filters[12].tolist() == [-1.0, -1.0, 2.0, 2.0, -1.0, -1.0]  # peak, k=4
    assert [len(f) for f in filters[12:]] == [6, 12, 24, 48, 96]
    assert [len(f) for f in filters[:12]] == [2, 4, 8, 16, 32, 64] * 2


def test_hand_crafted_filters_use_keras_same_padding():
    x = np.array([0.5, -1.0, 2.0, 3.0, -0.5, 1.5, 0.0], dtype=np.float32)
    out = HandCraftedFilters(1)(torch.from_numpy(x).view(1, 1, -1))[0].numpy()
    filters = hand_crafted_filters()
    for index in (0, 7, 12):  # lengths 2, 4 and 6: the extra zero goes on the right
        w = filters[index].numpy()
        left = (len(w) - 1) // 2
        padded = np.pad(x, (left, len(w) - 1 - left))
        expected = np.maximum(np.correlate(padded, w, mode="valid"), 0.0)  # cross-correlation
        np.testing.assert_allclose(out[index], expected, rtol=1e-6, atol=1e-6)
    # the network puts the hand-crafted channels last in block 1, before bn1
    net = LITE(LITEConfig(1, 2)).eval()  # training fuses bn1 with the ReLU: no module call
    captured = {}
    net.bn1.register_forward_hook(lambda m, inputs, output: captured.update(x=inputs[0]))
    net(torch.from_numpy(x).view(1, 1, -1))
    torch.testing.assert_close(captured["x"][0, 96:], torch.from_numpy(out))


def test_config_round_trip_and_validation():
    config = LITEConfig(n_channels=1, n_classes=2)
    assert config.branch_filters == (32, 32, 32)
    assert config.fcn_filters == (32, 32)
    assert config.multivariate is False
    assert LITEConfig(**dataclasses.asdict(config)) == config
    custom = LITEConfig(4, 3, branch_filters=[5, 3, 2], fcn_filters=[7, 4], kernel_size=20)
    assert custom.branch_filters == (5, 3, 2) and custom.multivariate is True
    assert LITEConfig(**json.loads(json.dumps(dataclasses.asdict(custom)))) == custom
    assert LITEConfig(1, 2).min_timepoints == 1
    with pytest.raises(ValueError, match="n_filters"):
        LITEConfig(1, 2, n_filters=0)
    with pytest.raises(ValueError, match="branch_filters"):
        LITEConfig(1, 2, branch_filters=(4, 4))
    with pytest.raises(ValueError, match="branch_filters"):
        LITEConfig(1, 2, branch_filters=(4, 0, 4))
    with pytest.raises(ValueError, match="fcn_filters"):
        LITEConfig(1, 2, fcn_filters=(4, 4, 4))
    with pytest.raises(ValueError, match="fcn_filters"):
        LITEConfig(1, 2, fcn_filters=4)
    with pytest.raises(ValueError, match="kernel_size"):
        LITEConfig(1, 2, kernel_size=3)
    with pytest.raises(ValueError, match="n_channels"):
        LITEConfig(0, 2)
    with pytest.raises(ValueError, match="n_classes"):
        LITEConfig(1, 0)


def test_hand_crafted_filters_are_one_autograd_node_with_the_right_input_gradient():
    torch.manual_seed(0)
    bank = HandCraftedFilters(2)
    x = torch.randn(3, 2, 40, requires_grad=True)
    out = bank(x)
    assert type(out.grad_fn).__name__ == "_HandCraftedFunctionBackward"
    assert out.grad_fn.next_functions[0][0] is not None  # leads straight back to x
    grad_output = torch.randn_like(out)
    (expected,) = torch.autograd.grad(bank._filter(x), x, grad_output)
    (got,) = torch.autograd.grad(out, x, grad_output)
    torch.testing.assert_close(got, expected)
    with torch.no_grad():
        torch.testing.assert_close(bank(x), out)
