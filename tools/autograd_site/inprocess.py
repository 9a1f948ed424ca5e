"""Run the site's executable pages in this process, for ``make mutation-docs`` only.

The mutation tool runs each page hundreds of times with one value corrupted,
so it runs them here, without a kernel or a Sphinx build per run. What the site
shows is judged on the built pages (tests/site); this runner only decides
whether a corrupted value makes a page's own checks fail.
"""

import io
import os
from contextlib import redirect_stdout
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from autograd_site.pages import numbers_in  # noqa: E402, F401 - re-exported for the tool
from autograd_site.project import DOCS, ROOT, gallery_scripts, myst_nb_pages  # noqa: E402, F401
from autograd_site.sphinxext.execution import reset_torch  # noqa: E402

GALLERY_SCRIPTS = gallery_scripts()
MYST_NB_PAGES = myst_nb_pages()

# Set by make mutation-docs: digest the figures a run leaves open, to tell whether
# a mutant changed anything the page shows.
CAPTURE_FIGURES = False
last_figures_digest = ""


def _close_figures():
    """Close every figure; first digest their pixels when CAPTURE_FIGURES is set."""
    global last_figures_digest
    import hashlib

    import matplotlib.pyplot as plt

    if CAPTURE_FIGURES:
        digest = hashlib.sha256()
        for number in plt.get_fignums():
            figure = plt.figure(number)
            figure.canvas.draw()
            digest.update(bytes(figure.canvas.buffer_rgba()))
        last_figures_digest = digest.hexdigest()
    plt.close("all")


class ExpectedErrorMissing(AssertionError):
    """A cell tagged raises-exception ran without raising."""


def run_gallery_source(source: str, path: Path, *, compile_code=compile, namespace=None) -> str:
    """Execute a gallery script's source as sphinx-gallery would; return what it printed.

    ``compile_code(source, filename, "exec")`` compiles it (make mutation-docs
    passes one that instruments the code); ``namespace`` adds names to its globals.
    """
    reset_torch(None, str(path))
    namespace = {"__name__": "__main__", "__file__": str(path), **(namespace or {})}
    code = compile_code(source, str(path), "exec")
    out = io.StringIO()
    old_cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        with redirect_stdout(out):
            exec(code, namespace)
    finally:
        os.chdir(old_cwd)
        _close_figures()
        reset_torch(None, str(path))
    return out.getvalue()


def myst_nb_cells(page: Path):
    """Yield ``(index, source, tags)`` for each code cell of a MyST-NB text notebook."""
    from myst_nb.core.read import read_myst_markdown_notebook

    notebook = read_myst_markdown_notebook(page.read_text())
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            yield index, cell.source, set(cell.metadata.get("tags", []))


def cell_filename(page: Path, index: int) -> str:
    """The pseudo file name a cell's code is compiled under (used to attribute call sites)."""
    return f"{page}#cell{index}"


def run_myst_nb_page(page: Path, *, compile_code=compile, namespace=None) -> str:
    """Run a MyST-NB page's cells in order; return what they printed.

    A ``raises-exception`` cell must raise something other than AssertionError,
    else :class:`ExpectedErrorMissing` (an AssertionError) is raised.
    ``compile_code`` and ``namespace`` as for :func:`run_gallery_source`.
    """
    reset_torch(None, str(page))
    namespace = {"__name__": "__main__", **(namespace or {})}
    out = io.StringIO()
    try:
        for index, source, tags in myst_nb_cells(page):
            code = compile_code(source, cell_filename(page, index), "exec")
            with redirect_stdout(out):
                if "raises-exception" not in tags:
                    exec(code, namespace)
                    continue
                try:
                    exec(code, namespace)
                except AssertionError:
                    raise
                except Exception as err:  # noqa: BLE001 - any real error is what the cell shows
                    print(f"{type(err).__name__}: {err}")
                else:
                    raise ExpectedErrorMissing(f"{page.name}, cell {index} did not raise")
    finally:
        _close_figures()
        reset_torch(None, str(page))
    return out.getvalue()
