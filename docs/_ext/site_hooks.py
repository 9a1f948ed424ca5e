"""Build hooks for the site.

- :func:`reset_torch` puts torch back to its defaults before every gallery example.
- :func:`invalidate_stale_outputs` makes ``make html`` rerun examples whose
  results may have changed although their own file did not.

NOTE: [Stale outputs]
sphinx-gallery reruns an example only when the example's own file changes
(it keeps an ``.md5`` of the script beside the generated page), and myst-nb's
cache is keyed on a notebook's code cells. Neither notices a change in
``src/gradkit`` or in a pinned dependency, so a page could keep showing numbers
computed by older code. Before sphinx-gallery looks at its md5 files, we compare
fingerprints of gradkit's sources and of the environment with the ones stored by
the last build; when gradkit changed, every example that uses gradkit loses its
``.md5`` (so it reruns), and when the environment changed, every example does.
The myst-nb cache is dropped in both cases.

NOTE: [Notebooks in parallel]
myst-nb executes each MyST-NB page in a fresh kernel while Sphinx reads it, one
after the other, and sphinx-gallery runs the gallery before that, also on one
core. Each kernel spends seconds importing torch. So that the second core is
not idle, :func:`_start_notebook_prerun` launches ``nb_prerun.py`` at the start
of the build, before the other extensions load: it executes the pages into
myst-nb's own cache (jupyter-cache, the same notebooks myst-nb would run, and
the cache key myst-nb looks up) while the gallery runs, all in one warm kernel
(see NOTE: [One kernel for all pages] there), and
:func:`_wait_for_notebook_prerun` waits for it before Sphinx reads any page.
myst-nb then finds each page in its cache. A page the pre-run could not execute
is not cached, and myst-nb runs it in a fresh kernel (and reports its error) as
it always does.
"""

import atexit
import gc
import hashlib
import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAMP_NAME = ".inputs-fingerprint.json"
ENV_PACKAGES = ("torch", "numpy", "matplotlib", "sphinx-gallery", "myst-nb")


def reset_torch(gallery_conf, fname):
    """Put torch's global switches back to their defaults before an example runs."""
    import torch

    # sphinx-gallery runs a full garbage collection before every example, and with
    # torch and Sphinx loaded each one walks millions of objects (0.45 s each, 8 s
    # per build). Freezing what is alive now (modules, Sphinx's state, at worst
    # some garbage of the previous example, which then stays in memory) keeps
    # each collection to what the next example creates.
    gc.freeze()
    torch.set_num_threads(1)  # same results, and no thread thrashing, on any machine
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.autograd.set_detect_anomaly(False)
    torch.manual_seed(0)
    _skip_dtensor_import()


def _skip_dtensor_import():
    """Keep ``torch.testing.assert_close`` from importing ``torch.distributed.tensor``.

    On its first call in a process, torch 2.13's ``assert_close`` imports
    ``torch.distributed.tensor`` (and, through it, sympy) only to check whether
    its inputs are DTensors: 1.2 s, a fifth of a rebuild after touching one
    example. No example creates a DTensor, so the build turns that check off.
    Values are compared exactly as before (tests/test_site_hooks.py).
    """
    from torch.testing import _comparison

    if getattr(_comparison, "_HAS_DTENSOR", False):
        _comparison._HAS_DTENSOR = False


