"""What a page tells the search: its subjects and the weight of its text, in the page itself.

The search page queries a Pagefind index (Makefile; ``docs/_static/pagefind-search.js``).
A page names its subjects with the ``search`` directive, in a gallery script's docstring
(after its ``.. reading-path::`` block) or anywhere in a MyST page::

    .. search::
       :keywords: leaf, leaf tensor, retain_grad

    ```{search}
    :weight: 0.3
    ```

``:keywords:`` (comma-separated): a query that is one of them puts the page first
(Pagefind meta "keywords", written by ``docs/_templates/layout.html``, ";"-separated).
(They are not entries of the general index: the index nodes conf.py used to add for them
came after Sphinx had collected the page's entries, so the site never showed them.)
``:weight:``: Pagefind's
weight of the page's text (default 1; the glossary, which defines every word in a line,
is lowered so that the page that teaches a topic comes first). The directive shows
nothing on the page and nothing in the notebook. A second ``search`` on one page, an
empty option or a ``;`` in a keyword fails the build, naming the page.
"""

from __future__ import annotations

from fnmatch import fnmatch

from docutils.parsers.rst import Directive, directives

KEYWORDS = "search_keywords"  # env.metadata keys: the ";"-separated keywords, the weight
WEIGHT = "search_weight"
SEPARATOR = "; "  # between keywords in Pagefind's meta (pagefind-search.js splits on ";")


def keyword_list(value: str) -> list[str]:
    """The ``:keywords:`` option as a list (comma-separated; line breaks are spaces)."""
    return [" ".join(word.split()) for word in value.split(",") if word.strip()]


def page_weight(value: str) -> float:
    """The ``:weight:`` option: a number above 0 (Pagefind's weight of the page's text)."""
    weight = float(value)
    if not weight > 0:
        raise ValueError(f"the weight must be above 0, not {value}")
    return weight


class Search(Directive):
    """``.. search::`` with ``:keywords:`` and/or ``:weight:``; records both for the page."""

    option_spec = {"keywords": directives.unchanged_required, "weight": page_weight}

    def run(self):
        env = self.state.document.settings.env
        metadata = env.metadata[env.docname]
        if KEYWORDS in metadata or WEIGHT in metadata:
            raise self.error("search: one 'search' directive per page; put every keyword "
                             "and the weight in it")
        if not self.options:
            raise self.error("search: give :keywords: (comma-separated) and/or :weight:")
        words = keyword_list(self.options.get("keywords", ""))
        if bad := [word for word in words if ";" in word]:
            raise self.error(f"search: a keyword may not hold ';' (Pagefind's meta separates "
                             f"keywords with it): {bad}")
        if "keywords" in self.options and not words:
            raise self.error("search: :keywords: is empty")
        if words:
            metadata[KEYWORDS] = SEPARATOR.join(words)
        if "weight" in self.options:
            metadata[WEIGHT] = str(self.options["weight"])
        return []


def _search_context(app, pagename, templatename, context, doctree):
    """What layout.html gives Pagefind: whether the page is indexed (not a generated
    list: ``sitemap_excludes``), its keywords and the weight of its text."""
    metadata = app.env.metadata.get(pagename, {})
    context["searchable"] = not any(fnmatch(f"{pagename}.html", pattern)
                                    for pattern in app.config.sitemap_excludes)
    context["search_keywords"] = metadata.get(KEYWORDS, "")
    context["search_weight"] = metadata.get(WEIGHT)


def setup(app):
    app.setup_extension("autograd_site.sphinxext.sitemap")  # sitemap_excludes: not indexed
    app.add_directive("search", Search)
    app.connect("html-page-context", _search_context)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
