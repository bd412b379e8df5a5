"""Small building blocks shared by the networks."""

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
        return self._conv_forward(F.pad(x, self.same_padding), self.weight, self.bias)
