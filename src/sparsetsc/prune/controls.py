"""Honesty controls for structured pruning: is the pruned model better than a uniformly
thinner one of the same size?

The DSP authors' own runs found that, at matched compression, InceptionTime with 8 filters
per branch was at least as accurate as DSP-InceptionTime; every DSP result should therefore
be reported next to a uniform-width model of the same parameter count.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

__all__ = ["matched_uniform_width"]


def _trainable(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters() if p.requires_grad)


def matched_uniform_width(
    build: Callable[[int], nn.Module], target_params: int, max_width: int
) -> int:
    """The width ``f`` in ``1..max_width`` whose ``build(f)`` has the trainable-parameter
    count closest to ``target_params`` (the smaller width on a tie)."""
    if max_width < 1:
        raise ValueError(f"max_width must be >= 1; got {max_width}")

    def distance(width: int) -> tuple[int, int]:
        return abs(_trainable(build(width)) - target_params), width

    return min(range(1, max_width + 1), key=distance)
