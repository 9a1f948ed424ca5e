"""Lay out the built site's notebooks where the "Run in Google Colab" links expect them.

Every executed page links ``<repository>/blob/notebooks/<page>.ipynb`` in Colab
(``autograd_site.sphinxext.notebooks``). This copies each page's notebook from the built
site to ``OUT/<page>.ipynb``; the publishing workflow (.github/workflows/docs.yml) pushes
OUT as the branch the links name.

Usage: ``python -m autograd_site.cli.colab_notebooks OUT``
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from autograd_site.project import HTML
from autograd_site.sphinxext.notebooks import published_notebooks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to fill (emptied first)")
    args = parser.parse_args(argv)
    if not (HTML / "index.html").exists():
        print(f"colab-notebooks: no built site in {HTML}; run 'make html' first", file=sys.stderr)
        return 1
    notebooks = published_notebooks(HTML)
    shutil.rmtree(args.out, ignore_errors=True)
    for path, source in sorted(notebooks.items()):
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    print(f"colab-notebooks: {len(notebooks)} notebooks in {args.out}")
    return 0 if notebooks else 1


if __name__ == "__main__":
    raise SystemExit(main())
