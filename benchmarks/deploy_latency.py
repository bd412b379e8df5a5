"""Deployment cost on CPU: latency (batch 1 and 64), peak memory and file size per model and
runtime, with every ONNX export verified against PyTorch on the test split.

Models (fitted on the train split, or loaded from --models-dir when already there):
  dsn             the faithful DSN (sparse large kernels)
  dsn-dense-twin  the same fitted DSN with every kernel convolved over all its taps (what
                  masks alone cost: zeros are multiplied)
  lite / dsp-lite                   one LITE network, before and after DSP pruning
  inceptiontime / dsp-inceptiontime 5-member ensembles, before and after DSP pruning

Runtimes:
  torch-dense   PyTorch eager, the network as trained (DSN: short convolutions over the
                kernel-group regions trimmed to the taps in use)
  torch-sparse  PyTorch eager with the zero-skipping convolution (DSN only)
  torch-bf16    PyTorch eager under bfloat16 autocast (precision="bf16"; AMX / AVX512-BF16)
  onnxruntime   the exported file, in onnxruntime's CPU provider

Each (model, runtime, batch) is timed in --trials fresh processes (each: the median of
repeated forward passes of the whole prediction: normalisation, networks, softmax; reported:
the median over processes, since on a shared 2-core machine a whole process is sometimes
2-3x slower); peak resident memory is a serving process's high-water mark, so it includes
the runtime itself (an onnxruntime process imports neither torch nor sparsetsc).

    python benchmarks/deploy_latency.py --epochs 100 --out runs/deploy
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MODELS = ("dsn", "dsn-dense-twin", "lite", "dsp-lite", "inceptiontime", "dsp-inceptiontime")


def _full_kernels(network: object) -> None:
    from sparsetsc.nn.region_conv import RegionConv1d

    for module in network.modules():
        if isinstance(module, RegionConv1d):
            module.regions = None  # every tap convolved, zeros included


def _fit_or_load(name: str, folder: Path, epochs: int, data: tuple) -> object:
    import sparsetsc
    from sparsetsc.estimators import (
        DSNClassifier,
        DSPClassifier,
        DSPInceptionTimeClassifier,
        InceptionTimeClassifier,
        LITEClassifier,
    )

    if name == "dsn-dense-twin":  # not saved: loading would restore the regions
        estimator = copy.deepcopy(_fit_or_load("dsn", folder.parent / "dsn", epochs, data))
        _full_kernels(estimator.network_)
        return estimator.set_params(inference="dense")
    if (folder / "config.json").is_file():
        return sparsetsc.load(folder)
    X_train, y_train = data[:2]
    common = {"n_epochs": epochs, "device": "cpu", "random_state": 0}
    estimator = {
        "dsn": lambda: DSNClassifier(**common),
        "lite": lambda: LITEClassifier(**common),
        "dsp-lite": lambda: DSPClassifier(backbone="lite", **common),
        "inceptiontime": lambda: InceptionTimeClassifier(**common),
        "dsp-inceptiontime": lambda: DSPInceptionTimeClassifier(**common),
    }[name]()
    started = time.perf_counter()
    estimator.fit(X_train, y_train)
    print(f"  fitted {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    estimator.save(folder)
    return estimator


def _peak_rss_mib() -> float:
    # VmHWM, not getrusage's ru_maxrss: the latter survives exec and would report the
    # parent's high-water mark for a freshly started child
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _measure_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process: time one model in one runtime at one batch size."""
    rng = np.random.default_rng(0)
    shape = (args.batch, args.n_channels, args.n_timepoints)
    batch = rng.standard_normal(shape).astype(np.float32)
    if args.measure == "onnxruntime":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        session = onnxruntime.InferenceSession(
            args.path, options, providers=["CPUExecutionProvider"]
        )

        def forward() -> None:
            session.run(None, {"series": batch})
    else:
        import torch

        import sparsetsc
        from sparsetsc.export import inference_graph
        from sparsetsc.sparse import sparse_inference

        torch.set_num_threads(args.threads)
        estimator = sparsetsc.load(args.path)
        if args.full_kernels:
            _full_kernels(estimator.network_)
        graph = inference_graph(estimator)
        if args.measure == "torch-sparse":
            graph = sparse_inference(graph)
        inputs = torch.from_numpy(batch)

        bf16 = args.measure == "torch-bf16"

        def forward() -> None:
            with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
                graph(inputs)

    for _ in range(args.warmup):
        forward()
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        forward()
        times.append(time.perf_counter() - started)
    result = {"median_ms": 1e3 * statistics.median(times), "peak_rss_mib": _peak_rss_mib()}
    print(json.dumps(result))


