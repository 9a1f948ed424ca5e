"""The notebooks a reader downloads read as Markdown and code, not as reST.

sphinx-gallery converts each script's text cells to Markdown (``rst2md``) but copies a
``.. raw:: html`` block into the notebook verbatim, where it shows as a block of code.
Exercise solutions are therefore plain sections ("Solution to exercise N"), folded on
the HTML pages by ``docs/_static/solutions.js``, never raw HTML.
"""

from __future__ import annotations

import json
import re

import pytest
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
