"""Every download runs in a reader's hands and prints what its page shows (``make test-downloads``).

1. Serves the built site on 127.0.0.1 and fetches every ``.py``, ``.ipynb`` and
   ``.zip`` that a page links, and gradkit's wheel.
2. Makes a venv outside the repository with only the pinned torch, matplotlib
   and numpy (and nbclient and ipykernel, to run notebooks).
3. Runs each file from an empty folder with the default thread settings, one
   file per CPU at a time: first the pages that do not say they need gradkit, in
   that venv as it is; then installs the served wheel and runs the pages that say so.
4. Each run must succeed, and the numbers it prints must equal those its page
   shows (every number a page prints is exact by construction; values that
   depend on the machine are printed as the bound the page checks).
5. Every member of a zip must be byte-identical to the file of the same name
   that step 3 ran.

Usage: ``python -m autograd_site.cli.test_downloads [--venv DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import http.server
import itertools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np

from autograd_site.locks import install, pip_environment, reader_lock, site_torch
from autograd_site.pages import Shown, last_line, numbers_in, shown_on_page
from autograd_site.project import HTML, RECORDED_RTOL
from autograd_site.readers import reader_env, run_download

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


def make_venv(folder: Path, torch: str | None = None, python: str = sys.executable) -> str:
    """A venv with only the reader's packages, from their lock at ``torch`` (default: the
    site's torch), made with the interpreter ``python``; returns the venv's python."""
    lock = reader_lock(torch or site_torch())
    venv_python = folder / "bin" / "python"
    marker = folder / ".reader-packages"
    wanted = f"{python}\n{lock.path.read_text()}"
    if venv_python.exists() and marker.exists() and marker.read_text() == wanted:
        subprocess.run(
            [str(venv_python), "-m", "pip", "uninstall", "-q", "-y", "gradkit"],
            capture_output=True,
        )
        return str(venv_python)
    subprocess.run([python, "-m", "venv", "--clear", str(folder)], check=True)
    install(str(venv_python), lock.name)
    marker.write_text(wanted)
    return str(venv_python)


@dataclass
class Outcome:
    """One download run in one reader's venv, judged against its page."""

    url: str
    page: str  # the first page (relative HTML path) that links it
    name: str
    gradkit: bool
    status: str  # "same": ran and printed the page's numbers; "differs"; "fails"
    detail: str  # for "differs": the first line that differs; for "fails": the error
    seconds: float

    @property
    def label(self) -> str:
        return f"{self.name} (from {self.page}{', gradkit' if self.gradkit else ''})"


@contextlib.contextmanager
def site_downloads(html: Path = HTML):
    """Serve the built site and fetch every download it links.

    Yields (links: URL -> pages linking it, files: URL -> fetched path)."""
    server, base = serve(html)
    try:
        found = links(base, html)
        with tempfile.TemporaryDirectory(prefix="downloads-") as tmp:
            yield found, {url: fetch(url, Path(tmp)) for url in sorted(found)}
    finally:
        server.shutdown()


def first_difference(page: Shown, run: Shown) -> str:
    """The first printed line where a run and its page disagree, both sides quoted."""
    page_lines, run_lines = page.text.splitlines(), run.text.splitlines()
    for page_line, run_line in itertools.zip_longest(page_lines, run_lines, fillvalue=""):
        if numbers_in(page_line) != numbers_in(run_line):
            return f"page: {page_line.strip()!r}; run: {run_line.strip()!r}"
    return f"{len(page.numbers)} numbers on the page, {len(run.numbers)} printed"


