"""The project's locked environments, and the one way they are installed.

``requirements/environments.toml`` says what goes into each environment; ``make lock``
writes ``requirements/<name>.lock`` for each (every file named by its sha256). Every
install of the project goes through :func:`install`: pip with ``--require-hashes`` and
``--no-deps`` against one lock, from the one index of ``environments.toml``, with the
machine's pip configuration set aside (its extra indexes, find-links and constraint
files), so a file that is not in the lock cannot be installed, whatever the machine.

Standard library only: the Makefile runs this file with the system Python before any
venv exists (``python tools/autograd_site/locks.py install VENV_PYTHON NAME``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
ENVIRONMENTS = REQUIREMENTS / "environments.toml"
PYPROJECT = ROOT / "pyproject.toml"
# The first line of every lock: the digest of what went in (checked by `make check-lock`).
DIGEST_PREFIX = "# inputs sha256: "


@dataclass(frozen=True)
class Lock:
    """One lock file: an environment, at one torch release where it has torch."""

    name: str  # file stem under requirements/
    env: str  # its entry in environments.toml
    python: str  # the lowest Python it is resolved for (the lock is universal above it)
    requirements: tuple[str, ...]  # what goes in, as PEP 508 strings
    groups: tuple[str, ...]  # pyproject.toml dependency groups that go in too
    about: str

    @property
    def path(self) -> Path:
        return REQUIREMENTS / f"{self.name}.lock"

    def digest(self) -> str:
        """sha256 of everything that decides this lock's content."""
        config = environments()
        pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
        inputs = {
            "index": config["index"],
            "python": self.python,
            "requirements": sorted(self.requirements),
            "groups": {g: pyproject["dependency-groups"][g] for g in self.groups},
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def environments() -> dict:
    return tomllib.loads(ENVIRONMENTS.read_text(encoding="utf-8"))


def site_torch() -> str:
    """The torch release the site is built with."""
    return environments()["torch"]["site"]


def supported_torch() -> list[str]:
    return list(environments()["torch"]["supported"])


def supported_pythons() -> list[str]:
    return list(environments()["torch"]["pythons"])


def locks() -> list[Lock]:
    """Every lock file the project has, in environments.toml's order."""
    config = environments()
    found = []
    for env, spec in config["env"].items():
        base = list(spec.get("packages", []))
        if spec.get("project"):
            pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
            base += pyproject["project"]["dependencies"]
        torch = spec.get("torch")
        versions = (
            config["torch"]["supported"]
            if torch == "each"
            else [config["torch"]["site"]]
            if torch == "site"
            else [None]
        )
        for version in versions:
            requirements = [r for r in base if not _is_torch(r)]
            if version is not None:
                requirements.append(f"torch=={version}")
            name = env if torch != "each" else f"{env}-torch-{version}"
            found.append(
                Lock(
                    name=name,
                    env=env,
                    python=spec["python"],
                    requirements=tuple(requirements),
                    groups=tuple(spec.get("groups", [])),
                    about=spec["about"],
                )
            )
    return found


def lock_named(name: str) -> Lock:
    for lock in locks():
        if lock.name == name:
            return lock
    names = ", ".join(lock.name for lock in locks())
    raise SystemExit(f"locks: no lock named {name!r} in {ENVIRONMENTS.name} (have: {names})")


def reader_lock(torch: str) -> Lock:
    """The reader's environment at one supported torch release."""
    return lock_named(f"reader-torch-{torch}")


def _is_torch(requirement: str) -> bool:
    name = requirement.split(";")[0]
    for separator in "<>=!~[ ":
        name = name.split(separator)[0]
    return name.strip().lower() == "torch"


def pip_environment() -> dict[str, str]:
    """The environment every install runs pip in: one index, no other source of files.

    The machine's pip configuration files are skipped (``PIP_CONFIG_FILE=/dev/null``), and
    the variables that add sources or constraints are emptied, so an extra index, a local
    folder of wheels or a constraint file set on the machine cannot supply or veto a file:
    the lock's hashes decide. (A machine here caps torch below the site's release in its
    pip configuration; this is also what lifts that cap, for the project's installs only.)
    """
    env = dict(os.environ)
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL=environments()["index"],
        PIP_EXTRA_INDEX_URL="",
        PIP_FIND_LINKS="",
        PIP_CONSTRAINT="",
    )
    env.pop("PIP_NO_INDEX", None)
    return env


def wheelhouse() -> Path:
    """Where downloaded files are kept between installs (pip here keeps no copy of its own
    of multi-GB wheels). Safe to share: a file is used only if its hash is the locked one."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "autograd-by-example" / "wheels"


def install_commands(python: str, lock_file: Path, folder: Path | None = None) -> list[list[str]]:
    """Download what the wheelhouse (or ``folder``) lacks, from the index; then install from
    it. Both steps check every file against the lock's hashes."""
    locked = ["--require-hashes", "--no-deps", "-r", str(lock_file)]
    folder = str(folder or wheelhouse())
    return [
        [python, "-m", "pip", "download", "--quiet", "--dest", folder, *locked],
        # byte-compiled at install, as pip does by default and as a reader's install is.
        # Where PYTHONDONTWRITEBYTECODE is set (as on the machines .ci/run is timed on)
        # Python never saves what it compiles, and without this every process compiled
        # torch's modules again: import torch, matplotlib, numpy 5.7 s against 2.75 s
        # (medians of 5); the install takes about a minute longer (58 s against 119 s)
        [python, "-m", "pip", "install", "--quiet", "--no-index",
         "--find-links", folder, *locked],
    ]  # fmt: skip


def install(python: str, name: str, lock_file: Path | None = None) -> None:
    """Install lock ``name`` (or the file ``lock_file``) into the environment of ``python``."""
    path = lock_file or lock_named(name).path
    if not path.exists():
        raise SystemExit(f"locks: {path} is missing: run 'make lock'")
    wheelhouse().mkdir(parents=True, exist_ok=True)
    for command in install_commands(python, path):
        if subprocess.run(command, env=pip_environment()).returncode:
            raise SystemExit(
                f"locks: installing {path.name} failed (above). A hash mismatch means a file "
                "differs from the one locked: never edit a hash by hand; if pyproject.toml or "
                "environments.toml changed, run 'make lock' and review the diff."
            )


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "install":
        install(argv[1], argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    print("usage: locks.py install VENV_PYTHON LOCK_NAME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
