from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from sparsetsc.nn import DSN, DSNConfig
from sparsetsc.sparse import (
    DSTConfig,
    DynamicSparseTraining,
    active_taps,
    analyze,
    bake_masks,
    enrf,
    enrf_table,
    get_mask,
    plot_enrf_distributions,
    plot_enrf_histograms,
    plot_tap_heatmaps,
    pool_enrf_tables,
    save_figures,
    sparse_layers,
    tap_usage,
)

LAYERS = [f"blocks.{d}.conv" for d in range(4)]


@pytest.fixture()
def masked_dsn() -> DSN:
    torch.manual_seed(0)
    network = DSN(DSNConfig(n_channels=1, n_classes=2))
    DynamicSparseTraining(DSTConfig(), seed=0).attach(network)
    return network


def test_enrf_exact_values_on_a_hand_made_mask():
    active = torch.zeros(2, 2, 7, dtype=torch.bool)
    active[0, 0, [2, 5]] = True  # span 2..5
    active[0, 1, 3] = True  # single tap
    active[1, 0, [0, 1, 6]] = True  # full span
    # active[1, 1] stays empty
    np.testing.assert_array_equal(enrf(active), [[4, 1], [7, 0]])
    assert enrf(active).dtype.kind == "i"
    with pytest.raises(ValueError):
        enrf(torch.zeros(3, 4, dtype=torch.bool))


def test_active_taps_prefers_the_mask_over_the_weight():
    conv = nn.Conv1d(2, 3, 5, bias=False)
    assert active_taps(conv).all()
    with torch.no_grad():
        conv.weight[0, 0, 1] = 0.0
    assert active_taps(conv).sum() == 3 * 2 * 5 - 1
    assert torch.equal(active_taps(conv.weight), active_taps(conv))
    mask = torch.zeros(3, 2, 5)
    mask[:, :, 2] = 1.0
    from sparsetsc.sparse import attach_mask

    attach_mask(conv, mask)
    assert torch.equal(active_taps(conv), mask.bool())
    assert [name for name, _ in sparse_layers(nn.Sequential(conv))] == ["0"]
    assert sparse_layers(nn.Sequential(nn.Conv1d(1, 1, 3))) == []


def test_enrf_table_of_the_remain_sort_initialisation(masked_dsn):
    assert [name for name, _ in sparse_layers(masked_dsn)] == LAYERS
    table = enrf_table(masked_dsn)
    assert len(table) == 4 * 3
    assert [(r["layer"], r["group"]) for r in table[:3]] == [("blocks.0.conv", g) for g in range(3)]
    rows = [r for r in table if r["layer"] == "blocks.1.conv"]
    assert [r["nonzero"] for r in rows] == [5743, 11486, 17230]
    assert [(r["out_start"], r["out_stop"], r["tap_start"], r["tap_stop"]) for r in rows] == [
        (0, 47, 0, 13),
        (47, 94, 0, 26),
        (94, 141, 0, 39),
    ]
    group0 = rows[0]
    # taps 0, 1 everywhere; tap 2 for outs 0-27 and 9 inputs of out 28 -> eNRF 3 else 2
    n3 = 28 * 47 + 9
    assert group0["kernels"] == 47 * 47
    assert group0["empty_kernels"] == 0
    assert group0["enrf_mean"] == pytest.approx((3 * n3 + 2 * (47 * 47 - n3)) / (47 * 47))
    assert group0["enrf_max"] == 3
    assert group0["enrf_median"] == 3.0  # 1325 of 2209 kernels have eNRF 3
    assert group0["enrf_hist"][:4] == [0, 47 * 47 - n3, n3, 0]
    assert len(group0["enrf_hist"]) == 39
    for row in table:
        region = row["tap_stop"] - row["tap_start"]
        assert row["enrf_max"] <= region
        assert sum(row["enrf_hist"][region:]) == 0
        assert sum(row["enrf_hist"]) + row["empty_kernels"] == row["kernels"]


def test_enrf_is_invariant_to_baking(masked_dsn):
    with torch.no_grad():
        for _, module in sparse_layers(masked_dsn):
            original = module.parametrizations.weight.original
            original.copy_(torch.randn_like(original))
    before = enrf_table(masked_dsn)
    usage_before = tap_usage(masked_dsn)
    assert bake_masks(masked_dsn) == 4
    assert all(get_mask(m) is None for _, m in sparse_layers(masked_dsn))
    assert [name for name, _ in sparse_layers(masked_dsn)] == LAYERS  # regions still set
    assert enrf_table(masked_dsn) == before
    for name, groups in tap_usage(masked_dsn).items():
        for a, b in zip(groups, usage_before[name], strict=True):
            np.testing.assert_array_equal(a, b)


