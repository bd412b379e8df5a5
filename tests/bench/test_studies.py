"""Named studies: the list, every study end to end on a tiny budget, reuse of finished jobs."""

from __future__ import annotations

import pandas as pd
import pytest

from sparsetsc.bench import Variant, plan_variants
from sparsetsc.bench.studies import STUDIES, get_study
from sparsetsc.cli import main

TINY = ["--datasets", "TinyA,TinyB", "--seeds", "1", "--epochs", "2", "--quiet"]


def test_list_shows_every_study(capsys):
    assert main(["study", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(STUDIES)
    assert {"dsn-sparsity", "dsn-architecture", "dsn-groups", "dsn-topology",
            "dsn-multivariate", "dsp-lambda", "dsp-recovery"} <= set(listed)  # fmt: skip


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_runs_end_to_end_and_writes_its_section(name, tiny_archive, tmp_path, capsys):
    study = get_study(name)
    runs = tmp_path / "runs"
    code = main(["study", name, "--data-root", str(tiny_archive), "--runs", str(runs), *TINY])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{2 * len(study.variants)} jobs done, 0 failed")
    section = out[out.index("## ") :]
    assert section.startswith(f"## {study.title} (`{name}`, cpu budget)")
    assert "Published:" in section and "missing" not in section
    summary = pd.read_csv(runs / "studies" / f"{name}-cpu-summary.csv", index_col=0)
    labels = [v.label for v in study.variants]
    assert list(summary.index) == labels
    assert (summary["datasets"] == 2).all()
    assert summary["mean accuracy"].between(0, 1).all()
    assert (runs / "studies" / f"{name}-cpu.md").read_text().startswith("## ")
    # every variant wrote its own results folder, one file per dataset
    for label in labels:
        assert len(list((runs / label / "Predictions").glob("*/testResample0.csv"))) == 2


def test_studies_reuse_finished_jobs(tiny_archive, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    assert main(["study", "dsn-groups", "--data-root", str(tiny_archive), "--runs", runs,
                 *TINY]) == 0  # fmt: skip
    capsys.readouterr()
    # dsn-topology shares its plain DSN variant with dsn-groups: 2 of its 6 jobs are done
    plan = plan_variants(get_study("dsn-topology").variants, ["TinyA", "TinyB"], [0], runs,
                         epochs=2, data_root=str(tiny_archive))  # fmt: skip
    assert len(plan.finished) == 2 and len(plan.to_run) == 4
    assert {job.name for job in plan.finished} == {"DSN"}


def test_variants_are_checked_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="share the results folder"):
        plan_variants([Variant("", "dsn"), Variant("DSN", "dsn", (("fix", True),))],
                      ["GunPoint"], [0], tmp_path, check_data=False)  # fmt: skip
    with pytest.raises(ValueError, match="may not hold"):
        plan_variants([Variant("DSN, fixed", "dsn")], ["GunPoint"], [0], tmp_path,
                      check_data=False)  # fmt: skip
    with pytest.raises(ValueError, match="unknown model"):
        plan_variants([Variant("X", "nope")], ["GunPoint"], [0], tmp_path, check_data=False)
    assert not any(tmp_path.iterdir())


def test_unknown_study_is_a_clear_error(capsys):
    assert main(["study", "dsn-everything"]) == 2
    assert "unknown study 'dsn-everything'" in capsys.readouterr().err
