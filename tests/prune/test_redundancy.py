"""Redundancy measures on constructed feature maps, and per stage of a real network."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from sparsetsc.nn import LITE, LITEConfig
from sparsetsc.prune import instance_redundancy, redundancy
from sparsetsc.prune.redundancy import N_BINS

# the package exports a function of the module's name, so the module itself comes from here
redundancy_module = importlib.import_module("sparsetsc.prune.redundancy")


def _binned(values):
    low, high = values.min(), values.max()
    return np.minimum(((values - low) / (high - low) * N_BINS).astype(int), N_BINS - 1)


def test_mutual_information_matches_scikit_learn_pair_by_pair():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(4, 200))
    maps[1] = maps[0] ** 2 + 0.1 * rng.normal(size=200)  # dependent on channel 0
    normalised = maps / np.linalg.norm(maps, axis=1, keepdims=True)
    expected = sum(
        mutual_info_score(_binned(normalised[a]), _binned(normalised[b]))
        for a in range(4)
        for b in range(a + 1, 4)
    )
    assert instance_redundancy(maps)["mutual_information"] == pytest.approx(expected)


def test_mutual_information_counted_in_blocks_of_pairs_is_the_same(monkeypatch):
    # wide stages on long series count their pairs' joint histograms a block at a time
    maps = np.random.default_rng(2).normal(size=(9, 50)) ** 2
    maps[4] = 3.0  # a constant channel carries no information
    whole = instance_redundancy(maps)["mutual_information"]
    normalised = maps / np.linalg.norm(maps, axis=1, keepdims=True)
    expected = sum(
        mutual_info_score(_binned(normalised[a]), _binned(normalised[b]))
        for a in range(9)
        for b in range(a + 1, 9)
        if 4 not in (a, b)
    )
    assert whole == pytest.approx(expected)
    monkeypatch.setattr(redundancy_module, "_KEYS_PER_BLOCK", 7 * 50)  # 7 pairs a block
    assert instance_redundancy(maps)["mutual_information"] == pytest.approx(whole, rel=1e-12)


def test_copies_are_redundant_and_orthogonal_channels_are_not():
    t = np.linspace(0, 1, 64)
    base = np.sin(2 * np.pi * 3 * t) + 1.5
    copies = np.stack([base * (1 + 0.1 * k) for k in range(4)])  # rank 1
    orthogonal = np.stack([np.sin(2 * np.pi * (k + 1) * t) + 0.01 * k for k in range(4)])
    same, different = instance_redundancy(copies), instance_redundancy(orthogonal)
    assert same["mutual_information"] > different["mutual_information"]
    assert same["effective_rank"] == pytest.approx(1 / 2, abs=0.02)  # 2 active channels alike
    assert different["effective_rank"] > 0.9
    assert same["energy95"] == pytest.approx(1 / 2)
    empty = instance_redundancy(np.zeros((3, 10)))
    assert empty == {"mutual_information": 0.0, "effective_rank": 0.0, "energy95": 0.0}


def test_redundancy_per_stage_of_lite():
    network = LITE(LITEConfig(1, 2, n_filters=4))
    X = np.random.default_rng(1).normal(size=(5, 1, 40)).astype(np.float32)
    result = redundancy(network, X, batch_size=2)
    assert set(result) == {"block1_relu", "fcn1", "fcn2"}
    for measures in result.values():
        assert measures["mutual_information"] >= 0
        assert 0 <= measures["effective_rank"] <= 1 and 0 <= measures["energy95"] <= 1
    assert network.training  # mode restored
