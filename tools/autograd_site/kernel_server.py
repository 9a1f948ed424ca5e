"""Start the build's MyST-NB kernels from one process that has already imported torch.

A MyST-NB page runs in a fresh IPython kernel. Started the usual way
(``python -m ipykernel_launcher``), a kernel spent 2.5 to 5 s of each page outside the
page's own work: the interpreter and ipykernel starting, ``import torch``, what torch
and matplotlib load on a page's first calls, and freeing all of it at exit. This
server imports numpy, torch, matplotlib, ipykernel's dependencies and those parts
once per build (``PRELOAD``); each kernel is then a child forked from it that runs
ipykernel's own ``launch_new_instance`` as ``ipykernel_launcher`` does: a fresh
process per page, with no cell run and no state shared between pages, that exits as a
plain kernel does.

What a page can tell apart (``tests/site/test_kernel_server.py`` compares a page's view
of both kernels: arguments, import path, folder, environment, signal handlers, session,
random state, inline figures, console output, exit handlers, signals reaching the page's
own children):
- the modules above are already in ``sys.modules``, with the warning filters and
  loggers they set up at import, set up before IPython's rather than after;
- what they made is frozen (``gc.freeze``): ``gc.get_objects()`` and
  ``gc.get_referrers()`` do not list it and the collector never frees it (what a page
  makes, its tensors included, is listed and collected as usual);
- the process: its parent is the server, one more thread watches the launcher, its
  peak memory (``ru_maxrss``) includes the server's, ``/proc/self/cmdline`` and
  ``/proc/self/environ`` show the server's start (``sys.orig_argv`` and ``os.environ``
  are the kernel's), and the outermost frames of ``inspect.stack()`` are this module's;
- generators seeded at import by other libraries (sympy's) start where the server's
  did; Python's, numpy's and torch's global generators are seeded afresh in each kernel;
- the string hash seed is the server's, the same for every page of a build (a fresh
  seed per build, as before: no page may print in an order that depends on it).

How a kernel starts (``autograd_site.kernel_launcher`` is the other end):

1. The build's kernel spec runs the launcher, a small process that jupyter_client owns
   as "the kernel". It connects to this server's socket and sends its arguments, its
   working folder, its environment and its standard streams (file descriptors).
2. The server checks that the kernel would see what the server imported under: the
   same environment (a variable torch or matplotlib reads at import, such as
   ``ATEN_CPU_CAPABILITY``) and no ``matplotlibrc`` in either working folder (matplotlib
   reads one at import). If not, it refuses and the launcher starts a plain kernel.
3. The server forks. The child takes the launcher's streams, environment, folder and
   arguments, starts a session of its own (as jupyter_client starts kernels: the
   signals it sends reach the page's own child processes too), draws a fresh random
   state for numpy, and runs the kernel. It tells the launcher its process id; the
   launcher forwards jupyter_client's signals (interrupt, terminate) to its group.
4. When the kernel shuts down, the child tells the launcher its exit code and exits as
   a plain kernel does (exit handlers, finalizers). The launcher exits when the
   child's process has ended, watched through a pidfd the child sends it. When the
   launcher is killed (jupyter_client's last resort), the child sees its socket close
   and kills its own process group.

The server ends when its standard input closes: the build holds the other end
(``autograd_site.sphinxext.kernels``), so it also ends when the build is killed. It then
removes its socket and prints, on its standard output, how many kernels it forked and
how many it refused (``{"forked": 9, "refused": 0}``).

Usage: ``python -m autograd_site.kernel_server SOCKET`` with the build's environment,
from a folder without a ``matplotlibrc``.
"""

from __future__ import annotations

import gc
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
# imported, so the kernel imports it (0.03 s once these are loaded). Not
# matplotlib.pyplot: importing it sets up the backend and its hooks into the shell,
# which must happen inside the kernel (the inline backend needs the kernel's shell).
PRELOAD = (
    "numpy", "torch", "matplotlib", "IPython", "zmq", "tornado.ioloop", "jupyter_client",
    # What the pages load on first use, in a fresh process each time: the first
    # torch.testing.assert_close loads sympy and DTensor (0.4 s), the first
    # ``import matplotlib.pyplot`` loads matplotlib's figure machinery (0.4 s).
    "sympy", "matplotlib.figure", "matplotlib.backend_bases", "matplotlib.font_manager",
    "matplotlib.mathtext",
)

