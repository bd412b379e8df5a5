"""Shared helper: a network's output with some stage channels forced to zero."""

from __future__ import annotations

import pytest
import torch


def output_with_channels_zeroed(network, keep, x):
    """``network(x)`` in eval mode with every stage channel that ``keep`` drops set to zero."""
    modules = dict(network.named_modules())
    handles = []
    for name, mask in keep.items():
        scale = torch.as_tensor(mask, dtype=torch.float32).view(1, -1, 1)

        def zero_dropped(module, inputs, output, scale=scale):
            return output * scale

        handles.append(modules[name].register_forward_hook(zero_dropped))
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            return network(x)
    finally:
        network.train(was_training)
        for handle in handles:
            handle.remove()


@pytest.fixture()
def zeroed():
    return output_with_channels_zeroed
