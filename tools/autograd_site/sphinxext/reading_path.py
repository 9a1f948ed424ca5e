"""Where a tutorial stands: what it teaches, which pages come before it, which comes next.

Each gallery script says, at the end of its docstring, what the reader will learn and
which pages it builds on (labels of earlier pages, or ``none`` for the first page)::

    .. reading-path::
       :learn: which tensors get a ``.grad``, and what ``retain_grad()`` changes
       :after: example-scalar-derivative

The directive shows both under the page's introduction, the pages as links. Every
tutorial ends with the next one on the reading path, the gallery's order
(:func:`autograd_site.project.reading_path`, the one place it is defined). A tutorial
without the block, or with a page in ``:after:`` that is not before it on the path,
fails the build with a message naming the script. The notebooks carry the same lines
(``autograd_site.sphinxext.notebooks``).
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx import addnodes
from sphinx.util import logging

from autograd_site.project import gallery_docname, reading_path

logger = logging.getLogger(__name__)

LEARN = "What you will learn:"
BEFORE = "Before this page:"
FIRST = "nothing: this is where the reading path starts."
NEXT = "Next on the reading path:"
LAST = "the tutorials end here; the how-to guides take on specific tasks:"
LAST_PAGE = "howto/index"


def after_labels(value: str) -> list[str]:
    """The ``:after:`` option as a list of labels (``none``: the path's first page)."""
    labels = [label.strip() for label in value.replace("\n", " ").split(",") if label.strip()]
    return [] if labels == ["none"] else labels


def tutorial_docnames() -> list[str]:
    """The tutorials' documents in reading order."""
    return [gallery_docname(script) for script in reading_path()]


def next_docname(docname: str) -> str | None:
    """The page after ``docname`` on the reading path (the how-to guides after the last)."""
    order = tutorial_docnames()
    if docname not in order:
        return None
    index = order.index(docname)
    return order[index + 1] if index + 1 < len(order) else LAST_PAGE


def _link(target: str, reftype: str, docname: str) -> addnodes.pending_xref:
    """A link Sphinx resolves like a ``:ref:`` or ``:doc:`` role (the target's title)."""
    return addnodes.pending_xref(
        "", nodes.inline(target, target), refdomain="std", reftype=reftype,
        reftarget=target, refexplicit=False, refwarn=True, refdoc=docname,
    )


class ReadingPath(Directive):
    """``.. reading-path::`` with ``:learn:`` (inline reST) and ``:after:`` (labels)."""

    option_spec = {"learn": directives.unchanged_required, "after": directives.unchanged_required}

    def run(self):
        env = self.state.document.settings.env
        missing = [name for name in ("learn", "after") if not self.options.get(name)]
        if missing:
            raise self.error(f"reading-path: give {' and '.join(':' + m + ':' for m in missing)}"
                             " (see CONTRIBUTING.md, 'Where a page stands')")
        env.metadata[env.docname]["reading_path_after"] = ",".join(
            after_labels(self.options["after"]))
        learned, messages = self.state.inline_text(self.options["learn"], self.lineno)
        learn = nodes.paragraph("", "", nodes.strong("", LEARN), nodes.Text(" "), *learned,
                                nodes.Text("."))
        labels = after_labels(self.options["after"])
        before = nodes.paragraph("", "", nodes.strong("", BEFORE), nodes.Text(" "))
        for index, label in enumerate(labels):
            before += nodes.Text(", " if index else "")
            before += _link(label, "ref", env.docname)
        if labels:
            before += nodes.Text(".")
        else:
            before += nodes.Text(FIRST)
        box = nodes.container("", learn, before, classes=["reading-path"])
        return [box, *messages]


def _add_next_page(app, doctree):
    """End a tutorial with the next page on the reading path; fail without its metadata."""
    docname = app.env.docname
    following = next_docname(docname)
    if following is None:
        return
    if not any("reading-path" in node["classes"] for node in doctree.findall(nodes.container)):
        logger.warning(
            f"{app.env.doc2path(docname)}: the tutorial says nothing of where it stands. "
            "Add a '.. reading-path::' block at the end of its docstring, with ':learn:' "
            "(what the reader will learn) and ':after:' (labels of the pages it builds on, "
            "or 'none'); see CONTRIBUTING.md, 'Where a page stands'.",
            location=docname, type="autograd_site", subtype="reading_path",
        )
    words = f" {LAST} " if following == LAST_PAGE else " "
    paragraph = nodes.paragraph("", "", nodes.strong("", NEXT), nodes.Text(words),
                                _link("/" + following, "doc", docname), nodes.Text("."),
                                classes=["reading-path-next"])
    footer = next(iter(doctree.findall(
        lambda n: isinstance(n, nodes.container) and "sphx-glr-footer" in n["classes"])), None)
    if footer is not None:
        # before the footer's block (an ``only`` node) and the label that points at it
        block = footer
        while not isinstance(block.parent, nodes.section):
            block = block.parent
        parent = block.parent
        index = parent.index(block)
        while index > 0 and isinstance(parent[index - 1], nodes.target):
            index -= 1
        parent.insert(index, paragraph)
    else:
        section = next(iter(doctree.findall(nodes.section)))
        section += paragraph


def _check_order(app, env):
    """Each page in ``:after:`` comes before the page on the reading path."""
    order = tutorial_docnames()
    labels = env.get_domain("std").labels
    for position, docname in enumerate(order):
        after = env.metadata.get(docname, {}).get("reading_path_after", "")
        for label in filter(None, after.split(",")):
            target = labels.get(label, (None,))[0]
            if target in order and order.index(target) >= position:
                logger.warning(
                    f"{env.doc2path(docname)}: ':after:' names {label}, which comes after "
                    "this page on the reading path (the gallery's order)",
                    location=docname, type="autograd_site", subtype="reading_path",
                )


def setup(app):
    app.add_directive("reading-path", ReadingPath)
    app.connect("doctree-read", _add_next_page)
    app.connect("env-check-consistency", _check_order)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
