"""The supported torch releases, as measured by ``make check-torch-versions``.

``docs/reference/torch_versions.json`` is that command's output (never typed). The
``torch-versions-table`` directive shows it as a table, a row per page and a column per
torch release and Python, and :func:`supported_range` gives the range "Start here"
states (conf.py puts it in the ``torch_range`` substitution).
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from autograd_site.project import DOCS

RESULTS = DOCS / "reference" / "torch_versions.json"
MARK = {"same": "same", "differs": "differs", "fails": "fails"}


def load(path: Path = RESULTS) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def verified(results: dict) -> list[str]:
    """The releases under which every download ran, on every Python they were run with."""
    good = []
    for torch in results["supported_torch"]:
        cells = [c for c in results["cells"] if c["torch"] == torch and c["status"] == "ran"]
        if (
            cells
            and all(d["status"] != "fails" for c in cells for d in c["downloads"])
            and all(c["gradkit_tests"]["status"] == "passes" for c in cells)
        ):
            good.append(torch)
    return good


def supported_range(results: dict | None = None) -> str:
    """ "2.13 to 2.15" from the measured results (the releases every download ran under)."""
    results = results or load()
    good = verified(results)
    if not good:
        raise ValueError(
            f"{RESULTS.name}: no torch release ran every download: run 'make check-torch-versions'"
        )
    # A supported release that did not run breaks the range: "2.13 and 2.15", never
    # "2.13 to 2.15" over an unverified 2.14.
    order = results["supported_torch"]
    runs: list[list[str]] = []
    for release in good:
        if runs and order.index(release) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(release)
        else:
            runs.append([release])

    def minor(release: str) -> str:
        return ".".join(release.split(".")[:2])

    parts = [minor(r[0]) if len(r) == 1 else f"{minor(r[0])} to {minor(r[-1])}" for r in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _page_status(downloads: list[dict], page: str) -> tuple[str, str]:
    """The worst status of a page's downloads (.py and .ipynb), with its detail."""
    mine = [d for d in downloads if d["page"] == page]
    for status in ("fails", "differs"):
        for download in mine:
            if download["status"] == status:
                return status, f"{download['name']}: {download['detail']}"
    return ("same", "") if mine else ("not run", "")


def _paragraph(text: str) -> nodes.paragraph:
    return nodes.paragraph(text=text)


class TorchVersionsTable(SphinxDirective):
    """The table of ``docs/reference/torch_versions.json``, with its notes."""

    def run(self):
        self.env.note_dependency(str(RESULTS))
        results = load()
        cells = [c for c in results["cells"] if c["status"] == "ran"]
        pages = sorted({d["page"] for c in cells for d in c["downloads"]})
        table = nodes.table(classes=["torch-versions"])
        group = nodes.tgroup(cols=1 + len(cells))
        table += group
        for _ in range(1 + len(cells)):
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        row = nodes.row()
        for text in ["page"] + [f"torch {c['torch']}, Python {c['python']}" for c in cells]:
            row += nodes.entry("", _paragraph(text))
        head += row
        group += head
        body = nodes.tbody()
        notes: list[str] = []
        for page in pages:
            row = nodes.row()
            link = nodes.paragraph()
            docname = page.removesuffix(".html")
            ref = nodes.reference("", docname.rsplit("/", 1)[-1], internal=True)
            ref["refuri"] = self.env.app.builder.get_relative_uri(self.env.docname, docname)
            link += ref
            row += nodes.entry("", link)
            for cell in cells:
                status, detail = _page_status(cell["downloads"], page)
                text = MARK.get(status, status)
                if detail:
                    notes.append(f"[{len(notes) + 1}] torch {cell['torch']}, Python "
                                 f"{cell['python']}, {detail}")  # fmt: skip
                    text += f" [{len(notes)}]"
                row += nodes.entry("", _paragraph(text))
            body += row
        row = nodes.row()
        row += nodes.entry("", _paragraph("gradkit's unit tests"))
        for cell in cells:
            row += nodes.entry("", _paragraph(cell["gradkit_tests"]["summary"]))
        body += row
        group += body
        run = results["run"]
        caption = (
            f"Made by make check-torch-versions on {run['date']} (commit {run['commit']}, "
            f"{run['machine']}). The site itself is built with torch {results['site_torch']}. "
            "Time per cell, installing its torch included: "
            + "; ".join(
                f"torch {c['torch']}, Python {c['python']}: {c['seconds']} s"
                + (f" ({c['date']}, commit {c['commit']})" if "commit" in c else "")
                for c in cells
            )
            + "."
        )
        out = [_paragraph(caption), nodes.container("", table, classes=["table-scroll"])]
        skipped = [c for c in results["cells"] if c["status"] != "ran"]
        out += [
            _paragraph(f"Not run: torch {c['torch']}, Python {c['python']} ({c['status']}).")
            for c in skipped
        ]
        measured = {(c["torch"], c["python"]) for c in results["cells"]}
        missing = [
            f"torch {t}, Python {p}"
            for t in results["supported_torch"]
            for p in results["pythons"]
            if (t, p) not in measured
        ]
        if missing:
            out.append(_paragraph(f"Not run yet: {'; '.join(missing)}."))
        if notes:
            listing = nodes.bullet_list()
            for note in notes:
                listing += nodes.list_item("", _paragraph(note))
            out.append(listing)
        return out


def setup(app):
    app.add_directive("torch-versions-table", TorchVersionsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
