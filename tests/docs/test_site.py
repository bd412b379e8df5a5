"""The docs site builds in strict mode with its tutorials executed, documents every public
name, and renders in a real browser without errors."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.py"))
API_PAGES = {
    "sparsetsc": "sparsetsc",
    "sparsetsc.data": "data",
    "sparsetsc.nn": "nn",
    "sparsetsc.train": "train",
    "sparsetsc.sparse": "sparse",
    "sparsetsc.prune": "prune",
    "sparsetsc.cost": "cost",
    "sparsetsc.export": "export",
    "sparsetsc.bench": "bench",
    "sparsetsc.report": "report",
}


def _require(module: str) -> None:
    """Skip without ``module`` on a developer's machine; CI installs it, so fail there."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed (pip install -e '.[dev]')")
        pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")


def _tutorial_cache() -> Path:
    """Where the executed tutorials are cached: one folder per state of the library's source.

    mkdocs-jupyter keys its cache on the script alone; a tutorial run before the library
    changed must run again. Older folders are removed.
    """
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "sparsetsc").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    cache = ROOT / ".cache" / "mkdocs-jupyter-tested" / digest.hexdigest()[:16]
    for old in cache.parent.glob("*"):
        if old != cache:
            shutil.rmtree(old, ignore_errors=True)
    return cache


def _mkdocs_build(
    project: Path, site_dir: Path, tutorial_cache: Path | None = None
) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of the project in ``project`` into ``site_dir``.

    A build evicts every cached page it did not use, so a site without the tutorials must
    not share their cache (``tutorial_cache``, by default the one of the library's source).
    """
    for module in ("mkdocs", "mkdocstrings_handlers.python", "mkdocs_jupyter", "ipykernel"):
        _require(module)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=project,
        env={
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "SPARSETSC_TUTORIAL_CACHE": str(tutorial_cache or _tutorial_cache()),
        },
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site built by ``mkdocs build --strict``, tutorials executed (about 2 minutes)."""
    out = tmp_path_factory.mktemp("site")
    build = _mkdocs_build(ROOT, out)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-8000:]
    return out


def _build_page(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of a one-page site with the real site's plugins."""
    (tmp_path / "docs").mkdir(parents=True)
    (tmp_path / "docs" / "index.md").write_text(text)
    config = (ROOT / "mkdocs.yml").read_text()
    config = re.sub(r"(?ms)^nav:.*", "", config).replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    config = config.replace("- docs/hooks/", f"- {ROOT / 'docs' / 'hooks'}/")
    config = config.replace("extra_css:\n  - stylesheets/extra.css\n", "")
    (tmp_path / "mkdocs.yml").write_text(config)
    return _mkdocs_build(tmp_path, tmp_path / "site", tutorial_cache=tmp_path / "cache")


GOOD_PAGE = (
    "# Page\n\nSee [the loader][sparsetsc.data.load_dataset].\n\n::: sparsetsc.data.load_dataset\n"
)


@pytest.mark.parametrize(
    "broken",
    [
        "See [a loader][sparsetsc.data.no_such_loader].\n",
        "::: sparsetsc.data.no_such_loader\n",
        "See [Data](no-such-page.md).\n",
    ],
    ids=["cross-reference", "api-entry", "page-link"],
)
def test_the_strict_build_fails_on_a_missing_api_name_or_page(tmp_path, broken):
    good = _build_page(tmp_path / "good", GOOD_PAGE)
    assert good.returncode == 0, good.stderr[-2000:]
    assert _build_page(tmp_path / "broken", GOOD_PAGE + "\n" + broken).returncode != 0


def test_the_site_builds_strictly_with_every_page(site):
    for page in ("index.html", "getting-started/own-data/index.html", "changelog/index.html"):
        assert (site / page).is_file(), page
    for page in (ROOT / "docs" / "user-guide").glob("*.md"):
        assert (site / "user-guide" / page.stem / "index.html").is_file(), page.name


def test_every_public_name_has_its_api_entry(site):
    for module_name, page in API_PAGES.items():
        html = (site / "api" / page / "index.html").read_text()
        anchors = set(re.findall(r'id="([\w.]+)"', html))
        module = importlib.import_module(module_name)
        # a name may be documented where it is defined (sparsetsc.sparse.enrf.enrf, a
        # function named like its module)
        missing = [
            n
            for n in module.__all__
            if not any(a.startswith(module_name) and a.endswith(f".{n}") for a in anchors)
        ]
        assert not missing, f"{module_name}: no API entry for {missing}"


def test_the_tutorials_ran_and_show_their_figures(site):
    assert len(TUTORIALS) >= 4
    for script in TUTORIALS:
        html = (site / "tutorials" / script.stem / "index.html").read_text()
        figures = re.findall(r'<img [^>]*src="data:image/png;base64,', html)
        assert figures, f"{script.name}: no rendered figure"
        # a Figure a cell returned that Jupyter printed instead of drawing
        assert "&lt;Figure size" not in html, f"{script.name}: a figure printed as text"
        assert "Traceback" not in html, f"{script.name}: a cell raised"
        # nothing on stderr: no warnings shown to the reader
        stderr = re.findall(r'<div [^>]*data-mime-type="application/vnd.jupyter.stderr"', html)
        assert not stderr, f"{script.name}: a cell wrote to stderr"
        # every code cell was executed: an output follows the last input
        assert "jp-OutputArea" in html, f"{script.name}: no output"


def test_the_home_page_a_guide_page_and_an_api_page_render_in_chromium(site, tmp_path):
    from browser_check import CHROMIUM, check_pages  # beside this file

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (Debian's chromium package)")
    _require("playwright")
    shots = Path(os.environ.get("SPARSETSC_SCREENSHOTS", tmp_path / "screenshots"))
    problems = check_pages(site, screenshots=shots)
    assert problems and not any(problems.values()), problems
    assert {p.name for p in shots.glob("*.png")} == {
        "home.png",
        "user-guide-dsp.png",
        "api-sparsetsc.png",
    }
