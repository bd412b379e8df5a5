from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sparsetsc.cli import main
from sparsetsc.nn import kernels

REQUIRED_FIT_FIELDS = {
    "dataset",
    "model",
    "accuracy",
    "params",
    "params_nonzero",
    "macs",
    "macs_dense",
    "fit_seconds",
    "predict_seconds",
    "epochs",
    "seed",
}


def write_ucr(folder: Path, name: str, train: np.ndarray, test: np.ndarray) -> Path:
    """Write a dataset in the UCR-2018 layout: label first, tab separated."""
    (folder / name).mkdir(parents=True)
    for split, rows in (("TRAIN", train), ("TEST", test)):
        np.savetxt(folder / name / f"{name}_{split}.tsv", rows, delimiter="\t", fmt="%g")
    return folder / name


def toy_rows(n_cases: int, labels, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_cases, 20))
    values[:, 5:10] += 4 * (np.resize(labels, n_cases)[:, None] == labels[0])
    return np.column_stack([np.resize(labels, n_cases), values])


@pytest.fixture()
def toy_root(tmp_path):
    write_ucr(
        tmp_path / "archive",
        "Toy",
        toy_rows(20, np.array([1, 2]), 0),
        toy_rows(10, np.array([1, 2]), 1),
    )
    return tmp_path / "archive"


def test_fit_json_reports_every_field_and_saves_a_loadable_model(toy_root, tmp_path, capsys):
    out = tmp_path / "model"
    status = main(
        f"fit --model fcn --dataset Toy --data-root {toy_root} --epochs 3 --seed 1 --out {out} "
        "--json --quiet".split()
    )
    captured = capsys.readouterr()
    assert status == 0
    result = json.loads(captured.out)  # stdout holds exactly one JSON object
    assert REQUIRED_FIT_FIELDS <= set(result)
    assert result["dataset"] == "Toy" and result["model"] == "fcn"
    assert result["epochs"] == 3 and result["seed"] == 1
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["n_train"] == 20 and result["n_test"] == 10
    assert result["params"] == 264_962 and result["macs_dense"] == result["macs"]
    assert result["params_nonzero"] <= result["params"]
    assert result["fit_seconds"] > 0 and result["predict_seconds"] > 0

    status = main(f"evaluate {out} --dataset Toy --data-root {toy_root} --json".split())
    evaluated = json.loads(capsys.readouterr().out)
    assert status == 0
    assert evaluated["accuracy"] == result["accuracy"]
    assert evaluated["params"] == result["params"]


def test_fit_dsn_from_the_command_line(toy_root, capsys):
    status = main(
        f"fit --model dsn --dataset Toy --data-root {toy_root} --epochs 2 --json --quiet --device "
        "cpu".split()
    )
    result = json.loads(capsys.readouterr().out)
    assert status == 0
    assert result["model"] == "dsn" and result["params"] == 802_153
    assert result["macs"] < result["macs_dense"]


