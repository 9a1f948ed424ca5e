"""Every gallery figure says what it shows, in plain text, written in its own script.

sphinx-gallery takes a figure's alt text from its titles (the suptitle and each axes'
title), or else from the script's file name ("plot 07 pointwise derivatives"), and has
no other way to set it. A script whose figure's titles do not say what it shows
describes figure N (sphinx-gallery's numbering: the page's N-th figure, image
``sphx_glr_<script>_00N``) in its docstring, after the ``.. reading-path::`` block::

    .. figure-alt:: 1

       The parabola y = 4x² and its derivative dy/dx from autograd, a straight line
       through the origin that matches the closed form 8x at every marked point.

The directive shows nothing on the page or in the notebook; it sets the figure's alt
text before any HTML is written, and LaTeX left in any other figure's alt text (from a
title) is turned into Unicode. The build fails, naming the script and the figure, when
a gallery figure would keep the file-name fallback (no title and no ``figure-alt``),
and when a ``figure-alt`` names a figure the page does not draw. (A figure drawn by a
MyST-NB cell takes its alt text from the cell's metadata, ``mystnb: image: alt:``.)
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

logger = logging.getLogger(__name__)

# sphinx-gallery names a script's N-th figure sphx_glr_<script stem>_<N:03d>.
FIGURE_NAME = re.compile(r"sphx_glr_(?P<script>.+)_(?P<number>\d{3})")


class figure_alt(nodes.Invisible, nodes.Element):  # noqa: N801 (docutils names nodes so)
    """A figure's alt text, waiting for the page's figures (removed once applied)."""


class FigureAlt(Directive):
    """``.. figure-alt:: N`` with the alt text of the page's N-th figure as its content."""

    required_arguments = 1
    has_content = True

    def run(self):
        try:
            number = directives.positive_int(self.arguments[0])
        except ValueError:
            raise self.error(f"figure-alt: the argument is the figure's number (1 for the "
                             f"page's first figure), not {self.arguments[0]!r}") from None
        text = " ".join(" ".join(self.content).split())
        if not text:
            raise self.error(f"figure-alt {number}: say what the figure shows, in the "
                             "directive's content")
        return [figure_alt("", number=number, alt=text)]


# LaTeX in a plain-text attribute (a title turned alt text) as readable Unicode.
_TEX_WORDS = {
    r"\partial": "∂", r"\Delta": "Δ", r"\nabla": "∇", r"\theta": "θ", r"\lambda": "λ",
    r"\sigma": "σ", r"\dots": "…", r"\ldots": "…", r"\cdots": "⋯", r"\cdot": "·",
    r"\times": "×", r"\approx": "≈", r"\le": "≤", r"\ge": "≥", r"\ne": "≠",
    r"\infty": "∞", r"\sum": "Σ", r"\pi": "π", r"\to": "→", r"\,": " ", r"\;": " ",
    r"\!": "", r"\left": "", r"\right": "",
}
_SUPERSCRIPTS = str.maketrans("0123456789T+-n", "⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ⁺⁻ⁿ")


def tex_to_text(text: str) -> str:
    """LaTeX in a plain-text attribute (a figure's alt text) as readable Unicode."""
    text = text.replace("``", "").replace("$", "")
    for _ in range(3):  # nested \frac, \mathbf{...}, ...
        text = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", text)
        text = re.sub(r"\\(?:mathbf|mathrm|mathit|operatorname|text|boldsymbol|mathcal)"
                      r"\{([^{}]*)\}", r"\1", text)
        text = re.sub(r"\^\{([0-9T+\-n]+)\}", lambda m: m[1].translate(_SUPERSCRIPTS), text)
    text = re.sub(r"\^([0-9Tn])", lambda m: m[1].translate(_SUPERSCRIPTS), text)
    for tex, plain in sorted(_TEX_WORDS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(re.escape(tex) + r"(?![A-Za-z])", plain, text)
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)  # \sin, \log, \exp ... as words
    text = re.sub(r"_\{([^{}]*)\}", r"_\1", text).replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def file_name_fallback(name: str) -> str:
    """The alt text sphinx-gallery gives a figure without a title: its script's name."""
    match = FIGURE_NAME.fullmatch(name)
    return re.sub(r"[-,_]", " ", match["script"]) if match else ""


def _script_ran(app, docname) -> bool:
    """Whether sphinx-gallery ran the page's script in this build, as it decides it:
    ``plot_gallery`` on and ``filename_pattern`` found in the script's path (``-D``
    options narrow both for quick builds)."""
    conf = getattr(app.config, "sphinx_gallery_conf", None) or {}
    if not conf.get("plot_gallery", True):
        return False
    script = "/" + Path(app.env.doc2path(docname)).with_suffix(".py").name
    return re.search(conf.get("filename_pattern", ""), script) is not None


def _apply_alt_text(app, doctree, docname):
    """Set each gallery figure's alt text from its script's ``figure-alt``, or from its
    title as Unicode; fail on a figure with neither, and on a ``figure-alt`` without a
    figure."""
    where = app.env.doc2path(docname)
    given = {}
    for node in list(doctree.findall(figure_alt)):
        if node["number"] in given:
            logger.warning(f"{where}: two figure-alt blocks for figure {node['number']}",
                           location=node, type="autograd_site", subtype="alt_text")
        given[node["number"]] = node["alt"]
        node.parent.remove(node)
    drawn = set()
    for image in doctree.findall(lambda n: "alt" in getattr(n, "attributes", {})):
        name = Path(image.get("uri", "")).stem
        match = FIGURE_NAME.fullmatch(name)
        if match is None:  # not a gallery figure: a title turned alt text, if any
            if image.get("alt"):
                image["alt"] = tex_to_text(image["alt"])
            continue
        number = int(match["number"])
        drawn.add(number)
        if number in given:
            image["alt"] = given[number]
        elif image.get("alt") and image["alt"] != file_name_fallback(name):
            image["alt"] = tex_to_text(image["alt"])
        else:
            logger.warning(
                f"{where}: figure {number} ({name}) has no alt text: its titles are empty, "
                "so sphinx-gallery would describe it by the script's name. Add to the "
                f"script's docstring '.. figure-alt:: {number}' with what the figure shows "
                "(see CONTRIBUTING.md, 'Figures'), or give the figure a title that says it.",
                location=docname, type="autograd_site", subtype="alt_text",
            )
    if not _script_ran(app, docname):
        return  # a page whose script this build did not run has no figures to match
    for number in sorted(set(given) - drawn):
        logger.warning(
            f"{where}: '.. figure-alt:: {number}' describes figure {number}, which the page "
            f"does not draw (it draws {len(drawn)}): remove the block or fix its number",
            location=docname, type="autograd_site", subtype="alt_text",
        )


def setup(app):
    app.add_node(figure_alt)
    app.add_directive("figure-alt", FigureAlt)
    app.connect("doctree-resolved", _apply_alt_text)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
