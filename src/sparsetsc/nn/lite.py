"""LITE and LITEMV: light inception with boosting techniques for time-series classification.

Ismail-Fawaz, Devanne, Berretti, Weber and Forestier, "LITE: Light Inception with boosTing
tEchniques for Time Series Classification", IEEE DSAA 2023; the multivariate variant LITEMV is
from the extended version, "Look Into the LITE in deep learning for time series
classification" (JDSA 2024). The layout follows the official Keras code (MSD-IRIMAS/LITE):

1. **Block 1**, on the raw input: three parallel convolutions ("multiplexing", kernels
   ``kernel_size // 2**i`` = 40, 20, 10; no bias) and the 17 frozen hand-crafted filters of
   :class:`~sparsetsc.nn.handcrafted.HandCraftedFilters` (with their own ReLU), concatenated
   hand-crafted last -> BatchNorm -> ReLU.
2. **Blocks 2 and 3** ("FCN modules"): depthwise-separable convolution (kernels
   ``kernel_size // 2**(i+1)`` = 20, 10 with dilations 2, 4; no bias) -> BatchNorm -> ReLU.
3. Global average pooling over time -> linear classifier.

With the default 32 filters the network has 9,814 trainable parameters without the
classifier (the paper's figure), plus ``33 * n_classes`` for the classifier and 438 frozen
hand-crafted weights per input channel.

LITEMV (used by default for more than one input channel) makes each block-1 branch
depthwise-separable too, and applies the hand-crafted filters to every channel separately.

Every "same" convolution pads like Keras (extra zero on the right for even kernels), through
:class:`~sparsetsc.nn.same_conv.SameConv1d`. BatchNorm keeps PyTorch's defaults (momentum 0.1,
eps 1e-5) rather than Keras' (momentum 0.99, eps 1e-3): this is deliberate, as the DSP
authors' PyTorch port of LITE, whose results we reproduce, did the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from .handcrafted import N_HAND_CRAFTED, HandCraftedFilters
from .kernels import batch_norm_relu
from .same_conv import SameConv1d
from .stages import PooledStages, PrunableStage

__all__ = ["LITEConfig", "LITE", "SeparableConv1d", "FCNModule"]

#: Parallel convolutions in block 1 and FCN modules after it, as in the paper.
N_BRANCHES = 3
N_FCN_MODULES = 2
#: Smallest ``kernel_size`` whose shortest derived kernel (``kernel_size // 4``) is >= 1.
MIN_KERNEL_SIZE = 4


def _positive_tuple(name: str, values: object, length: int) -> tuple[int, ...]:
    """``values`` as a tuple of ``length`` ints >= 1, or a ValueError saying what is wrong."""
    try:
        result = tuple(int(v) for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(
            f"LITE {name} must be a sequence of {length} ints; got {values!r}"
        ) from None
    if len(result) != length:
        raise ValueError(f"LITE {name} must have {length} entries; got {values!r}")
    if min(result) < 1:
        raise ValueError(f"LITE {name} entries must be >= 1; got {values!r}")
    return result


@dataclass
class LITEConfig:
    """Shape of a :class:`LITE`; everything needed to rebuild it (JSON-safe once ``asdict``-ed).

    Parameters
    ----------
    n_channels, n_classes : int
        Input channels and classes.
    n_filters : int, default=32
        Uniform width: the default for every entry of ``branch_filters`` and ``fcn_filters``.
    kernel_size : int, default=40
        Largest block-1 kernel (the official code's ``kernel_size=41`` minus one). Block-1
        kernels are ``kernel_size // 2**i`` (40, 20, 10), FCN kernels ``kernel_size // 2**(i+1)``
        (20, 10); it must be at least 4 so the shortest kernel has a tap.
    branch_filters : (int, int, int) or None, default=None
        Outputs of the three block-1 convolutions (kernels 40, 20, 10); ``None`` means
        ``(n_filters,) * 3``. Per-branch widths are what DSP pruning produces.
    fcn_filters : (int, int) or None, default=None
        Outputs of the two FCN modules; ``None`` means ``(n_filters, n_filters)``.
    use_dilation : bool, default=True
        FCN modules use dilations 2 and 4 (``2**(i+1)``); ``False`` sets both to 1.
    hand_crafted : bool, default=True
        Add the 17 frozen hand-crafted filters per input channel to block 1.
    multivariate : bool or None, default=None
        LITEMV (depthwise-separable block-1 branches); ``None`` means ``n_channels > 1``.
        With ``False`` and several channels, each branch is a full convolution over all
        channels (the hand-crafted filters are per channel either way).

    Notes
    -----
    ``None`` fields are replaced by concrete values in ``__post_init__``, so
    ``LITEConfig(**dataclasses.asdict(config)) == config``.
    """

    n_channels: int
    n_classes: int
    n_filters: int = 32
    kernel_size: int = 40
    branch_filters: tuple[int, int, int] | None = None
    fcn_filters: tuple[int, int] | None = None
    use_dilation: bool = True
    hand_crafted: bool = True
    multivariate: bool | None = None

    def __post_init__(self) -> None:
        for name in ("n_channels", "n_classes", "n_filters"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"LITE {name} must be >= 1; got {getattr(self, name)}")
            setattr(self, name, int(getattr(self, name)))
        self.kernel_size = int(self.kernel_size)
        if self.kernel_size < MIN_KERNEL_SIZE:
            raise ValueError(
                f"LITE kernel_size must be >= 4 (the shortest kernel is kernel_size // 4); "
                f"got {self.kernel_size}"
            )
        if self.branch_filters is None:
            self.branch_filters = (self.n_filters,) * N_BRANCHES
        self.branch_filters = _positive_tuple("branch_filters", self.branch_filters, N_BRANCHES)
        if self.fcn_filters is None:
            self.fcn_filters = (self.n_filters,) * N_FCN_MODULES
        self.fcn_filters = _positive_tuple("fcn_filters", self.fcn_filters, N_FCN_MODULES)
        if self.multivariate is None:
            self.multivariate = self.n_channels > 1
        self.use_dilation = bool(self.use_dilation)
        self.hand_crafted = bool(self.hand_crafted)
        self.multivariate = bool(self.multivariate)

    @property
    def branch_kernel_sizes(self) -> tuple[int, ...]:
        """Kernels of the block-1 branches: 40, 20, 10 by default."""
        return tuple(self.kernel_size // 2**i for i in range(N_BRANCHES))

    @property
    def fcn_kernel_sizes(self) -> tuple[int, ...]:
        """Kernels of the FCN modules: 20, 10 by default (the official code halves K first)."""
        return tuple(self.kernel_size // 2 // 2**i for i in range(N_FCN_MODULES))

    @property
    def fcn_dilations(self) -> tuple[int, ...]:
        """Dilations of the FCN modules: 2, 4, or 1, 1 without dilation."""
        return tuple(2 ** (i + 1) if self.use_dilation else 1 for i in range(N_FCN_MODULES))

    @property
    def hand_crafted_channels(self) -> int:
        """Block-1 channels from the hand-crafted filters (17 per input channel, or 0)."""
        return N_HAND_CRAFTED * self.n_channels if self.hand_crafted else 0

    @property
    def block1_channels(self) -> int:
        """Channels after block 1: learnable branches, then hand-crafted (113 by default)."""
        return sum(self.branch_filters) + self.hand_crafted_channels

    @property
    def branch_slices(self) -> tuple[slice, ...]:
        """Block-1 channels of each branch: ``[0, 32)``, ``[32, 64)``, ``[64, 96)`` by default."""
        starts = [sum(self.branch_filters[:i]) for i in range(N_BRANCHES + 1)]
        return tuple(slice(starts[i], starts[i + 1]) for i in range(N_BRANCHES))

    @property
    def hand_crafted_slice(self) -> slice:
        """Block-1 channels of the hand-crafted filters (``[96, 113)``; empty when disabled)."""
        start = sum(self.branch_filters)
        return slice(start, start + self.hand_crafted_channels)

    @property
    def min_timepoints(self) -> int:
        """Any length works: every convolution zero-pads to "same" length (tested down to 1)."""
        return 1


class SeparableConv1d(nn.Module):
    """Keras ``SeparableConv1D`` without bias: depthwise "same" conv, then pointwise 1x1 conv.

    ``depthwise.weight`` is ``(in_channels, 1, kernel_size)`` (one filter per input channel,
    depth multiplier 1); ``pointwise.weight`` is ``(out_channels, in_channels, 1)``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1
    ) -> None:
        super().__init__()
        self.depthwise = SameConv1d(
            in_channels,
            in_channels,
            kernel_size,
            dilation=dilation,
            groups=in_channels,
            bias=False,
        )
        self.pointwise = SameConv1d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class FCNModule(nn.Module):
    """LITE's "FCN module": depthwise-separable conv (dilated) -> BatchNorm -> ReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int
    ) -> None:
        super().__init__()
        self.conv = SeparableConv1d(in_channels, out_channels, kernel_size, dilation)
        self.bn = nn.BatchNorm1d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_norm_relu(self.bn, self.conv(x))


class LITE(PooledStages):
    """LITE / LITEMV network: block 1, two FCN modules, global average pooling, linear head.

    Submodules and the channels their parameters act on (``b = config.branch_filters``,
    ``f = config.fcn_filters``, ``C = n_channels``, ``H = 17 * C`` hand-crafted channels,
    ``A = sum(b) + H`` block-1 channels; slices from :attr:`LITEConfig.branch_slices` and
    :attr:`LITEConfig.hand_crafted_slice`):

    * ``branches[i]`` -> block-1 channels ``branch_slices[i]`` (``[32 i, 32 (i+1))`` by
      default). Univariate: a :class:`SameConv1d` with weight ``(b[i], C, k_i)``. LITEMV: a
      :class:`SeparableConv1d`, ``depthwise.weight (C, 1, k_i)`` (shared by nothing else, so
      never sliced) and ``pointwise.weight (b[i], C, 1)``; its output channels are rows.
    * ``hand_crafted`` (frozen; ``None`` when disabled) -> block-1 channels
      ``hand_crafted_slice`` (``[96, 113)``), filter-major: channel ``sum(b) + f * C + c`` is
      filter ``f`` on input channel ``c``. Never pruned.
    * ``bn1`` (BatchNorm over all ``A`` block-1 channels, in the order above), then
      ``block1_relu`` (its output is block 1's output).
    * ``fcn1``: ``conv.depthwise.weight (A, 1, 20)`` rows = block-1 channels;
      ``conv.pointwise.weight (f[0], A, 1)``; ``bn (f[0])``.
    * ``fcn2``: ``conv.depthwise.weight (f[0], 1, 10)``; ``conv.pointwise.weight
      (f[1], f[0], 1)``; ``bn (f[1])``.
    * ``head``: ``nn.Linear(f[1], n_classes)``; its weight columns are ``fcn2`` channels.
    """

    config_class = LITEConfig

    def __init__(self, config: LITEConfig) -> None:
        super().__init__()
        self.config = config
        c = config.n_channels
        self.branches = nn.ModuleList(
            SeparableConv1d(c, width, k)
            if config.multivariate
            else SameConv1d(c, width, k, bias=False)
            for width, k in zip(config.branch_filters, config.branch_kernel_sizes, strict=True)
        )
        self.hand_crafted = HandCraftedFilters(c) if config.hand_crafted else None
        self.bn1 = nn.BatchNorm1d(config.block1_channels)
        # A module, so that forward hooks (DSP's sparsity loss and analysis) see block 1's
        # output like the FCN modules' outputs. The ReLU itself runs fused with bn1
        # (batch_norm_relu), so the module passes its input through.
        self.block1_relu = nn.Identity()
        f1, f2 = config.fcn_filters
        k1, k2 = config.fcn_kernel_sizes
        d1, d2 = config.fcn_dilations
        self.fcn1 = FCNModule(config.block1_channels, f1, k1, d1)
        self.fcn2 = FCNModule(f1, f2, k2, d2)
        self.head = nn.Linear(f2, config.n_classes)

    def prunable_stages(self) -> list[PrunableStage]:
        """Block 1 (branches each keep a filter; hand-crafted channels are never removed) and
        the two FCN modules, as DSP prunes them."""
        config = self.config_from_shapes()
        fixed = (config.hand_crafted_slice,) if config.hand_crafted else ()
        return [
            PrunableStage("block1_relu", "bn1", groups=config.branch_slices, fixed=fixed),
            PrunableStage("fcn1", "fcn1.bn", groups=(slice(0, config.fcn_filters[0]),)),
            PrunableStage("fcn2", "fcn2.bn", groups=(slice(0, config.fcn_filters[1]),)),
        ]

    def config_from_shapes(self) -> LITEConfig:
        """The config of this network as its modules are now (after channels were removed)."""
        branch_filters = tuple(
            branch.pointwise.out_channels
            if isinstance(branch, SeparableConv1d)
            else branch.out_channels
            for branch in self.branches
        )
        fcn_filters = (self.fcn1.conv.pointwise.out_channels, self.fcn2.conv.pointwise.out_channels)
        return dataclasses.replace(
            self.config, branch_filters=branch_filters, fcn_filters=fcn_filters
        )

    def uniform_config(self, width: int) -> LITEConfig:
        """This architecture with every branch and FCN module ``width`` filters wide (the
        uniform-width control of structured pruning)."""
        return dataclasses.replace(
            self.config, n_filters=width, branch_filters=None, fcn_filters=None
        )

    def _stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Block 1, block 2 and block 3 outputs (after BatchNorm + ReLU): ``(batch,
        block1_channels, time)``, ``(batch, f[0], time)``, ``(batch, f[1], time)``."""
        # Block 1 concatenates the raw branch outputs with the (already ReLU-ed) hand-crafted
        # ones before the shared BatchNorm, as the Keras model does.
        parts = [branch(x) for branch in self.branches]
        if self.hand_crafted is not None:
            parts.append(self.hand_crafted(x))
        block1 = self.block1_relu(batch_norm_relu(self.bn1, torch.cat(parts, dim=1)))
        block2 = self.fcn1(block1)
        block3 = self.fcn2(block2)
        return [block1, block2, block3]
