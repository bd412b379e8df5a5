"""Fast CPU training kernels for the small 1-D convolutions of TSC networks.

PyTorch runs every ``Conv1d`` on CPU through oneDNN, whose backward pass is slow for the
shapes time-series networks use: a depthwise convolution over LITE's 113 block-1 channels
(kernel 20, dilation 2, batch 28, length 286) takes about 40 ms forward and backward, for
18 M multiply-accumulates. What is here computes the same functions faster:

* :func:`depthwise_conv1d`: a depthwise "same" convolution (one filter per channel, any
  dilation) as numba loops over contiguous rows: forward, input gradient and weight
  gradient each about 1 ms for that layer;
* :func:`pointwise_conv1d`: a 1x1 convolution as one batched matrix product (oneDNN is
  slowest on the odd channel counts that pruning leaves: 9.8 against 2.5 ms for 113 -> 32);
* :func:`channels_last_conv1d`: a dense convolution over several input channels run by
  oneDNN as a ``(1, k)`` 2-D convolution in channels-last layout, whose backward pass is
  2-5x faster than the 1-D one in the native layout;
* :func:`max_pool3`: the stride-1, size-3, "same" max pooling of Inception, as a maximum
  over three shifted views instead of ``max_pool1d_with_indices``.

The modules use them in training on CPU only (see :class:`~sparsetsc.nn.same_conv.SameConv1d`);
evaluation, export, cost counting and graph tracing see the ordinary operations. Every
kernel is tested against ``torch.nn.functional`` (outputs and both gradients).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numba
import numpy as np
import torch
from numba import njit, prange
from torch.nn import functional as F

__all__ = [
    "autocast_dtype",
    "follow_torch_threads",
    "notify_before_compiling",
    "prepare_kernel",
    "autocast_on_cpu",
    "batch_norm_relu",
    "fast_kernels",
    "use_fast_kernels",
    "channels_last_conv1d",
    "depthwise_conv1d",
    "max_pool3",
    "pointwise_conv1d",
]


_STATE = threading.local()


@contextlib.contextmanager
def fast_kernels(enabled: bool) -> Iterator[None]:
    """Inside the block the fast training kernels are on or off (default: on).

    The vectorised ensemble trainer turns them off: ``torch.func.vmap`` cannot batch the
    numba kernels.
    """
    previous = getattr(_STATE, "enabled", True)
    _STATE.enabled = enabled
    try:
        yield
    finally:
        _STATE.enabled = previous


def use_fast_kernels(module: torch.nn.Module, x: torch.Tensor) -> bool:
    """Whether ``module`` runs its fast kernel on ``x``: in training, with autograd, on CPU.

    Evaluation, export, cost counting and graph tracing (all in eval mode) see ordinary
    operations.
    """
    return (
        module.training
        and torch.is_grad_enabled()
        and x.device.type == "cpu"
        and getattr(_STATE, "enabled", True)
    )


def autocast_on_cpu() -> bool:
    """Whether CPU autocast (mixed precision) is on here."""
    return autocast_dtype("cpu") is not None


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The dtype autocast computes in on ``device_type`` here, or ``None`` when it is off."""
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4: one function per device type
        enabled = (
            torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()
        )
    if not enabled:
        return None
    try:
        return torch.get_autocast_dtype(device_type)
    except AttributeError:  # torch < 2.4
        return (
            torch.get_autocast_cpu_dtype()
            if device_type == "cpu"
            else torch.get_autocast_gpu_dtype()
        )


# ---------------------------------------------------------------------- compile options
#: Every kernel is compiled with these options, and without ``fastmath`` on purpose. With
#: it, LLVM may reassociate sums and fuse multiplies into adds as it sees fit, and numba's
#: parallel lowering optimises each ``prange`` body twice: once on its own (the copy the
#: compiling process runs) and once linked into its caller (the copy written to the cache).
#: The two copies were given different instruction sequences, so a fit computed other
#: numbers on a fresh install than once the cache was warm. Without ``fastmath`` every
#: result is fixed by the order of operations written here, whoever compiled it; sums over
#: time are written as element-wise running sums (which vectorise without reassociation)
#: folded in a fixed order at the end.
_COMPILE_OPTIONS = {"parallel": True, "fastmath": False, "cache": True}


