"""The built site, as a reader's browser sees it (Chromium via Playwright, axe-core).

For every page: it loads with no console error and no failed request, makes no
request outside 127.0.0.1, every image has loaded, every math expression arrived
rendered by KaTeX at build time (no raw TeX, no KaTeX error, no math script), every
icon has its glyph in the site's cut-down icon fonts (the full ones are never fetched),
nothing shifts while it loads, every output block is non-empty, and axe-core finds no serious
or critical violation, in light and in dark mode.

Across the site: search finds the leaf-tensor page for "retain_grad", every
download link returns its file (each ``.py`` byte-identical to its gallery
source), and the dark-mode toggle changes the theme and persists on the next page.

Run with ``make test-browser`` (needs ``make html`` and chromium); skipped by
``make test`` when the site or chromium is missing. See conftest.py.
"""

from __future__ import annotations

import functools
import re
import urllib.request
from urllib.parse import urljoin

import pytest
from autograd_site.sphinxext.icons import STYLESHEET, font_faces
from browser_support import ARTIFACTS, ROOT, SITE, search_results, site_pages

PAGES = site_pages()
SERIOUS = ("serious", "critical")
# No axe rule is disabled. (Write the reason here if one ever has to be.)
AXE_OPTIONS = {"resultTypes": ["violations"]}

WAIT_READY = """async () => {
  // every image, lazy ones included, loaded or failed
  for (const img of document.images) { img.loading = "eager"; }
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(resolve => { img.addEventListener("load", resolve);
                               img.addEventListener("error", resolve); })));
  await document.fonts.ready;
  return true;
}"""

PAGE_FACTS = r"""() => {
  const text_outside_code = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body,
                                           NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(
          "pre, code, script, style, textarea, .katex, .highlight, kbd"))
      continue;
    text_outside_code.push(node.textContent);
  }
  const mathEls = [...document.querySelectorAll(".math")];
  return {
    brokenImages: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                      .map(i => i.currentSrc || i.src),
    imageCount: document.images.length,
    mathCount: mathEls.length,
    katexCount: document.querySelectorAll(".katex").length,
    untypeset: mathEls.filter(el => !el.querySelector(".katex"))
                      .map(el => el.textContent.slice(0, 80)),
    katexErrors: [...document.querySelectorAll(".katex-error")]
        .map(el => el.getAttribute("title") || el.textContent.slice(0, 80)),
    mathScripts: [...document.scripts].map(el => el.src)
        .filter(src => /mathjax|katex|tex-(chtml|svg|mml)/i.test(src)),
    text: text_outside_code.join(" "),
    emptyOutputs: [...document.querySelectorAll(".sphx-glr-script-out pre, .cell_output")]
        .filter(el => el.textContent.trim() === "" && !el.querySelector("img, svg, table"))
        .map(el => el.className),
    outputCount: document.querySelectorAll(".sphx-glr-script-out pre, .cell_output").length,
    theme: document.documentElement.dataset.theme,
    // every icon glyph the page can draw: [font family, weight, code point]
    icons: [...document.querySelectorAll("*")].flatMap(el => [null, "::before", "::after"]
        .map(pseudo => getComputedStyle(el, pseudo))
        .filter(style => /Font Awesome/.test(style.fontFamily)
                         && /^"[\ue000-\uf8ff]/.test(style.content))
        .map(style => [style.fontFamily.replace(/"/g, ""), style.fontWeight,
                       style.content.codePointAt(1)])),
    // preloaded KaTeX fonts that no text on the page uses (wasted bytes on a phone)
    unusedPreloads: [...document.querySelectorAll('link[rel="preload"][as="font"]')]
        .map(link => link.href.split("/").pop().replace(".woff2", ""))
        .filter(name => name.startsWith("KaTeX_"))  // (the icons' font: checked by `icons`)
        .filter(name => {
          const [family, variant] = name.split("-");
          const weight = variant.startsWith("Bold") ? "700" : "400";
          const style = variant.endsWith("Italic") ? "italic" : "normal";
          return ![...document.fonts].some(face => face.family.replace(/"/g, "") === family
              && face.weight === weight && face.style === style && face.status === "loaded");
        }),
    fullIconFonts: performance.getEntriesByType("resource").map(entry => entry.name)
        .filter(name => name.includes("/vendor/fontawesome/webfonts/")),
  };
}"""

RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|(?<![\w$])\$[^\s$][^$\n]{0,200}?[\\^_=][^$\n]*?\$")


# Layout shift as the reader gets it: the page, its fonts and the images in view, before
# the test forces lazy images in (Lighthouse's CLS covers the mobile viewport).
LAYOUT_SHIFT = """async () => {
  await document.fonts.ready;
  await new Promise(resolve => setTimeout(resolve, 300));
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  await new Promise(resolve => setTimeout(resolve, 50));
  return total;
}"""
# Recorded per page in the summary, not asserted here: make test-lighthouse judges layout
# shift the way Lighthouse measures it (a throttled phone).


# The cut-down icon fonts written by autograd_site.sphinxext.icons, by family and weight,
# as docs/_static/icons.css declares them
ICON_FONTS = {(family, weight): stem for family, weight, stem in font_faces(
    (ROOT / "docs" / "_static" / STYLESHEET).read_text(encoding="utf-8"))}


@functools.cache
def _icon_glyphs(stem):
    from fontTools.ttLib import TTFont

    return set(TTFont(SITE / "_static" / "icons" / f"{stem}.woff2").getBestCmap())


def missing_icon_glyphs(icons):
    """The [family, weight, code point] of icons whose cut-down font lacks the glyph."""
    missing = []
    for family, weight, codepoint in icons:
        stem = ICON_FONTS.get((family.split(",")[0].strip(), str(weight)))
        if stem is None or codepoint not in _icon_glyphs(stem):
            missing.append([family, weight, hex(codepoint)])
    return missing


# Lazy figures a reader sees without scrolling (they would arrive only after the page's
# layout, late for the largest paint): every figure is lazy (figures.py, MyST-NB) because
# each follows its page's opening text and code; one that moves into the first screen fails.
# (The gallery cards' thumbnails are decorative and lazy by Sphinx's default.)
LAZY_IN_FIRST_SCREEN = """() => [...document.images]
  .filter(img => img.loading === "lazy" && !img.closest(".sphx-glr-thumbcontainer")
                 && img.getBoundingClientRect().top < innerHeight
                 && img.getBoundingClientRect().height > 0)
  .map(img => img.getAttribute("src"))"""


def _load(page, url):
    """Open ``url``, wait for every image and font; return the layout shift while loading
    and the lazy images in the first screen."""
    page.goto(url, wait_until="load")
    shift = page.evaluate(LAYOUT_SHIFT)
    lazy_in_view = page.evaluate(LAZY_IN_FIRST_SCREEN)
    page.evaluate(WAIT_READY)
    page.wait_for_load_state("networkidle")
    return shift, lazy_in_view


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) x{len(v['nodes'])}: "
        + "; ".join(str(n["target"]) for n in v["nodes"][:4])
        for v in violations
    ], violations


def _record_axe(summary, page_name, mode, violations):
    counts = summary["axe"].setdefault(mode, {})
    for v in violations:
        counts[v["impact"] or "none"] = counts.get(v["impact"] or "none", 0) + 1
        rules = summary.setdefault("axe_rules", {})
        rules.setdefault(f"{mode}:{v['impact']}:{v['id']}", []).append(page_name)


