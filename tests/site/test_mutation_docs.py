"""The mutation run's instrumentation (tools/autograd_site/cli/mutation_docs.py) leaves
the page's code doing what it did: only its calls and powers are routed through hooks."""

from autograd_site.cli.mutation_docs import HOOKS, instrumented_compile

PAGE_CODE = """
import torch

class Scaled(torch.nn.Module):
    def __init__(self):
        super().__init__()  # zero-argument super() reads its calling frame
        self.scale = 3.0

    def forward(self, x):
        return self.scale * x ** 2

def names_here():
    inside = 1
    return sorted(locals())

x = torch.tensor(2.0, requires_grad=True)
(slope,) = torch.autograd.grad(Scaled()(x), x)
seen = names_here()
"""


def run(source):
    namespace = dict(HOOKS)
    exec(instrumented_compile(source, "page.py", "exec"), namespace)
    return namespace


def test_instrumented_code_runs_as_written():
    """A module subclass (zero-argument super) and locals() work as without the hooks, and
    the derivative is the same: d/dx 3x^2 = 6x = 12 at x = 2."""
    instrumented, plain = run(PAGE_CODE), {}
    exec(compile(PAGE_CODE, "page.py", "exec"), plain)
    assert instrumented["slope"].item() == plain["slope"].item() == 12.0
    assert instrumented["seen"] == plain["seen"] == ["inside"]


def test_calls_and_powers_go_through_the_hooks():
    """The instrumentation is there: the compiled code names both hooks."""
    code = instrumented_compile("y = abs(-2) ** 2\n", "page.py", "exec")
    assert {"__mutation_call__", "__mutation_pow__"} <= set(code.co_names)
