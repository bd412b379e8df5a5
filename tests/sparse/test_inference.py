"""Sparse inference: trimmed kernel groups and the zero-skipping convolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from sparsetsc.estimators import DSNClassifier
from sparsetsc.nn import DSN, DSNConfig
from sparsetsc.nn.region_conv import RegionConv1d, kernel_group_regions
from sparsetsc.nn.same_conv import SameConv1d
from sparsetsc.sparse import SparseConv1d, sparse_inference, trim_regions, weight_density


def _sparsify(weight: torch.Tensor, density: float, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    keep = torch.rand(weight.shape, generator=generator) < density
    return weight * keep


def _region_conv(padding: str = "zeros", seed: int = 0) -> RegionConv1d:
    torch.manual_seed(seed)
    regions = kernel_group_regions(30, 9, 3)  # taps 3, 6, 9
    conv = RegionConv1d(20, 30, 9, padding, regions)
    with torch.no_grad():
        conv.weight.copy_(_sparsify(conv.weight, 0.3, seed))
    return conv.eval()


def test_trim_regions_shrinks_each_group_to_its_used_taps_exactly():
    conv = _region_conv()
    with torch.no_grad():
        conv.weight[10:20, :, 4:] = 0.0  # group 1 (taps 0-5) now uses taps 0-3 at most
        conv.weight[20:30, :, :2] = 0.0  # group 2 (taps 0-8) now starts at tap 2 at the earliest
        conv.weight[20:30, :, 2] = 0.5  # ... and certainly uses tap 2
        conv.weight[10:20, 0, 3] = 0.5
    x = torch.randn(4, 20, 40)
    with torch.no_grad():
        before = conv(x)
    removed = trim_regions(conv)
    assert conv.regions[1] == (10, 20, 0, 4)
    assert conv.regions[2][2] == 2  # tap_start
    group0_span = conv.regions[0][3] - conv.regions[0][2]
    group2_span = conv.regions[2][3] - conv.regions[2][2]
    assert removed == 10 * (3 - group0_span) + 10 * (6 - 4) + 10 * (9 - group2_span)
    with torch.no_grad():
        torch.testing.assert_close(conv(x), before, rtol=1e-5, atol=1e-6)


def test_trim_regions_keeps_one_tap_for_an_all_zero_group():
    conv = _region_conv()
    with torch.no_grad():
        conv.weight[:10] = 0.0
    trim_regions(conv)
    out_start, out_stop, tap_start, tap_stop = conv.regions[0]
    assert (out_start, out_stop, tap_stop - tap_start) == (0, 10, 1)
    with torch.no_grad():
        assert conv(torch.randn(2, 20, 16))[:, :10].abs().max() == 0.0


@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_sparse_conv_equals_region_conv(padding):
    conv = _region_conv(padding)
    sparse = SparseConv1d.from_conv(conv)
    x = torch.randn(3, 20, 50)
    with torch.no_grad():
        torch.testing.assert_close(sparse(x), conv(x), rtol=1e-5, atol=1e-5)
    # taps outside the regions are not computed even when the raw weight holds values there
    assert sparse.density < weight_density(conv)


@pytest.mark.parametrize(
    "make_conv",
    [
        lambda: SameConv1d(6, 8, 5, dilation=2, bias=True),
        lambda: SameConv1d(6, 8, 4),
        lambda: nn.Conv1d(6, 8, 7, padding=3, bias=True),
        lambda: nn.Conv1d(6, 8, 6, padding="same", dilation=3),
        lambda: nn.Conv1d(6, 8, 5, padding=2, padding_mode="circular"),
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # the reference conv's own notice
def test_sparse_conv_equals_any_stride_one_conv(make_conv):
    torch.manual_seed(1)
    conv = make_conv().eval()
    with torch.no_grad():
        conv.weight.copy_(_sparsify(conv.weight, 0.4))
    sparse = SparseConv1d.from_conv(conv)
    for batch, length in ((1, 33), (5, 64)):  # a new length rebuilds the offsets
        x = torch.randn(batch, 6, length)
        with torch.no_grad():
            torch.testing.assert_close(sparse(x), conv(x), rtol=1e-5, atol=1e-5)


def test_sparse_conv_falls_back_to_dense_for_gradients_and_other_dtypes():
    conv = _region_conv()
    sparse = SparseConv1d.from_conv(conv)
    x = torch.randn(2, 20, 30, requires_grad=True)
    out = sparse(x)
    out.sum().backward()  # the dense path is differentiable
    assert x.grad is not None and x.grad.abs().sum() > 0
    with torch.no_grad():
        torch.testing.assert_close(sparse(x.double()), conv.double()(x.double()))


def test_sparse_conv_rejects_strided_or_grouped_convolutions():
    with pytest.raises(ValueError, match="stride 1 and groups 1"):
        SparseConv1d.from_conv(nn.Conv1d(4, 4, 3, stride=2))
    with pytest.raises(ValueError, match="stride 1 and groups 1"):
        SparseConv1d.from_conv(nn.Conv1d(4, 4, 3, groups=2))


def _masked_dsn(density: float) -> DSN:
    torch.manual_seed(0)
    network = DSN(DSNConfig(n_channels=1, n_classes=3, n_filters=8, kernel_size=9, depth=3))
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, RegionConv1d):
                module.weight.copy_(_sparsify(module.weight, density))
    return network.eval()


def test_sparse_inference_replaces_exactly_the_sparse_large_kernels():
    network = _masked_dsn(0.3)
    twin = sparse_inference(network)
    replaced = [name for name, m in twin.named_modules() if isinstance(m, SparseConv1d)]
    assert replaced == ["blocks.0.conv", "blocks.1.conv", "blocks.2.conv"]
    # 1x1 bottlenecks and the head stay ordinary convolutions; the original is untouched
    assert isinstance(twin.blocks[1].bottleneck, nn.Conv1d)
    assert sum(isinstance(m, SparseConv1d) for m in network.modules()) == 0
    x = torch.randn(7, 1, 60)
    with torch.no_grad():
        torch.testing.assert_close(twin(x), network(x), rtol=1e-5, atol=1e-5)
    assert not any(p.requires_grad for p in twin.parameters())


def test_sparse_inference_leaves_dense_layers_alone():
    network = _masked_dsn(1.0)
    twin = sparse_inference(network, max_density=0.5)
    assert not any(isinstance(m, SparseConv1d) for m in twin.modules())
    with pytest.raises(ValueError, match="max_density"):
        sparse_inference(network, max_density=0.0)


def test_dsn_classifier_predicts_the_same_with_sparse_and_dense_inference(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    model = DSNClassifier(
        n_filters=8, kernel_size=15, depth=2, n_epochs=3, device="cpu", random_state=0
    ).fit(X_train, y_train)
    state = dict(model.__dict__)
    sparse_proba = model.predict_proba(X_test)
    assert model.__dict__.keys() == state.keys()  # predicting changes no attribute
    model.set_params(inference="dense")
    dense_proba = model.predict_proba(X_test)
    np.testing.assert_allclose(sparse_proba, dense_proba, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(sparse_proba.argmax(1), dense_proba.argmax(1))
    with pytest.raises(ValueError, match="inference must be"):
        DSNClassifier(inference="csr", n_epochs=1, device="cpu").fit(X_train, y_train)
