from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from sparsetsc.nn import DSN, DSNConfig
from sparsetsc.sparse import (
    DSTConfig,
    DynamicSparseTraining,
    bake_masks,
    drop_fraction_at,
    get_mask,
    real_density,
)
from sparsetsc.train import TrainConfig, fit_network


def faithful_dsn(n_channels: int = 1) -> tuple[DSN, DynamicSparseTraining]:
    network = DSN(DSNConfig(n_channels=n_channels, n_classes=2))
    engine = DynamicSparseTraining(DSTConfig(), seed=0)
    engine.attach(network)
    return network, engine


def test_budgets_match_the_official_counts():
    network, engine = faithful_dsn()
    counts = engine.nonzero_per_group()
    assert counts["blocks.0.conv"] == [122, 244, 366]  # 732 in the univariate first layer
    for name in ("blocks.1.conv", "blocks.2.conv", "blocks.3.conv"):
        assert counts[name] == [5743, 11486, 17230]  # 34,459 per 47-input layer
    assert [layer.name for layer in engine.layers] == [f"blocks.{d}.conv" for d in range(4)]
    assert real_density(0.2, 39, 3) == pytest.approx(34_459 / (141 * 47 * 39))
    assert real_density(0.2, 39, 3) == pytest.approx(0.2 * 2 / 3, abs=2e-4)


def test_remain_sort_switches_on_leading_taps_tap_by_tap():
    network, engine = faithful_dsn()
    mask = get_mask(network.blocks[0].conv).mask  # (141, 1, 39)
    group0 = mask[:47, 0, :]
    assert group0[:, :2].all() and not group0[:, 3:].any()
    assert group0[:28, 2].all() and not group0[28:, 2].any()  # 122 = 2 * 47 + 28
    deep = get_mask(network.blocks[1].conv).mask[:47]  # 5743 = 2 * 2209 + 1325
    assert deep[:, :, :2].all() and int(deep[:, :, 2].sum()) == 1325
    assert deep[:28, :, 2].all() and int(deep[28, :, 2].sum()) == 9


def test_forward_sees_exact_zeros_at_inactive_positions():
    network, engine = faithful_dsn()
    conv = network.blocks[1].conv
    with torch.no_grad():
        conv.parametrizations.weight.original.fill_(1.0)
    effective = conv.weight
    mask = get_mask(conv).mask
    assert torch.equal(effective == 0, mask == 0)


def test_random_init_stays_in_regions_with_exact_budgets():
    network = DSN(DSNConfig(n_channels=1, n_classes=2))
    engine = DynamicSparseTraining(DSTConfig(init="random"), seed=3)
    engine.attach(network)
    assert engine.nonzero_per_group()["blocks.1.conv"] == [5743, 11486, 17230]
    for layer in engine.layers:
        for g in layer.groups:
            outside = layer.mask.mask[g.out_start : g.out_stop, :, g.tap_stop :]
            assert not outside.any()


def check_update_invariants(engine, fraction):
    before = {layer.name: layer.mask.mask.clone() for layer in engine.layers}
    counts = engine.nonzero_per_group()
    stats = engine.update(fraction)
    assert engine.nonzero_per_group() == counts  # each group's count is invariant
    expected_swaps = 0
    for layer in engine.layers:
        old, new = before[layer.name].bool(), layer.mask.mask.bool()
        for g in layer.groups:
            n_swap = math.ceil(fraction * g.budget)
            expected_swaps += n_swap
            o, n = old[g.out_start : g.out_stop], new[g.out_start : g.out_stop]
            pruned, regrown = int((o & ~n).sum()), int((n & ~o).sum())
            assert pruned == regrown <= n_swap  # the just-pruned may be regrown at once
            assert not n[:, :, g.tap_stop :].any() and not n[:, :, : g.tap_start].any()
    assert stats["swapped"] == expected_swaps


