"""The site's search on a throttled phone: index weight, bytes fetched, time to results.

Run after ``make html``: ``.venv/bin/python benchmarks/bench_search.py``. The built site is
served with gzip on 127.0.0.1 (autograd_site.serve_gzip, as for Lighthouse) and each
learner query of tests/browser/learner_queries.py is typed into search.html in headless
Chromium with the CPU slowed 4x and Lighthouse's mobile network (150 ms round trip,
1.6 Mbit/s down) emulated through the DevTools protocol.

Figures, for whichever search the build has (Sphinx's searchindex.js or Pagefind's
pagefind/ bundle):
- index weight: the search files on disk, raw and gzip;
- per query: bytes fetched for the search (gzip, as transferred), and the time from
  navigation to the results on screen, with an empty cache (``cold``, the first search
  of a visit) and with the cache of one earlier search (``warm``).
Medians and maxima over the queries; all figures are for this machine at this moment
(the machine's load moves the times), so compare builds measured in one session.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from pathlib import Path
from urllib.parse import quote, urljoin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from autograd_site import serve_gzip  # noqa: E402
from browser_support import CHROMIUM_ARGS, chromium_path  # noqa: E402
from learner_queries import LEARNER_QUERIES  # noqa: E402

CPU_SLOWDOWN = 4
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8,
           "uploadThroughput": 0.75e6 / 8}
# URLs that belong to the search and not to every page
SEARCH_FILES = ("searchindex.js", "searchtools.js", "language_data.js", "scorer",
                "/pagefind/", "pagefind-search.js")
# The moment the results are on screen: the first result, or the summary's text (which
# both searches write when they are done, also when nothing matched).
RESULTS_SEEN = """
new MutationObserver((_, observer) => {
  if (document.querySelector('#search-results ul.search li > a')
      || document.querySelector('#search-results .search-summary')?.textContent.trim()) {
    window.__resultsAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def index_weight(site: Path) -> dict:
    files = [site / "searchindex.js"] if not (site / "pagefind").is_dir() else sorted(
        p for p in (site / "pagefind").rglob("*") if p.is_file())
    raw = sum(p.stat().st_size for p in files)
    gz = sum(len(gzip.compress(p.read_bytes())) for p in files)
    kind = "pagefind" if (site / "pagefind").is_dir() else "sphinx"
    return {"search": kind, "files": len(files), "raw_kb": raw / 1024, "gzip_kb": gz / 1024}


def search_once(context, base: str, query: str) -> dict:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    urls, transferred = {}, {}  # request id -> URL, bytes on the wire (0 from the cache)
    cdp.on("Network.responseReceived",
           lambda e: urls.update({e["requestId"]: e["response"]["url"]}))
    cdp.on("Network.loadingFinished",
           lambda e: transferred.update({e["requestId"]: e["encodedDataLength"]}))
    page.add_init_script(RESULTS_SEEN)
    page.goto(urljoin(base, "search.html?q=" + quote(query)), wait_until="commit")
    page.wait_for_function("() => window.__resultsAt", timeout=120_000)
    ms = page.evaluate("window.__resultsAt")
    page.wait_for_timeout(300)  # the protocol's last loadingFinished events arrive
    search_bytes = sum(size for rid, size in transferred.items()
                       if any(part in urls.get(rid, "") for part in SEARCH_FILES))
    page.close()
    return {"ms": ms, "search_kb": search_bytes / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "bench-search.json")
    parser.add_argument("--queries", type=int, default=10, help="how many learner queries")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    queries = [q.query for q in LEARNER_QUERIES if not q.pending][: args.queries]
    server, base = serve_gzip.start(args.site.resolve())
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for i, query in enumerate(queries):
                context = browser.new_context(viewport={"width": 412, "height": 823},
                                              service_workers="block")
                cold = search_once(context, base, query)
                warm = search_once(context, base, queries[(i + 1) % len(queries)])
                context.close()
                rows.append({"query": query, "cold": cold, "warm": warm})
                print(f"  {cold['ms']:7.0f} ms cold {warm['ms']:7.0f} ms warm "
                      f"{cold['search_kb']:7.1f} KB  {query}", flush=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    def stats(key, field):
        values = [r[key][field] for r in rows]
        return {"median": statistics.median(values), "max": max(values)}

    summary = {
        "index": index_weight(args.site),
        "throttling": {"cpu_slowdown": CPU_SLOWDOWN, **NETWORK},
        "cold_ms": stats("cold", "ms"), "warm_ms": stats("warm", "ms"),
        "cold_search_kb": stats("cold", "search_kb"), "warm_search_kb": stats("warm", "search_kb"),
        "queries": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "queries"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
