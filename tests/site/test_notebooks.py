"""The notebooks a reader downloads read as Markdown and code, not as reST or MyST.

sphinx-gallery converts each script's text cells to Markdown (``rst2md``) but copies a
``.. raw:: html`` block into the notebook verbatim, where it shows as a block of code.
Exercise solutions are therefore plain sections ("Solution to exercise N"), folded on
the HTML pages by ``docs/_static/solutions.js``, never raw HTML. Roles and the site's
own directives are turned into Markdown by the build (``autograd_site.notebook_markdown``);
no downloaded notebook, alone or in a zip, may show one.
"""

from __future__ import annotations

import json
import os
import re
import zipfile

import pytest
from autograd_site.notebook_markdown import leftover_markup
from autograd_site.project import DOCS, GALLERY, HTML, ROOT, gallery_scripts, page_id

RAW = re.compile(r"^\s*\.\. raw::", re.MULTILINE)
SCRIPTS = gallery_scripts()


def _built_notebooks():
    return sorted((DOCS / "auto_examples").rglob("*.ipynb")) + sorted(HTML.rglob("*.ipynb"))


def test_no_raw_directive_in_a_notebooks_markdown(built_site):
    """No built .ipynb (docs/auto_examples, the site's downloads) has reST raw blocks."""
    notebooks = _built_notebooks()
    downloads = [nb for nb in notebooks if "_downloads" in nb.parts]
    assert len(downloads) >= len(SCRIPTS), f"{len(downloads)} notebooks in _downloads"
    leaks = []
    for notebook in notebooks:
        for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) \
                else cell["source"]
            if cell["cell_type"] == "markdown" and RAW.search(source):
                leaks.append(f"{notebook.relative_to(ROOT)}, cell {index}")
    assert not leaks, "'.. raw::' in a notebook's Markdown cell:\n" + "\n".join(leaks)


def downloaded_notebooks(html=HTML):
    """Every notebook the built site offers, as (name, parsed notebook): each ``.ipynb``
    under the site, and each ``.ipynb`` inside its zips (named ``archive.zip:member``)."""
    found = [(path.relative_to(html).as_posix(), json.loads(path.read_text(encoding="utf-8")))
             for path in sorted(html.rglob("*.ipynb"))]
    for archive in sorted(html.rglob("*.zip")):
        with zipfile.ZipFile(archive) as opened:
            found += [(f"{archive.relative_to(html).as_posix()}:{member}",
                       json.loads(opened.read(member)))
                      for member in opened.namelist() if member.endswith(".ipynb")]
    return found


def markup_in_markdown(notebooks) -> list[str]:
    """Each role or directive left in a notebook's Markdown, as 'name, cell N: markup'."""
    leaks = []
    for name, notebook in notebooks:
        for index, cell in enumerate(notebook["cells"]):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) \
                else cell["source"]
            if cell["cell_type"] == "markdown":
                leaks += [f"{name}, cell {index}: {found}" for found in leftover_markup(source)]
    return leaks


def test_no_role_or_directive_in_a_downloaded_notebook(built_site):
    """No Sphinx role or directive in the Markdown of any notebook a reader downloads."""
    notebooks = downloaded_notebooks()
    gallery = [name for name, _ in notebooks if name.startswith("_downloads/")]
    zipped = [name for name, _ in notebooks if ".zip:" in name]
    assert len(gallery) >= len(SCRIPTS) and len(zipped) >= len(SCRIPTS), (gallery, zipped)
    leaks = markup_in_markdown(notebooks)
    assert not leaks, f"{len(leaks)} roles or directives in notebooks:\n" + "\n".join(leaks)


@pytest.mark.parametrize("script", SCRIPTS, ids=[page_id(p) for p in SCRIPTS])
def test_scripts_have_no_raw_blocks(script):
    """The same rule, before any build: no gallery script holds a ``.. raw::`` block."""
    lines = [n for n, line in enumerate(script.read_text().splitlines(), 1)
             if re.match(r"(#\s*)?\.\. raw::", line.lstrip())]
    assert not lines, (
        f"{script.relative_to(GALLERY)}: '.. raw::' at line(s) {lines}; the notebook "
        "download would show it as text. Use plain reST (a solution is a section headed "
        "'Solution to exercise N')."
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[page_id(p) for p in SCRIPTS])
def test_solutions_are_sections_under_exercises(script):
    """Solutions follow the "Exercises" section (underlined with '-') as sections of their
    own, "Solution to exercise 1", "2", ... in order, one level below (underlined with '~')."""
    lines = [line.removeprefix("#").strip() for line in script.read_text().splitlines()]
    titles = [(i, lines[i - 1]) for i in range(1, len(lines))
              if lines[i] and lines[i - 1] and set(lines[i]) <= set("=-~^")
              and len(lines[i]) == len(lines[i - 1])]
    solutions = [(i, t) for i, t in titles if t.startswith("Solution")]
    if not solutions:
        return
    exercises = [i for i, t in titles if t == "Exercises" and set(lines[i]) == {"-"}]
    assert exercises and exercises[0] < solutions[0][0], (
        f"{script.name}: solutions without an 'Exercises' section underlined with '-' before them"
    )
    expected = [f"Solution to exercise {n}" for n in range(1, len(solutions) + 1)]
    assert [t for _, t in solutions] == expected, f"{script.name}: {solutions}"
    assert all(set(lines[i]) == {"~"} for i, _ in solutions), (
        f"{script.name}: a solution heading not underlined with '~'"
    )
    after = [t for i, t in titles if i > exercises[0] and not t.startswith("Solution")]
    assert not after, f"{script.name}: a section after the solutions: {after}"


def test_a_notebook_is_made_again_when_an_input_is_newer(tmp_path):
    """A build makes a MyST-NB page's notebook again only when it is missing or older than
    the page's source, its written page or the code that makes it (notebooks.py)."""
    from autograd_site.sphinxext.notebooks import _newer_than

    source, page, notebook = (tmp_path / name for name in ("p.md", "p.html", "p.ipynb"))
    for path in (source, page):
        path.write_text("input")
    assert not _newer_than(notebook, source, page)  # missing
    notebook.write_text("notebook")
    stamp = page.stat().st_mtime_ns
    os.utime(notebook, ns=(stamp + 1_000, stamp + 1_000))
    assert _newer_than(notebook, source, page)
    os.utime(page, ns=(stamp + 2_000, stamp + 2_000))  # the page written again
    assert not _newer_than(notebook, source, page)
