"""Run many scripts as ``python script.py`` would, without paying ``import torch`` each time.

The mutation tests run every gallery script hundreds of times with one value
changed; most of each run used to be the interpreter importing torch and
matplotlib. Here a standard-library fork server (``multiprocessing``'s
``forkserver`` start method, with ``set_forkserver_preload``) imports them once,
and loads what they load on first use (``autograd_site.runner_warmup``);
each script then runs in its own process forked from that server: a fresh process
per script, nothing shared between scripts, run from an empty folder as
``__main__``, with its stdout and stderr captured from the file descriptors.

What a reader sees is judged elsewhere (on the built pages and by running the
downloads with a plain ``python``, ``autograd_site.readers``). This runner only
decides whether a changed script still passes its own checks.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Imported once by the server. The environment they read at import time (the
# matplotlib backend, torch's thread count) is the one the server starts with. The last
# one calls the public functions that load the rest of torch and matplotlib on first use
# (the standard library skips a preload module that fails to import: a test checks it ran).
PRELOAD = ("numpy", "torch", "matplotlib", "matplotlib.pyplot", "autograd_site.runner_warmup")
SERVER_ENV = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}


@dataclass
class ScriptRun:
    """What one script printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str


def _run_as_main(folder: str, name: str) -> None:
    """In the forked process: run ``folder/name`` as ``python name`` run from ``folder``."""
    for fd, stream in ((1, ".stdout"), (2, ".stderr")):
        target = os.open(os.path.join(folder, stream), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(folder)
    sys.argv = [name]
    sys.path[0] = folder
    # An exception ends the process with exit code 1 and its traceback on stderr, as
    # ``python name`` does; SystemExit keeps its code.
    runpy.run_path(name, run_name="__main__")


class PreloadedRunner:
    """Runs script sources, each in a fresh process forked from a preloaded server.

    Start it with ``with PreloadedRunner() as runner:``. The server is the standard
    library's, one per process: it outlives the block and ends when this process exits
    (``multiprocessing`` has no public way to stop it sooner); a later block reuses it.
    """

    def __enter__(self) -> PreloadedRunner:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(list(PRELOAD))
        saved = {key: os.environ.get(key) for key in SERVER_ENV}
        os.environ.update(SERVER_ENV)
        try:
            # The server starts with the first process; start it now, in this environment.
            warmup = self._context.Process(target=os.getpid)
            warmup.start()
            warmup.join()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return self

    def __exit__(self, *exc_info) -> None:
        # The server ends when this process exits; nothing holds resources meanwhile.
        return None

    def run(self, source: str, name: str, timeout: float = 300) -> ScriptRun:
        """Run ``source`` saved as ``name`` in an empty folder; return its outcome."""
        with tempfile.TemporaryDirectory(prefix="preloaded-") as folder:
            Path(folder, name).write_text(source)
            process = self._context.Process(target=_run_as_main, args=(folder, name))
            process.start()
            process.join(timeout)
            if process.exitcode is None:
                process.kill()
                process.join()
                return ScriptRun(-9, "", f"timed out after {timeout} s")
            return ScriptRun(
                process.exitcode,
                Path(folder, ".stdout").read_text(errors="replace"),
                Path(folder, ".stderr").read_text(errors="replace"),
            )