@pytest.mark.parametrize("growth", ["random", "gradient"])
def test_updates_keep_counts_and_regions(growth):
    config = DSNConfig(n_channels=2, n_classes=3, n_filters=6, kernel_size=12, anchor="center")
    network = DSN(config)
    engine = DynamicSparseTraining(DSTConfig(growth=growth), seed=1)
    engine.attach(network)
    for fraction in (0.5, 0.3, 0.001):
        network(torch.randn(4, 2, 40)).sum().backward()
        with torch.no_grad():  # move the weights so that pruning has something to rank
            for layer in engine.layers:
                layer.module.parametrizations.weight.original.normal_()
        check_update_invariants(engine, fraction)


def test_pruning_drops_the_smallest_magnitudes_of_each_group():
    conv = nn.Conv1d(1, 2, 6, bias=False)
    engine = DynamicSparseTraining(DSTConfig(density=1.0, n_groups=2, growth="gradient"))
    engine.attach(nn.Sequential(conv))
    with torch.no_grad():
        original = conv.parametrizations.weight.original
        original.copy_(torch.arange(1.0, 13.0).view(2, 1, 6))
    # group 0 = channel 0, region taps [0, 3): all 3 active; drop ceil(0.34 * 3) = 2 smallest
    conv(torch.randn(1, 1, 10)).sum().backward()
    engine.layers[0].mask.dense_grad = torch.zeros(2, 1, 6)
    engine.update(0.34)
    mask = engine.layers[0].mask.mask
    # full regions: what is dropped must be regrown in the same places (the only candidates)
    assert mask[0, 0, :3].tolist() == [1.0, 1.0, 1.0] and mask[0, 0, 3:].sum() == 0


def test_gradient_growth_picks_the_largest_dense_gradients():
    conv = nn.Conv1d(2, 4, 10, bias=False)
    engine = DynamicSparseTraining(
        DSTConfig(density=0.2, n_groups=1, growth="gradient", init="remain_sort"), seed=0
    )
    (layer,) = engine.attach(nn.Sequential(conv))
    budget = layer.groups[0].budget  # int(4 * 2 * 10 * 0.2) = 16: taps 0 and 1
    assert budget == 16
    conv(torch.randn(3, 2, 25)).sum().backward()
    gradient = torch.zeros(4, 2, 10)
    targets = [(0, 1, 7), (3, 0, 9), (2, 1, 5), (1, 0, 4)]
    for rank, (o, i, t) in enumerate(targets):
        gradient[o, i, t] = 100.0 - rank
    layer.mask.dense_grad = gradient
    with torch.no_grad():
        original = conv.parametrizations.weight.original
        original.fill_(5.0)
        original[:, :, 0] = 0.01  # the 8 weights of tap 0 are the smallest
    engine.update(0.25)  # ceil(0.25 * 16) = 4 swaps: 4 of the 8 tiny tap-0 weights go
    mask = layer.mask.mask.bool()
    assert int(mask[:, :, 0].sum()) == 4 and mask[:, :, 1].all()
    for o, i, t in targets:
        assert mask[o, i, t]
    assert int(mask.sum()) == 16


def test_dense_gradient_is_kept_for_gradient_growth():
    conv = nn.Conv1d(1, 2, 8, bias=False)
    engine = DynamicSparseTraining(DSTConfig(growth="gradient", n_groups=2, density=0.5))
    engine.attach(nn.Sequential(conv))
    conv(torch.randn(2, 1, 20)).sum().backward()
    dense = engine.layers[0].mask.dense_grad
    assert dense is not None and dense.shape == (2, 1, 8)
    assert int(torch.count_nonzero(dense)) == 16  # non-zero at inactive positions too
    masked = conv.parametrizations.weight.original.grad
    assert int(torch.count_nonzero(masked)) == int(engine.layers[0].mask.mask.sum())


def test_drop_fraction_schedule_values():
    config = DSTConfig()
    total = 100 * 30  # 100 epochs of 30 steps, as in the log of the DSN-S3 fork
    assert drop_fraction_at(0, total, config) == pytest.approx(0.5)
    # the fork's log prints "Death rate: 0.48100..." at the epoch-10 update (step 300)
    assert drop_fraction_at(300, total, config) == pytest.approx(0.48101, abs=1e-5)
    assert drop_fraction_at(1200, total, config) == pytest.approx(0.2505)
    assert drop_fraction_at(2400, total, config) == pytest.approx(0.001)
    assert drop_fraction_at(2999, total, config) == pytest.approx(0.001)


