"""Every executed page shows the reviewed values: the numbers in its built outputs.

The recordings live in ``tests/site/test_recorded_values/<page>.csv``; regenerate
them only on purpose, with ``make record-values``, and review the diff. Every
recorded number is exact by construction (closed forms at chosen points, shapes,
counts, messages): a value that depends on the CPU or the thread count is printed
as the bound the page checks, so one tolerance (RECORDED_RTOL) serves all.
"""

import numpy as np
import pytest
from autograd_site.pages import built_page, shown_on_page
from autograd_site.project import RECORDED_RTOL, executable_pages, page_id

PAGES = executable_pages()


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_page_shows_the_recorded_values(page, built_site, num_regression):
    """The numbers a built page shows equal its recording."""
    values = shown_on_page(built_page(page)).numbers
    assert values, f"{page.name} shows no number"
    num_regression.check(
        {"printed": np.array(values, dtype=np.float64)},
        basename=page_id(page),
        default_tolerance={"rtol": RECORDED_RTOL, "atol": 0.0},
    )


def test_every_recording_belongs_to_a_page():
    """No recording outlives its page."""
    from pathlib import Path

    folder = Path(__file__).with_suffix("")
    names = {page_id(p) for p in PAGES}
    orphans = sorted(p.stem for p in folder.glob("*.csv") if p.stem not in names)
    assert not orphans, f"recordings without a page: {orphans}"
