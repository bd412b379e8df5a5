"""``SameConv1d``: a length-preserving ``Conv1d`` padded as Keras pads ``padding="same"``."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SameConv1d"]


class SameConv1d(nn.Conv1d):
    """``nn.Conv1d`` whose output has the input's length, for odd and even kernels alike.

    The total padding ``dilation * (kernel_size - 1)`` is split with the extra zero on the
    right, as Keras' ``padding="same"`` (used by the reference TSC codes) does. PyTorch's own
    ``padding="same"`` computes the same result but warns and copies on even kernels.
    It stays a ``Conv1d`` subclass, so masks, cost counting and pruning treat it as one.
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
        padded = F.pad(x, self.same_padding)
        dilation = self.dilation[0]
        if (
            dilation > 1
            and self.groups == self.in_channels
            and self.training
            and torch.is_grad_enabled()
        ):
            return self._polyphase_forward(padded, x.shape[-1])
        return self._conv_forward(padded, self.weight, self.bias)

    def _polyphase_forward(self, padded: torch.Tensor, length: int) -> torch.Tensor:
        # A dilation-d convolution reads every d-th sample, so it splits into d undilated
        # convolutions over the d phases of the input (stacked in the batch). Same sums in the
        # same order; for depthwise kernels the backward pass is about 2x faster on CPU than
        # oneDNN's dilated one. Used in training only: eval mode (inference, MAC counting,
        # graph tracing for export or pruning) keeps the plain dilated convolution.
        d, k = self.dilation[0], self.kernel_size[0]
        n_batch, n_channels = padded.shape[:2]
        phase_length = -(-length // d) + k - 1  # enough for ceil(length / d) outputs per phase
        padded = F.pad(padded, (0, phase_length * d - padded.shape[-1]))
        phases = padded.view(n_batch, n_channels, phase_length, d).permute(0, 3, 1, 2)
        out = F.conv1d(
            phases.reshape(n_batch * d, n_channels, phase_length),
            self.weight,
            self.bias,
            groups=self.groups,
        )
        # interleave the phases back: output t = q * d + r comes from phase r, position q
        out = out.view(n_batch, d, out.shape[1], -1).permute(0, 2, 3, 1)
        return out.reshape(n_batch, out.shape[1], -1)[..., :length]
