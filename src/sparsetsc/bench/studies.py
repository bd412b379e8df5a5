"""The papers' experiments as named, resumable studies on top of the sweep machinery.

A study is a list of labelled model variants (one row each in its report), the archive its
datasets come from, and two budgets: ``cpu``, a documented reduced protocol that finishes
in about an hour on 2 CPU cores, and ``full``, our reading of the published protocol. Every
variant is a sweep job like any other, written to the same runs directory: a variant with
no overrides (label = the model's display name, e.g. ``DSN``) shares its results with plain
``sparsetsc bench`` sweeps and with other studies at the same budget, so nothing is trained
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .suites import SUITES
from .sweep import Variant

__all__ = ["STUDIES", "Budget", "Study", "get_study"]


@dataclass(frozen=True)
class Budget:
    """Datasets, resamples (``seeds``) and epochs of one way of running a study."""

    datasets: tuple[str, ...]
    seeds: int
    epochs: int | None  # None: every model's published default
    note: str


@dataclass(frozen=True)
class Study:
    """A named experiment: variants, archive, budgets and what the paper reports."""

    name: str
    title: str
    reproduces: str
    archive: str  # the archive folder --data-root should point at
    variants: tuple[Variant, ...]
    budgets: dict[str, Budget]
    published: str  # the paper's figure next to ours, or why none is given
    reference: str = ""  # label of the variant the others are compared with (default: first)

    @property
    def reference_label(self) -> str:
        return self.reference or self.variants[0].name


def _variant(label: str, model: str, **params: Any) -> Variant:
    return Variant(label, model, tuple(sorted(params.items())))


# Small, fast UCR-2018 datasets of the dev suite (the 10 of the #6 sweep): each DSN fit at
# 100 epochs takes 5-30 s on 2 cores.
CPU_UCR = ("SonyAIBORobotSurface1", "SonyAIBORobotSurface2", "ItalyPowerDemand", "TwoLeadECG",
           "MoteStrain", "ECGFiveDays", "CBF", "Coffee", "GunPoint",
           "DiatomSizeReduction")  # fmt: skip
UEA = ("BasicMotions", "ArticularyWordRecognition", "UWaveGestureLibrary", "JapaneseVowels_eq")

_DSN_CPU = Budget(CPU_UCR, 1, 100, "10 small UCR-2018 sets, official split, 100 epochs "
                  "(published: 1000)")  # fmt: skip
_DSN_FULL = Budget(SUITES["dev"], 5, None, "the 60-set dev suite, 5 resamples, 1000 epochs "
                   "(the paper: 85 UCR-2015 sets)")  # fmt: skip
_DSP_CPU = Budget(CPU_UCR, 1, 300, "10 small UCR-2018 sets, official split, 300 epochs per "
                  "phase (published: 1500)")  # fmt: skip
_DSP_FULL = Budget(SUITES["dev"], 5, None, "the 60-set dev suite, 5 resamples, 1500 epochs "
                   "per phase (the paper: 128 UCR sets)")  # fmt: skip

_NO_DSN_TABLES = ("The DSN paper's tables are not in our reference material (the reference "
                  "report could not retrieve them); compare with arXiv 2212.09840.")  # fmt: skip

# density flag -> real sparsity of a k=39, 3-group layer: 1 - 2/3 * flag
_SPARSITY_FLAGS = ((50, 0.75), (80, 0.3), (90, 0.15))

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            name="dsn-sparsity",
            title="DSN: accuracy and cost against conv sparsity",
            reproduces="DSN paper, Table 3 (sparsity 50 / 80 / 90 % and dense)",
            archive="UCRArchive_2018",
            variants=(
                _variant("DSN", "dsn"),  # official flag 0.2: 86.7 % real sparsity
                *(_variant(f"DSN (sparsity {s} %)", "dsn", density=flag)
                  for s, flag in _SPARSITY_FLAGS),  # fmt: skip
                _variant("DSN (dense)", "dsn", dense=True),
            ),
            budgets={"cpu": _DSN_CPU, "full": _DSN_FULL},
            published=_NO_DSN_TABLES + " The paper reports 80 % as the best trade-off.",
        ),
        Study(
            name="dsn-architecture",
            title="DSN: depth and width",
            reproduces="DSN paper, Fig. 5 (depth and width grid)",
            archive="UCRArchive_2018",
            variants=tuple(
                (_variant("DSN", "dsn") if (depth, width) == (4, 47) else
                 _variant(f"DSN (depth {depth} width {width})", "dsn", depth=depth,
                          n_filters=width))
                for depth in (2, 4, 6) for width in (23, 47)
            ),  # fmt: skip
            budgets={"cpu": _DSN_CPU, "full": _DSN_FULL},
            published=_NO_DSN_TABLES,
        ),
        Study(
            name="dsn-groups",
            title="DSN: kernel groups against none at matched parameter count",
            reproduces="DSN paper, Table 4 (with / without groups)",
            archive="UCRArchive_2018",
            variants=(
                _variant("DSN", "dsn"),
                _variant("DSN (no groups; matched non-zeros)", "dsn", n_groups=1,
                         match_groups=3),
                _variant("DSN (no groups)", "dsn", n_groups=1),
            ),  # fmt: skip
            budgets={"cpu": _DSN_CPU, "full": _DSN_FULL},
            published=_NO_DSN_TABLES + " The paper reports a large gap without groups on "
            "datasets with local features (EEG2).",
        ),
        Study(
            name="dsn-topology",
            title="DSN: dynamic against fixed topology, random against gradient growth",
            reproduces="DSN paper, Fig. 7 (DSN-rand, DSN-grad, static sparse training)",
            archive="UCRArchive_2018",
            variants=(
                _variant("DSN", "dsn"),
                _variant("DSN (gradient growth)", "dsn", growth="gradient"),
                _variant("DSN (fixed topology)", "dsn", fix=True),
            ),
            budgets={"cpu": _DSN_CPU, "full": _DSN_FULL},
            published=_NO_DSN_TABLES + " The paper finds DSN-grad on par with DSN-rand.",
        ),
        Study(
            name="dsn-multivariate",
            title="DSN on multivariate UEA sets",
            reproduces="DSN paper, Table 2 (UEA; official UEA settings: 59 filters, "
            "density 0.1)",
            archive="UEAArchive_2018",
            variants=(
                _variant("DSN (UEA settings)", "dsn", n_filters=59, density=0.1),
                _variant("DSN", "dsn"),
                _variant("LITETime", "litetime"),
            ),
            budgets={
                "cpu": Budget(UEA, 1, 100, "the 4 local UEA sets, official split, 100 "
                              "epochs"),  # fmt: skip
                "full": Budget(UEA, 5, None, "the 4 local UEA sets, 5 resamples, published "
                               "epochs (the paper: 30 UEA sets)"),  # fmt: skip
            },
            published=_NO_DSN_TABLES,
        ),
        Study(
            name="dsp-lambda",
            title="DSP: strength of the sparsity loss",
            reproduces="DSP paper, lambda sweep",
            archive="UCRArchive_2018",
            variants=(
                _variant("DSP-LITE", "dsp-lite"),  # lambda = 1e-5, the published value
                _variant("DSP-LITE (lambda 0)", "dsp-lite", lam=0.0),
                _variant("DSP-LITE (lambda 1e-6)", "dsp-lite", lam=1e-6),
                _variant("DSP-LITE (lambda 1e-4)", "dsp-lite", lam=1e-4),
            ),
            budgets={"cpu": _DSP_CPU, "full": _DSP_FULL},
            published="The DSP paper uses lambda = 1e-5 (reference-dsp-lite-inception).",
        ),
        Study(
            name="dsp-recovery",
            title="DSP: retraining from scratch against fine-tuning against no recovery",
            reproduces="DSP paper, recovery ablation",
            archive="UCRArchive_2018",
            variants=(
                _variant("DSP-LITE", "dsp-lite"),  # scratch: the published setting
                _variant("DSP-LITE (fine-tune)", "dsp-lite", recovery="finetune"),
                _variant("DSP-LITE (no recovery)", "dsp-lite", recovery="none"),
                _variant("LITE", "lite"),
            ),
            budgets={"cpu": _DSP_CPU, "full": _DSP_FULL},
            published="The published accuracy parity rests on retraining from scratch.",
        ),
    )
}


def get_study(name: str) -> Study:
    """The study called ``name``; ``ValueError`` listing the others when there is none."""
    try:
        return STUDIES[name]
    except KeyError:
        raise ValueError(f"unknown study {name!r}; choose from {', '.join(STUDIES)}") from None
