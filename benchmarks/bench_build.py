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

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"clean build": 10.0, "no-op rebuild": 1.5, "one touched example": 3.0}


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


def _copy_site(dest):
    """Copy what the build reads (config, docs, gallery) into ``dest``."""
    shutil.copy2(ROOT / "conf.py", dest / "conf.py")
    ignore = shutil.ignore_patterns("auto_examples", "gen_modules", "jupyter_execute", "_build")
    shutil.copytree(ROOT / "docs", dest / "docs", ignore=ignore)
    shutil.copytree(ROOT / "gallery", dest / "gallery")
    shutil.copytree(ROOT / "benchmarks", dest / "benchmarks", ignore=shutil.ignore_patterns("tmp"))
    # KaTeX staged by `make katex`; conf.py refuses to build without it.
    shutil.copytree(ROOT / "_build" / "katex", dest / "_build" / "katex")


def _clean(site):
    shutil.rmtree(site / "_build" / "html", ignore_errors=True)
    shutil.rmtree(site / "_build" / ".jupyter_cache", ignore_errors=True)
    for generated in ("docs/auto_examples", "docs/gen_modules", "docs/jupyter_execute"):
        shutil.rmtree(site / generated, ignore_errors=True)
    (site / "docs/sg_execution_times.rst").unlink(missing_ok=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()

    python = Path(sys.executable)
    # The command and options `make html` uses (the Makefile passes both), so the
    # figures are those of the maintainers' command.
    command = os.environ.get("SPHINXBUILD", f"{python} {ROOT / 'docs/_ext/sphinx_build.py'}")
    options = os.environ.get("SPHINXOPTS", "-W --keep-going -j auto").split()
    # The builds run in a scratch copy: paths in the command are the repository's.
    command = [str(ROOT / w) if (ROOT / w).exists() else w for w in command.split()]
    sphinx = [*command, "-b", "html", "-c", ".", *options, "-q"]
    build = [*sphinx, "docs", "_build/html"]
    env_note = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"

    imports = [
        _timed([str(python), "-c", "import torch"], ROOT) for _ in range(max(5, args.repeats))
    ]
    t_import = statistics.median(imports)

    clean, noop, touched = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        site = Path(tmp)
        _copy_site(site)
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
    print(f"{'what':<22}{'median s':>10}{'x import':>10}  {'target':<14}runs")
    failed = []
    for name, median, runs in rows:
        ratio = median / t_import
        target = TARGETS.get(name)
        mark = "" if target is None else f"<= {target:g}x"
        if target is not None and ratio > target:
            failed.append(name)
            mark += " MISSED"
        runs_text = ", ".join(f"{r:.2f}" for r in runs)
        print(f"{name:<22}{median:>10.2f}{ratio:>10.2f}  {mark:<14}[{runs_text}]")
    if failed:
        print(f"targets missed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
