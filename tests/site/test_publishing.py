"""The publishing files are valid by their schemas (vendored in .ci/schemas/).

The same validation as ``make check-publishing``: ``.readthedocs.yaml`` against
Read the Docs' schema and ``.github/workflows/docs.yml`` against the GitHub
workflow schema, with check-jsonschema, offline. Broken copies must fail, so a
schema that accepts anything would be noticed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from autograd_site.project import ROOT

SCHEMAS = ROOT / ".ci" / "schemas"
CASES = [
    (".readthedocs.yaml", "readthedocs.json", "vendor.readthedocs"),
    (".github/workflows/docs.yml", "github-workflows.json", "vendor.github-workflows"),
]


def check(schema: Path, instance: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(instance)],
        capture_output=True,
        text=True,
        cwd=ROOT,
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


def test_readthedocs_builds_with_make_html():
    """Read the Docs runs make html (its command and environment) and publishes its output."""
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["version"] == 2
    assert config["build"]["os"] == "ubuntu-24.04"
    assert config["build"]["tools"]["python"] == "3.11"
    assert "nodejs" in config["build"]["tools"]
    commands = config["build"]["commands"]
    assert any(c.endswith("make html") for c in commands)
    assert not any("sphinx" in c for c in commands), "build with make html, not sphinx directly"
    assert any("_build/html $READTHEDOCS_OUTPUT/html" in c for c in commands)


def test_workflow_runs_ci_and_publishes():
    """The workflow runs what CI runs (.ci/run), with pinned actions and least privilege."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/docs.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "") for s in steps] + [
        s.get("uses", "") for s in workflow["jobs"]["deploy"]["steps"]
    ]
    assert "bash .ci/run" in runs
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses if u), uses
    assert workflow["permissions"] == {}
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)


def test_ci_runs_the_readme_checks():
    """.ci/run runs the test command and every check of what readers get."""
    ci = (ROOT / ".ci" / "run").read_text()
    for command in (
        "make lint",
        "make test",
        "make check-portable",
        "make test-downloads",
        "make check-publishing",
        "make test-browser",
    ):
        assert command in ci, command


def test_zizmor_finds_nothing_in_the_workflows():
    """zizmor audits the workflows (offline) with no finding at its default level."""
    zizmor = Path(sys.executable).with_name("zizmor")
    if not zizmor.exists():
        pytest.skip("zizmor is not installed")
    result = subprocess.run(
        [str(zizmor), "--offline", str(ROOT / ".github" / "workflows")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_published_folder_holds_no_build_state(built_site):
    """Sphinx keeps its doctrees (and the site's font caches) in _build/doctrees (``-d`` in
    the Makefile's BUILD_SITE), not in the _build/html that the workflow publishes."""
    state = built_site / ".doctrees"
    assert not state.exists(), (
        f"{state.relative_to(ROOT)} would be published with the site: build with make html's "
        "command (BUILD_SITE); a build from before it moved left it there: run 'make clean'"
    )
