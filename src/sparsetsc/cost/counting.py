"""Exact model cost: parameters, non-zero parameters, and inference multiply-accumulates.

MACs come from PyTorch's own ``FlopCounterMode`` (which sees every convolution and matrix
product of a real forward pass, whatever the architecture), with the convolution and linear
formulas replaced by ones that count only non-zero weights: each non-zero weight does one
multiply-accumulate per output position per series. For a dense model both counts agree.
Element-wise work (BatchNorm, ReLU, pooling, additions) is not counted, as is usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.utils.flop_counter import FlopCounterMode

from ..nn.handcrafted import HandCraftedFilters
from ..nn.region_conv import full_kernels

__all__ = [
    "ModelCost",
    "estimator_cost",
    "count_parameters",
    "count_nonzero_parameters",
    "count_macs",
    "model_cost",
]

_aten = torch.ops.aten
# Modules whose MACs are listed per layer: the weighted layers, and the frozen hand-crafted
# filter bank (its convolutions are functional calls inside one module).
_LEAF_LAYERS = (nn.Conv1d, nn.Linear, nn.Conv2d, HandCraftedFilters)


def _effective_tensors(model: nn.Module, trainable_only: bool) -> list[torch.Tensor]:
    """Parameters as the forward pass sees them (masks and other parametrizations applied)."""
    tensors = []
    for module in model.modules():
        if isinstance(module, parametrize.ParametrizationList):
            continue  # its ``original`` is counted through the owning module below
        for param in module.parameters(recurse=False):
            if param is not None and (param.requires_grad or not trainable_only):
                tensors.append(param)
        if parametrize.is_parametrized(module):
            for name, plist in module.parametrizations.items():
                if plist.original.requires_grad or not trainable_only:
                    tensors.append(getattr(module, name))
    return tensors


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (``trainable_only`` drops frozen ones, e.g. hand-crafted filters)."""
    return sum(t.numel() for t in _effective_tensors(model, trainable_only))


