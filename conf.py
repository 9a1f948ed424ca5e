"""Sphinx configuration for Autograd by Example.

Build with ``sphinx-build -c . docs _build/html`` (``make html`` does it).
"""

import tomllib
from importlib.metadata import version as _version
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from autograd_site.project import GALLERY_SECTIONS
from autograd_site.sphinxext.torch_versions import supported_range
from sphinx_gallery.sorting import ExplicitOrder

ROOT = Path(__file__).resolve().parent

project = "Autograd by Example"
author = "Autograd by Example contributors"
copyright = "2026, " + author
release = _version("gradkit")  # read from the installed metadata: conf.py must not import torch
version = release

extensions = [
    # How every page runs, reruns and fails (tools/autograd_site/sphinxext/execution.py)
    "autograd_site.sphinxext.execution",
    # The MyST-NB pages' kernels forked from one that imported torch once
    # (tools/autograd_site/sphinxext/kernels.py)
    "autograd_site.sphinxext.kernels",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # Math rendered at build time by KaTeX (tools/autograd_site/sphinxext/math.py)
    "autograd_site.sphinxext.math",
    # KaTeX's fonts cut down to the characters the site's math shows
    "autograd_site.sphinxext.math_fonts",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    # Gallery figures with their width and height: nothing moves while they load
    "autograd_site.sphinxext.figures",
    "myst_nb",
    "sphinx_copybutton",
    "sphinx_design",
    # Notebook downloads, gradkit's wheel, and what computed the outputs
    "autograd_site.sphinxext.downloads",
    # The table of `make check-torch-versions` (reference/torch_versions)
    "autograd_site.sphinxext.torch_versions",
    # The notebooks in clean Markdown, with what Colab lacks; the Colab links
    "autograd_site.sphinxext.notebooks",
    # What each tutorial teaches, the pages before it, and the next one
    "autograd_site.sphinxext.reading_path",
    # A page's search keywords and weight, from the page (``.. search::``)
    "autograd_site.sphinxext.search",
    # Each gallery figure's alt text, from its script (``.. figure-alt::``)
    "autograd_site.sphinxext.alt_text",
    # The theme's icon fonts cut down to the icons the site shows
    "autograd_site.sphinxext.icons",
    "sphinxext.opengraph",
    # sitemap.xml from every document, also after an incremental build
    "autograd_site.sphinxext.sitemap",
    "notfound.extension",
    # The configuration stays as written below: no "configuration has changed" on a no-op build
    "autograd_site.sphinxext.settled_config",
]

exclude_patterns = [
    "_build",
    # text included by other pages (the gradkit install box), not a page itself
    "_snippets",
    "jupyter_execute",
    # sphinx-gallery writes an .ipynb beside each generated page for download;
    # myst-nb would otherwise parse and re-execute each of them.
    "auto_examples/**/*.ipynb",
    "auto_examples/*.ipynb",
    "**/.ipynb_checkpoints",
]

# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../gallery"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    # the reading order (autograd_site.project.GALLERY_SECTIONS): the reading path follows it
    "subsection_order": ExplicitOrder([f"../gallery/{name}" for name in GALLERY_SECTIONS]),
    "within_subsection_order": "FileNameSortKey",
    # Fresh matplotlib state, and torch's global switches back to defaults,
    # before every example (NOTE: [One way to run a page] in execution.py).
    "reset_modules": ("matplotlib", "autograd_site.sphinxext.execution.reset_torch"),
    "remove_config_comments": True,
    "download_all_examples": True,
    "only_warn_on_example_error": False,
    "abort_on_example_error": True,
    "doc_module": ("gradkit",),
    "backreferences_dir": "gen_modules/backreferences",
    # Each example's page shows its run time. No execution-time summary pages:
    # sphinx-gallery's load scripts from a CDN, and they are not pages to search.
    "min_reported_time": 0,
    "write_computation_times": False,
    "capture_repr": (),
    # the reader's page: figures also at twice the resolution (srcset), thumbnails at twice
    # the 160 x 112 px they are shown at
    "image_srcset": ["2x"],
    "thumbnail_size": (320, 224),
    # the examples run in as many processes as Sphinx has (-j auto: one per core)
    "parallel": True,
}

