r"""
.. _example-dynamic-graphs:

Dynamic graphs and ``torch.compile``
====================================

Autograd records the operations that actually run, so Python control flow
(loops, ``if`` on data) is differentiated as executed: each forward pass
builds a new graph. :func:`torch.compile` captures Python into graphs when
the function is first called; we check that its gradients equal eager ones,
see where data-dependent control flow splits the capture (a *graph break*),
and what tensor hooks do around it. Every claim below is checked for this
PyTorch version.

.. reading-path::
   :learn: how autograd differentiates Python control flow as it ran, and how
      the gradients, graph breaks and hooks of ``torch.compile`` compare with
      eager mode
   :after: example-computational-graph, example-no-grad
"""

# %%
# A loop whose length depends on the data
# ---------------------------------------
# Halve :math:`x` while it is greater than 1: an input above 1 ends at a
# value in :math:`(\tfrac12, 1]`, an input of at most 1 is returned as it is.
# For :math:`x \in (2^{k-1}, 2^k]` the loop runs :math:`k`
# times and returns :math:`x / 2^k`, so the derivative is :math:`2^{-k}`: a
# different graph, and a different derivative, for each range of inputs. At
# :math:`x = 2` one halving gives exactly 1 and the loop stops, so
# :math:`k = \lceil \log_2 x \rceil` for :math:`x > 1` (and 0 for
# :math:`x \le 1`); the inputs 2 and 4 below sit on the closed ends of their
# intervals.
import math

import torch


def shrink(x):
    while x > 1:
        x = x / 2
    return x


def graph_size(t):
    """Number of backward nodes reachable from ``t.grad_fn``."""
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


for value in [0.7, 2.0, 3.0, 4.0, 12.0]:
    halvings = math.ceil(math.log2(value)) if value > 1 else 0
    x = torch.tensor(value, requires_grad=True)
    y = shrink(x)
    (g,) = torch.autograd.grad(y, x)
    print(f"x = {value:>4}: k = {halvings}, dy/dx = {g.item():.4f}, "
          f"graph nodes {graph_size(y) if y.grad_fn else 0}")
    torch.testing.assert_close(g, torch.tensor(2.0**-halvings))
    assert 0.5 < y.item() <= 1.0 or value <= 1

# %%
# A data-dependent branch
# -----------------------
# Only the branch that runs is recorded, so the derivative is that branch's:
# :math:`2x` where :math:`\sum x > 0`, and :math:`-1` otherwise.


def branchy(x):
    if x.sum() > 0:
        return (x**2).sum()
    return (-x).sum()


for values in ([0.5, 1.0, 2.0], [-0.5, -1.0, 0.25]):
    x = torch.tensor(values, requires_grad=True)
    (g,) = torch.autograd.grad(branchy(x), x)
    print(f"x = {values}: gradient {g}")
    expected = 2 * x.detach() if sum(values) > 0 else -torch.ones(3)
    torch.testing.assert_close(g, expected)

# %%
# ``torch.compile`` gives the same gradients
# ------------------------------------------
# ``backend="aot_eager"`` traces forward and backward ahead of time but runs
# them with ordinary PyTorch kernels (no C++ compiler needed). The gradient
# of :math:`\sum_i x_i \sin x_i` is :math:`\sin x + x\cos x`, compiled or not.


def f(x):
    return (x * torch.sin(x)).sum()


compiled_f = torch.compile(f, backend="aot_eager")
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
(g_eager,) = torch.autograd.grad(f(x), x)
(g_compiled,) = torch.autograd.grad(compiled_f(x), x)
print(f"eager:    {g_eager}\ncompiled: {g_compiled}")
closed = torch.sin(x.detach()) + x.detach() * torch.cos(x.detach())
torch.testing.assert_close(g_compiled, closed)
torch.testing.assert_close(g_compiled, g_eager)

# %%
# Graph breaks
# ------------
# A compiler backend is any function that receives each captured graph. This
# one only counts their nodes and runs them as they are; it receives nothing
# until the compiled function is first called. A Python ``if`` on tensor
# *data* cannot be captured: the function is split into two graphs with the
# ``if`` evaluated by Python in between, and the gradient is still right.
graphs = []


def counting_backend(graph_module, example_inputs):
    graphs.append(len(graph_module.graph.nodes))
    return graph_module.forward


x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
compiled_branchy = torch.compile(branchy, backend=counting_backend)
print(f"graphs captured before the first call: {len(graphs)}")
assert graphs == []
(g,) = torch.autograd.grad(compiled_branchy(x), x)
print(f"graphs captured by the first call: {len(graphs)}; gradient {g}")
assert len(graphs) == 2
torch.testing.assert_close(g, 2 * x.detach())

