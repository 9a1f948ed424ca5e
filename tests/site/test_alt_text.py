"""Gallery figures take their alt text from their own script; a figure without one fails the build.

The alt text of every built image is judged in test_images.py; here the build's own
check (``autograd_site.sphinxext.alt_text``) on a one-page project.
"""

from __future__ import annotations

import pytest
from autograd_site.sphinxext.alt_text import file_name_fallback, tex_to_text
from PIL import Image

FIGURE = "sphx_glr_plot_18_poisson_2d_001.png"


def _tiny_build(sphinx_build, tmp_path, body: str):
    """Build a one-page project with a gallery-named figure; return sphinx-build's result."""
    src = tmp_path / "src"
    src.mkdir()
    Image.new("RGB", (4, 4)).save(src / FIGURE)
    (src / "conf.py").write_text('extensions = ["autograd_site.sphinxext.alt_text"]\n')
    (src / "index.rst").write_text(
        "Poisson\n=======\n\n" + body + f"\n.. image:: {FIGURE}\n   :alt: plot 18 poisson 2d\n")
    return sphinx_build(src, tmp_path / "out")


def test_a_figure_without_alt_text_fails_the_build_naming_page_and_figure(sphinx_build, tmp_path):
    result = _tiny_build(sphinx_build, tmp_path, "")
    assert result.returncode != 0
    assert "index.rst: figure 1 (sphx_glr_plot_18_poisson_2d_001) has no alt text" in result.stderr
    assert "'.. figure-alt:: 1'" in result.stderr


def test_figure_alt_sets_the_alt_text(sphinx_build, tmp_path):
    result = _tiny_build(sphinx_build, tmp_path, ".. figure-alt:: 1\n\n   A heat map of the error\n"
                                   "   over the domain.\n")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'alt="A heat map of the error over the domain."' in page


def test_figure_alt_for_a_figure_the_page_does_not_draw_fails_the_build(sphinx_build, tmp_path):
    result = _tiny_build(sphinx_build, tmp_path, ".. figure-alt:: 1\n\n   The error.\n\n"
                                   ".. figure-alt:: 2\n\n   Another figure.\n")
    assert result.returncode != 0
    assert "'.. figure-alt:: 2' describes figure 2, which the page does not draw" in result.stderr


@pytest.mark.parametrize(("tex", "text"), [
    (r"$\frac{dy}{dx}$ at $x^2$", "dy/dx at x²"),
    (r"$\nabla \cdot u$", "∇ · u"),
    (r"$u_{\theta}$", "u_θ"),
])
def test_latex_in_a_title_becomes_unicode(tex, text):
    assert tex_to_text(tex) == text


def test_the_file_name_fallback_is_recognised():
    assert file_name_fallback("sphx_glr_plot_07_pointwise_derivatives_001") == (
        "plot 07 pointwise derivatives")
    assert file_name_fallback("logo") == ""
