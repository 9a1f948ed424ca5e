// Search result scores for this site (conf.py: html_search_scorer). Sphinx's own weights,
// plus one rule: a glossary entry defines a word in a line, so the page that teaches the
// topic (the index entry that names it as its subject, see SEARCH_KEYWORDS in conf.py)
// comes first and the glossary right after it, above pages that only mention the word.
var Scorer = {
  score: (result) => {
    const [docname, title, anchor, descr, score, filename, kind] = result;
    if (kind === "index" && docname.endsWith("glossary")) return score - 40;
    return score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
