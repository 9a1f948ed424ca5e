"""Every MyST-NB page in docs/ runs top to bottom, and its expected errors are honest.

The build executes these pages too; this test runs them faster (one process)
and more strictly: a cell tagged ``raises-exception`` must raise, must not
raise ``AssertionError`` (a failing check hidden as an expected error), and
must not contain a check.
"""

import ast

import numpy as np
import pytest
from pagerun import MYST_NB_PAGES, myst_nb_cells, numbers_in, printed_output

IDS = [p.stem for p in MYST_NB_PAGES]


def _has_check(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and "assert" in ast.unparse(node.func):
            return True
    return False


@pytest.mark.parametrize("page", MYST_NB_PAGES, ids=IDS)
def test_page_executes_and_prints_the_recorded_values(page, num_regression):
    """Cells run in order (raises-exception cells raise a real error); printed values are reviewed.

    The recorded values live in tests/test_docs_pages/; regenerate them only on
    purpose, with ``make record-values``.
    """
    values = numbers_in(printed_output(page))
    if not values:
        return
    num_regression.check(
        {"printed": np.array(values, dtype=np.float64)},
        basename=page.stem,
        default_tolerance={"rtol": 1e-7, "atol": 0.0},
    )


@pytest.mark.parametrize("page", MYST_NB_PAGES, ids=IDS)
def test_expected_error_cells_hold_no_check(page):
    """A raises-exception cell holds only the failing call, never a check."""
    for index, source, tags in myst_nb_cells(page):
        if "raises-exception" in tags:
            assert not _has_check(source), (
                f"{page.name}, cell {index}: a check in an expected error"
            )


def test_there_are_pages_to_check():
    """At least the corrected notebook is found."""
    assert any(p.stem == "original_corrected" for p in MYST_NB_PAGES)
