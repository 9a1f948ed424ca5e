"""Every gallery script runs, follows the page standards, and its checks catch a wrong derivative.

All scripts run in this one process (``import torch`` costs seconds), the same
way sphinx-gallery runs them during ``make html``.
"""

import ast
import tomllib
from pathlib import Path

import numpy as np
import pytest
from pagerun import GALLERY_SCRIPTS, numbers_in, printed_output, run_gallery_source

IDS = [p.stem for p in GALLERY_SCRIPTS]

# For every script, tests/gallery_mutations/<script>.toml lists edits that make a
# printed derivative wrong; the script's own checks must then raise
# AssertionError. Each original text must occur exactly once, so a script that
# drifts from its table fails loudly.
MUTATION_DIR = Path(__file__).parent / "gallery_mutations"
MUTATIONS = {
    path.stem: tomllib.loads(path.read_text())["mutation"]
    for path in sorted(MUTATION_DIR.glob("*.toml"))
}
MUTATION_CASES = [
    pytest.param(script, m["old"], m["new"], id=f"{script.stem}-{i}")
    for script in GALLERY_SCRIPTS
    for i, m in enumerate(MUTATIONS.get(script.stem, []))
]


def test_gallery_is_not_empty():
    """The gallery has scripts to run."""
    assert len(GALLERY_SCRIPTS) >= 1


@pytest.mark.parametrize("script", GALLERY_SCRIPTS, ids=IDS)
def test_example_runs_and_prints_the_recorded_values(script, num_regression):
    """The script runs to the end (every check passed) and prints the reviewed values.

    The recorded values live in tests/test_gallery/; regenerate them only on
    purpose, with ``make record-values``, and review the diff.
    """
    printed = printed_output(script)
    values = numbers_in(printed)
    assert values, f"{script.name} printed no number"
    num_regression.check(
        {"printed": np.array(values, dtype=np.float64)},
        basename=script.stem,
        default_tolerance={"rtol": 1e-7, "atol": 0.0},
    )


def test_every_script_has_mutations():
    """Each script has a mutation table with at least one edit, and no table is stale."""
    assert set(MUTATIONS) == set(IDS)
    assert all(MUTATIONS.values())


@pytest.mark.parametrize(("script", "old", "new"), MUTATION_CASES)
def test_wrong_derivative_fails_the_checks(script, old, new):
    """Changing a derivative-producing expression makes the script's checks fail."""
    source = script.read_text()
    assert source.count(old) == 1, f"mutation anchor not found exactly once in {script.name}"
    with pytest.raises(AssertionError):
        run_gallery_source(source.replace(old, new), script)


def _docstring(script):
    return ast.get_docstring(ast.parse(script.read_text()), clean=False) or ""


@pytest.mark.parametrize("script", GALLERY_SCRIPTS, ids=IDS)
def test_page_standards(script):
    """A title underlined with '=', LaTeX math, several text cells, a check and a conclusion."""
    source = script.read_text()
    lines = [line.rstrip() for line in _docstring(script).strip().splitlines()]
    titles = [i for i in range(1, len(lines)) if set(lines[i]) == {"="} and lines[i - 1]]
    assert titles, f"{script.name}: no reST title underlined with '='"
    assert ":math:" in source or ".. math::" in source, f"{script.name}: no LaTeX math"
    assert source.count("\n# %%") >= 4, f"{script.name}: fewer than 4 '# %%' cells"
    assert "assert_close" in source or "assert " in source, f"{script.name}: no check"
    assert "Conclusion" in source, f"{script.name}: no conclusion section"
    assert "print(__doc__)" not in source


@pytest.mark.parametrize("script", GALLERY_SCRIPTS, ids=IDS)
def test_errors_shown_on_purpose_must_keep_raising(script):
    """Every try block re-raises when the call stops failing, and never catches AssertionError."""
    tree = ast.parse(script.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            assert node.orelse and isinstance(node.orelse[-1], ast.Raise), (
                f"{script.name}:{node.lineno}: try without 'else: raise AssertionError(...)'"
            )
            for handler in node.handlers:
                caught = ast.unparse(handler.type) if handler.type else "everything"
                assert "AssertionError" not in caught and caught not in {
                    "everything",
                    "Exception",
                    "BaseException",
                }, f"{script.name}:{handler.lineno}: catches {caught}; catch the specific error"
