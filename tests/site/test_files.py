"""Files written whole or not at all, and digests of code (autograd_site.files)."""

from __future__ import annotations

import pytest
from autograd_site.files import code_digest, written_whole


def test_a_write_that_fails_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / "notebook.ipynb"
    target.write_text("old")
    with pytest.raises(RuntimeError), written_whole(target) as partial:
        partial.write_text("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["notebook.ipynb"]


def test_a_write_that_succeeds_replaces_the_file(tmp_path):
    target = tmp_path / "pages.json"
    with written_whole(target) as partial:
        assert partial.parent == target.parent and partial != target
        partial.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["pages.json"]


def test_the_digest_changes_with_the_code_and_the_versions(tmp_path):
    code = tmp_path / "maker.py"
    code.write_text("KEEP = 1\n")
    first = code_digest(code, versions=("4.60.0",))
    assert code_digest(code, versions=("4.60.0",)) == first
    assert code_digest(code, versions=("4.61.0",)) != first
    code.write_text("KEEP = 2\n")
    assert code_digest(code, versions=("4.60.0",)) != first
