"""CI canary: a seeded wrong value in a scratch copy must make the checks fail.

Picks (with a fixed seed) one ``torch.testing.assert_close`` in a gallery script
and one in a MyST-NB page, multiplies the checked value by 1.01 in a scratch
copy of the repository, and runs the page's tests there. Exits non-zero if the
tests still pass, i.e. if a wrong number could reach the site unnoticed.
"""

import ast
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pagerun import GALLERY_SCRIPTS, MYST_NB_PAGES, ROOT, copy_project  # noqa: E402

SEED = 20261127
COPY = ("conf.py", "pyproject.toml", "docs", "gallery", "tests", "src")


def _checked_values(source):
    """Source segments of the first argument of every assert_close call."""
    tree = ast.parse(source)
    return [
        ast.get_source_segment(source, node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("assert_close")
    ]


def _mutate(path, rng, code_of):
    """Scale one randomly chosen checked value in ``path`` by 1.01; return the value's source."""
    text = path.read_text()
    segments = [seg for code in code_of(text) for seg in _checked_values(code)]
    segment = rng.choice(segments)
    call = re.compile(r"assert_close\(\s*" + re.escape(segment))
    mutated, count = call.subn(f"assert_close(({segment}) * 1.01", text, count=1)
    if count != 1:
        sys.exit(f"canary: cannot find the check of {segment!r} in {path}")
    path.write_text(mutated)
    return segment


def _myst_code(text):
    from myst_nb.core.read import read_myst_markdown_notebook

    cells = read_myst_markdown_notebook(text).cells
    return [c.source for c in cells if c.cell_type == "code"]


def main():
    rng = random.Random(SEED)
    script = rng.choice(GALLERY_SCRIPTS)
    page = rng.choice(MYST_NB_PAGES)
    failures = 0
    for original, code_of, test in (
        (script, lambda t: [t], "tests/test_gallery.py"),
        (page, _myst_code, "tests/test_docs_pages.py"),
    ):
        with tempfile.TemporaryDirectory(prefix="canary-") as tmp:
            scratch = Path(tmp)
            copy_project(scratch, COPY)
            target = scratch / original.relative_to(ROOT)
            segment = _mutate(target, rng, code_of)
            edit = f"{original.relative_to(ROOT)}: {segment} -> ({segment}) * 1.01"
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    test,
                    "-k",
                    original.stem,
                    "-o",
                    "addopts=",
                ],
                cwd=scratch,
                capture_output=True,
                text=True,
            )
            caught = (
                result.returncode == 1
            )  # 1: tests ran and failed (2 would be a collection error)
            print(f"canary: {edit}: {'caught' if caught else 'NOT CAUGHT'}")
            if not caught:
                failures += 1
                print(result.stdout[-2000:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
