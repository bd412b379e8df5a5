"""The ``sparsetsc`` command: fit, evaluate, predict, datasets, bench, report, analyze, study,
export.

Every command checks its arguments before any training or writing. Results go to stdout
(one JSON object with ``--json``); progress bars and messages go to stderr. Each subcommand
is a pair of functions below, in the order of ``sparsetsc --help``: ``_<name>_command`` adds
its arguments and ``_run_<name>`` carries it out and returns the exit status.
"""

from __future__ import annotations

import argparse
import ast
import csv
import inspect
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import write_atomic
from ._names import (
    DEFAULT_PRECISION,
    DEFAULT_SEED_POLICY,
    MODEL_KEYS,
    PEER_KEYS,
    PRECISIONS,
    SEED_POLICIES,
    SUITE_NAMES,
)
from ._version import __version__

# torch, aeon, numba and the library itself are imported by the commands that use them, so
# that --help and argument errors answer at once (tests/test_cli_startup.py).
if TYPE_CHECKING:
    import numpy as np

__all__ = ["main", "build_parser"]

Commands = Any  # argparse's private _SubParsersAction


class UsageError(ValueError):
    """A problem with the command line itself."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sparsetsc`` command."""
    parser = argparse.ArgumentParser(
        prog="sparsetsc",
        description="Efficient deep time-series classification (DSN, DSP and baselines).",
    )
    parser.add_argument("--version", action="version", version=f"sparsetsc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (
        _fit_command,
        _evaluate_command,
        _predict_command,
        _datasets_command,
        _bench_command,
        _report_command,
        _analyze_command,
        _study_command,
        _export_command,
    ):
        add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sparsetsc`` command; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except Exception as err:
        # Anticipated errors (bad input, damaged files, missing extras): one line and
        # status 2, like argparse's own errors; anything else is a bug and shows its traceback.
        if args.debug or not _anticipated(err):
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"sparsetsc {args.command}: error: {message}", file=sys.stderr)
        return 2


def _anticipated(err: Exception) -> bool:
    if isinstance(err, (ValueError, OSError, ImportError)):
        return True
    export = sys.modules.get("sparsetsc.export")  # loaded if it could have raised
    return export is not None and isinstance(err, export.ExportError)


# ---------------------------------------------------------------------- shared options
def _command(commands: Commands, run: Callable[[argparse.Namespace], int]) -> Any:
    """The subcommand that ``run`` carries out, named after it (``_run_fit``: ``fit``).

    The first line of ``run``'s docstring is the command's help (as argparse writes help:
    lower case, no full stop), the rest its description.
    """
    summary, _, details = inspect.cleandoc(run.__doc__ or "").partition("\n\n")
    name = run.__name__.removeprefix("_run_")
    summary = summary[:1].lower() + summary[1:].removesuffix(".")
    parser = commands.add_parser(name, help=summary, description=" ".join(details.split()))
    parser.set_defaults(run=run)
    return parser


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


OWN_FILES_HELP = (
    ".csv / .tsv / .parquet (one row per series: a label column, then the time points), "
    ".npz (arrays X and y), UCR .tsv or UEA .ts"
)


def _add_data_options(
    parser: argparse.ArgumentParser,
    required: bool = True,
    purpose: str = "UCR/UEA dataset name (e.g. GunPoint), a dataset folder, or a file: "
    + OWN_FILES_HELP,
) -> None:
    parser.add_argument("--dataset", required=required, metavar="NAME_OR_PATH", help=purpose)
    _add_archive_options(parser)


def _add_archive_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-root",
        metavar="DIR",
        help="archive folder holding <Name>/<Name>_TRAIN.tsv|.ts "
        "(default: $SPARSETSC_DATA, then the per-user cache)",
    )
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="fail instead of downloading a dataset that is not available locally",
    )


def _label_column(text: str) -> int | str:
    """``--label-column``: a 0-based index if it is an integer, else a header name."""
    try:
        return int(text)
    except ValueError:
        return text


def _add_label_column_option(parser: argparse.ArgumentParser, default: int | None) -> None:
    where = "the first column" if default == 0 else "none: every column is a time point"
    parser.add_argument(
        "--label-column",
        type=_label_column,
        default=default,
        metavar="NAME|INDEX",
        help=f"the label column of a table of your own, by header name or 0-based index "
        f"(default: {where})",
    )


def _add_precision_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=DEFAULT_PRECISION,
        help=f"fp32, bf16 (mixed precision) or auto (bf16 where the hardware runs it "
        f"natively); default {DEFAULT_PRECISION}",
    )


