"""The build reruns examples whose outputs could be stale (see NOTE: [Stale outputs])."""

import json

import pytest
from pagerun import myst_nb_page
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


NOTEBOOK = myst_nb_page("""# Tiny

```{code-cell} ipython3
print(6 * 7)
```
""")


def test_notebook_prerun_fills_the_cache_myst_nb_reads(tmp_path):
    """A pre-run page is in myst-nb's cache; a failing one is not, and the next one runs."""
    import nb_prerun
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    good = tmp_path / "good.md"
    good.write_text(NOTEBOOK)
    bad = tmp_path / "bad.md"
    bad.write_text(NOTEBOOK.replace("print(6 * 7)", "1 / 0"))
    after = tmp_path / "after_the_failure.md"  # runs in a new kernel
    after.write_text(NOTEBOOK.replace("print(6 * 7)", "print(7 * 6, 'again')"))
    cache_dir = tmp_path / "cache"
    nb_prerun.main(str(cache_dir), "60", str(good), str(bad), str(after))

    cache = get_cache(str(cache_dir))
    record = cache.match_cache_notebook(read_myst_markdown_notebook(good.read_text()))
    _, merged = cache.merge_match_into_notebook(read_myst_markdown_notebook(good.read_text()))
    assert record is not None
    assert merged.cells[-1].outputs[0]["text"] == "42\n"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(read_myst_markdown_notebook(bad.read_text()))
    _, merged = cache.merge_match_into_notebook(read_myst_markdown_notebook(after.read_text()))
    assert merged.cells[-1].outputs[0]["text"] == "42 again\n"


LEAKY_PAGE = myst_nb_page("""# Changes every piece of global state a later page could see

```{code-cell} ipython3
import os, sys, warnings
import matplotlib.pyplot as plt
import torch
import noisy

leaked_name = 1
torch.set_default_dtype(torch.float64)
torch.manual_seed(123)
torch.set_grad_enabled(False)
torch.autograd.set_detect_anomaly(True)
torch.set_printoptions(precision=1)
torch.set_num_threads(3)
torch.use_deterministic_algorithms(True)
torch.set_float32_matmul_precision("medium")
warnings.simplefilter("ignore", DeprecationWarning)
noisy.warn()  # now marked as shown, under the current filters
plt.rcParams["lines.linewidth"] = 9
os.chdir("/")
sys.path.insert(0, "/leaked")
```
""")

PROBE_PAGE = myst_nb_page("""# Prints the state a fresh kernel has

```{code-cell} ipython3
import os, sys, warnings
import matplotlib.pyplot as plt
import torch
import noisy

print("leaked name:", "leaked_name" in globals())
print("dtype:", torch.get_default_dtype(), "grad:", torch.is_grad_enabled())
print("anomaly:", torch.is_anomaly_enabled(), "threads:", torch.get_num_threads())
print("deterministic:", torch.are_deterministic_algorithms_enabled())
print("matmul:", torch.get_float32_matmul_precision())
print("seed left by the last page:", torch.initial_seed() == 123, torch.tensor([1 / 3]))
print("linewidth:", plt.rcParams["lines.linewidth"])
print("cwd:", os.path.basename(os.getcwd()), "path:", "/leaked" in sys.path)
```

```{code-cell} ipython3
noisy.warn()
warnings.warn("shown unless a page left an ignore filter", DeprecationWarning)
```

```{code-cell} ipython3
:tags: [raises-exception]
1 / 0
```
""")


def _text_outputs(notebook):
    """Every output of every code cell as plain text, with the kernel's PID masked."""
    import re

    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text") or "\n".join(output.get("traceback", []))
            text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours of the traceback
            texts.append(re.sub(r"ipykernel_\d+", "ipykernel_PID", text))
    return texts


def test_a_page_in_the_shared_kernel_prints_what_it_prints_in_a_fresh_one(tmp_path):
    """NOTE: [One kernel for all pages]: state left by one page never reaches the next."""
    import nb_prerun
    from jupyter_cache import get_cache
    from jupyter_cache.executors.utils import single_nb_execution
    from myst_nb.core.read import read_myst_markdown_notebook

    pages = tmp_path / "pages"
    pages.mkdir()
    leaky, probe = pages / "a_leaky.md", pages / "b_probe.md"
    leaky.write_text(LEAKY_PAGE)
    probe.write_text(PROBE_PAGE)
    (pages / "noisy.py").write_text(
        "import warnings\n\ndef warn():\n    warnings.warn('shown once per location')\n"
    )
    cache_dir = tmp_path / "cache"
    nb_prerun.main(str(cache_dir), "60", str(leaky), str(probe))
    _, shared = get_cache(str(cache_dir)).merge_match_into_notebook(
        read_myst_markdown_notebook(probe.read_text())
    )

    fresh = read_myst_markdown_notebook(probe.read_text())
    result = single_nb_execution(fresh, cwd=str(pages), timeout=60, allow_errors=True)
    assert result.err is None

    expected = _text_outputs(result.nb)
    assert "leaked name: False" in expected[0] and "ZeroDivisionError" in expected[-1]
    assert "Cell In[3]" in expected[-1]  # the traceback names the cell by its count
    assert "shown once per location" in expected[1] and "shown unless" in expected[1]
    assert _text_outputs(shared) == expected


def test_reset_torch_spares_the_dtensor_import_and_still_catches_wrong_values():
    """After reset_torch, assert_close compares as before without importing DTensor."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys
import torch
from site_hooks import reset_torch

reset_torch({}, "example.py")
torch.testing.assert_close(torch.tensor([32.0]), torch.tensor([32.0]))
try:
    torch.testing.assert_close(torch.tensor([32.0]), torch.tensor([32.5]))
except AssertionError as error:
    print("caught:", str(error).splitlines()[0])
print("dtensor imported:", "torch.distributed.tensor" in sys.modules)
"""
    ext = Path(__file__).resolve().parents[1] / "docs" / "_ext"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ext)},
    )
    assert result.stdout.splitlines() == [
        "caught: Tensor-likes are not close!",
        "dtensor imported: False",
    ]


def test_a_prerun_left_running_by_a_stopped_build_is_stopped():
    """stop_prerun ends a pre-run still going, and leaves a finished one alone."""
    import subprocess
    import sys

    from site_hooks import stop_prerun

    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop_prerun(running)
    assert running.returncode is not None and running.returncode != 0

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    stop_prerun(finished)
    assert finished.returncode == 0
