"""Web fonts cut down to the characters a site shows (public ``fontTools.subset``).

Shared by the extensions that serve smaller copies of other projects' fonts: the theme's
icon fonts (``sphinxext/icons.py``) and KaTeX's math fonts (``sphinxext/math_fonts.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
from importlib.metadata import version
from pathlib import Path

from autograd_site.files import code_digest, written_whole

# What makes a cut besides its font and characters: a change here or in fontTools retires
# the cached cuts.
CUTTER = code_digest(Path(__file__), versions=(version("fonttools"),))


def cut_font(source: Path, target: Path, keep: set[int], cache: Path | None = None) -> None:
    """Write the woff2 font ``source`` to ``target`` with only the glyphs of the code points
    in ``keep`` that it has (and what its layout features need to draw them). Its
    "missing glyph" keeps its outline, so a character left out shows as a box, not as
    nothing.

    With ``cache`` (a folder kept between builds), a cut is stored there under the font's
    bytes, the characters kept and the code that cuts (this file, fontTools' version), and
    a later call with the same three copies it instead of cutting again (a cut takes about
    0.2 s; the site cuts some 25 fonts on every build, since Sphinx copies KaTeX's full
    fonts over the cut ones each time). Only the latest cut of each font is kept."""
    if cache is None:
        with _quiet_fonttools():
            _cut(source, target, keep)
        return
    key = hashlib.sha256(source.read_bytes())
    key.update(",".join(map(str, sorted(keep))).encode())
    key.update(CUTTER.encode())
    cached = cache / f"{source.stem}-{key.hexdigest()[:24]}.woff2"
    if not cached.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with written_whole(cached) as partial, _quiet_fonttools():
            _cut(source, partial, keep)
        for older in cache.glob(f"{source.stem}-*.woff2"):
            if older != cached:
                older.unlink(missing_ok=True)
    shutil.copyfile(cached, target)


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
    # imported here: a build whose cuts are all in the cache does not need fontTools (0.1 s)
    from fontTools import subset
    from fontTools.ttLib import TTFont

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