def test_tap_usage_of_the_remain_sort_initialisation(masked_dsn):
    usage = tap_usage(masked_dsn)
    assert list(usage) == LAYERS
    assert all(len(groups) == 3 for groups in usage.values())
    assert all(g.shape == (39,) for groups in usage.values() for g in groups)
    group0 = usage["blocks.1.conv"][0]
    np.testing.assert_allclose(group0[:2], 1.0)
    assert group0[2] == pytest.approx((28 * 47 + 9) / (47 * 47))
    np.testing.assert_array_equal(group0[3:], 0.0)
    # no group ever uses a tap outside its region
    for groups in usage.values():
        for g, stop in zip(groups, (13, 26, 39), strict=True):
            assert not g[stop:].any()


class _FakeEstimator:
    def __init__(self, network: nn.Module) -> None:
        self.network_ = network


def test_analyze_is_json_serialisable_without_dsn_attributes(masked_dsn):
    import json

    result = analyze(_FakeEstimator(masked_dsn))
    assert result["ever_active_fraction"] == {}
    assert result["real_density"] is None
    assert len(result["layers"]) == 12
    assert len(result["tap_usage"]["blocks.1.conv"][0]) == 39
    assert json.loads(json.dumps(result)) == result


def test_figures(masked_dsn, tmp_path):
    from matplotlib.figure import Figure

    fig = plot_enrf_histograms(masked_dsn)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    fig = plot_tap_heatmaps(masked_dsn, layer="blocks.1.conv")
    assert isinstance(fig, Figure)
    assert len([ax for ax in fig.axes if ax.images]) == 3
    fig = plot_tap_heatmaps(masked_dsn)
    assert len([ax for ax in fig.axes if ax.images]) == 12
    with pytest.raises(ValueError, match="no sparse layer"):
        plot_tap_heatmaps(masked_dsn, layer="head")
    paths = save_figures(_FakeEstimator(masked_dsn), tmp_path / "figs")
    assert [p.name for p in paths] == ["enrf_histograms.png", "tap_heatmaps.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 1000


def test_pooling_enrf_tables_sums_counts_and_recomputes_statistics():
    def row(hist, empty=0):
        return {
            "layer": "conv",
            "group": 0,
            "out_start": 0,
            "out_stop": 2,
            "tap_start": 0,
            "tap_stop": 4,
            "nonzero": 5,
            "kernels": sum(hist) + empty,
            "empty_kernels": empty,
            "enrf_mean": 0.0,
            "enrf_median": 0.0,
            "enrf_max": 0,
            "enrf_hist": hist,
        }

    # model 1: kernels of eNRF 1 and 2; model 2 (a longer kernel): eNRF 4, 4, 5, one empty
    pooled = pool_enrf_tables([[row([1, 1, 0, 0])], [row([0, 0, 0, 2, 1], empty=1)]])
    assert len(pooled) == 1
    (only,) = pooled
    assert only["enrf_hist"] == [1, 1, 0, 2, 1] and only["models"] == 2
    assert only["kernels"] == 6 and only["empty_kernels"] == 1 and only["nonzero"] == 10
    assert only["enrf_mean"] == pytest.approx((1 + 2 + 4 + 4 + 5) / 5)
    assert only["enrf_median"] == 4 and only["enrf_max"] == 5


def test_enrf_distributions_of_several_models_one_row_each(masked_dsn):
    table = enrf_table(masked_dsn)
    assert pool_enrf_tables([table])[0]["enrf_mean"] == pytest.approx(table[0]["enrf_mean"])
    first_layer = [r for r in table if r["layer"] == "blocks.0.conv"]
    fig = plot_enrf_distributions(
        {"DSN": pool_enrf_tables([table, table]), "one layer": first_layer}
    )
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 5 and titles[0] == "DSN: blocks.0.conv"
    assert titles[-1] == "one layer: blocks.0.conv"
    with pytest.raises(ValueError, match="no eNRF rows"):
        plot_enrf_distributions({"empty": []})
