// Exercise solutions stay closed until the reader asks for them.
//
// A page gives each solution a section of its own, headed "Solution to exercise N"
// (a MyST-NB page with a single exercise: "Solution to the exercise"). Without
// JavaScript, and in the .py and .ipynb downloads, the solution is simply there. Here
// everything after the heading moves into a <details> whose <summary> reads "Show the
// solution": a native disclosure, opened with a click, Enter or Space, and announced as
// collapsed or expanded. The heading stays outside, so the page's table of contents
// still leads to it. conf.py loads this file only on pages that have such a section.
(() => {
  const SOLUTION = /^Solution to (exercise \d+|the exercise)$/;
  // sphinx-gallery ends the page's last section with the run time, the download buttons
  // and its signature: they belong to the page, not to the solution.
  const PAGE_END = ".sphx-glr-timing, .sphx-glr-footer, .sphx-glr-signature";

  const headingText = (heading) =>
    [...heading.childNodes]
      .filter((node) => !(node.nodeType === Node.ELEMENT_NODE && node.matches(".headerlink")))
      .map((node) => node.textContent)
      .join("")
      .trim();

  const collapse = (heading) => {
    const title = headingText(heading);
    const details = document.createElement("details");
    details.className = "solution";
    const summary = document.createElement("summary");
    summary.textContent = "Show the solution";
    // the visible words first (WCAG 2.5.3), then which exercise, for a list of controls
    summary.setAttribute("aria-label", `Show the ${title.charAt(0).toLowerCase()}${title.slice(1)}`);
    details.append(summary);
    let node = heading.nextSibling;
    while (node && !(node.nodeType === Node.ELEMENT_NODE && node.matches(PAGE_END))) {
      const next = node.nextSibling;
      details.append(node);
      node = next;
    }
    heading.after(details);
  };

  document
    .querySelectorAll("section > :is(h2, h3, h4, h5, h6):first-child")
    .forEach((heading) => {
      if (SOLUTION.test(headingText(heading))) collapse(heading);
    });

  // A link into a solution (a figure, a line of its code) opens it.
  const openTarget = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && document.getElementById(id);
    const details = target && target.closest("details.solution");
    if (details && !details.open) {
      details.open = true;
      target.scrollIntoView();
    }
  };
  openTarget();
  window.addEventListener("hashchange", openTarget);
})();
