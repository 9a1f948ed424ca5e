"""What a reader takes home: notebook downloads, gradkit's wheel, and what computed the outputs.

- Every MyST-NB page is offered as a Jupyter notebook: converted with myst-nb's
  reader (:func:`myst_nb.core.read.read_myst_markdown_notebook`) and written
  with :func:`nbformat.write` beside the page as ``<page>.ipynb``; a "Run this
  page yourself" box after the title links to it. (sphinx-gallery offers its
  scripts as ``.py``, ``.ipynb`` and zip itself.)
- gradkit's wheel, built from ``src/`` by ``pip wheel`` at build time, is served
  at ``_downloads/gradkit/``. The ``gradkit-install`` directive puts, at the top
  of each page that uses gradkit, the link and the exact ``pip install``
  command; every other page runs with torch, matplotlib and numpy alone.
- Every executed page and the home page say which torch and Python computed
  their outputs, and on which device (the ``computed-with.html`` template),
  read from the build's environment.
"""

from __future__ import annotations

import platform
import posixpath
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.parsers.rst import Directive
from myst_nb.core.read import read_myst_markdown_notebook
from sphinx.util import logging

from autograd_site.project import is_myst_nb_source

logger = logging.getLogger(__name__)

WHEEL_FOLDER = "_downloads/gradkit"


def wheel_name(release: str) -> str:
    """The file name of gradkit's wheel (pure Python, any platform)."""
    return f"gradkit-{release}-py3-none-any.whl"


def _relative(docname: str, target: str) -> str:
    """``target`` (relative to the site's root) as a link from the page ``docname``."""
    return posixpath.relpath(target, posixpath.dirname(docname) or ".")


# -- notebooks of the MyST-NB pages -------------------------------------------------


def _is_notebook_page(env, docname: str) -> bool:
    path = Path(env.doc2path(docname))
    return path.suffix == ".md" and is_myst_nb_source(path.read_text(encoding="utf-8"))


def convert(source: Path) -> nbformat.NotebookNode:
    """The MyST-NB page at ``source`` as an nbformat v4 notebook, without outputs."""
    notebook = read_myst_markdown_notebook(source.read_text(encoding="utf-8"), path=source)
    notebook.metadata.pop("source_map", None)
    # nbformat draws random cell ids; number them so two builds write the same file
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    nbformat.validate(notebook)
    return notebook


def _add_notebook_box(app, doctree):
    """A "Run this page yourself" box after the title of every MyST-NB page."""
    docname = app.env.docname
    if not _is_notebook_page(app.env, docname):
        return
    name = posixpath.basename(docname) + ".ipynb"
    link = nodes.reference("", "", nodes.Text(f"{name} (Jupyter notebook)"), refuri=name)
    link["classes"].append("nb-download-link")
    paragraph = nodes.paragraph(
        "",
        "",
        nodes.Text("Download this page as "),
        link,
        nodes.Text(" and run it with Jupyter; it prints what this page shows."),
    )
    box = nodes.admonition("", nodes.title("", "Run this page yourself"), paragraph)
    box["classes"] += ["note", "nb-download"]
    _insert_after_title(doctree, box)


def _insert_after_title(doctree, node):
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        doctree.insert(0, node)
    else:
        section.insert(1, node)


def _write_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for docname in sorted(app.env.found_docs):
        if _is_notebook_page(app.env, docname):
            target = outdir / (docname + ".ipynb")
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(convert(Path(app.env.doc2path(docname))), str(target))


# -- gradkit's wheel ------------------------------------------------------------------


class GradkitInstall(Directive):
    """``.. gradkit-install::``: this page needs gradkit; here is the wheel and the command."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        wheel = wheel_name(env.config.release)
        href = _relative(env.docname, f"{WHEEL_FOLDER}/{wheel}")
        link = nodes.reference("", "", nodes.literal("", wheel), refuri=href)
        intro = nodes.paragraph(
            "",
            "",
            nodes.Text(
                "This page uses gradkit, the site's own library of gradient "
                "utilities (it is not on PyPI). Download "
            ),
            link,
            nodes.Text(" and install it next to torch:"),
        )
        command = nodes.literal_block("", f"pip install {wheel}")
        command["language"] = "console"
        box = nodes.admonition("", nodes.title("", "Needs gradkit"), intro, command)
        box["classes"] += ["important", "gradkit-install"]
        return [box]


def build_wheel(confdir: Path, folder: Path) -> Path:
    """Build gradkit's wheel from the sources in ``confdir`` into ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("gradkit-*.whl"):
        old.unlink()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(folder),
            str(confdir),
        ],
        capture_output=True,
        text=True,
    )
    wheels = list(folder.glob("gradkit-*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(f"building gradkit's wheel failed:\n{result.stdout}\n{result.stderr}")
    return wheels[0]


def _wheel_is_current(wheel: Path, confdir: Path) -> bool:
    if not wheel.exists():
        return False
    sources = list((confdir / "src" / "gradkit").rglob("*")) + [confdir / "pyproject.toml"]
    return wheel.stat().st_mtime >= max(p.stat().st_mtime for p in sources if p.is_file())


def _serve_wheel(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    confdir = Path(app.confdir)
    folder = Path(app.outdir) / WHEEL_FOLDER
    wheel = folder / wheel_name(app.config.release)
    if not _wheel_is_current(wheel, confdir):
        built = build_wheel(confdir, folder)
        if built.name != wheel.name:
            raise RuntimeError(f"gradkit's wheel is {built.name}, the pages link {wheel.name}")
        logger.info(f"[downloads] built {WHEEL_FOLDER}/{wheel.name}")


# -- what computed the outputs ----------------------------------------------------------


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def computed_with() -> str:
    """One sentence: which torch and Python computed the outputs, and on what."""
    return (
        f"PyTorch {version('torch')}, Python {platform.python_version()}, "
        f"on the CPU ({_cpu_name()}, {platform.machine()})"
    )


def _executed(app, pagename: str) -> bool:
    if pagename == app.config.root_doc:
        return True
    if pagename in app.env.found_docs and _is_notebook_page(app.env, pagename):
        return True
    parts = pagename.split("/")
    return parts[0] == "auto_examples" and parts[-1].startswith("plot_")


def _add_computed_with(app, pagename, templatename, context, doctree):
    if app.builder.format == "html" and _executed(app, pagename):
        context["computed_with"] = app.env.autograd_site_computed_with


def _remember_computed_with(app):
    app.env.autograd_site_computed_with = computed_with()


def setup(app):
    app.add_directive("gradkit-install", GradkitInstall)
    app.connect("builder-inited", _remember_computed_with)
    app.connect("doctree-read", _add_notebook_box)
    app.connect("html-page-context", _add_computed_with)
    app.connect("build-finished", _write_notebooks)
    app.connect("build-finished", _serve_wheel)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
