r"""
.. _example-higher-order:

Higher-order derivatives with ``create_graph=True``
===================================================

A derivative computed by autograd is itself a tensor; if its own graph is
recorded, it can be differentiated again. For :math:`y = 4x^3` at :math:`x = 4`
we take the first three derivatives with :func:`torch.autograd.grad`, see what
fails without ``create_graph=True``, and plot all orders on an interval.
"""

# %%
# A derivative without a graph is a dead end
# ------------------------------------------
# By default :func:`torch.autograd.grad` returns a plain tensor: the value
# :math:`\frac{dy}{dx} = 12x^2 = 192`, but no record of how it depends on
# :math:`x`. It returns a tuple, one gradient per input, hence the ``[0]``.
import torch

x = torch.tensor(4.0, requires_grad=True)
y = 4.0 * x**3
first_plain = torch.autograd.grad(y, x)[0]
print(f"dy/dx = 12x^2 without create_graph: {first_plain}")
torch.testing.assert_close(first_plain, 12 * x.detach() ** 2)
print(
    f"requires_grad = {first_plain.requires_grad}, grad_fn = {first_plain.grad_fn}"
)

# %%
# So it cannot be differentiated again. The error is produced live:
try:
    torch.autograd.grad(first_plain, x)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "differentiating a derivative taken without create_graph should raise"
    )

# %%
# Recording the graph of the derivative
# -------------------------------------
# With ``create_graph=True`` the backward pass is itself recorded, so the
# result carries a ``grad_fn``. Unlike ``backward()``, ``grad()`` returns the
# derivative and stores nothing: ``x.grad`` stays ``None``.
y = 4.0 * x**3
first = torch.autograd.grad(y, x, create_graph=True)[0]
print(
    f"first derivative, 12x^2 = 192: {first} (grad_fn: {first.grad_fn.name()})"
)
torch.testing.assert_close(first, 12 * x.detach() ** 2)
print(f"x.grad = {x.grad}")
assert x.grad is None

# %%
# Differentiating ``first`` gives :math:`\frac{d^2y}{dx^2} = 24x = 96`; again
# with ``create_graph=True`` so that we can go one order further.
second = torch.autograd.grad(first, x, create_graph=True)[0]
print(
    f"second derivative, 24x = 96: {second} (grad_fn: {second.grad_fn.name()})"
)
torch.testing.assert_close(second, 24 * x.detach())
print(f"x.grad = {x.grad}")
assert x.grad is None

# %%
# The third derivative works
# --------------------------
# The source notebook says, on the line computing ``third_der``, "Graph was not
# saved when creating second_der, so can't evaluate another gradient"; in fact
# ``second_der`` was computed with ``create_graph=True``, so its graph was
# saved and the third derivative, :math:`\frac{d^3y}{dx^3} = 24`, works:
third = torch.autograd.grad(second, x)[0]
print(f"third derivative, 24: {third}")
torch.testing.assert_close(third, torch.tensor(24.0))

# %%
# What really fails is the next step. ``third`` was taken without
# ``create_graph=True``: it is the constant 24 with no graph, and
# differentiating it raises the same error as at the top of the page.
print(
    f"third: requires_grad = {third.requires_grad}, grad_fn = {third.grad_fn}"
)
try:
    torch.autograd.grad(third, x)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "differentiating the graph-less third derivative should raise"
    )

# %%
# The fourth derivative: the derivative of a constant
# ---------------------------------------------------
# :math:`\frac{d^4y}{dx^4} = 0`. ``materialize_grads=True`` (which turns a
# missing gradient into zeros) does not rescue ``third``: the problem is that
# the *output* has no graph, not that :math:`x` is unused.
try:
    torch.autograd.grad(third, x, materialize_grads=True)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "materialize_grads=True was not expected to help a graph-less output"
    )

# %%
# Keeping ``create_graph=True`` at every order does give the fourth derivative.
# PyTorch's rule for ``x**3`` writes the third derivative as :math:`24x^0`,
# which still depends on :math:`x` in the graph, so autograd returns an honest
# 0.
at_4 = [
    12 * x.detach() ** 2,
    24 * x.detach(),
    torch.tensor(24.0),
    torch.tensor(0.0),
]
d = 4.0 * x**3
for k, closed in enumerate(at_4, start=1):
    d = torch.autograd.grad(d, x, create_graph=True)[0]
    print(f"derivative of order {k}, create_graph=True throughout: {d}")
    torch.testing.assert_close(d, closed)

