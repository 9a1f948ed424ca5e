"""Time the site build against ``import torch``: clean, no-op and one-touched-example builds.

Run with ``make bench-build``. The site is copied to a scratch folder so the
working tree's build is left alone. Each figure is the median of ``--repeats``
runs; all are measured in this one run, on this machine, so the ratios to the
import time are what to compare (absolute seconds vary with the machine's load).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograd_site.project import (
    BUILD,
    GENERATED,
    build_command,
    copy_project,
    stage_static_assets,
)

TARGETS = {"clean build": 25.0, "no-op rebuild": 1.5, "one touched example": 3.0}


def _timed(cmd, cwd):
    """Run ``cmd`` and return its wall time in seconds; fail loudly if it fails."""
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"bench-build: {' '.join(map(str, cmd))} failed:\n{result.stdout}\n{result.stderr}"
        )
    return elapsed


def _clean(site):
    """Remove what a build leaves: the output folder and the generated pages."""
    shutil.rmtree(site / BUILD.name / "html", ignore_errors=True)
    shutil.rmtree(site / BUILD.name / "doctrees", ignore_errors=True)
    for name in GENERATED:
        path = site / "docs" / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()

    python = Path(sys.executable)
    # make html's own command (BUILD_SITE, passed by the Makefile), so the figures
    # are those of the maintainers' command.
    build = [*build_command(), "-q", "docs", "_build/html"]
    env_note = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"

    imports = [
        _timed([str(python), "-c", "import torch"], tempfile.gettempdir())
        for _ in range(max(5, args.repeats))
    ]
    t_import = statistics.median(imports)

    clean, noop, touched = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        site = copy_project(Path(tmp))
        stage_static_assets(site)
        example = sorted((site / "gallery").rglob("plot_*.py"))[0]
        for _ in range(args.repeats):
            _clean(site)
            clean.append(_timed(build, site))
            noop.append(_timed(build, site))
            example.write_text(example.read_text() + "\n")
            touched.append(_timed(build, site))

    rows = [
        ("import torch", t_import, imports),
        ("clean build", statistics.median(clean), clean),
        ("no-op rebuild", statistics.median(noop), noop),
        ("one touched example", statistics.median(touched), touched),
    ]
    print(f"Site build benchmark ({env_note}; median of {args.repeats} runs, builds of a copy)")
    print(f"{'what':<22}{'median s':>10}{'x import':>10}  {'target':<16}runs")
    failed = []
    for name, median, runs in rows:
        ratio = median / t_import
        target = TARGETS.get(name)
        mark = "" if target is None else f"<= {target:g}x"
        if target is not None and ratio > target:
            failed.append(name)
            mark += " MISSED"
        runs_text = ", ".join(f"{r:.2f}" for r in runs)
        print(f"{name:<22}{median:>10.2f}{ratio:>10.2f}  {mark:<16}[{runs_text}]")
    if failed:
        print(f"targets missed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