# -- myst-nb -----------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
# The torch release that computed the outputs, read from the build environment.
# The supported range: the releases under which `make check-torch-versions` ran every download.
myst_substitutions = {
    "torch_version": _version("torch").split("+")[0],
    "torch_range": supported_range(),
}
myst_heading_anchors = 3
# Each page in a fresh kernel of its own, whenever Sphinx reads it; a failing
# page is reported with its cell and traceback, and fails the build (NOTE: [A
# failing page fails the build] in tools/autograd_site/sphinxext/execution.py).
nb_execution_mode = "force"
nb_execution_raise_on_error = False
nb_execution_show_tb = True
nb_execution_timeout = 180
nb_execution_excludepatterns = ["auto_examples/*"]
nb_merge_streams = True

# -- autodoc -----------------------------------------------------------------
autodoc_typehints = "description"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_preprocess_types = True
napoleon_type_aliases = {"Tensor": "torch.Tensor", "Axes": "matplotlib.axes.Axes"}
# Nitpicky mode (-n, make html) resolves every cross-reference. Docstring type
# lines also hold shapes and defaults ("Tensor, shape (N, d)", "default True"):
# those words are not references.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"shape\b.*|.*[(),].*|N|d|m|k|optional|callable|file-like|default\b.*|\d.*"),
    ("py:class", r"matplotlib Axes"),
    # a private row type shown in GradientReport's field list; not part of the API
    ("py:class", r"gradkit\.checking\._InputError"),
]

# -- math: rendered at build time -------------------------------------------
# KaTeX (the npm package pinned in package-lock.json) turns every expression into
# HTML while Sphinx writes the pages (autograd_site.sphinxext.math, through Node): the
# reader's browser runs no math script, and nothing moves when fonts arrive.
# `make katex` (a prerequisite of `make html`) stages the renderer in
# _build/katex/render/ and the CSS with its woff2 fonts in _build/katex/static/katex/,
# which Sphinx copies to _static/katex/.
_KATEX_STAGE = ROOT / "_build" / "katex"
if not (_KATEX_STAGE / "static" / "katex" / "katex.min.css").is_file():
    raise RuntimeError(
        f"conf.py: KaTeX is not staged in {_KATEX_STAGE}, so no page could show math. "
        "Run 'make katex' (make html runs it), or copy that folder into this tree."
    )
html_math_renderer = "katex_at_build"
katex_render_js = str(_KATEX_STAGE / "render" / "katex.min.js")

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"Autograd by Example {release}"
# Each value below is set in its final form: Sphinx compares the configuration with the
# previous build's, and a value an extension changes while building reads as a change on
# every build (autograd_site.sphinxext.settled_config). So the folders that
# sphinx-copybutton, sphinx-design and the theme add are named here, the priority Sphinx
# gives the site's own CSS and JavaScript (800: after the extensions') is written out, and
# so is the theme's permalink icon.
html_static_path = [
    str(ROOT / "docs" / "_static"),
    str(_KATEX_STAGE / "static"),
    str(files("sphinx_copybutton") / "_static"),
    str(files("sphinx_design") / "static"),
]
templates_path = [
    str(ROOT / "docs" / "_templates"),
    str(files("pydata_sphinx_theme") / "theme" / "pydata_sphinx_theme" / "components"),
]
html_css_files = [("custom.css", {"priority": 800})]
html_js_files = [("a11y.js", {"priority": 800})]
html_permalinks_icon = "#"
# Math is rendered by KaTeX at build time, but MyST writes the MathJax classes it marks
# its pages with into this value while building: written here as MyST leaves it.
mathjax4_config = {
    "options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"},
}
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # edit and report links: docs/_templates/page-links.html (repository URL below)
    "use_edit_page_button": False,
    "icon_links": [],
    # light / dark / auto switcher, search button, and the version in the navbar
    "navbar_start": ["navbar-logo"],  # html_title carries the version
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "navbar_persistent": ["search-button"],
    # when, with which torch and Python an executed page's outputs were computed; Colab
    "article_header_end": ["computed-with"],
    "secondary_sidebar_items": ["page-toc", "page-links"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "pygments_light_style": "a11y-high-contrast-light",
    "pygments_dark_style": "a11y-high-contrast-dark",
    "analytics": {},
}
html_context = {"default_mode": "auto"}
html_show_sourcelink = True
html_favicon = "docs/_static/favicon.svg"
html_logo = "docs/_static/logo.svg"
html_theme_options["logo"] = {"text": html_title, "alt_text": ""}  # the text names the link
# A page with no pages under it has nothing for "Section Navigation": no left sidebar.
html_sidebars = {"notebook/*": []}

