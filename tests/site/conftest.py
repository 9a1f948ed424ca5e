"""The site's tests judge the built pages: `make test` builds the site first."""

from __future__ import annotations

import pytest
from autograd_site.pages import built_page
from autograd_site.project import HTML, ROOT, executable_pages


@pytest.fixture(scope="session")
def built_site():
    """The built site, checked to be newer than every executable page's source."""
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built site in {HTML.relative_to(ROOT)}: run 'make html' (make test does)")
    stale = [
        page.relative_to(ROOT).as_posix()
        for page in executable_pages()
        if not built_page(page).exists() or built_page(page).stat().st_mtime < page.stat().st_mtime
    ]
    if stale:
        pytest.fail(f"the built site is older than {stale}: run 'make html' (make test does)")
    return HTML


@pytest.fixture
def sphinx_build():
    """Build a small Sphinx project (``src``) into ``out`` with warnings as errors; the
    extensions' tests use it. Returns sphinx-build's completed process."""
    import subprocess
    import sys

    def build(src, out):
        return subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src), str(out)],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip

    return build


@pytest.fixture(scope="session")
def selected(request):
    """What the session's selected tests ask for, so that a fixture running pages for
    them runs only those (every page under plain ``pytest``; ``-k plot_19`` selects one
    page's). ``selected(names, *keys)``: the set of ``keys``' parameter values (``""``
    where a test has none) over the selected tests whose function is in ``names``."""

    def params(names: set[str], *keys: str) -> set[tuple]:
        return {
            tuple(item.callspec.params.get(key, "") for key in keys)
            for item in request.session.items
            if getattr(item, "originalname", None) in names
        }

    return params
