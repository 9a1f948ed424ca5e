"""The build's kernel command: a kernel forked by the kernel server, or a plain one.

jupyter_client starts this module as the kernel (the build's kernel spec, written by
``autograd_site.sphinxext.kernels``) with ipykernel's arguments. It asks the kernel
server (``autograd_site.kernel_server``, whose socket is named by
``AUTOGRAD_SITE_KERNEL_SERVER``) to fork a kernel, then stands in for that kernel: it
forwards the signals jupyter_client sends it to the kernel's process group (as
jupyter_client signals a plain kernel's group), and exits once the kernel's process
has ended, with the exit code the kernel reported (:func:`_stand_in`). If no server is
named, or the server cannot serve this kernel, it becomes a plain
``python -m ipykernel_launcher`` with the same arguments, and says why on its standard
error.

Usage: ``python -m autograd_site.kernel_launcher -f CONNECTION_FILE``.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys

from autograd_site.kernel_server import send_request

SERVER_VARIABLE = "AUTOGRAD_SITE_KERNEL_SERVER"

# The signals jupyter_client may send a kernel: interrupt, and the ways to stop it
# (SIGKILL cannot be forwarded: the kernel then sees this process's socket close).
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _plain_kernel(arguments: list[str]) -> None:
    """Replace this process with ``python -m ipykernel_launcher ARGUMENTS``."""
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *arguments])


def _ask_server(path: str, arguments: list[str], pending: bytearray):
    """The connection, the forked kernel's pid and pidfd, or why no kernel was forked.

    What the server or kernel sends after its first line is kept in ``pending``."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pidfds: list[int] = []
    try:
        conn.connect(path)
        send_request(conn, arguments, os.getcwd(), dict(os.environ))
        while b"\n" not in pending:
            chunk, fds, _flags, _address = socket.recv_fds(conn, 4096, 1)
            pidfds += fds
            if not chunk:
                break
            pending += chunk
    except OSError as err:
        conn.close()
        return f"cannot reach the kernel server at {path}: {err}"
    reply, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    if reply.startswith(b"started ") and len(pidfds) == 1:
        return conn, int(reply.split()[1]), pidfds[0]
    conn.close()
    return reply.decode().strip() or "the kernel server closed the connection"


def _signal_group(kernel: int, alive, signum: int) -> None:
    """Send ``signum`` to the kernel's process group while the kernel lives."""
    if alive():
        try:
            os.killpg(kernel, signum)
        except ProcessLookupError:
            pass


def _stand_in(conn: socket.socket, kernel: int, ended: int, pending: bytearray,
              parent: int) -> int:
    """Forward signals to the kernel until its process ends; return its exit code.

    ``ended`` is the kernel's pidfd: it names that very process, and becomes readable
    when the process ends (the kernel is the server's child, not ours). The exit code
    is the one the kernel reported when ipykernel returned; 1 if it ended without
    reporting (killed, crashed, or ended by the page with ``os._exit``)."""

    def alive() -> bool:
        return not select.select([ended], [], [], 0)[0]

    for signum in FORWARDED:
        signal.signal(signum, lambda received, _frame: _signal_group(kernel, alive, received))
    watched = [ended, conn]
    while ended in watched:
        # Check on the parent every second (as ipykernel's own parent poller does), so
        # no kernel outlives the process that started it.
        readable, _, _ = select.select(watched, [], [], 1.0)
        if os.getppid() != parent:
            _signal_group(kernel, alive, signal.SIGKILL)
            return 1
        if ended in readable:
            watched.remove(ended)
        if conn in readable:
            chunk = conn.recv(4096)
            if not chunk:
                watched.remove(conn)
            pending += chunk
    # What the kernel sent just before it ended (never wait: a process the page
    # started may hold the connection open).
    conn.setblocking(False)
    try:
        while chunk := conn.recv(4096):
            pending += chunk
    except BlockingIOError:
        pass
    for line in bytes(pending).decode().splitlines():
        if line.startswith("exit "):
            return int(line.split()[1])
    return 1


def main(arguments: list[str]) -> int:
    """Run the kernel ipykernel's ``arguments`` describe; return its exit code."""
    # jupyter_client names the process that started this one; if it dies, so does the kernel
    parent = int(os.environ.get("JPY_PARENT_PID") or os.getppid())
    path = os.environ.get(SERVER_VARIABLE)
    if not path:
        _plain_kernel(arguments)
    pending = bytearray()
    outcome = _ask_server(path, arguments, pending)
    if isinstance(outcome, str):
        print(f"autograd_site.kernel_launcher: {outcome}; starting a plain kernel",
              file=sys.stderr)
        _plain_kernel(arguments)
    conn, kernel, ended = outcome
    return _stand_in(conn, kernel, ended, pending, parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