# ---------------------------------------------------------------------- depthwise
# Each series row is copied into a zero-padded scratch row whose length is a multiple of
# the vector width, so every tap is one full-length, remainder-free vector loop over
# contiguous slices (numba vectorises slices, not offset indices, which carry a
# negative-index check); four taps share each pass over the accumulator.
_ROW_MULTIPLE = 16


def _scratch_length(length: int) -> int:
    return -(-length // _ROW_MULTIPLE) * _ROW_MULTIPLE


@njit(fastmath=False, cache=True)
def _row_sum(row):  # pragma: no cover - compiled
    # Left to right, in float64: an order no compile may change.
    total = 0.0
    for t in range(row.shape[0]):
        total += row[t]
    return total


@njit(**_COMPILE_OPTIONS)
def _depthwise_rows(x, taps, dilation, left, out, n_tasks, width):  # pragma: no cover
    # out[b, c, t] = sum_j taps[c, j] * x[b, c, t + j * dilation - left], zero outside.
    n_batch, n_channels, length = x.shape
    n_taps = taps.shape[1]
    rows = n_batch * n_channels
    per_task = (rows + n_tasks - 1) // n_tasks
    for task in prange(n_tasks):
        padded = np.zeros(width + (n_taps - 1) * dilation, np.float32)
        acc = np.empty(width, np.float32)
        for r in range(task * per_task, min(rows, (task + 1) * per_task)):
            b = r // n_channels
            c = r % n_channels
            padded[left : left + length] = x[b, c]
            acc[:] = 0.0
            j = 0
            while j + 4 <= n_taps:
                s0 = padded[j * dilation : j * dilation + width]
                s1 = padded[(j + 1) * dilation : (j + 1) * dilation + width]
                s2 = padded[(j + 2) * dilation : (j + 2) * dilation + width]
                s3 = padded[(j + 3) * dilation : (j + 3) * dilation + width]
                w0, w1, w2, w3 = taps[c, j], taps[c, j + 1], taps[c, j + 2], taps[c, j + 3]
                for t in range(width):
                    acc[t] += (w0 * s0[t] + w1 * s1[t]) + (w2 * s2[t] + w3 * s3[t])
                j += 4
            while j < n_taps:
                s0 = padded[j * dilation : j * dilation + width]
                w0 = taps[c, j]
                for t in range(width):
                    acc[t] += w0 * s0[t]
                j += 1
            out[b, c] = acc[:length]


@njit(**_COMPILE_OPTIONS)
def _depthwise_tap_gradient(grad, x, dilation, left, grad_taps, width):  # pragma: no cover
    # grad_taps[c, j] = sum_{b, t} grad[b, c, t] * x[b, c, t + j * dilation - left]: an
    # element-wise running sum over the batch per tap, then one sum over time per tap.
    n_batch, n_channels, length = x.shape
    n_taps = grad_taps.shape[1]
    for c in prange(n_channels):
        padded = np.zeros(width + (n_taps - 1) * dilation, np.float32)
        g = np.zeros(width, np.float32)
        running = np.zeros((n_taps, width), np.float32)
        for b in range(n_batch):
            padded[left : left + length] = x[b, c]
            g[:length] = grad[b, c]
            j = 0
            while j + 4 <= n_taps:
                s0 = padded[j * dilation : j * dilation + width]
                s1 = padded[(j + 1) * dilation : (j + 1) * dilation + width]
                s2 = padded[(j + 2) * dilation : (j + 2) * dilation + width]
                s3 = padded[(j + 3) * dilation : (j + 3) * dilation + width]
                r0, r1, r2, r3 = running[j], running[j + 1], running[j + 2], running[j + 3]
                for t in range(width):
                    gt = g[t]
                    r0[t] += gt * s0[t]
                    r1[t] += gt * s1[t]
                    r2[t] += gt * s2[t]
                    r3[t] += gt * s3[t]
                j += 4
            while j < n_taps:
                s0 = padded[j * dilation : j * dilation + width]
                r0 = running[j]
                for t in range(width):
                    r0[t] += g[t] * s0[t]
                j += 1
        for j in range(n_taps):
            grad_taps[c, j] = _row_sum(running[j])


def follow_torch_threads() -> None:
    """Run numba's kernels on as many threads as torch uses (a sweep splits the cores among
    its jobs), and keep torch's setting as it was.

    numba's OpenMP pool, started on first use, resets the process's OpenMP thread count,
    which is torch's too: a ``torch.set_num_threads(1)`` made before the first kernel would
    silently become one thread per core for the rest of the process.
    """
    wanted = torch.get_num_threads()
    numba.get_num_threads()  # starts numba's pool on first use
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    numba.set_num_threads(max(1, min(wanted, numba.config.NUMBA_NUM_THREADS)))


def _n_tasks() -> int:
    # One scratch row per task: as many tasks as threads.
    return numba.get_num_threads()


class _DepthwiseConv1d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, dilation, left):  # type: ignore[override]
        x = x.detach().contiguous()
        taps = weight.detach().reshape(weight.shape[0], -1).contiguous()
        out = torch.empty_like(x)
        width = _scratch_length(x.shape[2])
        prepare_kernel(_depthwise_rows)
        _depthwise_rows(x.numpy(), taps.numpy(), dilation, left, out.numpy(), _n_tasks(), width)
        ctx.save_for_backward(x, taps)
        ctx.dilation, ctx.left, ctx.weight_shape = dilation, left, weight.shape
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        x, taps = ctx.saved_tensors
        grad = grad.contiguous().float()
        width = _scratch_length(x.shape[2])
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            # The input gradient is the same convolution of grad with the taps reversed.
            span = (taps.shape[1] - 1) * ctx.dilation
            grad_x = torch.empty_like(x)
            reversed_taps = taps.flip(1).contiguous()
            prepare_kernel(_depthwise_rows)
            _depthwise_rows(
                grad.numpy(),
                reversed_taps.numpy(),
                ctx.dilation,
                span - ctx.left,
                grad_x.numpy(),
                _n_tasks(),
                width,
            )
        if ctx.needs_input_grad[1]:
            grad_taps = torch.empty_like(taps)
            prepare_kernel(_depthwise_tap_gradient)
            _depthwise_tap_gradient(
                grad.numpy(), x.numpy(), ctx.dilation, ctx.left, grad_taps.numpy(), width
            )
            grad_weight = grad_taps.view(ctx.weight_shape)
        return grad_x, grad_weight, None, None


