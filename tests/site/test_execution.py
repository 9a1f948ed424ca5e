"""How the build runs pages (tools/autograd_site/sphinxext/execution.py).

- What makes every page rerun: one test per input of the fingerprint, and one
  build that reruns gallery and MyST-NB pages after gradkit changes, then
  nothing on a no-op rebuild.
- A failing page fails ``make html``'s command (parallel, ``-j auto``) and the
  console shows the file, the cell or line, and the assertion message.
- A second build of the same tree stops at once; Ctrl-C leaves no kernel running.

The builds run in scratch copies of the project with make html's own command;
``-D`` options and the copy's conf.py keep each to the pages it needs (one MyST-NB
page runs in the copies, not all of them: these tests are about how pages run).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from autograd_site.project import (
    build_command,
    copy_project,
    myst_nb_pages,
    stage_static_assets,
)
from autograd_site.sphinxext.execution import RESET_FILES, inputs_fingerprint

FAILING_PAGE = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
orphan: true
---

# A page whose check fails

```{code-cell} python
total = 1 + 1
```

```{code-cell} python
assert total == 3, "one plus one is not three"
```
"""

ONLY_FIRST_EXAMPLE = ["-D", "sphinx_gallery_conf.filename_pattern=plot_01_"]
NO_GALLERY = ["-D", "plot_gallery=0"]
NO_NOTEBOOKS = ["-D", "nb_execution_mode=off"]


@pytest.fixture
def scratch(tmp_path):
    """A copy of the project to build, with the assets make html stages, in which only the
    first MyST-NB page runs (the others are excluded from execution in the copy's conf.py)."""
    copy = copy_project(tmp_path / "project")
    stage_static_assets(copy)
    docs = copy / "docs"
    others = [page.relative_to(docs).as_posix() for page in myst_nb_pages(copy)[1:]]
    with open(copy / "conf.py", "a") as conf:
        conf.write(f"\nnb_execution_excludepatterns = [*nb_execution_excludepatterns, *{others}]\n")
        # a page that does not run has no kernel information to name its code's lexer
        conf.write('suppress_warnings = ["myst-nb.lexer"]\n')
    return copy


def build(project: Path, *options: str, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*build_command(), *options, "docs", "_build/html"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        **popen,
    )


# -- what reruns the pages --------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        "src/gradkit/__init__.py",
        "conf.py",
        "requirements/project.lock",
    ],
)
def test_a_change_to_an_input_changes_the_fingerprint(scratch, edit):
    """gradkit's sources, conf.py and the pinned environment are inputs of every page."""
    before = inputs_fingerprint(scratch)
    with open(scratch / edit, "a") as file:
        file.write("\n# changed\n")
    assert inputs_fingerprint(scratch) != before


@pytest.mark.parametrize("module", [path.name for path in RESET_FILES])
def test_a_change_to_the_reset_code_changes_the_fingerprint(scratch, tmp_path, module):
    """The reset before each example, the kernels' start-up file and the code that starts
    the kernels are inputs of every page."""
    files = list(RESET_FILES)
    assert {f.name for f in files} >= {
        "execution.py", "reader_tracebacks.py", "kernels.py", "kernel_server.py",
        "kernel_launcher.py",
    }
    before = inputs_fingerprint(scratch, reset_files=files)
    changed = tmp_path / module
    original = next(f for f in files if f.name == module)
    changed.write_text(original.read_text() + "\n# changed\n")
    after = inputs_fingerprint(
        scratch, reset_files=[changed if f.name == module else f for f in files]
    )
    assert after != before


def test_an_unrelated_file_leaves_the_fingerprint(scratch):
    """Editing a page's prose is not an input of the other pages."""
    before = inputs_fingerprint(scratch)
    with open(scratch / "README.md", "a") as file:
        file.write("\nmore words\n")
    assert inputs_fingerprint(scratch) == before


def test_gradkit_change_reruns_gallery_and_notebooks_and_a_no_op_reruns_nothing(scratch):
    """After gradkit changes, every gallery script and MyST-NB page runs again; then none."""
    first = build(scratch, *ONLY_FIRST_EXAMPLE)
    assert first.returncode == 0, first.stderr[-3000:]
    with open(scratch / "src" / "gradkit" / "__init__.py", "a") as file:
        file.write("\n# a change\n")
    second = build(scratch, *ONLY_FIRST_EXAMPLE)
    assert second.returncode == 0, second.stderr[-3000:]
    log = second.stdout + second.stderr
    assert "every page runs" in log
    assert "plot_01_scalar_derivative.py" in log and "Executing notebook" in log
    doctrees = scratch / "_build" / "doctrees"
    doctree = doctrees / "auto_examples" / "basics" / "plot_01_scalar_derivative.doctree"
    read = doctree.stat().st_mtime_ns
    third = build(scratch, *ONLY_FIRST_EXAMPLE)
    log = third.stdout + third.stderr
    assert third.returncode == 0
    assert "Executing notebook" not in log and "every page runs" not in log
    # nor is the page read again: its notebook, cleaned after the second build read the
    # page, keeps its time (notebooks.py), or Sphinx would count it a changed dependency.
    # (sphinx-gallery writes the notebooks of the scripts it does not run on every build.)
    assert doctree.stat().st_mtime_ns == read


# -- a failing page fails the build, and says where and why ----------------------------


