"""Plain ``nn.Module`` networks (no training logic), their layers, and the registry that
rebuilds them.

Layer 2 of data → **nn** → cost → train → sparse → prune → estimators → export → bench →
report → cli: imports nothing of sparsetsc but the version.

Every network takes one config dataclass; :func:`network_config` and :func:`build_network`
turn a network into JSON-safe data and back, which is how saved models are reloaded
without pickle. Networks that may be pruned describe their stages (:mod:`.stages`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from .dsn import DSN, DSNConfig
from .fcn import FCN, FCNConfig
from .inception import Inception, InceptionConfig
from .lite import LITE, LITEConfig
from .region_conv import RegionConv1d, kernel_group_regions
from .same_conv import SameConv1d, SameMaxPool1d, fast_kernels
from .stages import PrunableStage, StageRecorder, stage_width, stage_widths, stages_of

__all__ = [
    "DSN",
    "FCN",
    "LITE",
    "NETWORKS",
    "DSNConfig",
    "FCNConfig",
    "Inception",
    "InceptionConfig",
    "LITEConfig",
    "PrunableStage",
    "RegionConv1d",
    "SameConv1d",
    "SameMaxPool1d",
    "StageRecorder",
    "build_network",
    "fast_kernels",
    "kernel_group_regions",
    "network_config",
    "stage_width",
    "stage_widths",
    "stages_of",
]

NETWORKS: dict[str, type[nn.Module]] = {
    "DSN": DSN,
    "FCN": FCN,
    "Inception": Inception,
    "LITE": LITE,
}
"""Network classes by name. Each has a ``config_class`` dataclass attribute."""


def network_config(network: nn.Module) -> tuple[str, dict[str, Any]]:
    """Return ``(name, config dict)`` of a registered network, JSON-serialisable."""
    name = type(network).__name__
    if NETWORKS.get(name) is not type(network):
        raise ValueError(f"{name} is not a registered sparsetsc network: {sorted(NETWORKS)}")
    config = dataclasses.asdict(network.config)
    return name, {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def build_network(name: str, config: dict[str, Any]) -> nn.Module:
    """Build a freshly initialised network from :func:`network_config` output."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; known networks: {sorted(NETWORKS)}")
    network_class = NETWORKS[name]
    return network_class(network_class.config_class(**config))
