"""Execute MyST-NB pages into myst-nb's cache, in parallel, while the gallery runs.

Started by :mod:`site_hooks` as a separate process at the start of a build. See
NOTE: [Notebooks in parallel] there. Usage::

    python nb_prerun.py CACHE_DIR TIMEOUT JOBS PAGE.md [PAGE.md ...]

A page that fails is simply not cached: myst-nb then executes it itself during
the build and reports the error as usual.
"""

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _execute(path, timeout):
    """Run one page in a fresh kernel, in its own folder, as myst-nb would."""
    from jupyter_cache.executors.utils import single_nb_execution
    from myst_nb.core.read import read_myst_markdown_notebook

    notebook = read_myst_markdown_notebook(Path(path).read_text(), path=path)
    result = single_nb_execution(
        notebook,
        cwd=str(Path(path).parent),
        allow_errors=False,
        timeout=timeout,
        meta_override=True,
    )
    return path, notebook, result.time, result.err is None


def main(cache_dir, timeout, jobs, *pages):
    """Execute ``pages`` with ``jobs`` kernels at a time; cache the ones that succeed."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(cache_dir)
    with ProcessPoolExecutor(int(jobs)) as pool:
        runs = [pool.submit(_execute, page, int(timeout)) for page in pages]
        for run in runs:
            path, notebook, seconds, ok = run.result()
            if ok:
                cache.cache_notebook_bundle(
                    CacheBundleIn(notebook, path, data={"execution_seconds": seconds}),
                    check_validity=False,
                    overwrite=True,
                )
            print(f"nb_prerun: {Path(path).name}: {'cached' if ok else 'failed'} ({seconds:.1f} s)")


if __name__ == "__main__":
    main(*sys.argv[1:])
