"""bfloat16 mixed precision: the trainer, DST, the DSP loss, DSN's band convolution, estimators."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sparsetsc
from sparsetsc.bench import make_estimator
from sparsetsc.nn import DSN, LITE, DSNConfig, LITEConfig, RegionConv1d, kernel_group_regions
from sparsetsc.prune import SparsityLoss
from sparsetsc.sparse import DSTConfig, DynamicSparseTraining
from sparsetsc.train import (
    PRECISIONS,
    TrainConfig,
    fit_network,
    native_bf16,
    predict_proba,
    resolve_precision,
    seeded,
)

CPU = torch.device("cpu")


def test_precision_values_resolve_and_bad_ones_raise():
    assert PRECISIONS == ("fp32", "bf16", "auto")
    assert resolve_precision("fp32", CPU) == "fp32" and resolve_precision("bf16", CPU) == "bf16"
    assert resolve_precision("auto", CPU) == ("bf16" if native_bf16(CPU) else "fp32")
    assert resolve_precision("auto", torch.device("meta")) == "fp32"
    for bad in ("fp16", "float32", None):
        with pytest.raises(ValueError, match="precision"):
            resolve_precision(bad, CPU)
        with pytest.raises(ValueError, match="precision"):
            TrainConfig(precision=bad)


def _data(n=24, channels=1, length=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, channels, length)).astype(np.float32)
    X[y == 1, :, 10:20] += 2.0
    return X, y


def test_bf16_training_keeps_float32_weights_statistics_and_loss():
    X, y = _data()
    with seeded(0):
        network = LITE(LITEConfig(1, 2, n_filters=6))
    result = fit_network(
        network, X, y, TrainConfig(n_epochs=15, batch_size=8, precision="bf16"), CPU
    )
    assert result.precision == "bf16"
    assert all(
        t.dtype == torch.float32 for t in network.state_dict().values() if t.is_floating_point()
    )
    losses = [r["loss"] for r in result.history]
    assert isinstance(losses[0], float) and losses[-1] < losses[0]
    fp32 = predict_proba(network, X, CPU)
    bf16 = predict_proba(network, X, CPU, precision="bf16")
    assert bf16.dtype == np.float64 and np.allclose(bf16.sum(axis=1), 1)
    assert np.abs(bf16 - fp32).max() < 0.05


def test_sparsity_loss_is_float32_under_autocast():
    network = LITE(LITEConfig(1, 2, n_filters=4))
    loss = SparsityLoss(["fcn1", "fcn2"], lam=1e-3)
    features = torch.randn(3, 4, 10, dtype=torch.bfloat16)
    assert loss.penalty({"fcn1": features, "fcn2": features}).dtype == torch.float32
    X, y = _data()
    result = fit_network(network, X, y, TrainConfig(n_epochs=2, precision="bf16"), CPU, [loss])
    assert all(r["loss"] > r["ce_loss"] for r in result.history)


@pytest.mark.parametrize("growth", ["random", "gradient"])
def test_dynamic_sparse_training_under_bf16_keeps_its_budgets(growth):
    X, y = _data(channels=2, length=30)
    with seeded(0):
        network = DSN(DSNConfig(2, 2, n_filters=4, kernel_size=9, depth=2))
    engine = DynamicSparseTraining(DSTConfig(growth=growth, update_every=1), seed=0)
    config = TrainConfig(n_epochs=4, batch_size=8, precision="bf16")
    fit_network(network, X, y, config, CPU, [engine])
    assert len(engine.updates) == 3 and all(u["swapped"] > 0 for u in engine.updates)
    for layer, counts in engine.nonzero_per_group().items():
        groups = next(sparse.groups for sparse in engine.layers if sparse.name == layer)
        assert counts == [g.budget for g in groups]
    if growth == "gradient":
        assert all(sparse.mask.dense_grad.dtype == torch.float32 for sparse in engine.layers)


def test_dsn_band_convolution_runs_in_bf16_with_float32_gradients_close_to_float32():
    torch.manual_seed(0)
    regions = kernel_group_regions(48, 39, 3)
    conv = RegionConv1d(47, 48, 39, "zeros", regions)
    assert conv._bands is not None and conv.in_channels >= conv.BAND_MIN_IN_CHANNELS
    x = torch.randn(4, 47, 60, requires_grad=True)
    upstream = torch.randn(4, 48, 60)
    reference = conv(x)  # float32
    want = torch.autograd.grad(reference, [x, conv.weight], upstream)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = conv(x)
    assert out.dtype == torch.bfloat16 and out.grad_fn.name() == "_BandConvolutionBackward"
    got = torch.autograd.grad(out, [x, conv.weight], upstream)
    assert [g.dtype for g in got] == [torch.float32, torch.float32]
    for a, b in [(out.float(), reference), *zip(got, want, strict=True)]:
        assert (a - b).abs().max() <= 0.02 * b.abs().max()  # bfloat16: 8 bits of mantissa


@pytest.mark.parametrize("model", ["lite", "dsn", "dsp-lite", "litetime"])
def test_estimators_record_save_and_predict_with_their_precision(model, tmp_path):
    X, y = _data(n=20, length=30)
    estimator = make_estimator(model, 0, epochs=2, precision="bf16")
    if model == "litetime":
        estimator.set_params(n_members=2)
    estimator.fit(X, y)
    members = getattr(estimator, "estimators_", [estimator])
    assert estimator.get_params()["precision"] == "bf16"
    assert all(m.precision_ == "bf16" for m in members)
    estimator.save(tmp_path / model)
    loaded = sparsetsc.load(tmp_path / model)
    assert all(m.precision_ == "bf16" for m in getattr(loaded, "estimators_", [loaded]))
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
