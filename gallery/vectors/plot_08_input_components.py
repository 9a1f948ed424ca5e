r"""
.. _example-input-components:

Derivatives with respect to the components of an input
======================================================

PINN inputs are often points in the plane, a tensor of shape (N, 2). For a
function of both coordinates evaluated at every point, one backward pass
gives both partial derivatives at every point. We also see when that trick
silently stops being a per-point derivative.

The function here is :math:`f(x, y) = x^2 + y^3`.

.. reading-path::
   :learn: how one backward pass gives both partial derivatives at every point
      of a batch of points in the plane, and when that trick stops giving
      per-point derivatives
   :after: example-pointwise-derivatives
"""

# %%
# Points as one (N, 2) leaf tensor
# --------------------------------
# We put a 9 by 9 grid on :math:`[-1, 1]^2` into one (81, 2) tensor, one point
# per row, and switch on ``requires_grad`` on that tensor itself. Its
# coordinates are multiples of :math:`1/4`, exact in float32.
import torch

gx, gy = torch.meshgrid(
    torch.linspace(-1, 1, 9), torch.linspace(-1, 1, 9), indexing="xy"
)
xy = torch.stack([gx.flatten(), gy.flatten()], dim=1).requires_grad_()
print(f"xy.shape = {tuple(xy.shape)}, xy.is_leaf = {xy.is_leaf}")
print(f"first point {xy[0].tolist()}, last point {xy[-1].tolist()}")

# %%
# The source notebook built its points as ``torch.linspace(0, 2, 20,
# requires_grad=True).reshape(2, -1).T``. That is a view computed from the 1-D
# ``linspace`` tensor, not a leaf: ``backward()`` would fill the ``.grad`` of
# the ``linspace`` tensor, never that of the points.
xy_notebook = torch.linspace(0, 2, 20, requires_grad=True).reshape(2, -1).T
print(f"notebook points: is_leaf = {xy_notebook.is_leaf}, ", end="")
print(f"grad_fn = {xy_notebook.grad_fn.name()}")

# %%
# Two ways to the gradient field
# ------------------------------
# Row :math:`i` of ``f`` depends only on row :math:`i` of ``xy``:
#
# .. math::
#
#    f_i = x_i^2 + y_i^3, \qquad
#    \frac{\partial f_i}{\partial x_i} = 2 x_i, \qquad
#    \frac{\partial f_i}{\partial y_i} = 3 y_i^2.
#
# Method 1 differentiates the scalar :math:`\sum_i f_i`.
f = xy[:, 0] ** 2 + xy[:, 1] ** 3
(grad_sum,) = torch.autograd.grad(f.sum(), xy, retain_graph=True)
expected = torch.stack([2 * gx.flatten(), 3 * gy.flatten() ** 2], dim=1)
print(f"gradient shape: {tuple(grad_sum.shape)}")
print(f"point {xy[-1].tolist()}: gradient {grad_sum[-1].tolist()}")
torch.testing.assert_close(grad_sum, expected)

# %%
# Method 2 passes ``grad_outputs=torch.ones_like(f)``, the vector-Jacobian
# product with :math:`\mathbf{v} = \mathbf{1}`. It is the same computation, so
# the same numbers: column 0 is :math:`2x`, column 1 is :math:`3y^2`.
(grad_ones,) = torch.autograd.grad(f, xy, grad_outputs=torch.ones_like(f))
print(f"point {xy[-1].tolist()}: gradient {grad_ones[-1].tolist()}")
torch.testing.assert_close(grad_ones, expected)

# %%
# The field :math:`\nabla f = (2x, 3y^2)` from autograd, drawn as arrows over
# the level sets of :math:`f` (evaluated on a finer grid): every arrow is
# perpendicular to the contour through its point.
import matplotlib.pyplot as plt

fx, fy = torch.meshgrid(
    torch.linspace(-1, 1, 41), torch.linspace(-1, 1, 41), indexing="xy"
)
fig, ax = plt.subplots(figsize=(6, 4))
levels = ax.contourf(fx, fy, fx**2 + fy**3, levels=15, cmap="viridis")
ax.quiver(
    gx,
    gy,
    grad_ones[:, 0].reshape(9, 9),
    grad_ones[:, 1].reshape(9, 9),
    color="w",
)
fig.colorbar(levels, ax=ax, label=r"$f = x^2 + y^3$")
ax.set_xlabel("$x$ (column 0)")
ax.set_ylabel("$y$ (column 1)")
ax.set_aspect("equal")
ax.set_title(r"$\nabla f$ from one backward pass")
fig.tight_layout()

