"""The MyST-NB pages' kernels forked from the kernel server (autograd_site.kernel_server,
autograd_site.kernel_launcher, autograd_site.sphinxext.kernels).

- A forked kernel shows a page what a plain ``python -m ipykernel_launcher`` kernel
  shows it: arguments, import path, folder, environment, signal handlers, its own
  session, and figures drawn inline.
- jupyter_client's interrupt reaches the forked kernel; killing the launcher (what
  jupyter_client does to a kernel that will not stop) ends it; the server ends when the
  build's end of its standard input closes.
- Under another environment than the server's, the launcher starts a plain kernel.

The built pages themselves are judged by the site's other tests, on a build that uses
the server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from autograd_site.kernel_launcher import SERVER_VARIABLE
from autograd_site.kernel_server import (
    HEADER,
    PER_KERNEL,
    environment_differences,
    send_request,
)
from autograd_site.sphinxext.kernels import start_kernel_server, write_kernel_spec
from jupyter_client.manager import KernelManager

PROBE = r"""
import os, signal, sys, matplotlib
import matplotlib.pyplot as plt
ignored = {"JPY_PARENT_PID", "JPY_SESSION_NAME", SERVER}
print(json.dumps({
    "argv0": sys.argv[0],
    "orig_argv": sys.orig_argv[:3],
    "line width": matplotlib.rcParams["lines.linewidth"],
    "path": sys.path,
    "cwd": os.getcwd(),
    "backend": plt.get_backend(),
    "environment": {k: v for k, v in os.environ.items() if k not in ignored},
    "own session": os.getsid(0) == os.getpid(),
    "parent": os.getppid(),
    "signals": {s.name: str(signal.getsignal(s)) for s in (
        signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGPIPE)},
}))
"""


@pytest.fixture
def kernels(tmp_path, monkeypatch):
    """The build's kernel spec on JUPYTER_PATH, and a function to start a kernel server
    as the build starts it (sphinxext/kernels.py)."""
    jupyter = tmp_path / "jupyter"
    write_kernel_spec(jupyter)
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv(SERVER_VARIABLE, raising=False)
    servers = []

    def start_server():
        monkeypatch.setenv(SERVER_VARIABLE, str(jupyter / "server"))
        server = start_kernel_server(jupyter)
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        if server.poll() is None:
            server.communicate(timeout=30)  # closes its input: it ends
        server.stdout.close()


class Kernel:
    """A kernel started as the build starts it (kernel name ``python3``), in ``cwd``."""

    def __init__(self, cwd: Path):
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str, timeout: float = 120) -> dict:
        """Run ``code``; return its reply and what it printed or displayed."""
        outputs: list[dict] = []
        reply = self.client.execute_interactive(
            code, timeout=timeout, output_hook=lambda message: outputs.append(message)
        )
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        data = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
        return {"reply": reply["content"], "text": text, "data": data, "outputs": outputs}

    def pid(self) -> int:
        return int(self.run("import os; print(os.getpid())")["text"])

    def parent(self) -> int:
        return int(self.run("import os; print(os.getppid())")["text"])

    def stop(self):
        self.client.stop_channels()
        if self.manager.is_alive():
            self.manager.shutdown_kernel(now=False)


def _probe(cwd: Path) -> dict:
    kernel = Kernel(cwd)
    try:
        setup = f"import json\nSERVER = {SERVER_VARIABLE!r}\n"
        seen = json.loads(kernel.run(setup + PROBE)["text"])
        figure = kernel.run("plt.plot([1, 2]); plt.show()")["data"]
    finally:
        kernel.stop()
    seen["figure shown as"] = sorted({kind for item in figure for kind in item})
    return seen


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (not ended, not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_until(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_forked_kernel_shows_a_page_what_a_plain_kernel_shows(kernels, tmp_path):
    page_folder = tmp_path / "docs"
    page_folder.mkdir()
    plain = _probe(page_folder)
    server = kernels()
    forked = _probe(page_folder)
    assert plain.pop("parent") != server.pid
    assert forked.pop("parent") == server.pid, "the kernel was not forked by the server"
    assert forked == plain
    assert plain["figure shown as"] == ["image/png", "text/plain"]
    assert plain["cwd"] == str(page_folder)


def test_a_forked_kernel_comes_from_the_server_and_ends_when_its_launcher_is_killed(
    kernels, tmp_path
):
    server = kernels()
    kernel = Kernel(tmp_path)
    try:
        pid = kernel.pid()
        launcher = kernel.manager.provisioner.process.pid
        assert pid != launcher
        assert int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == server.pid
        os.kill(launcher, signal.SIGKILL)  # what jupyter_client does to a kernel that will not stop
        assert _wait_until(lambda: not _alive(pid)), "the forked kernel outlived its launcher"
    finally:
        kernel.client.stop_channels()
        kernel.manager.cleanup_resources()


def test_an_interrupt_reaches_the_forked_kernel(kernels, tmp_path):
    server = kernels()
    kernel = Kernel(tmp_path)
    try:
        assert kernel.parent() == server.pid
        request = kernel.client.execute("import time; time.sleep(60)")
        time.sleep(1)
        start = time.monotonic()
        kernel.manager.interrupt_kernel()
        while (message := kernel.client.get_shell_msg(timeout=30))["parent_header"].get(
            "msg_id"
        ) != request:
            pass
        reply = message["content"]
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - start < 30
        # the kernel goes on (its reply, not its printed output, which jupyter_client
        # sometimes drops after an interrupt, plain kernels too)
        assert kernel.run("6 * 7")["reply"]["status"] == "ok"
    finally:
        kernel.stop()


def test_a_shut_down_kernel_ends_and_its_launcher_reports_exit_code_zero(kernels, tmp_path):
    server = kernels()
    kernel = Kernel(tmp_path)
    assert kernel.parent() == server.pid
    pid = kernel.pid()
    launcher = kernel.manager.provisioner.process
    kernel.stop()
    assert launcher.wait(timeout=30) == 0
    assert _wait_until(lambda: not _alive(pid))


def test_the_server_ends_when_its_input_closes(kernels):
    server = kernels()
    time.sleep(0.5)
    server.stdin.close()
    assert server.wait(timeout=60) == 0


def test_under_another_environment_the_launcher_starts_a_plain_kernel(
    kernels, tmp_path, monkeypatch
):
    server = kernels()
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")  # read by torch at import
    console, printed, parent = _page_in_a_new_kernel(
        tmp_path, "import os; print(os.environ['ATEN_CPU_CAPABILITY'])\n"
    )
    assert parent != server.pid
    assert printed.split()[0] == "default"
    assert "environment differs in ATEN_CPU_CAPABILITY; starting a plain kernel" in console


def test_environment_differences_ignore_only_the_per_kernel_variables():
    own = {"PATH": "/bin", "OMP_NUM_THREADS": "1"}
    per_kernel = dict.fromkeys(PER_KERNEL, "7")
    assert environment_differences({**own, **per_kernel}, own) == []
    assert environment_differences({**own, "OMP_NUM_THREADS": "2"}, own) == ["OMP_NUM_THREADS"]
    assert environment_differences({"PATH": "/bin"}, own) == ["OMP_NUM_THREADS"]
    assert environment_differences({**own, "TORCH_LOGS": "+dynamo"}, own) == ["TORCH_LOGS"]


def test_a_forked_kernel_computes_on_several_threads(kernels, tmp_path, monkeypatch):
    """The server loads torch but runs no operation, so a forked kernel starts torch's
    thread pool afresh (a pool started before a fork would hang the child); numpy's
    OpenBLAS pool, started at import, is stopped and restarted around the fork."""
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    server = kernels()
    kernel = Kernel(tmp_path)
    try:
        assert kernel.parent() == server.pid
        printed = kernel.run(
            "import numpy, torch\n"
            "a = torch.ones(1500, 1500)\n"
            "b = numpy.ones((1500, 1500))\n"
            "print(torch.get_num_threads(), float((a @ a)[0, 0]), float(torch.ones(10**7).sum()),"
            " (b @ b)[0, 0])",
            timeout=60,
        )["text"]
    finally:
        kernel.stop()
    assert printed.split() == ["2", "1500.0", "10000000.0", "1500.0"]


def test_an_interrupt_reaches_the_pages_own_processes(kernels, tmp_path):
    """jupyter_client signals a plain kernel's process group: a command the page started
    is interrupted with it."""
    server = kernels()
    kernel = Kernel(tmp_path)
    try:
        assert kernel.parent() == server.pid
        kernel.run("import subprocess; sleeper = subprocess.Popen(['sleep', '60'])")
        request = kernel.client.execute("import time; time.sleep(60)")
        time.sleep(1)
        kernel.manager.interrupt_kernel()
        while kernel.client.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != request:
            pass
        ended = kernel.run("print(sleeper.wait(timeout=5))")["text"]
    finally:
        kernel.stop()
    assert ended.strip() == str(-signal.SIGINT)


def test_a_pages_exit_handlers_run_when_its_kernel_shuts_down(kernels, tmp_path):
    server = kernels()
    kernel = Kernel(tmp_path)
    mark = tmp_path / "ran"
    assert kernel.parent() == server.pid
    kernel.run(f"import atexit, pathlib; atexit.register(pathlib.Path({str(mark)!r}).touch)")
    kernel.stop()
    assert _wait_until(mark.exists), "the page's atexit function did not run"


def test_each_forked_kernel_draws_its_own_random_numbers(kernels, tmp_path):
    """numpy and torch seed their global generators from entropy when imported (in the
    server); each forked kernel seeds them afresh, as a fresh process would."""
    server = kernels()
    draw = (
        "import random, numpy, torch\n"
        "print(random.random(), numpy.random.rand(), torch.rand(1).item(), torch.initial_seed())"
    )
    drawn = []
    for _ in range(2):
        kernel = Kernel(tmp_path)
        try:
            assert kernel.parent() == server.pid
            drawn.append(kernel.run(draw)["text"].split())
        finally:
            kernel.stop()
    assert all(first != second for first, second in zip(*drawn, strict=True)), drawn


def test_a_page_folder_with_a_matplotlibrc_gets_a_plain_kernel(kernels, tmp_path):
    """matplotlib reads ./matplotlibrc when imported, which the server did elsewhere."""
    server = kernels()
    page_folder = tmp_path / "docs"
    page_folder.mkdir()
    (page_folder / "matplotlibrc").write_text("lines.linewidth: 7\n")
    kernel = Kernel(page_folder)
    try:
        assert kernel.parent() != server.pid
        printed = kernel.run("import matplotlib; print(matplotlib.rcParams['lines.linewidth'])")
    finally:
        kernel.stop()
    assert printed["text"] == "7.0\n"


def test_the_server_outlives_a_launcher_that_leaves_early(kernels, tmp_path):
    """A refused launcher that has gone, or one that sends half a request or a malformed
    one, ends only its own request: the next kernel is still forked."""
    server = kernels()
    path = os.environ[SERVER_VARIABLE]
    def raw(body: bytes, length: int | None = None):
        header = HEADER.pack(len(body) if length is None else length)
        return lambda conn: (socket.send_fds(conn, [header], [0, 1, 2]), conn.sendall(body))

    for send in (
        lambda conn: send_request(conn, ["-f", "x"], str(tmp_path), {"A": "differs"}),
        lambda conn: conn.sendall(b"\0\0"),
        raw(b'{"argv": ["-f", "x"]}'),
        raw(b"[1, 2]"),
        raw(b"not json"),
        raw(b"{}", length=1 << 31),
    ):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        send(conn)
        conn.close()
    kernel = Kernel(tmp_path)
    try:
        assert kernel.parent() == server.pid
    finally:
        kernel.stop()
    assert server.poll() is None


def _page_in_a_new_kernel(folder: Path, code: str) -> tuple[str, str, int]:
    """Run ``code`` in a kernel started in ``folder``, as the build starts one; return what
    the kernel wrote on its standard error (the build's console), what the page printed,
    and the kernel's parent process."""
    stderr = folder / "stderr"
    printed: list[str] = []

    def keep(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    with open(stderr, "w") as sink:
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(cwd=str(folder), stderr=sink)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            client.execute_interactive(code + "import os; print(os.getppid())",
                                       timeout=120, output_hook=keep)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)
    text = "".join(printed)
    return stderr.read_text(), text, int(text.split()[-1])


def test_a_forked_kernel_writes_on_the_console_what_a_plain_kernel_writes(kernels, tmp_path):
    """Nothing more reaches the build's console from a forked kernel, its exit included
    (what the server loaded is never freed: no library may report it as leaked)."""
    page = (
        "import torch, matplotlib.pyplot as plt\n"
        "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\n"
        "torch.testing.assert_close(torch.ones(2), torch.ones(2))\n"
        "plt.plot([1, 2]); plt.show()\n"
    )
    (tmp_path / "plain").mkdir()
    (tmp_path / "forked").mkdir()
    plain, _, _ = _page_in_a_new_kernel(tmp_path / "plain", page)
    server = kernels()
    forked, _, parent = _page_in_a_new_kernel(tmp_path / "forked", page)
    assert parent == server.pid
    assert forked.splitlines() == plain.splitlines()


def test_a_kernel_killed_outright_ends_its_launcher_with_exit_code_one(kernels, tmp_path):
    """A kernel that ends without reporting (killed, crashed) is reported as failed."""
    server = kernels()
    kernel = Kernel(tmp_path)
    try:
        assert kernel.parent() == server.pid
        os.kill(kernel.pid(), signal.SIGKILL)
        assert kernel.manager.provisioner.process.wait(timeout=30) == 1
    finally:
        kernel.client.stop_channels()
        kernel.manager.cleanup_resources()
