"""``make check-page PAGE=name`` (cli/check_page.py): which page, which steps, what it lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from autograd_site.cli import check_page
from autograd_site.project import GALLERY, ROOT, executable_pages


def test_a_page_is_found_by_its_stem_or_a_part_naming_one_page():
    assert check_page.find_page("plot_19").name == "plot_19_nondifferentiable_points.py"
    assert check_page.find_page("plot_04_leaf_tensors").name == "plot_04_leaf_tensors.py"
    assert check_page.find_page("common_errors").name == "common_errors.md"


@pytest.mark.parametrize(("name", "message"), [
    ("plot_04", "names 2 pages (plot_04_leaf_tensors, plot_04b_computational_graph)"),
    ("no_such_page", "no page is named like 'no_such_page'"),
])
def test_a_name_that_does_not_name_one_page_is_refused(name, message):
    with pytest.raises(SystemExit, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_page.find_page(name)


def test_every_page_has_its_companions():
    lacking = {page.name: check_page.missing_companions(page) for page in executable_pages()}
    assert not {name: what for name, what in lacking.items() if what}


def test_a_new_script_is_told_what_it_lacks():
    new = GALLERY / "basics" / "plot_99_new_page.py"
    missing = check_page.missing_companions(new)
    assert [line.split(":")[0] for line in missing] == [
        "tests/site/gallery_mutations/plot_99_new_page.toml",
        "tests/site/test_recorded_values/plot_99_new_page.csv",
    ]
    step = check_page.check_mutations(new, Path("/dev/null"))
    assert not step.passed and "gallery_mutations/plot_99_new_page.toml" in step.summary


def test_the_steps_cover_what_the_project_checks():
    script = check_page.find_page("plot_19")
    names = [name for name, _ in check_page.steps_for(script)]
    assert names == ["build", "recording", "standards", "mutations", "prose numbers",
                     "isolation", "mutation-docs", "lint"]
    myst = [name for name, _ in check_page.steps_for(check_page.find_page("common_errors"))]
    assert "mutations" not in myst and "isolation" in myst


def test_the_makefile_has_the_target():
    assert "check-page:" in (ROOT / "Makefile").read_text()


def _fake_steps(outcomes):
    def steps_for(page):
        return [(name, lambda page, log, passed=passed: check_page.Step(passed, "said"))
                for name, passed in outcomes]
    return steps_for


def test_a_failed_step_fails_the_run_and_the_others_still_run(monkeypatch, capsys):
    monkeypatch.setattr(check_page, "steps_for",
                        _fake_steps([("build", True), ("recording", False), ("lint", True)]))
    assert check_page.main(["plot_19"]) == 1
    out = capsys.readouterr().out
    assert "[2/3] recording     FAILED" in out and "[3/3] lint" in out
    assert "check-page plot_19_nondifferentiable_points: FAILED" in out and "(recording)" in out


def test_a_failed_build_stops_the_run(monkeypatch, capsys):
    monkeypatch.setattr(check_page, "steps_for",
                        _fake_steps([("build", False), ("recording", True)]))
    assert check_page.main(["plot_19"]) == 1
    assert "[2/2]" not in capsys.readouterr().out


def test_a_run_that_passes_says_so_and_nothing_reads_as_a_failure(monkeypatch, capsys):
    monkeypatch.setattr(check_page, "steps_for", _fake_steps([("build", True), ("lint", True)]))
    assert check_page.main(["plot_19"]) == 0
    out = capsys.readouterr().out
    assert "every check passed" in out and "FAIL" not in out
