from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from sparsetsc.cost import count_macs, count_nonzero_parameters, count_parameters, model_cost
from sparsetsc.nn import FCN, FCNConfig


def _fcn_without_zero_weights() -> FCN:
    """An FCN whose weights are all 0.5: a random init may draw an exact zero, which the
    non-zero MAC count then (rightly) skips."""
    network = FCN(FCNConfig(n_channels=1, n_classes=2))
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, (nn.Conv1d, nn.Linear)):
                module.weight.fill_(0.5)
    return network


def test_fcn_params_and_macs_match_hand_counts():
    network = _fcn_without_zero_weights()
    # conv (w + b) + BN (gamma + beta) per block, then the linear head
    params = (1 * 128 * 8 + 128 + 256) + (128 * 256 * 5 + 256 + 512) + (256 * 128 * 3 + 128 + 256)
    params += 128 * 2 + 2
    cost = model_cost(network, n_channels=1, n_timepoints=150)
    assert cost.params == params == 264_962
    assert cost.params_trainable == params
    macs = 150 * (128 * 8 + 256 * 128 * 5 + 128 * 256 * 3) + 128 * 2
    assert cost.macs == cost.macs_dense == macs == 39_475_456
    assert sum(cost.macs_per_layer.values()) == cost.macs
    assert cost.macs_per_layer["blocks.1.0"] == 150 * 256 * 128 * 5


def test_zeroed_weights_are_not_counted_but_dense_cost_is_unchanged():
    network = _fcn_without_zero_weights()
    with torch.no_grad():
        network.blocks[1][0].weight[:, :, :2] = 0.0  # 2 of 5 taps of layer 2
    cost = model_cost(network, 1, 150)
    removed = 256 * 128 * 2
    assert cost.macs_dense == 39_475_456
    assert cost.macs == 39_475_456 - removed * 150
    assert count_macs(network, 1, 150) == cost.macs
    assert count_macs(network, 1, 150, nonzero=False) == cost.macs_dense
    assert cost.params == 264_962
    # BatchNorm betas start at zero, so a fresh network already has 512 zero parameters.
    assert cost.params_nonzero == 264_962 - removed - (128 + 256 + 128)


class Mask(nn.Module):
    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight * self.mask


def test_parametrized_masks_count_as_the_forward_pass_sees_them():
    conv = nn.Conv1d(4, 6, 5, bias=False)
    mask = torch.zeros_like(conv.weight)
    mask[:, :, 0] = 1.0  # one tap per kernel stays
    parametrize.register_parametrization(conv, "weight", Mask(mask))
    model = nn.Sequential(conv)
    assert count_parameters(model) == 4 * 6 * 5  # dense storage
    assert count_nonzero_parameters(model) == 4 * 6
    assert count_macs(model, 4, 20) == 4 * 6 * (20 - 5 + 1)
    assert count_macs(model, 4, 20, nonzero=False) == 4 * 6 * 5 * 16


def test_frozen_parameters_are_excluded_from_trainable_count():
    model = nn.Sequential(nn.Conv1d(1, 3, 3), nn.Conv1d(3, 2, 1))
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 9 + 3 + 6 + 2
    assert count_parameters(model, trainable_only=True) == 3 + 6 + 2


def test_cost_leaves_training_mode_and_statistics_untouched():
    network = FCN(FCNConfig(n_channels=2, n_classes=3, n_filters=(4,), kernel_sizes=(3,)))
    network.train()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    model_cost(network, 2, 30)
    assert network.training
    for key, value in network.state_dict().items():
        assert torch.equal(value, before[key])
