"""Offer every MyST-NB page of the site as a Jupyter notebook download.

sphinx-gallery already offers each gallery example as ``.py`` and ``.ipynb``.
The MyST-NB pages (``docs/**/*.md`` with a ``file_format: mystnb`` or jupytext
top matter) are converted here with myst-nb's own reader
(:func:`myst_nb.core.read.read_myst_markdown_notebook`) and written with
:func:`nbformat.write` beside the generated page, as ``<page>.ipynb``: the cells
of the source, without outputs (running the notebook produces them). Each such
page gets a visible "Download this page as a Jupyter notebook" link at the top of
its body, and ``nb_download_url`` in the template context.

It also keeps the site self-contained: sphinx-gallery's execution-time pages
(``sg_execution_times``) embed raw HTML that loads jQuery, DataTables and a
Bootstrap stylesheet from third-party CDNs; :func:`drop_cdn_assets` removes that
raw block, so the timings remain a plain (sortable-free) table and the page loads
nothing from outside the site.
"""

from __future__ import annotations

import html
import posixpath
from pathlib import Path

import nbformat
from docutils import nodes
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook
from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "1.0"


def _notebook_docs(app) -> dict[str, Path]:
    """docname -> source path, for every MyST Markdown notebook of the project."""
    env = app.env
    cached = getattr(env, "_nb_downloads_docs", None)
    if cached is not None:
        return cached
    found = {}
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix != ".md" or not path.is_file():
            continue
        if is_myst_markdown_notebook(path.read_text(encoding="utf-8")):
            found[docname] = path
    env._nb_downloads_docs = found
    return found


def _reset(app, env, docnames):
    env._nb_downloads_docs = None
    return []


def notebook_for(docname: str) -> str:
    """The notebook's path in the output, relative to the output folder."""
    return docname + ".ipynb"


def convert(source: Path) -> nbformat.NotebookNode:
    """The MyST Markdown notebook at ``source`` as an nbformat v4 notebook."""
    nb = read_myst_markdown_notebook(source.read_text(encoding="utf-8"), path=source)
    nb.metadata.pop("source_map", None)
    # nbformat draws random cell ids; number them so two builds write the same file
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    nbformat.validate(nb)
    return nb


def add_download_link(app, pagename, templatename, context, doctree):
    if doctree is None or app.builder.format != "html":
        return
    if pagename not in _notebook_docs(app):
        return
    url = posixpath.basename(notebook_for(pagename))
    context["nb_download_url"] = url
    link = (
        '<div class="nb-download admonition note" role="note">'
        '<p class="admonition-title">Run this page yourself</p>'
        f'<p><a class="reference download nb-download-link" href="{html.escape(url)}" '
        f'download="{html.escape(url)}">'
        '<i class="fa-solid fa-download" aria-hidden="true"></i> '
        "Download this page as a Jupyter notebook (.ipynb)</a></p></div>\n"
    )
    body = context.get("body", "")
    # after the page's first heading, so the title stays first
    marker = "</h1>"
    at = body.find(marker)
    if at >= 0:
        at = body.find("\n", at) + 1 if body.find("\n", at) >= 0 else at + len(marker)
        context["body"] = body[:at] + link + body[at:]
    else:
        context["body"] = link + body


def _up_to_date(target: Path, source: Path) -> bool:
    """Whether ``target`` was written after its page, this module and myst-nb's reader changed."""
    if not target.exists():
        return False
    inputs = (source, Path(__file__), Path(read_myst_markdown_notebook.__code__.co_filename))
    return target.stat().st_mtime >= max(path.stat().st_mtime for path in inputs)


def write_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    written = 0
    for docname, source in _notebook_docs(app).items():
        target = outdir / notebook_for(docname)
        if _up_to_date(target, source):
            continue  # converting all seven costs a no-op rebuild 0.3 s
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(convert(source), str(target))
        written += 1
    logger.info(
        "nb_downloads: wrote %d notebooks, %d up to date",
        written,
        len(_notebook_docs(app)) - written,
    )


CDN_HOSTS = ("cdn.datatables.net", "code.jquery.com", "cdnjs.cloudflare.com")


def drop_cdn_assets(app, doctree):
    """Remove raw HTML blocks that load scripts or styles from a CDN."""
    for raw in list(doctree.findall(nodes.raw)):
        if "html" in raw.get("format", "").split() and any(h in raw.astext() for h in CDN_HOSTS):
            raw.parent.remove(raw)


def setup(app):
    app.connect("doctree-read", drop_cdn_assets)
    app.connect("env-before-read-docs", _reset)
    app.connect("html-page-context", add_download_link)
    app.connect("build-finished", write_notebooks)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
