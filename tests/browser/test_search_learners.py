"""The site's search, given what learners actually type (tests/browser/learner_queries.py).

Each query is typed into the search page as a reader would (``search.html?q=``). An
answering page must be among the first three results, and no hub page (the confusions
page, the glossary) may rank above it unless it answers too. Most queries must put an
answer first. The results of every query, and the top-1 / top-3 counts, are written to
test-artifacts/learner-search.json.

Run with ``make test-browser``; see conftest.py for when these are skipped.
"""

from __future__ import annotations

import json

import pytest
from browser_support import ARTIFACTS, Recorder, search_results
from learner_queries import HUB_PAGES, LEARNER_QUERIES

ACTIVE = [q for q in LEARNER_QUERIES if not q.pending]
# "Most at the top": the share of queries whose first result answers them.
MIN_FIRST_HIT_SHARE = 0.75


def answer_rank(hrefs, answers):
    """The 0-based rank of the first answering page in ``hrefs``, or None."""
    return next((i for i, href in enumerate(hrefs) if href in answers), None)


@pytest.fixture(scope="module")
def learner_results(browser, base_url):
    """Every active query's result pages (first ten), typed into one browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  service_workers="block")
    page = context.new_page()
    recorder = Recorder(base_url)
    recorder.attach(context, page)
    results = {q.query: search_results(page, base_url, q.query)[:10] for q in ACTIVE}
    context.close()
    ranks = {q.query: answer_rank(results[q.query], q.answers) for q in ACTIVE}
    summary = {
        "queries": len(ACTIVE),
        "top1": sum(rank == 0 for rank in ranks.values()),
        "top3": sum(rank is not None and rank < 3 for rank in ranks.values()),
        "results": {q: {"answer_rank": ranks[q], "first": results[q][:5]} for q in results},
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "learner-search.json").write_text(json.dumps(summary, indent=1))
    return results, recorder


def test_query_set_is_large_enough():
    assert len(ACTIVE) >= 30
    assert all(q.source.startswith("https://") for q in LEARNER_QUERIES)
    assert len({q.query for q in LEARNER_QUERIES}) == len(LEARNER_QUERIES)


@pytest.mark.parametrize("learner_query", LEARNER_QUERIES, ids=lambda q: q.query)
def test_answer_in_top_three(learner_query, learner_results):
    if learner_query.pending:
        pytest.skip(f"answer not on this branch yet: {learner_query.pending}")
    results, _ = learner_results
    hrefs = results[learner_query.query]
    rank = answer_rank(hrefs, learner_query.answers)
    assert rank is not None and rank < 3, (
        f"{learner_query.query!r}: no answering page in the first three: {hrefs[:5]}")
    hubs_above = [h for h in hrefs[:rank] if h in HUB_PAGES and h not in learner_query.answers]
    assert not hubs_above, f"{learner_query.query!r}: hub pages above the answer: {hrefs[:5]}"


def test_most_queries_answered_first(learner_results):
    results, _ = learner_results
    first = [q.query for q in ACTIVE if results[q.query][:1]
             and results[q.query][0] in q.answers]
    not_first = {q.query: results[q.query][:3] for q in ACTIVE if q.query not in first}
    assert len(first) >= MIN_FIRST_HIT_SHARE * len(ACTIVE), (
        f"an answer first for {len(first)} of {len(ACTIVE)}; not first: {not_first}")


def test_searching_stays_on_the_site(learner_results):
    _, recorder = learner_results
    assert not recorder.blocked, recorder.blocked
    assert not recorder.console_errors, recorder.console_errors
    # a search that is left for the next one cancels its own requests (net::ERR_ABORTED)
    failed = [f for f in recorder.failed if "ERR_ABORTED" not in f]
    assert not failed, failed
