"""Shared fixtures: the bundled GunPoint data and a small synthetic multivariate problem."""

from __future__ import annotations

import numpy as np
import pytest

import sparsetsc


@pytest.fixture(scope="session")
def gunpoint() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GunPoint train and test splits from the copy bundled in the package."""
    return sparsetsc.load_train_test("GunPoint", download=False)


@pytest.fixture(scope="session")
def tiny_data() -> tuple[np.ndarray, np.ndarray]:
    """A small, easy 3-class multivariate problem (class = which channel carries a bump)."""
    rng = np.random.default_rng(0)
    n_cases, n_channels, n_timepoints = 36, 3, 24
    X = rng.normal(0, 0.3, size=(n_cases, n_channels, n_timepoints)).astype(np.float32)
    y = np.array(["a", "b", "c"] * (n_cases // 3))
    for i, label in enumerate(y):
        X[i, "abc".index(label), 8:16] += 3.0
    return X, y
