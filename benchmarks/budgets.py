"""How many epochs a model needs to learn a small set, and what DSP keeps at a short budget.

Fits on the bundled GunPoint (or ``--dataset``) with seed 0, fp32 and the machine's default
thread count, and prints one row per fit:

* LITE, FCN, Inception and DSN at each of ``--epochs`` (default 25, 50, 100): test accuracy;
* DSP-LITE at 150 + 150 and 1500 + 1500 epochs (sparsity phase + retraining): test accuracy,
  parameters before and after pruning, the compression and the kept widths.

    python benchmarks/budgets.py

The budgets on the docs' "Your own data" and DSP pages come from this script; run it
alone on the machine.
"""

from __future__ import annotations

import argparse
import time

import torch

import sparsetsc
from sparsetsc import (
    DSNClassifier,
    DSPClassifier,
    FCNClassifier,
    InceptionClassifier,
    LITEClassifier,
)
from sparsetsc.bench.jobs import cpu_model

SINGLE = {
    "LITE": LITEClassifier,
    "FCN": FCNClassifier,
    "Inception": InceptionClassifier,
    "DSN": DSNClassifier,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--epochs", default="25,50,100", help="budgets of the single models")
    parser.add_argument("--dsp-epochs", default="150,1500", help="DSP-LITE epochs per phase")
    args = parser.parse_args()
    X_train, y_train, X_test, y_test = sparsetsc.load_train_test(args.dataset)
    print(f"{args.dataset}, {cpu_model()}, {torch.get_num_threads()} threads, seed 0, fp32")
    for name, estimator_class in SINGLE.items():
        for epochs in (int(e) for e in args.epochs.split(",")):
            started = time.perf_counter()
            model = estimator_class(n_epochs=epochs, random_state=0).fit(X_train, y_train)
            print(
                f"{name:<10} {epochs:>5} epochs  accuracy {model.score(X_test, y_test):.3f}  "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    for epochs in (int(e) for e in args.dsp_epochs.split(",")):
        started = time.perf_counter()
        model = DSPClassifier(n_epochs=epochs, random_state=0).fit(X_train, y_train)
        phases = f"{len(model.base_history_)} + {len(model.history_)}"
        print(
            f"DSP-LITE   {phases:>11} epochs  accuracy {model.score(X_test, y_test):.3f}  "
            f"params {model.base_cost_['params']:,} -> {model.pruned_cost_['params']:,}  "
            f"compression {model.compression_['trainable']:.1%} of trainable, "
            f"{model.compression_['all']:.1%} of all  widths {model.kept_widths_}  "
            f"({time.perf_counter() - started:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
