"""KaTeX's fonts cut down to the site's math (autograd_site.sphinxext.math_fonts).

What is read from a page (only the text of KaTeX's output), what a cut keeps and drops,
and, on the built site, that every character of every page's math which a full KaTeX
font has is still in the site's copy of that font.
"""

from __future__ import annotations

import json
import logging
import os
from html.parser import HTMLParser

import pytest
from autograd_site.fonts import cut_font
from autograd_site.project import KATEX_STAGE
from autograd_site.sphinxext.math_fonts import (
    ALWAYS_KEPT,
    FONT_DIR,
    math_characters,
    site_math_characters,
)
from fontTools.ttLib import TTFont

STAGED_FONTS = KATEX_STAGE / "static" / FONT_DIR


@pytest.fixture
def staged_fonts():
    if not (STAGED_FONTS / "KaTeX_Main-Regular.woff2").is_file():
        pytest.fail("KaTeX is not staged: run 'make katex' (make html and make test do)")
    return STAGED_FONTS


def cmap(path) -> set[int]:
    return set(TTFont(path).getBestCmap())


def test_only_the_text_of_katex_output_is_read():
    page = ('<p>prose ∂ outside</p><span class="katex"><span class="katex-html">'
            '<span class="mord">α</span><br><span>≤</span></span></span><p>after ∇</p>')
    assert math_characters(page) == {ord("α"), ord("≤")}


@pytest.mark.parametrize(
    "opening",
    ['<span class="katex">', '<span class="katex" id="m1">', '<span id="m1" class="x katex">'],
)
def test_katex_output_is_found_whatever_its_attributes(opening):
    page = f'<p>∂</p>{opening}<span>α<span>β</span></span>γ</span><span class="katex-x">∇</span>'
    assert math_characters(page) == {ord("α"), ord("β"), ord("γ")}


def test_katex_output_left_open_is_read_to_the_end_of_the_page():
    assert math_characters('<p>∂</p><span class="katex"><span>α</span>β') == {ord("α"), ord("β")}


class _WholePageMath(HTMLParser):
    """The characters inside any element with class ``katex``, the whole page parsed:
    a reader independent of math_fonts' (which parses only KaTeX's fragments)."""

    def __init__(self):
        super().__init__()
        self.open: list[bool] = []
        self.characters: set[int] = set()

    def handle_starttag(self, tag, attrs):
        if tag in {"br", "img", "meta", "link", "input", "hr", "wbr", "source", "area",
                   "base", "col", "embed", "track"}:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.open.append(bool(self.open and self.open[-1]) or "katex" in classes)

    def handle_endtag(self, tag):
        if self.open and tag not in {"br", "img", "meta", "link", "input", "hr", "wbr"}:
            self.open.pop()

    def handle_data(self, data):
        if self.open and self.open[-1]:
            self.characters.update(map(ord, data))


def test_a_cut_font_keeps_what_is_asked_and_drops_the_rest(staged_fonts, tmp_path):
    source = staged_fonts / "KaTeX_Main-Regular.woff2"
    target = tmp_path / source.name
    keep = {ord("x"), ord("∂")}
    cut_font(source, target, keep)
    assert cmap(target) == keep & cmap(source)
    assert target.stat().st_size < source.stat().st_size / 2


def test_a_cached_cut_is_reused_only_for_the_same_characters(staged_fonts, tmp_path):
    source, cache = staged_fonts / "KaTeX_Main-Regular.woff2", tmp_path / "cache"
    cut_font(source, tmp_path / "plain.woff2", {ord("x")})
    cut_font(source, tmp_path / "first.woff2", {ord("x")}, cache)
    # (bytes may differ: fontTools stamps the time of the cut, SOURCE_DATE_EPOCH in builds)
    assert cmap(tmp_path / "first.woff2") == cmap(tmp_path / "plain.woff2") == {ord("x")}
    (stored,) = cache.glob("KaTeX_Main-Regular-*.woff2")
    stored.write_bytes(b"the stored cut")  # so that a copy of it can be recognised
    cut_font(source, tmp_path / "again.woff2", {ord("x")}, cache)
    assert (tmp_path / "again.woff2").read_bytes() == b"the stored cut"
    cut_font(source, tmp_path / "other.woff2", {ord("x"), ord("y")}, cache)
    assert cmap(tmp_path / "other.woff2") == {ord("x"), ord("y")}
    assert list(cache.glob("KaTeX_Main-Regular-*")) != [stored]  # only the latest cut kept
    assert len(list(cache.glob("KaTeX_Main-Regular-*"))) == 1


