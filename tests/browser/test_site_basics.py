"""What every page carries besides its content: head tags, links to the repository,
the 404 page, the sitemap, and plain-text attributes (gallery card tooltips, alt text).

These read the built HTML (``make html``) and the configuration; ``make test-browser``
runs them with the browser tests.
"""

from __future__ import annotations

import html
import re
import runpy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser_support import ROOT, SITE, site_pages

PAGES = site_pages()
# What a gallery card's tooltip must not hold: TeX (backslashes, $, ^, _{), reST left over
# (backticks, :role:, |substitution|) or a link target's label.
TOOLTIP_MARKUP = r"[\\$^`|]|_\{|:[a-z]+:|\bexample-[a-z-]+"


@pytest.fixture(scope="module")
def conf():
    if not (SITE / "index.html").is_file():
        pytest.skip("no built site")
    return runpy.run_path(str(ROOT / "conf.py"))


class _Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta, self.links, self.anchors, self.images, self.tooltips = {}, [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("name") or attrs.get("property")
            if key:
                self.meta[key] = attrs.get("content", "")
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "a":
            self.anchors.append(attrs)
        elif tag == "img":
            self.images.append(attrs)
        if "tooltip" in attrs:
            self.tooltips.append(attrs["tooltip"])


def _parse(page_name: str) -> _Head:
    parser = _Head()
    parser.feed((SITE / page_name).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("page_name", PAGES)
def test_head_and_attributes(page_name, conf):
    head = _parse(page_name)
    problems = []
    if len(head.meta.get("description", "")) < 20:
        problems.append(f"meta description missing or short: {head.meta.get('description')!r}")
    for key in ("og:title", "og:url", "og:type"):
        if key not in head.meta:
            problems.append(f"no {key}")
    if not head.meta.get("og:url", "").startswith(conf["html_baseurl"]):
        problems.append(f"og:url not under {conf['html_baseurl']}: {head.meta.get('og:url')}")
    icons = [link for link in head.links if "icon" in (link.get("rel") or "")]
    if not icons:
        problems.append("no favicon link")
    for text in [img.get("alt") or "" for img in head.images]:
        if re.search(r"\\[A-Za-z]+|\$|\^\{", text):
            problems.append(f"LaTeX in an alt text: {text[:80]!r}")
    for text in head.tooltips:
        # straight from sphinx-gallery: the script's first paragraph, roles and literals
        # removed; math it held would show as its LaTeX source (x^2, \frac, ...)
        if re.search(TOOLTIP_MARKUP, text):
            problems.append(f"math or reST markup in a gallery card tooltip: {text[:120]!r} "
                            "(keep math out of the script's first paragraph)")
    assert not problems, f"{page_name}: " + "; ".join(problems)


def _words(text: str) -> list[str]:
    """The words of a text, reST markup aside (role names, link targets, ~ prefixes)."""
    text = re.sub(r"\s*<[^<>`]*>`", "`", text)  # :ref:`title <target>` -> title
    text = re.sub(r"`~[\w.]*\.(\w+)", r"`\1", text)  # :meth:`~a.b.c` -> c
    text = re.sub(r":[a-z]+(?::[a-z]+)*:`", "`", text)  # the role's name
    return re.findall(r"[A-Za-z0-9]+", text)


def test_gallery_card_tooltips_are_the_scripts_first_paragraphs():
    """Each card's tooltip is sphinx-gallery's, untouched: its script's first paragraph after
    the title, word for word (markup aside). TOOLTIP_MARKUP above checks it is plain text."""
    from autograd_site.project import gallery_intro, gallery_scripts

    index = SITE / "auto_examples" / "index.html"
    if not index.is_file():
        pytest.skip("no built site")
    cards = dict(
        (href, html.unescape(tooltip))
        for tooltip, href in re.findall(
            r'class="sphx-glr-thumbcontainer"[^>]* tooltip="([^"]*)">.*?'
            r'<a class="reference internal" href="([^"#]+)\.html',
            index.read_text(encoding="utf-8"),
            flags=re.DOTALL,
        )
    )
    scripts = gallery_scripts()
    assert scripts
    for script in scripts:
        key = script.relative_to(ROOT / "gallery").with_suffix("").as_posix()
        assert key in cards, f"no card for {key} on auto_examples/index.html"
        assert _words(cards[key]) == _words(gallery_intro(script)), (key, cards[key])


def test_favicon_and_logo_exist():
    assert (SITE / "_static" / "favicon.svg").is_file()
    assert (SITE / "_static" / "logo.svg").is_file()


def test_repository_links_follow_pyproject(conf, tmp_path):
    """Edit and report links come from [project.urls] Source, and vanish without it."""
    without = tmp_path / "without.toml"
    without.write_text('[project]\nname = "x"\n')
    with_source = tmp_path / "with.toml"
    with_source.write_text('[project]\nname = "x"\n[project.urls]\n'
                           'Source = "https://github.com/owner/repo/"\n')
    assert conf["repository_url"](without) is None
    repo = conf["repository_url"](with_source)
    assert repo == "https://github.com/owner/repo"

    none = conf["page_links"](None, "auto_examples/basics/plot_04_leaf_tensors", ".rst", "T")
    assert none == {"edit_url": None, "report_url": None}
    links = conf["page_links"](repo, "auto_examples/basics/plot_04_leaf_tensors", ".rst", "T")
    assert links["edit_url"] == f"{repo}/edit/main/gallery/basics/plot_04_leaf_tensors.py"
    assert links["report_url"].startswith(f"{repo}/issues/new?title=")
    assert "plot_04_leaf_tensors.html" in links["report_url"]
    howto = conf["page_links"](repo, "howto/check_gradients", ".md", "T")
    assert howto["edit_url"] == f"{repo}/edit/main/docs/howto/check_gradients.md"
    generated = conf["page_links"](repo, "auto_examples/basics/sg_execution_times", ".rst", "T")
    assert generated["edit_url"] is None and generated["report_url"]
    # every edit link points at a file of this repository
    for page_name in PAGES:
        docname = page_name.removesuffix(".html")
        for suffix in (".md", ".rst"):
            source = conf["page_source"](docname, suffix)
            assert source is None or (ROOT / source).is_file(), (page_name, source)

    # the built pages: links exactly when this checkout sets the repository
    expected = conf["REPOSITORY"]
    for page_name in ("index.html", "auto_examples/basics/plot_04_leaf_tensors.html",
                      "howto/check_gradients.html"):
        hrefs = [a.get("href") or "" for a in _parse(page_name).anchors]
        report = [h for h in hrefs if "/issues/new?" in h]
        edit = [h for h in hrefs if "/edit/" in h]
        if expected is None:
            assert not report and not edit, (page_name, report, edit)
        else:
            assert report and report[0].startswith(expected), (page_name, report)
            assert edit and edit[0].startswith(expected), (page_name, edit)


def test_not_found_page(conf):
    """404.html uses absolute links under the site's path, each to a file that exists."""
    prefix = conf["notfound_urls_prefix"]
    assert prefix == "/autograd-by-example/"
    page = _parse("404.html")
    local = [link.get("href") for link in page.links if link.get("rel") == "stylesheet"]
    local += [a.get("href") for a in page.anchors if (a.get("href") or "").startswith("/")]
    assert local
    for href in local:
        assert href.startswith(prefix), href
        target = SITE / href[len(prefix):].split("?")[0].split("#")[0]
        assert target.is_file() or (target / "index.html").is_file(), href


def test_sitemap_lists_pages_not_generated_lists(conf):
    sitemap = (SITE / "sitemap.xml").read_text()
    urls = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert conf["html_baseurl"] + "auto_examples/basics/plot_04_leaf_tensors.html" in urls
    assert not [u for u in urls if "sg_execution_times" in u or u.endswith("search.html")]
    for url in urls:
        assert (SITE / url[len(conf["html_baseurl"]):]).is_file(), url


def test_mathjax_is_gone():
    assert not (SITE / "_static" / "mathjax").exists()
    assert (SITE / "_static" / "katex" / "katex.min.css").is_file()
    assert list((SITE / "_static" / "katex" / "fonts").glob("*.woff2"))
    assert Path(SITE / "_static" / "math.css").is_file()


def test_gallery_figures_say_what_they_show():
    """No gallery figure's alt text is sphinx-gallery's file-name fallback ("plot 07 ...").

    (MyST-NB figures take theirs from their cells' metadata; tests/site/test_images.py
    checks every image of the site.)"""
    fallback = []
    for page_name in PAGES:
        if not page_name.startswith("auto_examples/"):
            continue
        for img in _parse(page_name).images:
            classes = img.get("class") or ""
            if "sphx-glr-single-img" in classes or "sphx-glr-multi-img" in classes:
                alt = img.get("alt") or ""
                if len(alt) < 10 or re.match(r"plot \d\d ", alt):
                    fallback.append(f"{page_name}: {img.get('src')}: {alt!r}")
    assert not fallback, "\n".join(fallback)
