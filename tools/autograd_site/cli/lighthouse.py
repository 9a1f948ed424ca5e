"""Lighthouse (mobile preset) over the built site's representative pages; fail on a missed target.

``make test-lighthouse`` runs it after ``make html``. The site is served with gzip on
127.0.0.1 by ``serve.py`` beside this file; Lighthouse is the npm package pinned in
package.json (``npm ci``), driving Debian's Chromium (``CHROME_PATH``, default
/usr/bin/chromium) headless and kept off the network. JSON reports are written to
test-artifacts/lighthouse/, with ``summary.json`` holding the table printed at the end.

Pages: the home page, in each gallery section its heaviest tutorial, the corrected
notebook, the heaviest how-to, the API reference and the search page with a query.

Targets on every page: performance >= 95, accessibility, best practices and SEO 100,
cumulative layout shift < 0.02, no render-blocking script in the page's <head> beyond
the inline light/dark switch (the theme's and the site's); a tutorial page at most
350 KB (gzip, as transferred) before its figures. Lighthouse's performance score varies
from run to run on a busy machine: a page that misses a target is run twice more and
judged by its median run (by performance score), which the table shows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

from autograd_site import serve_gzip as serve
from autograd_site.project import ROOT

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MIN_SCORE = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
MAX_CLS = 0.02
TUTORIAL_BUDGET_KB = 350  # gzip, as transferred, figures excluded
RETRIES = 2


def pick_pages(site: Path) -> list[tuple[str, str]]:
    """(label, URL path) of the pages to audit, found in the built site."""
    def heaviest(pattern: str) -> str | None:
        found = [p for p in site.glob(pattern) if p.name != "index.html"]
        if not found:
            return None
        return max(found, key=lambda p: (p.stat().st_size, p.name)).relative_to(site).as_posix()

    pages = [("home", "index.html")]
    for section in sorted(p for p in (site / "auto_examples").iterdir() if p.is_dir()):
        page = heaviest(f"auto_examples/{section.name}/plot_*.html")
        if page:
            pages.append((f"tutorial:{section.name}", page))
    for label, pattern in (("notebook", "notebook/original_corrected.html"),
                           ("how-to", "howto/*.html"),
                           ("api", "reference/gradkit.html")):
        page = heaviest(pattern)
        if page is None:
            raise SystemExit(f"run_lighthouse: no page matches {pattern} in {site}")
        pages.append((label, page))
    pages.append(("search", "search.html?q=gradient"))
    return pages


class _HeadScripts(HTMLParser):
    """The render-blocking scripts of a page's <head>: classic scripts, neither deferred nor
    async, and scripts preloaded there. Inline light/dark scripts marked
    ``data-cfasync="false"`` are allowed (the theme's, which reads the stored mode, and
    conf.py's COLOR_SCHEME_JS, which settles "auto"): they must run before the first paint
    and fetch nothing."""

    def __init__(self):
        super().__init__()
        self.in_head, self.blocking = True, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.in_head = False
        if (tag == "link" and self.in_head and attrs.get("rel") == "preload"
                and attrs.get("as") == "script"):
            # not blocking, but fetched at high priority beside the stylesheets the first
            # paint waits for (docs/_templates/layout.html leaves the theme's out)
            self.blocking.append(f"preload {attrs.get('href')}")
            return
        if tag != "script" or not self.in_head:
            return
        if "defer" in attrs or "async" in attrs or attrs.get("type") == "module":
            return
        if attrs.get("type") not in (None, "text/javascript", "application/javascript"):
            return  # data blocks (JSON-LD and the like) do not run
        if "src" in attrs:
            self.blocking.append(attrs["src"])
        elif attrs.get("data-cfasync") != "false":
            self.blocking.append("(inline script)")


def blocking_scripts(site: Path, path: str) -> list[str]:
    parser = _HeadScripts()
    parser.feed((site / path.split("?")[0]).read_text(encoding="utf-8"))
    return parser.blocking


def run_once(url: str, out: Path, chrome: str) -> dict:
    env = {**os.environ, "CHROME_PATH": chrome}
    with tempfile.TemporaryDirectory(prefix="lighthouse-profile-") as profile:
        flags = " ".join([*CHROME_FLAGS, f"--user-data-dir={profile}"])
        cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
               f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={flags}",
               "--disable-full-page-screenshot", "--max-wait-for-load=60000"]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not out.is_file():
        raise RuntimeError(f"lighthouse failed on {url} (exit {result.returncode}):\n"
                           f"{result.stderr[-3000:]}")
    return json.loads(out.read_text())


def facts(report: dict) -> dict:
    """The figures judged, from one Lighthouse JSON report."""
    audits = report["audits"]
    scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
    requests = audits["network-requests"]["details"]["items"]
    total = sum(r.get("transferSize", 0) for r in requests)
    no_images = sum(r.get("transferSize", 0) for r in requests if r.get("resourceType") != "Image")
    # Lighthouse 12.2's render-blocking audit fails on this Chromium's traces (trace engine
    # error): the scripts are read from the page itself (blocking_scripts); the
    # stylesheets it found, when it could, are kept for the record.
    blocking = [i["url"] for i in (audits["render-blocking-resources"].get("details") or {})
                .get("items", [])]
    failed = {c: [a["id"] for a in report["categories"][c]["auditRefs"]
                  if a["weight"] > 0 and (audits[a["id"]]["score"] is not None)
                  and audits[a["id"]]["score"] < 1 and audits[a["id"]]["scoreDisplayMode"]
                  in ("binary", "numeric", "metricSavings")]
              for c in CATEGORIES if c != "performance"}
    return {
        **scores,
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "kb": total / 1024,
        "kb_no_images": no_images / 1024,
        "blocking": blocking,
        "failed_audits": failed,
    }


# Targets that are measured and reported but, with --report-only KIND, do not fail the run.
KINDS = ("performance", "accessibility", "best-practices", "seo", "cls", "blocking", "weight")
REPORT_ONLY: set[str] = set()


def all_misses(label: str, f: dict) -> list[tuple[str, str]]:
    """(kind, description) of every target this page misses."""
    out = [(c, f"{c} {f[c]} < {MIN_SCORE[c]}" + (f" ({', '.join(f['failed_audits'][c])})"
                                                   if f["failed_audits"].get(c) else ""))
           for c in CATEGORIES if f[c] < MIN_SCORE[c]]
    if f["cls"] >= MAX_CLS:
        out.append(("cls", f"CLS {f['cls']:.3f} >= {MAX_CLS}"))
    if f["blocking_scripts"]:
        out.append(("blocking", "render-blocking or preloaded scripts in <head>: "
                                f"{f['blocking_scripts']}"))
    if label.startswith("tutorial:") and f["kb_no_images"] > TUTORIAL_BUDGET_KB:
        out.append(("weight", f"{f['kb_no_images']:.0f} KB before figures > "
                              f"{TUTORIAL_BUDGET_KB} KB"))
    return out


def misses(label: str, f: dict) -> list[str]:
    """The misses that fail the run."""
    return [text for kind, text in all_misses(label, f) if kind not in REPORT_ONLY]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "lighthouse")
    parser.add_argument("--no-fail", action="store_true", help="report only (for a baseline)")
    parser.add_argument("--report-only", action="append", default=[], choices=KINDS,
                        help="measure and report this target without failing on it")
    args = parser.parse_args()
    REPORT_ONLY.update(args.report_only)
    if not (args.site / "index.html").is_file():
        print(f"run_lighthouse: {args.site / 'index.html'} is missing; run 'make html' first",
              file=sys.stderr)
        return 2
    if not LIGHTHOUSE.exists():
        print("run_lighthouse: node_modules/.bin/lighthouse is missing; run 'npm ci'",
              file=sys.stderr)
        return 2
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chrome).exists():
        print(f"run_lighthouse: no Chromium at {chrome} (apt-get install chromium)",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for old_report in args.out.glob("*.json"):  # no earlier run's retries in this run's folder
        old_report.unlink()
    server, base = serve.start(args.site.resolve())
    rows, problems, reported = [], [], []
    try:
        for label, path in pick_pages(args.site):
            slug = label.replace(":", "-")
            url = urljoin(base, path)
            runs = [facts(run_once(url, args.out / f"{slug}.json", chrome))]
            chosen = runs[0]
            scripts = blocking_scripts(args.site, path)
            for run in runs:
                run["blocking_scripts"] = scripts
            # report-only targets are retried too: the table then shows a median, not
            # one noisy run
            while all_misses(label, chosen) and len(runs) <= RETRIES:
                runs.append(facts(run_once(url, args.out / f"{slug}.run{len(runs) + 1}.json",
                                           chrome)) | {"blocking_scripts": scripts})
                median = statistics.median_low([r["performance"] for r in runs])
                chosen = next(r for r in runs if r["performance"] == median)
            page_misses = misses(label, chosen)
            rows.append({"label": label, "page": path, "runs": len(runs), **chosen,
                         "misses": [text for _, text in all_misses(label, chosen)]})
            problems += [f"{label} ({path}): {m}" for m in page_misses]
            reported += [f"{label} ({path}): {text}" for kind, text in all_misses(label, chosen)
                         if kind in REPORT_ONLY]
            print(f"  {label:<22} perf {chosen['performance']:>3}  runs {len(runs)}", flush=True)
    finally:
        server.shutdown()
        server.server_close()

    header = (f"{'page':<22} {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4} {'CLS':>6} "
              f"{'FCP s':>6} {'LCP s':>6} {'TBT ms':>6} {'KB gz':>6} {'no img':>6}  path")
    print("\nLighthouse 12, mobile preset, site served with gzip on 127.0.0.1")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['label']:<22} {r['performance']:>4} {r['accessibility']:>4} "
              f"{r['best-practices']:>4} {r['seo']:>4} {r['cls']:>6.3f} {r['fcp_ms']/1000:>6.2f} "
              f"{r['lcp_ms']/1000:>6.2f} {r['tbt_ms']:>6.0f} {r['kb']:>6.0f} "
              f"{r['kb_no_images']:>6.0f}  {r['page']}")
    (args.out / "summary.json").write_text(json.dumps(rows, indent=1))
    print(f"\nReports: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if reported:
        print("\nTargets missed, reported only (--report-only):\n  " + "\n  ".join(reported))
    if problems:
        print("\nTargets missed:\n  " + "\n  ".join(problems))
        return 0 if args.no_fail else 1
    print("All targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
