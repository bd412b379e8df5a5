from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from sparsetsc.train import (
    BATCH_SIZE_RULES,
    Callback,
    TrainConfig,
    fit_network,
    resolve_batch_size,
    resolve_device,
    resolve_seed,
    seeded,
)

CPU = torch.device("cpu")


def tiny_network(n_channels: int = 3, n_classes: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(n_channels, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(8, n_classes),
    )


def encoded(tiny_data):
    X, y = tiny_data
    return X, np.unique(y, return_inverse=True)[1]


@pytest.mark.parametrize(
    "rule, n_cases, expected",
    [
        ("dsn", 50, 5),
        ("dsn", 28, 2),
        ("dsn", 100, 10),
        ("dsn", 3601, 16),
        ("dsn", 12, 2),
        ("fcn", 50, 5),
        ("fcn", 12, 1),
        ("fcn", 1000, 16),
    ],
)
def test_batch_size_rules_match_the_papers_code(rule, n_cases, expected):
    assert resolve_batch_size(rule, n_cases) == expected


def test_batch_size_int_is_capped_and_bad_values_raise():
    assert resolve_batch_size(64, 50) == 50
    assert resolve_batch_size(8, 50) == 8
    for bad in (0, -1, "huge", 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            resolve_batch_size(bad, 50)
    assert set(BATCH_SIZE_RULES) == {"fcn", "dsn"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_epochs": 0}, "n_epochs"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"selection": "test_accuracy"}, "selection"),
        ({"selection": "val_loss"}, "validation split"),
        ({"validation_size": 1.5}, "validation_size"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_bad_train_config_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, state):
        self.events.append("begin")

    def extra_loss(self, state):
        self.events.append("loss")
        return torch.zeros(())

    def on_after_backward(self, state):
        # gradients exist at this point
        assert any(p.grad is not None for p in state.network.parameters())
        self.events.append("backward")

    def on_step_end(self, state):
        self.events.append("step")

    def on_epoch_end(self, state, record):
        record["custom"] = state.epoch
        self.events.append("epoch")

    def on_train_end(self, state):
        self.events.append("end")


def test_callbacks_run_in_order_with_exact_counts(tiny_data):
    X, y = encoded(tiny_data)
    recorder = Recorder()
    config = TrainConfig(n_epochs=3, batch_size=10)
    result = fit_network(tiny_network(), X, y, config, CPU, [recorder])
    steps = math.ceil(36 / 10)
    assert recorder.events[0] == "begin" and recorder.events[-1] == "end"
    assert recorder.events.count("step") == 3 * steps
    assert recorder.events.count("epoch") == 3
    assert recorder.events[1:5] == ["loss", "backward", "step", "loss"]
    assert [r["custom"] for r in result.history] == [0, 1, 2]


def test_extra_loss_is_added_to_the_training_loss(tiny_data):
    X, y = encoded(tiny_data)

    class ConstantPenalty(Callback):
        def extra_loss(self, state):
            return torch.tensor(0.5)

    with seeded(0, CPU):
        result = fit_network(
            tiny_network(), X, y, TrainConfig(n_epochs=2, batch_size=12), CPU, [ConstantPenalty()]
        )
    for record in result.history:
        assert record["loss"] == pytest.approx(record["ce_loss"] + 0.5, abs=1e-5)


def test_selection_by_training_loss_restores_the_best_epoch(tiny_data):
    X, y = encoded(tiny_data)

    class Snapshot(Callback):
        def __init__(self):
            self.states = []

        def on_epoch_end(self, state, record):
            self.states.append({k: v.clone() for k, v in state.network.state_dict().items()})

    snapshot = Snapshot()
    network = tiny_network()
    with seeded(1, CPU):
        # a large learning rate makes the loss non-monotone, so the best epoch is not the last
        result = fit_network(
            network, X, y, TrainConfig(n_epochs=12, batch_size=6, lr=0.3), CPU, [snapshot]
        )
    losses = [r["loss"] for r in result.history]
    assert result.selected_epoch == int(np.argmin(losses)) + 1
    kept = snapshot.states[result.selected_epoch - 1]
    for key, value in network.state_dict().items():
        assert torch.equal(value, kept[key])
    assert not network.training


def test_validation_split_is_carved_from_train_and_drives_selection(tiny_data):
    X, y = encoded(tiny_data)
    config = TrainConfig(n_epochs=4, batch_size=8, validation_size=0.25, selection="val_loss")
    result = fit_network(tiny_network(), X, y, config, CPU)
    assert (result.n_train, result.n_validation) == (27, 9)
    val_losses = [r["val_loss"] for r in result.history]
    assert result.selected_epoch == int(np.argmin(val_losses)) + 1
    assert all(0.0 <= r["val_accuracy"] <= 1.0 for r in result.history)


def test_validation_split_too_small_for_stratification_raises(tiny_data):
    X, y = encoded(tiny_data)
    config = TrainConfig(n_epochs=1, validation_size=2, selection="val_accuracy")
    with pytest.raises(ValueError, match="stratified validation split"):
        fit_network(tiny_network(), X, y, config, CPU)


class ConstantLossNetwork(nn.Module):
    """Frozen network plus a parameter whose gradient is always zero: a perfectly flat loss."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen = tiny_network().requires_grad_(False)
        self.idle = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.frozen(x) + 0.0 * self.idle


def test_plateau_schedule_halves_the_lr_on_a_flat_training_loss(tiny_data):
    X, y = encoded(tiny_data)
    config = TrainConfig(
        n_epochs=8,
        batch_size=36,
        lr=1e-3,
        plateau_patience=1,
        min_lr=2e-4,
        lr_schedule="plateau",
    )
    result = fit_network(ConstantLossNetwork(), X, y, config, CPU)
    # history records the lr each epoch trained with; patience 1 -> halve every 2nd epoch
    lrs = [r["lr"] for r in result.history]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4, 2e-4])


def test_cosine_schedule_goes_from_lr_to_min_lr(tiny_data):
    X, y = encoded(tiny_data)
    config = TrainConfig(n_epochs=5, batch_size=12, lr=3e-4, min_lr=1e-4, lr_schedule="cosine")
    result = fit_network(tiny_network(), X, y, config, CPU)
    expected = [1e-4 + (3e-4 - 1e-4) * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(5)]
    assert [r["lr"] for r in result.history] == pytest.approx(expected)


def test_same_seed_same_weights_and_global_rng_untouched(tiny_data):
    X, y = encoded(tiny_data)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    weights = []
    for _ in range(2):
        with seeded(7, CPU):
            network = tiny_network()
            fit_network(network, X, y, TrainConfig(n_epochs=2, batch_size=5, seed=7), CPU)
        weights.append(network.state_dict())
    assert torch.equal(torch.random.get_rng_state(), before)
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key])


def test_verbose_false_prints_nothing_and_verbose_true_shows_progress(tiny_data, capsys):
    X, y = encoded(tiny_data)
    fit_network(tiny_network(), X, y, TrainConfig(n_epochs=2, verbose=False), CPU)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fit_network(
        tiny_network(), X, y, TrainConfig(n_epochs=2, verbose=True, description="demo"), CPU
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "demo" in captured.err


def test_thread_setting_is_respected(tiny_data):
    X, y = encoded(tiny_data)
    original = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        fit_network(tiny_network(), X, y, TrainConfig(n_epochs=1), CPU)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(original)


def test_resolve_seed_and_device():
    assert resolve_seed(5) == 5
    assert resolve_seed(np.random.RandomState(0)) == resolve_seed(np.random.RandomState(0))
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