def depthwise_conv1d(
    x: torch.Tensor, weight: torch.Tensor, dilation: int, left: int
) -> torch.Tensor:
    """Depthwise "same" convolution without bias: ``out[b, c, t] = sum_j weight[c, 0, j] *
    x[b, c, t + j * dilation - left]``, zero outside the series (CPU; float32).

    ``left`` is the zero padding on the left; the output has the input's length.
    """
    return _DepthwiseConv1d.apply(x.float(), weight, int(dilation), int(left))


# ---------------------------------------------------------------------- dense
def pointwise_conv1d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """A 1x1 convolution, ``(batch, in, time) -> (batch, out, time)``, as one matrix product."""
    # bmm over the batch reads x in place; matmul would transpose it to (batch * time, in).
    out = torch.bmm(weight[:, :, 0].expand(x.shape[0], -1, -1), x)
    return out if bias is None else out + bias[:, None]


def channels_last_conv1d(
    padded: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, dilation: int = 1
) -> torch.Tensor:
    """``F.conv1d(padded, weight, bias, dilation=dilation)`` through oneDNN's channels-last
    2-D convolution; the result is a contiguous ``(batch, out, time)`` tensor again."""
    image = padded.unsqueeze(2).contiguous(memory_format=torch.channels_last)
    out = F.conv2d(image, weight.unsqueeze(2), bias, dilation=(1, dilation))
    return out.squeeze(2).contiguous()


