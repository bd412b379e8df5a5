"""Start-up: ``import sparsetsc`` and the command's parser import nothing heavy.

Timings are measured by ``benchmarks/startup.py``; these tests check the cause, which does
not depend on the machine's load: the heavy libraries stay unimported until a command or
a name needs them, and the light name lists agree with the registries they stand for.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sparsetsc
from sparsetsc import _names

HEAVY = ("torch", "aeon", "numba", "sklearn", "pandas", "matplotlib", "onnx", "distributed")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import sparsetsc",
        "from sparsetsc.cli import build_parser; build_parser()",
        "from sparsetsc.cli import main\ntry:\n    main(['fit', '--model', 'nope'])\n"
        "except SystemExit:\n    pass",
    ],
    ids=["import", "parser", "argument-error"],
)
def test_nothing_heavy_is_imported_before_it_is_needed(code):
    loaded = _modules_after(code)
    assert [name for name in HEAVY if name in loaded] == []


def test_a_name_of_the_facade_imports_what_it_needs():
    loaded = _modules_after("from sparsetsc import LITEClassifier")
    assert "torch" in loaded and "sparsetsc.estimators" in loaded


@pytest.mark.parametrize("verbose", [False, True])
def test_only_a_shown_progress_bar_imports_the_notebook_one(verbose):
    # tqdm.auto warns as it is imported in a Jupyter kernel without ipywidgets, even for a
    # bar never shown: a quiet fit must not import it
    loaded = _modules_after(
        "import numpy as np\nfrom sparsetsc import LITEClassifier\n"
        "X = np.random.default_rng(0).normal(size=(6, 1, 16))\n"
        f"LITEClassifier(n_epochs=1, n_filters=2, verbose={verbose}).fit(X, [0, 1] * 3)"
    )
    assert "sparsetsc.train.loop" in loaded
    assert ("tqdm.auto" in loaded) is verbose


def test_the_facade_offers_every_estimator_and_loader():
    from sparsetsc import data, estimators

    assert set(sparsetsc.__all__) == {
        "__version__",
        "list_datasets",
        "load_dataset",
        "load_train_test",
        *estimators.__all__,
    }
    for name in sparsetsc.__all__:
        assert getattr(sparsetsc, name) is not None
    assert sparsetsc.load_dataset is data.load_dataset
    assert sparsetsc.data.znormalize is data.znormalize  # subpackages too, after the import
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sparsetsc.nope  # noqa: B018


def test_the_light_names_are_those_of_the_registries():
    from sparsetsc.bench import SEED_POLICIES, SUITES
    from sparsetsc.bench.models import PEERS
    from sparsetsc.estimators import MODELS
    from sparsetsc.train import DEFAULT_PRECISION, PRECISIONS

    assert set(_names.MODEL_KEYS) == set(MODELS)
    assert _names.PEER_KEYS == PEERS
    assert _names.SUITE_NAMES == tuple(SUITES)
    assert (_names.PRECISIONS, _names.DEFAULT_PRECISION) == (PRECISIONS, DEFAULT_PRECISION)
    assert _names.SEED_POLICIES == SEED_POLICIES