def test_regrown_weights_start_at_zero_with_fresh_adam_state():
    torch.manual_seed(0)
    network = DSN(DSNConfig(n_channels=1, n_classes=2, n_filters=4, kernel_size=9))
    engine = DynamicSparseTraining(DSTConfig(init="random"), seed=0)
    engine.attach(network)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    engine._optimizer = optimizer
    for _ in range(3):
        optimizer.zero_grad()
        network(torch.randn(4, 1, 30)).sum().backward()
        optimizer.step()
    layer = engine.layers[1]
    weight = layer.module.parametrizations.weight.original
    before = layer.mask.mask.bool().clone()
    engine.update(0.5)
    grown = layer.mask.mask.bool() & ~before
    assert grown.any()
    assert torch.all(weight[grown] == 0)
    assert torch.all(optimizer.state[weight]["exp_avg"][grown] == 0)
    assert torch.all(optimizer.state[weight]["exp_avg_sq"][grown] == 0)


def test_engine_trains_any_conv_model_and_bakes_to_the_same_function(tiny_data):
    X, labels = tiny_data
    y = np.unique(labels, return_inverse=True)[1]
    model = nn.Sequential(
        nn.Conv1d(3, 12, 9, padding=4, bias=False),
        nn.BatchNorm1d(12),
        nn.ReLU(),
        nn.Conv1d(12, 12, 1),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(12, 3),
    )
    engine = DynamicSparseTraining(DSTConfig(update_every=1, density=0.5), seed=0)
    config = TrainConfig(n_epochs=4, batch_size=6)
    torch.manual_seed(0)
    fit_network(model, X, y, config, torch.device("cpu"), [engine])
    assert [layer.name for layer in engine.layers] == ["0"]  # the 1x1 conv stays dense
    assert len(engine.updates) == 3  # after epochs 1, 2, 3; none after the last
    counts = engine.nonzero_per_group()["0"]
    assert counts == [g.budget for g in engine.layers[0].groups]
    inputs = torch.as_tensor(X[:5])
    expected = model(inputs)
    assert bake_masks(model) == 1
    assert get_mask(model[0]) is None
    torch.testing.assert_close(model(inputs), expected)
    assert int(torch.count_nonzero(model[0].weight)) <= sum(counts)


def test_bad_settings_raise():
    for kwargs, message in [
        ({"density": 0.0}, "density"),
        ({"growth": "momentum"}, "growth"),
        ({"init": "ERK"}, "init"),
        ({"update_every": 0}, "update_every"),
    ]:
        with pytest.raises(ValueError, match=message):
            DSTConfig(**kwargs)
    with pytest.raises(ValueError, match="no convolution"):
        DynamicSparseTraining(DSTConfig()).attach(nn.Sequential(nn.Linear(3, 2)))


def test_kernel_groups_come_from_the_convolution_and_a_disagreeing_config_raises():
    network = DSN(DSNConfig(n_channels=1, n_classes=2, n_filters=6, kernel_size=12, n_groups=2))
    regions = network.blocks[0].conv.regions
    # unset: the convolution's own groups; set and equal: accepted
    for config in (DSTConfig(), DSTConfig(n_groups=2, anchor="left")):
        (layer, *_) = DynamicSparseTraining(config).attach(DSN(network.config))
        assert [(g.out_start, g.out_stop, g.tap_start, g.tap_stop) for g in layer.groups] == regions
    for config in (DSTConfig(n_groups=3), DSTConfig(anchor="center")):
        with pytest.raises(ValueError, match="own kernel groups"):
            DynamicSparseTraining(config).attach(DSN(network.config))
    # a plain Conv1d gets DSN's default of 3 left-anchored groups
    (layer,) = DynamicSparseTraining(DSTConfig()).attach(nn.Sequential(nn.Conv1d(2, 6, 9)))
    assert [(g.tap_start, g.tap_stop) for g in layer.groups] == [(0, 3), (0, 6), (0, 9)]
