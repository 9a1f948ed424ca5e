"""The mutants' runner (tools/autograd_site/preloaded.py) runs a script as ``python`` would."""

import pytest
from autograd_site.preloaded import PreloadedRunner


@pytest.fixture(scope="module")
def runner():
    with PreloadedRunner() as started:
        yield started


def test_output_and_exit_code_of_a_passing_script(runner):
    run = runner.run("import sys\nprint('hello')\nprint('warn', file=sys.stderr)\n", "ok.py")
    assert (run.returncode, run.stdout, run.stderr) == (0, "hello\n", "warn\n")


def test_a_failing_check_exits_1_with_its_traceback(runner):
    run = runner.run("x = 1\nassert x == 2, 'x is not two'\n", "failing.py")
    assert run.returncode == 1
    assert "AssertionError: x is not two" in run.stderr and "failing.py" in run.stderr


def test_sys_exit_keeps_its_code(runner):
    assert runner.run("import sys\nsys.exit(3)\n", "exits.py").returncode == 3


def test_runs_as_main_from_an_empty_folder_with_its_own_name(runner):
    source = (
        "import os, sys\n"
        "assert __name__ == '__main__'\n"
        "assert sorted(os.listdir('.')) == ['.stderr', '.stdout', 'named.py'], os.listdir('.')\n"
        "assert sys.argv == ['named.py'] and __file__.endswith('named.py')\n"
    )
    run = runner.run(source, "named.py")
    assert run.returncode == 0, run.stderr


def test_torch_is_imported_once_and_nothing_is_shared_between_runs(runner):
    first = runner.run(
        "import sys\nassert 'torch' in sys.modules  # before this script imports it\n"
        "import torch\ntorch.set_default_dtype(torch.float64)\n"
        "torch.preloaded_marker = 1\n",
        "first.py",
    )
    second = runner.run(
        "import torch\nassert torch.get_default_dtype() == torch.float32\n"
        "assert not hasattr(torch, 'preloaded_marker')\nprint(torch.get_num_threads())\n",
        "second.py",
    )
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout == "1\n"  # the server's OMP_NUM_THREADS


def test_what_torch_and_matplotlib_load_on_first_use_is_loaded_and_no_figure_is_open(runner):
    """The server's warm-up (autograd_site.runner_warmup) ran: a failing preload module
    would be skipped silently, and every run would be slower."""
    run = runner.run(
        "import sys\nimport matplotlib.pyplot as plt\n"
        "assert 'torch.distributed.tensor' in sys.modules\n"
        "assert 'autograd_site.runner_warmup' in sys.modules\n"
        "assert plt.get_fignums() == [] and plt.figure().number == 1\n",
        "warm.py",
    )
    assert run.returncode == 0, run.stderr


def test_a_script_may_start_processes_of_its_own(runner):
    source = (
        "import multiprocessing\n"
        "if __name__ == '__main__':\n"
        "    p = multiprocessing.get_context('fork').Process(target=print, args=('child',))\n"
        "    p.start(); p.join()\n"
        "    assert p.exitcode == 0\n"
    )
    run = runner.run(source, "parent.py")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "child\n"


def test_a_script_that_hangs_is_stopped(runner):
    run = runner.run("import time\ntime.sleep(60)\n", "hangs.py", timeout=1)
    assert run.returncode == -9 and "timed out" in run.stderr
