"""The .ipynb downloads of MyST-NB pages (docs/_ext/nb_downloads.py)."""

import os

import nbformat
from nb_downloads import _up_to_date, convert
from pagerun import myst_nb_page

PAGE = myst_nb_page("""# Page

Some prose.

```{code-cell} ipython3
print(6 * 7)
```
""")


def test_a_page_converts_to_a_valid_notebook_with_stable_cell_ids(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    notebook = convert(page)
    nbformat.validate(notebook)
    assert [cell["id"] for cell in notebook.cells] == ["cell-0", "cell-1"]
    assert notebook.cells[1].source == "print(6 * 7)"
    assert "source_map" not in notebook.metadata


def test_a_notebook_is_rewritten_only_when_its_page_is_newer(tmp_path):
    page, target = tmp_path / "page.md", tmp_path / "page.ipynb"
    page.write_text(PAGE)
    assert not _up_to_date(target, page)  # not written yet

    target.write_text("{}")
    written = target.stat().st_mtime
    os.utime(page, (written - 10, written - 10))  # last edited before the last build
    assert _up_to_date(target, page)
    os.utime(page, (written + 10, written + 10))  # edited after it
    assert not _up_to_date(target, page)