# %%
# ``fullgraph=True`` turns a graph break into an error, a quick way to find
# one.
try:
    torch.compile(branchy, backend="aot_eager", fullgraph=True)(x)
except RuntimeError as err:
    print(f"{type(err).__name__}: {str(err).splitlines()[0]}")
else:
    raise AssertionError("fullgraph=True must refuse a data-dependent branch")

# %%
# Tensor hooks and compiled code
# ------------------------------
# A hook registered on an intermediate inside a compiled function runs during
# backward and sees that tensor's gradient: for :math:`y = 2x` and
# :math:`L = \sum y^2` it receives :math:`\partial L/\partial y = 2y = 4x`.
# This hook records what it sees by appending to a list outside the function,
# a Python side effect that Dynamo does not put in a graph: the function is
# split at ``register_hook`` into two graphs.
seen = []


def with_hook(x):
    y = 2 * x
    y.register_hook(lambda grad: seen.append(grad.clone()))
    return (y**2).sum()


graphs.clear()
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
(g,) = torch.autograd.grad(
    torch.compile(with_hook, backend=counting_backend)(x), x
)
print(f"graphs captured: {len(graphs)}; hook saw {seen[0]}; dL/dx = {g}")
assert len(graphs) == 2
torch.testing.assert_close(seen[0], 4 * x.detach())
torch.testing.assert_close(g, 8 * x.detach())

# %%
# So ``fullgraph=True`` refuses it, and the message gives the reason: an
# unsafe side effect, the hook mutating a variable from outside its scope.
try:
    torch.compile(with_hook, backend="aot_eager", fullgraph=True)(x)
except RuntimeError as err:
    first, explanation = str(err).splitlines()[:2]
    print(f"{type(err).__name__}: {first}\n{explanation}")
    assert "side effect" in first
else:
    raise AssertionError("fullgraph=True must refuse a side-effecting hook")

# %%
# A hook without side effects, one that only returns a new gradient, is
# captured: here it halves :math:`\partial L/\partial y`, so
# :math:`dL/dx = 2 \cdot \tfrac12 \cdot 4x = 4x` instead of :math:`8x`, in one
# graph, and ``fullgraph=True`` accepts it.


def with_pure_hook(x):
    y = 2 * x
    y.register_hook(lambda grad: grad / 2)
    return (y**2).sum()


graphs.clear()
(g,) = torch.autograd.grad(
    torch.compile(with_pure_hook, backend=counting_backend, fullgraph=True)(x),
    x,
)
print(f"graphs captured: {len(graphs)}; dL/dx with the halving hook = {g}")
assert len(graphs) == 1
torch.testing.assert_close(g, 4 * x.detach())

# %%
# Around a graph break (here a ``print``, which Dynamo leaves to Python) a
# hook registered after the break, on the first graph's output, runs too:
# for :math:`L = \sum_i x_i \sin x_i` and :math:`y = \sin x`, a hook that
# doubles :math:`\partial L/\partial y = x` makes the gradient
# :math:`\sin x + 2x\cos x` instead of :math:`\sin x + x\cos x`.
graphs.clear()


def with_break(x):
    y = torch.sin(x)
    print("  (a print inside the compiled function: a graph break)")
    y.register_hook(lambda grad: 2 * grad)
    return (x * y).sum()


(g,) = torch.autograd.grad(
    torch.compile(with_break, backend=counting_backend)(x), x
)
print(f"graphs captured: {len(graphs)}; dL/dx with the doubling hook = {g}")
assert len(graphs) == 2
x0 = x.detach()
torch.testing.assert_close(g, torch.sin(x0) + 2 * x0 * torch.cos(x0))

# %%
# Double backward through compiled code
# -------------------------------------
# A first derivative of a compiled function can keep its graph
# (``create_graph=True``), and is right: :math:`\sin x + x\cos x` for
# :math:`f(x) = \sum_i x_i \sin x_i`. Differentiating that gradient again
# raises: ``aot_eager`` traces the backward with AOTAutograd, which does not
# support double backward on this PyTorch version: the message names
# ``aot_autograd``.
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
xd = x.detach()
(g1,) = torch.autograd.grad(compiled_f(x), x, create_graph=True)
print(f"compiled, create_graph=True: {g1.detach()}, "
      f"requires_grad {g1.requires_grad}")
torch.testing.assert_close(g1.detach(), torch.sin(xd) + xd * torch.cos(xd))
assert g1.requires_grad
try:
    torch.autograd.grad(g1.sum(), x)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "aot_autograd" in str(err)
else:
    raise AssertionError("double backward through aot_eager must raise")