# -- site basics: address, repository, social cards, sitemap, 404 -------------
# Where the site is published; the sitemap, canonical links, OpenGraph and the 404 page
# are built from it.
html_baseurl = "https://autograd-by-example.github.io/autograd-by-example/"


def repository_url(pyproject: Path) -> str | None:
    """The project's repository, from ``[project.urls]["Source"]`` of pyproject.toml (or None).

    The one place the repository's address is set: the "Edit this page" and "Report a
    problem with this page" links are built from it, and left out when it is not set.
    """
    with pyproject.open("rb") as file:
        urls = tomllib.load(file).get("project", {}).get("urls", {})
    url = (urls.get("Source") or "").strip().rstrip("/")
    return url or None


REPOSITORY = repository_url(ROOT / "pyproject.toml")
REPOSITORY_BRANCH = "main"
# The "Run this page in Google Colab" links (autograd_site.sphinxext.notebooks) too.
autograd_site_repository = REPOSITORY


def page_source(pagename: str, source_suffix: str | None) -> str | None:
    """The repository file a page is built from, or None for generated pages."""
    parts = pagename.split("/")
    if parts[0] == "auto_examples":  # sphinx-gallery: gallery/<section>/<script>.py
        rest = parts[1:]
        if rest and rest[-1] == "index":
            candidate = Path("gallery", *rest[:-1], "README.rst")
        elif rest and rest[-1].startswith("plot_"):
            candidate = Path("gallery", *rest).with_suffix(".py")
        else:
            return None  # execution times and other generated lists
    elif parts[0] == "gen_modules" or not source_suffix:
        return None
    else:
        candidate = Path("docs", pagename + source_suffix)
    return candidate.as_posix() if (ROOT / candidate).is_file() else None


def page_links(repository: str | None, pagename: str, source_suffix: str | None,
               title: str) -> dict:
    """``edit_url`` and ``report_url`` of a page: None without a repository or a source."""
    if repository is None:
        return {"edit_url": None, "report_url": None}
    source = page_source(pagename, source_suffix)
    page_url = html_baseurl + pagename + ".html"
    body = f"Page: {page_url}\n\nWhat is wrong, and what did you expect?\n"
    return {
        "edit_url": f"{repository}/edit/{REPOSITORY_BRANCH}/{source}" if source else None,
        "report_url": f"{repository}/issues/new?"
        + urlencode({"title": f"Problem on page: {title}", "body": body}),
    }


ogp_site_url = html_baseurl
ogp_site_name = project
ogp_social_cards = {"enable": False}  # no generated images; the build stays offline and quick
ogp_enable_meta_description = True  # <meta name="description"> from each page's first paragraph

sitemap_excludes = ["search.html", "genindex.html", "py-modindex.html", "404.html",
                    "*sg_execution_times.html"]

notfound_urls_prefix = urlsplit(html_baseurl).path

# -- copy button: copy code, not prompts or outputs ---------------------------
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False
copybutton_exclude = ".linenos, .gp, .go"

