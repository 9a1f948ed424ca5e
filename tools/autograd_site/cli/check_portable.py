"""Every page prints the same on any CPU and thread count (``make check-portable``).

Builds a scratch copy of the site with ``make html``'s command once per setting:
torch's CPU kernel set (``ATEN_CPU_CAPABILITY``: default, avx2, and avx512 where
this CPU has it) times the torch thread count (``OMP_NUM_THREADS`` 1 and 2). The
setting ``make html`` built the site in (torch's own kernel set on this CPU, and
the thread count the Makefile exports) is read from the built site
(``_build/html``, which must be up to date) instead of being built again. Then
checks that every executed page shows the same text in every setting, and that its
numbers match the reviewed recordings in every setting. Prints the matrix (pages x
settings) and each build's time.

Usage: ``python -m autograd_site.cli.check_portable [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from autograd_site.pages import built_page, shown_on_page
from autograd_site.project import (
    HTML,
    RECORDED_RTOL,
    ROOT,
    build_command,
    copy_project,
    executable_pages,
    page_id,
    stage_static_assets,
)

RECORDINGS = ROOT / "tests" / "site" / "test_recorded_values"
THREADS = ("1", "2")


def kernel_sets() -> list[str]:
    """The CPU kernel sets torch can use on this machine."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    sets = ["default"]
    if " avx2" in flags:
        sets.append("avx2")
    if " avx512f" in flags:
        sets.append("avx512")
    return sets


def build(scratch: Path, capability: str, threads: str, compiled: Path) -> float:
    """Build the scratch copy's site in one setting; return the seconds it took.

    ``compiled`` is torch.compile's on-disk cache for this kernel set: the key of a cached
    graph does not include the kernel set ATEN_CPU_CAPABILITY forces (torch 2.15), so with
    the cache of this machine's own builds a page would run code compiled for another
    kernel set than the one it checks (and the gradkit tests saw such code fail to build).
    A CPU with only that kernel set starts from its own cache, as the build does here."""
    env = {
        **os.environ,
        "ATEN_CPU_CAPABILITY": capability,
        "OMP_NUM_THREADS": threads,
        "TORCHINDUCTOR_CACHE_DIR": str(compiled),
    }
    start = time.perf_counter()
    result = subprocess.run(
        [*build_command(), "docs", "_build/html"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-6000:], sep="\n")
        raise SystemExit(f"check-portable: the build failed with {capability}, {threads} threads")
    return time.perf_counter() - start


def native_setting() -> tuple[str, str]:
    """The kernel set and thread count of ``make html``'s build: torch's own choice in
    this environment (the Makefile exports ``OMP_NUM_THREADS``, default 1, to both)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import torch; print(torch.backends.cpu.get_cpu_capability().lower(),"
            " torch.get_num_threads())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], out[1]


def recorded(page: Path) -> np.ndarray | None:
    csv = RECORDINGS / f"{page_id(page)}.csv"
    if not csv.exists():
        return None
    import pandas as pd

    return pd.read_csv(csv)["printed"].to_numpy(dtype=np.float64)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the copies here and keep them")
    args = parser.parse_args(argv)
    settings = [(cap, n) for cap in kernel_sets() for n in THREADS]
    native = native_setting()
    if not (HTML / "index.html").exists():
        raise SystemExit("check-portable: the built site is missing; run 'make html' first")
    pages = executable_pages()
    work = args.keep or Path(tempfile.mkdtemp(prefix="check-portable-"))
    texts: dict[tuple[str, str], dict[str, str]] = {}
    failures: list[str] = []
    start = time.perf_counter()
    try:
        for capability, threads in settings:
            if (capability, threads) == native:
                html, scratch = HTML, None
                print(f"check-portable: {capability}, {threads} thread(s): the site as built")
            else:
                scratch = copy_project(work / f"{capability}-{threads}")
                stage_static_assets(scratch)
                seconds = build(scratch, capability, threads, work / f"inductor-{capability}")
                html = scratch / "_build" / "html"
            shown = {}
            for page in pages:
                on_page = shown_on_page(built_page(page, html))
                shown[page_id(page)] = on_page.text
                expected = recorded(page)
                values = np.array(on_page.numbers, dtype=np.float64)
                if (
                    expected is None
                    or expected.shape != values.shape
                    or not np.allclose(values, expected, rtol=RECORDED_RTOL, atol=0.0)
                ):
                    failures.append(
                        f"{page_id(page)} ({capability}, {threads} threads): "
                        "numbers differ from the recording"
                    )
            texts[(capability, threads)] = shown
            if scratch is None:
                continue
            print(f"check-portable: {capability}, {threads} thread(s): built in {seconds:.0f} s")
            if not args.keep:
                shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    reference = settings[0]
    header = "page".ljust(40) + "".join(f"{c}/{n}".rjust(11) for c, n in settings)
    print(f"\n{header}")
    for page in pages:
        name = page_id(page)
        row = name.ljust(40)
        for setting in settings:
            same = texts[setting][name] == texts[reference][name]
            row += ("same" if same else "DIFFERS").rjust(11)
            if not same:
                failures.append(f"{name}: text with {setting} differs from {reference}")
        print(row)
    print(f"\n{len(pages)} pages x {len(settings)} settings in {time.perf_counter() - start:.0f} s")
    for failure in failures:
        print(f"check-portable: {failure}", file=sys.stderr)
    if not failures:
        print("check-portable: every page prints the same text in every setting")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