@pytest.mark.parametrize("page_name", PAGES)
def test_page(page_name, new_page, base_url, summary):
    url = urljoin(base_url, page_name)
    problems = []
    record = summary["pages"].setdefault(page_name, {})
    for mode in ("light", "dark"):
        page, rec = new_page(color_scheme=mode, storage_mode=mode)
        shift, lazy_in_view = _load(page, url)
        facts = page.evaluate(PAGE_FACTS)
        assert facts["theme"] == mode, f"{mode} mode did not apply: data-theme={facts['theme']}"
        if mode == "light":
            if lazy_in_view:
                problems.append(f"lazy images in the first screen: {lazy_in_view}")
            if facts["brokenImages"]:
                problems.append(f"images not loaded: {facts['brokenImages']}")
            if facts["untypeset"]:
                problems.append(f"math not typeset: {facts['untypeset'][:5]}")
            if facts["mathCount"] and not facts["katexCount"]:
                problems.append("page has math but no KaTeX output")
            if facts["katexErrors"]:
                problems.append(f"KaTeX could not render: {facts['katexErrors'][:5]}")
            if facts["mathScripts"]:
                problems.append(f"math is typeset in the browser: {facts['mathScripts']}")
            raw = RAW_MATH.findall(facts["text"])
            if raw:
                problems.append(f"raw TeX left in the text: {raw[:5]}")
            missing = missing_icon_glyphs(facts["icons"])
            if missing:
                problems.append(f"icons without a glyph in _static/icons/: {missing[:5]}")
            if facts["unusedPreloads"]:
                problems.append(f"fonts preloaded but not used: {facts['unusedPreloads']}")
            if facts["fullIconFonts"]:
                problems.append(f"the theme's full icon fonts were fetched: "
                                f"{facts['fullIconFonts']}")
            if facts["emptyOutputs"]:
                problems.append(f"empty output blocks: {facts['emptyOutputs']}")
            record.update(images=facts["imageCount"], math=facts["katexCount"],
                          layout_shift=round(shift, 4),
                          outputs=facts["outputCount"])
        # what the page itself did; axe's own work below is the test's, not the reader's
        # (axe re-fetches stylesheets and resolves their @imports against the page)
        console_errors, failed = list(rec.console_errors), list(rec.failed)
        messages, violations = _axe(page)
        _record_axe(summary, page_name, mode, violations)
        serious = [m for m, v in zip(messages, violations, strict=True) if v["impact"] in SERIOUS]
        if serious:
            problems.append(f"axe ({mode}): " + " | ".join(serious))
        if console_errors:
            problems.append(f"console errors ({mode}): {console_errors}")
        if failed:
            problems.append(f"failed requests ({mode}): {failed}")
        if rec.blocked:
            problems.append(f"requests outside 127.0.0.1 ({mode}): {sorted(set(rec.blocked))}")
        record[mode] = {"console_errors": len(console_errors), "failed": len(failed),
                        "blocked": len(rec.blocked),
                        "axe": {i: sum(v["impact"] == i for v in violations)
                                for i in ("minor", "moderate", "serious", "critical")}}
        page.context.close()
    assert not problems, f"{page_name}:\n  " + "\n  ".join(problems)


def test_site_has_pages(need_browser):
    assert "index.html" in PAGES
    assert "auto_examples/basics/plot_04_leaf_tensors.html" in PAGES


# Each query and the page it must put first (tests/browser: the search page as a reader
# uses it): the site's own terms; learners' phrasings are in learner_queries.py. A new
# chapter adds its query here, and its subjects to its own ``.. search::`` block.
SEARCH_FIRST_HIT = {
    "retain_grad": ("auto_examples/basics/plot_04_leaf_tensors.html",),
    "leaf": ("auto_examples/basics/plot_04_leaf_tensors.html",),
    "vjp": ("auto_examples/vectors/plot_06_vector_jacobian_product.html",),
    "vector-Jacobian product": ("auto_examples/vectors/plot_06_vector_jacobian_product.html",),
    "create_graph": ("auto_examples/basics/plot_05_higher_order_derivatives.html",),
    "inference_mode": ("auto_examples/tracking/plot_10_no_grad_and_inference_mode.html",),
    "Laplacian": ("reference/gradkit.html", "auto_examples/pinns/plot_18_poisson_2d.html"),
    "forward mode": ("auto_examples/jacobians/plot_15_forward_mode.html",),
    "custom autograd Function": ("auto_examples/extending/plot_16_custom_autograd_function.html",),
    "hooks": ("auto_examples/training/plot_12_gradient_hooks.html",),
}


SEARCH_SUMMARY: dict = {}


@pytest.mark.parametrize("query", sorted(SEARCH_FIRST_HIT))
def test_search_first_hit(query, new_page, base_url):
    page, rec = new_page()
    hrefs = search_results(page, base_url, query)
    SEARCH_SUMMARY[query] = hrefs[:5]
    ARTIFACTS.mkdir(exist_ok=True)
    import json

    (ARTIFACTS / "search-results.json").write_text(json.dumps(SEARCH_SUMMARY, indent=1))
    assert hrefs, f"no result for {query!r}"
    assert hrefs[0] in SEARCH_FIRST_HIT[query], f"{query!r}: first hits {hrefs[:5]}"
    assert not rec.blocked and not rec.console_errors and not rec.failed


