"""The list of gradkit's equivalent mutants (read by `make mutation-gradkit`) stays current.

An entry explains every surviving mutant of its source line, so an entry whose line is gone
would silently explain a new line that happens to read the same, and a duplicate hides
which reason applies.
"""

from __future__ import annotations

import tomllib
from collections import Counter

from autograd_site.cli.mutmut_summary import EQUIVALENT
from autograd_site.project import ROOT


def test_every_entry_names_a_line_of_its_module_once() -> None:
    entries = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))["mutant"]
    stale = []
    for e in entries:
        source = (ROOT / "src" / "gradkit" / e["module"]).read_text(encoding="utf-8")
        if e["line"].strip() not in {line.strip() for line in source.splitlines()}:
            stale.append(f"{e['module']}: {e['line']}")
        assert e["reason"].strip(), e["line"]
    assert not stale, "entries whose line is no longer in src/gradkit (remove them):\n" + "\n".join(
        stale
    )
    twice = [k for k, n in Counter((e["module"], e["line"].strip()) for e in entries).items()
             if n > 1]
    assert not twice, twice
