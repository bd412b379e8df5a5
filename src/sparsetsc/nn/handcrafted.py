"""The 17 frozen hand-crafted convolution filters of LITE and H-InceptionTime.

Ismail-Fawaz, Devanne, Weber and Forestier, "Deep learning for time series classification
using new hand-crafted convolution filters", IEEE BigData 2022. Per input channel:

* 6 "increasing trend" filters of lengths 2, 4, 8, 16, 32, 64: ``[-1, +1, -1, +1, ...]``;
* 6 "decreasing trend" filters of the same lengths: ``[+1, -1, +1, -1, ...]``;
* 5 "peak" filters for ``k`` in 4, 8, 16, 32, 64, of length ``3k/2``: six segments of
  ``k/4`` taps built from ``left = x**2`` (``x`` = the ``k/4`` points of
  ``linspace(0, 1, k/4 + 1)`` after 0) and ``right = left`` reversed:
  ``-left, -right, 2 left, 2 right, -left, -right`` (a negative-positive-negative bump).

Each filter runs with Keras' "same" padding (the extra zero on the right for even lengths),
without bias, and the 17 outputs pass through a ReLU. The weights are parameters with
``requires_grad=False`` (so they are counted, saved and loaded like any weight, but
never trained) and the forward pass detaches them, so even ``requires_grad_(True)`` on the
whole network cannot make them move.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .kernels import use_fast_kernels

__all__ = ["HandCraftedFilters", "hand_crafted_filters", "N_HAND_CRAFTED"]

TREND_LENGTHS = (2, 4, 8, 16, 32, 64)
PEAK_SIZES = (4, 8, 16, 32, 64)
#: Filters per input channel: 6 increasing, 6 decreasing, 5 peaks.
N_HAND_CRAFTED = 2 * len(TREND_LENGTHS) + len(PEAK_SIZES)


def _peak(size: int) -> torch.Tensor:
    x = torch.linspace(0, 1, size // 4 + 1, dtype=torch.float64)[1:]
    left = x**2
    right = left.flip(0)
    return torch.cat([-left, -right, 2 * left, 2 * right, -left, -right])


def hand_crafted_filters() -> list[torch.Tensor]:
    """The 17 filters in their canonical order (increasing, decreasing, peaks), float32."""
    increasing = []
    decreasing = []
    for length in TREND_LENGTHS:
        ones = torch.ones(length, dtype=torch.float64)
        up = ones.clone()
        up[0::2] = -1  # even taps -1: [-1, +1, -1, ...]
        down = ones.clone()
        down[1::2] = -1  # odd taps -1: [+1, -1, +1, ...]
        increasing.append(up)
        decreasing.append(down)
    peaks = [_peak(size) for size in PEAK_SIZES]
    return [f.to(torch.float32) for f in increasing + decreasing + peaks]


class HandCraftedFilters(nn.Module):
    """Frozen hand-crafted filters applied to every input channel separately, then ReLU.

    ``(batch, n_channels, time) -> (batch, 17 * n_channels, time)``. Output channel
    ``f * n_channels + c`` is filter ``f`` on input channel ``c`` (filter-major, as Keras
    concatenates one depthwise convolution per filter). For one input channel this is the
    univariate LITE / H-Inception layer; for several, LITEMV's depthwise variant.
    """

    def __init__(self, n_channels: int) -> None:
        super().__init__()
        if n_channels < 1:
            raise ValueError(f"n_channels must be >= 1; got {n_channels}")
        self.n_channels = n_channels
        filters = hand_crafted_filters()
        # One grouped convolution per distinct filter length keeps the work exact (438 MACs
        # per step and channel) with 11 instead of 17 convolutions.
        lengths = sorted({len(f) for f in filters})
        self.lengths = lengths
        self.weights = nn.ParameterList()
        for length in lengths:
            members = [i for i, f in enumerate(filters) if len(f) == length]
            # depthwise layout: groups = channels, weight rows channel-major
            weight = torch.stack([filters[i] for i in members]).unsqueeze(1)  # (n_f, 1, k)
            weight = weight.repeat(n_channels, 1, 1)  # (C * n_f, 1, k)
            self.weights.append(nn.Parameter(weight, requires_grad=False))
        # Conv outputs come as [length group][channel][filter]; map them to filter-major.
        position = {}
        offset = 0
        for length in lengths:
            members = [i for i, f in enumerate(filters) if len(f) == length]
            for c in range(n_channels):
                for j, f in enumerate(members):
                    position[(f, c)] = offset + c * len(members) + j
            offset += n_channels * len(members)
        permutation = [position[(f, c)] for f in range(N_HAND_CRAFTED) for c in range(n_channels)]
        self.register_buffer("permutation", torch.tensor(permutation), persistent=False)
        # The whole bank as one kernel for training (each filter centred in the longest one's
        # window, zeros around it): one convolution instead of one per length. A constant
        # derived from the filters; the parameters above stay what is saved and counted.
        self.bank_size = max(lengths)
        bank = torch.zeros(N_HAND_CRAFTED, 1, self.bank_size)
        for i, f in enumerate(filters):
            start = (self.bank_size - 1) // 2 - (len(f) - 1) // 2
            bank[i, 0, start : start + len(f)] = f
        self.register_buffer("bank", bank.repeat(n_channels, 1, 1), persistent=False)

    @property
    def out_channels(self) -> int:
        return N_HAND_CRAFTED * self.n_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return _HandCraftedFunction.apply(x, self)
        if use_fast_kernels(self, x):
            return self._filter_as_one_bank(x)
        return self._filter(x)

    def _filter_as_one_bank(self, x: torch.Tensor) -> torch.Tensor:
        left = (self.bank_size - 1) // 2
        padded = F.pad(x, (left, self.bank_size - 1 - left))
        out = F.relu(F.conv1d(padded, self.bank, groups=self.n_channels))  # channel-major
        if self.n_channels == 1:
            return out
        n_batch, _, length = out.shape
        out = out.view(n_batch, self.n_channels, N_HAND_CRAFTED, length).transpose(1, 2)
        return out.reshape(n_batch, self.out_channels, length)

    def _filter(self, x: torch.Tensor) -> torch.Tensor:
        outputs = []
        for length, weight in zip(self.lengths, self.weights, strict=True):
            left = (length - 1) // 2
            padded = F.pad(x, (left, length - 1 - left))
            outputs.append(F.conv1d(padded, weight.detach(), groups=self.n_channels))
        return F.relu(torch.cat(outputs, dim=1).index_select(1, self.permutation))


class _HandCraftedFunction(torch.autograd.Function):
    """The filter bank as one autograd node.

    Graph tracers that follow ``grad_fn`` chains (torch-pruning's dependency graph) then see
    one operation with 17 * C outputs instead of eleven functional convolutions, a
    concatenation and a permutation on frozen tensors, which they cannot size. The gradient
    with respect to the input (rarely needed: the filters read the raw series) is computed
    by differentiating the same operations again.
    """

    @staticmethod
    def forward(ctx, x, module):  # type: ignore[override]
        ctx.module = module
        ctx.save_for_backward(x)
        return module._filter(x)

    @staticmethod
    def backward(ctx, grad_output):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_()
            (grad_input,) = torch.autograd.grad(ctx.module._filter(x), x, grad_output)
        return grad_input, None
