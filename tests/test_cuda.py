"""On a CUDA device: models train in fp32 and bf16 and predict as on CPU (skipped without one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sparsetsc
from sparsetsc.bench import make_estimator

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("precision, tolerance", [("fp32", 1e-3), ("bf16", 5e-2)])
@pytest.mark.parametrize("model", ["lite", "dsn", "dsp-lite"])
def test_cuda_training_predicts_like_the_same_weights_on_cpu(model, precision, tolerance, tmp_path):
    X_train, y_train, X_test, _ = sparsetsc.load_train_test("GunPoint")
    estimator = make_estimator(model, 0, epochs=2, device="cuda", precision=precision)
    estimator.fit(X_train, y_train)
    assert estimator.device_.startswith("cuda") and estimator.precision_ == precision
    estimator.save(tmp_path / "model")
    on_cpu = sparsetsc.load(tmp_path / "model", device="cpu").predict_proba(X_test)
    assert np.abs(estimator.predict_proba(X_test) - on_cpu).max() <= tolerance