def _measure(
    runtime: str, path: Path, batch: int, shape: tuple, threads: int, full_kernels: bool
) -> dict:
    repeats = 100 if batch == 1 else 30
    command = [
        sys.executable,
        __file__,
        "--measure",
        runtime,
        "--path",
        str(path),
        "--batch",
        str(batch),
        "--n-channels",
        str(shape[0]),
        "--n-timepoints",
        str(shape[1]),
        "--threads",
        str(threads),
        "--repeats",
        str(repeats),
    ]
    if full_kernels:
        command.append("--full-kernels")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {runtime} on {path} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _file_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--data-root")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", default="runs/deploy", help="models, exports and results")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--trials", type=int, default=3, help="fresh processes per measurement (median taken)"
    )
    # internal: one measurement in a child process
    parser.add_argument(
        "--measure", choices=("torch-dense", "torch-sparse", "torch-bf16", "onnxruntime")
    )
    parser.add_argument("--path")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--n-channels", type=int)
    parser.add_argument("--n-timepoints", type=int)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--full-kernels", action="store_true")
    args = parser.parse_args()
    if args.measure:
        _measure_child(args)
        return

    import sparsetsc
    from sparsetsc.cost import estimator_cost
    from sparsetsc.export import export_onnx

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    out = Path(args.out)
    data = sparsetsc.load_train_test(args.dataset, root=args.data_root)
    X_test, y_test = data[2], data[3]
    rows = []
    for name in names:
        estimator = _fit_or_load(name, out / "models" / name, args.epochs, data)
        shape = (int(estimator.metadata_["n_channels"]), int(estimator.metadata_["n_timepoints"]))
        onnx_path = out / "onnx" / f"{name}.onnx"
        export = export_onnx(estimator, onnx_path, X_test)
        cost = estimator_cost(estimator)
        base = {
            "model": name,
            "accuracy": float(estimator.score(X_test, y_test)),
            "params": cost.params,
            "params_nonzero": cost.params_nonzero,
            "macs": cost.macs,
            "macs_dense": cost.macs_dense,
            "onnx_max_abs_diff": export["max_abs_diff"],
            "onnx_predictions_identical": export["predictions_identical"],
        }
        runtimes = ["torch-dense", "torch-bf16", "onnxruntime"]
        if name == "dsn":
            runtimes.insert(1, "torch-sparse")
        for runtime in runtimes:
            twin = name == "dsn-dense-twin"
            path = onnx_path if runtime == "onnxruntime" else out / "models" / name
            if twin and runtime != "onnxruntime":
                path = out / "models" / "dsn"
            row = {**base, "runtime": runtime, "file_bytes": _file_size(path)}
            for batch in (1, 64):
                trials = [
                    _measure(
                        runtime, path, batch, shape, args.threads, twin and runtime != "onnxruntime"
                    )
                    for _ in range(args.trials)
                ]
                times = [t["median_ms"] for t in trials]
                row[f"b{batch}_ms"] = round(statistics.median(times), 3)
                row[f"b{batch}_ms_trials"] = [round(t, 3) for t in times]
                row[f"b{batch}_peak_rss_mib"] = round(max(t["peak_rss_mib"] for t in trials), 1)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    (out / "deploy_latency.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")

    print(
        f"{args.dataset}, {args.epochs} epochs, {args.threads} threads; "
        "ms per batch (median), peak RSS of the serving process"
    )
    header = (
        "model",
        "runtime",
        "acc",
        "params",
        "nonzero",
        "MACs (non-zero)",
        "file KiB",
        "b1 ms",
        "b64 ms",
        "b1 MiB",
        "b64 MiB",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(
            f"| {r['model']} | {r['runtime']} | {r['accuracy']:.4f} | {r['params']:,} | "
            f"{r['params_nonzero']:,} | {r['macs']:,} | {r['file_bytes'] / 1024:,.0f} | "
            f"{r['b1_ms']:.2f} | {r['b64_ms']:.1f} | {r['b1_peak_rss_mib']:.0f} | "
            f"{r['b64_peak_rss_mib']:.0f} |"
        )
    by_runtime = {(r["model"], r["runtime"]): r for r in rows}
    if ("dsn", "torch-sparse") in by_runtime and ("dsn-dense-twin", "torch-dense") in by_runtime:
        sparse = by_runtime["dsn", "torch-sparse"]
        twin = by_runtime["dsn-dense-twin", "torch-dense"]
        regions = by_runtime["dsn", "torch-dense"]
        for batch in (1, 64):
            key = f"b{batch}_ms"
            print(
                f"DSN batch {batch}: sparse {twin[key] / sparse[key]:.2f}x and trimmed regions "
                f"{twin[key] / regions[key]:.2f}x faster than the dense twin"
            )
    for name in names:
        r = by_runtime.get((name, "onnxruntime"))
        if r:
            print(
                f"{name}: ONNX max |diff| {r['onnx_max_abs_diff']:.2e}, "
                f"predictions identical: {r['onnx_predictions_identical']}"
            )


if __name__ == "__main__":
    main()
