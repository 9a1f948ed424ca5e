"""Check that gradkit's sdist holds only the package, its standalone tests, LICENSE, README.

Usage: ``python tests/gradkit/check_sdist.py dist/gradkit-X.tar.gz`` (run by
``make check-dist``). Exits 1 and lists the offending members otherwise.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import PurePosixPath

ALLOWED_TOP = {"PKG-INFO", "pyproject.toml", "setup.cfg", "LICENSE", "README-gradkit.md",
               "MANIFEST.in"}
# check_sdist.py itself is tooling, not a test: MANIFEST.in leaves it out.
REQUIRED = {"LICENSE", "README-gradkit.md", "src/gradkit/__init__.py", "src/gradkit/py.typed",
            "tests/gradkit/conftest.py", "tests/gradkit/test_zoo.py"}


def problems(path: str) -> list[str]:
    """Return what is wrong with the sdist at ``path`` (empty when it is right)."""
    with tarfile.open(path) as tar:
        names = [PurePosixPath(*PurePosixPath(m.name).parts[1:]) for m in tar.getmembers()
                 if m.isfile()]
    bad = []
    for n in names:
        s = str(n)
        ok = (s in ALLOWED_TOP or s.startswith("src/gradkit/")
              or s.startswith("src/gradkit.egg-info/") or s.startswith("tests/gradkit/"))
        if not ok or s.startswith("tests/") and s.endswith((".toml", "check_sdist.py")):
            bad.append(f"unexpected member: {s}")
    have = {str(n) for n in names}
    bad += [f"missing member: {r}" for r in sorted(REQUIRED - have)]
    return bad


if __name__ == "__main__":
    errors = problems(sys.argv[1])
    print("\n".join(errors) or f"{sys.argv[1]}: only the package, its tests, LICENSE, README")
    sys.exit(1 if errors else 0)
