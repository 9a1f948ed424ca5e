"""KaTeX's fonts, cut down to the characters the site's math shows.

A page with math preloads the KaTeX fonts its expressions use (``math.py``), and on a
phone's connection those bytes arrive with the stylesheets, before the page's first
paragraph can be drawn: 50 KB on a page with simple math, 117 KB on the corrected
notebook (AMS, bold, four delimiter sizes). KaTeX's woff2 files carry every glyph KaTeX
can typeset; the site's math uses some 130 characters. At the end of each build this
extension writes over the copies in ``_static/katex/fonts/`` each font with only the
characters found in the text of the built pages' KaTeX output, plus printable ASCII
(``autograd_site.fonts.cut_font``). It always starts from the staged full fonts
(``make katex``), never from an earlier cut, so a new symbol on any page is kept by the
next build. KaTeX draws every glyph from a character in its HTML (a font class picks
the font, a wider delimiter picks a Size font), so the characters of the text are all
it needs; ``tests/site/test_math_fonts.py`` checks, on the built site, that every character
of every page's math that a full font has is in the cut-down one.
"""

from __future__ import annotations

import contextlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from autograd_site.files import code_digest, written_whole
from autograd_site.fonts import cut_font
from autograd_site.sphinxext.math import KATEX_CSS, katex_stylesheet

FONT_DIR = Path(KATEX_CSS).parent / "fonts"  # in _static, beside katex.min.css
ALWAYS_KEPT = frozenset(range(0x20, 0x7F)) | {0x00A0, 0x200B}  # ASCII; spaces KaTeX writes
# The code that reads a page's math characters: a change to it reads every page again.
READER = code_digest(Path(__file__))


class _KatexText(HTMLParser):
    """Collects the characters inside elements of class ``katex``."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                      "meta", "source", "track", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.inside: list[bool] = []
        self.characters: set[int] = set()

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.inside.append(bool(self.inside and self.inside[-1]) or "katex" in classes)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.inside:
            self.inside.pop()

    def handle_data(self, data):
        if self.inside and self.inside[-1]:
            self.characters.update(map(ord, data))


# Where KaTeX's output starts (a span whose classes include "katex"; math.py writes
# ``<span class="katex">``), and the tags that nest inside it.
_KATEX_START = re.compile(r'<span\b[^>]*?\bclass="(?:[^"]*\s)?katex(?:\s[^"]*)?"[^>]*>')
_SPAN_TAG = re.compile(r"<(/?)span\b")


def katex_fragments(html: str):
    """Each KaTeX output of a page (``<span class="katex">`` to its closing tag).

    Only these are parsed: the rest of a page (its navigation, code, text) is most of its
    size, and parsing whole pages took 3 s at the end of a clean build."""
    for start in _KATEX_START.finditer(html):
        depth = 0
        for tag in _SPAN_TAG.finditer(html, start.start()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                yield html[start.start() : html.index(">", tag.end()) + 1]
                break
        else:  # never closed: the rest of the page
            yield html[start.start() :]


def math_characters(html: str) -> set[int]:
    """The code points in the text of the KaTeX output (``class="katex"``) of a page."""
    parser = _KatexText()
    for fragment in katex_fragments(html):
        parser.feed(fragment)
    parser.close()
    return parser.characters


def site_math_characters(html_dir: Path, cache: Path | None = None) -> set[int]:
    """The characters of the KaTeX output of every page under ``html_dir``.

    With ``cache`` (a JSON file kept between builds), a page whose size and modification
    time are those recorded there by this same code is not read again: a build rewrites
    only the pages that changed, and reading all of them took 3 to 5 s of every build."""
    known = {}
    if cache is not None and cache.is_file():
        with contextlib.suppress(ValueError):  # unreadable: every page is read again
            recorded = json.loads(cache.read_text(encoding="utf-8"))
            if isinstance(recorded, dict) and recorded.get("reader") == READER:
                known = recorded["pages"]
    pages = {}
    for page in sorted(html_dir.rglob("*.html")):
        stat = page.stat()
        name, stamp = page.relative_to(html_dir).as_posix(), [stat.st_mtime_ns, stat.st_size]
        if name in known and known[name][0] == stamp:
            pages[name] = known[name]
        else:
            pages[name] = [stamp, sorted(math_characters(page.read_text(encoding="utf-8")))]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(cache) as partial:
            partial.write_text(json.dumps({"reader": READER, "pages": pages}), encoding="utf-8")
    return {character for _, characters in pages.values() for character in characters}


def write_math_fonts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    full_fonts = katex_stylesheet(app).parent / "fonts"
    out = Path(app.outdir) / "_static" / FONT_DIR
    # kept with the doctrees: a clean build starts without them
    cache = Path(app.doctreedir) / "autograd_site_math_fonts"
    keep = site_math_characters(Path(app.outdir), cache / "pages.json") | ALWAYS_KEPT
    for source in sorted(full_fonts.glob("*.woff2")):
        cut_font(source, out / source.name, keep, cache)


def setup(app):
    app.setup_extension("autograd_site.sphinxext.math")
    app.connect("build-finished", write_math_fonts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