def test_the_page_cache_rereads_a_changed_page(tmp_path):
    html, cache = tmp_path / "html", tmp_path / "pages.json"
    html.mkdir()
    (html / "a.html").write_text('<span class="katex">α</span>', encoding="utf-8")
    (html / "b.html").write_text('<span class="katex">β</span>', encoding="utf-8")
    assert site_math_characters(html, cache) == {ord("α"), ord("β")} == site_math_characters(html)
    # same size, same time: taken from the cache, not read (so the new character is missed)
    page = html / "b.html"
    times = page.stat()
    page.write_text('<span class="katex">γ</span>', encoding="utf-8")
    os.utime(page, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert site_math_characters(html, cache) == {ord("α"), ord("β")}
    # written again by a build: read again
    os.utime(page, ns=(times.st_atime_ns, times.st_mtime_ns + 1_000))
    (html / "c.html").write_text('<span class="katex">≤</span>', encoding="utf-8")
    assert site_math_characters(html, cache) == {ord(c) for c in "αγ≤"}


@pytest.mark.parametrize("damage", ["truncated", "made by older code"])
def test_a_broken_or_older_page_cache_is_not_trusted(tmp_path, damage):
    html, cache = tmp_path / "html", tmp_path / "pages.json"
    html.mkdir()
    (html / "a.html").write_text('<span class="katex">α</span>', encoding="utf-8")
    site_math_characters(html, cache)
    recorded = json.loads(cache.read_text(encoding="utf-8"))
    recorded["pages"]["a.html"][1] = [ord("z")]  # what the cache would wrongly give
    if damage == "truncated":
        cache.write_text(json.dumps(recorded)[:-20], encoding="utf-8")
    else:
        cache.write_text(json.dumps({**recorded, "reader": "older code"}), encoding="utf-8")
    assert site_math_characters(html, cache) == {ord("α")}


def test_cutting_a_katex_font_prints_no_warning(staged_fonts, tmp_path, caplog):
    source = staged_fonts / "KaTeX_Main-Regular.woff2"
    caplog.set_level(logging.WARNING)
    TTFont(source)["head"]  # the warning this cut hides, so the test can fail
    assert any("timestamp" in r.getMessage() for r in caplog.records)
    caplog.clear()
    level = logging.getLogger("fontTools").level
    cut_font(source, tmp_path / source.name, {ord("x")})
    assert caplog.records == []
    assert logging.getLogger("fontTools").level == level


def test_every_character_of_the_site_math_is_in_the_served_fonts(built_site, staged_fonts):
    used: set[int] = set()
    for page in built_site.rglob("*.html"):  # read here, not by the code that chose the cut
        reader = _WholePageMath()
        reader.feed(page.read_text(encoding="utf-8"))
        used |= reader.characters
    assert used == site_math_characters(built_site)
    assert {ord("∂"), ord("=")} <= used, "no math found in the built pages"
    missing, cut = {}, 0
    for full in sorted(staged_fonts.glob("*.woff2")):
        served = built_site / "_static" / FONT_DIR / full.name
        lost = (used | ALWAYS_KEPT) & cmap(full) - cmap(served)
        if lost:
            missing[full.name] = "".join(sorted(map(chr, lost)))
        cut += full.stat().st_size - served.stat().st_size
    assert not missing, f"characters of the site's math missing from its fonts: {missing}"
    assert cut > 50_000, f"the served KaTeX fonts are only {cut} bytes smaller than KaTeX's"