def _add_sweep_options(parser: argparse.ArgumentParser) -> None:
    # How a sweep runs (what _run_plan reads): shared by bench and study.
    parser.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, cuda:N")
    _add_precision_option(parser)
    parser.add_argument(
        "--seed-policy",
        choices=SEED_POLICIES,
        default=DEFAULT_SEED_POLICY,
        help="each job's model seed: 'dataset' (default; a stable hash of dataset and "
        "resample, so the datasets of one resample start from independent draws) or "
        "'resample' (random_state = resample id, the tsml-eval convention); the data split "
        "follows the resample id either way",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        metavar="J",
        help="jobs at once (local processes or Dask workers); torch threads are split among them",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on Dask: a scheduler address (tcp://host:8786, e.g. from dask-jobqueue's "
        "SLURMCluster) or 'local' for a LocalCluster of --n-jobs workers",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run failed jobs again")
    parser.add_argument(
        "--save-models",
        action="store_true",
        help="keep every fitted deep model (RUNS/<Model>/Models/<Dataset>/resample<k>, "
        "readable by sparsetsc.load); finished jobs without a kept model run again",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        print(f"{key:<{width}}  {shown}")


def _add_overwrite_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--overwrite", action="store_true", help=f"replace {what} (refused without it)"
    )


def _check_out_dir(out: str | None, overwrite: bool) -> None:
    # Refuse early, before training, rather than after minutes of work.
    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not (path / "config.json").is_file():
        raise UsageError(f"--out {out} is a non-empty directory that is not a saved model")
    if not overwrite:
        raise UsageError(
            f"--out {out} already holds a saved model; give --overwrite to replace it, or "
            "another --out"
        )


def _parse_params(pairs: list[str], known: dict[str, Any], model: str) -> dict[str, Any]:
    """``NAME=VALUE`` strings as estimator parameters; unknown names are usage errors."""
    params = {}
    for pair in pairs:
        name, separator, text = pair.partition("=")
        if not separator or not name:
            raise UsageError(f"--param expects NAME=VALUE; got {pair!r}")
        if name not in known:
            raise UsageError(
                f"--param {name}: {model} has no such parameter; it has {', '.join(sorted(known))}"
            )
        try:
            params[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[name] = text  # e.g. recovery=finetune
    return params


# ---------------------------------------------------------------------- fit
def _fit_command(commands: Commands) -> None:
    fit = _command(commands, _run_fit)
    fit.add_argument("--model", required=True, choices=sorted(MODEL_KEYS), help="model to train")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--dataset",
        metavar="NAME_OR_PATH",
        help="UCR/UEA dataset name (e.g. GunPoint) or dataset folder, trained on its train "
        "split and scored on its test split; or one file holding a training set (as --train)",
    )
    source.add_argument("--train", metavar="FILE", help=f"your training series: {OWN_FILES_HELP}")
    fit.add_argument(
        "--test", metavar="FILE", help="your test series, scored after training (as --train)"
    )
    _add_label_column_option(fit, default=0)
    _add_archive_options(fit)
    fit.add_argument(
        "--epochs", type=int, metavar="N", help="training epochs (default: the model's own)"
    )
    fit.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed (default 0): initial weights, batch order, sparse regrowth. One "
        "seed is one draw, and fits of deep models vary by several points between seeds on "
        "small sets; compare models with 'sparsetsc bench' over several resamples",
    )
    fit.add_argument(
        "--members", type=int, metavar="M", help="ensemble size of the *time ensembles (default 5)"
    )
    fit.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N"
    )
    _add_precision_option(fit)
    fit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any hyper-parameter of the model (repeatable), e.g. --param lam=2e-5 "
        "--param recovery=finetune; VALUE is read as a Python literal when it is one "
        "(2e-5, 3, True, None, (4, 2, 1)), else as text",
    )
    fit.add_argument("--out", metavar="DIR", help="save the fitted model to this directory")
    _add_overwrite_option(fit, "a saved model at --out")
    _add_json_option(fit)
    fit.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_fit(args: argparse.Namespace) -> int:
    """Train a model on a dataset's train split (or your own file) and score it.

    Train on the train split, or on --train FILE (model selection never sees the test
    series), then report the test accuracy (--test FILE for your own files; without a test
    set, the training accuracy), size, MACs and timings.
    """
    import numpy as np
    import torch

    from .bench import fit_and_predict
    from .bench.jobs import cpu_model
    from .cost import estimator_cost
    from .data import check_labels_seen
    from .estimators import MODEL_PARAMS, MODELS
    from .nn.kernels import notify_before_compiling

    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be >= 1; got {args.epochs}")
    _check_out_dir(args.out, args.overwrite)
    estimator_class = MODELS[args.model]
    params: dict[str, Any] = {
        **MODEL_PARAMS.get(args.model, {}),
        "random_state": args.seed,
        "device": args.device,
        "precision": args.precision,
        "verbose": not args.quiet,
    }
    if args.epochs is not None:
        params["n_epochs"] = args.epochs
    if args.members is not None:
        if "n_members" not in estimator_class().get_params():
            raise UsageError(f"--members applies to ensembles; {args.model} is a single model")
        if args.members < 1:
            raise UsageError(f"--members must be >= 1; got {args.members}")
        params["n_members"] = args.members
    params.update(_parse_params(args.param, estimator_class().get_params(), args.model))
    estimator = estimator_class(**params)
    X_train, y_train, X_test, y_test = _fit_data(args)
    if X_test is not None:
        # A test label that training never sees can never be predicted: say so now.
        check_labels_seen(y_test, np.unique(y_train))

    # The first CPU fit of an install waits for numba: say why, once, off stdout.
    if not args.json:
        notify_before_compiling(_say_kernels_compile)
    try:
        # Without a test set, the training set is predicted (its accuracy is reported).
        probabilities, fit_seconds, predict_seconds = fit_and_predict(
            estimator, X_train, y_train, X_train if X_test is None else X_test
        )
    finally:
        notify_before_compiling(None)
    predictions = estimator.classes_[np.argmax(probabilities, axis=1)]
    scored = (
        {"train_accuracy": float(np.mean(predictions == y_train))}
        if X_test is None
        else {"accuracy": float(np.mean(predictions == y_test))}
    )
    result = {
        "dataset": args.dataset or args.train,
        **({"test": args.test} if args.test else {}),
        "model": args.model,
        "estimator": type(estimator).__name__,
        **scored,
        **estimator_cost(estimator).totals(),
        "fit_seconds": round(fit_seconds, 3),
        "predict_seconds": round(predict_seconds, 4),
        # timings and float rounding depend on both
        "cpu": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        **_training_summary(estimator),
        **_pruning_summary(estimator),
        "seed": args.seed,
        "n_train": int(X_train.shape[0]),
        "n_test": 0 if X_test is None else int(X_test.shape[0]),
        "n_channels": int(X_train.shape[1]),
        "n_timepoints": int(X_train.shape[2]),
        "sparsetsc_version": __version__,
    }
    if args.out:
        estimator.save(args.out)
        result["out"] = str(Path(args.out))
    _print_result(result, args.json)
    if args.epochs is not None:
        published = estimator_class().get_params().get("n_epochs")
        _hint_if_at_chance(scored, y_train if X_test is None else y_test, args, published)
    return 0


