// The search page's results, from the Pagefind index that `make html` builds after Sphinx
// (pagefind/ at the site's root; see the Makefile). The theme's search box and its
// keyboard shortcut open search.html?q=..., as before; this script answers the query
// with Pagefind and shows the results in the markup Sphinx's search used (a summary,
// then ul.search with one link per page and the matching text), so the site's
// styles and tests apply unchanged. Everything it loads comes from this site.
//
// A learner's question rarely uses every word of the page that answers it ("modify the
// gradient with register_hook" on a page that says "replace"), and Pagefind, like
// Sphinx, keeps only the pages that hold every word. So each word is searched on its
// own and a page's score is the sum of its scores for the words it holds (Pagefind's
// BM25-style score: rare words count more, a word repeated on a long page less): the
// pages that hold all the words usually still come first, and a page that misses one
// word is not lost. Words of one character ("at 0") are left out; measured on the
// learner queries of tests/browser/learner_queries.py (README: Search).

const MAX_RESULTS = 10;
const CANDIDATES = 15; // pages whose keywords are read, of which MAX_RESULTS are shown
const SUB_RESULTS = 2; // headings of a page shown under it, best first

const siteRoot = new URL(".", document.baseURI); // search.html is at the site's root

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

// Pagefind marks the query's words in an excerpt with <mark>; the rest is text.
function excerpt(marked) {
  const paragraph = element("p", { class: "context" });
  marked.split(/(<mark>.*?<\/mark>)/).forEach((part) => {
    const match = part.match(/^<mark>(.*)<\/mark>$/);
    if (match) paragraph.append(element("mark", {}, decode(match[1])));
    else if (part) paragraph.append(decode(part));
  });
  return paragraph;
}

// Pagefind's excerpts carry the page text HTML-escaped.
function decode(text) {
  return new DOMParser().parseFromString(text, "text/html").documentElement.textContent;
}

function resultItem(data) {
  const item = element("li", { class: "kind-text" });
  item.append(element("a", { href: data.url }, data.meta.title || data.url));
  item.append(excerpt(data.excerpt));
  // The page's headings that match best, as links into the page.
  const headings = (data.sub_results || [])
    .filter((sub) => sub.url !== data.url && sub.title !== data.meta.title)
    .sort((a, b) => (b.locations || []).length - (a.locations || []).length)
    .slice(0, SUB_RESULTS);
  for (const sub of headings) {
    const line = element("p", { class: "context" });
    line.append(element("a", { href: sub.url }, sub.title));
    item.append(line);
  }
  return item;
}

// Pagefind's results for any of the query's words, best summed score first.
async function rankedResults(pagefind, query) {
  const words = query.split(/\s+/).filter((word) => word.length > 1);
  if (words.length < 2) return (await pagefind.search(query)).results;
  const pages = new Map(); // page id -> {result, score}
  // all words at once: their index chunks download side by side
  for (const search of await Promise.all(words.map((word) => pagefind.search(word)))) {
    for (const result of search.results) {
      const page = pages.get(result.id);
      if (!page) pages.set(result.id, { result, score: result.score });
      else page.score += result.score;
    }
  }
  return [...pages.values()].sort((a, b) => b.score - a.score).map((page) => page.result);
}

// The first pages' data, best first; a page whose keywords (its `search` block)
// include the whole query comes before the others, as the page that teaches it.
async function rankedPages(results, query) {
  const wanted = query.trim().toLowerCase();
  const pages = await Promise.all(results.slice(0, CANDIDATES).map((result) => result.data()));
  const isKeyword = (data) => (data.meta.keywords || "").split(";")
    .some((keyword) => keyword.trim().toLowerCase() === wanted);
  return [...pages.filter(isKeyword), ...pages.filter((data) => !isKeyword(data))]
    .slice(0, MAX_RESULTS);
}

async function showResults(query) {
  const container = document.getElementById("search-results");
  const heading = element("h2", {}, "Search Results");
  const progress = element("p", { id: "search-progress" }, "Preparing search...");
  container.replaceChildren(heading, progress);

  const pagefind = await import(new URL("pagefind/pagefind.js", siteRoot).href);
  // In the page, not in Pagefind's web worker: the worker is one more 43 KB script to
  // download on a phone (benchmarks/bench_search.py measures the search this way).
  await pagefind.options({ baseUrl: siteRoot.pathname, noWorker: true });
  const results = await rankedResults(pagefind, query);
  const pages = await rankedPages(results, query);

  const list = element("ul", { class: "search" });
  pages.forEach((data) => list.append(resultItem(data)));
  const summary = element(
    "p",
    { class: "search-summary" },
    pages.length
      ? `Search finished, found ${results.length} page(s) matching the search query.`
      : "Your search did not match any documents. Please make sure that all words are "
          + "spelled correctly.",
  );
  progress.remove();
  container.append(summary, list);
}

const query = new URLSearchParams(window.location.search).get("q");
if (query) {
  document.querySelectorAll('input[name="q"]').forEach((input) => (input.value = query));
  showResults(query);
}
