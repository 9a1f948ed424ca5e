"""The theme's icon fonts, cut down to the icons the site shows.

pydata-sphinx-theme draws its icons (menu, search, light/dark switch, chevrons,
admonition marks) with Font Awesome's web fonts: 115 KB for the solid one, fetched
by every page before the header's icons can be drawn, for some twenty glyphs. At the
end of each build this extension writes, in ``_static/icons/``, each of the theme's
Font Awesome fonts with only the glyphs the site uses (``autograd_site.fonts.cut_font``),
and ``docs/_static/icons.css``, loaded after the theme's stylesheet, declares the same
font families with those files: the later ``@font-face`` rule wins, so browsers never
fetch the full fonts. The theme's files are read, never changed.

The glyphs kept: every ``fa-*`` icon class in the built pages and in the site's and
the theme's own scripts (Font Awesome's ``fontawesome.js`` is left out: it only draws
"fa-custom" icons, as SVG, and the pages do not load it; see docs/_templates/layout.html),
and every icon character the theme's stylesheets name themselves (admonition marks,
links). The browser tests check every icon drawn on every page
has its glyph in these files.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.errors import ExtensionError

from autograd_site.fonts import cut_font

STYLESHEET = "icons.css"  # docs/_static/icons.css: the @font-face rules for the files below
FONTS = ("fa-solid-900", "fa-regular-400", "fa-brands-400")
THEME_FONT_DIR = Path("vendor") / "fontawesome" / "webfonts"  # in _static, from the theme
OUT_DIR = "icons"  # in _static
ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
ICON_CODE = re.compile(r'--fa:\s*"\\([0-9a-fA-F]{4,5})"')
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def icon_codepoints(stylesheet: str) -> dict[str, int]:
    """Icon class -> code point, from Font Awesome's ``.fa-NAME{--fa:"\\fXXX"}`` rules."""
    icons = {}
    for selectors, body in CSS_RULE.findall(stylesheet):
        code = ICON_CODE.match(body.strip())
        if code:
            for selector in selectors.split(","):
                icons[selector.strip().lstrip(".")] = int(code[1], 16)
    return icons


def used_codepoints(static: Path, html_dir: Path) -> set[int]:
    stylesheets = "\n".join(p.read_text(encoding="utf-8") for p in static.rglob("*.css"))
    icons = icon_codepoints(stylesheets)
    names: set[str] = set()
    for page in html_dir.rglob("*.html"):
        names.update(ICON_CLASS.findall(page.read_text(encoding="utf-8")))
    for script in static.rglob("*.js"):
        if script.name != "fontawesome.js":
            names.update(ICON_CLASS.findall(script.read_text(encoding="utf-8")))
    named = {icons[name] for name in names if name in icons}
    # icon characters written into the theme's own rules (--pst-icon-* properties)
    literal = {ord(char) for char in PRIVATE_USE.findall(stylesheets)}
    return named | literal


FONT_FACE = re.compile(r"@font-face\s*\{([^{}]*)\}")


def font_faces(stylesheet: str) -> set[tuple[str, str, str]]:
    """(family, weight, file stem) of each @font-face rule."""
    faces = set()
    for body in FONT_FACE.findall(stylesheet):
        family = re.search(r"font-family:\s*([^;]+)", body)
        weight = re.search(r"font-weight:\s*([^;]+)", body)
        src = re.search(r"url\(['\"]?([^'\")]+)", body)
        if family and weight and src:
            faces.add((family[1].replace("\\", "").strip().strip('"'), weight[1].strip(),
                       Path(src[1]).stem))
    return faces


def check_families(static: Path) -> None:
    """icons.css declares each theme font's family and weight with its cut-down file."""
    ours = font_faces((static / STYLESHEET).read_text(encoding="utf-8"))
    theirs = set()
    for css in (static / "styles").glob("*.css"):
        theirs |= font_faces(css.read_text(encoding="utf-8"))
    missing = [face for face in theirs if face[2] in FONTS and face not in ours]
    if missing:
        raise ExtensionError(
            f"icons: the theme declares {missing}, which docs/_static/{STYLESHEET} does not "
            "override with the same family and weight: update that file")


def write_icon_fonts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    if not (static / STYLESHEET).is_file():
        raise ExtensionError(f"icons: _static/{STYLESHEET} is missing: add docs/_static/"
                             f"{STYLESHEET} (it declares the fonts written here)")
    check_families(static)
    codepoints = used_codepoints(static, Path(app.outdir))
    (static / OUT_DIR).mkdir(exist_ok=True)
    cache = Path(app.doctreedir) / "autograd_site_icon_fonts"  # a clean build starts without
    for name in FONTS:
        source = static / THEME_FONT_DIR / f"{name}.woff2"
        if not source.is_file():
            raise ExtensionError(
                f"icons: the theme no longer ships {THEME_FONT_DIR / source.name}; update "
                f"FONTS in {__file__} and docs/_static/{STYLESHEET} to its icon fonts")
        cut_font(source, static / OUT_DIR / f"{name}.woff2", codepoints, cache)


def preload_solid_icons(app, pagename, templatename, context, doctree):
    """Fetch the solid icons with the stylesheets: every page draws some (the header's,
    the mark after each external link), and the font blocks them until it arrives, so
    a late font would re-wrap lines with such links (layout shift). It is 3 KB."""
    href = context["pathto"](f"_static/{OUT_DIR}/{FONTS[0]}.woff2", 1)
    context["metatags"] = (context.get("metatags", "") + f'<link rel="preload" href="{href}"'
                           ' as="font" type="font/woff2" crossorigin>\n')


def setup(app):
    app.add_css_file(STYLESHEET, priority=900)  # after the theme's stylesheet
    app.connect("html-page-context", preload_solid_icons)
    app.connect("build-finished", write_icon_fonts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