# ---------------------------------------------------------------------- batch norm + ReLU
@njit(**_COMPILE_OPTIONS)
def _bn_relu_forward(x, scale_in, shift_in, eps, out, mean, invstd):  # pragma: no cover
    # Per channel: batch statistics (running sums over the batch per time step, then a
    # float64 sum over time), then relu(gamma * x_hat + beta).
    n_batch, n_channels, length = x.shape
    count = n_batch * length
    for c in prange(n_channels):
        running = np.zeros(length, np.float32)
        for b in range(n_batch):
            row = x[b, c]
            for t in range(length):
                running[t] += row[t]
        m = _row_sum(running) / count
        m32 = np.float32(m)
        running[:] = 0.0
        for b in range(n_batch):
            row = x[b, c]
            for t in range(length):
                d = row[t] - m32
                running[t] += d * d
        inv = 1.0 / np.sqrt(_row_sum(running) / count + eps)
        mean[c] = m
        invstd[c] = inv
        scale = np.float32(scale_in[c] * inv)
        shift = np.float32(shift_in[c] - m * scale_in[c] * inv)
        zero = np.float32(0.0)
        for b in range(n_batch):
            row = x[b, c]
            target = out[b, c]
            for t in range(length):
                y = scale * row[t] + shift
                target[t] = y if y > zero else zero


@njit(**_COMPILE_OPTIONS)
def _bn_relu_backward(
    grad, x, out, gamma, mean, invstd, grad_x, grad_gamma, grad_beta
):  # pragma: no cover
    n_batch, n_channels, length = x.shape
    count = n_batch * length
    zero = np.float32(0.0)
    for c in prange(n_channels):
        m = np.float32(mean[c])
        inv = invstd[c]
        running, running_centred = np.zeros(length, np.float32), np.zeros(length, np.float32)
        for b in range(n_batch):
            g, row, y = grad[b, c], x[b, c], out[b, c]
            for t in range(length):
                live = g[t] if y[t] > zero else zero
                running[t] += live
                running_centred[t] += live * (row[t] - m)
        total, total_centred = _row_sum(running), _row_sum(running_centred)
        grad_beta[c] = total
        grad_gamma[c] = total_centred * inv
        k = np.float32(gamma[c] * inv)
        mean_grad = np.float32(total / count)
        mean_projection = np.float32(total_centred * inv * inv / count)
        for b in range(n_batch):
            g, row, y, target = grad[b, c], x[b, c], out[b, c], grad_x[b, c]
            for t in range(length):
                live = g[t] if y[t] > zero else zero
                target[t] = k * (live - mean_grad - (row[t] - m) * mean_projection)


class _BatchNormReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):  # type: ignore[override]
        x = x.detach().contiguous()
        n_channels = x.shape[1]
        gamma = weight.detach().contiguous()
        out = torch.empty_like(x)
        mean = torch.empty(n_channels, dtype=torch.float64)
        invstd = torch.empty(n_channels, dtype=torch.float64)
        prepare_kernel(_bn_relu_forward)
        _bn_relu_forward(
            x.numpy(),
            gamma.numpy(),
            bias.detach().contiguous().numpy(),
            eps,
            out.numpy(),
            mean.numpy(),
            invstd.numpy(),
        )
        ctx.save_for_backward(x, out, gamma, mean, invstd)
        ctx.mark_non_differentiable(mean, invstd)
        return out, mean, invstd

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, _mean, _invstd):  # type: ignore[override]
        x, out, gamma, mean, invstd = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = torch.empty_like(x)
        grad_gamma, grad_beta = torch.empty_like(gamma), torch.empty_like(gamma)
        prepare_kernel(_bn_relu_backward)
        _bn_relu_backward(
            grad.numpy(),
            x.numpy(),
            out.numpy(),
            gamma.numpy(),
            mean.numpy(),
            invstd.numpy(),
            grad_x.numpy(),
            grad_gamma.numpy(),
            grad_beta.numpy(),
        )
        return grad_x, grad_gamma, grad_beta, None


