"""Facts about the repository that more than one tool needs, each written once.

The executable pages are the sphinx-gallery scripts (``gallery/**/plot_*.py``)
and the MyST-NB pages (``docs/**/*.md`` whose front matter says
``file_format: mystnb``). The build writes generated sources into ``docs/``
(:data:`GENERATED`) and the site into ``_build/html``.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GALLERY = ROOT / "gallery"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
KATEX_STAGE = BUILD / "katex"  # `make katex`: the math renderer (render/) and its CSS (static/)

# What sphinx-gallery and myst-nb write under docs/ (and what `make clean` removes).
GENERATED = ("auto_examples", "gen_modules", "jupyter_execute", "sg_execution_times.rst")

# What a scratch copy of the project needs to build and test the site.
PROJECT_FILES = (
    "conf.py",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "Makefile",
    "package.json",
    "package-lock.json",
    "requirements",
    "docs",
    "gallery",
    "src",
    "tests",
    "tools",
    "benchmarks",
)

# Agreement of recorded values with what a page prints: relative, for numbers
# printed with up to 8 significant digits. Values that depend on the CPU or the
# thread count are printed as checked bounds, so this needs no slack for them.
RECORDED_RTOL = 1e-7


def gallery_scripts(root: Path = ROOT) -> list[Path]:
    """Every sphinx-gallery script that the build runs, in file-name order."""
    return sorted((root / "gallery").rglob("plot_*.py"))


# The gallery's sections in reading order. The gallery index shows them in this order
# (conf.py), and the reading path follows it: section by section, each section's scripts
# in file-name order, as the gallery lists them.
GALLERY_SECTIONS = ("basics", "vectors", "tracking", "training", "jacobians", "extending",
                    "pinns")


def reading_path(root: Path = ROOT) -> list[Path]:
    """The tutorials in the order a newcomer reads them (each page links the next)."""
    return [
        script
        for section in GALLERY_SECTIONS
        for script in sorted((root / "gallery" / section).glob("plot_*.py"),
                             key=lambda path: path.name)
    ]


def gallery_docname(script: Path, root: Path = ROOT) -> str:
    """The Sphinx document a gallery script becomes (``auto_examples/<section>/<stem>``)."""
    return "auto_examples/" + script.relative_to(root / "gallery").with_suffix("").as_posix()


def gallery_intro(script: Path) -> str:
    """A gallery script's first paragraph after its title: its gallery card's tooltip.

    sphinx-gallery picks it this way (the module docstring's paragraphs, those that
    start with ``.. `` left out, the title first) and strips the markup of roles, literals
    and emphasis, nothing else: the tooltip shows the paragraph's own text.
    """
    import ast

    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False)
    paragraphs = [
        p for p in (docstring or "").lstrip().split("\n\n") if p and not p.startswith(".. ")
    ]
    return paragraphs[1] if len(paragraphs) > 1 else ""


def is_myst_nb_source(text: str) -> bool:
    """Whether a Markdown source is a MyST-NB text notebook (executed at build)."""
    head = text.split("\n---", 1)[0] if text.startswith("---") else ""
    return "file_format: mystnb" in head


def myst_nb_pages(root: Path = ROOT) -> list[Path]:
    """Every MyST-NB page under ``docs/``, generated folders excluded."""
    docs = root / "docs"
    return sorted(
        page
        for page in docs.rglob("*.md")
        if not set(GENERATED) & set(page.relative_to(docs).parts)
        and is_myst_nb_source(page.read_text(encoding="utf-8"))
    )


def executable_pages(root: Path = ROOT) -> list[Path]:
    """Gallery scripts, then MyST-NB pages."""
    return gallery_scripts(root) + myst_nb_pages(root)


def page_id(page: Path) -> str:
    """A page's short name in test ids and reports: its file stem."""
    return page.stem


def copy_project(dest: Path, root: Path = ROOT) -> Path:
    """Copy the files a build needs into ``dest`` (no build output, no venv); return ``dest``."""
    ignore = shutil.ignore_patterns(
        *GENERATED, "__pycache__", "*.egg-info", ".pytest_cache", ".build.lock", "tmp"
    )
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, dest / name)
    return dest


def build_command() -> list[str]:
    """``make html``'s build command (``BUILD_SITE``, which the Makefile sets), paths absolute.

    Every tool that builds the site (check-portable, check-reproducible,
    bench-build, the tests of the build) builds it with this command.
    """
    sphinx_build = ROOT / ".venv" / "bin" / "sphinx-build"
    default = f"{sphinx_build} -b html -c . -d _build/doctrees -W --keep-going -j auto"
    words = shlex.split(os.environ.get("BUILD_SITE", default))
    if not Path(words[0]).is_absolute() and (ROOT / words[0]).exists():
        words[0] = str(ROOT / words[0])
    return words


def stage_static_assets(dest: Path, root: Path = ROOT) -> None:
    """Copy into a scratch copy the assets ``make html`` stages under ``_build`` before building."""
    stage = KATEX_STAGE.relative_to(ROOT)
    if (root / stage).exists():
        shutil.copytree(root / stage, dest / stage, dirs_exist_ok=True)
