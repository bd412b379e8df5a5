"""The committed published-budget results: every file parses, carries its metadata, the
folder stays small, and its README is what ``sparsetsc report`` makes of the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsetsc.bench.published import load_published, published_accuracy
from sparsetsc.bench.store import iter_results, read_result
from sparsetsc.bench.suites import DEV
from sparsetsc.report import build_report, report_defaults

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "published-budget"
UEA_RESULTS = ROOT / "results" / "published-budget-uea"
METADATA = (
    "params",
    "params_nonzero",
    "macs",
    "fit_seconds",
    "precision",
    "seed",
    "sparsetsc_version",
    "git_revision",
)


def _committed(path: Path) -> bool:
    # the sweep's fitted models stay where it runs (.gitignore): they are not shipped
    return path.is_file() and "Models" not in path.relative_to(RESULTS).parts


def test_folder_is_small_and_its_published_tables_cover_the_dev_suite():
    size = sum(path.stat().st_size for path in RESULTS.rglob("*") if _committed(path))
    assert size < 20 * 2**20
    defaults = report_defaults(RESULTS)
    published = load_published(defaults["published"])
    for method in defaults["against"]:
        accuracy = published_accuracy(published, method, [0])
        assert set(DEV) <= set(accuracy.dropna().index), method


@pytest.mark.parametrize("folder", [RESULTS, UEA_RESULTS], ids=["ucr", "uea"])
def test_every_result_parses_with_its_metadata(folder):
    paths = list(iter_results(folder))
    for path in paths:
        result = read_result(path)
        meta = result.metadata
        assert all(key in meta for key in METADATA), path
        assert result.resample == 0 and meta["seed_policy"] == "dataset", path
        if meta.get("estimator") != "MiniRocketClassifier":
            assert meta["precision"] == "fp32" and meta["epochs"] >= 1000, path
    if not paths:
        pytest.skip("no published-budget results committed yet")


@pytest.mark.parametrize("folder", [RESULTS, UEA_RESULTS], ids=["ucr", "uea"])
def test_readme_is_regenerated_from_the_files(folder, tmp_path):
    if not list(iter_results(folder)):
        pytest.skip("no published-budget results committed yet")
    defaults = report_defaults(folder)
    build_report(
        folder,
        tmp_path,
        defaults["against"],
        defaults["published"],
        title=defaults["title"],
        markdown_name="README.md",
        intro=defaults["intro"],
    )
    assert (tmp_path / "README.md").read_text() == (folder / "README.md").read_text()


def test_every_ensemble_is_the_average_of_its_committed_members():
    ensembles = [
        (path, result)
        for path in iter_results(RESULTS)
        for result in [read_result(path)]
        if result.metadata.get("ensemble_of")
    ]
    if not ensembles:
        pytest.skip("no ensembles of member jobs committed yet")
    for path, ensemble in ensembles:
        meta = ensemble.metadata
        members = [
            read_result(RESULTS / label / "Predictions" / ensemble.dataset / path.name)
            for label in meta["member_labels"]
        ]
        assert meta["n_members"] == len(members) == 5, path
        assert meta["member_seeds"] == [m.metadata["seed"] for m in members], path
        assert len(set(meta["member_seeds"])) == 5, path
        assert meta["member_accuracies"] == [m.accuracy for m in members], path
        mean = sum(m.probabilities for m in members) / len(members)
        # result files keep probabilities at float32 precision (bench.store)
        assert np.array_equal(ensemble.probabilities, mean.astype(np.float32)), path
        assert meta["params"] == sum(m.metadata["params"] for m in members), path


def test_uea_published_tables_cover_its_sets():
    from sparsetsc.bench.studies import UEA

    defaults = report_defaults(UEA_RESULTS)
    published = load_published(defaults["published"])
    names = {name.removesuffix("_eq") for name in UEA}
    for method in defaults["against"]:
        accuracy = published_accuracy(published, method, [0])
        assert names <= set(accuracy.dropna().index), method


def _claims_table(markdown: str, after: str) -> list[str]:
    lines = markdown.splitlines()
    start = lines.index(after) + 1
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append(line)
    return rows


def test_the_studies_page_opens_its_results_with_the_committed_claims_table():
    if not (RESULTS / "README.md").is_file():
        pytest.skip("no published-budget README committed yet")
    page = (ROOT / "docs" / "user-guide" / "studies.md").read_text()
    ours = _claims_table(
        page, "<!-- claims table: copied from results/published-budget/README.md -->"
    )
    theirs = _claims_table((RESULTS / "README.md").read_text(), "## Claims of the papers")
    assert ours[0] == "| claim | ours | published | verdict | evidence |"
    assert ours == theirs  # `python benchmarks/published_budget.py --sync-claims` copies it
    results_section = page.index("## Results at the published budget")
    assert page.index("<!-- claims table") > results_section
    assert "results/published-budget/README.md)" in page[results_section:]
