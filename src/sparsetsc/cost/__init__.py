"""What a model costs: parameters, non-zero parameters, multiply-accumulates (sparse-aware),
and measured latency.

Layer 3 of data → nn → **cost** → train → sparse → prune → estimators → export → bench →
report → cli.
"""

from .counting import (
    ModelCost,
    count_macs,
    count_nonzero_parameters,
    count_parameters,
    estimator_cost,
    model_cost,
)
from .latency import measure_latency

__all__ = [
    "ModelCost",
    "count_macs",
    "count_nonzero_parameters",
    "count_parameters",
    "estimator_cost",
    "measure_latency",
    "model_cost",
]
