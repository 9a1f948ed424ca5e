"""What a reader takes home: notebook downloads, gradkit's wheel, and what computed the outputs.

- Every MyST-NB page is offered as a Jupyter notebook: converted with myst-nb's
  reader (:func:`myst_nb.core.read.read_myst_markdown_notebook`) by :func:`convert`
  and written beside the page as ``<page>.ipynb`` (``autograd_site.sphinxext.notebooks``
  writes it, in clean Markdown); a "Run this page yourself" box after the title links
  to it. (sphinx-gallery offers its scripts as ``.py``, ``.ipynb`` and zip itself.)
- gradkit's wheel, built from ``src/`` by ``pip wheel`` at build time (while the pages
  are written), is served at ``_downloads/gradkit/``.
  The ``gradkit-install`` directive puts, at the top of each page that uses gradkit,
  the link and the exact ``pip install`` command (the wheel's published address,
  :func:`install_command`: the notebooks' install cell runs the same command); every
  other page runs with torch, matplotlib and numpy alone.
- Every executed page and the home page say when, with which torch and Python
  their outputs were computed, and on which device (the ``computed-with.html``
  template), read from the build's environment: the date is ``SOURCE_DATE_EPOCH``,
  the date of the commit built (the Makefile sets it; Sphinx dates the copyright by it).
"""

from __future__ import annotations

import atexit
import os
import platform
import posixpath
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import IO

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


def wheel_url(baseurl: str, release: str) -> str:
    """Where the published site serves gradkit's wheel."""
    return f"{baseurl.rstrip('/')}/{WHEEL_FOLDER}/{wheel_name(release)}"


def install_command(baseurl: str, release: str) -> str:
    """The command a gradkit page shows, and its notebook's install cell runs."""
    return f"pip install {wheel_url(baseurl, release)}"


def _relative(docname: str, target: str) -> str:
    """``target`` (relative to the site's root) as a link from the page ``docname``."""
    return posixpath.relpath(target, posixpath.dirname(docname) or ".")


# -- notebooks of the MyST-NB pages -------------------------------------------------


def is_notebook_page(env, docname: str) -> bool:
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
    if not is_notebook_page(app.env, docname):
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
                "utilities (it is not on PyPI). Install the wheel this site serves "
                "next to torch (or download "
            ),
            link,
            nodes.Text(" and install the file):"),
        )
        command = nodes.literal_block("", install_command(env.config.html_baseurl,
                                                          env.config.release))
        command["language"] = "console"
        box = nodes.admonition("", nodes.title("", "Needs gradkit"), intro, command)
        box["classes"] += ["important", "gradkit-install"]
        return [box]


@dataclass
class WheelBuild:
    """A ``pip wheel`` running in the background, and the file it prints to."""

    process: subprocess.Popen
    output: IO[str]
    folder: Path

    def finish(self) -> Path:
        """Wait for the build; return the wheel's path (an error with pip's output if none)."""
        self.process.wait()
        printed = self._close()
        wheels = list(self.folder.glob("gradkit-*.whl"))
        if self.process.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(f"building gradkit's wheel failed:\n{printed}")
        return wheels[0]

    def abandon(self) -> None:
        """Stop the build (the site's build failed)."""
        self.process.kill()
        self.process.wait()
        self._close()

    def _close(self) -> str:
        atexit.unregister(self.process.kill)
        with self.output:
            self.output.seek(0)
            return self.output.read()


def start_wheel_build(confdir: Path, folder: Path) -> WheelBuild:
    """Start building gradkit's wheel from the sources in ``confdir`` into ``folder``.

    What pip prints goes to a temporary file, so a long output cannot stall it; the
    process is killed if this one exits first (Ctrl-C)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("gradkit-*.whl"):
        old.unlink()
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by WheelBuild
    process = subprocess.Popen(
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
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    atexit.register(process.kill)
    return WheelBuild(process, output, folder)


def _wheel_is_current(wheel: Path, confdir: Path) -> bool:
    if not wheel.exists():
        return False
    sources = list((confdir / "src" / "gradkit").rglob("*")) + [confdir / "pyproject.toml"]
    return wheel.stat().st_mtime >= max(p.stat().st_mtime for p in sources if p.is_file())


_wheel_build: WheelBuild | None = None


def _start_wheel(app, env):
    """Build the wheel while the pages are written (pip takes a second), if it is not
    current. Not sooner: pip writes into the source tree (``build/``, ``src/*.egg-info``)
    while it builds, and the pages import gradkit from there while they run."""
    global _wheel_build
    if app.builder.format != "html":
        return
    confdir = Path(app.confdir)
    folder = Path(app.outdir) / WHEEL_FOLDER
    if not _wheel_is_current(folder / wheel_name(app.config.release), confdir):
        _wheel_build = start_wheel_build(confdir, folder)


def _serve_wheel(app, exception):
    global _wheel_build
    if _wheel_build is None:
        return
    build, _wheel_build = _wheel_build, None
    if exception is not None:
        build.abandon()  # a failed build leaves no process behind
        return
    built = build.finish()
    wheel = Path(app.outdir) / WHEEL_FOLDER / wheel_name(app.config.release)
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


def computed_on() -> date | None:
    """The day the outputs are dated by: ``SOURCE_DATE_EPOCH`` (the commit's date), if set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch), tz=UTC).date() if epoch else None


def computed_with() -> str:
    """One sentence: which torch and Python computed the outputs, and on what."""
    return (
        f"PyTorch {version('torch')}, Python {platform.python_version()}, "
        f"on the CPU ({_cpu_name()}, {platform.machine()})"
    )


def is_executed(app, pagename: str) -> bool:
    if pagename == app.config.root_doc:
        return True
    if pagename in app.env.found_docs and is_notebook_page(app.env, pagename):
        return True
    parts = pagename.split("/")
    return parts[0] == "auto_examples" and parts[-1].startswith("plot_")


def _add_computed_with(app, pagename, templatename, context, doctree):
    if app.builder.format == "html" and is_executed(app, pagename):
        context["computed_with"] = app.env.autograd_site_computed_with
        if app.config.autograd_site_computed_on:
            day = date.fromisoformat(app.config.autograd_site_computed_on)
            context["computed_on"] = {"iso": day.isoformat(), "text": f"{day.day} {day:%B %Y}"}


def _remember_computed_with(app):
    app.env.autograd_site_computed_with = computed_with()


def _set_computed_on(app, config):
    # A configuration value of the "html" kind: a new date rewrites every page (without
    # reading or running any again), so no page keeps an older build's date.
    day = computed_on()
    config.autograd_site_computed_on = day.isoformat() if day else ""


def setup(app):
    app.add_directive("gradkit-install", GradkitInstall)
    app.add_config_value("autograd_site_computed_on", "", "html", types=(str,))
    app.connect("config-inited", _set_computed_on)
    app.connect("builder-inited", _remember_computed_with)
    app.connect("doctree-read", _add_notebook_box)
    app.connect("html-page-context", _add_computed_with)
    app.connect("env-updated", _start_wheel)
    app.connect("build-finished", _serve_wheel)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
