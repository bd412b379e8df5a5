from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from sparsetsc.cost import model_cost
from sparsetsc.nn import DSN, DSNConfig
from sparsetsc.nn.region_conv import RegionConv1d, full_kernels, kernel_group_regions, tap_bands


def test_regions_match_the_official_code():
    assert kernel_group_regions(141, 39, 3) == [(0, 47, 0, 13), (47, 94, 0, 26), (94, 141, 0, 39)]
    assert kernel_group_regions(141, 39, 3, "center") == [
        (0, 47, 13, 26),
        (47, 94, 6, 32),
        (94, 141, 0, 39),
    ]
    # torch.chunk sizes and the unused last taps for other group counts
    assert kernel_group_regions(10, 39, 3) == [(0, 4, 0, 13), (4, 8, 0, 26), (8, 10, 0, 39)]
    assert [r[3] for r in kernel_group_regions(8, 39, 2)] == [19, 38]
    assert kernel_group_regions(8, 39, 1) == [(0, 8, 0, 39)]
    with pytest.raises(ValueError, match="n_groups"):
        kernel_group_regions(8, 39, 0)
    with pytest.raises(ValueError, match="anchor"):
        kernel_group_regions(8, 39, 3, "right")


def test_faithful_dsn_parameter_count_and_shapes():
    network = DSN(DSNConfig(n_channels=1, n_classes=2))
    assert sum(p.numel() for p in network.parameters()) == 802_153
    assert network.blocks[0].conv.weight.shape == (141, 1, 39)
    assert network.blocks[1].conv.weight.shape == (141, 47, 39)
    assert isinstance(network.blocks[0].bottleneck, torch.nn.Identity)
    assert network.blocks[1].bottleneck.weight.shape == (47, 141, 1)
    assert network(torch.randn(2, 1, 150)).shape == (2, 2)
    assert network(torch.randn(2, 1, 20)).shape == (2, 2)  # shorter than the pooling size
    multivariate = DSN(DSNConfig(n_channels=6, n_classes=4))
    assert multivariate.blocks[0].bottleneck.weight.shape == (47, 6, 1)
    assert multivariate(torch.randn(2, 6, 100)).shape == (2, 4)


def test_dense_macs_count_whole_kernels_and_sparse_macs_the_regions():
    network = DSN(DSNConfig(n_channels=1, n_classes=2))
    with torch.no_grad():  # a random init can hold an exact zero, which would not be counted
        for parameter in network.parameters():
            parameter.fill_(0.5)
    cost = model_cost(network, 1, 150)
    assert cost.macs_dense == 120_124_950  # about 120.1 M, the reference value
    # without masks the network already skips taps outside each group's region (2/3 of k)
    assert cost.macs_per_layer["blocks.1.conv"] == 150 * 47 * 47 * (13 + 26 + 39)


def test_tap_bands_split_nested_regions_into_short_kernels():
    assert tap_bands(kernel_group_regions(141, 39, 3), 39) == [
        (0, 13, 0),
        (13, 26, 47),
        (26, 39, 94),
    ]
    assert tap_bands(kernel_group_regions(141, 39, 3, "center"), 39) == [
        (13, 26, 0),
        (6, 13, 47),
        (26, 32, 47),
        (0, 6, 94),
        (32, 39, 94),
    ]
    assert tap_bands([(0, 2, 0, 5), (2, 4, 3, 9)], 9) is None  # not nested: per-group path


NOT_NESTED = [(0, 4, 0, 5), (4, 8, 3, 9), (8, 12, 2, 7)]


def _region_mask(regions, shape):
    mask = torch.zeros(shape)
    for o0, o1, t0, t1 in regions:
        mask[o0:o1, :, t0:t1] = 1
    return mask


@pytest.mark.parametrize("padding", ["zeros", "replicate"])
@pytest.mark.parametrize("anchor", ["left", "center", "not nested"])
@pytest.mark.parametrize("in_channels", [3, 20])  # below / above BAND_MIN_IN_CHANNELS
def test_region_path_equals_the_masked_dense_convolution(padding, anchor, in_channels):
    torch.manual_seed(0)
    regions = NOT_NESTED if anchor == "not nested" else kernel_group_regions(12, 9, 3, anchor)
    conv = RegionConv1d(in_channels, 12, 9, padding, regions)
    uses_bands = in_channels >= RegionConv1d.BAND_MIN_IN_CHANNELS
    assert uses_bands == (in_channels == 20)
    inside = _region_mask(regions, conv.weight.shape)
    mode = "replicate" if padding == "replicate" else "constant"
    x = torch.randn(4, in_channels, 30, requires_grad=True)
    # reference: a dense convolution with every tap outside the regions zeroed (what masks
    # guarantee); the region path must give the same output and the same gradients
    dense = F.conv1d(F.pad(x, conv.same_padding, mode=mode), conv.weight * inside)
    grad_output = torch.randn_like(dense)
    dense_grads = torch.autograd.grad(dense, (x, conv.weight), grad_output)
    # the weight outside the regions is deliberately non-zero: the region path never reads it
    grouped = conv(x)
    assert grouped.shape == (4, 12, 30)
    torch.testing.assert_close(grouped, dense, rtol=1e-5, atol=1e-5)
    grads = torch.autograd.grad(grouped, (x, conv.weight), grad_output)
    torch.testing.assert_close(grads[0], dense_grads[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads[1], dense_grads[1], rtol=1e-5, atol=1e-5)
    assert grads[1][inside == 0].abs().max() == 0
    with torch.no_grad():  # the inference path (plain operations, no custom backward)
        torch.testing.assert_close(conv(x), dense, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        conv.weight.mul_(inside)
    with full_kernels(conv):
        torch.testing.assert_close(conv(x), dense, rtol=1e-5, atol=1e-5)
    assert conv.regions == regions


def test_replicate_padding_looks_forward_and_zero_padding_is_centred():
    conv = RegionConv1d(1, 1, 3, "replicate")
    assert conv.same_padding == (0, 2)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 2] = 1.0  # tap 2 = value two steps ahead
    x = torch.arange(5.0).view(1, 1, 5)
    assert conv(x).flatten().tolist() == [2.0, 3.0, 4.0, 4.0, 4.0]
    assert RegionConv1d(1, 1, 39, "zeros").same_padding == (19, 19)
