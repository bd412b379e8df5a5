"""The memory guard: estimates that scale, refusals before any work, batched prediction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsetsc import DSNClassifier, LITEClassifier
from sparsetsc.nn import LITE, LITEConfig
from sparsetsc.train import InsufficientMemoryError, TrainConfig, fit_network, predict_proba
from sparsetsc.train.memory import (
    MEMORY_ENV,
    estimate_training_memory,
    inference_batch_size,
    memory_limit,
    parse_size,
)

CPU = torch.device("cpu")


def test_sizes_parse_in_decimal_and_binary_units():
    assert parse_size(1000) == 1000
    assert parse_size("8GB") == 8 * 10**9
    assert parse_size("1.5g") == 1.5 * 10**9
    assert parse_size("512MiB") == 512 * 2**20
    assert parse_size(" 64 kB ") == 64_000
    for bad in ("lots", "-3GB", "0", 0, "8 parsecs"):
        with pytest.raises(ValueError, match="memory size"):
            parse_size(bad)


def test_the_limit_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    limit, source = memory_limit(CPU)
    assert source == "available memory" and limit > 0
    monkeypatch.setenv(MEMORY_ENV, "3MB")
    assert memory_limit(CPU) == (3_000_000, f"${MEMORY_ENV}")
    assert memory_limit(CPU, "2kB") == (2000, "max_memory")


def test_the_estimate_is_linear_in_length_and_leaves_the_network_as_it_was():
    torch.manual_seed(0)
    network = LITE(LITEConfig(1, 3)).eval()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    rng = torch.get_rng_state()
    short = estimate_training_memory(network, 1, 1000, "fp32", CPU)
    long = estimate_training_memory(network, 1, 4000, "fp32", CPU)
    assert not network.training and torch.equal(torch.get_rng_state(), rng)
    for key, value in network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert short.activation_bytes_per_point == long.activation_bytes_per_point > 0
    # LITE keeps a few float32 maps of its 113 + 32 + 32 channels per time point for backward
    assert 4 * 177 <= short.activation_bytes_per_point <= 4 * 177 * 12
    assert long.step_bytes(8) - short.step_bytes(8) == pytest.approx(
        2 * 8 * 3000 * short.activation_bytes_per_point
    )
    assert short.largest_batch(int(short.step_bytes(5))) == 5


def test_bf16_saves_smaller_activations():
    # Only the convolutions' outputs shrink: the fused float32 kernels keep float32 copies.
    network = LITE(LITEConfig(1, 2))
    fp32 = estimate_training_memory(network, 1, 500, "fp32", CPU).activation_bytes_per_point
    bf16 = estimate_training_memory(network, 1, 500, "bf16", CPU).activation_bytes_per_point
    assert bf16 < 0.95 * fp32


@pytest.mark.parametrize("make", [LITEClassifier, DSNClassifier])
def test_a_fit_that_cannot_fit_is_refused_before_training(make, monkeypatch):
    # Two long series under a 20 MB cap: the same refusal as two of 2,000,000 points under
    # a machine's real memory, without allocating gigabytes.
    monkeypatch.setenv(MEMORY_ENV, "20MB")
    X = np.random.default_rng(0).normal(size=(2, 1, 20_000)).astype(np.float32)
    clf = make(n_epochs=1, random_state=0)
    with pytest.raises(InsufficientMemoryError) as caught:
        clf.fit(X, np.array([0, 1]))
    message = str(caught.value)
    assert "per step" in message and "20.0 MB" in message and f"${MEMORY_ENV}" in message
    assert "shorten the series" in message and "Nothing was trained" in message
    assert not hasattr(clf, "network_")


def test_the_refusal_names_the_largest_batch_that_fits():
    network = LITE(LITEConfig(1, 2))
    estimate = estimate_training_memory(network, 1, 3000, "fp32", CPU)
    cap = int(estimate.step_bytes(4)) + 1
    X = np.zeros((32, 1, 3000), np.float32)
    y = np.resize([0, 1], 32)
    config = TrainConfig(n_epochs=1, batch_size=16, max_memory=cap)
    with pytest.raises(InsufficientMemoryError, match="use batch_size=4 or smaller"):
        fit_network(network, X, y, config, CPU)
    fit_network(network, X, y, TrainConfig(n_epochs=1, batch_size=4, max_memory=cap), CPU)


def test_prediction_runs_in_batches_that_fit_and_gives_the_same_probabilities():
    torch.manual_seed(0)
    network = LITE(LITEConfig(1, 2)).eval()
    X = np.random.default_rng(1).normal(size=(20, 1, 400)).astype(np.float32)
    per_batch_of_256 = inference_batch_size(network, 1, 400, CPU, 256)
    assert per_batch_of_256 == 256  # plenty of memory
    small = inference_batch_size(network, 1, 400, CPU, 256, max_memory=2_000_000)
    assert 1 <= small < 20
    np.testing.assert_allclose(
        predict_proba(network, X, CPU, max_memory=2_000_000),
        predict_proba(network, X, CPU),
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(InsufficientMemoryError, match="per series"):
        inference_batch_size(network, 1, 400, CPU, 256, max_memory=1000)


def test_an_unreadable_max_memory_is_refused_by_the_config():
    with pytest.raises(ValueError, match="cannot read memory size"):
        TrainConfig(max_memory="plenty")
