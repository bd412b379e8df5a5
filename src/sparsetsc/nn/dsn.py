"""DSN: the dynamic sparse network of Xiao et al., NeurIPS 2022 ("Dynamic Sparse Network for
Time Series Classification: Learning What to 'See'").

``depth`` modules of [1x1 bottleneck (when the input has more than one channel) -> large-kernel
convolution -> BatchNorm -> ReLU], then AdaptiveAvgPool(50) -> 1x1 conv -> BatchNorm -> global
average. The large kernels are split along output channels into kernel groups whose taps are
restricted to nested regions (13, 26, 39 taps at k=39); dynamic sparse training
(:mod:`sparsetsc.sparse`) then decides which taps inside each region are active. No biases,
no residuals, as in the official code (see ``docs``: reference-dsn).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .kernels import batch_norm_relu
from .region_conv import RegionConv1d, kernel_group_regions
from .same_conv import SameConv1d
from .stages import PrunableStage

__all__ = ["DSNConfig", "DSN"]


@dataclass
class DSNConfig:
    """Shape of a :class:`DSN`.

    Parameters
    ----------
    n_channels, n_classes : int
        Input channels and classes.
    n_filters : int, default=47
        Bottleneck width (official ``--ch_size``; 59 for UEA).
    width_multiplier : int, default=3
        Large-kernel convs output ``n_filters * width_multiplier`` channels (141); the official
        code hard-codes 3 (``OUT_NUM``).
    kernel_size : int, default=39
    depth : int, default=4
        Number of large-kernel modules.
    n_groups : int, default=3
        Kernel groups along output channels, each with its tap region; 1 = whole kernel.
    anchor : {"left", "center"}, default="left"
        Where regions start in the kernel (official: left).
    padding : {"zeros", "replicate"}, default="zeros"
        Centred zero padding (official setting for UCR-2018) or right replicate padding
        (official default, for the pre-normalised UCR-2015 archive).
    pool_size : int, default=50
        Length of the adaptive average pooling before the head.
    """

    n_channels: int
    n_classes: int
    n_filters: int = 47
    width_multiplier: int = 3
    kernel_size: int = 39
    depth: int = 4
    n_groups: int = 3
    anchor: str = "left"
    padding: str = "zeros"
    pool_size: int = 50

    def __post_init__(self) -> None:
        for name in (
            "n_channels",
            "n_classes",
            "n_filters",
            "width_multiplier",
            "kernel_size",
            "depth",
            "pool_size",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DSN {name} must be >= 1; got {getattr(self, name)}")
        _ = self.regions  # validates n_groups and anchor
        if self.padding not in ("zeros", "replicate"):
            raise ValueError(f"padding must be 'zeros' or 'replicate'; got {self.padding!r}")

    @property
    def conv_channels(self) -> int:
        """Output channels of each large-kernel convolution."""
        return self.n_filters * self.width_multiplier

    @property
    def regions(self) -> list[tuple[int, int, int, int]]:
        """Kernel groups of every large-kernel convolution: ``(out_start, out_stop,
        tap_start, tap_stop)`` each (:func:`~sparsetsc.nn.region_conv.kernel_group_regions`)."""
        return kernel_group_regions(
            self.conv_channels, self.kernel_size, self.n_groups, self.anchor
        )

    @property
    def min_timepoints(self) -> int:
        """Any length works ("same" padding; the pooling repeats values of short series)."""
        return 1


class DSNModule(nn.Module):
    """[1x1 bottleneck] -> region-restricted large-kernel conv -> BatchNorm -> ReLU."""

    def __init__(self, in_channels: int, config: DSNConfig) -> None:
        super().__init__()
        width = config.conv_channels
        # The official code skips the bottleneck for a single input channel.
        self.bottleneck = (
            SameConv1d(in_channels, config.n_filters, 1, bias=False)
            if in_channels > 1
            else nn.Identity()
        )
        conv_in = config.n_filters if in_channels > 1 else in_channels
        self.conv = RegionConv1d(conv_in, width, config.kernel_size, config.padding, config.regions)
        self.bn = nn.BatchNorm1d(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_norm_relu(self.bn, self.conv(self.bottleneck(x)))


class DSN(nn.Module):
    """Dynamic sparse network (architecture only; sparsity comes from :mod:`sparsetsc.sparse`)."""

    config_class = DSNConfig

    def __init__(self, config: DSNConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.n_channels] + [config.conv_channels] * config.depth
        self.blocks = nn.Sequential(*(DSNModule(widths[d], config) for d in range(config.depth)))
        self.pool = nn.AdaptiveAvgPool1d(config.pool_size)
        self.head = SameConv1d(config.conv_channels, config.n_classes, 1, bias=False)
        self.head_bn = nn.BatchNorm1d(config.n_classes)

    def prunable_stages(self) -> list[PrunableStage]:
        """For structured pruning: each bottleneck's outputs and each block's output (after
        BatchNorm and ReLU), every kernel group keeping at least one channel."""
        stages = []
        for d, block in enumerate(self.blocks):
            if isinstance(block.bottleneck, nn.Conv1d):
                width = block.bottleneck.out_channels
                stages.append(
                    PrunableStage(
                        f"blocks.{d}.bottleneck",
                        f"blocks.{d}.bottleneck",
                        groups=(slice(0, width),),
                    )
                )
            regions = block.conv.regions or [(0, block.conv.out_channels, 0, 0)]
            groups = tuple(slice(out_start, out_stop) for out_start, out_stop, _, _ in regions)
            stages.append(PrunableStage(f"blocks.{d}", f"blocks.{d}.bn", groups=groups))
        return stages

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> (batch, conv_channels, time)."""
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> class logits (batch, n_classes)."""
        return self.head_bn(self.head(self.pool(self.forward_features(x)))).mean(dim=-1)
