"""Inference that skips the zeros a sparse-trained network holds (CPU).

Masks alone buy no time: a masked convolution is a dense one over zeros, and PyTorch's
sparse tensors are slower than dense at these sizes (a CSR matrix times unfolded input ran
2x slower than the dense convolution for a DSN layer). Two things do pay off after training:

* :func:`trim_regions` shrinks each kernel group of a
  :class:`~sparsetsc.nn.region_conv.RegionConv1d` to the taps its weights actually use, so
  the dense path convolves fewer taps (exact).
* :class:`SparseConv1d` computes a convolution from its non-zero weights only: every output
  channel keeps the list of its active (input channel, tap) pairs, and each pair adds one
  scaled, shifted input row to the output row. The loop is compiled with numba (already
  required by aeon), vectorised over time and run in parallel over (series, output channel).

:func:`sparse_inference` returns a copy of a network with every sparse enough ``Conv1d``
replaced by a :class:`SparseConv1d`; outputs equal the original's up to float summation order.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from numba import njit, prange, uint64
from torch import nn
from torch.nn import functional as F

from ..nn.kernels import prepare_kernel
from ..nn.region_conv import RegionConv1d
from ..nn.same_conv import SameConv1d

__all__ = ["SparseConv1d", "sparse_inference", "trim_regions", "weight_density"]


def weight_density(conv: nn.Conv1d) -> float:
    """Fraction of non-zero entries of ``conv.weight``."""
    weight = conv.weight.detach()
    return float(torch.count_nonzero(weight)) / weight.numel()


def trim_regions(model: nn.Module) -> int:
    """Shrink every kernel group to the span of taps its non-zero weights use (in place).

    Taps outside that span hold only zeros, so the network computes the same function with
    less work on its dense path. A group without any non-zero weight keeps one (zero) tap.
    Returns the number of taps removed over all groups (per output channel and input).
    """
    removed = 0
    for module in model.modules():
        if not isinstance(module, RegionConv1d) or module.regions is None:
            continue
        weight = module.weight.detach()
        trimmed = []
        for out_start, out_stop, tap_start, tap_stop in module.regions:
            used = weight[out_start:out_stop, :, tap_start:tap_stop].ne(0).any(dim=(0, 1))
            taps = torch.nonzero(used).flatten()
            if len(taps) == 0:
                first, last = tap_start, tap_start
            else:
                first, last = tap_start + int(taps[0]), tap_start + int(taps[-1])
            trimmed.append((out_start, out_stop, first, last + 1))
            removed += (tap_stop - tap_start - (last + 1 - first)) * (out_stop - out_start)
        module.regions = trimmed
    return removed


# No fastmath: with it, the copy numba compiles in the running process and the copy it
# caches may fuse multiplies and adds differently (see sparsetsc.nn.kernels).
@njit(parallel=True, fastmath=False, cache=True)
def _sparse_conv(padded, indptr, offsets, values, out):  # pragma: no cover - compiled
    # padded: (batch, in_channels * padded_length); out: (batch, out_channels, length).
    # Unsigned indices: numba then emits no negative-index wraparound, which would
    # otherwise stop LLVM from vectorising the inner loop over time.
    n_batch, n_out, length = out.shape
    length_u = uint64(length)
    for task in prange(n_batch * n_out):
        b = task // n_out
        o = task % n_out
        row = padded[b]
        acc = out[b, o]
        for t in range(length_u):
            acc[t] = 0.0
        for n in range(indptr[o], indptr[o + 1]):
            start = offsets[n]
            value = values[n]
            for t in range(length_u):
                acc[t] += value * row[start + t]
    return out


class SparseConv1d(nn.Module):
    """Inference-only ``Conv1d`` (stride 1, groups 1) that computes only non-zero weights.

    Build it with :meth:`from_conv`. On CPU float32 input without autograd it runs the
    sparse kernel; anything else (CUDA, other dtypes, gradients) runs the dense
    convolution it was built from, so it is always a drop-in replacement.
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        padding: tuple[int, int],
        padding_mode: str = "constant",
        dilation: int = 1,
    ) -> None:
        super().__init__()
        if weight.dim() != 3:
            raise ValueError(f"weight must be (out, in, kernel); got shape {tuple(weight.shape)}")
        self.register_buffer("weight", weight.detach().clone())
        self.register_buffer("bias", None if bias is None else bias.detach().clone())
        self.padding = (int(padding[0]), int(padding[1]))
        self.padding_mode = padding_mode
        self.dilation = int(dilation)
        self._plan: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_conv(cls, conv: nn.Conv1d) -> SparseConv1d:
        """The sparse twin of ``conv`` (a ``Conv1d``, ``SameConv1d`` or ``RegionConv1d``).

        Raises ``ValueError`` for strided or grouped convolutions.
        """
        if conv.stride[0] != 1 or conv.groups != 1:
            raise ValueError("SparseConv1d supports stride 1 and groups 1 only")
        weight = conv.weight.detach()
        if isinstance(conv, RegionConv1d):
            if conv.regions is not None:  # taps outside the regions are never used
                weight = weight * conv._region_mask.to(weight)
            mode = "replicate" if conv.padding_mode == "replicate" else "constant"
            return cls(weight, conv.bias, conv.same_padding, mode)
        if isinstance(conv, SameConv1d):
            return cls(weight, conv.bias, conv.same_padding, "constant", conv.dilation[0])
        if isinstance(conv.padding, str):
            if conv.padding == "valid":
                padding = (0, 0)
            else:  # "same": PyTorch puts the odd extra zero on the right
                total = conv.dilation[0] * (conv.kernel_size[0] - 1)
                padding = (total // 2, total - total // 2)
        else:
            padding = (conv.padding[0], conv.padding[0])
        mode = "constant" if conv.padding_mode == "zeros" else conv.padding_mode
        return cls(weight, conv.bias, padding, mode, conv.dilation[0])

    @property
    def density(self) -> float:
        """Fraction of non-zero weights."""
        return float(torch.count_nonzero(self.weight)) / self.weight.numel()

    def _compiled_plan(self, padded_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Row pointers per output channel and, per non-zero, the flat offset of its input
        # row and tap inside one padded series; rebuilt only when the length changes.
        if self._plan is None or self._plan[0] != padded_length:
            weight = self.weight.to("cpu", torch.float32).numpy()
            outs, ins, taps = np.nonzero(weight)
            indptr = np.zeros(weight.shape[0] + 1, dtype=np.int64)
            np.cumsum(np.bincount(outs, minlength=weight.shape[0]), out=indptr[1:])
            offsets = (ins * padded_length + taps * self.dilation).astype(np.uint64)
            values = weight[outs, ins, taps].astype(np.float32)
            self._plan = (padded_length, indptr, offsets, values)
        return self._plan[1:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, self.padding, mode=self.padding_mode)
        sparse_ok = (
            padded.device.type == "cpu"
            and padded.dtype == torch.float32
            and not (torch.is_grad_enabled() and padded.requires_grad)
        )
        if not sparse_ok:
            weight = self.weight.to(padded)
            bias = None if self.bias is None else self.bias.to(padded)
            return F.conv1d(padded, weight, bias, dilation=self.dilation)
        n_batch, n_in, padded_length = padded.shape
        if n_in != self.weight.shape[1]:
            raise ValueError(f"expected {self.weight.shape[1]} input channels; got {n_in}")
        length = padded_length - self.dilation * (self.weight.shape[2] - 1)
        indptr, offsets, values = self._compiled_plan(padded_length)
        rows = padded.detach().contiguous().numpy().reshape(n_batch, n_in * padded_length)
        out = np.empty((n_batch, self.weight.shape[0], length), dtype=np.float32)
        prepare_kernel(_sparse_conv)  # numba's thread count is per calling thread
        _sparse_conv(rows, indptr, offsets, values, out)
        output = torch.from_numpy(out)
        return output if self.bias is None else output + self.bias.view(1, -1, 1)

    def extra_repr(self) -> str:
        out_channels, in_channels, kernel_size = self.weight.shape
        return (
            f"{in_channels}, {out_channels}, kernel_size={kernel_size}, "
            f"density={self.density:.3f}, padding={self.padding}, dilation={self.dilation}"
        )


def sparse_inference(model: nn.Module, max_density: float = 0.5) -> nn.Module:
    """A copy of ``model`` for CPU inference whose sparse convolutions skip their zeros.

    Every stride-1, ungrouped ``Conv1d`` with at most ``max_density`` non-zero weights (after
    restricting a :class:`RegionConv1d` to its regions) becomes a :class:`SparseConv1d`;
    the rest of the network is unchanged. The copy is in eval mode and needs no gradients.
    Outputs equal ``model``'s up to float summation order (about 1e-6 relative).
    """
    if not 0.0 < max_density <= 1.0:
        raise ValueError(f"max_density must be in (0, 1]; got {max_density}")
    twin = copy.deepcopy(model).eval().requires_grad_(False)
    replacements = []
    for name, module in twin.named_modules():
        if (
            name
            and isinstance(module, nn.Conv1d)
            and module.stride[0] == 1
            and module.groups == 1
            and module.kernel_size[0] > 1
        ):
            sparse = SparseConv1d.from_conv(module)
            if sparse.density <= max_density:
                replacements.append((name, sparse))
    for name, sparse in replacements:
        parent_name, _, child = name.rpartition(".")
        parent = twin.get_submodule(parent_name) if parent_name else twin
        setattr(parent, child, sparse)
    return twin
