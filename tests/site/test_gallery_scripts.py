"""Every gallery script follows the page standards, and its checks catch a wrong value.

Whether a script runs and what it prints is judged on the built page
(test_recorded_values.py, test_isolation.py). Here each edit listed in
``gallery_mutations/<script>.toml`` (a wrong derivative, a wrong source term)
is applied to a copy of the script, which runs as ``python script.py`` would, in a
fresh process from an empty folder: its own checks must then raise AssertionError.
"""

import ast
import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from autograd_site.preloaded import PreloadedRunner
from autograd_site.project import gallery_intro, gallery_scripts, page_id

SCRIPTS = gallery_scripts()
IDS = [page_id(p) for p in SCRIPTS]

# Each original text must occur exactly once, so a script that drifts from its
# table fails loudly.
MUTATION_DIR = Path(__file__).parent / "gallery_mutations"
MUTATIONS = {
    path.stem: tomllib.loads(path.read_text())["mutation"]
    for path in sorted(MUTATION_DIR.glob("*.toml"))
}
MUTATION_CASES = [
    (script, m["old"], m["new"]) for script in SCRIPTS for m in MUTATIONS.get(script.stem, [])
]


@pytest.fixture(scope="session")
def mutant_runs(selected):
    """The runs the selected tests judge (all under plain ``pytest``; ``-k plot_19`` selects
    one page's): each script unchanged, then its mutants, two at a time, each in a fresh
    process with torch already imported (autograd_site.preloaded: a fork server imports
    torch and matplotlib once)."""
    wanted = selected(
        {"test_each_script_passes_unchanged_in_the_mutants_runner",
         "test_wrong_value_fails_the_checks"},
        "script", "old", "new",
    )  # fmt: skip
    # Each script also runs unchanged: a mutant counts as caught only if the script
    # passes in this runner without it.
    every = [(script, "", "") for script in SCRIPTS] + MUTATION_CASES
    cases = [case for case in every if case in wanted]

    def run(case):
        script, old, new = case
        source = script.read_text()
        if old and source.count(old) != 1:
            return None
        return runner.run(source.replace(old, new) if old else source, script.name)

    with PreloadedRunner() as runner, ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, cases))
    return dict(zip(cases, results, strict=True))


def test_gallery_is_not_empty():
    """The gallery has scripts to run."""
    assert len(SCRIPTS) >= 1


def test_every_script_has_mutations():
    """Each script has a mutation table with at least one edit, and no table is stale."""
    assert set(MUTATIONS) == set(IDS)
    assert all(MUTATIONS.values())


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_each_script_passes_unchanged_in_the_mutants_runner(script, mutant_runs):
    """The runner that decides the mutants runs each script as it stands without failing."""
    result = mutant_runs[(script, "", "")]
    assert result.returncode == 0, f"{script.name} fails unmutated:\n{result.stderr[-2000:]}"


@pytest.mark.parametrize(
    ("script", "old", "new"),
    MUTATION_CASES,
    ids=[f"{page_id(s)}-{i}" for i, (s, _, _) in enumerate(MUTATION_CASES)],
)
def test_wrong_value_fails_the_checks(script, old, new, mutant_runs):
    """Changing a derivative-producing expression makes the script's own checks fail."""
    result = mutant_runs[(script, old, new)]
    assert result is not None, f"mutation anchor not found exactly once in {script.name}: {old!r}"
    assert result.returncode != 0, f"{script.name}: the checks passed with {old!r} -> {new!r}"
    assert "AssertionError" in result.stderr, result.stderr[-2000:]


def _docstring(script):
    return ast.get_docstring(ast.parse(script.read_text()), clean=False) or ""


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
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


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
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


# What a script's first paragraph (its gallery card's tooltip, plain text) must not hold.
# sphinx-gallery strips a role's or a literal's markup only where it starts a word.
INTRO_MARKUP = {
    r":math:|\.\. math::|\\|\$": "math (a :math: role, a backslash or a $)",
    r":ref:`[^`<]*`": "a :ref: without a title of its own (the tooltip would show the label)",
    r"\|[^|\s][^|]*\||\]_": "a substitution or a footnote",
}
INLINE = re.compile(r"(?::[a-z]+(?::[a-z]+)*:)?(?:``[^`]+``|`[^`]+`)")


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_first_paragraph_is_plain_text(script):
    """The first paragraph after the title is plain text: sphinx-gallery shows it, unrendered,
    as the gallery card's tooltip."""
    intro = " ".join(gallery_intro(script).split())
    assert intro, f"{script.name}: no paragraph after the title"
    found = [what for pattern, what in INTRO_MARKUP.items() if re.search(pattern, intro)]
    if any(m.start() > 0 and not intro[m.start() - 1].isspace() for m in INLINE.finditer(intro)):
        found.append("reST markup that does not start a word, e.g. (``x``)")
    assert not found, (
        f"{script.relative_to(script.parents[1])}: its first paragraph becomes the gallery "
        f"card's tooltip, as plain text, and it holds {'; '.join(found)}. Keep math and "
        f"such markup out of the first paragraph: put them in the next one.\n  {intro}"
    )
