"""Math rendered at build time by KaTeX: one server, one connection per process.

sphinxcontrib-katex prerenders every expression through one Node server, over
one socket that it keeps in ``KaTeXServer.katex_server``. Sphinx's parallel
writers are forked from the main process after it wrote the first page, so they
would inherit and share that socket, and two processes reading one socket may
swap answers. So:

- the server is started in the main process once reading is done, through the
  public ``KaTeXServer.get()``; it connects as soon as Node has created its
  socket file, which on a busy machine can be a moment before Node listens on
  it, so a refused connection is tried again a few times;
- each forked process opens its own connection to that same server (which
  serves each connection on its own) and uses it instead of the inherited one.

The second point replaces sphinxcontrib-katex's ``katex_server`` object in the
forked child: the one place the site sets another library's state. Writing the
pages in turn would avoid it, but Sphinx then warns ("not safe for parallel
writing"), which fails the nitpicky build.
"""

from __future__ import annotations

import os
import socket
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


def _own_connection_after_fork():
    from sphinxcontrib.katex import KaTeXServer

    shared = KaTeXServer.katex_server
    if shared is None:
        return
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(str(shared.rundir / "katex.sock"))
    KaTeXServer.katex_server = KaTeXServer(shared.rundir, shared.process, connection)


def setup(app):
    app.connect("env-updated", _start_katex_server)
    if os.name == "posix":  # the server listens on a Unix socket there
        os.register_at_fork(after_in_child=_own_connection_after_fork)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
