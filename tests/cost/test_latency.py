from __future__ import annotations

import pytest
import torch

from sparsetsc.cost import measure_latency
from sparsetsc.nn import LITE, LITEConfig


def test_latency_is_measured_in_eval_mode_and_restores_the_mode():
    network = LITE(LITEConfig(1, 2, n_filters=4)).train()
    seen = []
    network.register_forward_hook(lambda m, i, o: seen.append((m.training, i[0].shape)))
    result = measure_latency(network, 1, 40, batch_size=3, repeats=4, warmup=2)
    assert network.training
    assert seen == [(False, torch.Size([3, 1, 40]))] * 6  # 2 warm-up + 4 timed passes
    assert 0 < result["p10"] <= result["median"] <= result["p90"]
    assert result["per_series"] == pytest.approx(result["median"] / 3)
    with pytest.raises(ValueError, match=">= 1"):
        measure_latency(network, 1, 40, batch_size=0)
