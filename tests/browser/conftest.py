"""Fixtures for the real-browser tests of the built site (tests/browser/test_site.py).

The site in ``_build/html`` (or ``$SITE_DIR``) is served on 127.0.0.1 by a
threading ``http.server`` and driven with Chromium through Playwright's sync API.

Without a built site or without Chromium the tests are SKIPPED, so ``make test``
(which collects ``tests/``) passes on a machine that has neither. ``make
test-browser`` sets ``REQUIRE_BROWSER=1``, and then the same conditions FAIL.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    REQUIRE,
    SITE,
    Recorder,
    chromium_path,
    unavailable_reason,
)


@pytest.fixture(scope="session")
def need_browser():
    reason = unavailable_reason()
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def base_url(need_browser):
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser(need_browser):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser, base_url):
    """Factory: a fresh page (own context, so own localStorage) with a Recorder."""
    contexts = []

    def make(color_scheme="light", storage_mode=None):
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      color_scheme=color_scheme, service_workers="block")
        if storage_mode is not None:
            context.add_init_script(
                f"localStorage.setItem('mode', '{storage_mode}');"
                f"localStorage.setItem('theme', '{storage_mode}');"
            )
        contexts.append(context)
        page = context.new_page()
        recorder = Recorder(base_url)
        recorder.attach(context, page)
        return page, recorder

    yield make
    for context in contexts:
        context.close()


SUMMARY: dict = {"pages": {}, "axe": {}}


@pytest.fixture(scope="session")
def summary():
    return SUMMARY


def pytest_sessionfinish(session, exitstatus):
    if SUMMARY["pages"]:
        ARTIFACTS.mkdir(exist_ok=True)
        text = json.dumps(SUMMARY, indent=1, sort_keys=True)
        (ARTIFACTS / "browser-summary.json").write_text(text)
