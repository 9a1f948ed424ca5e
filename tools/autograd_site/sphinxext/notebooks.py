"""The notebooks a reader downloads or opens in Colab: plain Markdown, and what Colab lacks.

- Every notebook's Markdown is cleaned of Sphinx markup (``autograd_site.notebook_markdown``):
  roles become links resolved by Sphinx itself (the same targets the HTML page links,
  as absolute addresses under ``html_baseurl``, or the API docs through intersphinx);
  directives become Markdown. sphinx-gallery's notebooks (and the zip that holds them)
  are cleaned in ``docs/auto_examples`` once every page is read, before Sphinx copies
  them to ``_downloads``; the MyST-NB pages' notebooks are written cleaned.
- A gradkit page's notebook installs gradkit in the cell after its note: the page's own
  ``pip install`` command (``downloads.install_command``), run only where gradkit is
  missing (Colab; a reader's machine that has it skips it). The tutorials need nothing
  Colab lacks.
- A tutorial's notebook opens with what it teaches and the pages before it, and ends with
  the next page on the reading path, as its page does (``reading_path``).
- Every executed page links its notebook in Google Colab, which opens notebooks from a
  GitHub repository: ``<repository>/blob/<NOTEBOOKS_BRANCH>/<page>.ipynb``. The publishing
  workflow (.github/workflows/docs.yml) pushes the notebooks there, laid out by
  :func:`published_notebooks`; no link without ``[project.urls] Source`` on GitHub.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import nbformat
from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError, NoUri

from autograd_site import notebook_markdown
from autograd_site.files import written_whole
from autograd_site.notebook_markdown import (
    PYTHON_ROLES,
    Directive,
    UnknownDirective,
    to_markdown,
)
from autograd_site.sphinxext import downloads, reading_path

# The branch of the repository that holds the built notebooks Colab opens.
NOTEBOOKS_BRANCH = "notebooks"
COLAB = "https://colab.research.google.com/github/{repository}/blob/{branch}/{path}"
GITHUB = re.compile(r"^https://github\.com/(?P<repository>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")
GRADKIT_SNIPPET = "/_snippets/needs_gradkit.md"

GRADKIT_NOTE = (
    "> **Needs gradkit:** this notebook uses gradkit, the site's own library of gradient "
    "utilities (it is not on PyPI). The next cell installs it where it is missing (in "
    "Colab, for example), with `{command}`.\n"
)
INSTALL_CELL = (
    "# gradkit is not on PyPI: install the wheel the site serves, where it is missing.\n"
    "import importlib.util\n"
    "\n"
    'if importlib.util.find_spec("gradkit") is None:\n'
    "    %{command}"
)


# -- Colab -----------------------------------------------------------------------------


def colab_url(repository: str | None, pagename: str) -> str | None:
    """The Colab address of a page's notebook, or None without a GitHub repository."""
    match = GITHUB.match(repository or "")
    if match is None:
        return None
    return COLAB.format(repository=match["repository"], branch=NOTEBOOKS_BRANCH,
                        path=f"{pagename}.ipynb")


def published_notebooks(html: Path) -> dict[str, Path]:
    """Each executed page's notebook in the built site, by its path on the notebooks branch.

    A MyST-NB page's notebook lies beside it (``<page>.ipynb``); a tutorial's is the
    ``.ipynb`` its page links under ``_downloads/``, published at ``<page>.ipynb``.
    """
    found: dict[str, Path] = {}
    for page in sorted(html.rglob("*.html")):
        relative = page.relative_to(html)
        if relative.parts[0] in ("_downloads", "_static", "_sources", "_modules"):
            continue
        beside = page.with_suffix(".ipynb")
        if beside.exists():
            found[relative.with_suffix(".ipynb").as_posix()] = beside
        elif relative.parts[0] == "auto_examples" and relative.name.startswith("plot_"):
            downloads_found = sorted((html / "_downloads").glob(f"*/{relative.stem}.ipynb"))
            if len(downloads_found) == 1:
                found[relative.with_suffix(".ipynb").as_posix()] = downloads_found[0]
    return found


