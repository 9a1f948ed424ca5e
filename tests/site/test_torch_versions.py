"""The supported torch releases come from a run of ``make check-torch-versions``.

``docs/reference/torch_versions.json`` is that run's output: it must be for the releases
and Pythons ``requirements/environments.toml`` supports, the site torch must have run
every download and printed its page's numbers, and the built page shows its table.
"""

from __future__ import annotations

import copy

import pytest
from autograd_site import locks
from autograd_site.project import HTML
from autograd_site.sphinxext import torch_versions
from bs4 import BeautifulSoup


@pytest.fixture(scope="module")
def results():
    return torch_versions.load()


def test_the_results_are_for_the_supported_releases(results):
    assert results["supported_torch"] == locks.supported_torch()
    assert results["pythons"] == locks.supported_pythons()
    assert results["site_torch"] == locks.site_torch()
    ran = {(c["torch"], c["python"]) for c in results["cells"] if c["status"] == "ran"}
    assert ran <= {(t, p) for t in locks.supported_torch() for p in locks.supported_pythons()}
    # the site's torch ran on the oldest supported Python; the cells not run yet are
    # listed as such on the page, and the range "Start here" states covers only the
    # releases that ran every download (test_the_range_is_what_ran)
    assert (locks.site_torch(), locks.supported_pythons()[0]) in ran


def test_the_site_torch_prints_every_page(results):
    site = [c for c in results["cells"] if c["torch"] == locks.site_torch()]
    assert site and all(c["status"] == "ran" for c in site)
    for cell in site:
        assert [d for d in cell["downloads"] if d["status"] != "same"] == []
        assert cell["gradkit_tests"]["status"] == "passes"


def test_the_range_is_what_ran(results):
    broken = copy.deepcopy(results)
    oldest = broken["supported_torch"][0]
    for cell in broken["cells"]:
        if cell["torch"] == oldest and cell["status"] == "ran":
            cell["downloads"][0]["status"] = "fails"
    assert torch_versions.supported_range(broken).split(" to ")[0] != oldest[:4]
    verified = torch_versions.verified(results)
    assert torch_versions.supported_range(results).startswith(".".join(verified[0].split(".")[:2]))


def test_the_page_shows_the_table(results):
    page = BeautifulSoup((HTML / "reference" / "torch_versions.html").read_text(), "html.parser")
    table = page.select_one("table.torch-versions")
    assert table is not None
    headers = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    ran = [c for c in results["cells"] if c["status"] == "ran"]
    assert headers[1:] == [f"torch {c['torch']}, Python {c['python']}" for c in ran]
    rows = table.select("tbody tr")
    pages = {d["page"] for c in ran for d in c["downloads"]}
    assert len(rows) == len(pages) + 1  # one per page, and gradkit's tests


def test_start_here_states_the_measured_range(results):
    home = BeautifulSoup((HTML / "index.html").read_text(), "html.parser").get_text(" ")
    assert f"PyTorch {torch_versions.supported_range(results)}" in " ".join(home.split())


def test_a_release_that_did_not_run_breaks_the_range(results):
    """Verified 2.13 and 2.15 with 2.14 not run reads "2.13 and 2.15", not "2.13 to 2.15"."""
    cell = next(c for c in results["cells"] if c["status"] == "ran")
    gap = {"supported_torch": ["2.13.0", "2.14.1", "2.15.0"], "cells": [
        {**cell, "torch": "2.13.0"}, {**cell, "torch": "2.15.0"}]}  # fmt: skip
    assert torch_versions.supported_range(gap) == "2.13 and 2.15"
    whole = {**gap, "cells": [*gap["cells"], {**cell, "torch": "2.14.1"}]}
    assert torch_versions.supported_range(whole) == "2.13 to 2.15"
