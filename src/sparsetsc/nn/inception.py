"""Inception network of InceptionTime, optionally with hand-crafted filters (H-Inception).

Ismail Fawaz, Lucas, Forestier, Pelletier, Schmidt, Weber, Webb, Idoumghar, Muller and
Petitjean, "InceptionTime: Finding AlexNet for time series classification", Data Mining
and Knowledge Discovery 34, 2020 (reference code: ``hfawaz/InceptionTime``, and aeon's
``InceptionNetwork`` with the same defaults). With ``hand_crafted=True`` the first module
also holds the 17 frozen filters of Ismail-Fawaz, Devanne, Weber and Forestier, "Deep
learning for time series classification using new hand-crafted convolution filters", IEEE
BigData 2022 (H-Inception; ensembles of five are H-InceptionTime).

One Inception module::

    x ──> [1x1 bottleneck] ──┬─> conv k=40 ─┐
                             ├─> conv k=20 ─┤
                             └─> conv k=10 ─┤
    x ──> max-pool 3 ──> 1x1 conv ──────────┼─> concat -> BatchNorm -> ReLU
    x ──> hand-crafted filters (module 0) ──┘

Every third module is followed by a residual connection from the previous residual input
(the raw series for the first one). Global average pooling over time and a linear layer
make the classifier; the softmax lives in the loss, as usual in PyTorch.

Widths can be set per module and per branch (``InceptionConfig.widths``), which is how a
network pruned by DSP (Abdullayev et al., "Dynamic structured pruning", arXiv 2602.12744)
is rebuilt physically smaller; a branch of width 0 is removed.

Deliberate choices:

* BatchNorm keeps PyTorch's defaults (momentum 0.1, eps 1e-5) rather than Keras' (0.99 in
  Keras' convention, eps 1e-3), and convolutions and the linear layer keep PyTorch's
  default initialisation, as in the DSP authors' PyTorch port whose results we compare to.
* Even kernels use Keras-style "same" padding (the extra zero on the right), through
  :class:`~sparsetsc.nn.same_conv.SameConv1d`.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import torch
from torch import nn

from .handcrafted import N_HAND_CRAFTED, HandCraftedFilters
from .kernels import batch_norm_relu
from .same_conv import SameConv1d, SameMaxPool1d
from .stages import PooledStages, PrunableStage

__all__ = ["InceptionConfig", "InceptionModule", "Shortcut", "Inception"]

#: Parallel convolutions per module; branch ``i`` has kernel ``max(kernel_size // 2**i, 1)``.
N_CONV_BRANCHES = 3
#: Entries of one ``widths`` row: the three convolution branches, then the max-pool branch.
N_BRANCHES = N_CONV_BRANCHES + 1
#: A residual connection follows every ``RESIDUAL_EVERY``-th module (modules 2, 5, ...).
RESIDUAL_EVERY = 3


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"Inception {name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"Inception {name} must be >= {minimum}; got {value}")
    return int(value)


@dataclass
class InceptionConfig:
    """Shape of an :class:`Inception` network; everything needed to rebuild it.

    Parameters
    ----------
    n_channels, n_classes : int
        Input channels (variables) and classes.
    n_filters : int, default=32
        Width of every branch when ``widths`` is not given.
    depth : int, default=6
        Number of Inception modules.
    kernel_size : int, default=40
        Longest kernel; the three convolution branches use ``max(kernel_size // 2**i, 1)``
        for ``i = 0, 1, 2`` (40, 20, 10, as the reference code's ``41 - 1``).
    bottleneck_size : int, default=32
        Output channels of the 1x1 bottleneck. Never pruned.
    use_bottleneck : bool, default=True
        Put a bottleneck in front of the convolution branches of every module whose input
        has more than one channel (so a univariate first module has none).
    use_residual : bool, default=True
        Add a shortcut after every third module.
    hand_crafted : bool, default=False
        Also concatenate the 17 frozen hand-crafted filters per input channel into the
        first module (H-Inception).
    widths : sequence of (int, int, int, int) rows, or None
        One row ``(conv k=40, conv k=20, conv k=10, max-pool)`` per module, the number of
        filters of each branch; 0 removes the branch. ``None`` means ``n_filters``
        everywhere; after construction it always holds the concrete tuple of tuples, so a
        saved config rebuilds the same network. Lists of lists (from JSON) are accepted.
    """

    n_channels: int
    n_classes: int
    n_filters: int = 32
    depth: int = 6
    kernel_size: int = 40
    bottleneck_size: int = 32
    use_bottleneck: bool = True
    use_residual: bool = True
    hand_crafted: bool = False
    widths: tuple[tuple[int, int, int, int], ...] | None = None

    def __post_init__(self) -> None:
        for name in (
            "n_channels",
            "n_classes",
            "n_filters",
            "depth",
            "kernel_size",
            "bottleneck_size",
        ):
            setattr(self, name, _check_int(name, getattr(self, name), 1))
        for name in ("use_bottleneck", "use_residual", "hand_crafted"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"Inception {name} must be True or False; got {getattr(self, name)!r}"
                )
        if self.widths is None:
            self.widths = ((self.n_filters,) * N_BRANCHES,) * self.depth
        self.widths = self._normalise_widths(self.widths)

    def _normalise_widths(self, widths: object) -> tuple[tuple[int, int, int, int], ...]:
        if isinstance(widths, str | bytes) or not hasattr(widths, "__len__"):
            raise ValueError(f"widths must be a sequence of rows; got {widths!r}")
        if len(widths) != self.depth:
            raise ValueError(
                f"widths needs one row per module (depth={self.depth}); got {len(widths)} rows"
            )
        rows = []
        for d, row in enumerate(widths):
            if isinstance(row, str | bytes) or not hasattr(row, "__len__") or len(row) != 4:
                raise ValueError(
                    f"widths[{d}] must be 4 branch widths (k={self.kernel_sizes}, max-pool); "
                    f"got {row!r}"
                )
            row = tuple(_check_int(f"widths[{d}]", w, 0) for w in row)
            # Module 0 of H-Inception keeps its hand-crafted channels even without any branch.
            extra = N_HAND_CRAFTED * self.n_channels if d == 0 and self.hand_crafted else 0
            if sum(row) + extra < 1:
                raise ValueError(
                    f"module {d} would have no output channels (widths[{d}] = {row}); "
                    "every module must keep at least one filter"
                )
            rows.append(row)
        return tuple(rows)

    @property
    def kernel_sizes(self) -> tuple[int, ...]:
        """Kernel sizes of the three convolution branches (40, 20, 10 by default)."""
        return tuple(max(self.kernel_size // 2**i, 1) for i in range(N_CONV_BRANCHES))

    @property
    def module_channels(self) -> tuple[int, ...]:
        """Output channels of every module: its branch widths, plus 17 per input channel
        of hand-crafted filters in module 0 of H-Inception."""
        channels = [sum(row) for row in self.widths]
        if self.hand_crafted:
            channels[0] += N_HAND_CRAFTED * self.n_channels
        return tuple(channels)

    @property
    def min_timepoints(self) -> int:
        """Any length works: all convolutions and the max-pool are padded to "same"."""
        return 1


class InceptionModule(nn.Module):
    """One Inception module: parallel branches, concatenation, BatchNorm, ReLU.

    ``(batch, in_channels, time) -> (batch, out_channels, time)``. The output channels are
    ordered as the branches are concatenated, each branch contiguous:

    1. ``branches["conv0"]`` (kernel ``kernel_sizes[0]``), ``widths[0]`` channels;
    2. ``branches["conv1"]`` (kernel ``kernel_sizes[1]``), ``widths[1]`` channels;
    3. ``branches["conv2"]`` (kernel ``kernel_sizes[2]``), ``widths[2]`` channels;
    4. the max-pool branch (``pool_conv``), ``widths[3]`` channels;
    5. with ``hand_crafted``, 17 per input channel, filter-major (see
       :class:`~sparsetsc.nn.handcrafted.HandCraftedFilters`).

    A branch of width 0 has no module at all: its key is missing from ``branches`` (or
    ``pool_conv`` is ``None``) and it contributes no channels. :attr:`channel_groups`
    gives each group's slice of the output.

    Parameters
    ----------
    in_channels : int
        Channels of the module input.
    widths : (int, int, int, int)
        Filters of the three convolution branches and of the max-pool branch.
    kernel_sizes : (int, int, int)
        Kernels of the three convolution branches.
    bottleneck_size : int
        Outputs of the 1x1 bottleneck the convolution branches read.
    use_bottleneck : bool
        Whether to have a bottleneck; it is only built for ``in_channels > 1`` and when at
        least one convolution branch reads it.
    hand_crafted : bool, default=False
        Add the frozen hand-crafted filters on the module input.
    """

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, int, int, int],
        kernel_sizes: tuple[int, int, int],
        bottleneck_size: int,
        use_bottleneck: bool,
        hand_crafted: bool = False,
    ) -> None:
        super().__init__()
        if len(widths) != N_BRANCHES or len(kernel_sizes) != N_CONV_BRANCHES:
            raise ValueError(f"need 4 widths and 3 kernel sizes; got {widths}, {kernel_sizes}")
        self.in_channels = in_channels
        self.widths = tuple(widths)
        self.kernel_sizes = tuple(kernel_sizes)
        conv_widths = self.widths[:N_CONV_BRANCHES]
        # As in the reference code, a single-channel input feeds the branches directly. A
        # bottleneck that no branch reads (all three pruned away) would only be dead
        # parameters, so it is not built either.
        self.bottleneck: nn.Conv1d | None = None
        branch_in = in_channels
        if use_bottleneck and in_channels > 1 and any(conv_widths):
            self.bottleneck = SameConv1d(in_channels, bottleneck_size, 1, bias=False)
            branch_in = bottleneck_size
        # Keys name the branch position, so a pruned branch shows as a missing key.
        self.branches = nn.ModuleDict(
            {
                f"conv{i}": SameConv1d(branch_in, width, kernel, bias=False)
                for i, (width, kernel) in enumerate(zip(conv_widths, kernel_sizes, strict=True))
                if width > 0
            }
        )
        # The max-pool branch reads the module input, not the bottleneck. Padding 1 pads
        # with -inf, which equals Keras' "same" max-pooling.
        self.pool: SameMaxPool1d | None = None
        self.pool_conv: nn.Conv1d | None = None
        if self.widths[3] > 0:
            self.pool = SameMaxPool1d()
            self.pool_conv = SameConv1d(in_channels, self.widths[3], 1, bias=False)
        self.hand_crafted: HandCraftedFilters | None = (
            HandCraftedFilters(in_channels) if hand_crafted else None
        )
        self.out_channels = sum(self.widths) + (
            self.hand_crafted.out_channels if self.hand_crafted is not None else 0
        )
        if self.out_channels < 1:
            raise ValueError("an Inception module needs at least one output channel")
        self.bn = nn.BatchNorm1d(self.out_channels)

    @property
    def channel_groups(self) -> dict[str, slice]:
        """Slice of the output channels of each group, in output order.

        Keys ``"conv0"``, ``"conv1"``, ``"conv2"``, ``"pool"`` always appear (an empty slice
        for a removed branch); ``"hand_crafted"`` only when the module has those filters.
        """
        sizes = {f"conv{i}": w for i, w in enumerate(self.widths[:N_CONV_BRANCHES])}
        sizes["pool"] = self.widths[3]
        if self.hand_crafted is not None:
            sizes["hand_crafted"] = self.hand_crafted.out_channels
        groups, start = {}, 0
        for name, size in sizes.items():
            groups[name] = slice(start, start + size)
            start += size
        return groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_channels, time) -> (batch, out_channels, time), after BN and ReLU."""
        reduced = x if self.bottleneck is None else self.bottleneck(x)
        outputs = [conv(reduced) for conv in self.branches.values()]  # conv0, conv1, conv2
        if self.pool_conv is not None:
            outputs.append(self.pool_conv(self.pool(x)))
        if self.hand_crafted is not None:
            outputs.append(self.hand_crafted(x))
        return batch_norm_relu(self.bn, torch.cat(outputs, dim=1))


class Shortcut(nn.Module):
    """Residual path: 1x1 convolution (no bias) -> BatchNorm, matching the channel count."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = SameConv1d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm1d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class Inception(PooledStages):
    """Inception network: ``depth`` Inception modules with residual shortcuts, global
    average pooling and a linear classifier.

    Submodules: ``blocks`` (:class:`InceptionModule` per module), ``shortcuts`` (one
    :class:`Shortcut` after modules 2, 5, ... when ``use_residual``; ``shortcuts[j]``
    belongs to module ``3 j + 2``, whose output after the add is ``residual_relus[j]``'s) and
    ``head`` (``nn.Linear``). The channel order of
    each module's output is documented on :class:`InceptionModule`; a residual add keeps
    it (the shortcut produces the module's channels in the same order).
    """

    config_class = InceptionConfig

    def __init__(self, config: InceptionConfig) -> None:
        super().__init__()
        self.config = config
        channels = config.module_channels
        self.blocks = nn.ModuleList()
        for d, widths in enumerate(config.widths):
            self.blocks.append(
                InceptionModule(
                    config.n_channels if d == 0 else channels[d - 1],
                    widths,
                    config.kernel_sizes,
                    config.bottleneck_size,
                    config.use_bottleneck,
                    hand_crafted=config.hand_crafted and d == 0,
                )
            )
        self.shortcuts = nn.ModuleList()
        if config.use_residual:
            residual_channels = config.n_channels
            for d in self._residual_modules():
                self.shortcuts.append(Shortcut(residual_channels, channels[d]))
                residual_channels = channels[d]
        # One ReLU module per residual add, so that forward hooks (DSP) see the post-add
        # output of modules 2, 5, ... (no parameters).
        self.residual_relus = nn.ModuleList(nn.ReLU() for _ in self.shortcuts)
        self.head = nn.Linear(channels[-1], config.n_classes)

    def prunable_stages(self) -> list[PrunableStage]:
        """Every module's output (after the residual add for modules 2, 5, ...); each branch
        keeps a filter and hand-crafted channels are never removed."""
        residual = {d: j for j, d in enumerate(self._residual_modules())}
        stages = []
        for d, block in enumerate(self.blocks):
            groups = block.channel_groups
            stages.append(
                PrunableStage(
                    f"residual_relus.{residual[d]}" if d in residual else f"blocks.{d}",
                    f"blocks.{d}.bn",
                    groups=tuple(
                        groups[name]
                        for name in ("conv0", "conv1", "conv2", "pool")
                        if groups[name].stop > groups[name].start
                    ),
                    fixed=(groups["hand_crafted"],) if "hand_crafted" in groups else (),
                )
            )
        return stages

    def config_from_shapes(self) -> InceptionConfig:
        """The config of this network as its modules are now (after channels were removed)."""
        rows = []
        for block in self.blocks:
            convs = [
                block.branches[f"conv{i}"].out_channels if f"conv{i}" in block.branches else 0
                for i in range(N_CONV_BRANCHES)
            ]
            rows.append((*convs, 0 if block.pool_conv is None else block.pool_conv.out_channels))
        return dataclasses.replace(self.config, widths=tuple(rows))

    def uniform_config(self, width: int) -> InceptionConfig:
        """This architecture with every branch of every module ``width`` filters wide (the
        uniform-width control of structured pruning)."""
        return dataclasses.replace(self.config, n_filters=width, widths=None)

    def _residual_modules(self) -> list[int]:
        """Indices of the modules followed by a residual add (2, 5, ... below depth)."""
        if not self.config.use_residual:
            return []
        return [d for d in range(self.config.depth) if d % RESIDUAL_EVERY == RESIDUAL_EVERY - 1]

    def _stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every module's output after its BN and ReLU, ``(batch, module_channels[d],
        time)``; for a module followed by a residual add, the tensor after the add and its
        ReLU (what DSP's sparsity loss and activation analysis use)."""
        shortcut_after = {d: j for j, d in enumerate(self._residual_modules())}
        residual = x
        stages = []
        for d, block in enumerate(self.blocks):
            x = block(x)
            if d in shortcut_after:
                # As the reference code: the module output has been through BN and ReLU
                # already; the BN'd shortcut is added to it and a second ReLU follows.
                j = shortcut_after[d]
                x = self.residual_relus[j](x + self.shortcuts[j](residual))
                residual = x
            stages.append(x)
        return stages
