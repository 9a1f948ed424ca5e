"""Math rendered at build time by KaTeX: readers' browsers run no math script.

Every ``:math:`` role, ``.. math::`` block and ``$...$`` expression becomes KaTeX's
HTML (with MathML for screen readers) while Sphinx writes the page. KaTeX is the npm
package pinned in package-lock.json, staged by ``make katex`` in _build/katex/: the
renderer ``render/katex.min.js`` runs in Node through ``katex_render.js`` beside this
module, and ``static/katex/`` (the CSS and its woff2 fonts) is served by the site.

One Node process per writing process: Sphinx forks its parallel writers, so each
process starts its own renderer the first time it meets an expression, and no pipe
is ever shared between processes. Node exits when its process closes the pipe.

An expression KaTeX cannot parse fails the build, naming the file, the line and
KaTeX's message. A page loads KaTeX's CSS and preloads its two main fonts only when it
shows math, and preloads the font files that page's math uses (read from the classes of
KaTeX's HTML against KaTeX's own CSS), so that no line re-wraps when they arrive.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.locale import _
from sphinx.util.math import get_node_equation_number

RENDER_SCRIPT = Path(__file__).with_name("katex_render.js")
KATEX_CSS = "katex/katex.min.css"
CSS_FILES = (KATEX_CSS, "math.css")
CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')


def _descriptor(body: str, name: str, default: str) -> str:
    found = re.search(name + r":\s*([^;]+)", body)
    return found[1].strip().strip('"') if found else default


@functools.cache
def katex_fonts(stylesheet: Path) -> tuple[dict, list]:
    """From KaTeX's CSS (read and parsed once per process): the woff2 file of each
    (family, weight, style), and for each rule that sets a font family, the class sets its
    selectors need and the face it picks."""
    files, rules = {}, []
    for selectors, body in CSS_RULE.findall(stylesheet.read_text(encoding="utf-8")):
        family = _descriptor(body, "font-family", "")
        if not family.startswith(("KaTeX_", '"KaTeX_')):
            continue
        face = (family.strip('"'), _descriptor(body, "font-weight", "400"),
                _descriptor(body, "font-style", "normal"))
        if selectors.strip() == "@font-face":
            woff2 = re.search(r"url\(([^)]+\.woff2)\)", body)
            if woff2:
                files[face] = woff2[1].removeprefix("fonts/")
            continue
        for selector in selectors.split(","):
            compounds = [set(re.findall(r"\.([\w-]+)", part)) - {"katex"}
                         for part in re.split(r"[\s>+~]+", selector.strip())]
            rules.append(([c for c in compounds if c], face))
    return files, rules


def fonts_to_preload(body: str, stylesheet: Path) -> list[str]:
    """The KaTeX font files a page's math uses, read from its class names: fetched with
    the CSS, they are there before the first layout, so no line re-wraps when they arrive.
    (A face set by a rule this does not read is fetched when needed, as without it.)"""
    files, rules = katex_fonts(stylesheet)
    classes = {frozenset(value.split()) for value in CLASS_ATTRIBUTE.findall(body)}
    faces = {("KaTeX_Main", "400", "normal")}  # .katex's own font
    for compounds, face in rules:
        if all(any(needed <= found for found in classes) for needed in compounds):
            faces.add(face)
    return sorted(files[face] for face in faces if face in files)


class KaTeXRenderer:
    """KaTeX in a Node process owned by the process that started it."""

    def __init__(self, katex_js: str):
        node = shutil.which("node")
        if node is None:
            raise ExtensionError("math: Node is not installed, and KaTeX needs it to render "
                                 "the site's math at build time (apt-get install nodejs).")
        if not Path(katex_js).is_file():
            raise ExtensionError(f"math: KaTeX is not staged at {katex_js}: run 'make katex' "
                                 "(make html runs it).")
        self.pid = os.getpid()
        self.process = subprocess.Popen(
            [node, str(RENDER_SCRIPT), katex_js], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)

    def render(self, latex: str, display: bool) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"latex": latex, "display": display}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise ExtensionError(f"math: KaTeX's Node process stopped (exit code "
                                 f"{self.process.wait()}) while rendering {latex!r}")
        return json.loads(answer)


# The renderer of the process that uses it (a forked writer starts its own)
renderer: KaTeXRenderer | None = None


def render(translator, node: nodes.Element, display: bool) -> str:
    """KaTeX's HTML for the node's LaTeX; a build error if KaTeX cannot parse it."""
    global renderer
    if renderer is None or renderer.pid != os.getpid():  # first use, or a forked writer
        renderer = KaTeXRenderer(translator.builder.config.katex_render_js)
    latex = node.astext()
    answer = renderer.render(latex, display)
    if "error" in answer:
        builder = translator.builder
        where = node.source or str(builder.env.doc2path(builder.current_docname))
        where += f":{node.line}" if node.line else ""
        raise ExtensionError(f"{where}: KaTeX cannot render {latex!r}: {answer['error']}")
    return answer["html"]


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(render(self, node, display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(render(self, node, display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def page_assets(app, pagename, templatename, context, doctree):
    """KaTeX's CSS, and the font files the page's math uses preloaded, on the pages that
    show math only."""
    if app.builder.format != "html":
        return
    # The page's own expressions: the math domain's has_equations() also counts every
    # page in the toctree below, which would load KaTeX on the home page.
    shows_math = doctree is not None and any(
        doctree.findall(lambda node: isinstance(node, (nodes.math, nodes.math_block))))
    if shows_math:
        stylesheet = katex_stylesheet(app)
        fonts = "".join(
            f'<link rel="preload" href="{context["pathto"]("_static/katex/fonts/" + name, 1)}"'
            ' as="font" type="font/woff2" crossorigin>\n'
            for name in fonts_to_preload(context.get("body", ""), stylesheet))
        context["metatags"] = context.get("metatags", "") + fonts
    else:
        context["css_files"] = [css for css in context.get("css_files", [])
                                if not str(css.filename).endswith(CSS_FILES)]


def katex_stylesheet(app) -> Path:
    for folder in app.config.html_static_path:
        path = Path(app.confdir, folder, KATEX_CSS)
        if path.is_file():
            return path
    raise ExtensionError(f"math: {KATEX_CSS} is in no html_static_path folder: run 'make katex'")


def close_renderer(app, exception):
    if renderer is not None and renderer.pid == os.getpid():
        renderer.process.stdin.close()
        renderer.process.wait(timeout=10)


def setup(app):
    app.add_config_value("katex_render_js", "", "env", types=[str])
    app.add_html_math_renderer("katex_at_build", inline_renderers=(visit_math, None),
                               block_renderers=(visit_displaymath, None))
    for css in CSS_FILES:
        app.add_css_file(css)
    app.connect("html-page-context", page_assets)
    app.connect("build-finished", close_renderer)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
