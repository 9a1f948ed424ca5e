"""Sphinx markup turned into Markdown for the notebooks (``autograd_site.notebook_markdown``).

The converter alone, with a resolver that knows a few targets: no build needed.
``tests/site/test_notebooks.py`` checks every notebook of the built site.
"""

from __future__ import annotations

import pytest
from autograd_site.notebook_markdown import (
    Directive,
    UnknownDirective,
    leftover_markup,
    to_markdown,
)

TARGETS = {
    "torch.autograd.grad": ("https://docs.example/grad", None),
    "torch.Tensor.backward": ("https://docs.example/backward", None),
    "example-scalar-derivative": ("https://site.example/p1.html", "The derivative of a scalar"),
    "vjp": ("https://site.example/glossary.html#term-VJP", "VJP"),
    "../howto/check_gradients": ("https://site.example/howto/check.html", "Check gradients"),
}


def resolve(role, target, title):
    url, name = TARGETS.get(target, (None, None))
    return url, title or name or target


def render(directive: Directive):
    if directive.name == "site-box":
        return f"BOX {directive.argument} {directive.options}\n"
    return None


def convert(text, gallery=False):
    return to_markdown(text, resolve, render, gallery=gallery)


@pytest.mark.parametrize(
    ("rest", "markdown"),
    [
        (":func:`torch.autograd.grad`", "[`torch.autograd.grad()`](https://docs.example/grad)"),
        (":meth:`~torch.Tensor.backward`", "[`backward()`](https://docs.example/backward)"),
        (":class:`torch.unknown.Thing`", "`torch.unknown.Thing`"),
        (":func:`the grad <torch.autograd.grad>`", "[the grad](https://docs.example/grad)"),
        (":ref:`example-scalar-derivative`",
         "[The derivative of a scalar](https://site.example/p1.html)"),
        (":ref:`first page <example-scalar-derivative>`",
         "[first page](https://site.example/p1.html)"),
        ("{term}`VJP <vjp>`", "[VJP](https://site.example/glossary.html#term-VJP)"),
        ("{doc}`../howto/check_gradients`", "[Check gradients](https://site.example/howto/check.html)"),
        ("{py:func}`torch.autograd.grad`", "[`torch.autograd.grad()`](https://docs.example/grad)"),
        (":math:`x^2`", "$x^2$"),
        ("{code}`x + 1`", "`x + 1`"),
    ],
)
def test_roles_become_links_or_code(rest, markdown):
    assert convert(f"See {rest} here.") == f"See {markdown} here."


def test_what_sphinx_gallery_leaves_of_a_ref_becomes_a_link():
    text = "The `first page <example-scalar-derivative>` and `example-scalar-derivative`."
    assert convert(text, gallery=True) == (
        "The [first page](https://site.example/p1.html) and "
        "[The derivative of a scalar](https://site.example/p1.html)."
    )
    # in MyST a single backtick is inline code; in either, unknown labels and ``code`` stay
    assert convert(text) == text
    assert convert("``example-scalar-derivative`` and `x`", gallery=True) == \
        "``example-scalar-derivative`` and `x`"


def test_rest_directive_with_options_and_a_body():
    text = (
        "Intro.\n\n"
        ".. site-box:: arg\n"
        "   :learn: one\n"
        "      two\n"
        "   :after: none\n"
        "\n"
        "After.\n"
    )
    assert convert(text) == "Intro.\n\nBOX arg {'learn': 'one two', 'after': 'none'}\n\nAfter.\n"


def test_admonitions_become_quotes():
    assert convert("```{note}\nSee {term}`VJP <vjp>`.\n```\nNext.") == (
        "> **Note:**\n>\n> See [VJP](https://site.example/glossary.html#term-VJP).\nNext."
    )
    assert convert(".. warning::\n\n   Careful.\n") == "> **Warning:**\n>\n> Careful.\n"


def test_myst_labels_go_and_fenced_options_are_read():
    text = "(a-label)=\n# Title\n\n:::{site-box} x\n:key: value\nbody\n:::\n"
    assert convert(text) == "# Title\n\nBOX x {'key': 'value'}\n"


def test_a_directive_without_a_markdown_form_is_an_error():
    with pytest.raises(UnknownDirective, match="figure"):
        convert(".. figure:: plot.png\n")
    with pytest.raises(UnknownDirective, match="glossary"):
        convert("```{glossary}\nterm\n: text\n```\n")


def test_leftover_markup_finds_each_kind_and_none_after_conversion():
    text = (
        ":func:`torch.autograd.grad` {ref}`example-scalar-derivative`\n"
        "`first page <example-scalar-derivative>`\n"
        ".. site-box::\n\n(a-label)=\n```{note}\nx\n```\n"
    )
    kinds = {found.split(":")[0] for found in leftover_markup(text)}
    assert kinds == {"reST role", "MyST role", "reST reference", "reST directive",
                     "MyST label", "MyST directive"}
    converted = convert(text, gallery=True)
    assert leftover_markup(converted) == []
    assert convert(converted, gallery=True) == converted  # idempotent
    # Markdown that merely looks similar is left alone
    assert leftover_markup("Call `f(x)` with ``a <b>``; $x: y$; see [a](b).") == []
