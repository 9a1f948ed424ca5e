"""The build's kernel command: a kernel forked by the kernel server, or a plain one.

jupyter_client starts this module as the kernel (the build's kernel spec,
``autograd_site.sphinxext.execution``) with ipykernel's arguments. It asks the kernel
server (``autograd_site.kernel_server``, whose socket is named by
``AUTOGRAD_SITE_KERNEL_SERVER``) to fork a kernel, then stands in for that kernel:
it forwards the signals jupyter_client sends it, and exits with the kernel's exit code
when the kernel ends. If no server is named, or the server cannot serve this
environment, it becomes a plain ``python -m ipykernel_launcher`` with the same
arguments.

Usage: ``python -m autograd_site.kernel_launcher -f CONNECTION_FILE``.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys

from autograd_site.kernel_server import STREAMS, encode_request

SERVER_VARIABLE = "AUTOGRAD_SITE_KERNEL_SERVER"

# The signals jupyter_client may send a kernel: interrupt, and the ways to stop it
# (SIGKILL cannot be forwarded: the kernel then sees this process's socket close).
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _plain_kernel(arguments: list[str]) -> None:
    """Replace this process with ``python -m ipykernel_launcher ARGUMENTS``."""
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *arguments])


def _ask_server(path: str, arguments: list[str]) -> tuple[socket.socket, int] | str:
    """The connection and the forked kernel's pid, or why the server did not fork one."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        socket.send_fds(
            conn,
            [encode_request(arguments, os.getcwd(), dict(os.environ))],
            list(range(STREAMS)),
        )
        reply = conn.makefile("rb").readline().decode()
    except OSError as err:
        conn.close()
        return f"cannot reach the kernel server at {path}: {err}"
    if reply.startswith("started "):
        return conn, int(reply.split()[1])
    conn.close()
    return reply.strip() or "the kernel server closed the connection"


def _stand_in(conn: socket.socket, kernel: int) -> int:
    """Forward signals to the kernel until it ends; return its exit code."""
    for signum in FORWARDED:
        signal.signal(signum, lambda received, _frame: os.kill(kernel, received))
    parent = os.getppid()
    received = b""
    while True:
        # The socket closes when the kernel ends; check on the parent every second
        # (as ipykernel's own parent poller does), so no kernel outlives its client.
        readable, _, _ = select.select([conn], [], [], 1.0)
        if os.getppid() != parent:
            os.kill(kernel, signal.SIGKILL)
            return 1
        if not readable:
            continue
        chunk = conn.recv(4096)
        if not chunk:
            break
        received += chunk
    for line in received.decode().splitlines():
        if line.startswith("exit "):
            return int(line.split()[1])
    return 1  # the kernel ended without reporting: it crashed


def main(arguments: list[str]) -> int:
    """Run the kernel ipykernel's ``arguments`` describe; return its exit code."""
    path = os.environ.get(SERVER_VARIABLE)
    if not path:
        _plain_kernel(arguments)
    outcome = _ask_server(path, arguments)
    if isinstance(outcome, str):
        print(f"autograd_site.kernel_launcher: {outcome}; starting a plain kernel",
              file=sys.stderr)
        _plain_kernel(arguments)
    conn, kernel = outcome
    return _stand_in(conn, kernel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
