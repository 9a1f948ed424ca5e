"""The MyST-NB pages' kernels start from a kernel server that imported torch once per build.

NOTE: [Kernels forked from one process]
Each MyST-NB page still runs in a fresh kernel of its own (NOTE: [One way to run a page]
in execution.py), but on Linux the kernel is forked from a server that has imported
numpy, torch, matplotlib and the kernel's dependencies (``autograd_site.kernel_server``,
which lists what a page can tell apart) rather than started from nothing: no page waits
for the interpreter to start, for ``import torch`` or for what torch loads on first use.

When a build is about to read a MyST-NB page (or, when every page will run, before
the gallery runs, so that the server imports torch meanwhile), this extension
- writes a ``python3`` kernel spec, ipykernel's own but for its command
  (``autograd_site.kernel_launcher``), into a folder of the build's own that it puts
  first on ``JUPYTER_PATH``: the pages' own kernel name (``python3``) finds it, and
  nothing in a page or its download changes;
- starts the server with the build's environment, its socket named by
  ``AUTOGRAD_SITE_KERNEL_SERVER`` (the launcher falls back to a plain kernel, saying why
  on the console, when the server cannot serve a kernel);
- stops it when the build finishes, and fails the build if it had stopped early or
  refused a kernel (those pages ran in plain kernels: right, but slow). The server also
  ends when the build's process dies: it reads its standard input, the build's end of
  a pipe.
Where processes have no pidfds (``os.pidfd_open``, which the launcher needs: Linux 5.3
and later) the pages run in plain kernels.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

from autograd_site.kernel_launcher import SERVER_VARIABLE
from autograd_site.sphinxext.execution import myst_nb_docnames

logger = logging.getLogger(__name__)

_server: subprocess.Popen | None = None
_folder: str | None = None
_saved_environment: dict[str, str | None] = {}


def kernel_spec() -> dict:
    """ipykernel's kernel spec, with the launcher as its command."""
    from ipykernel.kernelspec import get_kernel_dict, make_ipkernel_cmd

    return {**get_kernel_dict(), "argv": make_ipkernel_cmd(mod="autograd_site.kernel_launcher")}


def write_kernel_spec(folder: Path) -> None:
    """Write the ``python3`` kernel spec under ``folder`` (a ``JUPYTER_PATH`` entry)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1))


def wait_for_socket(server: subprocess.Popen, path: str, timeout: float = 60) -> None:
    """Return once the server listens on ``path`` (it binds first, then imports torch)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if server.poll() is not None or time.monotonic() > deadline:
            raise ExtensionError(
                f"the kernel server (autograd_site.kernel_server) did not start: "
                f"exit code {server.poll()}; its error is printed above"
            )
        time.sleep(0.01)


def _set_environment(name: str, value: str) -> None:
    _saved_environment.setdefault(name, os.environ.get(name))
    os.environ[name] = value


def _restore_environment() -> None:
    for name, value in _saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_environment.clear()


def _start_server(app) -> None:
    global _server, _folder
    if _server is not None or app.config.nb_execution_mode == "off" or not pidfds_work():
        return
    # A short folder of its own: a socket's path must fit in 108 bytes. Removed when the
    # build finishes, or when its process exits (Ctrl-C ends a build without finishing).
    _folder = tempfile.mkdtemp(prefix="autograd-kernels-")
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)
    write_kernel_spec(Path(_folder))
    _set_environment(
        "JUPYTER_PATH", os.pathsep.join([_folder, *filter(None, [os.environ.get("JUPYTER_PATH")])])
    )
    _set_environment(SERVER_VARIABLE, os.path.join(_folder, "server"))
    _server = start_kernel_server(Path(_folder))


def start_kernel_server(folder: Path) -> subprocess.Popen:
    """Start the kernel server on the socket ``SERVER_VARIABLE`` names, from ``folder``
    (which has no matplotlibrc), with this process's environment; return once it listens.

    The server stops when its standard input is closed."""
    path = os.environ[SERVER_VARIABLE]
    server = subprocess.Popen(
        [sys.executable, "-m", "autograd_site.kernel_server", path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,  # how many kernels it forked and refused, at its end
        text=True,
        start_new_session=True,
        # what jupyter_client gives a kernel (os.environ), not the C library's environment,
        # which a library may have changed underneath it (ncurses sets COLUMNS and LINES)
        env=dict(os.environ),
        # matplotlib reads a matplotlibrc in the folder it is imported in
        cwd=folder,
    )
    wait_for_socket(server, path)
    return server


def _start_while_the_gallery_runs(app):
    """When every page will run, the server imports torch while the gallery runs."""
    if getattr(app.env, "autograd_site_inputs_changed", False):
        _start_server(app)


def _start_before_reading(app, env, docnames):
    if set(myst_nb_docnames(env)) & set(docnames):
        _start_server(app)


def _stop_server(app, exception):
    global _server, _folder
    if _server is None:
        return
    ended_early = _server.poll()
    try:
        report, _ = _server.communicate(timeout=10)  # closes its input: it ends
    except subprocess.TimeoutExpired:
        _server.kill()
        report, _ = _server.communicate()
    _server = None
    shutil.rmtree(_folder, ignore_errors=True)
    _folder = None
    _restore_environment()
    if exception is not None:
        return
    if ended_early is not None:
        logger.warning(
            f"the kernel server stopped during the build (exit code {ended_early}; its "
            "error is printed above): the MyST-NB pages read after that ran in plain kernels",
            type="autograd_site", subtype="kernels",
        )
    elif (refused := json.loads(report or "{}").get("refused", 0)) > 0:
        logger.warning(
            f"the kernel server could not serve {refused} MyST-NB page(s), which ran in plain "
            "kernels (autograd_site.kernel_launcher printed why above)",
            type="autograd_site", subtype="kernels",
        )


def pidfds_work() -> bool:
    """Whether this system gives process file descriptors, which the launcher needs
    (Linux 5.3 and later, where a sandbox allows them)."""
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True


def setup(app):
    # after execution's _rerun_if_inputs_changed (100), before the gallery runs (500)
    app.connect("builder-inited", _start_while_the_gallery_runs, priority=200)
    app.connect("env-before-read-docs", _start_before_reading)
    app.connect("build-finished", _stop_server)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