@torch.no_grad()
def count_nonzero_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters that are non-zero in the forward pass (masked weights excluded)."""
    return sum(int(torch.count_nonzero(t)) for t in _effective_tensors(model, trainable_only))


def _conv_macs(x, w, *args, out_val=None, nonzero: bool, **kwargs) -> int:
    # out_val: (batch, out_channels, *spatial); every kept weight fires once per output position
    # of its own output channel and per series.
    weights = int(torch.count_nonzero(w)) if nonzero else w.numel()
    positions = out_val.shape[0] * out_val[0, 0].numel()
    return 2 * weights * positions  # the counter works in FLOPs = 2 x MACs


def _mm_macs(a, b, *args, out_val=None, nonzero: bool, **kwargs) -> int:
    weights = int(torch.count_nonzero(b)) if nonzero else b.numel()
    return 2 * a.shape[0] * weights


def _addmm_macs(bias, a, b, *args, out_val=None, nonzero: bool, **kwargs) -> int:
    return _mm_macs(a, b, nonzero=nonzero)


def _raw(formula, nonzero: bool):
    def wrapped(*args, **kwargs):
        return formula(*args, nonzero=nonzero, **kwargs)

    wrapped._get_raw = True  # ask FlopCounterMode for real tensors, not shapes
    return wrapped


def _formulas(nonzero: bool) -> dict:
    return {
        _aten.convolution: _raw(_conv_macs, nonzero),
        _aten._convolution: _raw(_conv_macs, nonzero),
        _aten.mm: _raw(_mm_macs, nonzero),
        _aten.addmm: _raw(_addmm_macs, nonzero),
    }


@dataclass
class ModelCost:
    """Cost of one model for one series of a given shape."""

    params: int
    params_nonzero: int
    params_trainable: int
    macs: int  # inference MACs per series, non-zero weights only
    macs_dense: int  # the same network with every weight counted
    macs_per_layer: dict[str, int] = field(default_factory=dict)
    macs_dense_per_layer: dict[str, int] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        """The five whole-model counts (no per-layer tables)."""
        return {
            "params": self.params,
            "params_nonzero": self.params_nonzero,
            "params_trainable": self.params_trainable,
            "macs": self.macs,
            "macs_dense": self.macs_dense,
        }

    def as_dict(self) -> dict:
        """Plain-dict view (JSON-serialisable)."""
        return {
            **self.totals(),
            "macs_per_layer": dict(self.macs_per_layer),
            "macs_dense_per_layer": dict(self.macs_dense_per_layer),
        }


@torch.no_grad()
def _count(model: nn.Module, example: torch.Tensor, nonzero: bool) -> tuple[int, dict[str, int]]:
    counter = FlopCounterMode(display=False, custom_mapping=_formulas(nonzero))
    with counter:
        model(example)
    root = type(model).__name__
    per_layer = {}
    for module_name, ops in counter.get_flop_counts().items():
        if module_name == "Global" or module_name == root:
            continue
        name = module_name.removeprefix(root + ".")
        # Keep leaf modules only, so that the per-layer table sums to the total.
        if isinstance(model.get_submodule(name), _LEAF_LAYERS):
            per_layer[name] = sum(ops.values()) // 2
    return counter.get_total_flops() // 2, per_layer


def count_macs(model: nn.Module, n_channels: int, n_timepoints: int, nonzero: bool = True) -> int:
    """Inference multiply-accumulates for one series of shape ``(n_channels, n_timepoints)``.

    With ``nonzero=True`` only non-zero weights count (sparse cost); otherwise every weight.
    """
    return _measure(model, n_channels, n_timepoints, nonzero)[0]


def _measure(
    model: nn.Module, n_channels: int, n_timepoints: int, nonzero: bool
) -> tuple[int, dict[str, int]]:
    # Eval mode so BatchNorm uses running statistics and nothing is updated; restored after.
    was_training = model.training
    model.eval()
    try:
        reference = next(iter(model.parameters()), None)
        device = reference.device if reference is not None else torch.device("cpu")
        example = torch.zeros(1, n_channels, n_timepoints, device=device)
        if nonzero:
            return _count(model, example, nonzero)
        with full_kernels(model):  # the dense twin runs every tap of every kernel
            return _count(model, example, nonzero)
    finally:
        model.train(was_training)


def model_cost(model: nn.Module, n_channels: int, n_timepoints: int) -> ModelCost:
    """Params, non-zero params and MACs (sparse and dense, total and per layer) of ``model``."""
    macs, per_layer = _measure(model, n_channels, n_timepoints, nonzero=True)
    macs_dense, dense_per_layer = _measure(model, n_channels, n_timepoints, nonzero=False)
    return ModelCost(
        params=count_parameters(model),
        params_nonzero=count_nonzero_parameters(model),
        params_trainable=count_parameters(model, trainable_only=True),
        macs=macs,
        macs_dense=macs_dense,
        macs_per_layer=per_layer,
        macs_dense_per_layer=dense_per_layer,
    )


def _ensemble_cost(costs: list[ModelCost]) -> ModelCost:
    # Members run one after the other on the same series: their costs add up.
    def merged(attribute: str) -> dict[str, int]:
        return {
            f"members.{m}.{layer}": value
            for m, cost in enumerate(costs)
            for layer, value in getattr(cost, attribute).items()
        }

    return ModelCost(
        params=sum(c.params for c in costs),
        params_nonzero=sum(c.params_nonzero for c in costs),
        params_trainable=sum(c.params_trainable for c in costs),
        macs=sum(c.macs for c in costs),
        macs_dense=sum(c.macs_dense for c in costs),
        macs_per_layer=merged("macs_per_layer"),
        macs_dense_per_layer=merged("macs_dense_per_layer"),
    )


def estimator_cost(estimator) -> ModelCost:
    """:func:`model_cost` of a fitted sparsetsc estimator, for the series length it was fit on.

    For an ensemble (an estimator with ``estimators_``) the members' costs are summed and
    the per-layer tables are keyed ``members.<m>.<layer>``.
    """
    estimator._check_is_fitted()
    members = getattr(estimator, "estimators_", None)
    if members is not None:
        return _ensemble_cost([estimator_cost(member) for member in members])
    return model_cost(
        estimator.network_,
        estimator.metadata_["n_channels"],
        estimator.metadata_["n_timepoints"],
    )
