"""Training time of an ensemble: members trained together (vectorised) vs one after the other.

Both fits use the same member seeds, so each member starts from the same weights and sees
the same batches either way (see :func:`sparsetsc.train.fit_networks`). Reports the
fit time of each, the speed-up, each run's test accuracy and the largest difference between
the two ensembles' predicted probabilities.

    python benchmarks/ensemble_speed.py --model litetime --dataset GunPoint --epochs 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import sparsetsc
from sparsetsc.estimators import MODELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default="litetime", choices=["litetime", "inceptiontime", "hinceptiontime"]
    )
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--data-root")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test(args.dataset, root=args.data_root)
    estimator_class = MODELS[args.model]

    def fit(batched: bool, epochs: int) -> tuple[object, float]:
        clf = estimator_class(
            n_members=args.members,
            n_epochs=epochs,
            batched=batched,
            random_state=args.seed,
            device="cpu",
        )
        started = time.perf_counter()
        clf.fit(X_train, y_train)
        return clf, time.perf_counter() - started

    for batched in (True, False):  # warm-up: one-time costs must not land on either run
        fit(batched, 1)
    together, together_seconds = fit(True, args.epochs)
    in_turn, in_turn_seconds = fit(False, args.epochs)
    print(
        f"{args.model} x{args.members} on {args.dataset} ({len(X_train)} train cases, length "
        f"{X_train.shape[-1]}), {args.epochs} epochs, torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{'members trained':<22}{'fit s':>10}{'test acc':>10}")
    for name, clf, seconds in (
        ("one after the other", in_turn, in_turn_seconds),
        ("together (batched)", together, together_seconds),
    ):
        print(f"{name:<22}{seconds:>10.2f}{clf.score(X_test, y_test):>10.4f}")
    print(f"speed-up: {in_turn_seconds / together_seconds:.2f}x")
    difference = np.abs(together.predict_proba(X_test) - in_turn.predict_proba(X_test)).max()
    print(f"max |probability difference| between the two ensembles: {difference:.2e}")


if __name__ == "__main__":
    main()
