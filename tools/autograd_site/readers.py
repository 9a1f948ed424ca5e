"""Run a downloaded page as a reader does: a fresh process, an empty folder, nothing shared.

A ``.py`` runs as ``python page.py``; an ``.ipynb`` runs in a fresh Jupyter kernel
through nbclient (what ``jupyter nbconvert --execute`` and myst-nb use). The
interpreter is a parameter, so the same code runs the pages in the project's venv
(the isolation test) and in a reader's venv with only torch, matplotlib and numpy
(``make test-downloads``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograd_site.pages import Shown, shown_by_notebook

# Executes a notebook with the interpreter given on the command line (nbclient must be
# installed there); writes the executed notebook even when a cell fails.
_EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[4]}})
code = 0
try:
    client.execute()
except CellExecutionError as error:
    print(error, file=sys.stderr)
    code = 1
nbformat.write(nb, sys.argv[2])
sys.exit(code)
"""


@dataclass
class ReaderRun:
    """What running one download gave."""

    name: str
    returncode: int
    shown: Shown
    stderr: str
    seconds: float


# Settings of this project's shells that a reader's shell does not have (the tests of
# gradkit give each forced kernel set its own torch.compile cache: TORCHINDUCTOR_CACHE_DIR).
READER_LACKS = frozenset(
    {
        "OMP_NUM_THREADS",
        "IPYTHONDIR",
        "PYTHONPATH",
        "ATEN_CPU_CAPABILITY",
        "TORCHINDUCTOR_CACHE_DIR",
    }
)


def reader_env(threads: str | None = None, extra: dict | None = None) -> dict:
    """The environment of a reader's shell: the thread count torch picks unless ``threads``."""
    env = {k: v for k, v in os.environ.items() if k not in READER_LACKS}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    env.update(extra or {})
    return env


def run_download(path: Path, python: str, *, env: dict, timeout: int = 600) -> ReaderRun:
    """Run a downloaded ``.py`` or ``.ipynb`` from an empty folder with ``python``."""
    import time

    with tempfile.TemporaryDirectory(prefix="reader-") as folder:
        local = Path(folder) / path.name
        shutil.copyfile(path, local)
        start = time.perf_counter()
        if path.suffix == ".py":
            result = subprocess.run(
                [python, local.name],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            shown = Shown([[result.stdout]])
        else:
            executed = Path(folder) / "executed.ipynb"
            result = subprocess.run(
                [python, "-c", _EXECUTE, local.name, executed.name, str(timeout), folder],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout + 60,
            )
            notebook = nbformat.read(executed, as_version=4) if executed.exists() else None
            gallery = "sphinx_gallery" in str(
                nbformat.read(local, as_version=4).metadata
            ) or path.name.startswith("plot_")
            shown = shown_by_notebook(notebook, gallery=gallery) if notebook else Shown([])
        seconds = time.perf_counter() - start
    return ReaderRun(path.name, result.returncode, shown, result.stderr, seconds)
