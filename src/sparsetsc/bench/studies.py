"""The papers' experiments as named, resumable studies on top of the sweep machinery.

A study is a list of labelled model variants (one row each in its report), the archive its
datasets come from, and two budgets: ``cpu``, a documented reduced protocol that finishes
in 6 to 90 minutes on 2 CPU cores (three resamples, since one is a single draw of the
initial weights; ``dsp-ensembles`` about three hours), and ``full``, our reading of the
published protocol. Every variant is a sweep job like any other, written to the same runs
directory: a variant with no overrides (label = the model's display name, e.g. ``DSN``)
shares its results with plain ``sparsetsc bench`` sweeps and with other studies at the same
budget, so nothing is trained twice. Studies that analyse trained weights (eNRF, tap
heatmaps, redundancy) keep their fitted models next to the results (``keep_models``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..train import DEFAULT_PRECISION
from .jobs import DEFAULT_SEED_POLICY
from .models import DISPLAY_NAMES
from .suites import DEV_BY_COST, SUITES
from .sweep import Variant

__all__ = [
    "STUDIES",
    "UNIFORM_INCEPTIONTIME_8",
    "UNIFORM_LITETIME_16",
    "UNIFORM_OF_DSP_LITE",
    "Budget",
    "Study",
    "get_study",
]


@dataclass(frozen=True)
class Budget:
    """Datasets, resamples (``seeds``) and epochs of one way of running a study."""

    datasets: tuple[str, ...]
    seeds: int
    #: One budget for every model; ``((model key, epochs), ...)`` per model (a model not
    #: named trains its published default); ``None``: every model's published default.
    epochs: int | tuple[tuple[str, int], ...] | None
    note: str
    precision: str = DEFAULT_PRECISION
    seed_policy: str = DEFAULT_SEED_POLICY

    @property
    def sweep_epochs(self) -> int | dict[str, int] | None:
        """``epochs`` as :func:`~sparsetsc.bench.plan_sweep` takes it."""
        return dict(self.epochs) if isinstance(self.epochs, tuple) else self.epochs

    @property
    def epochs_text(self) -> str:
        """The epochs in words, for reports."""
        if self.epochs is None:
            return "each model's published default"
        if isinstance(self.epochs, tuple):
            named = ", ".join(f"{model} {epochs}" for model, epochs in self.epochs)
            return f"{named} (per phase for DSP; others their published default)"
        return str(self.epochs)


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
    pairs: tuple[tuple[str, str], ...] = ()  # (variant, compared with); default: vs reference
    #: extra report analyses (names in sparsetsc.report.study_sections.ANALYSES)
    analyses: tuple[str, ...] = ()
    keep_models: bool = False  # the analyses read the fitted models

    @property
    def reference_label(self) -> str:
        return self.reference or self.variants[0].name

    @property
    def comparisons(self) -> tuple[tuple[str, str], ...]:
        """The (variant, compared with) pairs of the report's W/T/L and Wilcoxon table."""
        if self.pairs:
            return self.pairs
        reference = self.reference_label
        return tuple((v.name, reference) for v in self.variants if v.name != reference)

    def chosen_variants(self, labels: str | None = None) -> tuple[Variant, ...]:
        """The variants named in ``labels`` (comma-separated; all of them when ``None``),
        with the DSP variants that chosen uniform controls are built from, in study order.

        Raises ``ValueError`` naming the study's variants when a label is not one of them.
        """
        if labels is None:
            return self.variants
        names = {label.strip() for label in labels.split(",") if label.strip()}
        known = {variant.name for variant in self.variants}
        if not names or names - known:
            unknown = ", ".join(sorted(names - known)) or "(none given)"
            raise ValueError(
                f"{self.name} has no variant {unknown}; it has {', '.join(sorted(known))}"
            )
        # A uniform control is built from its source's fitted model: run the source too.
        names |= {v.uniform_of for v in self.variants if v.name in names and v.uniform_of}
        return tuple(v for v in self.variants if v.name in names)