# %%
# ``materialize_grads=True`` matters when the output has a graph that does not
# reach :math:`x`. Write :math:`y = a\,x\,x\,x` with a trainable coefficient
# :math:`a = 4`: the third derivative :math:`6a = 24` depends on :math:`a`
# only. Plain ``grad()`` raises, ``allow_unused=True`` gives ``None``, and
# ``materialize_grads=True`` gives the zero we want.
a = torch.tensor(4.0, requires_grad=True)
d = a * x * x * x
for _ in range(3):
    d = torch.autograd.grad(d, x, create_graph=True)[0]
print(
    f"third derivative of a x x x, 6a = 24: {d} (grad_fn: {d.grad_fn.name()})"
)
torch.testing.assert_close(d, 6 * a.detach())
try:
    torch.autograd.grad(d, x, retain_graph=True)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "d does not depend on x: plain grad() was expected to raise"
    )

# %%
(unused,) = torch.autograd.grad(d, x, allow_unused=True, retain_graph=True)
print(f"with allow_unused=True: {unused}")
assert unused is None
(fourth,) = torch.autograd.grad(d, x, materialize_grads=True)
print(f"with materialize_grads=True, fourth derivative 0: {fourth}")
torch.testing.assert_close(fourth, torch.tensor(0.0))

# %%
# All orders on an interval
# -------------------------
# On a batch of points each :math:`y_i = 4x_i^3` depends only on its own
# :math:`x_i`, so ``grad_outputs=torch.ones_like(...)`` returns every point's
# derivative in one pass. We check each order against its closed form.
xs = torch.linspace(
    -2.0, 2.0, 65, requires_grad=True
)  # step 1/16, exact in float32
orders = [4.0 * xs**3]
closed_forms = [
    4 * xs.detach() ** 3,
    12 * xs.detach() ** 2,
    24 * xs.detach(),
    torch.full((65,), 24.0),
]
for k in range(1, 4):
    dk = torch.autograd.grad(
        orders[-1], xs, torch.ones_like(orders[-1]), create_graph=True
    )[0]
    orders.append(dk)
    print(f"order {k} at x = -2, -1, 0, 1, 2: {dk.detach()[::16]}")
    torch.testing.assert_close(dk, closed_forms[k])

# %%
# Autograd's curves (lines) lie on the closed forms (markers).
import matplotlib.pyplot as plt

labels = [r"$y = 4x^3$", r"$y' = 12x^2$", r"$y'' = 24x$", r"$y''' = 24$"]
fig, ax = plt.subplots(figsize=(6, 4))
for k, (dk, closed, label) in enumerate(
    zip(orders, closed_forms, labels, strict=True)
):
    ax.plot(
        xs.detach(), dk.detach(), color=f"C{k}", label=f"{label} (autograd)"
    )
    ax.plot(xs.detach()[::4], closed[::4], "o", color=f"C{k}", markersize=4)
ax.plot([], [], "o", color="0.4", markersize=4, label="closed forms")
ax.set_xlabel("$x$")
ax.set_ylabel("derivative of order $k$")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# The gradkit shortcut
# --------------------
# :func:`gradkit.derivative` with ``order=k`` repeats these backward passes,
# with ``create_graph=True`` in between, for a batch of points. For an order
# past the last non-zero one it returns zeros.
import gradkit

xs = torch.linspace(-2.0, 2.0, 5, requires_grad=True)
ys = 4.0 * xs**3
expected = {
    1: 12 * xs.detach() ** 2,
    2: 24 * xs.detach(),
    3: torch.full((5,), 24.0),
    4: torch.zeros(5),
}
for k, closed in expected.items():
    dk = gradkit.derivative(ys, xs, order=k)
    print(f"gradkit.derivative(ys, xs, order={k}): {dk.detach()}")
    torch.testing.assert_close(dk, closed)

# %%
# Conclusion
# ----------
# Pass ``create_graph=True`` to every :func:`torch.autograd.grad` call whose
# result you will differentiate again; the last one may omit it. ``grad()``
# returns derivatives without touching ``.grad``. A derivative that ends up a
# graph-less constant cannot be differentiated further;
# ``materialize_grads=True`` only fills in zeros for inputs a graph does not
# reach.
