"""``SameConv1d`` and ``SameMaxPool1d``: length-preserving layers padded as Keras pads
``padding="same"``, with fast CPU kernels in training (:mod:`.kernels`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .kernels import (
    autocast_on_cpu,
    channels_last_conv1d,
    depthwise_conv1d,
    fast_kernels,
    max_pool3,
    pointwise_conv1d,
    use_fast_kernels,
)

__all__ = ["SameConv1d", "SameMaxPool1d", "fast_kernels"]


#: Channels-last pays for narrow inputs (float32, forward and backward on CPU: 2.1x at 32 -> 32
#: channels, kernel 40, batch 28) and not for wide ones (FCN's 256 -> 128: 0.9x), where the
#: native layout's kernels are already efficient.
CHANNELS_LAST_MAX_IN = 64


class SameConv1d(nn.Conv1d):
    """``nn.Conv1d`` whose output has the input's length, for odd and even kernels alike.

    The total padding ``dilation * (kernel_size - 1)`` is split with the extra zero on the
    right, as Keras' ``padding="same"`` (used by the reference TSC codes) does. PyTorch's own
    ``padding="same"`` computes the same result but warns and copies on even kernels.
    It stays a ``Conv1d`` subclass, so masks, cost counting and pruning treat it as one.

    In training on CPU it runs the function through the fastest kernel for its shape:
    depthwise convolutions through numba loops, 1x1 convolutions as a matrix product, and
    dense convolutions over a few channels (float32) in oneDNN's channels-last layout.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding=0,
        )
        total = dilation * (kernel_size - 1)
        self.same_padding = (total // 2, total - total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight  # one evaluation: applies a mask parametrization if present
        if use_fast_kernels(self, x):
            return self._fast_forward(x, weight)
        return self._conv_forward(self._pad(x), weight, self.bias)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.same_padding) if any(self.same_padding) else x

    def _fast_forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        kernel_size, dilation = self.kernel_size[0], self.dilation[0]
        if self.groups == self.in_channels == self.out_channels and kernel_size > 1:
            out = depthwise_conv1d(x, weight, dilation, self.same_padding[0])
            return out if self.bias is None else out + self.bias[:, None]
        if kernel_size == 1 and self.groups == 1:
            return pointwise_conv1d(x, weight, self.bias)
        padded = self._pad(x)
        float32 = not autocast_on_cpu() and x.dtype == torch.float32
        if self.groups == 1 and 1 < self.in_channels <= CHANNELS_LAST_MAX_IN and float32:
            return channels_last_conv1d(padded, weight, self.bias, dilation)
        return self._conv_forward(padded, weight, self.bias)


class SameMaxPool1d(nn.MaxPool1d):
    """Stride-1 max pooling of size 3 that keeps the length (Inception's max-pool branch;
    ``nn.MaxPool1d(3, stride=1, padding=1)``, whose padding is -inf, as Keras' "same").

    In training on CPU it runs a numba kernel (the same values and gradients, about 5x
    faster than ``max_pool1d_with_indices``).
    """

    def __init__(self) -> None:
        super().__init__(3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if use_fast_kernels(self, x):
            return max_pool3(x)
        return super().forward(x)