def _variant(label: str, model: str, **params: Any) -> Variant:
    return Variant(label, model, tuple(sorted(params.items())))


def _against_uniform(
    *families: tuple[str, str],
) -> tuple[tuple[Variant, ...], tuple[tuple[str, str], ...]]:
    """Variants and pairs of DSP against its uniform-width control and its unpruned backbone.

    A family is ``(DSP model key, backbone model key)``, e.g. ``("dsp-lite", "lite")``.
    """
    variants, pairs = [], []
    for dsp, backbone in families:
        dsp_label, backbone_label = DISPLAY_NAMES[dsp], DISPLAY_NAMES[backbone]
        uniform_label = f"{backbone_label} (uniform width)"
        variants += [
            _variant(dsp_label, dsp),
            _variant(uniform_label, dsp, widths="uniform"),
            _variant(backbone_label, backbone),
        ]
        pairs += [
            (dsp_label, uniform_label),
            (dsp_label, backbone_label),
            (uniform_label, backbone_label),
        ]
    return tuple(variants), tuple(pairs)


_SINGLE_AGAINST_UNIFORM = _against_uniform(("dsp-lite", "lite"), ("dsp-inception", "inception"))
_ENSEMBLES_AGAINST_UNIFORM = _against_uniform(
    ("dsp-litetime", "litetime"), ("dsp-inceptiontime", "inceptiontime")
)


# Small, fast UCR-2018 datasets of the dev suite (the 10 of the #6 sweep): each DSN fit at
# 100 epochs takes 5-30 s on 2 cores.
CPU_UCR = (
    "SonyAIBORobotSurface1",
    "SonyAIBORobotSurface2",
    "ItalyPowerDemand",
    "TwoLeadECG",
    "MoteStrain",
    "ECGFiveDays",
    "CBF",
    "Coffee",
    "GunPoint",
    "DiatomSizeReduction",
)
UEA = ("BasicMotions", "ArticularyWordRecognition", "UWaveGestureLibrary", "JapaneseVowels_eq")

_DSN_CPU = Budget(
    CPU_UCR,
    3,
    100,
    "10 small UCR-2018 sets, resamples 0-2 (0 = official split), 100 epochs (published: 1000)",
)
_DSN_FULL = Budget(
    SUITES["dev"],
    5,
    None,
    "the 60-set dev suite, 5 resamples, 1000 epochs (the paper: 85 UCR-2015 sets)",
)
_DSP_CPU = Budget(
    CPU_UCR,
    3,
    300,
    "10 small UCR-2018 sets, resamples 0-2 (0 = official split), 300 epochs per phase "
    "(published: 1500)",
)
_DSP_FULL = Budget(
    SUITES["dev"],
    5,
    None,
    "the 60-set dev suite, 5 resamples, 1500 epochs per phase (the paper: 128 UCR sets)",
)

_PUBLISHED_AGAINST_UNIFORM = (
    "Authors (5-member ensembles, 128 UCR sets): DSP removes 58 % of LITETime's and 75 % of "
    "InceptionTime's trainable parameters. At matched compression, uniform LITE (16 filters, "
    "58.5 %) is significantly less accurate than LITETime (Wilcoxon p = 0.0044) while "
    "DSP-LITETime is not (p = 0.37); uniform InceptionTime (8 filters per branch, 77 %) "
    "reaches a mean accuracy of 0.8439 / 0.8452 (two runs) against 0.8409 for "
    "DSP-InceptionTime (p = 0.20): at least as accurate."
)

_UEA_CPU = Budget(
    UEA, 3, 100, "the 4 local UEA sets, resamples 0-2 (0 = official split), 100 epochs"
)
_UEA_FULL = Budget(
    UEA, 5, None, "the 4 local UEA sets, 5 resamples, published epochs (the paper: 30 UEA sets)"
)
_ENSEMBLES_CPU = Budget(
    ("SonyAIBORobotSurface1", "ItalyPowerDemand", "TwoLeadECG", "GunPoint"),
    3,
    300,
    "4 small UCR-2018 sets, resamples 0-2 (0 = official split), 300 epochs per phase "
    "(published: 1500); about three hours with --n-jobs 2",
)

