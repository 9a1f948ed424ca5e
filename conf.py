"""Sphinx configuration for Autograd by Example.

Build with ``sphinx-build -c . docs _build/html`` (``make html`` does it).
"""

import sys
from importlib.metadata import version as _version
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from sphinx_gallery.sorting import ExplicitOrder  # noqa: E402

project = "Autograd by Example"
author = "Autograd by Example contributors"
copyright = "2026, " + author
release = _version("gradkit")  # read from the installed metadata: conf.py must not import torch
version = release

extensions = [
    # First: it starts executing the MyST-NB pages while the others load (see
    # NOTE: [Notebooks in parallel] in docs/_ext/site_hooks.py).
    "site_hooks",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinxcontrib.katex",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    "myst_nb",
    "sphinx_copybutton",
    "sphinx_design",
    "nb_downloads",
]

exclude_patterns = [
    "_build",
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
    "subsection_order": ExplicitOrder(
        [
            "../gallery/basics",
            "../gallery/vectors",
            "../gallery/tracking",
            "../gallery/training",
            "../gallery/jacobians",
            "../gallery/extending",
            "../gallery/pinns",
        ]
    ),
    "within_subsection_order": "FileNameSortKey",
    # Fresh matplotlib state, and torch's global switches back to defaults,
    # before every example (see docs/_ext/site_hooks.py).
    "reset_modules": ("matplotlib", "site_hooks.reset_torch"),
    "remove_config_comments": True,
    "download_all_examples": True,
    "only_warn_on_example_error": False,
    "abort_on_example_error": True,
    "doc_module": ("gradkit",),
    "backreferences_dir": "gen_modules/backreferences",
    "min_reported_time": 0,
    # Show each example's run time even though the Makefile sets SOURCE_DATE_EPOCH
    # (sphinx-gallery hides times then); the reproducibility check ignores them.
    "write_computation_times": True,
    "capture_repr": (),
}

# -- myst-nb -----------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
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
# HTML while Sphinx writes the pages, through sphinxcontrib-katex and Node: the
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
katex_prerender = True
katex_js_path = str(_KATEX_STAGE / "render" / "katex.min.js")
katex_css_path = "katex/katex.min.css"

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"Autograd by Example {release}"
html_static_path = [str(ROOT / "docs" / "_static"), str(_KATEX_STAGE / "static")]
templates_path = [str(ROOT / "docs" / "_templates")]
html_css_files = ["custom.css"]
html_js_files = ["a11y.js"]
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "use_edit_page_button": True,
    "icon_links": [],
    # light / dark / auto switcher, search button, and the version in the navbar
    "navbar_start": ["navbar-logo"],  # html_title carries the version
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "navbar_persistent": ["search-button"],
    "secondary_sidebar_items": ["page-toc", "edit-this-page", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "pygments_light_style": "a11y-high-contrast-light",
    "pygments_dark_style": "a11y-high-contrast-dark",
    "analytics": {},
}
html_context = {
    "github_user": "autograd-by-example",
    "github_repo": "autograd-by-example",
    "github_version": "main",
    "doc_path": "docs",
    "default_mode": "auto",
}
html_show_sourcelink = True

# -- copy button: copy code, not prompts or outputs ---------------------------
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False
copybutton_exclude = ".linenos, .gp, .go"

# -- intersphinx: inventories are committed, the build never goes online ------
# Generated from the installed packages by `make inventories`
# (docs/_ext/make_inventories.py); the URLs are where the links point.
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
_KATEX_CSS = {katex_css_path, "katex-math.css"}
# The fonts almost every expression uses, fetched with the CSS rather than after it
_KATEX_PRELOAD = ("KaTeX_Main-Regular.woff2", "KaTeX_Math-Italic.woff2")


def _page_assets(app, pagename, templatename, context, doctree):
    """KaTeX's CSS and fonts only on pages that show math."""
    has_math = context.get("has_maths_elements") or app.env.get_domain("math").has_equations(
        pagename
    )
    if not has_math:
        context["css_files"] = [
            css for css in context.get("css_files", []) if css.filename not in _KATEX_CSS
        ]
        return
    fonts = "".join(
        f'<link rel="preload" href="{context["pathto"]("_static/katex/fonts/" + name, 1)}"'
        ' as="font" type="font/woff2" crossorigin>\n'
        for name in _KATEX_PRELOAD
    )
    context["metatags"] = context.get("metatags", "") + fonts


def _katex_server_before_fork(app):
    """Start KaTeX's render server in the main process, before Sphinx forks its writers.

    sphinxcontrib-katex keeps one server and one socket per process; a forked writer would
    share the main process's socket, and two writers reading one socket may swap
    answers. After a fork each child opens its own connection to the same server (it
    serves each connection on its own), and the main process stops the server at exit.
    """
    from sphinxcontrib.katex import KaTeXServer

    if app.builder.format == "html" and app.config.katex_prerender:
        KaTeXServer.get()


def _katex_connection_per_process():
    import socket

    from sphinxcontrib.katex import KaTeXServer

    shared = KaTeXServer.katex_server
    if shared is None:
        return
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(shared.rundir / "katex.sock"))
    KaTeXServer.katex_server = KaTeXServer(shared.rundir, shared.process, sock)


def setup(app):
    import os

    app.connect("builder-inited", _katex_server_before_fork, priority=900)
    app.connect("html-page-context", _page_assets)
    if os.name == "posix":  # KaTeX's server listens on a Unix socket there
        os.register_at_fork(after_in_child=_katex_connection_per_process)
