"""pytest set-up for gradkit's own tests.

Self-contained on purpose: these tests ship in gradkit's sdist and run with only torch and
pytest installed (matplotlib for the plotting tests), so nothing here imports the site's
machinery. The shared helpers live in ``gradkit_helpers.py`` next to this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Make `import gradkit_helpers` work under any pytest import mode.
sys.path.insert(0, str(Path(__file__).parent))