_REPRODUCE_CPU = Budget(
    CPU_UCR,
    3,
    (
        ("lite", 300),
        ("dsp-lite", 300),
        ("dsn", 100),
        ("inception", 300),
        ("dsp-inception", 300),
    ),
    "10 small UCR-2018 sets, resamples 0-2 (0 = official split), the other cpu studies' epochs "
    "(LITE and Inception 300, DSP-LITE and DSP-Inception 300 per phase, DSN 100, the same for "
    "every ensemble member; published: 1500, 1500 + 1500, 1000), so their results are "
    "shared; a check of the pipeline, not a reproduction",
)
_REPRODUCE_FULL = Budget(
    DEV_BY_COST,
    1,
    None,
    "the 60-set dev suite cheapest first, official split (resample 0), each model's published "
    "recipe and epochs: LITE 1500; DSP-LITE lambda 1e-5, 1500 sparsity epochs, then 1500 "
    "retrained from scratch; the uniform-width LITE at DSP-LITE's trainable size 1500; DSN "
    "1000 with the official flags; Inception 1500; DSP-Inception lambda 1e-5, 1500 + 1500; "
    "MiniROCKET in-run. Single models (the papers report 5-member ensembles: DSP on 128 UCR "
    "sets, DSN on 85 UCR-2015 sets), and the DSP paper's 5-member ensembles, each member a "
    "job of its own whose first member is the single model's job: LITETime and "
    "InceptionTime (1500 per member), DSP-LITETime and DSP-InceptionTime (each member "
    "pruned on its own, 1500 + 1500), and the authors' uniform controls, LITETime of 16 "
    "filters and InceptionTime of 8 filters per branch (1500)",
)
#: Label of the reproduction's uniform-width LITE at each fitted DSP-LITE's size.
UNIFORM_OF_DSP_LITE = "LITE (uniform width of DSP-LITE)"
#: Label of the DSP authors' uniform control for InceptionTime: every member 8 filters per
#: branch instead of 32, the bottleneck staying 32 (77 % fewer trainable parameters, their
#: match for DSP-InceptionTime's 75 %). A fixed width, as the authors ran it, not a width
#: taken from each fitted DSP model (that is ``dsp-ensembles``' ``widths="uniform"``).
UNIFORM_INCEPTIONTIME_8 = "InceptionTime (8 filters per branch)"
#: Label of the DSP authors' uniform control for LITETime: every member LITE with 16
#: filters per branch instead of 32 (58.5 % fewer trainable parameters, their match for
#: DSP-LITETime's 58.2 %), a fixed width as the authors ran it.
UNIFORM_LITETIME_16 = "LITETime (16 filters per branch)"


def _ensemble_of(label: str, single: str, model: str, **params: Any) -> Variant:
    """A 5-member ensemble run as member jobs, its first member the job labelled ``single``."""
    return Variant(label, model, tuple(sorted(params.items())), members=5, member_label=single)


_NO_DSN_TABLES = (
    "The DSN paper's tables are not in our reference material (the reference "
    "report could not retrieve them); compare with arXiv 2212.09840."
)

# density flag -> real sparsity of a k=39, 3-group layer: 1 - 2/3 * flag
_SPARSITY_FLAGS = ((50, 0.75), (80, 0.3), (90, 0.15))


def _dsn_study(
    name: str,
    title: str,
    reproduces: str,
    variants: tuple[Variant, ...],
    published: str = "",
    **options: Any,
) -> Study:
    """A study of the DSN paper: UCR-2018 sets at DSN's budgets unless ``options`` say
    otherwise; ``published`` adds to the note that the paper's tables are not at hand."""
    settings = {"archive": "UCRArchive_2018", "budgets": {"cpu": _DSN_CPU, "full": _DSN_FULL}}
    published = f"{_NO_DSN_TABLES} {published}".strip()
    return Study(
        name, title, reproduces, variants=variants, published=published, **{**settings, **options}
    )


