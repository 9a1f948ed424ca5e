"""Where a tutorial stands: its ``.. reading-path::`` block, the box it opens with, and the
link to the next page it ends with (``autograd_site.sphinxext.reading_path``)."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest
from autograd_site.pages import built_page
from autograd_site.project import (
    GALLERY,
    HTML,
    gallery_docname,
    gallery_scripts,
    page_id,
    reading_path,
)
from autograd_site.sphinxext.reading_path import (
    LAST_PAGE,
    after_labels,
    next_docname,
)
from bs4 import BeautifulSoup

PATH = reading_path()
BLOCK = re.compile(r"^\.\. reading-path::\n((?:   .*\n|\n)+)", re.MULTILINE)
LABEL = re.compile(r"^\.\. _([\w-]+):", re.MULTILINE)


def _docstring(script):
    return ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False) + "\n"


def _options(script) -> dict[str, str]:
    match = BLOCK.search(_docstring(script))
    assert match, f"{script.relative_to(GALLERY)}: no '.. reading-path::' block in its docstring"
    options, key = {}, None
    for line in textwrap.dedent(match[1]).splitlines():
        if option := re.match(r":(\w+):\s*(.*)", line):
            key, options[option[1]] = option[1], option[2]
        elif line.strip():
            options[key] += " " + line.strip()
    return options


def test_the_reading_path_holds_every_tutorial_once():
    """A script in a folder missing from GALLERY_SECTIONS would be off the path."""
    assert sorted(PATH) == gallery_scripts()
    assert next_docname(gallery_docname(PATH[0])) == gallery_docname(PATH[1])
    assert next_docname(gallery_docname(PATH[-1])) == LAST_PAGE
    assert next_docname("howto/index") is None


@pytest.mark.parametrize("script", PATH, ids=[page_id(p) for p in PATH])
def test_each_tutorial_says_what_it_teaches_and_what_comes_before(script):
    """``:learn:`` and ``:after:``; the pages named come earlier on the path."""
    options = _options(script)
    assert set(options) == {"learn", "after"}, options
    assert options["learn"] and not options["learn"].endswith(".")
    earlier = {LABEL.search(_docstring(p))[1] for p in PATH[: PATH.index(script)]}
    labels = after_labels(options["after"])
    assert labels or script == PATH[0], f"{script.name}: ':after: none' is for the first page"
    later = set(labels) - earlier
    assert not later, f"{script.name}: not earlier on the path: {later}"


@pytest.mark.parametrize("script", PATH, ids=[page_id(p) for p in PATH])
def test_the_page_opens_with_the_box_and_ends_with_the_next_page(script, built_site):
    soup = BeautifulSoup(built_page(script).read_text(encoding="utf-8"), "html.parser")
    boxes = soup.select("div.reading-path")
    assert len(boxes) == 1
    learn, before = boxes[0].find_all("p")
    assert learn.get_text().startswith("What you will learn: ")
    links = [a["href"] for a in before.find_all("a")]
    assert len(links) == len(after_labels(_options(script)["after"]))
    # the box comes before the page's first section, after its introduction
    first_section = soup.select("article section section")[0]
    assert boxes[0].find_next("section") is first_section
    following = soup.select("p.reading-path-next a")
    assert len(following) == 1
    expected = next_docname(gallery_docname(script))
    target = (built_page(script).parent / following[0]["href"].split("#")[0]).resolve()
    assert target == (HTML / f"{expected}.html").resolve()


def _tiny_build(sphinx_build, tmp_path, body: str):
    """Build a one-tutorial project with the extension; return sphinx-build's result."""
    src = tmp_path / "src"
    (src / "auto_examples" / "pinns").mkdir(parents=True)
    (src / "howto").mkdir()
    (src / "conf.py").write_text('extensions = ["autograd_site.sphinxext.reading_path"]\n')
    (src / "index.rst").write_text(
        "Home\n====\n\n.. toctree::\n\n   auto_examples/pinns/plot_18_poisson_2d\n   howto/index\n")
    (src / "howto" / "index.rst").write_text("How-to guides\n=============\n")
    (src / "auto_examples" / "pinns" / "plot_18_poisson_2d.rst").write_text(
        "Poisson\n=======\n\nIntro.\n\n" + body + "\nA section\n---------\n\nText.\n")
    return sphinx_build(src, tmp_path / "out")


def test_a_tutorial_without_its_block_fails_the_build_with_a_clear_message(sphinx_build, tmp_path):
    result = _tiny_build(sphinx_build, tmp_path, "")
    assert result.returncode != 0
    assert "plot_18_poisson_2d.rst: the tutorial says nothing of where it stands" in result.stderr
    assert "'.. reading-path::'" in result.stderr


def test_a_tutorial_with_its_block_builds(sphinx_build, tmp_path):
    block = ".. reading-path::\n   :learn: the Laplacian\n   :after: none\n"
    result = _tiny_build(sphinx_build, tmp_path, block)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "auto_examples" / "pinns" / "plot_18_poisson_2d.html").read_text()
    assert "What you will learn:" in page and "the Laplacian." in page
    assert 'href="../../howto/index.html"' in page
