"""Load pages of a built docs site in headless Chromium and report what a reader would see
broken: console errors, uncaught page errors, failed requests and images that did not load.

Run by ``tests/docs/test_site.py``; by hand::

    mkdocs build --strict -d /tmp/site
    python tests/docs/browser_check.py /tmp/site --screenshots /tmp/shots

It serves the folder on a free localhost port, opens each page in Debian's Chromium
(``/usr/bin/chromium``, driven through Playwright with no browser download), saves a
full-page screenshot of each, and exits with status 1 if any page has a problem.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
#: The home page, one user-guide page and one API page (the issue's three).
PAGES = ("", "user-guide/dsp/", "api/sparsetsc/")
#: As the workplace's own probe starts Chromium: no background connections to Google's
#: hosts (refused on a closed network, and noise in the console).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 at a free port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


_BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(img => !img.complete || img.naturalWidth === 0)
    .map(img => img.currentSrc || img.src || img.alt)"""


def check_pages(
    site: Path, pages: tuple[str, ...] = PAGES, screenshots: Path | None = None
) -> dict[str, list[str]]:
    """Problems per page (an empty list when the page is clean)."""
    from playwright.sync_api import sync_playwright

    problems: dict[str, list[str]] = {}
    with serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for page_path in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                found: list[str] = []
                page.on(
                    "console",
                    lambda m, found=found: (
                        found.append(f"console {m.type}: {m.text}")
                        if m.type in ("error", "warning")
                        else None
                    ),
                )
                page.on("pageerror", lambda e, found=found: found.append(f"page error: {e}"))
                page.on(
                    "requestfailed",
                    lambda r, found=found: found.append(f"request failed: {r.url}"),
                )
                page.on(
                    "response",
                    lambda r, found=found: (
                        found.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
                    ),
                )
                response = page.goto(base + page_path, wait_until="networkidle")
                if response is None or not response.ok:
                    found.append(f"page itself: {response.status if response else 'no response'}")
                found += [f"image not loaded: {src}" for src in page.evaluate(_BROKEN_IMAGES)]
                if not page.title():
                    found.append("page has no title")
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    name = page_path.strip("/").replace("/", "-") or "home"
                    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
                problems[page_path or "/"] = found
                page.close()
        finally:
            browser.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="a built site (mkdocs build -d SITE)")
    parser.add_argument("--screenshots", type=Path, help="save a screenshot of each page here")
    parser.add_argument("--page", action="append", help="a page path (default: the three)")
    args = parser.parse_args(argv)
    problems = check_pages(args.site, tuple(args.page or PAGES), args.screenshots)
    for page, found in problems.items():
        print(f"{page}: {'ok' if not found else ''}")
        for line in found:
            print(f"  {line}")
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