# The variables set for each kernel by jupyter_client (JPY_PARENT_PID, the interrupt
# events) or by the notebook client that starts it (JPY_SESSION_NAME). Only ipykernel
# reads them, in the kernel, after the fork, so they may differ from the server's.
PER_KERNEL = frozenset(
    {"JPY_PARENT_PID", "JPY_SESSION_NAME", "JPY_INTERRUPT_EVENT", "IPY_INTERRUPT_EVENT"}
)

# The header of a request: the length of its JSON body. It travels with the streams.
HEADER = struct.Struct("!I")
STREAMS = 3  # stdin, stdout, stderr
REQUEST_TIMEOUT = 30  # seconds a launcher may take to send its request
MAX_REQUEST = 1 << 20  # bytes: an environment is a few kilobytes

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


def refusal(request: dict, own_environment: dict[str, str]) -> str | None:
    """Why a kernel forked from this server would not see what a plain one sees, if it would not."""
    differences = environment_differences(request["env"], own_environment)
    if differences:
        return f"environment differs in {', '.join(differences)}"
    for folder in (request["cwd"], os.getcwd()):
        if os.path.exists(os.path.join(folder, "matplotlibrc")):
            return f"{folder} has a matplotlibrc, which matplotlib reads when imported there"
    return None


def send_request(conn: socket.socket, argv: list[str], cwd: str, env: dict[str, str]) -> None:
    """Send a kernel request with this process's standard streams (the launcher's side)."""
    body = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode()
    socket.send_fds(conn, [HEADER.pack(len(body))], list(range(STREAMS)))
    conn.sendall(body)


def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("request cut short")
        data += chunk
    return data


