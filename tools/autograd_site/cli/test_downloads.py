"""Every download runs in a reader's hands and prints what its page shows (``make test-downloads``).

1. Serves the built site on 127.0.0.1 and fetches every ``.py``, ``.ipynb`` and
   ``.zip`` that a page links, and gradkit's wheel.
2. Makes a venv outside the repository with only the pinned torch, matplotlib
   and numpy (and nbclient and ipykernel, to run notebooks).
3. Runs each file from an empty folder with the default thread settings: first
   the pages that do not say they need gradkit, in that venv as it is; then
   installs the served wheel and runs the pages that say so.
4. Each run must succeed, and the numbers it prints must equal those its page
   shows (every number a page prints is exact by construction; values that
   depend on the machine are printed as the bound the page checks).
5. Every member of a zip must be byte-identical to the file of the same name
   that step 3 ran.

Usage: ``python -m autograd_site.cli.test_downloads [--venv DIR]``
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections import defaultdict
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np

from autograd_site.pages import shown_on_page
from autograd_site.project import HTML, RECORDED_RTOL, ROOT
from autograd_site.readers import reader_env, run_download

CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
READER_PACKAGES = ("torch", "matplotlib", "numpy", "nbclient", "ipykernel")
DOWNLOAD = re.compile(r'href="([^"#?]+\.(?:py|ipynb|zip|whl))"')


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path):
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def links(base: str, html: Path) -> dict[str, set[str]]:
    """Download URL -> the pages (relative HTML paths) that link it."""
    found: dict[str, set[str]] = defaultdict(set)
    for page in sorted(html.rglob("*.html")):
        relative = page.relative_to(html).as_posix()
        if relative.startswith(("_static/", "_modules/")):
            continue
        for href in DOWNLOAD.findall(page.read_text(encoding="utf-8")):
            if "://" not in href:
                found[urljoin(urljoin(base, relative), href)].add(relative)
    return found


def fetch(url: str, folder: Path) -> Path:
    path = urlsplit(url).path.lstrip("/")
    target = folder / hashlib.sha256(url.encode()).hexdigest()[:12] / Path(path).name
    target.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=60) as response:
        target.write_bytes(response.read())
    return target


def make_venv(folder: Path) -> str:
    """A venv with only the reader's packages, at the pinned versions; returns its python."""
    python = folder / "bin" / "python"
    marker = folder / ".reader-packages"
    wanted = CONSTRAINTS.read_text()
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        subprocess.run(
            [str(python), "-m", "pip", "uninstall", "-q", "-y", "gradkit"], capture_output=True
        )
        return str(python)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), *READER_PACKAGES],
        check=True,
    )
    marker.write_text(wanted)
    return str(python)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv",
        type=Path,
        default=Path(tempfile.gettempdir()) / "autograd-by-example-reader-venv",
        help="the reader's venv (made, or reused when its pins are current)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    server, base = serve(HTML)
    failures: list[str] = []
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    try:
        found = links(base, HTML)
        with tempfile.TemporaryDirectory(prefix="downloads-") as tmp:
            files = {url: fetch(url, Path(tmp)) for url in sorted(found)}
            wheels = [path for path in files.values() if path.suffix == ".whl"]
            print(
                f"test-downloads: {len(files)} files linked from the site "
                f"({time.perf_counter() - start:.0f} s); making the reader's venv"
            )
            python = make_venv(args.venv)
            print(f"test-downloads: reader venv ready ({time.perf_counter() - start:.0f} s)")

            def needs_gradkit(url):
                return any(
                    "gradkit-install" in (HTML / p).read_text(encoding="utf-8") for p in found[url]
                )

            runnable = [u for u in sorted(files) if files[u].suffix in (".py", ".ipynb")]
            ran: dict[str, bytes] = {}
            env = reader_env()
            for with_gradkit in (False, True):
                if with_gradkit:
                    if len(wheels) != 1:
                        failures.append(f"expected one gradkit wheel on the site, found {wheels}")
                        break
                    subprocess.run(
                        [python, "-m", "pip", "install", "-q", "--no-deps", str(wheels[0])],
                        check=True,
                    )
                for url in runnable:
                    if needs_gradkit(url) != with_gradkit:
                        continue
                    path = files[url]
                    kind = path.suffix
                    counts[kind][1] += 1
                    run = run_download(path, python, env=env)
                    ran[path.name] = path.read_bytes()
                    page = sorted(found[url])[0]
                    expected = shown_on_page(HTML / page).numbers
                    label = f"{path.name} (from {page}{', gradkit' if with_gradkit else ''})"
                    if run.returncode != 0:
                        failures.append(f"{label} failed:\n{run.stderr[-2000:]}")
                    elif len(run.shown.numbers) != len(expected) or not np.allclose(
                        run.shown.numbers, expected, rtol=RECORDED_RTOL, atol=0.0
                    ):
                        failures.append(
                            f"{label} printed other numbers than its page:\n"
                            f"  page: {expected}\n  run:  {run.shown.numbers}"
                        )
                    else:
                        counts[kind][0] += 1
                    print(
                        f"  {'ok ' if run.returncode == 0 else 'FAIL'} {run.seconds:5.1f} s  "
                        f"{label}"
                    )
            for path in files.values():
                if path.suffix != ".zip":
                    continue
                counts[".zip"][1] += 1
                with zipfile.ZipFile(path) as archive:
                    members = [m for m in archive.namelist() if not m.endswith("/")]
                    bad = [m for m in members if ran.get(Path(m).name) != archive.read(m)]
                if bad or not members:
                    failures.append(
                        f"{path.name}: members not identical to the tested files: "
                        f"{bad or 'empty archive'}"
                    )
                else:
                    counts[".zip"][0] += 1
    finally:
        server.shutdown()
    for kind, (passed, total) in sorted(counts.items()):
        print(f"test-downloads: {kind:7} {passed}/{total} passed")
    print(f"test-downloads: {time.perf_counter() - start:.0f} s in all")
    for failure in failures:
        print(f"test-downloads: {failure}", file=sys.stderr)
    return 1 if failures or not counts else 0


if __name__ == "__main__":
    raise SystemExit(main())
