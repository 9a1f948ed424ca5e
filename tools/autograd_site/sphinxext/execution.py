"""Run every executable page from a fresh state, and fail the build on a wrong value.

NOTE: [One way to run a page]
- A gallery script is run by sphinx-gallery after its ``reset_modules``: matplotlib's
  reset (figures closed, rcParams restored) and :func:`reset_torch`. With its
  ``parallel`` option (conf.py: as many processes as Sphinx's ``-j``), the scripts of a
  gallery section run in joblib's worker processes, each script after the same reset;
  with one process (``-j 1``), in the Sphinx process.
- A MyST-NB page is run by myst-nb in a kernel of its own
  (``nb_execution_mode = "force"``): it runs whenever Sphinx reads the page, and
  Sphinx reads a page when its source, the configuration or (below) one of its
  other inputs changed. No kernel, figure or cache is shared between pages. The
  kernel is a fresh process forked from one that imported torch once per build
  (NOTE: [Kernels forked from one process] in kernels.py).

NOTE: [Other inputs of a page]
A page's outputs also depend on gradkit's sources, on :func:`reset_torch`, on
``conf.py`` and on the pinned environment. Their fingerprint is kept in Sphinx's
environment; when it changes, every gallery script reruns (sphinx-gallery's
``run_stale_examples``) and every MyST-NB page is read again, and so rerun
(Sphinx's ``env-get-outdated`` event). The new fingerprint is only saved with
an environment that was read to the end, so a failed build reruns everything
again next time.

NOTE: [A failing page fails the build]
sphinx-gallery stops the build at a failing script (``abort_on_example_error``)
and prints its traceback. myst-nb, with ``nb_execution_raise_on_error``, would
stop with an ``ExecutionError`` that names only the file (and, under ``-j``,
nothing else reaches the console), so conf.py turns that off and this extension
collects what went wrong on each page instead: a page whose execution failed
(myst-nb's execution data holds the failing cell and its traceback), a cell
tagged ``raises-exception`` that raised nothing, or that raised an
``AssertionError`` (a failed check hidden as an expected error). After all pages
are read, the build stops with every problem, file and cell included.

NOTE: [Tracebacks a learner can read]
The MyST-NB kernels start with ``reader_tracebacks.py`` as the startup file of
an IPython profile of the build's own (``IPYTHONDIR=_build/ipython``): an error
shown on purpose shows the page's cells and the exception, not the frames of
torch, ipykernel or asyncio with this machine's paths (see that file).

NOTE: [One build at a time]
Two builds in one tree would run the same examples into the same generated
folders. The first build holds a lock on ``<srcdir>/.build.lock``; a second one
stops at once and says which process holds it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import warnings
from importlib.metadata import version
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

from autograd_site.project import is_myst_nb_source

logger = logging.getLogger(__name__)

# Installed packages whose version changes what a page prints.
ENV_PACKAGES = ("torch", "numpy", "matplotlib", "sphinx-gallery", "myst-nb", "ipykernel")


def reset_torch(gallery_conf=None, fname=None):
    """Put torch's global switches back to their defaults before a gallery script runs.

    Listed in ``sphinx_gallery_conf["reset_modules"]``. The thread count is not
    set here: it is a speed setting (``OMP_NUM_THREADS``), and no printed value
    may depend on it (``make check-portable``).
    """
    import torch

    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.autograd.set_detect_anomaly(False)
    torch.manual_seed(0)
    _load_forward_mode_quietly(torch)


def _load_forward_mode_quietly(torch) -> None:
    """Load torch's forward-mode machinery once, before any gallery script runs.

    torch 2.15 imports its forward-mode decompositions on a process's first forward-mode
    call and warns then, from inside torch, that ``torch.jit.script`` is deprecated. The
    gallery scripts share one process, so the warning (which sphinx-gallery shows in the
    page's output) would land on whichever page first uses forward mode, and not on that
    page run alone: what a page shows would depend on the pages before it. Loaded here,
    with that one warning silenced, no page shows it; a reader who runs a page sees it on
    stderr, which is torch's message about its own code, not the page's.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning
        )
        torch.func.jvp(torch.sin, (torch.zeros(()),), (torch.ones(()),))


# The code that sets a page's starting state: this module (reset_torch), the
# kernels' start-up file, and the kernel server and launcher that start the kernels.
RESET_FILES = (
    Path(__file__),
    Path(__file__).with_name("reader_tracebacks.py"),
    Path(__file__).with_name("kernels.py"),
    Path(__file__).parent.parent / "kernel_server.py",
    Path(__file__).parent.parent / "kernel_launcher.py",
)


def inputs_fingerprint(confdir: str | os.PathLike, reset_files=RESET_FILES) -> str:
    """Digest of what pages depend on besides their own source (NOTE: [Other inputs of a page])."""
    root = Path(confdir)
    files = sorted((root / "src" / "gradkit").rglob("*.py"))
    files += [root / "conf.py", root / "requirements" / "project.lock", *reset_files]
    digest = hashlib.sha256()
    for path in files:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    for name in ENV_PACKAGES:
        digest.update(f"{name}=={version(name)}".encode())
    return digest.hexdigest()


_lock_file = None