def _receive_request(conn: socket.socket, fds: list[int]) -> dict:
    """Read one request; the stream descriptors sent with it are appended to ``fds``."""
    header, received, _flags, _address = socket.recv_fds(conn, HEADER.size, STREAMS)
    fds.extend(received)
    if not header:
        raise ConnectionError("no request")
    header += _receive_exactly(conn, HEADER.size - len(header))
    if len(fds) != STREAMS:
        raise ConnectionError(f"expected {STREAMS} stream descriptors, got {len(fds)}")
    (length,) = HEADER.unpack(header)
    if length > MAX_REQUEST:
        raise ValueError(f"a request of {length} bytes")
    request = json.loads(_receive_exactly(conn, length))
    if not (
        isinstance(request, dict)
        and isinstance(request.get("argv"), list)
        and all(isinstance(item, str) for item in request["argv"])
        and isinstance(request.get("cwd"), str)
        and isinstance(request.get("env"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in request["env"].items())
    ):
        raise ValueError("a request without its argv, cwd and env")
    return request


def _end_group_when_launcher_ends(conn: socket.socket) -> None:
    """In the kernel: the launcher never writes after its request, so a read returns only
    when it has gone (killed); then end the kernel and its children, as jupyter_client's
    kill of a plain kernel's process group would."""
    try:
        ended = conn.recv(1) == b""
    except OSError:
        return
    if ended:
        os.killpg(0, signal.SIGKILL)


def _exit_code(code: object) -> int:
    """The process exit code that ``sys.exit(code)`` gives."""
    if code is None:
        return 0
    return int(code) if isinstance(code, int) else 1


def _run_kernel(conn: socket.socket, request: dict, fds: list[int]) -> NoReturn:
    """In the forked child: become the kernel the launcher asked for; never returns."""
    code: object = 1
    try:
        for stream, fd in enumerate(fds):
            os.dup2(fd, stream)
            os.close(fd)
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = [LAUNCHER_FILE, *request["argv"]]
        sys.orig_argv = [sys.executable, "-m", "ipykernel_launcher", *request["argv"]]
        # numpy's and torch's global generators were seeded once, from entropy, when the
        # server imported them; a fresh process seeds them afresh (Python's random module
        # reseeds itself after a fork).
        import numpy
        import torch

        numpy.random.seed()
        torch.default_generator.seed()
        from ipykernel import kernelapp

        # With this process's pidfd, the launcher can watch it and signal it by name,
        # whenever this process ends (the server reaps it at once, freeing its pid).
        pidfd = os.pidfd_open(os.getpid())
        socket.send_fds(conn, [f"started {os.getpid()}\n".encode()], [pidfd])
        os.close(pidfd)
        threading.Thread(target=_end_group_when_launcher_ends, args=(conn,), daemon=True).start()
        try:
            kernelapp.launch_new_instance()
            code = 0
        except SystemExit as stop:
            code = stop.code
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, then exit 1
        traceback.print_exc()
        code = 1
    try:
        conn.sendall(f"exit {_exit_code(code)}\n".encode())
    except OSError:
        pass  # the launcher has gone; the watching thread ends this process
    # Exit as ``python -m ipykernel_launcher`` does: exit handlers, finalizers, flushing.
    sys.exit(code)


def _serve_one(conn: socket.socket, own_environment: dict[str, str], counts: dict[str, int]):
    """Answer one launcher: refuse, or fork a kernel for it; count which in ``counts``.

    Returns ``(conn, request, fds)`` in the forked child, which then becomes the kernel
    (outside every ``try`` of the server, so that its exit unwinds nothing of the
    server's); ``None`` in the server."""
    fds: list[int] = []
    child = False
    try:
        conn.settimeout(REQUEST_TIMEOUT)
        request = _receive_request(conn, fds)
        conn.settimeout(None)
        reason = refusal(request, own_environment)
        if reason:
            counts["refused"] += 1
            conn.sendall(f"refused: {reason}\n".encode())
        else:
            counts["forked"] += 1
            sys.stdout.flush()
            sys.stderr.flush()
            child = os.fork() == 0
    except Exception as err:  # noqa: BLE001 - one launcher's failure ends only its request
        print(f"kernel server: a request failed: {err!r}", file=sys.stderr)
    if child:
        return conn, request, fds
    conn.close()
    for fd in fds:
        os.close(fd)
    return None


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
    _load_what_first_use_loads()
    # A fork copies only the calling thread. No Python thread may be running (their
    # locks would stay held in the child). Native thread pools may: numpy's OpenBLAS
    # starts one at import when it may use more than one thread, and stops and restarts
    # it around a fork (pthread_atfork); torch's pool starts with the first operation,
    # and none runs here (tests/site/test_kernel_server.py computes in a forked kernel
    # with both on two threads).
    if threading.active_count() != 1:
        sys.exit(f"kernel server: {threading.active_count()} Python threads after the imports")
    # Children are reaped by the system; each launcher watches its own kernel.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # What the imports made is never collected: each kernel's garbage collector leaves
    # it alone, and a kernel's exit does not free it one object at a time (0.2 s
    # instead of 1 s: Python's advice for a server that forks, ``gc.freeze``).
    gc.freeze()

    counts = {"forked": 0, "refused": 0}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        for key, _events in selector.select():
            if key.fileobj == listener:
                conn, _address = listener.accept()
                kernel = _serve_one(conn, own_environment, counts)
                if kernel is not None:
                    selector.close()
                    listener.close()
                    _run_kernel(*kernel)
            elif not os.read(sys.stdin.fileno(), 1):
                # The build has ended: say how many kernels were forked and refused (on
                # standard output, which the build reads). The kernels are processes of
                # their own; nothing here needs saving, and torch's teardown would keep
                # the build waiting.
                listener.close()
                os.unlink(path)
                print(json.dumps(counts), flush=True)
                os._exit(0)


def _load_what_first_use_loads() -> None:
    """Load the parts of torch a page's first calls load, by public means, computing nothing.

    No tensor operation runs here, so no thread pool exists when the server forks. Not
    torch's compiler front end, which the first optimizer loads (0.6 s): it loads
    triton, whose objects, frozen below, would be reported as leaked when a kernel exits.
    """
    import torch

    if torch.distributed.is_available():
        # what the first torch.testing.assert_close imports
        importlib.import_module("torch.distributed.tensor")


if __name__ == "__main__":
    serve(sys.argv[1])
