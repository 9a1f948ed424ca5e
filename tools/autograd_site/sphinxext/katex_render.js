// Renders LaTeX to HTML with KaTeX for the Sphinx build (autograd_site.sphinxext.math).
// Usage: node katex_render.js path/to/katex.min.js
// One JSON request per line on stdin, {"latex": "...", "display": true|false};
// one JSON answer per line on stdout, {"html": "..."} or {"error": "..."}.
"use strict";
const katex = require(process.argv[2]);
const readline = require("readline");

const requests = readline.createInterface({ input: process.stdin, terminal: false });
requests.on("line", (line) => {
  const { latex, display } = JSON.parse(line);
  let answer;
  try {
    // throwOnError: an expression KaTeX cannot parse fails the build instead of
    // reaching readers as red source text.
    answer = { html: katex.renderToString(latex, { displayMode: display, throwOnError: true }) };
  } catch (error) {
    answer = { error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
