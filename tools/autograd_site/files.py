"""Files written whole or not at all, and digests of the code that made them.

The build keeps caches and derived files between builds (cut fonts, the characters of
each page's math, the MyST-NB pages' notebooks) and trusts them on the next build. A build
interrupted while writing one must leave the old file or none, never half of one that
the next build would take as current; and an entry made by older code must not pass for
one made by today's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` to write; on success it replaces ``target``
    in one step (``os.replace``), on failure it is removed and ``target`` is left as it was."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def code_digest(*sources: Path, versions: tuple[str, ...] = ()) -> str:
    """A digest of the files ``sources`` and of the version strings ``versions``: the key
    part that retires a cached result when the code that made it changes."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    for version in versions:
        digest.update(version.encode())
    return digest.hexdigest()
