"""Exercise solutions are closed until the reader opens them, and there without JavaScript.

Each solution is a section headed "Solution to exercise N"; docs/_static/solutions.js
folds what follows the heading into a ``<details class="solution">``. Run with ``make
test-browser`` (needs ``make html`` and chromium); see conftest.py.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

TUTORIAL = "auto_examples/basics/plot_01_scalar_derivative.html"
MYST_PAGE = "howto/heat_equation_with_dims.html"
# a line of code and of output from the tutorial's solution to exercise 1
SOLUTION_CODE = "x**3 - 2.0 * x"
SOLUTION_OUTPUT = "d/dx (x^3 - 2x) at x = 2"

STATE = """() => ({
  headings: [...document.querySelectorAll("section > h3")]
      .map(h => h.firstChild.textContent.trim())
      .filter(t => t.startsWith("Solution to")),
  solutions: [...document.querySelectorAll("details.solution")].map(d => ({
      open: d.open,
      summary: d.querySelector(":scope > summary").textContent,
      label: d.querySelector(":scope > summary").getAttribute("aria-label"),
      afterHeading: d.previousElementSibling && d.previousElementSibling.matches("h3"),
  })),
  footerInside: !!document.querySelector("details.solution .sphx-glr-footer, "
      + "details.solution .sphx-glr-timing, details.solution .sphx-glr-signature"),
  footerShown: [...document.querySelectorAll(".sphx-glr-footer a")]
      .some(a => a.getClientRects().length > 0),
})"""


def _visible(page, text):
    """Whether the text shows once scrolled to, as a reader would."""
    found = page.get_by_text(text, exact=False).first
    found.evaluate("el => el.scrollIntoView()")
    page.wait_for_timeout(100)
    return found.is_visible()


def test_solutions_are_closed_and_open_on_click(new_page, base_url):
    page, rec = new_page()
    page.goto(urljoin(base_url, TUTORIAL), wait_until="load")
    state = page.evaluate(STATE)
    assert state["headings"] == ["Solution to exercise 1", "Solution to exercise 2"], state
    assert [s["open"] for s in state["solutions"]] == [False, False], state
    assert {s["summary"] for s in state["solutions"]} == {"Show the solution"}, state
    assert [s["label"] for s in state["solutions"]] == [
        "Show the solution to exercise 1",
        "Show the solution to exercise 2",
    ], state
    assert all(s["afterHeading"] for s in state["solutions"]), state
    # the page's run time and download buttons stay out of the last solution
    assert not state["footerInside"] and state["footerShown"], state
    assert not _visible(page, SOLUTION_CODE)
    assert not _visible(page, SOLUTION_OUTPUT)

    summaries = page.locator("details.solution > summary")
    summaries.nth(0).click()
    assert page.evaluate("[...document.querySelectorAll('details.solution')].map(d => d.open)") \
        == [True, False]
    assert _visible(page, SOLUTION_CODE)
    assert _visible(page, SOLUTION_OUTPUT)

    # keyboard: the summary takes focus, Enter opens the second solution and closes it again
    summaries.nth(1).focus()
    assert page.evaluate("document.activeElement.matches('details.solution > summary')")
    page.keyboard.press("Enter")
    assert page.locator("details.solution").nth(1).evaluate("d => d.open")
    page.keyboard.press("Space")
    assert not page.locator("details.solution").nth(1).evaluate("d => d.open")
    assert not rec.console_errors and not rec.failed and not rec.blocked


def test_link_into_a_solution_opens_it(new_page, base_url):
    """A link to an element inside a solution (here its code block) opens that solution."""
    page, _ = new_page()
    page.goto(urljoin(base_url, TUTORIAL), wait_until="load")
    page.evaluate("""() => {
        const block = document.querySelectorAll("details.solution")[1]
            .querySelector("div.highlight-Python");
        block.id = "linked-code";
    }""")
    page.evaluate("location.hash = '#linked-code'")
    page.wait_for_function("document.querySelectorAll('details.solution')[1].open")


def test_myst_nb_page_solution_is_closed(new_page, base_url):
    page, rec = new_page()
    page.goto(urljoin(base_url, MYST_PAGE), wait_until="load")
    state = page.evaluate(STATE)
    assert state["headings"] == ["Solution to the exercise"], state
    assert [s["open"] for s in state["solutions"]] == [False], state
    assert not _visible(page, "max |u_tt - c^2 u_xx|")
    page.locator("details.solution > summary").click()
    assert _visible(page, "max |u_tt - c^2 u_xx|")
    assert not rec.console_errors


@pytest.mark.parametrize("page_name", [TUTORIAL, MYST_PAGE])
def test_without_javascript_the_solution_is_shown(page_name, browser, base_url):
    context = browser.new_context(java_script_enabled=False, service_workers="block")
    try:
        page = context.new_page()
        page.goto(urljoin(base_url, page_name), wait_until="load")
        assert page.locator("details.solution").count() == 0
        assert page.get_by_role("heading", name="Solution to").count() >= 1
        text = SOLUTION_OUTPUT if page_name == TUTORIAL else "max |u_tt - c^2 u_xx|"
        assert _visible(page, text)
    finally:
        context.close()


def test_pages_without_solutions_do_not_load_the_script():
    from browser_support import SITE

    if not (SITE / TUTORIAL).is_file():
        pytest.skip("no built site")
    assert "solutions.js" in (SITE / TUTORIAL).read_text(encoding="utf-8")
    assert "solutions.js" not in (SITE / "index.html").read_text(encoding="utf-8")