def _dsp_study(
    name: str,
    title: str,
    reproduces: str,
    variants: tuple[Variant, ...],
    published: str,
    **options: Any,
) -> Study:
    """A study of the DSP paper: UCR-2018 sets at DSP's budgets unless ``options`` say
    otherwise."""
    settings = {"archive": "UCRArchive_2018", "budgets": {"cpu": _DSP_CPU, "full": _DSP_FULL}}
    return Study(
        name, title, reproduces, variants=variants, published=published, **{**settings, **options}
    )


_DSN_GRID = tuple(
    _variant("DSN", "dsn")  # the published configuration, in the middle of the grid
    if (depth, width) == (4, 47)
    else _variant(f"DSN (depth {depth} width {width})", "dsn", depth=depth, n_filters=width)
    for depth in (2, 4, 6)
    for width in (23, 47)
)

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        _dsn_study(
            "dsn-sparsity",
            "DSN: accuracy and cost against conv sparsity",
            "DSN paper, Table 3 (sparsity 50 / 80 / 90 % and dense)",
            (
                _variant("DSN", "dsn"),  # official flag 0.2: 86.7 % real sparsity
                *(
                    _variant(f"DSN (sparsity {s} %)", "dsn", density=flag)
                    for s, flag in _SPARSITY_FLAGS
                ),
                _variant("DSN (dense)", "dsn", dense=True),
            ),
            "The paper reports 80 % as the best trade-off.",
            analyses=("density",),
        ),
        _dsn_study(
            "dsn-architecture",
            "DSN: depth and width",
            "DSN paper, Fig. 5 (depth and width grid)",
            _DSN_GRID,
            reference="DSN",
        ),
        _dsn_study(
            "dsn-groups",
            "DSN: kernel groups against none at matched parameter count",
            "DSN paper, Table 4 and Fig. 6 (with / without groups; eNRF distributions)",
            (
                _variant("DSN", "dsn"),
                _variant("DSN (no groups; matched non-zeros)", "dsn", n_groups=1, match_groups=3),
                _variant("DSN (no groups)", "dsn", n_groups=1),
            ),
            "The paper reports a large gap without groups on datasets with local features "
            "(EEG2), and eNRF distributions in which the groups with larger regions learn "
            "wider receptive fields.",
            analyses=("enrf",),
            keep_models=True,
        ),
        _dsn_study(
            "dsn-topology",
            "DSN: dynamic against fixed topology, random against gradient growth",
            "DSN paper, Fig. 7 (DSN-rand, DSN-grad, static sparse training)",
            (
                _variant("DSN", "dsn"),
                _variant("DSN (gradient growth)", "dsn", growth="gradient"),
                _variant("DSN (fixed topology)", "dsn", fix=True),
            ),
            "The paper finds DSN-grad on par with DSN-rand.",
        ),
        _dsn_study(
            "dsn-heatmaps",
            "DSN: activated weights of trained models",
            "DSN paper, Fig. 8 (heatmaps of the active taps per kernel group)",
            (_variant("DSN", "dsn"),),
            "The paper's heatmaps show each group using taps across its whole search region, "
            "with different patterns per dataset.",
            analyses=("tap_heatmaps",),
            keep_models=True,
        ),
        _dsn_study(
            "dsn-multivariate",
            "DSN on multivariate UEA sets",
            "DSN paper, Table 2 (UEA; official UEA settings: 59 filters, density 0.1)",
            (
                _variant("DSN (UEA settings)", "dsn", n_filters=59, density=0.1),
                _variant("DSN", "dsn"),
                _variant("LITETime", "litetime"),
            ),
            archive="UEAArchive_2018",
            budgets={"cpu": _UEA_CPU, "full": _UEA_FULL},
        ),
        _dsp_study(
            "dsp-lambda",
            "DSP: strength of the sparsity loss",
            "DSP paper, lambda sweep",
            (
                _variant("DSP-LITE", "dsp-lite"),  # lambda = 1e-5, the published value
                _variant("DSP-LITE (lambda 0)", "dsp-lite", lam=0.0),
                _variant("DSP-LITE (lambda 1e-6)", "dsp-lite", lam=1e-6),
                _variant("DSP-LITE (lambda 1e-4)", "dsp-lite", lam=1e-4),
            ),
            "The authors' models use lambda = 1e-5 (also explored: 2e-5, 1e-4, 1e-6, 1e-7; no "
            "per-lambda table was kept). At 1e-5 and 1500 epochs, LITETime loses 58 % of its "
            "trainable parameters and keeps, of 32 per branch, 14.6 (k40), 9.1 (k20), 8.6 "
            "(k10), 16.7 (FCN1) and 12.0 (FCN2) channels (reference-dsp-lite-inception §1.6).",
            analyses=("compression", "kept_widths"),
        ),
        _dsp_study(
            "dsp-recovery",
            "DSP: retraining from scratch against fine-tuning against no recovery",
            "DSP paper, recovery ablation",
            (
                _variant("DSP-LITE", "dsp-lite"),  # scratch: the published setting
                _variant("DSP-LITE (fine-tune)", "dsp-lite", recovery="finetune"),
                _variant("DSP-LITE (no recovery)", "dsp-lite", recovery="none"),
                _variant("LITE", "lite"),
            ),
            "Authors (5-member ensembles, 128 UCR sets, Wilcoxon against the unpruned "
            "ensemble): LITETime against DSP-LITETime retrained from scratch p = 0.37, "
            "fine-tuned 500 epochs p = 1e-10, not retrained p = 6e-18; InceptionTime against "
            "DSP-InceptionTime from scratch p = 0.10, fine-tuned p = 0.009. The published "
            "accuracy parity rests on retraining from scratch.",
            analyses=("compression",),
        ),
        _dsp_study(
            "dsp-uniform",
            "DSP against uniform width at matched compression (LITE and Inception)",
            "DSP authors' uniform-width control (reference-dsp-lite-inception §1.6)",
            _SINGLE_AGAINST_UNIFORM[0],
            _PUBLISHED_AGAINST_UNIFORM,
            pairs=_SINGLE_AGAINST_UNIFORM[1],
            analyses=("compression",),
            keep_models=True,  # dsp-layers analyses the same models
        ),
        _dsp_study(
            "dsp-ensembles",
            "DSP-LITETime and DSP-InceptionTime against their ensembles and uniform-width "
            "ensembles",
            "DSP paper, main comparison (5-member ensembles) with the authors' uniform-width "
            "control",
            _ENSEMBLES_AGAINST_UNIFORM[0],
            _PUBLISHED_AGAINST_UNIFORM,
            budgets={"cpu": _ENSEMBLES_CPU, "full": _DSP_FULL},
            pairs=_ENSEMBLES_AGAINST_UNIFORM[1],
            analyses=("compression",),
        ),
        Study(
            "reproduce",
            "Both papers at their published budgets: LITE, DSP-LITE, its uniform-width "
            "control, DSN, Inception, DSP-Inception, MiniROCKET, and as ensembles LITETime, "
            "DSP-LITETime, InceptionTime, DSP-InceptionTime and the authors' uniform "
            "LITETime of 16 and InceptionTime of 8 filters",
            "DSP paper (LITE, DSP-LITE, uniform control, Inception, DSP-Inception; "
            "LITETime, DSP-LITETime, InceptionTime, DSP-InceptionTime and the authors' "
            "uniform controls as 5-member ensembles) and DSN paper (DSN) main results",
            archive="UCRArchive_2018",
            variants=(
                _variant("LITE", "lite"),
                _variant("DSP-LITE", "dsp-lite"),
                Variant(UNIFORM_OF_DSP_LITE, "lite", uniform_of="DSP-LITE"),
                _variant("DSN", "dsn"),
                _variant("Inception", "inception"),
                _variant("DSP-Inception", "dsp-inception"),
                _variant("MiniROCKET", "minirocket"),
                _ensemble_of("LITETime", "LITE", "lite"),
                _ensemble_of("DSP-LITETime", "DSP-LITE", "dsp-lite"),
                _ensemble_of(
                    UNIFORM_LITETIME_16, "LITE (16 filters per branch)", "lite", n_filters=16
                ),
                _ensemble_of("InceptionTime", "Inception", "inception"),
                _ensemble_of("DSP-InceptionTime", "DSP-Inception", "dsp-inception"),
                _ensemble_of(
                    UNIFORM_INCEPTIONTIME_8,
                    "Inception (8 filters per branch)",
                    "inception",
                    n_filters=8,
                ),
            ),
            budgets={"cpu": _REPRODUCE_CPU, "full": _REPRODUCE_FULL},
            published="Authors (5-member ensembles, 128 UCR sets): DSP removes 58.2 % of "
            "LITETime's trainable parameters (55.8 % counting the frozen filters) without a "
            "significant loss (Wilcoxon p = 0.37), while a uniform LITE of 16 filters (58.5 %) "
            "loses significantly (p = 0.0044). DSP removes 74.5 % of InceptionTime's parameters "
            "(DSP-InceptionTime against InceptionTime p = 0.104, W/T/L 41/26/61); the uniform "
            "InceptionTime of 8 filters per branch (77 %) against InceptionTime p = 0.43, "
            "against DSP-InceptionTime p = 0.20. DSN (85 UCR-2015 sets) claims "
            "state-of-the-art accuracy at under 50 % of the baselines' FLOPs.",
            pairs=(
                ("DSP-LITE", "LITE"),
                (UNIFORM_OF_DSP_LITE, "LITE"),
                ("DSP-LITE", UNIFORM_OF_DSP_LITE),
                ("DSN", "LITE"),
                ("DSN", "MiniROCKET"),
                ("LITE", "MiniROCKET"),
                ("DSP-Inception", "Inception"),
                ("DSP-LITETime", "LITETime"),
                (UNIFORM_LITETIME_16, "LITETime"),
                ("DSP-LITETime", UNIFORM_LITETIME_16),
                ("DSP-InceptionTime", "InceptionTime"),
                (UNIFORM_INCEPTIONTIME_8, "InceptionTime"),
                (UNIFORM_INCEPTIONTIME_8, "DSP-InceptionTime"),
            ),
            analyses=("compression", "kept_widths"),
        ),
        _dsp_study(
            "dsp-layers",
            "DSP per layer: redundancy before and after, kept widths",
            "DSP authors' redundancy analysis and surviving widths "
            "(reference-dsp-lite-inception §1.6)",
            (
                _variant("LITE", "lite"),
                _variant("DSP-LITE (no recovery)", "dsp-lite", recovery="none"),
                _variant("DSP-LITE", "dsp-lite"),
                _variant("Inception", "inception"),
                _variant("DSP-Inception (no recovery)", "dsp-inception", recovery="none"),
                _variant("DSP-Inception", "dsp-inception"),
            ),
            "Authors (base LITE against the sparsity-trained LITE, training-set feature maps): "
            "layer-1 mutual-information sum ACSF1 746 -> 67, Coffee 583 -> 1.7, BeetleFly 307 "
            "-> 2.0, Wilcoxon p = 3.8e-6 over the datasets; kept LITE widths of 32: 14.6 (k40), "
            "9.1 (k20), 8.6 (k10), 16.7 (FCN1), 12.0 (FCN2).",
            pairs=(
                ("DSP-LITE (no recovery)", "LITE"),
                ("DSP-LITE", "LITE"),
                ("DSP-Inception (no recovery)", "Inception"),
                ("DSP-Inception", "Inception"),
            ),
            analyses=("kept_widths", "redundancy"),
            keep_models=True,
        ),
    )
}


def get_study(name: str) -> Study:
    """The study called ``name``; ``ValueError`` listing the others when there is none."""
    try:
        return STUDIES[name]
    except KeyError:
        raise ValueError(f"unknown study {name!r}; choose from {', '.join(STUDIES)}") from None
