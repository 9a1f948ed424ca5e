"""Numbers in prose come from the code: no page states a result its code does not produce.

A number in a page's narrative (text cells of a gallery script, markdown of a
MyST-NB page, LaTeX included) must be one of:

- printed by the page when it runs (so it is computed, and recorded and checked
  by the other tests), or
- a literal in the page's own code (an input or size the text chose), or
- a small integer 0-10 (orders, counts, dimensions), or
- listed with a reason in ``tests/prose_numbers_allowlist.toml``.

Anything else is a number that can drift from the output (PyTorch tutorials
issue 970): print it, or allowlist it with the reason it is not a result.
"""

import ast
import math
import re
import tomllib
from pathlib import Path

import pytest
from autograd_site.pages import built_page, numbers_in, shown_on_page
from autograd_site.project import ROOT, gallery_scripts, myst_nb_pages

ALLOWLIST = tomllib.loads((Path(__file__).parent / "prose_numbers_allowlist.toml").read_text())

# Text that holds numbers which are not claims about results.
NOT_CLAIMS = [
    r"https?://\S+",  # URLs
    r"\(\s*[\w-]+\s*\)=",  # MyST labels
    r"\.\. _[\w-]+:",  # reST labels
    r"\{(?:ref|doc|term|download)\}`[^`]*`",  # MyST roles
    r":(?:ref|doc|term|func|meth|class|mod|attr|data|download):`[^`]*`",  # reST roles
    r"\b(?:[Ii]ssues?|PRs?|pull requests?)\s+#?\d+(?:\s*(?:,|and)\s*#?\d+)*",  # tracker numbers
    r"\b(?:PyTorch|torch|Python|NumPy|Matplotlib|Sphinx|myst-nb|sphinx-gallery)\s+\d+(?:\.\d+)*",
    r"\b(?:19|20)\d\d\b",  # years
    r"plot_\d+\w*",  # file names
    r"\b[A-Za-z]+\d+\b",  # names such as x4, y7, float64, e1
    r"\^\{?-?\d+\}?",  # exponents in LaTeX (x^2) restate the code's powers
    r"_\{?\d+\}?",  # LaTeX subscripts (x_1, a_{12})
]


def _gallery_prose_and_code(path):
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    _, blocks = split_code_and_text_blocks(str(path))
    prose = "\n".join(b.content for b in blocks if b.type == "text")
    code = "\n".join(b.content for b in blocks if b.type == "code")
    return prose, [code]


def _myst_prose_and_code(path):
    from myst_nb.core.read import read_myst_markdown_notebook

    cells = read_myst_markdown_notebook(path.read_text()).cells
    prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    return prose, [c.source for c in cells if c.cell_type == "code"]


def _code_literals(sources):
    values = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
                values.add(float(node.value))
    return values


def _prose_numbers(prose):
    for pattern in NOT_CLAIMS:
        prose = re.sub(pattern, " ", prose)
    return numbers_in(prose)


def _known(value, pool):
    return any(math.isclose(value, p, rel_tol=1e-9, abs_tol=1e-12) for p in pool)


PAGES = [(p, _gallery_prose_and_code) for p in gallery_scripts()]
PAGES += [(p, _myst_prose_and_code) for p in myst_nb_pages()]


@pytest.mark.parametrize(("page", "split"), PAGES, ids=[p.stem for p, _ in PAGES])
def test_numbers_in_prose_are_printed_or_chosen(page, split, built_site):
    """Every number the narrative states is printed by the built page, an input, or allowlisted."""
    prose, code = split(page)
    printed = shown_on_page(built_page(page)).numbers
    literals = _code_literals(code)
    allowed = ALLOWLIST.get(page.relative_to(ROOT).as_posix(), {}).get("numbers", [])
    pool = set(printed) | literals | set(map(float, allowed))
    unexplained = sorted(
        {v for v in _prose_numbers(prose) if not (v.is_integer() and 0 <= v <= 10)}
        - {v for v in _prose_numbers(prose) if _known(v, pool)}
    )
    assert not unexplained, (
        f"{page.relative_to(ROOT)}: numbers in prose that the page neither prints nor uses as "
        f"input: {unexplained}. Print them, or allowlist them with a reason."
    )


def test_allowlist_names_existing_pages():
    """Every allowlisted page exists, so the allowlist cannot go stale silently."""
    for name, entry in ALLOWLIST.items():
        assert (ROOT / name).exists(), f"allowlist names a missing page: {name}"
        assert entry.get("why"), f"allowlist entry for {name} has no reason"