# -- intersphinx: inventories are committed, the build never goes online ------
# Generated from the installed packages by `make inventories`
# (tools/autograd_site/cli/make_inventories.py); the URLs are where the links point.
_INV = ROOT / "docs" / "_inventories"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", str(_INV / "python.inv")),
    "torch": ("https://docs.pytorch.org/docs/stable/", str(_INV / "torch.inv")),
    "numpy": ("https://numpy.org/doc/stable/", str(_INV / "numpy.inv")),
    "matplotlib": ("https://matplotlib.org/stable/", str(_INV / "matplotlib.inv")),
}
intersphinx_timeout = 1  # only local files are read; never wait on a network
intersphinx_cache_limit = -1


# -- per-page HTML: what each page loads -------------------------------------


# Stylesheets that no page of this site uses: sphinx-gallery's binder badges, pandas
# tables and rich HTML reprs (capture_repr is empty).
_UNUSED_CSS = {"sg_gallery-binder.css", "sg_gallery-dataframe.css", "sg_gallery-rendered-html.css"}


# -- exercise solutions: a section each, collapsed in the browser --------------------
# A solution is a section headed "Solution to exercise N" (a MyST-NB page with a single
# exercise: "Solution to the exercise"), so the page, the .py and the .ipynb all read
# cleanly and show it; docs/_static/solutions.js folds each such section into a
# "Show the solution" disclosure. (The pattern is repeated there.)
SOLUTION_TITLE = r"Solution to (exercise \d+|the exercise)"


def has_solutions(doctree) -> bool:
    """Whether a page has a section headed like an exercise's solution."""
    import re

    from docutils import nodes

    return any(
        isinstance(title.parent, nodes.section) and re.fullmatch(SOLUTION_TITLE, title.astext())
        for title in doctree.findall(nodes.title)
    )


def _page_assets(app, pagename, templatename, context, doctree):
    """Each page loads what it shows (sphinx-design's CSS only with its components, the
    solutions' script only with exercise solutions; KaTeX's CSS is left out by
    autograd_site.sphinxext.math); edit and report links."""
    context.update(page_links(REPOSITORY, pagename, context.get("page_source_suffix"),
                              context.get("title") or project))
    if 'name="description"' not in context.get("metatags", ""):
        # pages without a first paragraph of their own (search, the general index)
        title = context.get("title") or project
        context["metatags"] = (context.get("metatags", "")
                               + f'<meta name="description" content="{title} - {project}: '
                               'PyTorch autograd taught through checked examples.">\n')
    unused = set(_UNUSED_CSS)
    if "sd-" not in context.get("body", ""):
        unused.add("sphinx-design.min.css")
    context["css_files"] = [
        css for css in context.get("css_files", []) if not css.filename.endswith(tuple(unused))
    ]
    # The theme's theme.css only @imports basic.css: fetch it at once instead of one round
    # trip later.
    basic = context["pathto"]("_static/basic.css", 1)
    context["metatags"] = (context.get("metatags", "")
                           + f'<link rel="preload" href="{basic}" as="style">\n')
    if doctree is not None and has_solutions(doctree):
        app.add_js_file("solutions.js", loading_method="defer")


# The theme's head script sets data-theme to "auto" and its main script, run after the page
# is parsed, turns that into "light" or "dark": every element of the page is styled twice
# (up to 0.8 s of blocking time on Lighthouse's phone for the longest pages). This inline script,
# placed after the stylesheets in <head>, settles it before the first paint with the
# theme's own rule (the stored mode, else the reader's colour scheme); the theme's script
# then finds nothing to change. ``data-cfasync="false"`` like the theme's own switch:
# it must run before the page is drawn (the Lighthouse check allows exactly these).
COLOR_SCHEME_JS = (
    "(function (root) {"
    " if (root.dataset.theme === 'light' || root.dataset.theme === 'dark') return;"
    " var mode = root.dataset.mode;"
    " root.dataset.theme = mode === 'light' || mode === 'dark' ? mode"
    " : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';"
    " })(document.documentElement);"
)


def setup(app):
    app.add_js_file(None, body=COLOR_SCHEME_JS, priority=100, **{"data-cfasync": "false"})
    app.connect("html-page-context", _page_assets)
