"""Measured inference latency: what a smaller network actually saves on a given machine."""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

__all__ = ["measure_latency"]


@torch.inference_mode()
def measure_latency(
    model: nn.Module,
    n_channels: int,
    n_timepoints: int,
    batch_size: int = 1,
    repeats: int = 50,
    warmup: int = 5,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Median and spread of the wall time of one forward pass (eval mode, no autograd).

    The model runs on ``device`` (default: where its parameters are) with the current torch
    thread settings, on a fixed random batch of shape ``(batch_size, n_channels,
    n_timepoints)``; ``warmup`` passes are run first and not timed. CUDA work is
    synchronised before each clock reading. Returns seconds per batch (``median``,
    ``p10``, ``p90``) and the median per series (``per_series``).
    """
    if min(n_channels, n_timepoints, batch_size, repeats) < 1 or warmup < 0:
        raise ValueError("n_channels, n_timepoints, batch_size and repeats must be >= 1")
    reference = next(model.parameters(), None)
    if device is None:
        device = reference.device if reference is not None else torch.device("cpu")
    device = torch.device(device)
    was_training = model.training
    model.eval().to(device)
    inputs = torch.randn(batch_size, n_channels, n_timepoints, device=device)

    def synchronise() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    try:
        for _ in range(warmup):
            model(inputs)
        times = []
        for _ in range(repeats):
            synchronise()
            started = time.perf_counter()
            model(inputs)
            synchronise()
            times.append(time.perf_counter() - started)
    finally:
        model.train(was_training)
    deciles = statistics.quantiles(times, n=10) if len(times) > 1 else [times[0]] * 9
    median = statistics.median(times)
    return {
        "median": median,
        "p10": deciles[0],
        "p90": deciles[-1],
        "per_series": median / batch_size,
    }