def _add_colab_url(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or pagename == app.config.root_doc:
        return
    if downloads.is_executed(app, pagename):
        context["colab_url"] = colab_url(app.config.autograd_site_repository, pagename)


# -- resolving roles the way the page does --------------------------------------------


def make_resolver(app, docname: str):
    """A resolver for ``notebook_markdown``: Sphinx's domains, then intersphinx."""
    env = app.env
    base = app.config.html_baseurl.rstrip("/") + "/"

    def resolve(role: str, target: str, title: str | None):
        domain_name = "py" if role in PYTHON_ROLES else "std"
        if role == "ref":
            target = target.lower()
        text = title or target
        contnode = nodes.inline(text, text)
        node = addnodes.pending_xref("", contnode, refdomain=domain_name, reftype=role,
                                     reftarget=target, refexplicit=title is not None,
                                     refwarn=False, refdoc=docname)
        try:
            found = env.get_domain(domain_name).resolve_xref(
                env, docname, app.builder, role, target, node, contnode)
            if found is None:
                found = app.emit_firstresult("missing-reference", env, node, contnode,
                                             allowed_exceptions=(NoUri,))
        except NoUri:
            found = None
        if found is None:
            return None, text
        if found.get("refuri"):
            url = urljoin(base + docname, found["refuri"])
        else:
            url = f"{base}{docname}.html#{found['refid']}"
        return url, found.astext()

    return resolve


# -- the cells ---------------------------------------------------------------------------


def _install_command(app) -> str:
    return downloads.install_command(app.config.html_baseurl, app.config.release)


# The site's directives that show nothing in a notebook: the page's search keywords and
# its figures' alt text (autograd_site.sphinxext.search, .alt_text).
INVISIBLE = {"search", "figure-alt"}


def _render(app, resolve, seen: set[str]):
    """The Markdown of the site's own directives; ``seen`` collects their names."""

    def render(directive: Directive) -> str | None:
        if directive.name == "gradkit-install" or (
            directive.name == "include" and directive.argument == GRADKIT_SNIPPET
        ):
            seen.add("gradkit-install")
            return GRADKIT_NOTE.format(command=_install_command(app))
        if directive.name == "reading-path":
            seen.add("reading-path")
            labels = reading_path.after_labels(directive.options.get("after", ""))
            links = [f"[{text}]({url})" for url, text in (resolve("ref", label, None)
                                                          for label in labels)]
            before = ", ".join(links) + "." if links else reading_path.FIRST
            return (f"**{reading_path.LEARN}** {directive.options.get('learn', '')}.\n\n"
                    f"**{reading_path.BEFORE}** {before}\n")
        if directive.name in INVISIBLE:
            seen.add(directive.name)
            return ""
        return None

    return render


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _code_cell(code: str, *, gallery: bool):
    if not gallery:
        return nbformat.v4.new_code_cell(code)
    # as sphinx-gallery writes its cells (nbformat 4.0: no cell ids)
    return {"cell_type": "code", "execution_count": None, "metadata": {"collapsed": False},
            "outputs": [], "source": [code]}


def clean_cells(app, docname: str, cells: list, *, gallery: bool, where: str) -> list:
    """The cells with clean Markdown, gradkit's install cell and the reading path's end.

    Cleaning is idempotent: a notebook already cleaned has no directive left, so it gets
    no second install cell or closing line.
    """
    resolve = make_resolver(app, docname)
    seen: set[str] = set()
    render = _render(app, resolve, seen)
    cleaned: list = []
    for index, cell in enumerate(cells):
        cleaned.append(cell)
        if cell["cell_type"] != "markdown":
            continue
        before = set(seen)
        try:
            markdown = to_markdown(_source(cell), resolve, render, gallery=gallery)
        except UnknownDirective as error:
            raise ExtensionError(
                f"{where}, cell {index}: the directive '{error}' has no Markdown form for "
                "the notebook; give it one in autograd_site/sphinxext/notebooks.py (_render)"
            ) from None
        if INVISIBLE & (seen - before):  # at the docstring's end: no blank lines left for them
            markdown = markdown.rstrip("\n") + "\n"
        cell["source"] = [markdown] if isinstance(cell["source"], list) else markdown
        if "gradkit-install" in seen - before:
            cleaned.append(_code_cell(INSTALL_CELL.format(command=_install_command(app)),
                                      gallery=gallery))
    following = reading_path.next_docname(docname)
    if "reading-path" in seen and following is not None:
        url, text = resolve("doc", "/" + following, None)
        words = f" {reading_path.LAST} " if following == reading_path.LAST_PAGE else " "
        cleaned.append({"cell_type": "markdown", "metadata": {},
                        "source": [f"**{reading_path.NEXT}**{words}[{text}]({url})."]})
    return cleaned


# -- sphinx-gallery's notebooks, and the zip that holds them -----------------------------


def _clean_gallery_notebooks(app, env):
    """Clean each tutorial's notebook (and the zips that hold them) before Sphinx copies
    them; a notebook cleaned already is left as it is."""
    srcdir = Path(app.srcdir)
    for folder in app.config.sphinx_gallery_conf["gallery_dirs"]:
        for path in sorted((srcdir / folder).rglob("plot_*.ipynb")):
            docname = path.relative_to(srcdir).with_suffix("").as_posix()
            text = path.read_text(encoding="utf-8")
            notebook = json.loads(text)
            notebook["cells"] = clean_cells(app, docname, notebook["cells"], gallery=True,
                                            where=str(path.relative_to(srcdir)))
            cleaned = json.dumps(notebook, indent=2)  # as sphinx-gallery writes it
            if cleaned != text:
                with _same_modification_time(path):
                    path.write_text(cleaned, encoding="utf-8")
        for archive in sorted((srcdir / folder).rglob("*.zip")):
            with _same_modification_time(archive):
                _refresh_zip(archive)
    return []


@contextlib.contextmanager
def _same_modification_time(path: Path):
    """Rewrite ``path`` keeping its modification time. Sphinx counts a page's downloads
    among the files the page depends on, and re-reads the page on the next build when
    one is newer than its last reading. The cleaning runs after the pages are read (it
    needs their titles), so a new time would make every build after a clean one re-read
    all the tutorials (10 s) although the sources did not change; the cleaned file is
    derived from the page, not an input to it. Sphinx copies downloads on every build,
    whatever their time, so the site still gets the cleaned file."""
    times = os.stat(path)
    try:
        yield
    finally:
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def _refresh_zip(archive: Path) -> None:
    """Put the cleaned notebooks into one of sphinx-gallery's zips (members named relative
    to the zip's folder), keeping every member's name, order and date."""
    with zipfile.ZipFile(archive) as old:
        members = [(info, old.read(info)) for info in old.infolist()]
    fresh = []
    for info, data in members:
        source = archive.parent / info.filename
        if info.filename.endswith(".ipynb") and source.is_file():
            data = source.read_bytes()
        fresh.append((info, data))
    if fresh == members:
        return
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in fresh:
            new.writestr(info, data)


# -- the MyST-NB pages' notebooks --------------------------------------------------------


def _write_myst_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for docname in sorted(app.env.found_docs):
        if not downloads.is_notebook_page(app.env, docname):
            continue
        target = outdir / (docname + ".ipynb")
        source = Path(app.env.doc2path(docname))
        if _newer_than(target, source, Path(app.builder.get_outfilename(docname)), *MAKERS):
            continue  # the page, its source and this code unchanged since the notebook was made
        notebook = downloads.convert(source)
        notebook.cells = clean_cells(app, docname, notebook.cells, gallery=False,
                                     where=docname + ".md")
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"cell-{index}"
        nbformat.validate(notebook)
        target.parent.mkdir(parents=True, exist_ok=True)
        # whole or not at all: a notebook newer than its page is not made again
        with written_whole(target) as partial:
            nbformat.write(notebook, str(partial))


# The code that makes a page's notebook: a change to it makes every notebook again.
MAKERS = (Path(__file__), Path(downloads.__file__), Path(notebook_markdown.__file__))


def _newer_than(target: Path, *inputs: Path) -> bool:
    """``target`` exists and was written after each of ``inputs``. A page's notebook is
    made from its source and from what its written page resolves (links, the next page),
    so it is written again whenever the page is."""
    if not target.is_file():
        return False
    written = target.stat().st_mtime_ns
    return all(path.is_file() and path.stat().st_mtime_ns < written for path in inputs)


def setup(app):
    app.add_config_value("autograd_site_repository", None, "html", types=(str, type(None)))
    app.connect("env-updated", _clean_gallery_notebooks)
    app.connect("build-finished", _write_myst_notebooks)
    app.connect("html-page-context", _add_colab_url)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