def judge(url, path: Path, run, found, html: Path, with_gradkit: bool) -> Outcome:
    """One run against the numbers its page shows."""
    page = sorted(found[url])[0]
    expected = shown_on_page(html / page)
    if run.returncode != 0:
        status, detail = "fails", last_line(run.stderr) or f"exit {run.returncode}"
    elif len(run.shown.numbers) != len(expected.numbers) or not np.allclose(
        run.shown.numbers, expected.numbers, rtol=RECORDED_RTOL, atol=0.0
    ):
        status, detail = "differs", first_difference(expected, run.shown)
    else:
        status, detail = "same", ""
    return Outcome(url, page, path.name, with_gradkit, status, detail, run.seconds)


def run_downloads(
    found, files, python: str, log=print, html: Path = HTML, workers: int | None = None
) -> list[Outcome]:
    """Run every linked .py and .ipynb in the reader's venv of ``python``, as a reader does:
    first the pages that do not need gradkit, then, with the site's wheel installed, those
    that do (gradkit's pages say so with the install box).

    Each file runs in its own process from its own empty folder, ``workers`` at a time
    (default: one per CPU): runs share nothing, so their order cannot change what they
    print. Outcomes come back in URL order."""
    wheels = [path for path in files.values() if path.suffix == ".whl"]
    if len(wheels) != 1:
        raise SystemExit(f"test-downloads: expected one gradkit wheel on the site, found {wheels}")

    def needs_gradkit(url):
        return any("gradkit-install" in (html / p).read_text(encoding="utf-8") for p in found[url])

    runnable = [u for u in sorted(files) if files[u].suffix in (".py", ".ipynb")]
    env = reader_env()
    outcomes = []
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for with_gradkit in (False, True):
            if with_gradkit:
                wheel = str(wheels[0])
                subprocess.run(
                    [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel],
                    check=True,
                    env=pip_environment(),
                )
            group = [url for url in runnable if needs_gradkit(url) == with_gradkit]

            def run_one(url, with_gradkit=with_gradkit):
                run = run_download(files[url], python, env=env)
                outcome = judge(url, files[url], run, found, html, with_gradkit)
                log(f"  {outcome.status:7} {outcome.seconds:5.1f} s  {outcome.label}")
                return outcome

            outcomes.extend(pool.map(run_one, group))
    return outcomes


def zip_problems(files, ran: dict[str, bytes]) -> tuple[int, list[str]]:
    """Each zip's members must be byte-identical to the files that ran; (zips, problems)."""
    zips = [path for path in files.values() if path.suffix == ".zip"]
    problems = []
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            bad = [m for m in members if ran.get(Path(m).name) != archive.read(m)]
        if bad or not members:
            problems.append(
                f"{path.name}: members not identical to the tested files: {bad or 'empty archive'}"
            )
    return len(zips), problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv",
        type=Path,
        default=Path(tempfile.gettempdir()) / "autograd-by-example-reader-venv",
        help="the reader's venv (made, or reused when its lock is unchanged)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with site_downloads() as (found, files):
        print(
            f"test-downloads: {len(files)} files linked from the site "
            f"({time.perf_counter() - start:.0f} s); making the reader's venv"
        )
        python = make_venv(args.venv)
        print(f"test-downloads: reader venv ready ({time.perf_counter() - start:.0f} s)")
        outcomes = run_downloads(found, files, python)
        ran = {o.name: files[o.url].read_bytes() for o in outcomes}
        zips, failures = zip_problems(files, ran)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    counts[".zip"] = [zips - len(failures), zips]
    for outcome in outcomes:
        kind = Path(outcome.name).suffix
        counts[kind][1] += 1
        counts[kind][0] += outcome.status == "same"
        if outcome.status != "same":
            failures.append(f"{outcome.label} {outcome.status}: {outcome.detail}")
    for kind, (passed, total) in sorted(counts.items()):
        print(f"test-downloads: {kind:7} {passed}/{total} passed")
    print(f"test-downloads: {time.perf_counter() - start:.0f} s in all")
    for failure in failures:
        print(f"test-downloads: {failure}", file=sys.stderr)
    return 1 if failures or not outcomes else 0


if __name__ == "__main__":
    raise SystemExit(main())
