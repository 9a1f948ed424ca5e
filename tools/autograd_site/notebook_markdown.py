"""Sphinx markup in a notebook's Markdown cells, turned into plain Markdown.

sphinx-gallery turns a script's reST into Markdown itself (headings, math, literals) but
leaves roles such as ``:func:`torch.tensor``` and directives such as
``.. gradkit-install::`` as they are; myst-nb's reader keeps a MyST page's Markdown cells
verbatim (``{ref}`...```, ````` ```{note} `````). A reader opening the notebook in Jupyter
or Colab would see that markup as text. This module rewrites it:

- a cross-reference role becomes a link to the page or API entry it names (inline code for
  Python objects: ``[`torch.autograd.grad()`](https://...)``), or its text when it names
  nothing the resolver knows;
- an admonition becomes a quoted paragraph with a bold title, a label ``(name)=`` goes;
- the gradkit install box becomes a note, and :func:`clean_notebook` puts the install cell
  after it;
- any other directive is an error naming the notebook and the cell: it needs a Markdown
  form here.

The functions are pure (the resolver is a parameter), so the tests run them without a
build; ``autograd_site.sphinxext.notebooks`` resolves with Sphinx's own resolvers.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

# A cross-reference: (role, target, explicit title or None) -> (url or None, link text).
Resolver = Callable[[str, str, "str | None"], "tuple[str | None, str]"]

# Roles whose text is a Python object: shown as inline code, like the HTML page does.
PYTHON_ROLES = {"func", "meth", "class", "mod", "attr", "obj", "exc", "data", "const"}
# Roles with no link: their text stays, as inline code or as words.
CODE_ROLES = {"code", "literal", "file", "samp", "command", "kbd", "envvar", "program"}

# :role:`text` and :domain:role:`text` (reST); {role}`text` and {domain:role}`text` (MyST).
REST_ROLE = re.compile(r"(?<![\w`]):(?:(?P<domain>[a-z]+):)?(?P<role>[a-z-]+):`(?P<body>[^`]+)`")
MYST_ROLE = re.compile(r"\{(?:(?P<domain>[a-z]+):)?(?P<role>[a-z-]+)\}`(?P<body>[^`]+)`")
# What sphinx-gallery leaves of :ref:`title <label>` (`title <label>`) and of :ref:`label`
# (`label`): single backticks, never a Markdown code span of ours (those are doubled).
GALLERY_REF = re.compile(r"(?<![`\w])`(?P<body>[^`\n]+)`(?![`_\w])")
EXPLICIT = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)

# A reST directive line (``.. name::``), a MyST fenced directive (```{name} or :::{name}),
# a MyST label line ``(name)=``.
REST_DIRECTIVE = re.compile(r"^[ \t]*\.\. (?P<name>[A-Za-z][\w:-]*)::(?P<arg>.*)$", re.MULTILINE)
MYST_FENCE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}(?P<arg>[^\n]*)\n"
    r"(?P<body>.*?)^(?P=fence)[ \t]*$\n?",
    re.MULTILINE | re.DOTALL,
)
MYST_LABEL = re.compile(r"^\([\w-]+\)=[ \t]*\n", re.MULTILINE)

ADMONITIONS = {"note", "tip", "warning", "important", "caution", "attention", "hint",
               "danger", "error", "seealso"}

# Markup the tests look for in a notebook's Markdown (one rule for the build and the tests).
LEFTOVER_PATTERNS = {
    "reST role": REST_ROLE,
    "MyST role": MYST_ROLE,
    "reST directive": REST_DIRECTIVE,
    "MyST directive": re.compile(r"^(`{3,}|:{3,})\{[\w:-]+\}", re.MULTILINE),
    "MyST label": re.compile(r"^\([\w-]+\)=[ \t]*$", re.MULTILINE),
    "reST reference": re.compile(r"(?<![`\w])`[^`\n]+<[^`\n<>]+>`(?![`\w])"),
}


def leftover_markup(markdown: str) -> list[str]:
    """Every Sphinx role or directive left in a Markdown text, as ``kind: text``."""
    found = []
    for kind, pattern in LEFTOVER_PATTERNS.items():
        # a reference inside a role (:ref:`title <label>`) counts once, as the role
        text = markdown if kind != "reST reference" else MYST_ROLE.sub(
            "", REST_ROLE.sub("", markdown))
        found += [f"{kind}: {match.group(0).strip()}" for match in pattern.finditer(text)]
    return found


@dataclass
class Directive:
    """A directive met in a Markdown cell: its name, argument and options, body dropped."""

    name: str
    argument: str
    options: dict[str, str]


class UnknownDirective(ValueError):
    """A directive with no Markdown form in :func:`to_markdown`."""


def _split_body(body: str) -> tuple[str, str | None, bool]:
    """``title <target>`` -> (target, title, short): ``~`` and ``!`` prefixes read too."""
    match = EXPLICIT.match(body.strip())
    title = None
    target = body.strip()
    if match:
        title, target = match["title"], match["target"].strip()
    short = target.startswith("~")
    return target.lstrip("~!"), title, short


def python_text(role: str, target: str, short: bool, parentheses: bool = True) -> str:
    """How Sphinx shows a Python object's name: the last part with ``~``, ``()`` for calls."""
    text = target.rsplit(".", 1)[-1] if short else target
    if parentheses and role in ("func", "meth") and not text.endswith(")"):
        text += "()"
    return text


