"""Numeric precision of training and prediction: float32, or bfloat16 mixed precision.

``"bf16"`` runs the forward pass under ``torch.autocast(dtype=torch.bfloat16)``: matrix
products and convolutions in bfloat16 (what AMX and AVX512-BF16 CPUs and recent GPUs run
natively), while the weights, the optimizer state, the loss and BatchNorm's statistics stay
float32. ``"auto"`` picks bf16 where the hardware runs it natively, float32 elsewhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import torch

from .. import _names

__all__ = [
    "DEFAULT_PRECISION",
    "PRECISIONS",
    "native_bf16",
    "precision_context",
    "resolve_precision",
]

# defined with the other names the command line offers, free of heavy imports
PRECISIONS = _names.PRECISIONS
#: What every estimator, sweep and the command line use unless told otherwise.
DEFAULT_PRECISION = _names.DEFAULT_PRECISION


@cache
def _cpu_runs_bf16() -> bool:
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    found = [getattr(torch.cpu, name, None) for name in probes]
    if any(callable(probe) for probe in found):
        return any(callable(probe) and probe() for probe in found)
    try:  # older torch: read the CPU flags (Linux)
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CPU with AMX or AVX512-BF16; CUDA
    with bf16 support)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return _cpu_runs_bf16()
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"fp32"`` or ``"bf16"``: the precision that ``precision`` means on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


@contextlib.contextmanager
def precision_context(precision: str, device: torch.device) -> Iterator[None]:
    """Autocast to bfloat16 inside the block for a resolved ``"bf16"``; nothing for fp32."""
    if precision == "bf16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:
        yield
