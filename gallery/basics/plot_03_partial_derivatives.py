r"""
.. _example-partial-derivatives:

Partial derivatives of a function of several variables
======================================================

For a function of two variables, one ``backward()`` call computes both
partial derivatives and stores each in the ``.grad`` of its own input.
:func:`torch.autograd.grad` returns the same numbers as a tuple.

For :math:`y = 4x^2 + z^3` these are :math:`\partial y / \partial x = 8x` and
:math:`\partial y / \partial z = 3z^2`.

.. reading-path::
   :learn: how one ``backward()`` call gives every partial derivative of a
      function of several variables, and how ``torch.autograd.grad`` returns
      them instead
   :after: example-scalar-derivative, example-gradient-accumulation
"""

# %%
# One backward call, every input
# -------------------------------
# Both inputs are leaf tensors with ``requires_grad=True``. At :math:`(x, z) =
# (4, 3)`,
#
# .. math::
#
#    \frac{\partial y}{\partial x} = 8x = 32, \qquad
#    \frac{\partial y}{\partial z} = 3z^2 = 27.
import torch

x = torch.tensor(4.0, requires_grad=True)
z = torch.tensor(3.0, requires_grad=True)
y = 4.0 * x**2 + z**3
print(f"y = 4 x^2 + z^3 at (4, 3): {y}")

