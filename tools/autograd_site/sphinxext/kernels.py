"""The MyST-NB pages' kernels start from a kernel server that imported torch once per build.

NOTE: [Kernels forked from one process]
Each MyST-NB page still runs in a fresh kernel of its own (NOTE: [One way to run a page]
in execution.py), but the kernel is forked from a server that has imported numpy, torch,
matplotlib and the kernel's dependencies (``autograd_site.kernel_server``), rather than started from
nothing: about 2.5 s less per page (interpreter start, ``import torch``, torch's teardown).

When a build is about to read a MyST-NB page (or, when every page will run, before
the gallery runs, so that the server imports torch meanwhile), this extension
- writes a ``python3`` kernel spec whose command is ``autograd_site.kernel_launcher``
  into ``_build/jupyter/kernels`` and puts that folder first on ``JUPYTER_PATH``, so the
  pages' own kernel name (``python3``) finds it and nothing in a page changes;
- starts the server with the build's environment, its socket named by
  ``AUTOGRAD_SITE_KERNEL_SERVER`` (the launcher falls back to a plain kernel when the
  server is missing or was started under another environment);
- stops it when the build finishes. The server also ends when the build's process dies:
  it reads its standard input, the build's end of a pipe.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sphinx.errors import ExtensionError

from autograd_site.kernel_launcher import SERVER_VARIABLE
from autograd_site.sphinxext.execution import myst_nb_docnames

_server: subprocess.Popen | None = None
_socket_folder: str | None = None
_saved_environment: dict[str, str | None] = {}


def kernel_spec(python: str) -> dict:
    """The kernel spec that starts kernels through the launcher (ipykernel's, but for argv)."""
    return {
        "argv": [python, "-m", "autograd_site.kernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": True},
        "kernel_protocol_version": "5.5",
    }


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
    global _server, _socket_folder
    if _server is not None or app.config.nb_execution_mode == "off":
        return
    jupyter = Path(app.outdir).parent / "jupyter"
    spec = jupyter / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps(kernel_spec(sys.executable), indent=1))
    _set_environment("JUPYTER_PATH", os.pathsep.join(
        [str(jupyter), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    # A short folder of its own: a socket's path must fit in 108 bytes.
    _socket_folder = tempfile.mkdtemp(prefix="autograd-kernels-")
    path = os.path.join(_socket_folder, "server")
    _set_environment(SERVER_VARIABLE, path)
    _server = subprocess.Popen(
        [sys.executable, "-m", "autograd_site.kernel_server", path],
        stdin=subprocess.PIPE,
        start_new_session=True,
        # what jupyter_client gives a kernel (os.environ), not the C library's environment,
        # which a library may have changed underneath it (ncurses sets COLUMNS and LINES)
        env=dict(os.environ),
    )
    wait_for_socket(_server, path)


def _start_while_the_gallery_runs(app):
    """When every page will run, the server imports torch while the gallery runs."""
    if getattr(app.env, "autograd_site_inputs_changed", False):
        _start_server(app)


def _start_before_reading(app, env, docnames):
    if set(myst_nb_docnames(env)) & set(docnames):
        _start_server(app)


def _stop_server(app, exception):
    global _server, _socket_folder
    if _server is None:
        return
    _server.stdin.close()
    try:
        _server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _server.kill()
        _server.wait()
    _server = None
    shutil.rmtree(_socket_folder, ignore_errors=True)
    _socket_folder = None
    _restore_environment()


def setup(app):
    # after execution's _rerun_if_inputs_changed (100), before the gallery runs (500)
    app.connect("builder-inited", _start_while_the_gallery_runs, priority=200)
    app.connect("env-before-read-docs", _start_before_reading)
    app.connect("build-finished", _stop_server)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
