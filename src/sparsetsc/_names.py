"""The names the library's registries answer to, free of heavy imports.

The command line builds its parser from these, so that ``sparsetsc --help`` and a mistyped
argument answer without importing torch, aeon or numba. The precisions and seed policies
are defined here and used by :mod:`sparsetsc.train` and :mod:`sparsetsc.bench`; the model
keys and suite names are those of ``estimators.MODELS``, ``bench.models.PEERS`` and
``bench.suites.SUITES``, which a test keeps equal to them.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_PRECISION",
    "DEFAULT_SEED_POLICY",
    "MODEL_KEYS",
    "PEER_KEYS",
    "PRECISIONS",
    "SEED_POLICIES",
    "SUITE_NAMES",
]

#: Keys of the deep models (``sparsetsc.estimators.MODELS``).
MODEL_KEYS = (
    "dsn",
    "dsp-inception",
    "dsp-inceptiontime",
    "dsp-lite",
    "dsp-litetime",
    "fcn",
    "hinceptiontime",
    "inception",
    "inceptiontime",
    "lite",
    "litetime",
)
#: ROCKET-family peers from aeon (``sparsetsc.bench.models.PEERS``).
PEER_KEYS = ("rocket", "minirocket")

PRECISIONS = ("fp32", "bf16", "auto")
#: What every estimator, sweep and the command line use unless told otherwise.
DEFAULT_PRECISION = "fp32"

#: How a sweep job's model seed is chosen: from (dataset, resample), or the resample alone.
SEED_POLICIES = ("dataset", "resample")
DEFAULT_SEED_POLICY = "dataset"

#: Names of the dataset suites (``sparsetsc.bench.suites.SUITES``).
SUITE_NAMES = ("smoke", "dev", "dev-by-cost", "dev-large", "uea-dev")