def _hash_files(paths, root):
    """Digest of the given files' names (relative to ``root``) and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprints(root=ROOT):
    """Fingerprints of what example outputs depend on besides the examples themselves."""
    package = list((root / "src" / "gradkit").rglob("*.py"))
    versions = {name: version(name) for name in ENV_PACKAGES}
    constraints = root / "requirements" / "constraints.txt"
    env_digest = hashlib.sha256(json.dumps(versions, sort_keys=True).encode())
    if constraints.exists():
        env_digest.update(constraints.read_bytes())
    return {"gradkit": _hash_files(package, root), "environment": env_digest.hexdigest()}


def invalidate_stale_outputs(gallery_dirs, examples_dirs, nb_cache, current):
    """Remove the md5 files (and myst-nb cache) that would let stale outputs be reused.

    Returns the list of example files that will be rerun because of it.
    """
    stamp = Path(gallery_dirs[0]) / STAMP_NAME
    previous = json.loads(stamp.read_text()) if stamp.exists() else None
    rerun = []
    if previous is not None and previous != current:
        env_changed = previous.get("environment") != current["environment"]
        for examples_dir, gallery_dir in zip(examples_dirs, gallery_dirs, strict=True):
            for script in Path(examples_dir).rglob("*.py"):
                uses_gradkit = "gradkit" in script.read_text()
                if not (env_changed or uses_gradkit):
                    continue
                target = Path(gallery_dir) / script.relative_to(examples_dir)
                md5 = Path(f"{target}.md5")
                if md5.exists():
                    md5.unlink()
                    rerun.append(script)
        if nb_cache is not None:
            shutil.rmtree(nb_cache, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(current, indent=2, sort_keys=True))
    return rerun


def _conf_value(app, name, default=None):
    """``name`` as conf.py (or ``-D``) sets it, readable before its extension has loaded.

    :func:`setup` runs first among the extensions (see NOTE: [Notebooks in parallel]),
    when myst-nb and sphinx-gallery have not declared their options yet.
    """
    overrides = getattr(app.config, "_overrides", {})
    raw = getattr(app.config, "_raw_config", {})
    return overrides.get(name, raw.get(name, default))


def _nb_cache_dir(app):
    """myst-nb's jupyter-cache folder (myst-nb's default: beside the output folder)."""
    return Path(
        _conf_value(app, "nb_execution_cache_path") or Path(app.outdir).parent / ".jupyter_cache"
    )


def _as_list(value):
    return [value] if isinstance(value, str) else list(value)


def _invalidate_stale_outputs(app):
    """Run :func:`invalidate_stale_outputs` with the build's own folders."""
    from sphinx.util import logging

    conf = _conf_value(app, "sphinx_gallery_conf", {})
    srcdir = Path(app.srcdir)
    gallery_dirs = [srcdir / d for d in _as_list(conf.get("gallery_dirs", []))]
    examples_dirs = [(srcdir / d).resolve() for d in _as_list(conf.get("examples_dirs", []))]
    rerun = invalidate_stale_outputs(
        gallery_dirs, examples_dirs, _nb_cache_dir(app), fingerprints()
    )
    if rerun:
        logging.getLogger(__name__).info(
            f"[site_hooks] gradkit or the environment changed: rerunning {len(rerun)} examples"
        )


def myst_nb_pages(srcdir):
    """The MyST-NB text notebooks under ``srcdir`` (generated folders excluded)."""
    generated = {"auto_examples", "jupyter_execute", "_build"}
    return sorted(
        p
        for p in Path(srcdir).rglob("*.md")
        if not generated & set(p.parts) and "file_format: mystnb" in p.read_text()
    )


def _uncached(pages, cache_dir):
    """The pages whose current code cells have no executed copy in myst-nb's cache."""
    database = Path(cache_dir) / "global.db"
    if not database.exists():
        return pages
    if max(page.stat().st_mtime for page in pages) < database.stat().st_mtime:
        return []  # nothing edited since the cache was last written: skip opening it
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    cache = get_cache(str(cache_dir))
    missing = []
    for page in pages:
        try:
            cache.match_cache_notebook(read_myst_markdown_notebook(page.read_text()))
        except KeyError:
            missing.append(page)
    return missing


def _start_notebook_prerun(app):
    """Start executing the MyST-NB pages into myst-nb's cache (NOTE: [Notebooks in parallel])."""
    if _conf_value(app, "nb_execution_mode") != "cache":
        return
    cache = _nb_cache_dir(app)
    pages = [str(p) for p in _uncached(myst_nb_pages(app.srcdir), cache)]
    if not pages:
        return  # a no-op rebuild: every page's outputs are cached already
    script = Path(__file__).with_name("nb_prerun.py")
    timeout = str(_conf_value(app, "nb_execution_timeout", 30))
    app._nb_prerun = subprocess.Popen(
        [sys.executable, str(script), str(cache), timeout, *pages],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A build that stops early (a failing example, Ctrl-C) must not leave the
    # pre-run writing into the cache that the next build reads.
    atexit.register(stop_prerun, app._nb_prerun)


def stop_prerun(process):
    """Stop a pre-run that is still going (its kernel exits when it does)."""
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_notebook_prerun(app, env, docnames):
    """Let the pre-run finish filling the cache before myst-nb looks into it."""
    from sphinx.util import logging

    prerun = getattr(app, "_nb_prerun", None)
    if prerun is None:
        return
    output, _ = prerun.communicate()
    app._nb_prerun = None
    log = logging.getLogger(__name__)
    for line in output.splitlines():
        if line.startswith("nb_prerun:"):
            log.info(line)


def setup(app):
    """Check for stale outputs and start the notebook pre-run now, while Sphinx loads.

    conf.py lists this extension first, so this runs before the other extensions
    load (a second of the build, spent importing matplotlib, myst-nb and the
    rest): the pre-run gets that second on the other core. The stale-output
    check comes first because it may empty the cache the pre-run fills.
    """
    _invalidate_stale_outputs(app)
    _start_notebook_prerun(app)
    app.connect("env-before-read-docs", _wait_for_notebook_prerun)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
