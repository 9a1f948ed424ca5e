"""Every install is exact: hash-locked, from one index (tools/autograd_site/locks.py).

The locks agree with their inputs (what ``make check-lock`` runs), a lock made from other
inputs is refused, a file whose hash is not the locked one stops the install naming its
package, and no file of the repository adds an index.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from autograd_site import locks
from autograd_site.cli import lock as lock_cli
from autograd_site.project import ROOT


def test_every_lock_agrees_with_its_inputs():
    assert [p for lock in locks.locks() for p in lock_cli.problems(lock)] == []


def test_a_changed_requirement_makes_the_lock_stale(tmp_path, monkeypatch):
    pyproject = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text()
    assert '    "sphinx-gallery",\n' in text
    text = text.replace('    "sphinx-gallery",\n', '    "sphinx-gallery>=99",\n    "tqdm",\n', 1)
    pyproject.write_text(text)
    monkeypatch.setattr(locks, "PYPROJECT", pyproject)
    monkeypatch.setattr(lock_cli, "PYPROJECT", pyproject)
    found = lock_cli.problems(locks.lock_named("project"))
    assert any("other inputs" in p and "make lock" in p for p in found), found
    assert any("sphinx-gallery>=99 is required, the lock has 0." in p for p in found), found
    assert any("tqdm is required but not locked" in p for p in found), found


def test_every_pinned_file_is_hashed():
    for lock in locks.locks():
        pins = lock_cli.pins(lock.path.read_text())
        assert pins and all(count > 0 for _, count in pins.values()), lock.name


def test_the_site_is_locked_at_the_site_torch():
    project = lock_cli.pins(locks.lock_named("project").path.read_text())
    assert str(project["torch"][0]) == locks.site_torch()
    for torch in locks.supported_torch():
        reader = lock_cli.pins(locks.reader_lock(torch).path.read_text())
        assert str(reader["torch"][0]) == torch


def test_a_tampered_hash_stops_the_install_naming_the_package(tmp_path):
    """One package's hashes changed in a scratch copy of a lock: pip refuses, naming it."""
    text = locks.lock_named("pytest").path.read_text()
    block = re.search(r"^iniconfig==\S+ \\\n((?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+)", text, re.M)
    assert block, "the pytest lock pins iniconfig"
    tampered = re.sub(
        r"sha256:([0-9a-f]{63})[0-9a-f]",
        lambda m: f"sha256:{m[1]}{'0' if m[0][-1] != '0' else '1'}",
        block[1],
    )
    scratch = tmp_path / "tampered.lock"
    scratch.write_text(text.replace(block[1], tampered))
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    download = locks.install_commands(python, scratch, folder=tmp_path / "wheels")[0]
    result = subprocess.run(download, env=locks.pip_environment(), capture_output=True, text=True)
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stderr, result.stderr[-2000:]
    assert re.search(r"^\s+iniconfig==", result.stderr, re.M), result.stderr[-2000:]
    installed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
    ).stdout
    assert "pytest==" not in installed and "iniconfig==" not in installed


@pytest.mark.parametrize(
    "pattern",
    [
        r"extra-index-url[=\s]+['\"]?(https?|file):",
        r"EXTRA_INDEX_URL\s*[:=]\s*['\"]?(https?|file):",
    ],
)
def test_no_file_adds_an_index(pattern):
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        and name != "tests/site/test_locks.py"
        and re.search(pattern, (ROOT / name).read_text(errors="ignore"), re.I)
    ]
    assert found == []


def test_installs_see_no_other_source():
    env = locks.pip_environment()
    assert env["PIP_CONFIG_FILE"] == "/dev/null"
    assert env["PIP_INDEX_URL"] == locks.environments()["index"]
    assert env["PIP_EXTRA_INDEX_URL"] == env["PIP_FIND_LINKS"] == env["PIP_CONSTRAINT"] == ""


def test_gradkit_declares_the_oldest_supported_torch():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == [
        f"torch>={'.'.join(locks.supported_torch()[0].split('.')[:2])}"
    ]
