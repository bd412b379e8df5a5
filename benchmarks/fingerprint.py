"""Fingerprint of the library's behaviour: predictions of a fixed set of short fits.

Trains every model below for a few epochs on the bundled GunPoint data with fixed seeds and
saves their test-split ``predict_proba`` and per-epoch training losses. Run it before and
after a change that must not change behaviour, on the same machine, and compare:

    python benchmarks/fingerprint.py --out runs/fingerprint-before.npz
    # ... change the code ...
    python benchmarks/fingerprint.py --out runs/fingerprint-after.npz \
        --compare runs/fingerprint-before.npz

The comparison prints the largest absolute difference per model (0 means bit-identical).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sparsetsc
from sparsetsc.estimators import (
    DSNClassifier,
    DSPClassifier,
    FCNClassifier,
    InceptionClassifier,
    LITEClassifier,
    LITETimeClassifier,
)

#: name -> unfitted estimator; small budgets, every training path of the library.
MODELS = {
    "fcn": lambda: FCNClassifier(n_epochs=4),
    "dsn": lambda: DSNClassifier(n_epochs=6, update_every=2),
    "dsn-gradient": lambda: DSNClassifier(n_epochs=6, update_every=2, growth="gradient"),
    "lite": lambda: LITEClassifier(n_epochs=6),
    "inception": lambda: InceptionClassifier(n_epochs=3, depth=3),
    "dsp-lite": lambda: DSPClassifier(n_epochs=6, lam=1e-3),
    "dsp-lite-finetune": lambda: DSPClassifier(n_epochs=6, lam=1e-3, recovery="finetune"),
    "dsp-lite-uniform": lambda: DSPClassifier(n_epochs=6, lam=1e-3, widths="uniform"),
    "dsp-inception": lambda: DSPClassifier(backbone="inception", n_epochs=3, lam=1e-3),
    "litetime-sequential": lambda: LITETimeClassifier(n_members=2, n_epochs=4, batched=False),
    "litetime-batched": lambda: LITETimeClassifier(n_members=2, n_epochs=4, batched=True),
}


def _losses(estimator) -> np.ndarray:
    # DSP models also keep the sparsity phase's history: both phases are compared.
    members = getattr(estimator, "estimators_", None) or [estimator]
    return np.array(
        [[r["loss"] for r in getattr(m, "base_history_", []) + m.history_] for m in members]
    )


def fingerprint() -> dict[str, np.ndarray]:
    X_train, y_train, X_test, _ = sparsetsc.load_train_test("GunPoint")
    arrays = {}
    for name, make in MODELS.items():
        started = time.perf_counter()
        estimator = make().set_params(random_state=0, device="cpu").fit(X_train, y_train)
        arrays[f"{name}/proba"] = estimator.predict_proba(X_test)
        arrays[f"{name}/losses"] = _losses(estimator)
        print(f"{name:<22} fitted in {time.perf_counter() - started:6.1f} s", flush=True)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the .npz file to write")
    parser.add_argument("--compare", help="an earlier fingerprint to compare with")
    args = parser.parse_args()
    arrays = fingerprint()
    np.savez(args.out, **arrays)
    if not args.compare:
        return
    before = dict(np.load(args.compare))
    print(f"\n{'model':<22} {'max |proba diff|':>17} {'max |loss diff|':>16}")
    for name in MODELS:
        cells = []
        for kind in ("proba", "losses"):
            key = f"{name}/{kind}"
            if key not in before:
                cells.append("missing")
            elif before[key].shape != arrays[key].shape:
                cells.append(f"shape {before[key].shape} vs {arrays[key].shape}")
            else:
                cells.append(f"{np.abs(before[key] - arrays[key]).max():.3g}")
        print(f"{name:<22} {cells[0]:>17} {cells[1]:>16}")


if __name__ == "__main__":
    main()