def _take_build_lock(app, config):
    """Stop at once if another build of this tree is running (NOTE: [Tracebacks a learner can read]
    The MyST-NB kernels start with ``reader_tracebacks.py`` as the startup file of
    an IPython profile of the build's own (``IPYTHONDIR=_build/ipython``): an error
    shown on purpose shows the page's cells and the exception, not the frames of
    torch, ipykernel or asyncio with this machine's paths (see that file).

    NOTE: [One build at a time])."""
    global _lock_file
    path = Path(app.srcdir) / ".build.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held open until the process exits
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ExtensionError(
            f"another build of this project is running (process {holder} holds {path}); "
            "wait for it to finish or stop it, then build again"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _lock_file = handle


def _use_reader_tracebacks(app, config):
    """Start the kernels with reader_tracebacks.py (NOTE: [Tracebacks a learner can read])."""
    ipython_dir = Path(app.outdir).parent / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        Path(__file__).with_name("reader_tracebacks.py"), startup / "00_reader_tracebacks.py"
    )
    os.environ["IPYTHONDIR"] = str(ipython_dir)


def _rerun_if_inputs_changed(app):
    """Rerun every gallery script when the pages' other inputs changed."""
    current = inputs_fingerprint(app.confdir)
    previous = getattr(app.env, "autograd_site_inputs", None)
    app.env.autograd_site_inputs_changed = previous != current
    app.env.autograd_site_inputs = current
    if previous != current:
        gallery_conf = getattr(app.config, "sphinx_gallery_conf", None)
        if gallery_conf is not None:
            gallery_conf["run_stale_examples"] = True
        reason = (
            "first build" if previous is None else "gradkit, reset, conf.py or environment changed"
        )
        logger.info(f"[execution] {reason}: every page runs")


def myst_nb_docnames(env):
    return [
        docname
        for docname in sorted(env.found_docs)
        if Path(env.doc2path(docname)).suffix == ".md"
        and is_myst_nb_source(Path(env.doc2path(docname)).read_text(encoding="utf-8"))
    ]


def _reread_notebooks_if_inputs_changed(app, env, added, changed, removed):
    if not getattr(env, "autograd_site_inputs_changed", False):
        return []
    return [name for name in myst_nb_docnames(env) if name not in added]


def _spread_executed_pages(app, env, docnames):
    """Space the MyST-NB pages evenly through the list of pages to read.

    A parallel build (``-j``) reads the list in consecutive chunks, one process per
    chunk; sorted by name, the executed pages fall in one or two chunks and run one
    after another while the other processes sit idle. Spread out, each chunk runs its
    share. The order changes only which process reads a page, not what it shows (each
    runs in a kernel of its own)."""
    executed = set(myst_nb_docnames(env)) & set(docnames)
    if len(executed) < 2 or app.parallel <= 1:
        return
    others = [name for name in docnames if name not in executed]
    spread = others[:]
    step = len(docnames) / len(executed)
    for index, name in enumerate(sorted(executed)):
        spread.insert(min(round(index * step), len(spread)), name)
    docnames[:] = spread


def _problems_in(app, doctree) -> list[str]:
    """What went wrong running this page (NOTE: [A failing page fails the build])."""
    from myst_nb.sphinx_ import NbMetadataCollector

    env = app.env
    source = env.doc2path(env.docname)
    problems = []
    exec_data = NbMetadataCollector.get_exec_data(env, env.docname)
    if exec_data is None:
        # myst-nb did not run this page (not a notebook, execution off, or the page
        # excluded from execution): it has no outputs to judge.
        return problems
    if not exec_data.get("succeeded", True):
        problems.append(f"{source}: executing the page failed:\n{exec_data.get('traceback')}")
    for cell in doctree.findall(nodes.container):
        if "tag_raises-exception" not in cell.get("classes", []):
            continue
        where = f"{source}, cell {cell.get('cell_index', '?') + 1}"
        tracebacks = [
            node.astext()
            for node in cell.findall(nodes.literal_block)
            if "traceback" in node.get("classes", [])
        ]
        if not tracebacks:
            problems.append(f"{where}: tagged raises-exception but raised nothing")
        elif any(_raised(text) == "AssertionError" for text in tracebacks):
            problems.append(
                f"{where}: a check failed inside a raises-exception cell:\n{tracebacks[-1]}"
            )
    return problems


def _raised(traceback_text: str) -> str:
    """The exception class named on the last line of a traceback."""
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    return lines[-1].split(":", 1)[0].strip() if lines else ""


def _collect_problems(app, doctree):
    problems = _problems_in(app, doctree)
    store = getattr(app.env, "autograd_site_problems", None)
    if store is None:
        store = app.env.autograd_site_problems = {}
    store.pop(app.env.docname, None)
    if problems:
        store[app.env.docname] = problems


def _purge_problems(app, env, docname):
    getattr(env, "autograd_site_problems", {}).pop(docname, None)


def _merge_problems(app, env, docnames, other):
    store = getattr(env, "autograd_site_problems", None)
    if store is None:
        store = env.autograd_site_problems = {}
    store.update(getattr(other, "autograd_site_problems", {}))


def _fail_on_problems(app, env):
    problems = [
        p
        for name in sorted(getattr(env, "autograd_site_problems", {}))
        for p in env.autograd_site_problems[name]
    ]
    if problems:
        raise ExtensionError(
            f"{len(problems)} problem(s) running the pages:\n\n" + "\n\n".join(problems)
        )


def setup(app):
    app.connect("config-inited", _take_build_lock, priority=0)
    app.connect("config-inited", _use_reader_tracebacks)
    # before sphinx-gallery's generate_gallery_rst (priority 500)
    app.connect("builder-inited", _rerun_if_inputs_changed, priority=100)
    app.connect("env-get-outdated", _reread_notebooks_if_inputs_changed)
    app.connect("env-before-read-docs", _spread_executed_pages)
    app.connect("doctree-read", _collect_problems)
    app.connect("env-purge-doc", _purge_problems)
    app.connect("env-merge-info", _merge_problems)
    app.connect("env-updated", _fail_on_problems)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
