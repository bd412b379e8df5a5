"""Epoch time of DSN training: region-grouped convolutions vs the dense masked baseline.

Both runs train the same faithful DSN (k=39, 3 groups, density 0.2) with the same seed, the
same masks and the same DST engine; the baseline runs every convolution over its whole kernel
(masked weights are zero there), the grouped path only over each group's region. Reports the
median epoch time of each, the speed-up, the largest forward difference between the two paths
on the same weights, the training loss of every epoch and the test accuracy of each run.

    python benchmarks/dsn_speed.py --dataset GunPoint --epochs 20
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np
import torch

import sparsetsc
from sparsetsc.nn import DSN, DSNConfig
from sparsetsc.nn.region_conv import full_kernels
from sparsetsc.sparse import DSTConfig, DynamicSparseTraining
from sparsetsc.train import TrainConfig, fit_network, predict_proba, seeded

CPU = torch.device("cpu")


def run(dataset: str, epochs: int, root: str | None, dense_kernels: bool, seed: int) -> dict:
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test(dataset, root=root)
    X_train, X_test = sparsetsc.data.znormalize(X_train), sparsetsc.data.znormalize(X_test)
    classes, y = np.unique(y_train, return_inverse=True)
    with seeded(seed, CPU):
        network = DSN(DSNConfig(X_train.shape[1], len(classes)))
    engine = DynamicSparseTraining(DSTConfig(), seed=seed)
    config = TrainConfig(
        n_epochs=epochs, batch_size="dsn", lr=3e-4, lr_schedule="cosine", min_lr=1e-4, seed=seed
    )
    context = full_kernels(network) if dense_kernels else contextlib.nullcontext()
    with context, seeded(seed, CPU):
        started = time.perf_counter()
        result = fit_network(network, X_train, y, config, CPU, [engine])
        seconds = time.perf_counter() - started
        proba = predict_proba(network, X_test, CPU)
    accuracy = float(np.mean(classes[proba.argmax(1)] == y_test))
    return {
        "epoch_seconds": statistics.median(r["seconds"] for r in result.history),
        "fit_seconds": seconds,
        "accuracy": accuracy,
        "losses": [r["loss"] for r in result.history],
        "network": network,
        "X": X_test,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--data-root")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for dense_kernels in (False, True):  # warm-up: one-time costs must not land on either run
        run(args.dataset, 1, args.data_root, dense_kernels, args.seed)
    grouped = run(args.dataset, args.epochs, args.data_root, False, args.seed)
    dense = run(args.dataset, args.epochs, args.data_root, True, args.seed)
    network, X = grouped["network"], torch.as_tensor(grouped["X"][:64])
    with torch.no_grad():
        fast = network(X)
        with full_kernels(network):
            reference = network(X)
    print(f"dataset {args.dataset}, {args.epochs} epochs, torch threads {torch.get_num_threads()}")
    print(f"{'path':<22}{'epoch s (median)':>18}{'fit s':>10}{'test acc':>10}")
    for name, r in (("dense masked baseline", dense), ("region-grouped", grouped)):
        print(
            f"{name:<22}{r['epoch_seconds']:>18.4f}{r['fit_seconds']:>10.2f}{r['accuracy']:>10.4f}"
        )
    print(f"speed-up (epoch time): {dense['epoch_seconds'] / grouped['epoch_seconds']:.2f}x")
    print(f"max |forward difference| on the same weights: {(fast - reference).abs().max():.2e}")
    # Same arithmetic up to summation order: the training losses agree closely at first and
    # drift apart only as rounding differences compound over the steps.
    print("training loss per epoch (dense masked / region-grouped):")
    for epoch, (d, g) in enumerate(zip(dense["losses"], grouped["losses"], strict=True), start=1):
        print(f"  epoch {epoch:>4}: {d:.6f} / {g:.6f}")


if __name__ == "__main__":
    main()
