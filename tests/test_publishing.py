"""The publishing files are valid by their schemas (vendored in .ci/schemas/).

The same validation as ``make check-publishing``: ``.readthedocs.yaml`` against
Read the Docs' schema and ``.github/workflows/docs.yml`` against the GitHub
workflow schema, with check-jsonschema, offline. Broken copies must fail, so a
schema that accepts anything would be noticed.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / ".ci" / "schemas"
CASES = [
    (".readthedocs.yaml", "readthedocs.json", "vendor.readthedocs"),
    (".github/workflows/docs.yml", "github-workflows.json", "vendor.github-workflows"),
]


def check(schema: Path, instance: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(instance)],
        capture_output=True, text=True, cwd=ROOT,
    )


@pytest.mark.parametrize(("instance", "schema", "builtin"), CASES)
def test_valid_by_vendored_schema(instance, schema, builtin):
    result = check(SCHEMAS / schema, ROOT / instance)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("instance", "schema", "builtin"), CASES)
def test_vendored_schema_is_check_jsonschemas_own(instance, schema, builtin):
    shipped = files("check_jsonschema.builtin_schemas.vendor") / f"{builtin.split('.', 1)[1]}.json"
    assert (SCHEMAS / schema).read_bytes() == shipped.read_bytes()


@pytest.mark.parametrize(("instance", "schema", "builtin"), CASES)
def test_broken_copy_is_rejected(instance, schema, builtin, tmp_path):
    data = yaml.safe_load((ROOT / instance).read_text())
    if instance == ".readthedocs.yaml":
        data["version"] = 3
        data["build"]["os"] = "windows-11"
    else:
        data["jobs"]["build"]["runs-on"] = {"not": "a runner"}
        data["jobs"]["build"]["steps"][0] = {"uses": 1}
    broken = tmp_path / Path(instance).name
    broken.write_text(yaml.safe_dump(data))
    result = check(SCHEMAS / schema, broken)
    assert result.returncode != 0, result.stdout


def test_readthedocs_builds_like_make_html():
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["version"] == 2
    assert config["build"]["os"] == "ubuntu-24.04"
    assert config["build"]["tools"]["python"] == "3.11"
    assert "nodejs" in config["build"]["tools"]
    commands = " ".join(config["build"]["commands"])
    assert "-c requirements/constraints.txt" in commands and '-e ".[docs]"' in commands
    assert "npm ci" in commands and "make katex" in commands
    assert "-c . " in commands and "$READTHEDOCS_OUTPUT/html" in commands


def test_workflow_tests_builds_checks_and_publishes():
    workflow = yaml.safe_load((ROOT / ".github/workflows/docs.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "") for s in steps] + [
        s.get("uses", "") for s in workflow["jobs"]["deploy"]["steps"]]
    for command in ("make test", "make html", "make test-browser", "apt-get install"):
        assert any(command in r for r in runs), command
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
