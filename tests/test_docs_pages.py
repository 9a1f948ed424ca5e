"""Every MyST-NB page in docs/ runs top to bottom, and its expected errors are honest.

The build executes these pages too; this test runs them faster (one process)
and more strictly: a cell tagged ``raises-exception`` must raise, must not
raise ``AssertionError`` (a failing check hidden as an expected error), and
must not contain a check.
"""

import ast
import io
from contextlib import redirect_stdout

import pytest
from conftest import DOCS
from myst_nb.core.read import read_myst_markdown_notebook
from site_hooks import reset_torch

MYST_NB_PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if "auto_examples" not in p.parts and "file_format: mystnb" in p.read_text()
)


def _code_cells(page):
    notebook = read_myst_markdown_notebook(page.read_text())
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            yield index, cell.source, set(cell.metadata.get("tags", []))


def _has_check(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and "assert" in ast.unparse(node.func):
            return True
    return False


@pytest.mark.parametrize("page", MYST_NB_PAGES, ids=[p.stem for p in MYST_NB_PAGES])
def test_page_executes_with_honest_expected_errors(page):
    """Cells run in order; raises-exception cells raise a real error and hold no check."""
    import matplotlib.pyplot as plt

    reset_torch(None, str(page))
    namespace = {"__name__": "__main__"}
    try:
        for index, source, tags in _code_cells(page):
            where = f"{page.name}, cell {index}"
            code = compile(source, where, "exec")
            with redirect_stdout(io.StringIO()):
                if "raises-exception" in tags:
                    assert not _has_check(source), f"{where}: a check inside an expected error"
                    with pytest.raises(Exception) as info:  # noqa: PT011 - any real error
                        exec(code, namespace)
                    assert not isinstance(info.value, AssertionError), (
                        f"{where}: a failing check tagged raises-exception"
                    )
                else:
                    exec(code, namespace)
    finally:
        plt.close("all")
        reset_torch(None, str(page))


def test_there_are_pages_to_check():
    """At least the corrected notebook is found."""
    assert any(p.stem == "original_corrected" for p in MYST_NB_PAGES)
