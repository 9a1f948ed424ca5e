"""Gallery figures written with their size, so nothing moves while they load.

sphinx-gallery writes each figure at 1x and 2x (``image_srcset``) as its own
``imgsgnode``, whose HTML ``<img>`` has no ``width`` and ``height``: until the image
arrives the browser reserves no room for it, and the text below jumps down when it
does (layout shift). This module replaces that node's HTML visitor, through Sphinx's
public ``add_node(..., override=True)``, with one that writes the same ``src`` and
``srcset`` plus the 1x image's ``width`` and ``height`` (CSS scales it down, keeping
the ratio), and loads every figure lazily: a tutorial's figures follow its opening text
and code, below the first screen, so fetching them up front only competes with the
stylesheets and fonts the first screen needs (``tests/browser`` fails on a lazy figure
that a reader sees without scrolling).
"""

from __future__ import annotations

import html
import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from PIL import Image
from sphinx_gallery.directives import imgsgnode


def srcset_entries(srcset: str) -> list[tuple[str, str]]:
    """(path from the source folder, descriptor) of each entry of an image-sg srcset."""
    entries = []
    for entry in srcset.split(","):
        path, _, descriptor = entry.strip().partition(" ")
        entries.append((path.lstrip("/"), descriptor.strip()))
    return entries


def visit_gallery_figure(self, node):
    if node["srcset"] is None:  # sphinx-gallery's own fallback: a plain image
        self.visit_image(node)
        return
    srcdir, imagedir = Path(self.builder.srcdir), Path(self.builder.outdir) / self.builder.imagedir
    imagedir.mkdir(parents=True, exist_ok=True)
    candidates = []
    for path, descriptor in srcset_entries(node["srcset"]):
        shutil.copyfile(srcdir / path, imagedir / Path(path).name)
        url = posixpath.join(self.builder.imgpath, Path(path).name)
        candidates.append(f"{url} {descriptor}".strip())
    with Image.open(srcdir / node["uri"].lstrip("/")) as image:
        width, height = image.size
    attributes = {
        "src": posixpath.join(self.builder.imgpath, Path(node["uri"]).name),
        "srcset": ", ".join(candidates),
        "alt": node["alt"],
        "class": " ".join(node["class"] or []),
        "width": str(width),
        "height": str(height),
        "loading": "lazy",
        "decoding": "async",
    }
    self.body.append("<img " + " ".join(f'{key}="{html.escape(value)}"'
                                        for key, value in attributes.items() if value) + " />")
    raise nodes.SkipNode


def depart_gallery_figure(self, node):
    pass


def setup(app):
    app.setup_extension("sphinx_gallery.gen_gallery")  # its node first, then this visitor
    app.add_node(imgsgnode, override=True, html=(visit_gallery_figure, depart_gallery_figure))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
