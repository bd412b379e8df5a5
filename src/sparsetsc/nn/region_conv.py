"""DSN's region-restricted convolution: kernel groups, their tap regions, and a fast kernel.

A large-kernel ``Conv1d`` whose output channels are split into kernel groups, each allowed
to use only the taps of its search region (Xiao et al., NeurIPS 2022). This module is the
one place the region arithmetic lives (:func:`kernel_group_regions`); the network
(:mod:`.dsn`), dynamic sparse training and the analyses read regions from here or from the
convolution itself. The convolution runs as a few short-kernel convolutions over
:func:`tap_bands` with a hand-written backward pass (:class:`_BandConvolution`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.nn import functional as F

from .kernels import autocast_dtype

__all__ = ["RegionConv1d", "full_kernels", "kernel_group_regions", "tap_bands"]


def kernel_group_regions(
    out_channels: int, kernel_size: int, n_groups: int, anchor: str = "left"
) -> list[tuple[int, int, int, int]]:
    """Output-channel groups and the kernel taps each may use (DSN's search regions).

    Output channels are split into ``n_groups`` contiguous groups as ``torch.chunk`` splits
    them (the official DSN code does exactly this). Group ``i`` may use a window of
    ``step * (i + 1)`` taps, ``step = kernel_size // n_groups``: 13, 26, 39 for ``k=39, G=3``.

    Parameters
    ----------
    out_channels, kernel_size, n_groups : int
        Shape of the convolution and number of kernel groups.
    anchor : {"left", "center"}
        ``"left"``: taps ``[0, size)`` from the start of the kernel, as in the official code;
        ``"center"``: a window of the same size centred in the kernel.

    Returns
    -------
    list of (out_start, out_stop, tap_start, tap_stop)
    """
    if not 1 <= n_groups <= min(out_channels, kernel_size):
        raise ValueError(
            f"n_groups must be between 1 and min(out_channels={out_channels}, "
            f"kernel_size={kernel_size}); got {n_groups}"
        )
    if anchor not in ("left", "center"):
        raise ValueError(f"anchor must be 'left' or 'center'; got {anchor!r}")
    chunk = -(-out_channels // n_groups)  # torch.chunk: ceil-sized chunks, last one smaller
    step = kernel_size // n_groups
    regions = []
    for i, out_start in enumerate(range(0, out_channels, chunk)):
        size = step * (i + 1)
        tap_start = 0 if anchor == "left" else (kernel_size - size) // 2
        out_stop = min(out_start + chunk, out_channels)
        regions.append((out_start, out_stop, tap_start, tap_start + size))
    return regions


def tap_bands(
    regions: list[tuple[int, int, int, int]], kernel_size: int
) -> list[tuple[int, int, int]] | None:
    """Split the kernel into bands of taps used by the same output channels.

    For nested regions that grow with the group index (what :func:`kernel_group_regions`
    makes), the channels using a tap are always a suffix ``[out_start, out_channels)``. Each
    band ``(tap_start, tap_stop, out_start)`` is then one convolution with a short kernel,
    and all bands together do exactly the region-restricted work. Returns ``None`` when the
    regions do not have that structure.
    """
    users = [
        tuple(g for g, (_, _, t0, t1) in enumerate(regions) if t0 <= tap < t1)
        for tap in range(kernel_size)
    ]
    bands: list[tuple[int, int, int]] = []
    for tap, groups in enumerate(users):
        if not groups:
            continue
        if groups != tuple(range(groups[0], len(regions))):
            return None  # not a suffix of the groups
        if bands and bands[-1][1] == tap and users[tap - 1] == groups:
            bands[-1] = (bands[-1][0], tap + 1, bands[-1][2])
        else:
            bands.append((tap, tap + 1, regions[groups[0]][0]))
    # The innermost band serves every channel; it goes first so later bands add to it.
    bands.sort(key=lambda band: band[2])
    return bands if bands and bands[0][2] == 0 else None


class _BandConvolution(torch.autograd.Function):
    """Sum of short-kernel convolutions over :func:`tap_bands`, with a hand-written backward.

    Autograd through slices would allocate a zero tensor the size of the whole input and of
    the whole weight for every band and copy into it; here each band's gradient is added
    straight into one input gradient and written into one weight gradient.
    """

    @staticmethod
    def forward(ctx, padded, weight, bands, length):  # type: ignore[override]
        output = None
        for tap_start, tap_stop, out_start in bands:
            # the taps [tap_start, tap_stop) of output t read padded[t + tap_start + j]
            part = F.conv1d(
                padded[..., tap_start : tap_stop + length - 1],
                weight[out_start:, :, tap_start:tap_stop],
            )
            if output is None:
                output = part
            else:
                output[:, out_start:] += part
        ctx.save_for_backward(padded, weight)
        ctx.bands, ctx.length = bands, length
        return output

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):  # type: ignore[override]
        padded, weight = ctx.saved_tensors
        need_input, need_weight = ctx.needs_input_grad[:2]
        grad_padded = torch.zeros_like(padded) if need_input else None
        grad_weight = torch.zeros_like(weight) if need_weight else None
        for tap_start, tap_stop, out_start in ctx.bands:
            window = (..., slice(tap_start, tap_stop + ctx.length - 1))
            grad_window, grad_band, _ = torch.ops.aten.convolution_backward(
                grad_output[:, out_start:],
                padded[window],
                weight[out_start:, :, tap_start:tap_stop],
                None,
                [1],
                [0],
                [1],
                False,
                [0],
                1,
                [need_input, need_weight, False],
            )
            if need_input:
                grad_padded[window] += grad_window
            if need_weight:
                grad_weight[out_start:, :, tap_start:tap_stop] = grad_band
        return grad_padded, grad_weight, None, None


def _band_convolution(
    padded: torch.Tensor, weight: torch.Tensor, bands: list[tuple[int, int, int]], length: int
) -> torch.Tensor:
    # Under autocast the band convolutions run in the autocast dtype: cast both operands
    # once here (the casts carry the gradients back to float32) and run the function with
    # autocast off, so forward and hand-written backward see one dtype.
    dtype = autocast_dtype(padded.device.type)
    if dtype is None:
        return _BandConvolution.apply(padded, weight, bands, length)
    with torch.autocast(device_type=padded.device.type, enabled=False):
        return _BandConvolution.apply(padded.to(dtype), weight.to(dtype), bands, length)


class RegionConv1d(nn.Conv1d):
    """Length-preserving ``Conv1d`` whose output-channel groups use only their tap regions.

    The padding is explicit: ``"replicate"`` repeats the last value ``k - 1`` times on the
    right (tap ``j`` looks ``j`` steps ahead; DSN's mode for the UCR-2015 archive) and
    ``"zeros"`` pads ``(k - 1) // 2`` zeros left and ``k // 2`` right (centred "same"; DSN's
    mode for UCR-2018). With ``regions`` set (see :func:`kernel_group_regions`), taps outside
    a group's region are never used, which is part of the architecture: the convolution runs
    as a few short-kernel convolutions over :func:`tap_bands` (about 2/3 of the dense work at
    3 groups, and faster than one convolution per group on CPU, whose backward pass scales
    badly for narrow outputs). With fewer than ``BAND_MIN_IN_CHANNELS`` input channels the
    work is too small for that to pay off, so the whole kernel runs with the taps outside
    the regions zeroed. With ``regions=None`` it is a dense convolution.
    """

    #: Below this many input channels one dense convolution beats the bands (measured on CPU:
    #: 0.7 vs 1.7 ms forward+backward for 1 input channel, 2.6 vs 2.8 ms for 16, batch 5).
    BAND_MIN_IN_CHANNELS = 16

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding_mode: str = "zeros",
        regions: list[tuple[int, int, int, int]] | None = None,
        bias: bool = False,
    ) -> None:
        if padding_mode not in ("zeros", "replicate"):
            raise ValueError(f"padding_mode must be 'zeros' or 'replicate'; got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)
        self.padding_mode = padding_mode
        if padding_mode == "replicate":
            self.same_padding = (0, kernel_size - 1)
        else:
            self.same_padding = ((kernel_size - 1) // 2, kernel_size // 2)
        self.regions = regions

    @property
    def regions(self) -> list[tuple[int, int, int, int]] | None:
        """``(out_start, out_stop, tap_start, tap_stop)`` per kernel group, or ``None``."""
        return self._regions

    @regions.setter
    def regions(self, regions: list[tuple[int, int, int, int]] | None) -> None:
        self._regions = regions
        self._bands = None if regions is None else tap_bands(regions, self.kernel_size[0])
        self._region_mask: torch.Tensor | None = None
        if regions is not None:
            mask = torch.zeros(self.out_channels, 1, self.kernel_size[0])
            for out_start, out_stop, tap_start, tap_stop in regions:
                mask[out_start:out_stop, :, tap_start:tap_stop] = 1.0
            self._region_mask = mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mode = "replicate" if self.padding_mode == "replicate" else "constant"
        padded = F.pad(x, self.same_padding, mode=mode)
        weight = self.weight  # one evaluation: applies a mask parametrization if present
        if self.regions is None:
            return F.conv1d(padded, weight, self.bias)
        if self.in_channels < self.BAND_MIN_IN_CHANNELS:
            region_mask = self._region_mask.to(device=weight.device, dtype=weight.dtype)
            return F.conv1d(padded, weight * region_mask, self.bias)
        length = x.shape[-1]
        if self._bands is None:  # regions without the nested structure: one conv per group
            outputs = []
            for out_start, out_stop, tap_start, tap_stop in self.regions:
                window = padded[..., tap_start : tap_stop + length - 1]
                outputs.append(F.conv1d(window, weight[out_start:out_stop, :, tap_start:tap_stop]))
            output = torch.cat(outputs, dim=1)
        elif torch.is_grad_enabled() and (padded.requires_grad or weight.requires_grad):
            output = _band_convolution(padded, weight, self._bands, length)
        else:  # inference: plain operations, so tracing and export see ordinary convolutions
            output = None
            for tap_start, tap_stop, out_start in self._bands:
                window = padded[..., tap_start : tap_stop + length - 1]
                part = F.conv1d(window, weight[out_start:, :, tap_start:tap_stop])
                if output is None:
                    output = part
                else:
                    output = torch.cat([output[:, :out_start], output[:, out_start:] + part], 1)
        return output if self.bias is None else output + self.bias.view(1, -1, 1)


@contextlib.contextmanager
def full_kernels(model: nn.Module) -> Iterator[None]:
    """Inside the block every :class:`RegionConv1d` runs its whole kernel (dense twin)."""
    saved = [(m, m.regions) for m in model.modules() if isinstance(m, RegionConv1d)]
    try:
        for module, _ in saved:
            module.regions = None
        yield
    finally:
        for module, regions in saved:
            module.regions = regions
