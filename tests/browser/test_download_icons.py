"""Each download link shows one download icon at most.

pydata-sphinx-theme puts a download icon before every link of Sphinx's ``:download:``
role (sphinx-gallery's buttons); the "Run this page yourself" box of the MyST-NB pages
links its notebook with a plain link, under the note's own icon. Run with ``make
test-browser``; see conftest.py.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

PAGES = [
    "auto_examples/basics/plot_01_scalar_derivative.html",  # three sphinx-gallery buttons
    "auto_examples/index.html",  # download-all buttons
    "howto/heat_equation_with_dims.html",  # "Run this page yourself" and the gradkit wheel
]

# Font Awesome's download glyphs (download, file-arrow-down, cloud-arrow-down)
ICONS = r"""() => {
  const glyphs = ["\uf019", "\uf56d", "\uf0ed"];
  const shows = (el, pseudo) => {
    const style = getComputedStyle(el, pseudo);
    return style.display !== "none" && glyphs.some((g) => (style.content || "").includes(g));
  };
  // an element is one icon, whether its glyph is a pseudo-element or the element itself
  const isIcon = (node) => shows(node, "::before") || shows(node, "::after")
      || (node.matches(".fa-download, .fa-file-arrow-down, .fa-cloud-arrow-down")
          && node.getClientRects().length > 0);
  const count = (el) => [el, ...el.querySelectorAll("*")].filter(isIcon).length;
  const links = [...document.querySelectorAll("main a[href]")]
      .filter((a) => /\.(ipynb|py|zip|whl)$/.test(a.getAttribute("href")));
  const box = document.querySelector(".nb-download");
  return {
    links: links.map((a) => ({href: a.getAttribute("href"), icons: count(a)})),
    box: box ? count(box) : null,
  };
}"""


@pytest.mark.parametrize("page_name", PAGES)
def test_one_download_icon_per_link(page_name, new_page, base_url):
    page, _ = new_page()
    page.goto(urljoin(base_url, page_name), wait_until="load")
    page.evaluate("document.fonts.ready")
    found = page.evaluate(ICONS)
    assert found["links"], f"{page_name}: no download link found"
    doubled = [link for link in found["links"] if link["icons"] > 1]
    assert not doubled, f"{page_name}: a download icon shown twice: {doubled}"
    if found["box"] is not None:
        assert found["box"] <= 1, f"{page_name}: {found['box']} download icons in the box"
