"""Math rendered at build time by KaTeX (sphinxcontrib-katex): one server, pages written in turn.

sphinxcontrib-katex prerenders every expression through one Node server per
process, over one socket. Sphinx's parallel writers are forked children that
would share that socket, and two writers reading one socket may swap answers;
so this extension declares the site's pages not parallel-write safe: reading
(and running the pages) stays parallel, writing runs in the main process.

The server is started once reading is done, through sphinxcontrib-katex's
public ``KaTeXServer.get()``. It connects as soon as Node has created its
socket file, which on a busy machine can be a moment before Node listens on
it, so a refused connection is tried again a few times.
"""

from __future__ import annotations

import time


def _start_katex_server(app, env):
    if app.builder.format != "html" or not app.config.katex_prerender:
        return
    from sphinxcontrib.katex import KaTeXServer

    for attempt in range(5):
        try:
            KaTeXServer.get()
            return
        except ConnectionRefusedError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def setup(app):
    app.connect("env-updated", _start_katex_server)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}
