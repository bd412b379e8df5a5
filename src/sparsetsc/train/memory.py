"""Memory guard: estimate what a training step or a prediction needs before doing it.

Two series of two million time points each ask a LITE or DSN for several gigabytes of
activations per step; without a guard the fit runs until the operating system kills it.
Instead, before training, the network runs twice on a probe (two series of two short
lengths), the tensors autograd saves for the backward pass are counted, and a straight line
through the two counts gives the activation memory per series and time point (the fixed
part, e.g. weight copies of mixed precision, drops out). A step needs about twice that
(the saved activations, then their gradients) times the batch, plus the weights, their
gradients and Adam's two moments. If that exceeds the limit the fit is refused with the
estimate and the fix, before any work.

Prediction runs in batches sized the same way, from the outputs of every module of the
network in eval mode (an upper bound: nothing is freed).

The limit is the first of: the ``max_memory`` argument, ``$SPARSETSC_MAX_MEMORY`` (bytes, or
a size such as ``"8GB"`` / ``"512MiB"``), and the memory available now (``psutil`` for CPU,
``torch.cuda.mem_get_info`` for CUDA).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
import torch
from torch import nn

from .precision import precision_context

__all__ = [
    "MEMORY_ENV",
    "InsufficientMemoryError",
    "MemoryEstimate",
    "estimate_training_memory",
    "format_bytes",
    "inference_batch_size",
    "memory_limit",
    "parse_size",
]

#: Environment variable capping the memory a fit or prediction may plan to use.
MEMORY_ENV = "SPARSETSC_MAX_MEMORY"

#: Lengths of the two probes (shorter series use their own length and twice it).
_PROBE_LENGTH = 64
_UNITS = {"": 1, "b": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_BINARY = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class InsufficientMemoryError(ValueError):
    """Training or prediction would need more memory than the limit; nothing was run.

    The message gives the estimate, the limit and its source, and what to change.
    """


def parse_size(size: int | float | str) -> int:
    """Bytes of a size: a number of bytes, or text such as ``"8GB"``, ``"1.5G"``, ``"512MiB"``."""
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"a memory size must be positive; got {size!r}")
        return int(size)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?)b?\s*", str(size), re.IGNORECASE)
    if match is None or float(match[1]) <= 0:
        raise ValueError(
            f"cannot read memory size {size!r}: use bytes or a size such as '8GB' or '512MiB'"
        )
    unit = match[2].lower()
    factor = _BINARY[unit] if match[3] and unit else _UNITS[unit]
    return int(float(match[1]) * factor)


def format_bytes(n_bytes: float) -> str:
    """``1.2 GB``-style text (decimal units)."""
    for unit, factor in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= factor:
            return f"{n_bytes / factor:.1f} {unit}"
    return f"{int(n_bytes)} B"


def memory_limit(device: torch.device, max_memory: int | str | None = None) -> tuple[int, str]:
    """The memory a fit or prediction may use on ``device``, and where the figure comes from."""
    if max_memory is not None:
        return parse_size(max_memory), "max_memory"
    if os.environ.get(MEMORY_ENV):
        return parse_size(os.environ[MEMORY_ENV]), f"${MEMORY_ENV}"
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free), f"free memory of {device}"
    return int(psutil.virtual_memory().available), "available memory"


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory of one training step of a network on series of one shape."""

    #: Activation bytes autograd saves per series and time point.
    activation_bytes_per_point: float
    #: Weights, their gradients and Adam's two moments.
    parameter_bytes: int
    n_timepoints: int

    def step_bytes(self, batch_size: int) -> float:
        """Peak bytes of a step on ``batch_size`` series: saved activations and their
        gradients, plus the parameters' share."""
        activations = self.activation_bytes_per_point * self.n_timepoints * batch_size
        return 2 * activations + self.parameter_bytes

    def largest_batch(self, limit: int) -> int:
        """The largest batch whose step fits in ``limit`` bytes (0 if none does)."""
        per_series = 2 * self.activation_bytes_per_point * self.n_timepoints
        room = limit - self.parameter_bytes
        return max(0, math.floor(room / per_series)) if per_series > 0 else 2**31


@contextlib.contextmanager
def _probing(network: nn.Module, training: bool) -> Iterator[None]:
    """Run probes without a trace: BatchNorm statistics, the mode and the RNG come back."""
    buffers = {name: buffer.clone() for name, buffer in network.named_buffers()}
    was_training = network.training
    network.train(training)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        network.train(was_training)
        with torch.no_grad():
            for name, buffer in network.named_buffers():
                buffer.copy_(buffers[name])


def _probe_lengths(network: nn.Module, n_timepoints: int) -> tuple[int, int]:
    shortest = getattr(getattr(network, "config", None), "min_timepoints", 1)
    short = min(n_timepoints, max(_PROBE_LENGTH, shortest))
    return short, 2 * short