def _hint_if_at_chance(
    scored: dict[str, float], y: np.ndarray, args: argparse.Namespace, published: int | None
) -> None:
    """A short budget that leaves a model at chance level gets a hint, on stderr."""
    import numpy as np

    _, counts = np.unique(y, return_counts=True)
    chance = counts.max() / counts.sum()  # always predicting the most frequent class
    ((name, accuracy),) = scored.items()
    if accuracy > chance + 0.02:
        return
    print(
        f"note: {name} {accuracy:.3f} is at chance level ({chance:.3f}, the most frequent "
        f"class) after {args.epochs} epochs: the model has not learned yet. Deep models "
        f"need more epochs on most sets (without --epochs {args.model} trains for its "
        f"published budget, {published}); budgets: "
        "https://sparsetsc.github.io/sparsetsc/getting-started/own-data/",
        file=sys.stderr,
    )


def _fit_data(
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Train and test data of ``fit``: an archive dataset, or files of the user's own."""
    from .data import load_files, load_train_test, locate_dataset

    if args.test is not None and args.train is None:
        raise UsageError("--test goes with --train; a --dataset brings its own test split")
    if args.train is not None:
        return load_files(args.train, args.test, label_column=args.label_column)
    files = locate_dataset(args.dataset, root=args.data_root, download=not args.no_download)
    if "train" in files and "test" in files:  # found (or downloaded) once: read from there
        return load_train_test(files["train"])
    return load_files(files["file"], label_column=args.label_column)  # one training file


def _say_kernels_compile() -> None:
    print("compiling CPU kernels, first use only", file=sys.stderr, flush=True)


def _training_summary(estimator: Any) -> dict[str, Any]:
    members = getattr(estimator, "estimators_", None)
    if members is None:
        return {
            "epochs": len(estimator.history_),
            "selected_epoch": estimator.selected_epoch_,
            "batch_size": estimator.batch_size_,
            "device": estimator.device_,
            "precision": estimator.precision_,
        }
    return {
        "epochs": len(members[0].history_),
        "selected_epoch": [member.selected_epoch_ for member in members],
        "batch_size": members[0].batch_size_,
        "device": members[0].device_,
        "precision": members[0].precision_,
        "n_members": len(members),
        "batched": estimator.batched_,
    }


def _pruning_summary(estimator: Any) -> dict[str, Any]:
    if not hasattr(estimator, "compression_"):
        return {}
    members = getattr(estimator, "estimators_", None)
    pruned = members if members else [estimator]
    return {
        # before and after pruning, summed over an ensemble's members
        "params_before": sum(m.base_cost_["params"] for m in pruned),
        "params_after": sum(m.pruned_cost_["params"] for m in pruned),
        "macs_before": sum(m.base_cost_["macs"] for m in pruned),
        "macs_after": sum(m.pruned_cost_["macs"] for m in pruned),
        "compression": estimator.compression_["trainable"],
        "compression_all_params": estimator.compression_["all"],
        "kept_widths": [m.kept_widths_ for m in members] if members else estimator.kept_widths_,
    }


# ---------------------------------------------------------------------- evaluate
def _evaluate_command(commands: Commands) -> None:
    evaluate = _command(commands, _run_evaluate)
    evaluate.add_argument("model_dir", metavar="MODEL_DIR", help="directory of a saved model")
    _add_data_options(evaluate)
    _add_label_column_option(evaluate, default=0)
    evaluate.add_argument("--split", choices=("train", "test"), default="test")
    evaluate.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, cuda:N")
    _add_json_option(evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    """Score a saved model on a dataset split.

    Load a model saved by 'sparsetsc fit --out' and score it.
    """
    from .cost import estimator_cost
    from .data import load_dataset
    from .estimators import load

    estimator = load(args.model_dir, device=args.device)
    X, y = load_dataset(
        args.dataset,
        split=args.split,
        root=args.data_root,
        download=not args.no_download,
        label_column=args.label_column,
    )
    started = time.perf_counter()
    accuracy = estimator.score(X, y)
    predict_seconds = time.perf_counter() - started
    result = {
        "dataset": args.dataset,
        "split": args.split,
        "model_dir": str(args.model_dir),
        "estimator": type(estimator).__name__,
        "accuracy": float(accuracy),
        **estimator_cost(estimator).totals(),
        "predict_seconds": round(predict_seconds, 4),
        "n_cases": int(X.shape[0]),
    }
    _print_result(result, args.json)
    return 0


# ---------------------------------------------------------------------- predict
def _predict_command(commands: Commands) -> None:
    predict = _command(commands, _run_predict)
    predict.add_argument(
        "model",
        metavar="MODEL",
        help="a saved model's directory (sparsetsc fit --out) or an .onnx file (sparsetsc export)",
    )
    predict.add_argument(
        "--input", required=True, metavar="FILE", help=f"the series to classify: {OWN_FILES_HELP}"
    )
    _add_label_column_option(predict, default=None)
    predict.add_argument("--out", metavar="FILE", help="write the CSV here (default: stdout)")
    _add_overwrite_option(predict, "an existing --out file")
    predict.add_argument(
        "--proba", action="store_true", help="add a column of probability per class"
    )
    predict.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, cuda:N")


def _run_predict(args: argparse.Namespace) -> int:
    """Predict the class of every series in a file, as CSV.

    Load a model saved by 'sparsetsc fit --out', or an ONNX file written by 'sparsetsc
    export', and write one CSV row per series of --input: the predicted label and, with
    --proba, each class's probability. A label column in the input (--label-column; the
    labels of .ts and .npz files) is left out and never used.
    """
    import numpy as np

    from .data import load_dataset

    out = Path(args.out) if args.out else None
    if out is not None and (out.is_dir() or (out.exists() and not args.overwrite)):
        what = "is a directory" if out.is_dir() else "exists; give --overwrite to replace it"
        raise UsageError(f"--out {args.out} {what}")
    source = Path(args.input).expanduser()
    if not source.is_file():
        raise UsageError(f"--input {args.input}: no such file")
    model = _load_predictor(args.model, args.device)
    X, _ = load_dataset(source, label_column=args.label_column, download=False)
    _check_input_shape(X, _expected_shape(model), args.label_column)
    probabilities = np.asarray(model.predict_proba(X))
    classes = np.asarray(model.classes_)
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\n")  # quotes a label holding a comma
    table.writerow(["prediction"] + ([f"probability_{c}" for c in classes] if args.proba else []))
    for label, row in zip(classes[np.argmax(probabilities, axis=1)], probabilities, strict=True):
        table.writerow([label] + ([f"{float(p):.6g}" for p in row] if args.proba else []))
    text = buffer.getvalue()
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
        print(f"wrote {len(X)} predictions to {out}", file=sys.stderr)
    return 0


def _load_predictor(model: str, device: str) -> Any:
    path = Path(model).expanduser()
    if path.suffix.lower() == ".onnx":
        if not path.is_file():
            raise UsageError(f"MODEL {model}: no such ONNX file")
        from .export import OnnxClassifier

        return OnnxClassifier(path)
    from .estimators import load

    return load(path, device=device)


def _expected_shape(model: Any) -> tuple[int, int] | None:
    """(channels, time points) the model takes, where it records them."""
    if hasattr(model, "n_timepoints"):  # an ONNX model
        return model.n_channels, model.n_timepoints
    fitted = getattr(model, "metadata_", None) or {}
    if "n_channels" in fitted and "n_timepoints" in fitted:
        return fitted["n_channels"], fitted["n_timepoints"]
    return None


def _check_input_shape(
    X: np.ndarray, expected: tuple[int, int] | None, label_column: int | str | None
) -> None:
    if expected is None or X.shape[1:] == expected:
        return
    channels, length = expected
    hint = ""
    if X.shape[1] == channels and X.shape[2] == length + 1 and label_column is None:
        hint = "; if its first column is a label, give --label-column 0 (or the column's name)"
    elif X.shape[1] != channels:
        hint = "; the model was trained on series of another number of channels"
    else:
        hint = (
            "; bring the series to the model's length (sparsetsc.data.equalize_length) or "
            "train a model on series of this length"
        )
    raise ValueError(
        f"--input holds {X.shape[1]} channel(s) of {X.shape[2]} time points, but the model "
        f"takes {channels} channel(s) of {length}{hint}"
    )


# ---------------------------------------------------------------------- datasets
def _datasets_command(commands: Commands) -> None:
    datasets = _command(commands, _run_datasets)
    datasets.add_argument("--data-root", metavar="DIR", help="archive folder to search")
    datasets.add_argument(
        "--all", action="store_true", help="list every dataset the archive download knows"
    )
    datasets.add_argument(
        "--details",
        action="store_true",
        help="a table of the local datasets: train and test cases, channels, length and "
        "classes, read from the files",
    )
    datasets.add_argument("--json", action="store_true", help="print a JSON list on stdout")


def _run_datasets(args: argparse.Namespace) -> int:
    """List datasets available locally (or, with --all, downloadable).

    List the datasets found in the data root, the package and the cache.
    """
    from .data import archive_datasets, describe_dataset, list_datasets

    if args.details and args.all:
        raise UsageError("--details reads local files; --all lists what can be downloaded")
    names = archive_datasets() if args.all else list_datasets(args.data_root)
    if not args.details:
        print(json.dumps(names) if args.json else "\n".join(names))
        return 0
    rows = [describe_dataset(name, args.data_root) for name in names]
    if args.json:
        print(json.dumps(rows))
        return 0
    header = ("dataset", "train", "test", "channels", "length", "classes")
    table = [header] + [
        (
            row["name"],
            *("-" if row[k] is None else f"{row[k]:,}" for k in ("n_train", "n_test")),
            str(row["n_channels"]),
            str(row["min_length"])
            if row["min_length"] == row["max_length"]
            else f"{row['min_length']}-{row['max_length']}",
            str(row["n_classes"]),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        cells = zip(line[1:], widths[1:], strict=True)
        print(line[0].ljust(widths[0]) + "".join(f"  {cell:>{width}}" for cell, width in cells))
    return 0


# ---------------------------------------------------------------------- bench
def _bench_command(commands: Commands) -> None:
    bench = _command(commands, _run_bench)
    bench.add_argument(
        "--models",
        required=True,
        help="comma-separated model keys: " + ", ".join(sorted(MODEL_KEYS) + list(PEER_KEYS)),
    )
    bench.add_argument(
        "--datasets",
        required=True,
        help=f"a suite ({', '.join(SUITE_NAMES)}), a comma-separated list, or a file of names",
    )
    bench.add_argument("--data-root", metavar="DIR", help="archive folder (as for fit)")
    bench.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="S",
        help="resamples 0..S-1 (0 = the official split; k > 0 = aeon's stratified resample k)",
    )
    bench.add_argument("--epochs", type=int, metavar="N", help="epoch budget of the deep models")
    bench.add_argument("--runs", default="runs/bench", metavar="DIR", help="results directory")
    bench.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="MODEL:NAME=VALUE",
        help="set a hyper-parameter of one model, e.g. --param dsp-lite:lam=2e-5",
    )
    _add_sweep_options(bench)


def _run_bench(args: argparse.Namespace) -> int:
    """Sweep models x datasets x resamples into a resumable runs directory.

    Run every (model, dataset, resample) job not yet finished in RUNS: one tsml-format result
    file per job, written atomically. Rerunning skips finished jobs; failed jobs are recorded
    and reported (rerun them with --retry-failed).
    """
    from .bench import available_models, plan_sweep, resolve_datasets

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1; got {args.seeds}")
    if args.n_jobs < 1:
        raise UsageError(f"--n-jobs must be >= 1; got {args.n_jobs}")
    unknown = [m for m in models if m not in available_models()]
    if unknown:
        raise UsageError(
            f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(available_models())}"
        )
    plan = plan_sweep(
        models,
        resolve_datasets(args.datasets),
        range(args.seeds),
        args.runs,
        epochs=args.epochs,
        params=_bench_params(args.param, models),
        device=args.device,
        data_root=args.data_root,
        retry_failed=args.retry_failed,
        save_models=args.save_models,
        precision=args.precision,
        seed_policy=args.seed_policy,
    )
    return _run_plan(plan, args)


def _bench_params(pairs: list[str], models: list[str]) -> dict[str, dict[str, Any]]:
    from .bench import make_estimator

    by_model: dict[str, list[str]] = {}
    for pair in pairs:
        model, separator, setting = pair.partition(":")
        if not separator or model not in models:
            raise UsageError(
                f"--param expects MODEL:NAME=VALUE with MODEL one of {', '.join(models)}; "
                f"got {pair!r}"
            )
        by_model.setdefault(model, []).append(setting)
    return {
        model: _parse_params(settings, make_estimator(model, 0).get_params(), model)
        for model, settings in by_model.items()
    }


def _run_plan(plan: Any, args: argparse.Namespace) -> int:
    """Run a sweep plan with the command's executor options; report; exit status."""
    from .bench import run_sweep

    total = len(plan.to_run) + len(plan.finished) + len(plan.failed_before)
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    say(
        f"{total} jobs: {len(plan.finished)} finished before, {len(plan.failed_before)} failed "
        f"before, {len(plan.to_run)} to run -> {args.runs}"
    )
    if plan.without_model:
        say(
            f"{len(plan.without_model)} of them finished before without a kept model: "
            "running them again to keep it"
        )
    for job, message in plan.corrupt:
        print(f"corrupt result of {job}, running it again: {message}", file=sys.stderr)
    for job, message in plan.failed_before:
        print(f"skipped {job}, failed before ({message}); --retry-failed runs it", file=sys.stderr)
    summary = run_sweep(
        plan,
        data_root=args.data_root,
        n_jobs=args.n_jobs,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    for outcome in summary.failed:
        print(f"FAILED {outcome.job}: {outcome.error}", file=sys.stderr)
    done = len(summary.outcomes) - len(summary.failed) - len(summary.skipped)
    print(
        f"{done} jobs done, {len(summary.failed)} failed, {len(plan.finished)} finished "
        f"before, {len(plan.failed_before)} skipped as failed before, "
        f"in {summary.seconds:.1f} s"
    )
    if plan.ensembles or plan.ensembles_finished:
        waiting = len(plan.ensembles) - len(summary.combined)
        print(
            f"ensembles of member jobs: {len(summary.combined)} written from their members, "
            f"{len(plan.ensembles_finished)} written before, {waiting} waiting for members"
        )
    return 1 if summary.failed or plan.failed_before else 0


# ---------------------------------------------------------------------- report
def _report_command(commands: Commands) -> None:
    report = _command(commands, _run_report)
    report.add_argument("runs_dir", metavar="RUNS_DIR")
    report.add_argument(
        "--against",
        metavar="METHODS",
        help="comma-separated published methods to compare with, e.g. InceptionTime,LITETime,"
        "ROCKET (Method@source picks a table)",
    )
    report.add_argument(
        "--published",
        metavar="DIR",
        help="folder of published result tables (bake-off <Method>_accuracy.csv, "
        "repository tables)",
    )
    report.add_argument("--out", metavar="DIR", help="output folder (default RUNS_DIR/report)")
    report.add_argument(
        "--claims",
        action="store_true",
        default=None,
        help="open with the papers' claims table even for runs below the published budget "
        "(shown by default only for DSP / DSN runs at it)",
    )
    _add_overwrite_option(report, "files in an --out folder that does not hold a report")


def _run_report(args: argparse.Namespace) -> int:
    """Tables, statistics and figures from a runs directory.

    Write report.md, report.html, CSV tables, a critical-difference diagram and an
    accuracy-vs-MACs scatter for the results in RUNS_DIR; with DSP-LITE or DSN results at
    the published budget (or --claims), the papers' claims first. Defaults for the options
    may come from RUNS_DIR/report.json.
    """
    from .report import build_report, report_defaults

    if args.out and not args.overwrite:
        out = Path(args.out)
        # A folder holding a previous report is rewritten; any other non-empty one is not.
        if out.is_dir() and any(out.iterdir()) and not (out / "report.html").is_file():
            raise UsageError(
                f"--out {args.out} is a non-empty folder without a report; give --overwrite "
                "to write the report into it anyway, or another --out"
            )
    defaults = report_defaults(args.runs_dir)
    against = defaults.get("against")
    if args.against:
        against = [m.strip() for m in args.against.split(",") if m.strip()]
    named = {
        "title": defaults.get("title"),
        "markdown_name": defaults.get("markdown"),
        "intro": defaults.get("intro"),
        "claims": args.claims or defaults.get("claims"),
    }
    report = build_report(
        args.runs_dir,
        args.out or defaults.get("out"),
        against,
        args.published or defaults.get("published"),
        **{name: value for name, value in named.items() if value is not None},
    )
    print(report.ranks.to_string())
    for name, path in report.files.items():
        print(f"{name}: {path}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- analyze
def _analyze_command(commands: Commands) -> None:
    analyze = _command(commands, _run_analyze)
    analyze.add_argument("model_dir", metavar="MODEL_DIR", help="directory of a saved model")
    analyze.add_argument(
        "--out", metavar="DIR", help="also write analysis.json and PNG figures to this directory"
    )
    _add_json_option(analyze)


def _run_analyze(args: argparse.Namespace) -> int:
    """Analyse the sparse layers of a saved model (eNRF, tap usage).

    Effective neighbour receptive fields and tap usage per kernel group of a saved sparse model
    (e.g. DSN).
    """
    from .estimators import load
    from .sparse.enrf import analyze, save_figures, sparse_layers

    estimator = load(args.model_dir)
    network = getattr(estimator, "network_", None)
    if network is None or not sparse_layers(network):
        raise ValueError(
            f"{args.model_dir}: {type(estimator).__name__} has no sparse layers to analyse"
        )
    result = analyze(estimator)
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {args.out} exists and is not a directory")
        try:
            save_figures(estimator, out)
        except ImportError as err:
            raise UsageError(
                f"--out needs matplotlib for the figures: pip install 'sparsetsc[viz]' ({err})"
            ) from None
        (out / "analysis.json").write_text(json.dumps(result, indent=2))
    if args.json:
        print(json.dumps(result))
        return 0
    ever = result["ever_active_fraction"]
    header = (
        f"{'layer':<16} {'group':>5} {'region (out; taps)':<22} {'nonzero':>8} "
        f"{'eNRF mean':>9} {'median':>6} {'max':>4} {'ever active':>11}"
    )
    print(header)
    for row in result["layers"]:
        fractions = ever.get(row["layer"], [])
        shown = f"{fractions[row['group']]:.3f}" if row["group"] < len(fractions) else "-"
        region = f"{row['out_start']}-{row['out_stop']}; {row['tap_start']}-{row['tap_stop']}"
        print(
            f"{row['layer']:<16} {row['group']:>5} {region:<22} {row['nonzero']:>8,} "
            f"{row['enrf_mean']:>9.2f} {row['enrf_median']:>6.1f} {row['enrf_max']:>4} "
            f"{shown:>11}"
        )
    if result["real_density"] is not None:
        print(f"real density: {result['real_density']:.4f}")
    if args.out:
        print(f"figures and analysis.json written to {args.out}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- study
def _study_command(commands: Commands) -> None:
    study = _command(commands, _run_study)
    study.add_argument("name", nargs="?", metavar="NAME", help="the study (see --list)")
    study.add_argument("--list", action="store_true", help="list the studies and exit")
    study.add_argument("--budget", choices=("cpu", "full"), default="cpu")
    study.add_argument("--datasets", help="override the budget's datasets (as for bench)")
    study.add_argument("--seeds", type=int, help="override the budget's resamples")
    study.add_argument("--epochs", type=int, help="override the budget's epochs")
    study.add_argument(
        "--variants",
        metavar="LABELS",
        help="run only these variants (comma-separated labels, as in the section; the DSP "
        "variants that chosen uniform controls are built from are added); the section reports "
        "every variant",
    )
    study.add_argument("--data-root", metavar="DIR", help="the study's archive folder")
    study.add_argument("--runs", metavar="DIR", help="results (default runs/studies-BUDGET)")
    study.add_argument("--out", metavar="DIR", help="report section (default RUNS/studies)")
    _add_sweep_options(study)


def _run_study(args: argparse.Namespace) -> int:
    """Run one of the papers' experiments and write its report section.

    A named study: labelled model variants over a dataset subset at the 'cpu' budget (3
    resamples, 6 to 90 minutes on 2 cores) or the 'full' (published) protocol. Finished
    jobs of earlier sweeps and studies in the same runs directory are reused.
    """
    from .bench import plan_sweep, resolve_datasets
    from .bench.studies import STUDIES, get_study
    from .report.study_sections import study_section

    if args.list or not args.name:
        for study in STUDIES.values():
            print(f"{study.name:<18} {study.title} [{study.reproduces}]")
        return 0
    study = get_study(args.name)
    budget = study.budgets[args.budget]
    datasets = tuple(resolve_datasets(args.datasets)) if args.datasets else budget.datasets
    seeds = budget.seeds if args.seeds is None else args.seeds
    epochs = budget.epochs if args.epochs is None else args.epochs
    if seeds < 1 or args.n_jobs < 1:
        raise UsageError("--seeds and --n-jobs must be >= 1")
    overridden = [n for n in ("datasets", "seeds", "epochs") if getattr(args, n) is not None]
    note = budget.note
    if overridden:  # describe what runs, not the budget it started from
        per_phase = " per phase" if "per phase" in budget.note else ""
        ran = (
            f"{epochs} epochs{per_phase}"
            if isinstance(epochs, int)
            else f"epochs: {replace(budget, epochs=epochs).epochs_text}"
        )
        note = (
            f"{len(datasets)} dataset(s), {seeds} resample(s), {ran} (the {args.budget} "
            f"budget with {' and '.join(overridden)} set on the command line)"
        )
    budget = replace(
        budget,
        datasets=datasets,
        seeds=seeds,
        epochs=epochs,
        note=note,
        precision=args.precision,
        seed_policy=args.seed_policy,
    )
    runs = args.runs or f"runs/studies-{args.budget}"
    plan = plan_sweep(
        _chosen_variants(study, args.variants),
        datasets,
        range(seeds),
        runs,
        epochs=budget.sweep_epochs,
        device=args.device,
        data_root=args.data_root,
        retry_failed=args.retry_failed,
        save_models=study.keep_models or args.save_models,
        precision=args.precision,
        seed_policy=args.seed_policy,
    )
    status = _run_plan(plan, argparse.Namespace(**{**vars(args), "runs": runs}))
    out = Path(args.out) if args.out else Path(runs) / "studies"
    print(study_section(study, args.budget, budget, runs, out, args.data_root))
    print(f"section: {out / f'{study.name}-{args.budget}.md'}", file=sys.stderr)
    return status


def _chosen_variants(study: Any, labels: str | None) -> tuple[Any, ...]:
    """``study.chosen_variants(labels)``, a bad label a usage error of ``--variants``."""
    try:
        return study.chosen_variants(labels)
    except ValueError as err:
        raise UsageError(f"--variants: {err}") from None


# ---------------------------------------------------------------------- export
def _export_command(commands: Commands) -> None:
    export = _command(commands, _run_export)
    export.add_argument("model_dir", metavar="MODEL_DIR", help="directory of a saved model")
    export.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    _add_overwrite_option(export, "an existing --onnx file")
    _add_data_options(
        export, required=False, purpose="verify on this dataset's series (default: random ones)"
    )
    _add_label_column_option(export, default=0)
    export.add_argument("--split", choices=("train", "test"), default="test")
    _add_json_option(export)


def _run_export(args: argparse.Namespace) -> int:
    """Export a saved model to ONNX, verified against PyTorch.

    Write one ONNX file holding the whole prediction (normalisation, every ensemble member,
    softmax), check it in onnxruntime against the PyTorch model and write it only if it agrees.
    Needs the 'export' extra.
    """
    from .data import load_dataset
    from .estimators import load
    from .export import export_onnx

    if Path(args.onnx).is_dir():
        raise UsageError(f"--onnx {args.onnx} is a directory; give the .onnx file to write")
    if Path(args.onnx).exists() and not args.overwrite:
        raise UsageError(
            f"--onnx {args.onnx} exists; give --overwrite to replace it, or another file"
        )
    estimator = load(args.model_dir)
    X = None
    if args.dataset:
        X, _ = load_dataset(
            args.dataset,
            split=args.split,
            root=args.data_root,
            download=not args.no_download,
            label_column=args.label_column,
        )
    result = export_onnx(estimator, args.onnx, X)
    result = {
        "model_dir": str(args.model_dir),
        "estimator": type(estimator).__name__,
        "dataset": args.dataset,
        **result,
    }
    _print_result(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
