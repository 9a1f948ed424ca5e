"""Summarise a mutmut run over src/gradkit: counts per module and status, and the survivors.

Run from the repository root after `mutmut run` (see `make mutation-gradkit`). Reads the
verdicts mutmut stores next to the mutated files in mutants/, prints killed / survived /
no-tests / timeout counts per module and in total, then lists every mutant that was not
killed with its diff. A survivor counts as explained when a line it changes is listed, with
the reason no result can differ, in tests/gradkit/equivalent_mutants.toml (the library code
carries no mutation-testing comments). Exits 1 when any mutant is neither killed nor explained.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.__main__ import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

SOURCE = Path("src") / "gradkit"
MUTANTS = Path("mutants") / SOURCE
COLUMNS = ["killed", "survived", "no tests", "timeout", "suspicious", "segfault", "not checked"]
EQUIVALENT = Path("tests") / "gradkit" / "equivalent_mutants.toml"


def _equivalents() -> dict[tuple[str, str], str]:
    """Return {(module file name, stripped source line): reason} from EQUIVALENT."""
    entries = tomllib.loads(EQUIVALENT.read_text())["mutant"]
    return {(e["module"], e["line"].strip()): e["reason"] for e in entries}


def _explanation(
    name: str, path: Path, equivalents: dict[tuple[str, str], str]
) -> tuple[list[str], str | None]:
    """Return the changed lines of a mutant's diff and the listed reason explaining it."""
    diff = get_diff_for_mutant(name, path=path)
    removed = [line[1:].strip() for line in diff.splitlines()
               if line.startswith("-") and not line.startswith("---")]
    for old in removed:
        why = equivalents.get((path.name, old))
        if why:
            return diff.splitlines(), why
    return diff.splitlines(), None


def main() -> int:
    """Print the summary and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elapsed", type=float, help="wall-clock seconds of the run, to print")
    args = parser.parse_args()
    metas = sorted(MUTANTS.glob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {MUTANTS} (run from the repository root, after "
              "`mutmut run`)", file=sys.stderr)
        return 2
    total: Counter[str] = Counter()
    not_killed: list[tuple[str, str, Path]] = []
    width = max(len(m.name) for m in metas) - 5
    print(f"{'module':<{width}}  " + "  ".join(f"{c:>11}" for c in COLUMNS) + "  total")
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = Counter(status_by_exit_code[c] for c in codes.values())
        total += counts
        not_killed += [(k, status_by_exit_code[c], SOURCE / meta.name[:-5])
                       for k, c in codes.items() if status_by_exit_code[c] != "killed"]
        print(f"{meta.name[:-5]:<{width}}  " + "  ".join(f"{counts[c]:>11}" for c in COLUMNS)
              + f"  {sum(counts.values()):>5}")
    print(f"{'TOTAL':<{width}}  " + "  ".join(f"{total[c]:>11}" for c in COLUMNS)
          + f"  {sum(total.values()):>5}")
    others = sorted(set(total) - set(COLUMNS))
    if others:
        print("other statuses: " + ", ".join(f"{s}={total[s]}" for s in others))
    if args.elapsed is not None:
        print(f"run time: {args.elapsed:.0f} s")
    explained, unexplained = [], []
    equivalents = _equivalents()
    for name, status, path in sorted(not_killed):
        diff, why = _explanation(name, path, equivalents)
        if status == "survived" and why:
            explained.append((name, why))
        else:
            unexplained.append((name, status, diff))
    if explained:
        print(f"\n{len(explained)} survivors explained as equivalent in {EQUIVALENT}:")
        for name, why in explained:
            print(f"    {name}: {why}")
    if unexplained:
        print(f"\n{len(unexplained)} mutants neither killed nor explained:")
        for name, status, diff in unexplained:
            print(f"    {name}: {status}")
            print("".join(f"        {line}\n" for line in diff if line[:1] in "+-"), end="")
    return 1 if unexplained else 0


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parents[1])
    sys.exit(main())