def _saved_bytes(
    network: nn.Module, n_channels: int, length: int, precision: str, device: torch.device
) -> int:
    """Bytes autograd saves for the backward pass of two series of ``length`` points."""
    parameters = {p.untyped_storage().data_ptr() for p in network.parameters()}
    seen: set[int] = set()
    total = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal total
        storage = tensor.untyped_storage()
        pointer = storage.data_ptr()
        if pointer not in parameters and pointer not in seen:
            seen.add(pointer)
            total += storage.nbytes()
        return tensor

    probe = torch.zeros(2, n_channels, length, device=device)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        with precision_context(precision, device):
            network(probe)
    return total


def estimate_training_memory(
    network: nn.Module,
    n_channels: int,
    n_timepoints: int,
    precision: str,
    device: torch.device,
) -> MemoryEstimate:
    """The memory of one training step of ``network`` (on ``device``) on series of this
    shape, from two small probes (see the module docstring); the network is left as it was."""
    short, long = _probe_lengths(network, n_timepoints)
    with _probing(network, training=True):
        low = _saved_bytes(network, n_channels, short, precision, device)
        high = _saved_bytes(network, n_channels, long, precision, device)
    per_point = max(high - low, 0) / (2 * (long - short))
    parameter_bytes = 4 * sum(p.numel() * p.element_size() for p in network.parameters())
    return MemoryEstimate(per_point, parameter_bytes, n_timepoints)


def check_training_memory(
    network: nn.Module,
    n_channels: int,
    n_timepoints: int,
    batch_size: int,
    precision: str,
    device: torch.device,
    max_memory: int | str | None = None,
    n_members: int = 1,
) -> MemoryEstimate:
    """Raise :class:`InsufficientMemoryError` if a training step of ``n_members`` copies of
    ``network`` on ``batch_size`` series would exceed the limit (:func:`memory_limit`)."""
    estimate = estimate_training_memory(network, n_channels, n_timepoints, precision, device)
    limit, source = memory_limit(device, max_memory)
    needed = n_members * estimate.step_bytes(batch_size)
    if needed <= limit:
        return estimate
    fits = estimate.largest_batch(limit // n_members)
    members = f"{n_members} members x " if n_members > 1 else ""
    if fits >= 1:
        fix = f"use batch_size={fits} or smaller, or shorten the series"
    else:
        fix = "not even one series of this length fits: shorten the series"
    raise InsufficientMemoryError(
        f"training would need about {format_bytes(needed)} per step ({members}batch "
        f"{batch_size} x {n_timepoints} time points x {n_channels} channel(s), {precision}) "
        f"but the limit is {format_bytes(limit)} ({source}); {fix} (load with length=N and "
        "unequal_length='resample' or 'truncate', or sparsetsc.data.equalize_length), or "
        f"raise the limit with ${MEMORY_ENV}. Nothing was trained."
    )


def _output_bytes(network: nn.Module, n_channels: int, length: int, device: torch.device) -> int:
    """Bytes of every module output of one eval-mode forward pass on two series."""
    total = 0

    def count(_module: nn.Module, _inputs: object, output: object) -> None:
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    modules = [m for m in network.modules() if not list(m.children())]
    hooks = [module.register_forward_hook(count) for module in modules]
    try:
        with torch.no_grad():
            network(torch.zeros(2, n_channels, length, device=device))
    finally:
        for hook in hooks:
            hook.remove()
    return total


# Per network: (channels, length, device) -> bytes per series and time point. Activation
# sizes depend on the architecture only, so a network is probed once per input shape (a
# latency measurement at batch 1 must not pay for probes).
_INFERENCE_PROBES: weakref.WeakKeyDictionary[nn.Module, dict[tuple, float]] = (
    weakref.WeakKeyDictionary()
)


def _inference_bytes_per_point(
    network: nn.Module, n_channels: int, n_timepoints: int, device: torch.device
) -> float:
    probes = _INFERENCE_PROBES.setdefault(network, {})
    key = (n_channels, n_timepoints, str(device))
    if key not in probes:
        short, long = _probe_lengths(network, n_timepoints)
        with _probing(network, training=False):
            low = _output_bytes(network, n_channels, short, device)
            high = _output_bytes(network, n_channels, long, device)
        probes[key] = max(high - low, 0) / (2 * (long - short))
    return probes[key]


def inference_batch_size(
    network: nn.Module,
    n_channels: int,
    n_timepoints: int,
    device: torch.device,
    batch_size: int,
    max_memory: int | str | None = None,
) -> int:
    """The largest batch, at most ``batch_size``, whose forward pass fits in the limit.

    Raises :class:`InsufficientMemoryError` if not even one series fits.
    """
    per_series = _inference_bytes_per_point(network, n_channels, n_timepoints, device)
    per_series *= n_timepoints
    if per_series == 0:
        return batch_size
    limit, source = memory_limit(device, max_memory)
    fits = math.floor(limit / per_series)
    if fits < 1:
        raise InsufficientMemoryError(
            f"prediction would need about {format_bytes(per_series)} per series of "
            f"{n_timepoints} time points but the limit is {format_bytes(limit)} ({source}); "
            "shorten the series (sparsetsc.data.equalize_length) or raise the limit with "
            f"${MEMORY_ENV}"
        )
    return min(batch_size, fits)
