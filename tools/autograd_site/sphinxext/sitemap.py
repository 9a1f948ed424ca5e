"""``sitemap.xml``: every page of the site, on every build, incremental ones included.

sphinx-sitemap lists the pages written by the current build, so an incremental build
that rewrites two pages leaves a sitemap of two pages. Here the list comes from the
environment, which knows every document whatever this build rewrote.

Configuration (conf.py): ``html_baseurl`` (the published address) and
``sitemap_excludes`` (shell-style patterns of page paths to leave out).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from xml.etree import ElementTree

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def page_paths(app: Sphinx) -> list[str]:
    """The path of every page the HTML builder writes from a document, excludes left out."""
    paths = sorted(app.builder.get_target_uri(docname) for docname in app.env.all_docs)
    return [
        path
        for path in paths
        if not any(fnmatch.fnmatch(path, pattern) for pattern in app.config.sitemap_excludes)
    ]


def write_sitemap(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if not app.config.html_baseurl:
        raise ValueError("sitemap: set html_baseurl in conf.py (the site's published address)")
    base = app.config.html_baseurl.rstrip("/") + "/"
    root = ElementTree.Element("urlset", xmlns=NAMESPACE)
    for path in page_paths(app):
        ElementTree.SubElement(ElementTree.SubElement(root, "url"), "loc").text = base + path
    target = Path(app.outdir) / "sitemap.xml"
    ElementTree.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)
    logger.info(f"[sitemap] {len(root)} pages in {target.name}")


def setup(app: Sphinx) -> dict:
    app.add_config_value("sitemap_excludes", [], "html", types=[list])
    app.connect("build-finished", write_sitemap)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
