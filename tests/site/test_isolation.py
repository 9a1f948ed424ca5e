"""Each page shows what it shows when it runs alone: nothing leaks from one page to the next.

For every executed page, the outputs of the full build (printed text, and the
number and order of figures) equal those of the page's own notebook download,
run alone in a fresh kernel from an empty folder. A figure left open by one page
and drawn on the next, or any state shared between pages, makes them differ.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from autograd_site.pages import built_page, notebook_download, shown_on_page
from autograd_site.project import executable_pages, page_id
from autograd_site.readers import reader_env, run_download

PAGES = executable_pages()


@pytest.fixture(scope="session")
def alone(built_site, selected):
    """The selected pages' notebooks (every page under plain ``pytest``; ``-k plot_19``
    selects one), each run alone, two at a time."""
    wanted = selected({"test_page_shows_what_it_shows_alone"}, "page")
    pages = [page for page in PAGES if (page,) in wanted]
    env = reader_env(threads="1")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        runs = pool.map(
            lambda p: run_download(notebook_download(p), sys.executable, env=env), pages
        )
        return dict(zip(pages, runs, strict=True))


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_page_shows_what_it_shows_alone(page, alone):
    """Text and figures of the built page equal those of the page run alone."""
    run = alone[page]
    assert run.returncode == 0, f"{page.name} failed when run alone:\n{run.stderr[-3000:]}"
    on_page = shown_on_page(built_page(page))
    assert on_page.figures == run.shown.figures, (
        f"{page.name}: {on_page.figures} figures in the build, {run.shown.figures} alone"
    )
    assert on_page.text == run.shown.text
