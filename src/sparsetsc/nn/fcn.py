"""Fully convolutional network (FCN) for time-series classification.

Wang, Yan and Oates, "Time series classification from scratch with deep neural networks:
A strong baseline", IJCNN 2017. Three Conv1d -> BatchNorm -> ReLU blocks (128, 256, 128
filters; kernels 8, 5, 3; "same" padding), global average pooling over time and a linear
head, as in the dl-4-tsc reference implementation (Ismail Fawaz et al., 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .kernels import batch_norm_relu
from .same_conv import SameConv1d

__all__ = ["FCNConfig", "FCN"]


@dataclass
class FCNConfig:
    """Shape of an :class:`FCN`; everything needed to rebuild it."""

    n_channels: int
    n_classes: int
    n_filters: tuple[int, ...] = (128, 256, 128)
    kernel_sizes: tuple[int, ...] = (8, 5, 3)

    def __post_init__(self) -> None:
        self.n_filters = tuple(int(n) for n in self.n_filters)
        self.kernel_sizes = tuple(int(k) for k in self.kernel_sizes)
        if len(self.n_filters) != len(self.kernel_sizes):
            raise ValueError(
                f"n_filters {self.n_filters} and kernel_sizes {self.kernel_sizes} must have "
                "the same length (one entry per convolution block)"
            )
        if min(self.n_filters + self.kernel_sizes, default=0) < 1 or not self.n_filters:
            raise ValueError("FCN needs at least one block with positive widths and kernels")

    @property
    def min_timepoints(self) -> int:
        """Shortest input for which every kernel fits inside the series."""
        return max(self.kernel_sizes)


class ConvBlock(nn.Sequential):
    """Conv1d ("same" padding) -> BatchNorm1d -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(
            SameConv1d(in_channels, out_channels, kernel_size),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv, bn, _ = self  # BatchNorm and ReLU in one fused pass in training
        return batch_norm_relu(bn, conv(x))


class FCN(nn.Module):
    """FCN: convolution blocks, global average pooling, linear classifier."""

    config_class = FCNConfig

    def __init__(self, config: FCNConfig) -> None:
        super().__init__()
        self.config = config
        widths = (config.n_channels, *config.n_filters)
        self.blocks = nn.Sequential(
            *(ConvBlock(widths[i], widths[i + 1], k) for i, k in enumerate(config.kernel_sizes))
        )
        self.head = nn.Linear(widths[-1], config.n_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> pooled features (batch, last width)."""
        return self.blocks(x).mean(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> class logits (batch, n_classes)."""
        return self.head(self.forward_features(x))