def test_a_failing_myst_nb_page_fails_the_build_with_its_cell_and_message(scratch):
    """Under -j, the console names the page, the cell and the assertion message."""
    (scratch / "docs" / "failing_page.md").write_text(FAILING_PAGE)
    result = build(scratch, *NO_GALLERY)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert "failing_page.md" in console
    assert "cell" in console.lower() and "assert total == 3" in console
    assert "one plus one is not three" in console


def test_a_page_the_kernel_server_cannot_serve_fails_the_build_naming_why(scratch):
    """It would still run, in a plain kernel, but slowly and unnoticed: the build says so
    (NOTE: [Kernels forked from one process])."""
    page = myst_nb_pages(scratch)[0]
    (page.parent / "matplotlibrc").write_text("lines.linewidth: 7\n")
    result = build(scratch, *NO_GALLERY)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert "has a matplotlibrc" in console
    assert "the kernel server could not serve 1 MyST-NB page(s)" in console


def test_a_failing_gallery_script_fails_the_build_with_its_line_and_message(scratch):
    """A wrong check in a gallery script stops the build; the console shows line and message."""
    script = scratch / "gallery" / "basics" / "plot_01_scalar_derivative.py"
    script.write_text(script.read_text() + '\n\nassert 1 + 1 == 3, "one plus one is not three"\n')
    result = build(scratch, *NO_NOTEBOOKS, *ONLY_FIRST_EXAMPLE)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert "plot_01_scalar_derivative.py" in console and "line" in console
    assert "one plus one is not three" in console


# -- one build at a time; Ctrl-C cleans up ----------------------------------------------


def test_a_second_build_stops_at_once_while_one_runs(scratch):
    """While a build holds the tree's lock, another one stops with a message that says so."""
    with open(scratch / "docs" / ".build.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("12345")
        lock.flush()
        start = time.perf_counter()
        result = build(scratch, *NO_GALLERY, *NO_NOTEBOOKS)
    assert result.returncode != 0
    assert "another build of this project is running" in result.stdout + result.stderr
    assert time.perf_counter() - start < 60


def _environments() -> dict[int, dict[bytes, bytes]]:
    """Each process's environment as it started (/proc/PID/environ)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            items = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        found[int(entry.name)] = dict(item.partition(b"=")[::2] for item in items if item)
    return found


def _kernels_of(pids: set[int], servers: set[bytes]) -> list[int]:
    """Jupyter kernels whose parent (JPY_PARENT_PID) was one of ``pids``, and every process
    of the kernel servers they named (the server, the kernels it forked and their
    children carry its socket's name: NOTE: [Kernels forked from one process]).
    ``servers`` collects those names, so a server is still found once its kernels end."""
    environments = _environments()
    kernels = [
        pid
        for pid, environ in environments.items()
        if int(environ.get(b"JPY_PARENT_PID") or 0) in pids
    ]
    servers |= {
        environments[pid][b"AUTOGRAD_SITE_KERNEL_SERVER"]
        for pid in kernels
        if b"AUTOGRAD_SITE_KERNEL_SERVER" in environments[pid]
    }
    forked = [
        pid
        for pid, environ in environments.items()
        if environ.get(b"AUTOGRAD_SITE_KERNEL_SERVER") in servers
    ]
    return sorted(set(kernels) | set(forked))


def _session_pids(sid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout
    return {int(p) for p, s in (line.split() for line in out.splitlines()) if int(s) == sid}


@pytest.mark.skipif(shutil.which("ps") is None, reason="needs ps")
def test_ctrl_c_leaves_no_kernel_running(scratch):
    """Interrupting a build while notebooks run leaves no kernel or worker behind."""
    process = subprocess.Popen(
        [*build_command(), *NO_GALLERY, "docs", "_build/html"],
        cwd=scratch,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: set[int] = set()
    servers: set[bytes] = set()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        seen |= _session_pids(process.pid)
        if _kernels_of(seen, servers):
            break
        time.sleep(0.2)
    assert process.poll() is None, "the build ended before any kernel started"
    time.sleep(1)
    seen |= _session_pids(process.pid)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    process.communicate(timeout=120)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (
        _kernels_of(seen, servers) or _session_pids(process.pid)
    ):
        time.sleep(0.5)
    assert servers, "no kernel server was seen: the kernels did not start from one"
    assert not _session_pids(process.pid), "build processes left running"
    assert not _kernels_of(seen, servers), "kernels or kernel servers left running"
    left = [path for path in servers if os.path.exists(os.path.dirname(path))]
    assert not left, f"kernel servers' folders left behind: {left}"


# -- a parallel build spreads the executed pages over its processes --------------------


def test_executed_pages_are_spread_over_the_chunks_a_parallel_build_reads(monkeypatch):
    """Sorted by name, the MyST-NB pages would sit in one chunk and run one by one."""
    from types import SimpleNamespace

    from autograd_site.sphinxext import execution
    from sphinx.util.parallel import make_chunks

    names = [f"page{i:02}" for i in range(54)]
    executed = names[30:39]
    monkeypatch.setattr(execution, "myst_nb_docnames", lambda env: executed)

    def off_share(order):
        """How far each chunk's count of executed pages is from its share by size."""
        share = len(executed) / len(order)
        return [
            abs(sum(n in executed for n in chunk) - share * len(chunk))
            for chunk in make_chunks(order, 2)
        ]

    docnames = names[:]
    execution._spread_executed_pages(SimpleNamespace(parallel=2), None, docnames)
    assert sorted(docnames) == names
    assert max(off_share(names)) > 4  # the layout the hook corrects
    assert max(off_share(docnames)) < 1, off_share(docnames)
