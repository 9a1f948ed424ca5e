"""Every download under every supported torch and Python (``make check-torch-versions``).

For each supported torch release and Python of ``requirements/environments.toml``
(where the interpreter is on this machine and the release has wheels for it), makes a
reader's venv from that release's lock (``requirements/reader-torch-X.lock``), runs every
``.py`` and ``.ipynb`` the built site links exactly as ``make test-downloads`` does, and
compares the numbers each prints with its page; then runs gradkit's unit tests
(``tests/gradkit``) against the site's wheel in the same venv.

Writes the result to ``docs/reference/torch_versions.json``, which the site shows as a
table (``reference/torch_versions``) and from which "Start here" takes the supported
range. Fails when a download fails or gradkit's tests fail under a supported release; a
page that prints other numbers under an older release is reported, not failed (each such
page says on the page what changed between releases, shown by code).

Usage: ``python -m autograd_site.cli.check_torch_versions [--torch 2.13.0 ...]
[--python 3.12 ...] [--out FILE]``. With a subset, the other cells of the file are kept.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograd_site.cli.test_downloads import make_venv, run_downloads, site_downloads
from autograd_site.locks import install, site_torch, supported_pythons, supported_torch
from autograd_site.project import HTML, ROOT

RESULTS = ROOT / "docs" / "reference" / "torch_versions.json"


def gradkit_tests(python: str, tests: Path = ROOT / "tests" / "gradkit") -> dict:
    """gradkit's unit tests, from a copy of ``tests`` (default: tests/gradkit), in the venv
    of ``python``."""
    install(python, "pytest")
    with tempfile.TemporaryDirectory(prefix="gradkit-tests-") as tmp:
        shutil.copytree(tests, Path(tmp) / "tests")
        run = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "pytest.ini", "."],
            cwd=Path(tmp) / "tests",
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": tmp},
        )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-300:]
    return {"status": "passes" if run.returncode == 0 else "fails", "summary": summary}


def interpreter(version: str) -> str | None:
    """A working ``python3.X`` for ``version``: on the PATH, else one that pyenv installed
    (pyenv's shim for a version that is not selected exists but does not run)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(pyenv.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        if subprocess.run([str(candidate), "-c", ""], capture_output=True).returncode == 0:
            return str(candidate)
    return None


def cell_venv(torch: str, python: str) -> Path:
    return Path(tempfile.gettempdir()) / f"autograd-by-example-torch-{torch}-py{python}"


def reader_venv(torch: str, python: str) -> str:
    """The reader's venv for one cell (reused while its lock is unchanged); returns its
    python."""
    return make_venv(cell_venv(torch, python), torch=torch, python=interpreter(python))


def check_cell(
    found,
    files,
    torch: str,
    python: str,
    log,
    html: Path = HTML,
    pages: dict | None = None,
    tests: Path = ROOT / "tests" / "gradkit",
) -> dict:
    """One cell: the downloads and gradkit's tests under ``torch`` on ``python``. ``pages``
    (the date and commit) and ``tests`` are taken when the downloads are fetched: the
    checkout may move on while a long run goes, and the tests must match the wheel."""
    if interpreter(python) is None:
        return {"torch": torch, "python": python, "status": "no interpreter here"}
    start = time.perf_counter()
    try:
        venv_python = reader_venv(torch, python)
    except (SystemExit, subprocess.CalledProcessError) as error:
        return {
            "torch": torch,
            "python": python,
            "status": "does not install",
            "detail": str(error),
        }
    version = subprocess.run(
        [venv_python, "-c", "import torch, sys; print(torch.__version__, sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    log(f"check-torch-versions: torch {version[0]}, Python {version[1]}")
    outcomes = run_downloads(found, files, venv_python, log=log, html=html)
    return {
        "torch": torch,
        "python": python,
        "status": "ran",
        "torch_build": version[0],
        "python_build": version[1],
        "downloads": [
            {"name": o.name, "page": o.page, "status": o.status, "detail": o.detail}
            for o in outcomes
        ],
        "gradkit_tests": gradkit_tests(venv_python, tests),
        "seconds": round(time.perf_counter() - start),
        # cells run at different times: each says on which pages (commit) and when
        **(pages or ran_on()),
    }


def ran_on() -> dict:
    """The date and the commit the pages were built from (with "+changes" when the work
    tree differed from it)."""
    head = subprocess.run(
        ["git", "log", "-1", "--format=%h"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "gallery", "docs", "src"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = f"{head}+changes" if head and dirty else head
    return {"date": datetime.date.today().isoformat(), "commit": commit}


def failures(cells: list[dict]) -> list[str]:
    found = []
    for cell in cells:
        where = f"torch {cell['torch']}, Python {cell['python']}"
        if cell["status"] == "does not install":
            found.append(f"{where}: {cell['detail']}")
        if cell["status"] != "ran":
            continue
        found += [
            f"{where}: {d['name']} fails: {d['detail']}"
            for d in cell["downloads"]
            if d["status"] == "fails"
        ]
        if cell["torch"] == site_torch():
            found += [
                f"{where}: {d['name']} differs from its page: {d['detail']}"
                for d in cell["downloads"]
                if d["status"] == "differs"
            ]
        if cell["gradkit_tests"]["status"] != "passes":
            found.append(f"{where}: gradkit's tests: {cell['gradkit_tests']['summary']}")
    return found


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def write(out: Path, cells: dict, start: float) -> list[dict]:
    """Write the results file (after every cell: an interrupted run keeps what it measured)."""
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h %cs"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    ordered = [
        cells[key]
        for key in sorted(cells, key=lambda k: (supported_torch().index(k[0]), k[1]))
        if key[0] in supported_torch() and key[1] in supported_pythons()
    ]
    results = {
        "supported_torch": supported_torch(),
        "site_torch": site_torch(),
        "pythons": supported_pythons(),
        "run": {
            "date": datetime.date.today().isoformat(),
            "commit": commit[0] if commit else "",
            "machine": f"{platform.machine()} Linux, {cpu_model()}, {os.cpu_count()} cores",
            "seconds_this_run": round(time.perf_counter() - start),
        },
        "cells": ordered,
    }
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return ordered


def print_now(line: str) -> None:
    print(line, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", nargs="+", default=supported_torch())
    parser.add_argument("--python", nargs="+", default=supported_pythons())
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--site", type=Path, default=HTML, help="the built site to check")
    parser.add_argument(
        "--keep-venvs",
        action="store_true",
        help="keep each cell's venv for the next run (about 5.5 GB each with Linux's torch; "
        "by default each is removed once its cell has run)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    previous = json.loads(args.out.read_text()) if args.out.exists() else {"cells": []}
    cells = {(c["torch"], c["python"]): c for c in previous["cells"]}
    pages = ran_on()  # the site under test is this checkout's build, as of now
    snapshot = Path(tempfile.mkdtemp(prefix="gradkit-tests-snapshot-"))
    tests = shutil.copytree(ROOT / "tests" / "gradkit", snapshot / "gradkit")
    try:
        with site_downloads(args.site) as (found, files):
            for torch in args.torch:
                for python in args.python:
                    print(f"check-torch-versions: torch {torch} on Python {python}", flush=True)
                    cells[(torch, python)] = check_cell(
                        found, files, torch, python, print_now, args.site, pages, tests
                    )
                    if not args.keep_venvs:
                        shutil.rmtree(cell_venv(torch, python), ignore_errors=True)
                    write(args.out, cells, start)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    ordered = write(args.out, cells, start)
    problems = failures(ordered)
    for cell in ordered:
        counts = {}
        for d in cell.get("downloads", []):
            counts[d["status"]] = counts.get(d["status"], 0) + 1
        tests = cell.get("gradkit_tests", {}).get("summary", "")
        print(f"torch {cell['torch']:7} Python {cell['python']:5} {cell['status']:16} "
              f"{counts} gradkit: {tests}")  # fmt: skip
    print(f"check-torch-versions: {time.perf_counter() - start:.0f} s; wrote {args.out}")
    for problem in problems:
        print(f"check-torch-versions: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
