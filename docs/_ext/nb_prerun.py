"""Execute MyST-NB pages into myst-nb's cache, in one warm kernel, while the gallery runs.

Started by :mod:`site_hooks` as a separate process at the start of a build. See
NOTE: [Notebooks in parallel] there. Usage::

    python nb_prerun.py CACHE_DIR TIMEOUT PAGE.md [PAGE.md ...]

A page that fails is simply not cached: myst-nb then executes it itself during
the build, in a fresh kernel, and reports the error as usual.

NOTE: [One kernel for all pages]
A fresh kernel per page costs a kernel start and an ``import torch`` (3-4 s on
the 2-core machine) before the page's first line runs; with seven pages that
was most of the build. So the pages share one kernel, and before each page the
kernel is put back into the state a fresh kernel would have (:data:`BASELINE`
records it once, :data:`RESET` restores it): the user namespace and IPython's
history are wiped, the execution counter restarts at 1 (tracebacks print
``Cell In[n]``), the working folder is the page's folder, and torch's global
switches and seed, matplotlib's rcParams, the warning filters (and the
"already shown" registries) and ``sys.path`` are put back. Modules stay
imported; that is the point. A test runs a page that changes every one of these
and checks that the next page prints exactly what it prints in a fresh kernel
(tests/test_site_hooks.py). After a page fails the kernel is restarted, so a
broken state never reaches the next page.
"""

import asyncio
import sys
import time
from pathlib import Path

BASELINE_MODULE = "_nb_prerun_baseline"

# Runs once in a new kernel: record what a fresh kernel looks like, then import
# the heavy modules every page needs.
BASELINE = f"""
def _record_baseline():
    import sys, types, warnings
    baseline = types.ModuleType({BASELINE_MODULE!r})
    baseline.sys_path = list(sys.path)
    baseline.warning_filters = list(warnings.filters)
    import matplotlib
    import matplotlib.pyplot
    import torch
    baseline.rc = dict(matplotlib.rcParams)
    baseline.seed = torch.initial_seed()
    baseline.num_threads = torch.get_num_threads()
    baseline.default_dtype = torch.get_default_dtype()
    baseline.matmul_precision = torch.get_float32_matmul_precision()
    sys.modules[baseline.__name__] = baseline
    from torch.testing import _comparison
    if getattr(_comparison, "_HAS_DTENSOR", False):  # see site_hooks._skip_dtensor_import
        _comparison._HAS_DTENSOR = False
    import gc
    gc.freeze()  # see _restore_baseline
_record_baseline()
del _record_baseline
"""

# Runs silently before every page.
RESET = f"""
get_ipython().reset(new_session=True)  # %reset -f, plus a new history session at count 1
def _restore_baseline(cwd):
    import os, sys, warnings
    import matplotlib
    import torch
    baseline = sys.modules[{BASELINE_MODULE!r}]
    matplotlib.rcParams.update(baseline.rc)
    os.chdir(cwd)
    sys.path[:] = baseline.sys_path
    warnings.filters[:] = baseline.warning_filters
    warnings._filters_mutated()  # forget which warnings were already shown
    torch.manual_seed(baseline.seed)  # a fresh kernel's seed is random too; pages seed
    torch.set_num_threads(baseline.num_threads)
    torch.set_default_dtype(baseline.default_dtype)
    torch.set_float32_matmul_precision(baseline.matmul_precision)
    torch.set_grad_enabled(True)
    torch.autograd.set_detect_anomaly(False)
    if torch.are_deterministic_algorithms_enabled():  # the setter imports torch._dynamo (1.7 s)
        torch.use_deterministic_algorithms(False)
    torch.set_printoptions(profile="default")
    # Resetting runs a full garbage collection, which walks every object of torch
    # (0.2 s); the objects alive now are the modules, so stop walking them.
    import gc
    gc.freeze()
"""


async def _silent(kernel, code, timeout):
    """Run ``code`` in the kernel without output or history; raise if it fails."""
    reply = await kernel.execute_interactive(
        code, silent=True, store_history=False, timeout=timeout
    )
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"kernel setup failed: {content.get('ename')}: {content.get('evalue')}")


async def _shut_down(manager, kernel):
    """Disconnect ``kernel`` (the client, if any) and stop the kernel ``manager`` runs, if any."""
    if kernel is not None:
        kernel.stop_channels()
    if manager is not None and manager.has_kernel:
        await manager.shutdown_kernel(now=True)


async def _run_pages(pages, timeout, on_done):
    """Execute ``pages`` one after another in one kernel; call ``on_done`` after each."""
    from jupyter_client.manager import AsyncKernelManager
    from myst_nb.core.read import read_myst_markdown_notebook
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebooks = [read_myst_markdown_notebook(Path(p).read_text(), path=p) for p in pages]
    kernel_name = notebooks[0].metadata.get("kernelspec", {}).get("name", "python3")
    manager = kernel = None  # one kernel and one client for all pages, unless one fails
    try:
        for path, notebook in zip(pages, notebooks, strict=True):
            cwd = str(Path(path).resolve().parent)
            start = time.perf_counter()
            try:
                if kernel is None:
                    # a new manager each time: a shut-down one cannot start a kernel again
                    manager = AsyncKernelManager(kernel_name=kernel_name)
                    await manager.start_kernel(cwd=cwd)
                    kernel = manager.client()
                    kernel.start_channels()
                    await kernel.wait_for_ready(timeout=timeout)
                    await _silent(kernel, BASELINE, timeout)
                # No timing metadata: jupyter-cache hashes cell metadata, so myst-nb would
                # then miss the page in the cache.
                client = NotebookClient(
                    notebook, km=manager, timeout=timeout, allow_errors=False, record_timing=False
                )
                client.kc = kernel
                restore = f"{RESET}_restore_baseline({cwd!r})\ndel _restore_baseline"
                await _silent(kernel, restore, timeout)
                await client.async_execute()
                ok = True
            except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError):
                ok = False
                # a broken state never reaches the next page: start a new kernel
                await _shut_down(manager, kernel)
                manager = kernel = None
            on_done(path, notebook, time.perf_counter() - start, ok)
    finally:
        await _shut_down(manager, kernel)


def main(cache_dir, timeout, *pages):
    """Execute ``pages`` in one kernel; cache the ones that succeed."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(cache_dir)

    def store(path, notebook, seconds, ok):
        if ok:
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, path, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
        print(f"nb_prerun: {Path(path).name}: {'cached' if ok else 'failed'} ({seconds:.1f} s)")

    if pages:
        asyncio.run(_run_pages(list(pages), int(timeout), store))


if __name__ == "__main__":
    main(*sys.argv[1:])
