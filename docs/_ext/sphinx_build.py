"""``sphinx-build``, without the interpreter's teardown at exit.

Usage: ``python docs/_ext/sphinx_build.py [sphinx-build arguments]`` (what
``make html`` runs).

With torch, matplotlib and Sphinx's environment in memory, Python spends about
0.6 s after the build freeing objects one by one: a quarter of a no-op rebuild.
Once Sphinx has returned, every file is written and closed, so this runs the
``atexit`` handlers (logging, worker processes, kernels) and leaves with the
build's exit status without that teardown.
"""

import atexit
import os
import sys

from sphinx.cmd.build import main

if __name__ == "__main__":
    status = main(sys.argv[1:])
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