def test_search_leaves_out_generated_pages(new_page, base_url):
    """Execution-time tables are not pages to find."""
    page, _ = new_page()
    for query in ("execution", "computation times", "plot_04_leaf_tensors"):
        hrefs = search_results(page, base_url, query)
        assert not [h for h in hrefs if "sg_execution_times" in h], (query, hrefs)


def _download_links():
    """(page, href) of every download link on the site."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            classes = (attrs.get("class") or "").split()
            if tag == "a" and attrs.get("href") and (
                "download" in classes or "download" in attrs
                or re.search(r"\.(py|ipynb|zip)$", attrs["href"])
            ) and not attrs["href"].startswith(("http:", "https:", "mailto:")):
                self.hrefs.append(attrs["href"])

    found = []
    for page_name in PAGES:
        parser = Links()
        parser.feed((SITE / page_name).read_text(encoding="utf-8"))
        found += [(page_name, h) for h in parser.hrefs]
    return found


def test_downloads(base_url):
    if not PAGES:
        pytest.skip("no built site")
    links = _download_links()
    kinds = {".py": 0, ".ipynb": 0, ".zip": 0}
    problems = []
    for page_name, href in links:
        url = urljoin(urljoin(base_url, page_name), href)
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - 127.0.0.1
            body = response.read()
            status = response.status
        if status != 200 or not body:
            problems.append(f"{page_name}: {href}: HTTP {status}, {len(body)} bytes")
            continue
        suffix = "." + href.rsplit(".", 1)[-1]
        kinds[suffix] = kinds.get(suffix, 0) + 1
        if suffix == ".py":
            # auto_examples/<theme>/<name>.html offers gallery/<theme>/<name>.py
            theme = page_name.split("/")[1]
            source = ROOT / "gallery" / theme / href.rsplit("/", 1)[-1]
            if not source.is_file() or source.read_bytes() != body:
                problems.append(f"{page_name}: {href} differs from {source.relative_to(ROOT)}")
    examples = [p for p in PAGES if re.match(r"auto_examples/[^/]+/plot_.*\.html$", p)]
    assert kinds[".py"] >= len(examples) and kinds[".ipynb"] >= len(examples), kinds
    assert kinds[".zip"] >= 2, kinds
    notebook_pages = [p for p in PAGES if (SITE / p).read_text().count("nb-download-link")]
    assert notebook_pages, "no MyST-NB page offers its .ipynb"
    assert not problems, "\n".join(problems)


def test_dark_mode_toggle_persists(new_page, base_url):
    page, rec = new_page(color_scheme="light")
    _load(page, urljoin(base_url, "index.html"))
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.locator(".bd-header .theme-switch-button").first.click()
    page.locator(".bd-header .theme-change-button[data-mode='dark']").first.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.locator(".bd-header a[href*='auto_examples/index.html']").first.click()
    page.wait_for_load_state("load")
    assert "auto_examples/index.html" in page.url
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("document.documentElement.dataset.mode") == "dark"
    assert not rec.blocked and not rec.console_errors and not rec.failed


# Screenshots for review (test-artifacts/screenshots/): desktop light and dark, and mobile.
SCREENSHOT_PAGES = {
    "home": "index.html",
    "tutorial": "auto_examples/basics/plot_04_leaf_tensors.html",
    "notebook": "notebook/original_corrected.html",
    "api": "reference/gradkit.html",
}
SCREENSHOT_VIEWS = {
    "desktop-light": ({"width": 1280, "height": 900}, "light"),
    "desktop-dark": ({"width": 1280, "height": 900}, "dark"),
    "mobile": ({"width": 390, "height": 844}, "light"),
}


@pytest.mark.parametrize("view", sorted(SCREENSHOT_VIEWS))
def test_screenshots(view, browser, base_url):
    viewport, mode = SCREENSHOT_VIEWS[view]
    out = ARTIFACTS / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport, color_scheme=mode, service_workers="block",
                                  device_scale_factor=1, is_mobile=viewport["width"] < 600)
    context.add_init_script(f"localStorage.setItem('mode', '{mode}');"
                            f"localStorage.setItem('theme', '{mode}');")
    try:
        page = context.new_page()
        for name, path in SCREENSHOT_PAGES.items():
            _load(page, urljoin(base_url, path))
            target = out / f"{name}-{view}.png"
            page.screenshot(path=str(target), full_page=False)
            assert target.stat().st_size > 0
    finally:
        context.close()
