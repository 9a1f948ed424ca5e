// Accessibility fixes that CSS cannot make.
// pydata-sphinx-theme renders each expandable section of the sidebar navigation as
// <details><summary><span class="toctree-toggle" role="presentation">(icon)</span></summary>,
// so the summary has no accessible name (axe "summary-name", serious). Name it after
// the section it opens.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("details > summary").forEach((summary) => {
    if (summary.textContent.trim() || summary.hasAttribute("aria-label")) return;
    const link = summary.parentElement.parentElement.querySelector(":scope > a");
    const name = link ? link.textContent.trim() : "";
    summary.setAttribute("aria-label", name ? `Show or hide the pages of "${name}"` : "Show or hide");
  });
});
