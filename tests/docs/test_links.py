"""The links that lead a user from the package to its docs: ``help()`` on each estimator,
the project URLs, and the site's own address, all agree and point at pages that exist."""

from __future__ import annotations

import pydoc
import re
from pathlib import Path

import pytest
import yaml

import sparsetsc
from sparsetsc.estimators import ESTIMATORS

ROOT = Path(__file__).parents[2]


class _ConfigLoader(yaml.SafeLoader):
    """YAML as MkDocs reads it, where ``!ENV [NAME, default]`` is the default here."""


_ConfigLoader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])
CONFIG = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_ConfigLoader)
SITE = CONFIG["site_url"]


def _page(url: str) -> Path:
    """The Markdown file behind a URL of the site (``.../user-guide/dsp/#x`` -> dsp.md)."""
    assert url.startswith(SITE), url
    path = url[len(SITE) :].split("#")[0].strip("/")
    return ROOT / "docs" / (f"{path}.md" if path else "index.md")


def _anchors(page: Path) -> set[str]:
    """The heading ids mkdocs gives a page (lower case, words joined by hyphens)."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_help_on_every_estimator_points_to_its_user_guide_page():
    names = [n for n in sparsetsc.__all__ if n.endswith("Classifier")]
    assert set(ESTIMATORS) <= set(names) | {"BaseDeepClassifier"}
    for name in names:
        text = pydoc.render_doc(getattr(sparsetsc, name), renderer=pydoc.plaintext)
        urls = re.findall(r"User guide: <(\S+)>", text)
        assert urls, f"help({name}) names no docs page"
        page = _page(urls[0])
        assert page.is_file(), f"{name}: {urls[0]} is no page"
        if "#" in urls[0]:
            assert urls[0].split("#")[1] in _anchors(page), urls[0]


def test_project_urls_are_the_sites_and_the_repositorys():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    urls = project["urls"]
    assert {"Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    assert urls["Documentation"] == SITE
    assert _page(urls["Changelog"]).name == "changelog.md"
    source = [s["link"] for s in CONFIG["extra"]["social"] if "github" in s["link"]]
    assert source == [urls["Source"]] and urls["Issues"] == urls["Source"] + "/issues"
    assert any("License" in c for c in project["classifiers"])


def test_every_page_and_tutorial_is_in_the_navigation():
    def files(entries):
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            yield from files(value) if isinstance(value, list) else [value]

    in_nav = set(files(CONFIG["nav"]))
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    tutorials = {
        str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs" / "tutorials").glob("*.py")
    }
    assert pages | tutorials == in_nav
