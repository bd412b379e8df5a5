"""The fast training kernels against the reference PyTorch operations: outputs and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sparsetsc.nn import (
    DSN,
    FCN,
    LITE,
    DSNConfig,
    FCNConfig,
    Inception,
    InceptionConfig,
    LITEConfig,
    SameConv1d,
    SameMaxPool1d,
    fast_kernels,
)
from sparsetsc.nn.handcrafted import HandCraftedFilters
from sparsetsc.nn.kernels import (
    batch_norm_relu,
    channels_last_conv1d,
    depthwise_conv1d,
    max_pool3,
    pointwise_conv1d,
)


def _grads(output: torch.Tensor, inputs: list[torch.Tensor], seed: int = 0) -> list[torch.Tensor]:
    upstream = torch.randn(output.shape, generator=torch.Generator().manual_seed(seed))
    return list(torch.autograd.grad(output, inputs, upstream))


@pytest.mark.parametrize(
    "channels, length, taps, dilation",
    [(113, 286, 20, 2), (32, 70, 10, 4), (3, 9, 40, 1), (5, 1, 4, 2), (7, 25, 7, 3)],
)
def test_depthwise_kernel_equals_the_grouped_convolution(channels, length, taps, dilation):
    torch.manual_seed(0)
    x = torch.randn(4, channels, length, requires_grad=True)
    weight = torch.randn(channels, 1, taps, requires_grad=True)
    total = dilation * (taps - 1)
    left = total // 2
    reference = F.conv1d(F.pad(x, (left, total - left)), weight, dilation=dilation, groups=channels)
    fast = depthwise_conv1d(x, weight, dilation, left)
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
    for got, want in zip(_grads(fast, [x, weight]), _grads(reference, [x, weight]), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_pointwise_and_channels_last_kernels_equal_conv1d():
    torch.manual_seed(0)
    x = torch.randn(6, 13, 40, requires_grad=True)
    for weight, bias, dilation in [
        (torch.randn(9, 13, 1), torch.randn(9), 1),
        (torch.randn(9, 13, 5), None, 1),
        (torch.randn(9, 13, 3), torch.randn(9), 3),
    ]:
        weight.requires_grad_()
        inputs = [x, weight] + ([bias.requires_grad_()] if bias is not None else [])
        span = dilation * (weight.shape[-1] - 1)
        padded = x[..., : x.shape[-1] - span] if span else x
        reference = F.conv1d(padded, weight, bias, dilation=dilation)
        if weight.shape[-1] == 1:
            fast = pointwise_conv1d(x, weight, bias)
        else:
            fast = channels_last_conv1d(padded, weight, bias, dilation)
        assert fast.is_contiguous()
        torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
        for got, want in zip(_grads(fast, inputs), _grads(reference, inputs), strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_max_pool_kernel_equals_max_pool1d_even_on_ties():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 17)
    x[:, :, 5] = x[:, :, 6]  # ties: the gradient goes to the first maximum, as max_pool1d
    x[0, 0] = 1.0  # a constant row: all ties
    x = x.requires_grad_()
    reference = F.max_pool1d(x, 3, stride=1, padding=1)
    fast = max_pool3(x)
    assert torch.equal(fast, reference)
    assert torch.equal(_grads(fast, [x])[0], _grads(reference, [x])[0])


@pytest.mark.parametrize("momentum", [0.1, None])
def test_fused_batch_norm_relu_matches_the_modules_and_their_running_statistics(momentum):
    torch.manual_seed(0)
    reference = nn.BatchNorm1d(11, momentum=momentum)
    with torch.no_grad():
        reference.weight.uniform_(0.5, 1.5)
        reference.bias.uniform_(-0.5, 0.5)
    fused = nn.BatchNorm1d(11, momentum=momentum)
    fused.load_state_dict(reference.state_dict())
    for step in range(3):
        x = torch.randn(7, 11, 30, requires_grad=True)
        want = torch.relu(reference(x))
        got = batch_norm_relu(fused, x)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        params = [x, fused.weight, fused.bias]
        ref_params = [x, reference.weight, reference.bias]
        for a, b in zip(_grads(got, params, step), _grads(want, ref_params, step), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    for name in ("running_mean", "running_var"):
        torch.testing.assert_close(getattr(fused, name), getattr(reference, name))
    assert int(fused.num_batches_tracked) == int(reference.num_batches_tracked) == 3
    # evaluation uses the running statistics through the module itself
    fused.eval(), reference.eval()
    x = torch.randn(2, 11, 5)
    torch.testing.assert_close(batch_norm_relu(fused, x), torch.relu(reference(x)))


@pytest.mark.parametrize("n_channels", [1, 3])
def test_hand_crafted_bank_in_one_convolution_is_the_same_filters(n_channels):
    module = HandCraftedFilters(n_channels)
    x = torch.randn(5, n_channels, 90)
    torch.testing.assert_close(module._filter_as_one_bank(x), module._filter(x))


NETWORKS = {
    "fcn": lambda: FCN(FCNConfig(3, 4, n_filters=(8, 16), kernel_sizes=(8, 5))),
    "lite": lambda: LITE(LITEConfig(1, 3, n_filters=6)),
    "litemv": lambda: LITE(LITEConfig(3, 3, n_filters=5)),
    "inception": lambda: Inception(InceptionConfig(2, 3, n_filters=4, depth=3)),
    "dsn": lambda: DSN(DSNConfig(2, 3, n_filters=4, kernel_size=9, depth=2)),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_whole_networks_train_the_same_with_and_without_fast_kernels(name):
    torch.manual_seed(0)
    network = NETWORKS[name]()
    twin = NETWORKS[name]()
    twin.load_state_dict(network.state_dict())
    n_channels = next(m for m in network.modules() if isinstance(m, nn.Conv1d)).in_channels
    x = torch.randn(6, 3 if name in ("fcn", "litemv") else n_channels, 33)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    network.train(), twin.train()
    with fast_kernels(True):
        fast_loss = F.cross_entropy(network(x), y)
    with fast_kernels(False):
        plain_loss = F.cross_entropy(twin(x), y)
    torch.testing.assert_close(fast_loss, plain_loss, rtol=1e-5, atol=1e-5)
    fast_loss.backward(), plain_loss.backward()
    for (param_name, a), b in zip(network.named_parameters(), twin.parameters(), strict=True):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-3, atol=1e-5, msg=param_name)
    for a, b in zip(network.buffers(), twin.buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)  # BatchNorm running statistics


def test_fast_kernels_only_in_training_with_autograd():
    conv = SameConv1d(4, 4, 5, groups=4, bias=False)
    pool = SameMaxPool1d()
    x = torch.randn(2, 4, 12)
    conv.train()
    assert conv(x).grad_fn.name() == "_DepthwiseConv1dBackward"
    assert pool(x.requires_grad_()).grad_fn.name() == "_MaxPool3Backward"
    with torch.no_grad():
        assert conv(x).grad_fn is None
    conv.eval()  # evaluation, export, FLOP counting, tracing: plain convolutions
    assert conv(x).grad_fn.name() == "ConvolutionBackward0"
    conv.train()
    with fast_kernels(False):
        assert conv(x).grad_fn.name() == "ConvolutionBackward0"


def test_kernels_under_bfloat16_autocast_give_float32_gradients():
    torch.manual_seed(0)
    network = LITE(LITEConfig(1, 2, n_filters=4))
    x = torch.randn(5, 1, 40)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = network(x)
    F.cross_entropy(logits.float(), torch.tensor([0, 1, 0, 1, 1])).backward()
    for name, param in network.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.dtype == torch.float32, name
            assert torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, name
