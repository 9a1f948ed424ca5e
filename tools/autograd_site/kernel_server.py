"""Start the build's MyST-NB kernels from one process that has already imported torch.

A MyST-NB page runs in a fresh IPython kernel. Started the usual way
(``python -m ipykernel_launcher``), each kernel spent about 2.5 s of a 4 to 6 s page
before and after the page's own code: the interpreter and ipykernel starting,
``import torch`` in the first cell, and torch's teardown at exit. This server imports
numpy, torch, matplotlib and ipykernel's dependencies once per build; each kernel is then a child
forked from it that runs ``ipykernel``'s own ``launch_new_instance`` exactly as
``ipykernel_launcher`` does: a fresh process per page, with no cell run and no state
shared between pages (what a page can still tell apart is only that those modules are
already in ``sys.modules``).

How a kernel starts (``autograd_site.kernel_launcher`` is the other end):

1. The build's kernel spec runs the launcher, a small process that jupyter_client owns
   as "the kernel". It connects to this server's socket and sends its arguments, its
   working folder, its environment and its standard streams (file descriptors).
2. The server checks that the environment is the one it imported torch under (a
   variable torch or matplotlib read at import, such as ``ATEN_CPU_CAPABILITY``, would
   otherwise be ignored); if not, it refuses and the launcher starts a plain kernel.
3. The server forks. The child takes the launcher's streams, environment, folder and
   arguments, starts a session of its own (as jupyter_client starts kernels), and runs
   the kernel. It tells the launcher its process id; the launcher forwards the
   signals jupyter_client sends (interrupt, terminate) to it.
4. When the kernel shuts down, the child tells the launcher its exit code and leaves
   with ``os._exit``: torch's teardown has nothing to save. When the launcher dies
   (killed by jupyter_client), the child sees its socket close and exits too.

The server ends when its standard input closes: the build holds the other end
(``autograd_site.sphinxext.execution``), so it also ends when the build is killed.

Usage: ``python -m autograd_site.kernel_server SOCKET`` with the build's environment.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import traceback
from importlib.util import find_spec
from pathlib import Path
from typing import NoReturn

# What every page's kernel imports, imported once here. Not ipykernel itself: its
# application reads jupyter_client's per-kernel variables (JPY_PARENT_PID) when it is
# imported, so the kernel imports it (0.01 s once these are loaded). Not
# matplotlib.pyplot: importing it sets up the backend, which must happen inside the
# kernel (the inline backend hooks into the kernel's shell when pyplot loads it).
PRELOAD = ("numpy", "torch", "matplotlib", "IPython", "zmq", "tornado.ioloop", "jupyter_client")

# The variables jupyter_client sets for each kernel (jupyter_client/launcher.py); only
# ipykernel reads them, in the kernel, so they may differ from the server's.
PER_KERNEL = frozenset(
    {"JPY_PARENT_PID", "JPY_SESSION_NAME", "JPY_INTERRUPT_EVENT", "IPY_INTERRUPT_EVENT"}
)

# The header of a request: the length of its JSON body.
HEADER = struct.Struct("!I")
STREAMS = 3  # stdin, stdout, stderr

# A kernel's sys.argv[0], as under ``python -m ipykernel_launcher``.
LAUNCHER_FILE = str(find_spec("ipykernel_launcher").origin)


def environment_differences(requested: dict[str, str], own: dict[str, str]) -> list[str]:
    """Names of the variables, other than per-kernel ones, that differ between two environments."""
    names = set(requested) | set(own)
    return sorted(
        name
        for name in names
        if name not in PER_KERNEL and requested.get(name) != own.get(name)
    )


def encode_request(argv: list[str], cwd: str, env: dict[str, str]) -> bytes:
    """The bytes a launcher sends: a length header and a JSON body."""
    body = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode()
    return HEADER.pack(len(body)) + body


def _receive_request(conn: socket.socket) -> tuple[dict, list[int]]:
    """Read one request and the stream descriptors sent with it."""
    data, fds, _flags, _address = socket.recv_fds(conn, 65536, STREAMS)
    if len(data) < HEADER.size:
        raise ConnectionError("short request")
    (length,) = HEADER.unpack_from(data)
    body = data[HEADER.size :]
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ConnectionError("request cut short")
        body += chunk
    if len(fds) != STREAMS:
        raise ConnectionError(f"expected {STREAMS} stream descriptors, got {len(fds)}")
    return json.loads(body), fds


def _exit_when_launcher_ends(conn: socket.socket) -> None:
    """In the kernel: the launcher never writes, so a read returns only when it has gone."""
    try:
        conn.recv(1)
    finally:
        os._exit(1)


def _exit_code(code: object) -> int:
    """The process exit code that ``sys.exit(code)`` gives."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run_kernel(conn: socket.socket, request: dict, fds: list[int]) -> NoReturn:
    """In the forked child: become the kernel the launcher asked for; never returns."""
    code = 1
    try:
        for stream, fd in enumerate(fds):
            os.dup2(fd, stream)
            os.close(fd)
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        from ipykernel import kernelapp

        sys.argv = [LAUNCHER_FILE, *request["argv"]]
        conn.sendall(f"started {os.getpid()}\n".encode())
        threading.Thread(target=_exit_when_launcher_ends, args=(conn,), daemon=True).start()
        try:
            kernelapp.launch_new_instance()
            code = 0
        except SystemExit as stop:
            code = _exit_code(stop.code)
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, then exit 1
        traceback.print_exc()
    finally:
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - a closed stream has nothing left to say
                pass
        try:
            conn.sendall(f"exit {code}\n".encode())
        finally:
            os._exit(code)


def serve(path: str) -> NoReturn:
    """Listen on ``path`` and fork a kernel per request until standard input closes."""
    own_environment = dict(os.environ)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    # Launchers may connect now; they wait in the backlog until the imports are done.
    listener.listen(64)

    # As ipykernel_launcher does: the current folder is not on sys.path while the kernel
    # loads (the kernel's shell puts it back).
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    # As the kernel does before anything imports matplotlib (IPKernelApp.init_gui_pylab);
    # the child's environment is the launcher's again, and the kernel sets it once more.
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() != 1:
        # A fork copies only the calling thread; refuse rather than fork a broken process.
        sys.exit(f"kernel server: {threading.active_count()} threads after the imports")
    # Children are reaped by the system; the launcher reports each kernel's end.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        for key, _events in selector.select():
            if key.fileobj != listener:
                if not os.read(sys.stdin.fileno(), 1):
                    # The build has ended. Nothing here needs saving, and torch's teardown
                    # would keep the build waiting half a second.
                    os._exit(0)
                continue
            conn, _address = listener.accept()
            try:
                request, fds = _receive_request(conn)
            except (OSError, ValueError) as err:
                conn.close()
                print(f"kernel server: bad request: {err}", file=sys.stderr)
                continue
            differences = environment_differences(request["env"], own_environment)
            if differences:
                conn.sendall(f"refused: environment differs in {', '.join(differences)}\n".encode())
            elif os.fork() == 0:
                selector.close()
                listener.close()
                _run_kernel(conn, request, fds)
            conn.close()
            for fd in fds:
                os.close(fd)


if __name__ == "__main__":
    serve(sys.argv[1])
