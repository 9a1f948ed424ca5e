"""``sitemap.xml`` (tools/autograd_site/sphinxext/sitemap.py) lists every page, always."""

from __future__ import annotations

import re
import time

from autograd_site.project import HTML

CONF = """
extensions = ["autograd_site.sphinxext.sitemap"]
html_baseurl = "https://example.org/site/"
sitemap_excludes = ["search.html", "drafts/*"]
"""


def _locations(sitemap: str) -> list[str]:
    return re.findall(r"<loc>([^<]+)</loc>", sitemap)


def test_an_incremental_build_keeps_every_page(sphinx_build, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "drafts").mkdir(parents=True)
    (src / "conf.py").write_text(CONF)
    toctree = ".. toctree::\n\n   one\n   two\n   drafts/three\n"
    (src / "index.rst").write_text("Home\n====\n\n" + toctree)
    for name in ("one", "two", "drafts/three"):
        (src / f"{name}.rst").write_text(f"{name}\n{'=' * len(name)}\n\nText.\n")
    first = sphinx_build(src, out)
    assert first.returncode == 0, first.stderr
    time.sleep(0.01)
    (src / "two.rst").write_text("two\n=====\n\nOther text.\n")
    second = sphinx_build(src, out)
    assert second.returncode == 0, second.stderr
    assert _locations((out / "sitemap.xml").read_text()) == [
        "https://example.org/site/index.html",
        "https://example.org/site/one.html",
        "https://example.org/site/two.html",
    ]


def test_the_site_lists_its_pages(built_site):
    listed = {url.split("/autograd-by-example/", 1)[1] for url in _locations(
        (HTML / "sitemap.xml").read_text())}  # fmt: skip
    assert {"index.html", "reference/torch_versions.html",
            "auto_examples/basics/plot_01_scalar_derivative.html"} <= listed  # fmt: skip
    assert not listed & {"search.html", "genindex.html", "404.html", "py-modindex.html"}
