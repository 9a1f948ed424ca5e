"""The build reruns examples whose outputs could be stale (see NOTE: [Stale outputs])."""

import json

import pytest
from site_hooks import STAMP_NAME, fingerprints, invalidate_stale_outputs


def _site(tmp_path):
    examples = tmp_path / "gallery"
    gallery = tmp_path / "docs" / "auto_examples"
    (examples / "basics").mkdir(parents=True)
    (gallery / "basics").mkdir(parents=True)
    scripts = {
        "uses": "import gradkit\nprint(gradkit)\n",
        "plain": "import torch\nprint(torch.ones(1))\n",
    }
    for name, text in scripts.items():
        (examples / "basics" / f"plot_{name}.py").write_text(text)
        (gallery / "basics" / f"plot_{name}.py.md5").write_text("cached")
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True)
    return examples, gallery, cache


def _md5s(gallery):
    return sorted(p.name for p in gallery.rglob("*.md5"))


FIRST = {"gradkit": "a", "environment": "e"}


def test_first_build_only_records_the_fingerprints(tmp_path):
    """With no stamp yet, nothing is invalidated and the fingerprints are stored."""
    examples, gallery, cache = _site(tmp_path)
    assert invalidate_stale_outputs([gallery], [examples], cache, FIRST) == []
    assert json.loads((gallery / STAMP_NAME).read_text()) == FIRST
    assert len(_md5s(gallery)) == 2 and cache.exists()


def test_unchanged_inputs_keep_every_cached_output(tmp_path):
    """A rebuild with the same fingerprints reruns nothing."""
    examples, gallery, cache = _site(tmp_path)
    invalidate_stale_outputs([gallery], [examples], cache, FIRST)
    assert invalidate_stale_outputs([gallery], [examples], cache, FIRST) == []
    assert len(_md5s(gallery)) == 2 and cache.exists()


def test_gradkit_change_reruns_the_examples_that_use_it(tmp_path):
    """A change in gradkit drops the md5 of examples importing gradkit, and the myst-nb cache."""
    examples, gallery, cache = _site(tmp_path)
    invalidate_stale_outputs([gallery], [examples], cache, FIRST)
    rerun = invalidate_stale_outputs([gallery], [examples], cache, {**FIRST, "gradkit": "b"})
    assert [p.name for p in rerun] == ["plot_uses.py"]
    assert _md5s(gallery) == ["plot_plain.py.md5"]
    assert not cache.exists()


def test_environment_change_reruns_every_example(tmp_path):
    """A change of a pinned dependency reruns all examples."""
    examples, gallery, cache = _site(tmp_path)
    invalidate_stale_outputs([gallery], [examples], cache, FIRST)
    rerun = invalidate_stale_outputs([gallery], [examples], cache, {**FIRST, "environment": "f"})
    assert sorted(p.name for p in rerun) == ["plot_plain.py", "plot_uses.py"]
    assert _md5s(gallery) == []


def test_fingerprint_follows_gradkit_sources(tmp_path):
    """Editing a file under src/gradkit changes the gradkit fingerprint, not the environment's."""
    package = tmp_path / "src" / "gradkit"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("x = 1\n")
    before = fingerprints(tmp_path)
    (package / "__init__.py").write_text("x = 2\n")
    after = fingerprints(tmp_path)
    assert before["gradkit"] != after["gradkit"]
    assert before["environment"] == after["environment"]


NOTEBOOK = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---
# Tiny

```{code-cell} ipython3
print(6 * 7)
```
"""


def test_notebook_prerun_fills_the_cache_myst_nb_reads(tmp_path):
    """A page pre-run by nb_prerun.py is found by myst-nb's cache lookup; a failing one is not."""
    import nb_prerun
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    good = tmp_path / "good.md"
    good.write_text(NOTEBOOK)
    bad = tmp_path / "bad.md"
    bad.write_text(NOTEBOOK.replace("print(6 * 7)", "1 / 0"))
    cache_dir = tmp_path / "cache"
    nb_prerun.main(str(cache_dir), "60", "1", str(good), str(bad))

    cache = get_cache(str(cache_dir))
    record = cache.match_cache_notebook(read_myst_markdown_notebook(good.read_text()))
    _, merged = cache.merge_match_into_notebook(read_myst_markdown_notebook(good.read_text()))
    assert record is not None
    assert merged.cells[-1].outputs[0]["text"] == "42\n"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(read_myst_markdown_notebook(bad.read_text()))
