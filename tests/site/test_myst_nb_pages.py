"""The MyST-NB pages' expected errors are honest.

The build fails when a cell tagged ``raises-exception`` raises nothing or raises
``AssertionError`` (tools/autograd_site/sphinxext/execution.py); here, such a cell
must also hold no check, so that a failing check can never pass as the error the
page shows on purpose.
"""

import ast

import pytest
from autograd_site.pages import built_page, shown_on_page
from autograd_site.project import myst_nb_pages, page_id

PAGES = myst_nb_pages()


def _has_check(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and "assert" in ast.unparse(node.func):
            return True
    return False


def _code_cells(page):
    from myst_nb.core.read import read_myst_markdown_notebook

    notebook = read_myst_markdown_notebook(page.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            yield index, cell.source, set(cell.metadata.get("tags", []))


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_expected_error_cells_hold_no_check(page):
    """A raises-exception cell holds only the failing call, never a check."""
    for index, source, tags in _code_cells(page):
        if "raises-exception" in tags:
            assert not _has_check(source), (
                f"{page.name}, cell {index}: a check in an expected error"
            )


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_expected_errors_are_shown(page, built_site):
    """Each raises-exception cell shows its error on the built page, and it is no AssertionError."""
    expected = sum("raises-exception" in tags for _, _, tags in _code_cells(page))
    errors = [
        part
        for part in shown_on_page(built_page(page)).parts
        if part.split(":", 1)[0].endswith(("Error", "Exception"))
    ]
    assert len(errors) >= expected, f"{page.name}: {expected} expected errors, shown {errors}"
    assert not [e for e in errors if e.startswith("AssertionError")]


def test_there_are_pages_to_check():
    """At least the corrected notebook is found."""
    assert any(p.stem == "original_corrected" for p in PAGES)
