"""Weight masks as ``torch.nn.utils.parametrize`` parametrizations.

The forward pass sees ``weight * mask``, exactly zero at inactive positions. The parameter
itself (``parametrizations.weight.original``) is the same object the optimizer already holds.
For gradient-based regrowth the mask can keep the *dense* gradient of the masked weight
(``dL / d(weight * mask)``), which is non-zero at inactive positions too.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["KernelMask", "attach_mask", "get_mask", "bake_masks"]


class KernelMask(nn.Module):
    """Parametrization ``weight -> weight * mask`` with the mask as a buffer."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)
        self.keep_dense_grad = False
        self.dense_grad: torch.Tensor | None = None

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        masked = weight * self.mask
        if self.keep_dense_grad and masked.requires_grad:
            masked.register_hook(self._store_dense_grad)
        return masked

    def _store_dense_grad(self, grad: torch.Tensor) -> None:
        self.dense_grad = grad  # a reference, no copy; returning None keeps the gradient as is


def attach_mask(module: nn.Module, mask: torch.Tensor) -> KernelMask:
    """Mask ``module.weight`` with ``mask`` (same shape); return the parametrization."""
    if get_mask(module) is not None:
        raise ValueError(f"{type(module).__name__} already has a mask")
    parametrize.register_parametrization(module, "weight", KernelMask(mask))
    return module.parametrizations.weight[0]


def get_mask(module: nn.Module) -> KernelMask | None:
    """The :class:`KernelMask` on ``module.weight``, or ``None``."""
    if not parametrize.is_parametrized(module, "weight"):
        return None
    for parametrization in module.parametrizations.weight:
        if isinstance(parametrization, KernelMask):
            return parametrization
    return None


def bake_masks(model: nn.Module) -> int:
    """Replace every masked weight by a plain parameter holding ``weight * mask``.

    The network then computes exactly the same function with no parametrization left (for
    saving, export and inference); inactive positions hold exact zeros. Returns the number
    of masks removed.
    """
    baked = 0
    for module in model.modules():
        if get_mask(module) is not None:
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
            baked += 1
    return baked
