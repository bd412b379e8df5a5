"""The committed published-budget results: every file parses, carries its metadata, the
folder stays small, and its README is what ``sparsetsc report`` makes of the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparsetsc.bench.published import load_published, published_accuracy
from sparsetsc.bench.store import iter_results, read_result
from sparsetsc.bench.suites import DEV
from sparsetsc.report import build_report, report_defaults

RESULTS = Path(__file__).resolve().parents[1] / "results" / "published-budget"
METADATA = ("params", "params_nonzero", "macs", "fit_seconds", "seed", "sparsetsc_version")


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


def test_every_result_parses_with_its_metadata():
    paths = list(iter_results(RESULTS))
    for path in paths:
        result = read_result(path)
        meta = result.metadata
        assert all(key in meta for key in METADATA), path
        assert result.resample == 0 and meta["seed_policy"] == "dataset", path
        if meta.get("estimator") != "MiniRocketClassifier":
            assert meta["precision"] == "fp32" and meta["epochs"] >= 1000, path
    if not paths:
        pytest.skip("no published-budget results committed yet")


def test_readme_is_regenerated_from_the_files(tmp_path):
    if not list(iter_results(RESULTS)):
        pytest.skip("no published-budget results committed yet")
    defaults = report_defaults(RESULTS)
    build_report(
        RESULTS,
        tmp_path,
        defaults["against"],
        defaults["published"],
        title=defaults["title"],
        markdown_name="README.md",
        intro=defaults["intro"],
    )
    assert (tmp_path / "README.md").read_text() == (RESULTS / "README.md").read_text()
