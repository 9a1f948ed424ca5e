"""Shared set-up: page runners live in tests/pagerun.py so make mutation-docs can use them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pagerun import (  # noqa: E402, F401
    DOCS,
    GALLERY_SCRIPTS,
    MYST_NB_PAGES,
    ROOT,
    run_gallery_source,
    run_myst_nb_page,
)
