"""Shared fixtures: run gallery scripts in this process with a clean torch state."""

import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "gallery"
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from site_hooks import reset_torch  # noqa: E402

GALLERY_SCRIPTS = sorted(GALLERY.rglob("plot_*.py"))


def run_gallery_source(source: str, path: Path) -> str:
    """Execute a gallery script's source as sphinx-gallery would; return what it printed."""
    import matplotlib.pyplot as plt

    reset_torch(None, str(path))
    namespace = {"__name__": "__main__", "__file__": str(path)}
    code = compile(source, str(path), "exec")
    out = io.StringIO()
    old_cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        with redirect_stdout(out):
            exec(code, namespace)
    finally:
        os.chdir(old_cwd)
        plt.close("all")
        reset_torch(None, str(path))
    return out.getvalue()
