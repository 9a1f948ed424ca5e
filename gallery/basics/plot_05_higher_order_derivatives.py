r"""
.. _example-higher-order:

Higher-order derivatives with ``create_graph=True``
===================================================

A derivative computed by autograd is itself a tensor; if its own graph is
recorded, it can be differentiated again. We take the first three derivatives
of a cubic with :func:`torch.autograd.grad`, see what fails without
``create_graph=True``, and plot all orders on an interval.

The cubic is :math:`y = 4x^3`, differentiated at :math:`x = 4`.

.. reading-path::
   :learn: how to differentiate a derivative again with ``create_graph=True``,
      what fails without it, and how to get derivatives of any order
   :after: example-partial-derivatives, example-computational-graph

.. search::
   :keywords: create_graph, higher-order derivative

.. figure-alt:: 1

   y = 4x³ and its first three derivatives 12x², 24x and the constant 24 from
   autograd, each matching its closed form at the marked points.
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
print(f"requires_grad = {first_plain.requires_grad}, ", end="")
print(f"grad_fn = {first_plain.grad_fn}")

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
# The fourth derivative: keep ``create_graph=True`` at every order
# ----------------------------------------------------------------
# :math:`\frac{d^4y}{dx^4} = 0`, and keeping ``create_graph=True`` at every
# order does give it.
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
# Conclusion
# ----------
# Pass ``create_graph=True`` to every :func:`torch.autograd.grad` call whose
# result you will differentiate again; the last one may omit it. ``grad()``
# returns derivatives without touching ``.grad``. A derivative that ends up a
# graph-less constant cannot be differentiated further. For many points and
# orders in one call, see the :ref:`gradkit library <gradkit-reference>`.

# %%
# Exercises
# ---------
# 1. Compute the first three derivatives of :math:`\sin x` at
#    :math:`x = 1/2` with :func:`torch.autograd.grad` and check them against
#    :math:`\cos x`, :math:`-\sin x` and :math:`-\cos x`.
# 2. ``backward(create_graph=True)`` also records the derivative's graph, in
#    ``x.grad``. Use it to get :math:`\frac{d^2}{dx^2} x^3 = 6x` at
#    :math:`x = 2`. Why does PyTorch warn, and what does it recommend?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(0.5, requires_grad=True)
d = torch.sin(x)
closed = [torch.cos(x), -torch.sin(x), -torch.cos(x)]
for k, expected in enumerate(closed, start=1):
    (d,) = torch.autograd.grad(d, x, create_graph=True)
    print(f"order {k} of sin at x = 1/2: {d.item():.6f}")
    torch.testing.assert_close(d, expected.detach())

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# ``x.grad`` now refers to a graph that refers back to ``x``: a reference
# cycle, which PyTorch warns may leak memory. It recommends
# :func:`torch.autograd.grad`; reset ``x.grad = None`` when done otherwise.
import warnings

x = torch.tensor(2.0, requires_grad=True)
# PyTorch gives this warning once per process unless told otherwise
warn_always = torch.is_warn_always_enabled()
torch.set_warn_always(True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    (x**3).backward(create_graph=True)
torch.set_warn_always(warn_always)
first = x.grad
x.grad = None  # break the cycle before the next backward
first.backward()
print(f"d/dx x^3 = {first.item()}, d2/dx2 x^3 = 6x = {x.grad.item()}")
assert any("reference cycle" in str(w.message) for w in caught)
assert any("autograd.grad" in str(w.message) for w in caught)
torch.testing.assert_close(x.grad, 6 * x.detach())
x.grad = None
