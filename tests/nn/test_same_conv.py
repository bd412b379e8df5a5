"""SameConv1d: Keras "same" padding, and its fast training path for dilated depthwise kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sparsetsc.nn.same_conv import SameConv1d


@pytest.mark.parametrize(
    ("channels", "kernel", "dilation", "length"),
    [(113, 20, 2, 150), (32, 10, 4, 151), (5, 3, 3, 7), (4, 4, 2, 1), (3, 2, 5, 2)],
)
def test_depthwise_training_path_equals_the_dilated_convolution(channels, kernel, dilation, length):
    torch.manual_seed(0)
    conv = SameConv1d(channels, channels, kernel, dilation=dilation, groups=channels)
    x = torch.randn(3, channels, length, requires_grad=True)
    total = dilation * (kernel - 1)
    padded = F.pad(x, (total // 2, total - total // 2))
    reference = F.conv1d(padded, conv.weight, conv.bias, dilation=dilation, groups=channels)
    grad_output = torch.randn_like(reference)
    expected = torch.autograd.grad(reference, (x, conv.weight, conv.bias), grad_output)
    output = conv(x)  # training mode with gradients: the numba depthwise kernel
    assert output.shape == (3, channels, length)
    torch.testing.assert_close(output, reference, rtol=1e-5, atol=1e-5)
    for got, want in zip(
        torch.autograd.grad(output, (x, conv.weight, conv.bias), grad_output), expected, strict=True
    ):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    with torch.no_grad():  # inference: the plain dilated convolution
        torch.testing.assert_close(conv(x), reference, rtol=1e-5, atol=1e-5)
    conv.eval()  # eval mode, even with gradients (tracing): the plain dilated convolution
    torch.testing.assert_close(conv(x), reference, rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_extra_zero_on_the_right():
    conv = SameConv1d(1, 1, 4, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[1.0, 2.0, 3.0, 4.0]]]))
    x = torch.arange(1.0, 6.0).view(1, 1, 5)
    # Keras "same" for k=4: 1 zero left, 2 right; output t = sum_j w_j x[t - 1 + j]
    padded = np.array([0, 1, 2, 3, 4, 5, 0, 0], dtype=float)
    expected = [float(np.dot([1, 2, 3, 4], padded[t : t + 4])) for t in range(5)]
    assert conv(x).flatten().tolist() == expected
