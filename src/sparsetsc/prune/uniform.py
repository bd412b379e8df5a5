"""The honesty control of structured pruning: a uniformly thinner network of the same size.

Is the pruned model better than a network of the same architecture with one width
everywhere and the same number of trainable parameters? The DSP authors' own runs found
that, at matched compression, InceptionTime with 8 filters per branch was at least as
accurate as DSP-InceptionTime; every DSP result should therefore be reported next to this
control. This module is the one place it is built.

A network takes part when it can describe itself at another uniform width
(``network.uniform_config(width)``, as sparsetsc's LITE and Inception do).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["matched_uniform_width", "uniform_builder", "uniform_control", "uniform_width"]


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


def uniform_builder(network: nn.Module) -> Callable[[int], nn.Module]:
    """``build(width)``: a fresh network of ``network``'s architecture at one uniform width.

    Raises ``ValueError`` when the network cannot describe itself so.
    """
    if not hasattr(network, "uniform_config"):
        raise ValueError(
            f"{type(network).__name__} cannot describe itself at a uniform width "
            "(uniform_config); the uniform-width control needs LITE or Inception"
        )

    def build(width: int) -> nn.Module:
        return type(network)(network.uniform_config(width))

    return build


def uniform_control(
    network: nn.Module, target_params: int, max_width: int | None = None
) -> tuple[int, nn.Module]:
    """``(width, control)``: a freshly initialised network of ``network``'s architecture
    with one width everywhere (at most ``max_width``, default the network's ``n_filters``)
    whose trainable-parameter count is closest to ``target_params``.

    The search builds every candidate width, drawing their initial weights from torch's
    global generator, as the control's own initialisation does.
    """
    build = uniform_builder(network)
    width = matched_uniform_width(build, target_params, max_width or network.config.n_filters)
    return width, build(width)


def uniform_width(network: nn.Module, target_params: int, max_width: int | None = None) -> int:
    """The width :func:`uniform_control` would choose; the caller's random stream is left
    untouched."""
    build = uniform_builder(network)
    with torch.random.fork_rng(devices=[]):
        return matched_uniform_width(build, target_params, max_width or network.config.n_filters)
