"""Every image on every built page says what it shows, or is marked as decoration.

A figure's alt text is what a screen reader reads and what shows when the image does
not load. Without one, Sphinx writes the image's path (``../_images/3d35dd....png``),
and sphinx-gallery the script's file name. Gallery figures get theirs from their titles
or their script's ``.. figure-alt::`` blocks; a figure drawn by a MyST-NB code cell gets
its own from the cell's metadata::

    ```{code-cell} ipython3
    ---
    mystnb:
      image:
        alt: What the figure shows.
    ---

An empty alt is for decoration only: the logo (the site's name stands beside it) and
sphinx-gallery's card thumbnails (the card's title names the link).
"""

from __future__ import annotations

import re

import pytest
from autograd_site.project import HTML

# an alt text that is a file name, a path or sphinx-gallery's file-name fallback
FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg|webp)\b|^\S*/\S*$|^plot \d|^sphx_glr_", re.I)


def _pages():
    return sorted(
        p for p in HTML.rglob("*.html")
        if not p.relative_to(HTML).parts[0].startswith("_")
    )


def _decorative(img) -> bool:
    classes = img.get("class") or []
    return "logo__image" in classes or img.find_parent(
        "div", class_="sphx-glr-thumbcontainer") is not None


def test_every_image_has_alt_text(built_site):
    from bs4 import BeautifulSoup

    pages = _pages()
    assert pages
    problems, figures = [], 0
    for page in pages:
        name = page.relative_to(HTML).as_posix()
        for img in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("img"):
            alt = img.get("alt")
            src = img.get("src", "")
            if alt is None:
                problems.append(f"{name}: {src}: no alt attribute")
            elif not alt.strip():
                if not _decorative(img):
                    problems.append(f"{name}: {src}: empty alt on an image that is not decoration")
            else:
                figures += 1
                if FILE_NAME.search(alt.strip()) or len(alt.strip()) < 10:
                    problems.append(f"{name}: {src}: alt text is a file name or too short: {alt!r}")
    assert figures >= 20, f"only {figures} images with alt text: is the site built?"
    assert not problems, "images without a meaningful alt text:\n" + "\n".join(problems)


@pytest.mark.parametrize("alt", ["../_images/3d35dd48.png", "_images/x.png",
                                 "plot 07 pointwise derivatives", "sphx_glr_plot_01_001"])
def test_file_names_are_recognised(alt):
    assert FILE_NAME.search(alt)
