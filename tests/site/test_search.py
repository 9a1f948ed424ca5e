"""A page's search keywords and weight come from the page itself (``.. search::``).

Checked on the built site (the Pagefind attributes of each page are those its source
declares) and on a one-page project (what the directive refuses).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from autograd_site.project import DOCS, GALLERY, HTML, ROOT
from autograd_site.sphinxext.search import SEPARATOR, keyword_list
from bs4 import BeautifulSoup

# a search block's options in a gallery script (reST) or a MyST page
BLOCK = re.compile(r"(?:\.\. search::|```\{search\})\n((?:[ ]*:\w+:.*\n(?:[ ]{4,}.*\n)*)+)")


def _declared():
    """(built page, keywords, weight) of every source with a search block."""
    found = []
    for source in sorted(GALLERY.rglob("plot_*.py")) + sorted(DOCS.rglob("*.md")):
        if "auto_examples" in source.parts or "jupyter_execute" in source.parts:
            continue
        match = BLOCK.search(source.read_text(encoding="utf-8"))
        if not match:
            continue
        options = dict(re.findall(r":(\w+):((?:.*)(?:\n[ ]{4,}.*)*)", match[1]))
        if source.suffix == ".py":
            page = HTML / "auto_examples" / source.relative_to(GALLERY).with_suffix(".html")
        else:
            page = HTML / source.relative_to(DOCS).with_suffix(".html")
        found.append((page, keyword_list(options.get("keywords", "")),
                      options.get("weight", "").strip() or None))
    return found


DECLARED = _declared()


def test_pages_declare_their_keywords():
    assert len([1 for _, words, _ in DECLARED if words]) >= 9
    assert any(weight for _, _, weight in DECLARED)


@pytest.mark.parametrize(("page", "words", "weight"), DECLARED,
                         ids=[p.stem for p, _, _ in DECLARED])
def test_the_built_page_gives_pagefind_what_its_source_declares(page, words, weight, built_site):
    body = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find(
        attrs={"data-pagefind-body": True})
    assert body is not None, f"{page}: not indexed"
    meta = body.get("data-pagefind-meta")
    assert meta == (f"keywords:{SEPARATOR.join(words)}" if words else None)
    assert body.get("data-pagefind-weight") == weight


def _tiny_build(tmp_path, body: str):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["autograd_site.sphinxext.search"]\n'
                                 "html_baseurl = 'https://example.org/'\n")
    (src / "index.rst").write_text("Page\n====\n\n" + body + "\nText.\n")
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src),
         str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT,
    )


@pytest.mark.parametrize(("body", "message"), [
    (".. search::\n   :keywords: a; b\n", "a keyword may not hold ';'"),
    (".. search::\n   :weight: 0\n", "the weight must be above 0"),
    (".. search::\n   :keywords: a\n\n.. search::\n   :weight: 0.5\n", "one 'search' directive"),
    (".. search::\n", "give :keywords:"),
])
def test_a_bad_search_block_fails_the_build_naming_the_page(tmp_path, body, message):
    result = _tiny_build(tmp_path, body)
    assert result.returncode != 0
    assert "index.rst" in result.stderr and message in result.stderr, result.stderr