# %%
# ``y.backward()`` walks the graph once and deposits each partial derivative in
# the ``.grad`` of the leaf it belongs to.
y.backward()
print(f"dy/dx = 8x at (4, 3):   {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach())
print(f"dy/dz = 3z^2 at (4, 3): {z.grad}")
torch.testing.assert_close(z.grad, 3 * z.detach() ** 2)

# %%
# An input that is not tracked gets no gradient
# ---------------------------------------------
# Create :math:`z` without ``requires_grad=True`` and it is a constant to
# autograd: ``backward()`` still fills ``x.grad``, while ``z.grad`` stays
# ``None``. This is how parts of a model are frozen.
x = torch.tensor(4.0, requires_grad=True)
z = torch.tensor(3.0)
y = 4.0 * x**2 + z**3
y.backward()
print(f"dy/dx with z constant: {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach())
print(f"z.requires_grad = {z.requires_grad}, z.grad = {z.grad}")
assert z.grad is None

# %%
# The same partials from ``torch.autograd.grad``
# ----------------------------------------------
# :func:`torch.autograd.grad` takes the inputs as a tuple and returns a tuple
# of gradients in the same order. It returns them instead of storing them:
# ``.grad`` is left untouched.
x = torch.tensor(4.0, requires_grad=True)
z = torch.tensor(3.0, requires_grad=True)
y = 4.0 * x**2 + z**3
dy_dx, dy_dz = torch.autograd.grad(y, (x, z))
print(f"torch.autograd.grad(y, (x, z)) = ({dy_dx}, {dy_dz})")
torch.testing.assert_close(dy_dx, 8 * x.detach())
torch.testing.assert_close(dy_dz, 3 * z.detach() ** 2)
print(f"x.grad = {x.grad}, z.grad = {z.grad}")
assert x.grad is None and z.grad is None

# %%
# The gradient on a grid
# ----------------------
# Together the partials form the gradient :math:`\nabla y = (\partial y /
# \partial x, \partial y / \partial z)`. On a grid of points, one
# ``backward()`` of the sum gives it everywhere at once, because each
# :math:`y_{ij}` depends only on its own :math:`x_{ij}` and :math:`z_{ij}`.
xg, zg = torch.meshgrid(
    torch.linspace(0.5, 6.0, 12), torch.linspace(-0.5, 5.0, 12), indexing="xy"
)
xg = xg.clone().requires_grad_()
zg = zg.clone().requires_grad_()
(4.0 * xg**2 + zg**3).sum().backward()
print(f"{xg.numel()} grid points; dy/dx along the first row:    {xg.grad[0]}")
torch.testing.assert_close(xg.grad, 8 * xg.detach())
print(
    f"{zg.numel()} grid points; dy/dz along the first column: {zg.grad[:, 0]}"
)
torch.testing.assert_close(zg.grad, 3 * zg.detach() ** 2)

# %%
# The contours of :math:`y` with the gradient's direction on the grid (grey
# arrows of equal length) and the gradient :math:`(32, 27)` at :math:`(4, 3)`
# in red, drawn at 1/20 of its length. It is perpendicular to the contour
# through the point (dashed, :math:`y = 91`) and points uphill.
import matplotlib.pyplot as plt

xd, zd = xg.detach().numpy(), zg.detach().numpy()
norm = torch.hypot(xg.grad, zg.grad)
u, v = (xg.grad / norm).numpy(), (zg.grad / norm).numpy()
fine = torch.meshgrid(
    torch.linspace(0.5, 6.0, 111),
    torch.linspace(-0.5, 5.0, 111),
    indexing="xy",
)
xf, zf = fine[0].numpy(), fine[1].numpy()
yf = 4 * xf**2 + zf**3
fig, ax = plt.subplots(figsize=(6, 5.5))
levels = ax.contour(xf, zf, yf, levels=15, cmap="viridis")
ax.clabel(levels, fontsize=7)
ax.quiver(
    xd,
    zd,
    u,
    v,
    angles="xy",
    scale_units="xy",
    scale=3.0,
    color="0.6",
    width=0.004,
)
ax.contour(xf, zf, yf, levels=[91.0], colors="C3", linestyles="--")
tip = (4.0 + dy_dx.item() / 20, 3.0 + dy_dz.item() / 20)
ax.annotate(
    "",
    xy=tip,
    xytext=(4.0, 3.0),
    arrowprops={"arrowstyle": "->", "color": "C3", "lw": 2},
)
ax.plot(
    4.0,
    3.0,
    "o",
    color="C3",
    label=r"$\nabla y(4, 3) = (32, 27)$, drawn at 1/20",
)
ax.set_aspect("equal")
ax.set_xlabel("$x$")
ax.set_ylabel("$z$")
ax.set_title(r"contours of $y = 4x^2 + z^3$ and the direction of $\nabla y$")
ax.legend(loc="lower left")
fig.tight_layout()

# %%
# The variables as columns of one input
# -------------------------------------
# Stack the variables as columns of one input, one point per row, shape
# ``(N, 2)``. The gradient of ``y.sum()`` with respect to it is
# :math:`\nabla y` row by row, shape ``(N, 2)``; column 1 is
# :math:`\partial y / \partial z`.
torch.manual_seed(0)
points = torch.rand(5, 2) * 4.0  # columns: x, z
points.requires_grad_()
y = 4.0 * points[:, 0] ** 2 + points[:, 1] ** 3  # shape (N,)
(grad_y,) = torch.autograd.grad(y.sum(), points)  # shape (N, 2)
print(f"points (x, z):\n{points.detach()}")
print(f"gradient (8x, 3z^2), one row per point:\n{grad_y}")
expected = torch.stack(
    [8 * points[:, 0], 3 * points[:, 1] ** 2], dim=1
).detach()
torch.testing.assert_close(grad_y, expected)
dy_dz = grad_y[:, 1]
print(f"column 1, dy/dz = 3z^2: {dy_dz}")
torch.testing.assert_close(dy_dz, 3 * points[:, 1].detach() ** 2)

# %%
# Conclusion
# ----------
# One ``backward()`` fills the ``.grad`` of every leaf that requires grad, one
# partial derivative each; leaves without ``requires_grad`` keep ``grad =
# None``. ``torch.autograd.grad(y, (x, z))`` returns the partials as a tuple
# and stores nothing. For batches of points as rows of one tensor, the
# :ref:`gradkit library <gradkit-reference>` wraps these calls.

# %%
# Exercises
# ---------
# 1. For :math:`y = x z + \sin z` at :math:`(x, z) = (2, 0)`, get both
#    partial derivatives with :func:`torch.autograd.grad` and check them
#    against :math:`\partial y / \partial x = z` and
#    :math:`\partial y / \partial z = x + \cos z`.
# 2. Freeze :math:`x` (no ``requires_grad``) and call ``backward()`` on the
#    same :math:`y`: which ``.grad`` is filled?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(2.0, requires_grad=True)
z = torch.tensor(0.0, requires_grad=True)
dy_dx, dy_dz = torch.autograd.grad(x * z + torch.sin(z), (x, z))
print(f"dy/dx = z = {dy_dx}, dy/dz = x + cos z = {dy_dz}")
torch.testing.assert_close(dy_dx, z.detach())
torch.testing.assert_close(dy_dz, x.detach() + torch.cos(z.detach()))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(2.0)  # frozen
z = torch.tensor(0.0, requires_grad=True)
(x * z + torch.sin(z)).backward()
print(f"x.grad = {x.grad}, z.grad = x + cos z = {z.grad}")
assert x.grad is None
torch.testing.assert_close(z.grad, x + torch.cos(z.detach()))
