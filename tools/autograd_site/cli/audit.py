"""Known vulnerabilities in every locked environment (``make audit``).

Runs pip-audit over each lock of ``requirements/`` without installing anything
(``--disable-pip --require-hashes``: the pins and hashes are read from the lock). pip-audit
looks each pinned release up in PyPI's advisory data, so this needs that service: a
dependency it could not look up fails the audit, so an unreachable service never reads as
"no known vulnerabilities".

Usage: ``python -m autograd_site.cli.audit [--pip-audit PATH]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from autograd_site.locks import ROOT, locks


def audit(pip_audit: str, lock) -> list[str]:
    result = subprocess.run(
        [
            pip_audit, "-r", str(lock.path), "--disable-pip", "--require-hashes",
            "--format", "json", "--progress-spinner", "off",
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    where = lock.path.relative_to(ROOT)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"{where}: pip-audit failed: {result.stderr.strip()[-1000:]}"]
    found = []
    for dependency in report["dependencies"]:
        for vulnerability in dependency.get("vulns", []):
            fixed = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed release"
            found.append(
                f"{where}: {dependency['name']} {dependency['version']}: "
                f"{vulnerability['id']} (fixed in {fixed})"
            )
        if "skip_reason" in dependency:
            found.append(f"{where}: not audited: {dependency['skip_reason']}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    args = parser.parse_args(argv)
    problems = []
    for lock in locks():
        found = audit(args.pip_audit, lock)
        print(f"audit: {lock.path.relative_to(ROOT)}: {len(found) or 'no'} finding(s)", flush=True)
        problems += found
    for problem in problems:
        print(f"audit: {problem}", file=sys.stderr)
    if any("not audited" in p for p in problems):
        print(
            "audit: some releases could not be looked up: PyPI's advisory data must be "
            "reachable (run `make audit` where it is)",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