def batch_norm_relu(bn: torch.nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """``relu(bn(x))`` for ``(batch, channels, time)`` input.

    In training on CPU (an affine BatchNorm that tracks running statistics) it is one fused
    numba kernel per pass, with the running statistics updated as ``nn.BatchNorm1d`` does
    (momentum, unbiased variance, ``num_batches_tracked``); otherwise the modules.
    """
    fusable = bn.affine and bn.track_running_stats and x.dim() == 3 and x.shape[0] * x.shape[2] > 1
    if not (fusable and use_fast_kernels(bn, x)):
        return torch.relu(bn(x))
    out, mean, invstd = _BatchNormReLU.apply(x.float(), bn.weight, bn.bias, bn.eps)
    with torch.no_grad():
        bn.num_batches_tracked.add_(1)
        momentum = bn.momentum
        if momentum is None:  # cumulative moving average
            momentum = 1.0 / float(bn.num_batches_tracked)
        count = x.shape[0] * x.shape[2]
        variance = (1.0 / invstd**2 - bn.eps) * count / (count - 1)
        bn.running_mean.mul_(1 - momentum).add_(mean.to(bn.running_mean.dtype), alpha=momentum)
        bn.running_var.mul_(1 - momentum).add_(variance.to(bn.running_var.dtype), alpha=momentum)
    return out


# ---------------------------------------------------------------------- pooling
@njit(**_COMPILE_OPTIONS)
def _max_pool3_forward(x, out, which):  # pragma: no cover - compiled
    # which[b, c, t]: the neighbour (0 left, 1 centre, 2 right) holding the maximum; the
    # first one on ties, as max_pool1d; the series edges count as -inf.
    n_batch, n_channels, length = x.shape
    for task in prange(n_batch * n_channels):
        b = task // n_channels
        c = task % n_channels
        row = x[b, c]
        for t in range(length):
            best = row[t]
            arg = 1
            if t > 0 and row[t - 1] >= best:
                best = row[t - 1]
                arg = 0
            if t + 1 < length and row[t + 1] > best:
                best = row[t + 1]
                arg = 2
            out[b, c, t] = best
            which[b, c, t] = arg


@njit(**_COMPILE_OPTIONS)
def _max_pool3_backward(grad, which, grad_x):  # pragma: no cover - compiled
    n_batch, n_channels, length = grad.shape
    for task in prange(n_batch * n_channels):
        b = task // n_channels
        c = task % n_channels
        row = grad_x[b, c]
        row[:] = 0.0
        for t in range(length):
            row[t + which[b, c, t] - 1] += grad[b, c, t]


class _MaxPool3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        x = x.detach().contiguous()
        out = torch.empty_like(x)
        which = torch.empty(x.shape, dtype=torch.int8)
        prepare_kernel(_max_pool3_forward)
        _max_pool3_forward(x.numpy(), out.numpy(), which.numpy())
        ctx.save_for_backward(which)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        (which,) = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = torch.empty(grad.shape, dtype=grad.dtype)
        prepare_kernel(_max_pool3_backward)
        _max_pool3_backward(grad.numpy(), which.numpy(), grad_x.numpy())
        return grad_x


def max_pool3(x: torch.Tensor) -> torch.Tensor:
    """``F.max_pool1d(x, 3, stride=1, padding=1)`` (CPU; float32): the maximum of each
    position and its two neighbours, the gradient going to the first maximum."""
    return _MaxPool3.apply(x.float())


# ---------------------------------------------------------------------- first use
_compile_notice: Callable[[], None] | None = None
_prepared: set[int] = set()


def notify_before_compiling(notice: Callable[[], None] | None) -> None:
    """Call ``notice()`` once, just before the first kernel this process must compile.

    A kernel compiles (a second or a few each, about 12 s for all of them) when it
    is neither compiled in this process nor in numba's cache for this source and numba
    version: on a fresh install or after an upgrade. One loaded from the cache does not
    call it. ``None`` turns the notice off.
    """
    global _compile_notice
    _compile_notice = notice


def prepare_kernel(kernel: Any) -> None:
    """Before calling a numba ``kernel``: match torch's thread count, and give the
    first-compile notice if this kernel is about to compile."""
    global _compile_notice
    follow_torch_threads()
    if id(kernel) in _prepared:
        return
    _prepared.add(id(kernel))
    if _compile_notice is not None and _will_compile(kernel):
        notice, _compile_notice = _compile_notice, None
        notice()


def _will_compile(kernel: Any) -> bool:
    if numba.config.DISABLE_JIT or kernel.signatures:
        return False
    try:  # numba's cache index for this source: empty when missing or stale
        return not kernel._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - a private API: assume the worst
        return True