@pytest.mark.parametrize(
    ("model", "params_trainable"),
    [
        ("lite", 9_814 + 66),
        ("litetime", 2 * (9_814 + 66)),
        ("inception", 420_192 + 258),
        ("inceptiontime", 2 * (420_192 + 258)),
        ("hinceptiontime", 2 * (420_192 + 258 + 17 * 2 + 17 * 64)),
    ],
)
def test_fit_backbones_from_the_command_line(model, params_trainable, toy_root, tmp_path, capsys):
    members = [] if model in ("lite", "inception") else ["--members", "2"]
    out = tmp_path / model
    status = main(
        [
            *f"fit --model {model} --dataset Toy --data-root {toy_root} --epochs 1 --json "
            f"--quiet --device cpu --out {out}".split(),
            *members,
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert status == 0
    assert result["params_trainable"] == params_trainable
    if members:
        assert result["n_members"] == 2 and len(result["selected_epoch"]) == 2
    assert main(f"evaluate {out} --dataset Toy --data-root {toy_root} --json".split()) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == result["accuracy"]


def test_members_on_a_single_model_is_a_usage_error(toy_root, tmp_path, capsys):
    out = tmp_path / "m"
    status = main(
        f"fit --model lite --dataset Toy --data-root {toy_root} --members 3 --out {out}".split()
    )
    assert status == 2
    assert "--members applies to ensembles" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_param_sets_any_hyper_parameter(toy_root, capsys):
    # LITE at 8 filters: 3 branches of 8 (kernels 40, 20, 10), BN over 8*3 + 17 channels,
    # two separable convs of 8 (kernels 20 and 10) with BN, and the 2-class head.
    first = 8 * 70 + 2 * 41
    separable = (41 * 20 + 41 * 8 + 2 * 8) + (8 * 10 + 8 * 8 + 2 * 8)
    status = main(
        f"fit --model lite --dataset Toy --data-root {toy_root} --epochs 1 --json --quiet "
        "--device cpu --param n_filters=8 --param lr_schedule=constant".split()
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out)["params_trainable"] == first + separable + 9 * 2


@pytest.mark.parametrize(
    ("param", "message"),
    [("lam=1e-5", "lite has no such parameter"), ("n_filters", "expects NAME=VALUE")],
)
def test_bad_param_is_a_usage_error_before_training(param, message, toy_root, tmp_path, capsys):
    out = tmp_path / "m"
    status = main(
        f"fit --model lite --dataset Toy --data-root {toy_root} --param {param} --out {out}".split()
    )
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_fit_is_deterministic_for_a_seed(toy_root, capsys):
    args = [
        "fit",
        "--model",
        "fcn",
        "--dataset",
        "Toy",
        "--data-root",
        str(toy_root),
        "--epochs",
        "2",
        "--json",
        "--quiet",
        "--device",
        "cpu",
    ]
    runs = []
    for _ in range(2):
        assert main(args) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0]["accuracy"] == runs[1]["accuracy"]


def test_bad_input_fails_cleanly_and_writes_nothing(tmp_path, capsys):
    root = tmp_path / "archive"
    # single class in the training split
    write_ucr(root, "OneClass", toy_rows(12, np.array([1]), 0), toy_rows(6, np.array([1]), 1))
    # a test label that never occurs in training
    write_ucr(root, "NewLabel", toy_rows(12, np.array([1, 2]), 0), toy_rows(6, np.array([1, 3]), 1))
    out = tmp_path / "out"
    cases = [
        (["--dataset", "OneClass"], "single class"),
        (["--dataset", "NewLabel"], "never seen in fit: '3'"),
        (["--dataset", "Toy"], "Unknown dataset 'Toy'"),
        (["--dataset", "OneClass", "--epochs", "0"], "--epochs must be >= 1"),
    ]
    for extra, message in cases:
        status = main(
            [
                *f"fit --model fcn --data-root {root} --no-download --out {out} --quiet".split(),
                *extra,
            ]
        )
        captured = capsys.readouterr()
        assert status == 2, extra
        assert message in captured.err, captured.err
        assert captured.out == ""
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_fit_refuses_to_overwrite_a_foreign_directory_before_training(toy_root, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    status = main(
        f"fit --model fcn --dataset Toy --data-root {toy_root} --out {foreign} --quiet".split()
    )
    assert status == 2
    assert "not a saved model" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]


def test_fit_replaces_a_saved_model_only_when_asked(toy_root, tmp_path, capsys):
    out = tmp_path / "model"
    fit = f"fit --model fcn --dataset Toy --data-root {toy_root} --epochs 1 --out {out} --quiet"
    assert main(fit.split()) == 0
    saved = (out / "config.json").read_text()
    assert main([*fit.split(), "--seed", "5"]) == 2  # refused before training
    assert "already holds a saved model; give --overwrite" in capsys.readouterr().err
    assert (out / "config.json").read_text() == saved
    assert main([*fit.split(), "--seed", "5", "--overwrite"]) == 0
    assert (out / "config.json").read_text() != saved


def test_report_keeps_out_of_a_foreign_folder_unless_asked(tmp_path, capsys):
    from sparsetsc.bench.store import result_path, write_result

    runs = tmp_path / "runs"
    write_result(
        result_path(runs, "M", "D", 0),
        dataset="D",
        model="M",
        resample=0,
        y_true=np.array([0, 1]),
        y_pred=np.array([0, 1]),
        probabilities=np.eye(2),
        metadata={},
    )
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.md").write_text("mine")
    assert main(["report", str(runs), "--out", str(foreign)]) == 2
    assert "non-empty folder without a report; give --overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.md"]
    assert main(["report", str(runs), "--out", str(foreign), "--overwrite"]) == 0
    assert (foreign / "report.md").is_file() and (foreign / "notes.md").read_text() == "mine"
    # a folder holding a previous report is simply rewritten
    assert main(["report", str(runs), "--out", str(foreign)]) == 0


def test_a_runs_path_that_is_a_file_is_refused_before_any_work(toy_root, tmp_path, capsys):
    runs = tmp_path / "runs.txt"
    runs.write_text("not a folder")
    command = f"bench --models fcn --datasets Toy --data-root {toy_root} --epochs 1 --runs {runs}"
    assert main(command.split()) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert runs.read_text() == "not a folder"


