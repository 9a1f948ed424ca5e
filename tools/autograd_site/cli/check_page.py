"""Everything the project checks about one page, step by step: ``make check-page PAGE=name``.

``name`` is a page's file stem or any part of it that names one page (``plot_19``,
``common_errors``). First the companion files the page lacks are listed (a missing
mutation table fails its step; a missing recording is created by its step); then, one
line per step with its time (a failed build stops the run; any other step's failure
fails it at the end, after the other steps):

1. build: ``make html`` (incremental: only what changed reruns); a failing check of the
   page fails here, with the page, the cell and the message;
2. recording: the numbers the built page shows against its recording
   ``tests/site/test_recorded_values/<page>.csv``, which is created when the page has
   none yet (review it, then commit it);
3. standards (gallery scripts): title, cells, checks, live errors, plain first paragraph;
4. mutations (gallery scripts): each edit of ``tests/site/gallery_mutations/<page>.toml``
   occurs once in the script and makes its checks raise AssertionError;
5. prose numbers: every number in the text is printed by the page, an input, or allowlisted;
6. isolation: the page's notebook, run alone, shows what the built page shows;
7. mutation-docs: every derivative and checked value corrupted in turn is caught;
8. lint: ruff over the script (the 79-column rule among others).

The steps run the project's own tests for this page only (pytest ``-k <page>``; the
mutation test runs only the selected page's edits), and the isolation step calls the
functions of ``tests/site/test_isolation.py`` for this page. Not run here: the page's
downloads in a reader's fresh venv (``make test-downloads``, which builds a venv of about
5 GB) and the browser checks (``make test-browser``). The logs of each step are in
``_build/check-page/<page>/``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograd_site.pages import built_page, notebook_download, shown_on_page
from autograd_site.project import BUILD, ROOT, executable_pages, page_id

RECORDINGS = ROOT / "tests" / "site" / "test_recorded_values"
MUTATION_TABLES = ROOT / "tests" / "site" / "gallery_mutations"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]


@dataclass
class Step:
    """What one step found: passed, its one-line summary, the log to read on failure."""

    passed: bool
    summary: str
    log: str = ""


def find_page(name: str, pages: list[Path] | None = None) -> Path:
    """The one executable page whose stem is ``name``, or else contains it."""
    pages = executable_pages() if pages is None else pages
    exact = [page for page in pages if page_id(page) == name]
    found = exact or [page for page in pages if name in page_id(page)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise SystemExit(f"check-page: no page is named like {name!r}; the pages are "
                         f"{', '.join(page_id(p) for p in pages)}")
    raise SystemExit(f"check-page: {name!r} names {len(found)} pages "
                     f"({', '.join(page_id(p) for p in found)}); give one of them")


def is_gallery(page: Path) -> bool:
    return page.suffix == ".py"


def recording(page: Path) -> Path:
    return RECORDINGS / f"{page_id(page)}.csv"


def mutation_table(page: Path) -> Path:
    return MUTATION_TABLES / f"{page_id(page)}.toml"


def missing_companions(page: Path) -> list[str]:
    """The files a page needs beside its source that it does not have yet, each with why."""
    missing = []
    if is_gallery(page) and not mutation_table(page).is_file():
        missing.append(f"{mutation_table(page).relative_to(ROOT)}: the edits that must make "
                       "the script's checks fail (CONTRIBUTING.md, 'Gallery scripts')")
    if not recording(page).is_file():
        missing.append(f"{recording(page).relative_to(ROOT)}: the page's recorded numbers "
                       "(this run creates it: review it, then commit it)")
    return missing


def _run(command: list[str], log: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    log.write_text(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return result


def _pytest(test_file: str, selection: str, log: Path, *extra: str) -> Step:
    result = _run([*PYTEST, f"tests/site/{test_file}", "-k", selection, *extra], log)
    last = (result.stdout.strip().splitlines() or ["no output"])[-1].strip("= ")
    if result.returncode == 5:
        return Step(False, f"no test selected by -k {selection!r}", str(log))
    return Step(result.returncode == 0, last, str(log))


def build(page: Path, log: Path) -> Step:
    result = _run(["make", "--no-print-directory", "html"], log)
    if result.returncode:
        return Step(False, "make html failed", str(log))
    return Step(True, "the site is up to date")


def check_recording(page: Path, log: Path) -> Step:
    if recording(page).is_file():
        return _pytest("test_recorded_values.py", page_id(page), log)
    step = _pytest("test_recorded_values.py", page_id(page), log, "--regen-all")
    if step.passed:
        step.summary = (f"created {recording(page).relative_to(ROOT)}: review it, then "
                        "commit it")
    return step


def check_standards(page: Path, log: Path) -> Step:
    return _pytest("test_gallery_scripts.py",
                   f"{page_id(page)} and not test_wrong_value_fails_the_checks", log)


def check_mutations(page: Path, log: Path) -> Step:
    if not mutation_table(page).is_file():
        return Step(False, f"no {mutation_table(page).relative_to(ROOT)}")
    return _pytest("test_gallery_scripts.py",
                   f"{page_id(page)} and test_wrong_value_fails_the_checks", log)


def check_prose_numbers(page: Path, log: Path) -> Step:
    return _pytest("test_prose_numbers.py", page_id(page), log)


def check_isolation(page: Path, log: Path) -> Step:
    """What test_isolation.py checks, for this page: its notebook run alone shows the same."""
    from autograd_site.readers import reader_env, run_download

    run = run_download(notebook_download(page), sys.executable, env=reader_env(threads="1"))
    on_page = shown_on_page(built_page(page))
    log.write_text(f"run alone: return code {run.returncode}, {run.seconds:.1f} s\n"
                   f"{run.stderr[-5000:]}\nbuilt page: {on_page}\nalone: {run.shown}\n")
    if run.returncode:
        return Step(False, "the notebook fails when run alone", str(log))
    if on_page.figures != run.shown.figures:
        return Step(False, f"{on_page.figures} figures in the build, {run.shown.figures} "
                    "alone", str(log))
    if on_page.text != run.shown.text:
        return Step(False, "the text differs from the built page's", str(log))
    return Step(True, "run alone, the notebook shows what the built page shows")


def check_mutation_docs(page: Path, log: Path) -> Step:
    out = log.with_suffix(".json")
    result = _run([sys.executable, "-m", "autograd_site.cli.mutation_docs", page_id(page),
                   "--out", str(out)], log)
    total = [line for line in result.stdout.splitlines() if line.startswith("total: ")]
    score = total[-1].removeprefix("total: ").split(";")[0] if total else "no score"
    return Step(result.returncode == 0, score, str(log))


def lint(page: Path, log: Path) -> Step:
    if not is_gallery(page):
        return Step(True, "nothing to lint (ruff reads the .py scripts)")
    ruff = Path(sys.executable).parent / "ruff"
    result = _run([str(ruff), "check", str(page.relative_to(ROOT))], log)
    return Step(result.returncode == 0, result.stdout.strip().splitlines()[-1]
                if result.stdout.strip() else "ruff found nothing", str(log))


def steps_for(page: Path) -> list[tuple[str, object]]:
    """The steps that apply to ``page``, in order."""
    steps = [("build", build), ("recording", check_recording)]
    if is_gallery(page):
        steps += [("standards", check_standards), ("mutations", check_mutations)]
    steps += [("prose numbers", check_prose_numbers), ("isolation", check_isolation),
              ("mutation-docs", check_mutation_docs), ("lint", lint)]
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="the page's file stem, or a part of it naming one page")
    args = parser.parse_args(argv)
    if not args.page:
        raise SystemExit("check-page: name the page, e.g. make check-page PAGE=plot_19")
    page = find_page(args.page)
    logs = BUILD / "check-page" / page_id(page)
    logs.mkdir(parents=True, exist_ok=True)
    print(f"check-page: {page.relative_to(ROOT)} (logs in {logs.relative_to(ROOT)}/)",
          flush=True)
    missing = missing_companions(page)
    for line in missing:
        print(f"  to add: {line}")
    failed = []
    steps = steps_for(page)
    total = time.perf_counter()
    for number, (name, check) in enumerate(steps, 1):
        start = time.perf_counter()
        step = check(page, logs / f"{number}-{name.replace(' ', '-')}.log")
        mark = "ok" if step.passed else "FAILED"
        print(f"[{number}/{len(steps)}] {name:<14}{mark:<7}{time.perf_counter() - start:6.1f} s"
              f"  {step.summary}", flush=True)
        if not step.passed:
            failed.append(name)
            if step.log:
                print(f"    see {Path(step.log).relative_to(ROOT)}", flush=True)
            if name == "build":
                break
    print("  not run here: its downloads in a reader's fresh venv (make test-downloads, a "
          "venv of about 5 GB) and the browser checks (make test-browser)")
    elapsed = time.perf_counter() - total
    if failed:  # a missing mutation table fails its step; a missing recording is created
        print(f"check-page {page_id(page)}: FAILED in {elapsed:.0f} s ({', '.join(failed)})")
        return 1
    print(f"check-page {page_id(page)}: every check passed in {elapsed:.0f} s; "
          "now run make test")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
