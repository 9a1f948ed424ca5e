"""Math rendered at build time (autograd_site.sphinxext.math).

The renderer itself: KaTeX's HTML for valid LaTeX, a build error naming the source and
KaTeX's message for invalid LaTeX, and a renderer of its own in a forked writer. The
built pages' math (no raw TeX, no KaTeX error, no math script) is checked in the
browser tests.
"""

from __future__ import annotations

import multiprocessing
import os
from types import SimpleNamespace

import pytest
from autograd_site.project import KATEX_STAGE, ROOT
from autograd_site.sphinxext import math as site_math
from docutils import nodes
from sphinx.errors import ExtensionError

KATEX_JS = KATEX_STAGE / "render" / "katex.min.js"


@pytest.fixture
def translator():
    if not KATEX_JS.is_file():
        pytest.fail("KaTeX is not staged: run 'make katex' (make html and make test do)")
    config = SimpleNamespace(katex_render_js=str(KATEX_JS))
    env = SimpleNamespace(doc2path=lambda docname: ROOT / "docs" / f"{docname}.md")
    return SimpleNamespace(builder=SimpleNamespace(config=config, env=env,
                                                   current_docname="howto/page"))


def test_valid_latex_becomes_katex_html(translator):
    inline = site_math.render(translator, nodes.math(text=r"\frac{dy}{dx}"), display=False)
    block = site_math.render(translator, nodes.math_block(text=r"\sum_i x_i^2"), display=True)
    assert 'class="katex"' in inline and "katex-display" not in inline
    assert "katex-display" in block
    assert "<math" in inline  # the MathML copy read by screen readers


def test_invalid_latex_fails_naming_the_page_and_the_reason(translator):
    with pytest.raises(ExtensionError) as error:
        site_math.render(translator, nodes.math(text=r"\frac{1}{"), display=False)
    message = str(error.value)
    assert "howto/page.md" in message
    assert r"\frac{1}{" in message
    assert "KaTeX parse error" in message


def _render_in_child(translator, queue):
    html = site_math.render(translator, nodes.math(text="x^2"), display=False)
    queue.put((os.getpid(), site_math.renderer.pid, site_math.renderer.process.pid, html))


def test_a_forked_writer_starts_its_own_renderer(translator):
    site_math.render(translator, nodes.math(text="x"), display=False)
    parent_node = site_math.renderer.process.pid
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_render_in_child, args=(translator, queue))
    child.start()
    child_pid, renderer_pid, child_node, html = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert renderer_pid == child_pid and child_node != parent_node
    assert 'class="katex"' in html
    # the parent's renderer still answers its own requests
    assert 'class="katex"' in site_math.render(translator, nodes.math(text="y"), display=False)