def _role_markdown(domain: str | None, role: str, body: str, resolve: Resolver) -> str:
    if role == "math":
        return f"${body}$"
    target, title, short = _split_body(body)
    if role in CODE_ROLES:
        return f"`{body}`"
    if role in PYTHON_ROLES and (domain in (None, "py")):
        target = target.lstrip(".")  # a ``.name`` searches outward from the current module
        text = title or python_text(role, target, short)
        url, _ = resolve(role, target, title) if not body.startswith("!") else (None, text)
        code = text if title else f"`{text}`"
        return f"[{code}]({url})" if url else code
    if role == "abbr":
        return title or target
    url, text = resolve(role, target, title)
    return f"[{text}]({url})" if url else text


def _directive_markdown(directive: Directive, body: str,
                        render: Callable[[Directive], str | None]) -> str:
    if directive.name in ADMONITIONS:
        title = "See also" if directive.name == "seealso" else directive.name.capitalize()
        text = body.strip()
        quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
        return f"> **{title}:**\n>\n{quoted}\n" if text else f"> **{title}**\n"
    rendered = render(directive)
    if rendered is None:
        raise UnknownDirective(directive.name)
    return rendered


def _rest_directive_blocks(text: str):
    """Each reST directive in ``text``: (start, end, Directive, body).

    A directive's block is its line and every following line that is blank or indented
    deeper; the options are the ``:name: value`` lines that open it (a value may go on
    over lines indented deeper still), the body is the rest.
    """
    for match in REST_DIRECTIVE.finditer(text):
        indent = len(match.group(0)) - len(match.group(0).lstrip())
        block: list[str] = []
        stop = match.end()
        for line in text[match.end():].split("\n")[1:]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            block.append(line)
            stop += len(line) + 1
        while block and not block[-1].strip():
            stop -= len(block.pop()) + 1
        stop = min(stop + 1, len(text))  # and the newline that ends the block
        options: dict[str, str] = {}
        key = None
        for position, line in enumerate(block):
            option = re.match(r"\s*:([\w-]+):\s*(.*)$", line)
            if option:
                key, options[option[1]] = option[1], option[2]
            elif key is not None and line.strip():
                options[key] = f"{options[key]} {line.strip()}".strip()
            else:  # a blank line or text: the body starts
                body = block[position:]
                break
        else:
            body = []
        directive = Directive(match["name"], match["arg"].strip(), options)
        yield match.start(), stop, directive, textwrap.dedent("\n".join(body))


def _myst_directive(match: re.Match) -> tuple[Directive, str]:
    body = match["body"]
    options: dict[str, str] = {}
    if body.startswith("---\n"):
        head, _, body = body[4:].partition("---\n")
        for line in head.splitlines():
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
    else:
        lines = body.split("\n")
        while lines and (option := re.match(r":([\w-]+):\s*(.*)$", lines[0])):
            options[option[1]] = option[2]
            lines.pop(0)
        body = "\n".join(lines)
    return Directive(match["name"], match["arg"].strip(), options), body


def to_markdown(text: str, resolve: Resolver,
                render: Callable[[Directive], str | None] = lambda d: None,
                *, gallery: bool = False) -> str:
    """``text`` with every role and directive in Markdown form.

    ``render`` gives the Markdown of the site's own directives (None: not one of them);
    admonitions are turned into quotes here. Raises :class:`UnknownDirective` for any
    other directive. ``gallery``: the text is sphinx-gallery's Markdown, where a single
    backtick span is what is left of a ``:ref:`` (in MyST it is inline code).
    """
    # directives first: their bodies may hold roles, converted below
    text = MYST_LABEL.sub("", text)

    def myst(match: re.Match) -> str:
        directive, body = _myst_directive(match)
        return _directive_markdown(directive, body, render)

    text = MYST_FENCE.sub(myst, text)
    pieces, last = [], 0
    for start, stop, directive, body in _rest_directive_blocks(text):
        if start < last:
            continue
        pieces += [text[last:start], _directive_markdown(directive, body, render)]
        last = stop
    text = "".join(pieces) + text[last:]
    text = REST_ROLE.sub(lambda m: _role_markdown(m["domain"], m["role"], m["body"], resolve),
                         text)
    text = MYST_ROLE.sub(lambda m: _role_markdown(m["domain"], m["role"], m["body"], resolve),
                         text)

    def gallery_ref(match: re.Match) -> str:
        target, title, _ = _split_body(match["body"])
        url, link_text = resolve("ref", target, title)
        if url is None:
            return match.group(0)
        return f"[{link_text}]({url})"

    if not gallery:
        return text
    return _outside_code(text, lambda part: GALLERY_REF.sub(gallery_ref, part))


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the text outside fenced code blocks and ````double```` spans."""
    parts = re.split(r"(```.*?```|``[^`]+``|\[`[^`]+`\]\([^)]*\))", text, flags=re.DOTALL)
    return "".join(part if index % 2 else change(part) for index, part in enumerate(parts))
