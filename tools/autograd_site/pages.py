"""What a built page shows, and what a notebook prints when a reader runs it.

Both are reduced to one comparable form, :class:`Shown`: cell by cell, the text
the code printed and the number of figures it drew, and, for an error shown on
purpose, only its last line (``ValueError: ...``): a traceback's frames depend
on where it runs. Within a cell, figures count after its text (sphinx-gallery
places a block's figures before its printed text, Jupyter after). Warnings
(stderr) and a gallery cell's last-expression value (sphinx-gallery does not
show it here) are left out on both sides.

The tests compare the built pages with the reviewed recordings (numbers) and
with each page run alone (isolation); ``make test-downloads`` compares them with
what the downloads print on a reader's machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from autograd_site.project import DOCS, GALLERY, HTML

FIGURE = "[figure]"

# A number standing on its own: not part of a name (MulBackward0), an address
# (0x7f...) or a version string. Matches 4, -3, 4., 0.5000, 1e-06, 2.5e+03.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def numbers_in(text: str) -> list[float]:
    """Every standalone number in ``text``, in order."""
    return [float(m.group().rstrip(".")) for m in NUMBER.finditer(text)]


@dataclass
class Shown:
    """A page's outputs, cell by cell: printed text and figure markers."""

    cells: list[list[str]]

    @property
    def parts(self) -> list[str]:
        """Every cell's printed parts, then its figures, in cell order."""
        ordered = []
        for cell in self.cells:
            ordered += [part for part in cell if part != FIGURE]
            ordered += [part for part in cell if part == FIGURE]
        return ordered

    @property
    def text(self) -> str:
        """The outputs as one text, blank lines and trailing spaces removed."""
        lines = [line.rstrip() for part in self.parts for line in part.splitlines()]
        return "\n".join(line for line in lines if line)

    @property
    def figures(self) -> int:
        return self.parts.count(FIGURE)

    @property
    def numbers(self) -> list[float]:
        return numbers_in("\n".join(p for p in self.parts if p != FIGURE))


def last_line(traceback_text: str) -> str:
    """The ``Error: message`` line that ends a traceback."""
    lines = [line for line in _ANSI.sub("", traceback_text).strip().splitlines() if line.strip()]
    # the message may span lines; it starts at the last line that names an exception
    for index in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Warning|Interrupt|Exit)\b", lines[index]):
            return "\n".join(lines[index:])
    return lines[-1] if lines else ""


def built_page(page: Path, html_root: Path = HTML, root: Path | None = None) -> Path:
    """The HTML file the build made from a gallery script or a MyST-NB page."""
    gallery = GALLERY if root is None else root / "gallery"
    docs = DOCS if root is None else root / "docs"
    if page.suffix == ".py":
        return html_root / "auto_examples" / page.relative_to(gallery).with_suffix(".html")
    return html_root / page.relative_to(docs).with_suffix(".html")


def notebook_download(page: Path, html_root: Path = HTML) -> Path:
    """The ``.ipynb`` the built site offers for a gallery script or a MyST-NB page."""
    if page.suffix == ".py":
        found = sorted(html_root.glob(f"_downloads/*/{page.stem}.ipynb"))
        if len(found) != 1:
            raise FileNotFoundError(f"{page.name}: expected one notebook download in "
                                    f"{html_root}/_downloads, found {found}")
        return found[0]
    return built_page(page, html_root).with_suffix(".ipynb")


def shown_on_page(html_file: Path) -> Shown:
    """The outputs of a built gallery or MyST-NB page, cell by cell."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article") or soup
    cells: list[list[str]] = [[]]
    for element in article.find_all(["div", "img"]):
        classes = element.get("class") or []
        if element.name == "img":
            if "sphx-glr-single-img" in classes or "sphx-glr-multi-img" in classes:
                cells[-1].append(FIGURE)
            elif element.find_parent("div", class_="cell_output") is not None:
                cells[-1].append(FIGURE)
            continue
        if "highlight-Python" in classes or "cell" in classes:
            cells.append([])  # a gallery code block or a notebook cell starts
        elif "sphx-glr-script-out" in classes:
            cells[-1].append(element.get_text())
        elif "output" in classes and element.find_parent("div", class_="cell_output"):
            if "stream" in classes and "stderr" not in classes:
                cells[-1].append(element.get_text())
            elif "text_plain" in classes:
                cells[-1].append(element.get_text())
            elif "traceback" in classes:
                cells[-1].append(last_line(element.get_text()))
    return Shown([cell for cell in cells if cell])


def shown_by_notebook(notebook, *, gallery: bool) -> Shown:
    """The outputs of an executed notebook (nbformat), reduced like a page's."""
    cells: list[list[str]] = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts: list[str] = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            data = output.get("data", {})
            if kind == "stream" and output.get("name") == "stdout":
                parts.append(output.get("text", ""))
            elif kind == "error":
                parts.append(last_line("\n".join(output.get("traceback", []))))
            elif kind in ("display_data", "execute_result") and "image/png" in data:
                parts.append(FIGURE)
            elif kind == "execute_result" and not gallery and "text/plain" in data:
                parts.append(data["text/plain"])
        if parts:
            cells.append(parts)
    return Shown(cells)
