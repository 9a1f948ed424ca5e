"""Web fonts cut down to the characters a site shows (public ``fontTools.subset``).

Shared by the extensions that serve smaller copies of other projects' fonts: the theme's
icon fonts (``sphinxext/icons.py``) and KaTeX's math fonts (``sphinxext/math_fonts.py``).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont


def cut_font(source: Path, target: Path, keep: set[int]) -> None:
    """Write the woff2 font ``source`` to ``target`` with only the glyphs of the code points
    in ``keep`` that it has (and what its layout features need to draw them). Its
    "missing glyph" keeps its outline, so a character left out shows as a box, not as
    nothing."""
    with _quiet_fonttools():
        _cut(source, target, keep)


@contextlib.contextmanager
def _quiet_fonttools():
    """fontTools warns "'created' timestamp seems very low; regarding as unix timestamp"
    for each KaTeX font, whose ``head`` table stores negative dates (before 1904, the
    format's epoch) that fontTools reinterprets. The dates are about fonts this project
    does not make and change nothing a reader sees; 40 such lines made every build look
    broken. Errors still show."""
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _cut(source: Path, target: Path, keep: set[int]) -> None:
    font = TTFont(source)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(keep & set(font.getBestCmap())))
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(target)