# %%
# The workaround: compile the *derivative* instead. :mod:`torch.func`
# transforms are traced like any other code, so the compiled
# ``vmap(grad(grad(f)))`` computes :math:`f'' = 2\cos x - x\sin x` in its
# forward pass, and no double backward is needed.
from torch.func import grad, vmap


def f_point(t):
    return t * torch.sin(t)


second_derivative = torch.compile(
    vmap(grad(grad(f_point))), backend="aot_eager"
)
d2 = second_derivative(xd)
print(f"compiled vmap(grad(grad(f))): {d2}")
torch.testing.assert_close(d2, 2 * torch.cos(xd) - xd * torch.sin(xd))

# %%
# A physics-informed loss needs a derivative with respect to the input and
# then a gradient with respect to the parameters. Compile the function that
# takes the input derivative with :mod:`torch.func`; the parameter gradient
# is then one ordinary backward through the compiled graph. For
# :math:`u = a\sin(a x)`, :math:`r = \partial u/\partial x = a^2\cos(a x)`
# and :math:`\frac{\partial}{\partial a}\sum_i r_i = \sum_i \left(2a\cos(a
# x_i) - a^2 x_i \sin(a x_i)\right)`.
def u(x, a):
    return a * torch.sin(a * x)


du_dx = torch.compile(vmap(grad(u), in_dims=(0, None)), backend="aot_eager")
a = torch.tensor(1.5, requires_grad=True)
(g_a,) = torch.autograd.grad(du_dx(xd, a).sum(), a)
ad = a.detach()
expected_a = (
    2 * ad * torch.cos(ad * xd) - ad**2 * xd * torch.sin(ad * xd)
).sum()
print(f"d/da sum(du/dx), compiled residual: {g_a:.4f}")
torch.testing.assert_close(g_a, expected_a)

# %%
# ``backend="eager"`` captures the graph but leaves backward to ordinary
# autograd: there the double backward works (useful to check whether a
# failure comes from AOTAutograd's tracing of the backward).
(g1_eager,) = torch.autograd.grad(
    torch.compile(f, backend="eager")(x), x, create_graph=True
)
(d2_eager,) = torch.autograd.grad(g1_eager.sum(), x)
print(f"backend='eager', second derivative: {d2_eager}")
torch.testing.assert_close(d2_eager, 2 * torch.cos(xd) - xd * torch.sin(xd))

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: whether ``torch.compile`` keeps
# ``register_hook`` on intermediates (issue #91468 reported it silently
# dropped; on this version the hooks above run, and the recording one sees the
# right gradient, at the cost of a graph break),
# and hooks around graph breaks (issues #117266 and #133303, about module
# backward hooks). Module hooks are not tested here, so nothing is claimed
# about them.
#
# Conclusion
# ----------
# Eager autograd differentiates the path that ran: loops and branches on data
# give per-input graphs and per-branch derivatives. ``torch.compile`` with
# ``aot_eager`` gives the same gradients; data-dependent control flow splits
# the capture into several graphs (``fullgraph=True`` makes that an error),
# and so does a tensor hook with a Python side effect; a hook that only
# returns a new gradient stays in the graph, and all the hooks above run.
# Check such behaviour on your PyTorch version, as this page does.
#
# Exercises
# ---------
# 1. What is the derivative of ``shrink`` at :math:`x = 5`? Check it, and count
#    how many ``DivBackward0`` nodes its graph has.
# 2. Rewrite ``branchy`` without a Python ``if``, with ``torch.where``, so that
#    it compiles into a single graph, and check the gradient for both sign
#    patterns.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
x = torch.tensor(5.0, requires_grad=True)
y = shrink(x)
(g,) = torch.autograd.grad(y, x, retain_graph=True)
divisions, node = 0, y.grad_fn
while node is not None and type(node).__name__ == "DivBackward0":
    divisions += 1
    node = node.next_functions[0][0]
print(f"dy/dx at 5 = {g.item()} after {divisions} halvings")
assert divisions == 3
torch.testing.assert_close(g, torch.tensor(1 / 8))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~


def branchless(x):
    return torch.where(x.sum() > 0, (x**2).sum(), (-x).sum())


graphs.clear()
compiled = torch.compile(branchless, backend=counting_backend)
for values in ([0.5, 1.0, 2.0], [-0.5, -1.0, 0.25]):
    x = torch.tensor(values, requires_grad=True)
    (g,) = torch.autograd.grad(compiled(x), x)
    expected = 2 * x.detach() if sum(values) > 0 else -torch.ones(3)
    torch.testing.assert_close(g, expected)
print(f"graphs captured for both inputs: {len(graphs)}")
assert len(graphs) == 1

# %%
# Both branches are computed and ``where`` picks one, so one graph serves
# every input (mind the NaN trap of :ref:`example-nondifferentiable-points`
# if a branch can produce ``inf``).
