"""Summarise a mutmut run over src/gradkit: counts per module and status, and the survivors.

Run after ``mutmut run`` (``make mutation-gradkit`` does both). Reads mutmut's
verdicts through its command line (``mutmut results --all true``, ``mutmut show
NAME``), prints killed / survived / no-tests / timeout counts per module and in
total, then lists every mutant that was not killed with its diff. A survivor
counts as explained when a line it changes is listed, with the reason no result
can differ, in ``gradkit_equivalent_mutants.toml`` beside this file (the library
code carries no mutation-testing comments). Exits 1 when any mutant is neither
killed nor explained.

Usage: ``python -m autograd_site.cli.mutmut_summary [--elapsed SECONDS]``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

from autograd_site.project import ROOT

COLUMNS = ["killed", "survived", "no tests", "timeout", "suspicious", "segfault", "not checked"]
EQUIVALENT = Path(__file__).with_name("gradkit_equivalent_mutants.toml")
RESULT = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")


def _mutmut(*args: str) -> str:
    mutmut = Path(sys.executable).with_name("mutmut")
    result = subprocess.run(
        [str(mutmut), *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def _equivalents() -> dict[tuple[str, str], str]:
    """Return {(module file name, stripped source line): reason}."""
    entries = tomllib.loads(EQUIVALENT.read_text())["mutant"]
    return {(e["module"], e["line"].strip()): e["reason"] for e in entries}


def _module(name: str) -> str:
    """``gradkit.pointwise.x_derivative__mutmut_3`` -> ``pointwise.py``."""
    return name.split(".")[1] + ".py"


def _explanation(name: str, equivalents: dict[tuple[str, str], str]):
    """The mutant's diff (``mutmut show``) and the listed reason explaining it, if any."""
    diff = _mutmut("show", name).splitlines()
    removed = [
        line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")
    ]
    for old in removed:
        why = equivalents.get((_module(name), old))
        if why:
            return diff, why
    return diff, None


def main() -> int:
    """Print the summary and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elapsed", type=float, help="wall-clock seconds of the run, to print")
    args = parser.parse_args()
    verdicts = [
        m.groups() for m in map(RESULT.match, _mutmut("results", "--all", "true").splitlines()) if m
    ]
    if not verdicts:
        print("no mutmut results (run `mutmut run` first)", file=sys.stderr)
        return 2
    by_module: dict[str, Counter[str]] = {}
    for name, status in verdicts:
        by_module.setdefault(_module(name), Counter())[status] += 1
    total: Counter[str] = Counter()
    width = max(len(m) for m in by_module)
    print(f"{'module':<{width}}  " + "  ".join(f"{c:>11}" for c in COLUMNS) + "  total")
    for module, counts in sorted(by_module.items()):
        total += counts
        print(
            f"{module:<{width}}  "
            + "  ".join(f"{counts[c]:>11}" for c in COLUMNS)
            + f"  {sum(counts.values()):>5}"
        )
    print(
        f"{'TOTAL':<{width}}  "
        + "  ".join(f"{total[c]:>11}" for c in COLUMNS)
        + f"  {sum(total.values()):>5}"
    )
    others = sorted(set(total) - set(COLUMNS))
    if others:
        print("other statuses: " + ", ".join(f"{s}={total[s]}" for s in others))
    if args.elapsed is not None:
        print(f"run time: {args.elapsed:.0f} s")
    explained, unexplained = [], []
    equivalents = _equivalents()
    for name, status in sorted(verdicts):
        if status == "killed":
            continue
        diff, why = _explanation(name, equivalents)
        if status == "survived" and why:
            explained.append((name, why))
        else:
            unexplained.append((name, status, diff))
    if explained:
        print(f"\n{len(explained)} survivors explained as equivalent in {EQUIVALENT.name}:")
        for name, why in explained:
            print(f"    {name}: {why}")
    if unexplained:
        print(f"\n{len(unexplained)} mutants neither killed nor explained:")
        for name, status, diff in unexplained:
            print(f"    {name}: {status}")
            print("".join(f"        {line}\n" for line in diff if line[:1] in "+-"), end="")
    return 1 if unexplained else 0


if __name__ == "__main__":
    raise SystemExit(main())
