"""pytest set-up for gradkit's own tests.

Self-contained on purpose: these tests ship in gradkit's sdist and run with only torch and
pytest installed (matplotlib for the plotting tests), so nothing here imports the site's
machinery. The shared helpers live in ``gradkit_helpers.py`` next to this file.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path

# Make `import gradkit_helpers` work under any pytest import mode.
sys.path.insert(0, str(Path(__file__).parent))

# torch.compile keeps what it compiled in an on-disk cache, and (torch 2.15) the cache key
# of a compiled graph does not include the CPU kernel set that ATEN_CPU_CAPABILITY forces:
# a graph compiled with this CPU's own kernel set, then loaded by a run with
# ATEN_CPU_CAPABILITY=default, fails to build its C++ ("'at::vec' has not been declared"),
# while the same run with an empty cache passes. A CPU that has only the default set never
# holds such an entry, so a run that forces a kernel set gets a cache of its own, as that
# CPU would. An explicit TORCHINDUCTOR_CACHE_DIR is left as it is.
# (Per user, as torch's own default folder is.)
if "ATEN_CPU_CAPABILITY" in os.environ and "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    folder = f"torchinductor-gradkit-tests-{getpass.getuser()}-{os.environ['ATEN_CPU_CAPABILITY']}"
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / folder)