# %%
# When rows mix, the sum trick is not a per-point derivative
# ----------------------------------------------------------
# The notebook's "both are same" holds only because each output depends on its
# own row. A batch-norm-like centring :math:`g_i = f_i - \frac{1}{N}\sum_j f_j`
# couples all rows. Its sum is identically zero, so the sum trick returns
# zeros, whereas the per-point derivative is
#
# .. math::
#
#    \frac{\partial g_i}{\partial x_i} = \left(1 - \tfrac{1}{N}\right) 2 x_i,
#    \qquad
#    \frac{\partial g_i}{\partial y_i} = \left(1 - \tfrac{1}{N}\right) 3 y_i^2.
p = torch.tensor(
    [[-1.0, 0.5], [0.0, 1.0], [0.5, -1.0], [1.0, 2.0]], requires_grad=True
)


def centred(p):
    fp = p[:, 0] ** 2 + p[:, 1] ** 3
    return fp - fp.mean()


(grad_trick,) = torch.autograd.grad(centred(p).sum(), p)
print(f"sum trick on the centred outputs:\n{grad_trick}")
torch.testing.assert_close(grad_trick, torch.zeros_like(p), rtol=0, atol=1e-6)

# %%
# The true per-point derivative is the diagonal block :math:`\partial g_i /
# \partial (x_i, y_i)` of the full (N, N, 2) Jacobian, here with :math:`N = 4`,
# so :math:`1 - 1/N = 3/4`. :func:`torch.autograd.functional.jacobian` gives
# it.
from torch.autograd.functional import jacobian

J = jacobian(centred, p.detach())
per_point = torch.diagonal(J, dim1=0, dim2=1).T
pd = p.detach()
print(f"Jacobian shape: {tuple(J.shape)}")
print(f"per-point derivative (diagonal of J):\n{per_point}")
torch.testing.assert_close(
    per_point, 0.75 * torch.stack([2 * pd[:, 0], 3 * pd[:, 1] ** 2], 1)
)

# %%
# Conclusion
# ----------
# For an (N, 2) input, ``grad(f, xy, grad_outputs=torch.ones_like(f))`` (or the
# gradient of ``f.sum()``) returns all partial derivatives at all points, one
# row per point, provided each output depends only on its own row. Anything
# that mixes rows (batch norm, attention, centring) breaks that silently.
# The :ref:`gradkit library <gradkit-reference>` packages the per-point
# calls for PINNs, under the same assumption.

# %%
# Exercises
# ---------
# 1. For :math:`h(x, y) = xy + y^2` at every point of the grid ``xy``,
#    compute both partial derivatives in one call and check them against
#    :math:`(y,\; x + 2y)`.
# 2. Let :math:`k_i = f_i + f_{i+1}` (indices wrapping around, with
#    ``torch.roll``), which mixes neighbouring rows of ``p``. Compare the sum
#    trick with the per-point derivative from the Jacobian's diagonal.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
h = xy[:, 0] * xy[:, 1] + xy[:, 1] ** 2
(grad_h,) = torch.autograd.grad(h, xy, grad_outputs=torch.ones_like(h))
print(f"point {xy[-1].tolist()}: gradient of h {grad_h[-1].tolist()}")
X0, X1 = xy.detach()[:, 0], xy.detach()[:, 1]
torch.testing.assert_close(grad_h, torch.stack([X1, X0 + 2 * X1], dim=1))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# Each :math:`f_j` appears in two of the :math:`k_i`, so the sum trick
# counts every gradient twice, while :math:`\partial k_i / \partial
# (x_i, y_i)` is the plain :math:`(2x_i, 3y_i^2)`.


def rolled(p):
    fp = p[:, 0] ** 2 + p[:, 1] ** 3
    return fp + torch.roll(fp, -1)


(trick,) = torch.autograd.grad(rolled(p).sum(), p)
diag = torch.diagonal(jacobian(rolled, p.detach()), dim1=0, dim2=1).T
print(f"sum trick:\n{trick}\nper-point derivative:\n{diag}")
grad_f = torch.stack([2 * pd[:, 0], 3 * pd[:, 1] ** 2], 1)
torch.testing.assert_close(trick, 2 * grad_f)
torch.testing.assert_close(diag, grad_f)
