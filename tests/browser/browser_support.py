"""Helpers shared by tests/browser/conftest.py and tests/browser/test_site.py.

The site in ``_build/html`` (or ``$SITE_DIR``) is served on 127.0.0.1 by a
threading ``http.server`` and driven with Chromium through Playwright's sync API.

Without a built site or without Chromium the tests are SKIPPED, so ``make test``
(which collects ``tests/``) passes on a machine that has neither. ``make
test-browser`` sets ``REQUIRE_BROWSER=1``, and then the same conditions FAIL.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html")).resolve()
ARTIFACTS = ROOT / "test-artifacts"
REQUIRE = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
# Pages that are generated lists rather than content; search.html has its own test, and
# 404.html (links under the published path, /autograd-by-example/) test_site_basics.py.
SKIP_PAGES = {"genindex.html", "py-modindex.html", "search.html", "404.html"}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "chromium",
                      "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (SITE / "index.html").is_file():
        return f"no built site: {SITE / 'index.html'} is missing (run 'make html')"
    if chromium_path() is None:
        return "chromium is not installed (apt-get install chromium)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright / axe-playwright-python missing: {exc}"
    return None


# The search page has finished: its summary has its text.
SEARCH_DONE = "() => document.querySelector('#search-results .search-summary')?.textContent.trim()"


def search_results(page, base_url: str, query: str) -> list[str]:
    """The result links of the site's search page for ``query``, in order (URL paths).

    The search page lists the results as ``ul.search li > a`` under a ``.search-summary``
    whose text ("Search finished, found ...", or that nothing matched) is written once the
    search is done (Sphinx's search and docs/_static/pagefind-search.js alike).
    """
    from urllib.parse import quote, urljoin

    page.goto(urljoin(base_url, "search.html?q=" + quote(query)), wait_until="load")
    page.wait_for_function(SEARCH_DONE, timeout=30_000)
    results = page.locator("#search-results ul.search li > a")
    return [urlsplit(h).path.lstrip("/")
            for h in results.evaluate_all("els => els.map(a => a.href)")]


def site_pages() -> list[str]:
    """Every HTML page of the built site, as a URL path relative to the site root."""
    if not SITE.is_dir():
        return []
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        rel = path.relative_to(SITE).as_posix()
        if rel.split("/")[0].startswith("_") or rel in SKIP_PAGES:
            continue  # _static, _sources, _downloads, _images: not pages
        pages.append(rel)
    return pages


class Recorder:
    """What a page did on the network and the console."""

    def __init__(self, base_url: str):
        self.origin = urlsplit(base_url).netloc
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []

    def route(self, route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or (
            parts.scheme == "http" and parts.netloc == self.origin
        ):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def attach(self, context, page):
        context.route("**/*", self.route)
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(
            f"{m.text} @ {m.location.get('url', '')}"))
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.failed.append(
            f"HTTP {r.status} {r.url}"))

    def _failed(self, request):
        if request.url in self.blocked:
            return  # reported as blocked
        self.failed.append(f"{request.failure} {request.url}")
