"""Two clean builds of the same commit give the same page text: ``make check-reproducible``.

Builds the site twice from clean, each in its own scratch copy, and compares the
text of every HTML page and every downloadable script and notebook. Run times
(which sphinx-gallery shows on purpose) are the only thing masked. Prints a
unified diff of the first differences and exits non-zero when the builds differ.
"""

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pagerun import copy_project  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COPY = ("conf.py", "docs", "gallery", "requirements", "src", "benchmarks", "package.json")
# Run-time tables (shown on purpose; they are timings) and the search index built from them.
IGNORED = {"sg_execution_times.html", "sg_execution_times.rst.txt", "searchindex.js", ".buildinfo"}
VOLATILE = [
    (re.compile(r"\(\s*\d+ minutes\s+[\d.]+ seconds\)"), "(N minutes N seconds)"),
    (re.compile(r"\b\d+:\d\d\.\d+\b"), "M:SS.SSS"),  # gallery index run times
    # a traceback shown on purpose names the kernel's scratch file, which carries its PID
    (re.compile(r"/tmp/ipykernel_\d+/"), "/tmp/ipykernel_PID/"),
]


class _Text(HTMLParser):
    """Visible text of a page, without scripts and styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def _page_text(path):
    raw = path.read_text(errors="replace")
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(raw)
        raw = "\n".join(parser.parts)
    for pattern, replacement in VOLATILE:
        raw = pattern.sub(replacement, raw)
    # Blank lines only: the kernel may deliver a cell's stdout in one message or two.
    return re.sub(r"\n\s*\n", "\n", raw)


def _build(workdir):
    copy_project(workdir, COPY, skip=("results",))  # benchmark results are not built
    shutil.copytree(ROOT / "_build" / "katex", workdir / "_build" / "katex")
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1795737600"),
        "PYTHONHASHSEED": "0",
    }
    # make html's command and parallel build; not -W, as the copy leaves out the
    # benchmark results that the performance page includes
    sphinx = [sys.executable, str(ROOT / "docs" / "_ext" / "sphinx_build.py")]
    options = ["-b", "html", "-c", ".", "-j", "auto", "-q"]
    result = subprocess.run(
        [*sphinx, *options, "docs", "_build/html"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"check-reproducible: build failed in {workdir}:\n{result.stderr[-3000:]}")
    return workdir / "_build" / "html"


def main():
    with tempfile.TemporaryDirectory(prefix="repro-") as tmp:
        first = _build(Path(tmp) / "a")
        second = _build(Path(tmp) / "b")
        suffixes = {".html", ".py", ".ipynb", ".txt"}
        files = sorted(
            p.relative_to(first)
            for p in first.rglob("*")
            if p.suffix in suffixes and p.name not in IGNORED
        )
        differing = []
        for rel in files:
            a, b = first / rel, second / rel
            if not b.exists():
                differing.append((rel, ["missing in the second build"]))
                continue
            ta, tb = _page_text(a), _page_text(b)
            if ta != tb:
                diff = difflib.unified_diff(
                    ta.splitlines(), tb.splitlines(), "build 1", "build 2", lineterm="", n=1
                )
                differing.append((rel, list(diff)[:40]))
        print(f"check-reproducible: compared {len(files)} files from two clean builds")
        for rel, diff in differing[:10]:
            print(f"--- {rel} differs:")
            print("\n".join(diff))
        if differing:
            print(f"{len(differing)} files differ")
            return 1
        print("identical page text")
        return 0


if __name__ == "__main__":
    sys.exit(main())
