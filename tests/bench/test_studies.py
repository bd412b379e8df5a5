"""Named studies: the list, every study end to end on a tiny budget, reuse of finished jobs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import sparsetsc
from sparsetsc.bench import Variant, make_estimator, plan_sweep, read_result
from sparsetsc.bench.ensembles import member_label
from sparsetsc.bench.studies import STUDIES, get_study
from sparsetsc.cli import main
from sparsetsc.report.study_sections import ANALYSES

TINY = ["--datasets", "TinyA,TinyB", "--seeds", "1", "--epochs", "2", "--quiet"]


def test_list_shows_every_study(capsys):
    assert main("study --list".split()) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(STUDIES)
    assert {
        "dsn-sparsity",
        "dsn-architecture",
        "dsn-groups",
        "dsn-topology",
        "dsn-heatmaps",
        "dsn-multivariate",
        "dsp-lambda",
        "dsp-recovery",
        "dsp-uniform",
        "dsp-ensembles",
        "dsp-layers",
    } <= set(listed)


def test_studies_name_known_analyses_and_variants():
    for study in STUDIES.values():
        assert set(study.analyses) <= set(ANALYSES), study.name
        labels = {v.name for v in study.variants}
        assert all({a, b} <= labels for a, b in study.comparisons), study.name


#: Datasets of the tiny end-to-end runs; one for the studies of 5-member ensembles (each
#: trains 30 or more networks a dataset, each DSP member with its own width search).
TINY_DATASETS = {"dsp-ensembles": ["TinyA"], "reproduce": ["TinyA"]}


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_runs_end_to_end_and_writes_its_section(name, tiny_archive, tmp_path, capsys):
    study = get_study(name)
    runs = tmp_path / "runs"
    datasets = TINY_DATASETS.get(name, ["TinyA", "TinyB"])
    n = len(datasets)
    command = (
        f"study {name} --data-root {tiny_archive} --runs {runs} --datasets {','.join(datasets)}"
    )
    assert main([*command.split(), *TINY[2:]]) == 0
    out = capsys.readouterr().out
    # one job per variant, except ensembles of member jobs: one per member (the first may be
    # a single-model variant's job), and their result written from the members'
    folders = {v.name for v in study.variants if not v.members} | {
        member_label(v.member_label, k) for v in study.variants for k in range(v.members)
    }
    assert out.startswith(f"{n * len(folders)} jobs done, 0 failed")
    ensembles = [v for v in study.variants if v.members]
    if ensembles:
        assert f"ensembles of member jobs: {n * len(ensembles)} written from their members" in out
    section = out[out.index("## ") :]
    assert section.startswith(f"## {study.title} (`{name}`, cpu budget)")
    assert "Published:" in section and "missing" not in section
    # the protocol printed is the one that ran, not the budget's default
    protocol = section[section.index("Protocol: ") :].split(". Datasets")[0]
    assert re.fullmatch(
        rf"Protocol: {n} dataset\(s\), 1 resample\(s\), 2 epochs( per phase)? \(the cpu "
        r"budget with datasets and seeds and epochs set on the command line\)",
        protocol,
    ), protocol
    summary = pd.read_csv(runs / "studies" / f"{name}-cpu-summary.csv", index_col=0)
    labels = [v.label for v in study.variants]
    sources = {v.uniform_of for v in study.variants}  # their models give uniform controls
    assert list(summary.index) == labels
    assert (summary["datasets"] == n).all()
    assert summary["mean accuracy"].between(0, 1).all()
    assert (runs / "studies" / f"{name}-cpu.md").read_text().startswith("## ")
    # every variant wrote its own results folder, one file per dataset
    for label in labels:
        assert len(list((runs / label / "Predictions").glob("*/testResample0.csv"))) == n
        models = list((runs / label / "Models").glob("*/resample0"))
        assert len(models) == (n if study.keep_models or label in sources else 0)
    comparisons = pd.read_csv(runs / "studies" / f"{name}-cpu-comparisons.csv")
    assert list(zip(comparisons["A"], comparisons["B"], strict=True)) == list(study.comparisons)
    assert (comparisons["datasets"] == n).all()
    # every analysis found what it analyses and wrote its table
    assert "\nNo " not in section
    for analysis in study.analyses:
        assert list((runs / "studies").glob(f"{name}-cpu-*.csv")), analysis
    CHECKS.get(name, lambda runs, section: None)(runs, section)


def _check_matched_compression(runs, study, backbones):
    """DSP and its uniform control removed about as much, the control at a real width."""
    table = pd.read_csv(runs / "studies" / f"{study}-cpu-compression.csv", index_col=0)
    for backbone in backbones:
        dsp, uniform = table.loc[f"DSP-{backbone}"], table.loc[f"{backbone} (uniform width)"]
        assert np.isnan(dsp["uniform width"]) and 1 <= uniform["uniform width"] <= 32
        # matched: the closest uniform width, a few per cent of the backbone apart
        assert abs(dsp["compression (trainable)"] - uniform["compression (trainable)"]) < 0.05


def _check_dsp_uniform(runs, section):
    _check_matched_compression(runs, "dsp-uniform", ("LITE", "Inception"))
    # the uniform control's model is the plain backbone at its width
    control = sparsetsc.load(runs / "LITE (uniform width)" / "Models" / "TinyA" / "resample0")
    assert set(control.kept_widths_.values()) >= {control.uniform_width_}


def _check_dsp_layers(runs, section):
    redundancy = pd.read_csv(runs / "studies" / "dsp-layers-cpu-redundancy.csv")
    assert set(redundancy["variant"]) == {v.name for v in get_study("dsp-layers").variants}
    assert (redundancy.groupby("variant").size().loc[["LITE", "Inception"]] == [3, 6]).all()
    assert (redundancy[["effective_rank", "energy95"]].stack().between(0, 1)).all()
    widths = pd.read_csv(runs / "studies" / "dsp-layers-cpu-kept-widths.csv")
    lite = widths[widths["model"] == "dsp-lite"]
    assert list(lite["published (LITETime)"]) == [14.6, 9.1, 8.6, 16.7, 12.0]
    assert lite["DSP-LITE"].between(1, 32).all()


def _check_dsn_heatmaps(runs, section):
    for dataset in ("TinyA", "TinyB"):
        assert (runs / "studies" / f"dsn-heatmaps-cpu-heatmaps-{dataset}.png").stat().st_size
        assert f"(dsn-heatmaps-cpu-heatmaps-{dataset}.png)" in section
    usage = pd.read_csv(runs / "studies" / "dsn-heatmaps-cpu-tap-usage.csv")
    assert len(usage) == 2 * 4 * 3  # datasets x DSN layers x kernel groups
    assert usage["taps in use"].between(0, 1).all() and (usage["taps in use"] > 0).all()


def _check_dsn_groups(runs, section):
    enrf = pd.read_csv(runs / "studies" / "dsn-groups-cpu-enrf.csv")
    assert enrf.groupby("variant").size().to_dict() == {
        "DSN": 12,
        "DSN (no groups)": 4,
        "DSN (no groups; matched non-zeros)": 4,
    }
    assert (runs / "studies" / "dsn-groups-cpu-enrf.png").stat().st_size


def _check_dsn_sparsity(runs, section):
    density = pd.read_csv(runs / "studies" / "dsn-sparsity-cpu-density.csv", index_col=0)
    sparsity = density["conv sparsity"]
    assert sparsity["DSN (dense)"] == 0
    # the density flag is relative to each group's region: real sparsity 1 - 2/3 * flag
    for label, expected in (
        ("DSN (sparsity 50 %)", 0.5),
        ("DSN (sparsity 80 %)", 0.8),
        ("DSN (sparsity 90 %)", 0.9),
    ):
        assert sparsity[label] == pytest.approx(expected, abs=0.02)


def _check_dsp_ensembles(runs, section):
    # compression summed over the 5 members; each uniform member matched to its own DSP member
    _check_matched_compression(runs, "dsp-ensembles", ("LITETime", "InceptionTime"))
    result = runs / "DSP-LITETime" / "Predictions" / "TinyA" / "testResample0.csv"
    fitted = read_result(result).metadata["fitted"]
    assert len(fitted["members"]) == 5 and fitted["compression_"]["trainable"] > 0


def _check_reproduce(runs, section):
    # The uniform control was built from the fitted DSP-LITE of its dataset (the width its
    # uniform_control() gives), with this sweep's epochs, and trained without a sparsity phase.
    for dataset in TINY_DATASETS["reproduce"]:
        dsp = sparsetsc.load(runs / "DSP-LITE" / "Models" / dataset / "resample0")
        predictions = runs / "LITE (uniform width of DSP-LITE)" / "Predictions"
        control = read_result(predictions / dataset / "testResample0.csv").metadata
        assert control["uniform_of"] == "DSP-LITE" and control["estimator"] == "LITEClassifier"
        assert control["uniform_width"] == dsp.uniform_control().n_filters
        assert 1 <= control["uniform_width"] <= 32
        assert control["requested_epochs"] == 2 and control["epochs"] == 2
        # the authors' uniform InceptionTime: a quarter of the width, about a quarter the size
        params = {
            label: read_result(
                runs / label / "Predictions" / dataset / "testResample0.csv"
            ).metadata["params_trainable"]
            for label in ("InceptionTime", "InceptionTime (8 filters per branch)")
        }
        assert 0.2 < params["InceptionTime (8 filters per branch)"] / params["InceptionTime"] < 0.3


CHECKS = {
    "reproduce": _check_reproduce,
    "dsp-uniform": _check_dsp_uniform,
    "dsp-ensembles": _check_dsp_ensembles,
    "dsp-layers": _check_dsp_layers,
    "dsn-heatmaps": _check_dsn_heatmaps,
    "dsn-groups": _check_dsn_groups,
    "dsn-sparsity": _check_dsn_sparsity,
}


def test_studies_reuse_finished_jobs(tiny_archive, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    assert main([*f"study dsn-groups --data-root {tiny_archive} --runs {runs}".split(), *TINY]) == 0
    capsys.readouterr()
    # dsn-topology shares its plain DSN variant with dsn-groups: 2 of its 6 jobs are done
    plan = plan_sweep(
        get_study("dsn-topology").variants,
        ["TinyA", "TinyB"],
        [0],
        runs,
        epochs=2,
        data_root=str(tiny_archive),
    )
    assert len(plan.finished) == 2 and len(plan.to_run) == 4
    assert {job.name for job in plan.finished} == {"DSN"}


def test_variants_are_checked_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="share the results folder"):
        plan_sweep(
            [Variant("", "dsn"), Variant("DSN", "dsn", (("fix", True),))],
            ["GunPoint"],
            [0],
            tmp_path,
            check_data=False,
        )
    with pytest.raises(ValueError, match="may not hold"):
        plan_sweep([Variant("DSN, fixed", "dsn")], ["GunPoint"], [0], tmp_path, check_data=False)
    with pytest.raises(ValueError, match="unknown model"):
        plan_sweep([Variant("X", "nope")], ["GunPoint"], [0], tmp_path, check_data=False)
    assert not any(tmp_path.iterdir())


def test_unknown_study_is_a_clear_error(capsys):
    assert main("study dsn-everything".split()) == 2
    assert "unknown study 'dsn-everything'" in capsys.readouterr().err


def test_a_study_keeping_models_refits_finished_jobs_without_one(tiny_archive, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    # a plain sweep finishes DSN without keeping models ...
    one_job = [
        "--datasets",
        "TinyA",
        "--seeds",
        "1",
        "--epochs",
        "2",
        "--quiet",
        "--data-root",
        str(tiny_archive),
        "--runs",
        runs,
    ]
    assert main([*"bench --models dsn".split(), *one_job]) == 0

    def keeping_dsn_plan():
        dsn = [Variant("", "dsn")]
        return plan_sweep(
            dsn, ["TinyA"], [0], runs, epochs=2, data_root=str(tiny_archive), save_models=True
        )

    plan = keeping_dsn_plan()
    # ... so a sweep that keeps them runs it again; one that does not reuses it
    assert [job.name for job in plan.without_model] == ["DSN"] and len(plan.to_run) == 1
    assert not plan_sweep(
        [Variant("", "dsn")], ["TinyA"], [0], runs, epochs=2, data_root=str(tiny_archive)
    ).to_run
    assert main([*"study dsn-heatmaps".split(), *one_job]) == 0
    assert capsys.readouterr().out.startswith("1 jobs done")
    model = sparsetsc.load(tmp_path / "runs" / "DSN" / "Models" / "TinyA" / "resample0")
    assert model.real_density_ == pytest.approx(2 / 3 * 0.2, abs=0.01)
    plan = keeping_dsn_plan()
    assert not plan.to_run and len(plan.finished) == 1


def test_reproduce_runs_the_dsp_papers_ensembles_with_the_authors_uniform_controls():
    from sparsetsc.bench.studies import UNIFORM_INCEPTIONTIME_8, UNIFORM_LITETIME_16
    from sparsetsc.cost import estimator_cost
    from sparsetsc.cost.counting import count_parameters
    from sparsetsc.nn.inception import Inception, InceptionConfig

    study = get_study("reproduce")
    variants = {v.name: v for v in study.variants}
    # 5-member ensembles as member jobs, the first member being the single model's job
    expected = {
        "LITETime": ("lite", {}, "LITE"),
        "DSP-LITETime": ("dsp-lite", {}, "DSP-LITE"),
        UNIFORM_LITETIME_16: ("lite", {"n_filters": 16}, "LITE (16 filters per branch)"),
        "InceptionTime": ("inception", {}, "Inception"),
        "DSP-InceptionTime": ("dsp-inception", {}, "DSP-Inception"),
        UNIFORM_INCEPTIONTIME_8: (
            "inception",
            {"n_filters": 8},
            "Inception (8 filters per branch)",
        ),
    }
    for label, (model, params, single) in expected.items():
        variant = variants[label]
        assert (variant.model, dict(variant.params), variant.member_label) == (
            model,
            params,
            single,
        )
        assert variant.members == 5 and not variant.uniform_of
    for single in ("LITE", "DSP-LITE", "Inception", "DSP-Inception"):
        assert variants[single].members == 0  # shared with the ensemble's first member
    assert {
        ("DSP-LITETime", "LITETime"),
        (UNIFORM_LITETIME_16, "LITETime"),
        ("DSP-LITETime", UNIFORM_LITETIME_16),
        ("DSP-InceptionTime", "InceptionTime"),
        (UNIFORM_INCEPTIONTIME_8, "InceptionTime"),
        (UNIFORM_INCEPTIONTIME_8, "DSP-InceptionTime"),
    } <= set(study.comparisons)

    # the authors' count: trainable parameters without the classifier, 8 of 32 per branch
    # with the bottleneck kept at 32 removes 77 % (11979 f + 36 f^2: 98,136 of 420,192)
    def body(n_filters):
        network = Inception(InceptionConfig(n_channels=1, n_classes=2, n_filters=n_filters))
        return count_parameters(network, True) - count_parameters(network.head, True)

    assert body(8) == 98_136 and 1 - body(8) / body(32) == pytest.approx(0.766, abs=1e-3)
    # LITE of 16 filters per branch: 58.5 % fewer trainable parameters, as the authors'
    trainable = [make_estimator("lite", 0, params={"n_filters": f}) for f in (16, 32)]
    X, y = np.zeros((4, 1, 64), np.float32), np.array([0, 1, 0, 1])
    counts = [e.set_params(n_epochs=1).fit(X, y) for e in trainable]
    small, full = (estimator_cost(e).params_trainable for e in counts)
    assert 1 - small / full == pytest.approx(0.585, abs=1e-3)
    assert study.chosen_variants("DSP-InceptionTime") == (variants["DSP-InceptionTime"],)
    with pytest.raises(ValueError, match="has no variant Nope"):
        study.chosen_variants("Nope")
