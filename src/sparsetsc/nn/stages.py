"""Descriptions of a network's prunable stages (what structured pruning needs to know).

A stage is a feature map that a structured-pruning method may thin out channel by channel:
the output of one module (read with a forward hook), whose channels are the output channels
of one BatchNorm (the root from which a dependency graph finds every weight tied to a
channel). Networks describe their stages with :class:`PrunableStage`; pruning code never
needs to know the network's class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PrunableStage"]


@dataclass(frozen=True)
class PrunableStage:
    """One prunable stage of a network.

    Parameters
    ----------
    output : str
        Name of the module whose output is the stage's feature map (after BN and ReLU).
    root : str
        Name of the BatchNorm whose output channels are the stage's channels.
    groups : tuple of slice
        Channel groups that must each keep at least one channel (e.g. the branches of a
        concatenation, or the whole stage).
    fixed : tuple of slice
        Channels that are never removed (e.g. frozen hand-crafted filters).
    """

    output: str
    root: str
    groups: tuple[slice, ...] = field(default=())
    fixed: tuple[slice, ...] = field(default=())
