"""Run in Colab, the notebooks' install cell, and the date of the outputs.

Offline: every Colab link of the built site points into the branch the publishing
workflow pushes, at a notebook it publishes (``autograd_site.cli.colab_notebooks`` lays
them out); a gradkit page's notebook installs gradkit with exactly the command its page
shows, and no tutorial notebook installs anything; every executed page and the home page
say on which day their outputs were computed.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime

import pytest
import yaml
from autograd_site.pages import built_page
from autograd_site.project import HTML, ROOT, executable_pages, page_id
from autograd_site.sphinxext.notebooks import (
    INSTALL_CELL,
    NOTEBOOKS_BRANCH,
    colab_url,
    published_notebooks,
)
from bs4 import BeautifulSoup

PAGES = executable_pages()
REPOSITORY = "https://github.com/autograd-by-example/autograd-by-example"
WORKFLOW = ROOT / ".github" / "workflows" / "docs.yml"


def _soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _colab_links(soup):
    return [a["href"] for a in soup.select("a.colab-link")]


def test_colab_url_from_the_repository():
    assert colab_url(REPOSITORY, "howto/choose_api") == (
        "https://colab.research.google.com/github/autograd-by-example/autograd-by-example/"
        f"blob/{NOTEBOOKS_BRANCH}/howto/choose_api.ipynb"
    )
    assert colab_url(REPOSITORY + ".git/", "a/b") == colab_url(REPOSITORY, "a/b")
    assert colab_url(None, "a/b") is None
    assert colab_url("https://gitlab.com/owner/repo", "a/b") is None


def test_the_workflow_publishes_the_branch_the_links_name():
    """The build job lays the notebooks out and uploads them; the notebooks job pushes that
    artifact, on pushes to main only, to the branch the links name."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    build = workflow["jobs"]["build"]["steps"]
    layout = [s for s in build if "autograd_site.cli.colab_notebooks" in s.get("run", "")]
    assert len(layout) == 1
    folder = layout[0]["run"].split()[-1]
    uploads = [s for s in build if s.get("uses", "").startswith("actions/upload-artifact@")
               and s["with"]["name"] == "colab-notebooks"]
    assert [s["with"]["path"].rstrip("/") for s in uploads] == [folder]
    job = workflow["jobs"]["notebooks"]
    assert job["needs"] == "build"
    assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert job["permissions"] == {"contents": "write"}
    assert job["env"]["NOTEBOOKS_BRANCH"] == NOTEBOOKS_BRANCH
    download, push = job["steps"]
    assert download["with"]["name"] == "colab-notebooks"
    assert push["working-directory"] == download["with"]["path"]
    assert '"HEAD:refs/heads/$NOTEBOOKS_BRANCH"' in push["run"]


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_every_executed_page_links_a_published_notebook(page, built_site):
    soup = _soup(built_page(page))
    links = _colab_links(soup)
    assert len(links) == 1, f"{page.name}: {len(links)} Colab links"
    prefix = colab_url(REPOSITORY, "")[: -len(".ipynb")]
    assert links[0].startswith(prefix), links[0]
    path = links[0][len(prefix):]
    published = published_notebooks(HTML)
    assert path in published, f"{path} is not among the published notebooks"
    assert path == built_page(page).relative_to(HTML).with_suffix(".ipynb").as_posix()


def test_the_home_page_has_no_colab_link(built_site):
    assert _colab_links(_soup(HTML / "index.html")) == []


def _first_code_cell(notebook_file):
    cells = json.loads(notebook_file.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    return "".join(code[0]["source"]) if code else ""


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_install_cell_is_the_command_the_page_shows(page, built_site):
    """A gradkit page's notebook installs gradkit first, with the page's command, where it
    is missing; a notebook of any other page starts with its own code."""
    soup = _soup(built_page(page))
    boxes = soup.select(".gradkit-install pre")
    notebook = published_notebooks(HTML)[built_page(page).relative_to(HTML)
                                         .with_suffix(".ipynb").as_posix()]
    first = _first_code_cell(notebook)
    if not boxes:
        assert "pip install" not in first, f"{notebook.name}: {first[:200]}"
        return
    command = boxes[0].get_text().strip()
    assert re.fullmatch(r"pip install https://\S+/gradkit-[\w.]+-py3-none-any\.whl", command)
    assert first == INSTALL_CELL.format(command=command)
    assert f"    %{command}" in first.splitlines()


def test_install_cell_runs_only_where_gradkit_is_missing():
    """The cell is valid IPython: the install line is a magic inside the guard."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(INSTALL_CELL.format(command="pip install x.whl"))
    assert "get_ipython().run_line_magic('pip', 'install x.whl')" in code
    compile(code, "install-cell", "exec")


def _dates(soup):
    return [t["datetime"] for t in soup.select(".computed-with time")]


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_executed_pages_say_when_their_outputs_were_computed(page, built_site):
    """One date, the build's: the same on every page (a new date rewrites every page)."""
    dates = _dates(_soup(built_page(page)))
    assert dates == _dates(_soup(HTML / "index.html")), f"{page.name}: {dates}"
    datetime.strptime(dates[0], "%Y-%m-%d")


def test_the_home_page_gives_the_build_date(built_site):
    """The date is SOURCE_DATE_EPOCH's (the Makefile sets it to the commit's date)."""
    dates = _dates(_soup(HTML / "index.html"))
    assert len(dates) == 1
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:  # under make (make test); a bare pytest does not know the build's value
        assert dates[0] == datetime.fromtimestamp(int(epoch), tz=UTC).date().isoformat()


def test_the_build_date_is_the_commit_date():
    """make dates the build by the last commit (a fixed date outside a git checkout)."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "MAKEFLAGS")}

    def make_sets(cwd):
        listing = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "-pn", "help"],
                                 cwd=cwd, env=env, capture_output=True, text=True).stdout
        return re.search(r"^SOURCE_DATE_EPOCH := (\d+)$", listing, re.MULTILINE)[1]

    commit = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT,
                            capture_output=True, text=True)
    if commit.returncode == 0:
        assert make_sets(ROOT) == commit.stdout.strip()
    assert make_sets("/") == "1795737600"
