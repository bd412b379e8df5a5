"""GPU check: every model trains on CUDA in fp32 and bf16 and predicts as it does on CPU.

For each model, 2 epochs on the bundled GunPoint on CUDA, in fp32 and in bf16 (autocast):
the median epoch time, then the largest difference between the probabilities the fitted
model gives on CUDA and the same weights give on CPU (in the same precision). Last, the
batched-ensemble speed-up: LITETime's 5 members trained together (vmap) against one after
the other. About 2 minutes on one GPU; exits with status 1 if a tolerance is exceeded.

    python benchmarks/gpu_check.py [--models lite,dsn] [--device cuda:1]

``--device cpu`` runs the same check without a GPU (CPU against CPU: a test of this script,
not of CUDA); ``benchmarks/gpu_run.py`` runs it first on a leased GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

import sparsetsc
from sparsetsc.bench import make_estimator

MODELS = ("fcn", "lite", "inception", "dsn", "dsp-lite", "dsp-inception")
#: Largest |CUDA probability - CPU probability| allowed, per precision. bfloat16 keeps 8
#: bits of mantissa, and CPU and GPU sum in different orders.
TOLERANCE = {"fp32": 1e-3, "bf16": 5e-2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="the device checked (default cuda)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated keys")
    parser.add_argument(
        "--ensemble-epochs", type=int, default=5, help="epochs of the LITETime timing"
    )
    args = parser.parse_args(argv)
    device, models = args.device, [m for m in args.models.split(",") if m]
    on_cuda = device.startswith("cuda")
    if on_cuda and not torch.cuda.is_available():
        print("no CUDA device here: nothing to check")
        return 1
    if on_cuda:
        print(
            f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, "
            f"bf16 supported: {torch.cuda.is_bf16_supported()}"
        )
    else:
        print(f"device {device} (not a GPU), torch {torch.__version__}")
    X_train, y_train, X_test, _ = sparsetsc.load_train_test("GunPoint")
    failures = 0
    print(f"| model | precision | median epoch ({device}) | max abs {device}-CPU difference | ok |")
    print("|---|---|---|---|---|")
    for model in models:
        for precision in ("fp32", "bf16"):
            estimator = make_estimator(model, 0, epochs=2, device=device, precision=precision)
            estimator.fit(X_train, y_train)
            epoch = statistics.median(r["seconds"] for r in estimator.history_)
            on_gpu = estimator.predict_proba(X_test)
            with tempfile.TemporaryDirectory() as folder:
                estimator.save(folder)
                on_cpu = sparsetsc.load(folder, device="cpu").predict_proba(X_test)
            difference = float(np.abs(on_gpu - on_cpu).max())
            ok = difference <= TOLERANCE[precision]
            failures += not ok
            print(
                f"| {model} | {precision} | {1000 * epoch:.1f} ms | {difference:.2e} | "
                f"{'yes' if ok else 'NO'} |"
            )
    for precision in ("fp32", "bf16"):
        seconds = {}
        for batched in (False, True):
            estimator = make_estimator(
                "litetime", 0, epochs=args.ensemble_epochs, device=device, precision=precision
            )
            estimator.set_params(batched=batched)
            started = time.perf_counter()
            estimator.fit(X_train, y_train)
            if on_cuda:
                torch.cuda.synchronize()
            seconds[batched] = time.perf_counter() - started
        print(
            f"LITETime x5, {args.ensemble_epochs} epochs, {precision}: one after the other "
            f"{seconds[False]:.2f} s, together {seconds[True]:.2f} s: "
            f"{seconds[False] / seconds[True]:.2f}x"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
