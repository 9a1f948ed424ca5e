"""Sphinx configuration for Autograd by Example.

Build with ``sphinx-build -c . docs _build/html`` (``make html`` does it).
"""

from importlib.metadata import version as _version
from pathlib import Path

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
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    "myst_nb",
    "sphinx_copybutton",
    "sphinx_design",
    # Notebook downloads, gradkit's wheel, and what computed the outputs
    "autograd_site.sphinxext.downloads",
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
    "_snippets",  # pieces included into pages, not pages
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
}

# -- myst-nb -----------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
# The torch release that computed the outputs, read from the build environment.
myst_substitutions = {"torch_version": _version("torch").split("+")[0]}
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

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
templates_path = ["docs/_templates"]
html_title = f"Autograd by Example {release}"
# MathJax is served by the site itself: `make mathjax` (a prerequisite of `make html`)
# installs the npm package pinned in package-lock.json and stages the files used
# into _build/mathjax/mathjax/, which Sphinx copies to _static/mathjax/.
_MATHJAX_STAGE = ROOT / "_build" / "mathjax"
if not (_MATHJAX_STAGE / "mathjax" / "tex-chtml.js").is_file():
    raise RuntimeError(
        f"conf.py: MathJax is not staged in {_MATHJAX_STAGE}, so no page could show math. "
        "Run 'make mathjax' (make html runs it), or copy that folder into this tree."
    )
html_static_path = [str(ROOT / "docs" / "_static"), str(_MATHJAX_STAGE)]
html_css_files = ["custom.css"]
html_js_files = ["a11y.js"]
mathjax_path = "mathjax/tex-chtml.js"
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
    # which torch and Python computed an executed page's outputs
    "article_header_end": ["computed-with"],
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