def test_unknown_model_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main("fit --model nope --dataset GunPoint".split())
    assert exit_info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_datasets_lists_local_and_bundled(toy_root, capsys):
    assert main(f"datasets --data-root {toy_root} --json".split()) == 0
    names = json.loads(capsys.readouterr().out)
    assert "Toy" in names and "GunPoint" in names


def test_datasets_details_are_read_from_the_files(toy_root, capsys):
    assert main(f"datasets --data-root {toy_root} --details --json".split()) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["Toy"] == {
        "name": "Toy",
        "n_train": 20,
        "n_test": 10,
        "n_channels": 1,
        "min_length": 20,
        "max_length": 20,
        "n_classes": 2,
    }
    assert (rows["GunPoint"]["n_train"], rows["GunPoint"]["max_length"]) == (50, 150)
    assert main(f"datasets --data-root {toy_root} --details".split()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["dataset", "train", "test", "channels", "length", "classes"]
    assert lines[1].split() == ["GunPoint", "50", "150", "1", "150", "2"]
    assert main("datasets --details --all".split()) == 2


@pytest.mark.parametrize("command", [[], ["fit"], ["evaluate"], ["predict"], ["datasets"]])
def test_help_of_every_command(command):
    result = subprocess.run(
        [sys.executable, "-m", "sparsetsc.cli", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "usage: sparsetsc" in result.stdout


def test_console_script_is_installed():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("sparsetsc") == "sparsetsc.cli:main"


@pytest.mark.parametrize("model", ["dsp-lite", "dsp-inception", "dsp-litetime"])
def test_dsp_from_the_command_line_reports_compression(model, toy_root, capsys):
    members = ["--members", "2"] if model.endswith("time") else []
    status = main(
        [
            *f"fit --model {model} --dataset Toy --data-root {toy_root} --epochs 2 --json "
            "--quiet --device cpu".split(),
            *members,
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert status == 0
    assert result["estimator"].startswith("DSP")
    assert 0 <= result["compression"] < 1 and 0 <= result["compression_all_params"] < 1
    # the pruned model is what "params" and "macs" describe; "before" is the unpruned one
    assert result["params_after"] == result["params"] <= result["params_before"]
    assert result["macs_after"] <= result["macs_before"]
    widths = result["kept_widths"]
    if members:
        assert len(widths) == 2
    else:
        assert ("blocks.0" in widths) == (model == "dsp-inception")


def test_fit_takes_a_precision_and_reports_what_ran(toy_root, capsys):
    command = f"fit --model lite --dataset Toy --data-root {toy_root} --epochs 1 --json --quiet "
    assert main([*command.split(), "--device", "cpu", "--precision", "bf16"]) == 0
    assert json.loads(capsys.readouterr().out)["precision"] == "bf16"
    with pytest.raises(SystemExit):
        main([*command.split(), "--precision", "fp16"])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err


# ---------------------------------------------------------------------- first use
KERNELS_MESSAGE = "compiling CPU kernels, first use only"


def _fit_in_a_fresh_process(toy_root, cache_dir) -> subprocess.CompletedProcess:
    command = (
        f"fit --model lite --dataset Toy --data-root {toy_root} --epochs 1 --device cpu --quiet"
    )
    return subprocess.run(
        [sys.executable, "-c", "from sparsetsc.cli import main; raise SystemExit(main())"]
        + command.split(),
        env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


def test_a_cold_cache_is_announced_once_and_a_warm_one_not(toy_root, tmp_path):
    cold = _fit_in_a_fresh_process(toy_root, tmp_path / "numba")
    assert cold.stderr.count(KERNELS_MESSAGE) == 1
    assert KERNELS_MESSAGE not in cold.stdout  # stdout holds the result only
    warm = _fit_in_a_fresh_process(toy_root, tmp_path / "numba")
    assert KERNELS_MESSAGE not in warm.stderr
    assert "torch_threads" in warm.stdout and "cpu" in warm.stdout


@pytest.mark.parametrize("as_json", [False, True])
def test_the_announcement_stays_off_json_runs(as_json, toy_root, monkeypatch, capsys):
    # In this process the kernels are compiled already: pretend each is about to compile.
    monkeypatch.setattr(kernels, "_will_compile", lambda kernel: True)
    monkeypatch.setattr(kernels, "_prepared", set())
    command = f"fit --model fcn --dataset Toy --data-root {toy_root} --epochs 1 --quiet"
    assert main([*command.split(), *(["--json"] if as_json else [])]) == 0
    captured = capsys.readouterr()
    assert (KERNELS_MESSAGE in captured.err) is not as_json
    if as_json:
        result = json.loads(captured.out)
        assert result["torch_threads"] >= 1 and result["cpu"]
