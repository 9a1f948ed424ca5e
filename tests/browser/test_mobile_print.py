"""Every page on a phone (320-414 px wide) and on paper.

- No page scrolls sideways at 320, 360 and 414 px; what is wider than the screen (a
  display equation, a code block, a table) scrolls inside its own block, and a display
  equation that does shows its scroll shadows and is never cut off at its block's edge.
- The header's buttons are touch targets of at least 24 x 24 px, 8 px apart (WCAG 2.2 AA).
- Printed, code blocks wrap instead of being cut at the page edge.

Run by ``make test-browser``; see conftest.py.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from browser_support import site_pages

PAGES = site_pages()
WIDTHS = (320, 360, 414)

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrollsInside = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === "auto" || o === "scroll" || o === "hidden" || o === "clip")
          && p !== document.documentElement && p !== document.body) return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    if (getComputedStyle(el).position === "fixed" || scrollsInside(el)) continue;
    if (el.closest("[hidden], .d-none, dialog:not([open])")) continue;
    const name = `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
    wide.push(`${name} right=${Math.round(r.right)}`);
  }
  const equations = [
    ...document.querySelectorAll("div.math .katex-display > .katex > .katex-html")];
  const uncued = equations.filter(el => el.scrollWidth > el.clientWidth + 1)
    .filter(el => !(["auto", "scroll"].includes(getComputedStyle(el).overflowX)
                    && getComputedStyle(el).backgroundImage.includes("radial-gradient")))
    .map(el => el.textContent.slice(0, 60));
  // an equation drawn outside its block is cut off (the block hides its overflow)
  const cut = [...document.querySelectorAll("div.math > .katex-display")].filter(el => {
    const inner = el.getBoundingClientRect(), outer = el.parentElement.getBoundingClientRect();
    return inner.left < outer.left - 1 || inner.right > outer.right + 1;
  }).map(el => el.textContent.slice(0, 60));
  return {pageWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8), uncued,
          cut};
}"""


@pytest.fixture(scope="module")
def phone_pages(browser):
    contexts, pages = [], {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=True,
                                      has_touch=True, service_workers="block")
        contexts.append(context)
        pages[width] = context.new_page()
    yield pages
    for context in contexts:
        context.close()


@pytest.mark.parametrize("page_name", PAGES)
def test_no_sideways_scroll(page_name, phone_pages, base_url):
    problems = []
    for width, page in phone_pages.items():
        page.goto(urljoin(base_url, page_name), wait_until="load")
        page.evaluate("document.fonts.ready")
        facts = page.evaluate(OVERFLOW)
        if facts["pageWidth"] > facts["width"] or facts["wide"]:
            problems.append(f"{width}px: page {facts['pageWidth']}px wide; {facts['wide']}")
        if facts["uncued"]:
            problems.append(f"{width}px: equations scroll without a cue: {facts['uncued']}")
        if facts["cut"]:
            problems.append(f"{width}px: equations cut off at the edge: {facts['cut']}")
    assert not problems, f"{page_name}:\n  " + "\n  ".join(problems)


TARGETS = """() => {
  const boxes = [...document.querySelectorAll(
      ".bd-header button, .bd-header a.btn, .bd-header .btn, .bd-header label.sidebar-toggle")]
    .filter(el => el.offsetParent !== null && getComputedStyle(el).visibility !== "hidden")
    .map(el => ({name: el.getAttribute("aria-label") || el.title || el.className,
                 r: el.getBoundingClientRect().toJSON()}))
    .filter(b => b.r.width > 0 && b.r.height > 0);
  const small = boxes.filter(b => b.r.width < 24 || b.r.height < 24)
    .map(b => `${b.name}: ${Math.round(b.r.width)}x${Math.round(b.r.height)}`);
  const close = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].r, b = boxes[j].r;
    const dx = Math.max(0, Math.max(a.left, b.left) - Math.min(a.right, b.right));
    const dy = Math.max(0, Math.max(a.top, b.top) - Math.min(a.bottom, b.bottom));
    const within = (p, q) => p.left >= q.left && p.right <= q.right
      && p.top >= q.top && p.bottom <= q.bottom;
    const inside = within(a, b) || within(b, a);
    if (!inside && Math.max(dx, dy) < 4) close.push(`${boxes[i].name} / ${boxes[j].name}`);
  }
  return {count: boxes.length, small, close};
}"""


@pytest.mark.parametrize("page_name",
                         ["index.html", "auto_examples/basics/plot_04_leaf_tensors.html"])
def test_touch_targets(page_name, phone_pages, base_url):
    page = phone_pages[360]
    page.goto(urljoin(base_url, page_name), wait_until="load")
    facts = page.evaluate(TARGETS)
    assert facts["count"] >= 2, facts
    assert not facts["small"], f"touch targets under 24 px: {facts['small']}"
    assert not facts["close"], f"touch targets less than 4 px apart: {facts['close']}"


def test_print_wraps_code(new_page, base_url):
    page, _ = new_page()
    page.goto(urljoin(base_url, "auto_examples/basics/plot_04_leaf_tensors.html"),
              wait_until="load")
    page.emulate_media(media="print")
    facts = page.evaluate("""() => {
      const pres = [...document.querySelectorAll("main pre")];
      return {count: pres.length,
              nowrap: pres.filter(p => !getComputedStyle(p).whiteSpace.startsWith("pre-wrap"))
                          .length,
              cut: pres.filter(p => p.scrollWidth > p.clientWidth + 1).length};
    }""")
    assert facts["count"] > 5, facts
    assert facts["nowrap"] == 0 and facts["cut"] == 0, facts
