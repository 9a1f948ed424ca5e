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
import subprocess
import sys
import time
from pathlib import Path

import pytest
from autograd_site.kernel_launcher import SERVER_VARIABLE
from autograd_site.kernel_server import PER_KERNEL, environment_differences
from autograd_site.sphinxext.kernels import kernel_spec, wait_for_socket
from jupyter_client.manager import KernelManager

PROBE = r"""
import os, signal, sys, matplotlib
import matplotlib.pyplot as plt
ignored = {"JPY_PARENT_PID", "JPY_SESSION_NAME", "PWD", "OLDPWD", "_", "SHLVL", SERVER}
print(json.dumps({
    "argv0": sys.argv[0],
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
    """The build's kernel spec on JUPYTER_PATH, and a function to start a kernel server."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(kernel_spec(sys.executable)))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv(SERVER_VARIABLE, raising=False)
    servers = []

    def start_server():
        path = str(tmp_path / "server")
        monkeypatch.setenv(SERVER_VARIABLE, path)
        server = subprocess.Popen(
            [sys.executable, "-m", "autograd_site.kernel_server", path],
            stdin=subprocess.PIPE,
            start_new_session=True,
            env=dict(os.environ),  # as the build starts it (sphinxext/kernels.py)
        )
        servers.append(server)
        wait_for_socket(server, path)
        return server

    yield start_server
    for server in servers:
        server.stdin.close()
        server.wait(timeout=30)


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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


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
        assert kernel.run("print(6 * 7)")["text"] == "42\n"
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
    stderr = tmp_path / "stderr"
    with open(stderr, "w") as sink:
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(cwd=str(tmp_path), stderr=sink)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        outputs = []
        client.execute_interactive(
            "import os; print(os.getppid(), os.environ['ATEN_CPU_CAPABILITY'])",
            timeout=60,
            output_hook=outputs.append,
        )
        parent, capability = "".join(
            m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream"
        ).split()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
    assert int(parent) != server.pid
    assert capability == "default"
    assert "environment differs in ATEN_CPU_CAPABILITY; starting a plain kernel" in (
        stderr.read_text()
    )


def test_environment_differences_ignore_only_the_per_kernel_variables():
    own = {"PATH": "/bin", "OMP_NUM_THREADS": "1"}
    per_kernel = dict.fromkeys(PER_KERNEL, "7")
    assert environment_differences({**own, **per_kernel}, own) == []
    assert environment_differences({**own, "OMP_NUM_THREADS": "2"}, own) == ["OMP_NUM_THREADS"]
    assert environment_differences({"PATH": "/bin"}, own) == ["OMP_NUM_THREADS"]
    assert environment_differences({**own, "TORCH_LOGS": "+dynamo"}, own) == ["TORCH_LOGS"]
