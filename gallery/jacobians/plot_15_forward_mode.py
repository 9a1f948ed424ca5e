r"""
.. _example-forward-mode:

Forward-mode AD: Jacobian-vector products
=========================================

Reverse mode, ``backward()``, pulls a vector back from the outputs through
the transposed Jacobian. Forward mode pushes a tangent forward from the
inputs through the Jacobian itself, computed alongside the function. We
compute it with :func:`torch.func.jvp` and with dual numbers, compare it with
the VJP on a non-symmetric Jacobian, and build a Hessian-vector product from
both modes.

Reverse mode gives :math:`\mathbf{J}^{\mathrm{T}}\mathbf{v}`, forward mode
:math:`\mathbf{J}\mathbf{u}`.

.. reading-path::
   :learn: what forward mode computes (a Jacobian-vector product), how to get
      it with ``torch.func.jvp`` and with dual numbers, and how to build a
      Hessian-vector product from both modes
   :after: example-vector-jacobian-product, example-jacobians-hessians

.. search::
   :keywords: forward mode, jvp

.. figure-alt:: 1

   h(t) = t³ - 3t, its derivative from one JVP per point matching the closed
   form 3t² - 3, and the tangent at t₀ = 1/2.
"""

# %%
# A function with a non-symmetric Jacobian
# ----------------------------------------
# Take :math:`f(\mathbf{x}) = (x_0 x_1,\; x_0 + x_1^2)` at :math:`\mathbf{x} =
# (2, 3)`:
#
# .. math::
#
#    \mathbf{J} = \begin{pmatrix} x_1 & x_0 \\ 1 & 2 x_1 \end{pmatrix}
#    = \begin{pmatrix} 3 & 2 \\ 1 & 6 \end{pmatrix},
#    \qquad
#    \mathbf{J}^{\mathrm{T}} = \begin{pmatrix} 3 & 1 \\ 2 & 6 \end{pmatrix}.
#
# We build :math:`\mathbf{J}` from this closed form, without autograd, as the
# oracle.
import torch


def f(x):
    return torch.stack(
        [x[..., 0] * x[..., 1], x[..., 0] + x[..., 1] ** 2], dim=-1
    )


def jacobian_f(x):
    x0, x1 = x[..., 0], x[..., 1]
    rows = [
        torch.stack([x1, x0], -1),
        torch.stack([torch.ones_like(x0), 2 * x1], -1),
    ]
    return torch.stack(rows, dim=-2)


x = torch.tensor([2.0, 3.0])
J = jacobian_f(x)
print(f"f(x) = {f(x)}")
print(f"J (closed form) =\n{J}")

# %%
# torch.func.jvp
# --------------
# :func:`torch.func.jvp` takes the function, the point and a tangent
# :math:`\mathbf{u}` in *input* space, and returns :math:`f(\mathbf{x})`
# together with :math:`\mathbf{J}\mathbf{u}`, from one forward pass. With
# :math:`\mathbf{u} = (1, 0)` it is the first column of :math:`\mathbf{J}`,
# :math:`\partial f / \partial x_0 = (3, 1)`.
from torch.func import jvp

u = torch.tensor([1.0, 0.0])
value, Ju = jvp(f, (x,), (u,))
print(f"f(x) from jvp: {value}")
print(f"J u          : {Ju}")
torch.testing.assert_close(value, f(x))
torch.testing.assert_close(Ju, J @ u)

# %%
# Dual numbers
# ------------
# Underneath, forward mode carries a *dual number* :math:`\mathbf{x} +
# \varepsilon \mathbf{u}` with :math:`\varepsilon^2 = 0` through every
# operation, so that :math:`f(\mathbf{x} + \varepsilon \mathbf{u}) =
# f(\mathbf{x}) + \varepsilon\, \mathbf{J}\mathbf{u}`.
# :mod:`torch.autograd.forward_ad` exposes it: inside a ``dual_level``,
# ``make_dual`` attaches the tangent and ``unpack_dual`` reads primal and
# tangent back.
import torch.autograd.forward_ad as fwAD

with fwAD.dual_level():
    dual_x = fwAD.make_dual(x, u)
    primal, tangent = fwAD.unpack_dual(f(dual_x))
print(f"primal : {primal}")
print(f"tangent: {tangent}")
torch.testing.assert_close(primal, f(x))
torch.testing.assert_close(tangent, J @ u)

# %%
# J u is not J^T v
# ----------------
# Reverse mode, :func:`torch.func.vjp`, takes a vector :math:`\mathbf{v}` in
# *output* space. With :math:`\mathbf{v} = (1, 0)` it returns the first row of
# :math:`\mathbf{J}`, written as a column:
#
# .. math::
#
#    \mathbf{J}\mathbf{u} = \begin{pmatrix} 3 \\ 1 \end{pmatrix}
#    \neq
#    \mathbf{J}^{\mathrm{T}}\mathbf{v} = \begin{pmatrix} 3 \\ 2 \end{pmatrix}.
from torch.func import vjp

v = torch.tensor([1.0, 0.0])
_, vjp_fn = vjp(f, x)
(JTv,) = vjp_fn(v)
print(f"J u   (forward): {Ju}")
print(f"J^T v (reverse): {JTv}")
torch.testing.assert_close(JTv, J.T @ v)
assert not torch.equal(Ju, JTv), "here, with u = v, the two products differ"

# %%
# Columns from forward mode, rows from reverse mode
# -------------------------------------------------
# With one-hot tangents, each JVP gives one *column* of :math:`\mathbf{J}`;
# with one-hot cotangents, each VJP gives one *row*. For :math:`f :
# \mathbb{R}^n \to \mathbb{R}^m` the full Jacobian costs :math:`n` forward
# passes or :math:`m` reverse passes.
eye = torch.eye(2)
columns = torch.stack([jvp(f, (x,), (e,))[1] for e in eye], dim=1)
rows = torch.stack([vjp_fn(e)[0] for e in eye], dim=0)
print(f"J from 2 JVPs (columns):\n{columns}")
print(f"J from 2 VJPs (rows):\n{rows}")
torch.testing.assert_close(columns, J)
torch.testing.assert_close(rows, J)

# %%
# Hence the rule of thumb. A training loss is a scalar (:math:`m = 1`): one
# VJP, one ``backward()``, gives the whole gradient, whatever the number of
# parameters. A function of few inputs and many outputs (a trajectory as a
# function of one parameter, a field as a function of a point) is the
# forward-mode case: one JVP per input. Forward mode also records no graph:
# each tangent is computed next to its value, and the results of ``jvp`` on
# tensors that do not require grad have no ``grad_fn``.
assert Ju.grad_fn is None and value.grad_fn is None and not x.requires_grad

# %%
#
# The derivative of a curve in one forward pass
# ---------------------------------------------
# For :math:`h(t) = t^3 - 3t` applied elementwise to a grid of points, the
# Jacobian is diagonal, so a single JVP with tangent :math:`\mathbf{1}` returns
# :math:`h'(t) = 3t^2 - 3` at every point at once.
t = torch.linspace(-2.0, 2.0, 33)


def h(t):
    return t**3 - 3 * t


h_t, dh_dt = jvp(h, (t,), (torch.ones_like(t),))
print(f"h'(t) at t = -2, 0, 2 from one JVP: {dh_dt[[0, 16, 32]]}")
torch.testing.assert_close(dh_dt, 3 * t**2 - 3)

# %%
# Each derivative is the slope of a tangent line. At :math:`t_0 = 1/2` a JVP
# with tangent 1 gives the value :math:`h(t_0)` and the slope :math:`h'(t_0)`
# of the line :math:`h(t_0) + h'(t_0)(t - t_0)`.
t0 = torch.tensor(0.5)
h0, slope = jvp(h, (t0,), (torch.tensor(1.0),))
print(f"h(t0) = {h0:.4f}, h'(t0) = {slope:.4f}")
torch.testing.assert_close(slope, 3 * t0**2 - 3)

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(t.numpy(), h_t.numpy(), label=r"$h(t) = t^3 - 3t$")
ax.plot(t.numpy(), dh_dt.numpy(), "--", label=r"$h'(t)$ from one JVP")
ax.plot(
    t[::4].numpy(),
    (3 * t[::4] ** 2 - 3).numpy(),
    "o",
    ms=4,
    label=r"closed form $3t^2 - 3$",
)
ax.plot(
    t.numpy(),
    (h0 + slope * (t - t0)).numpy(),
    ":",
    color="k",
    label=r"tangent at $t_0 = 1/2$",
)
ax.plot([t0.item()], [h0.item()], "ko", ms=5)
ax.set_ylim(-5, 10)
ax.set_xlabel("$t$")
ax.legend(fontsize="small")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Forward over reverse: Hessian-vector products
# ---------------------------------------------
# For a scalar :math:`g`, the gradient :math:`\nabla g` is a function
# :math:`\mathbb{R}^n \to \mathbb{R}^n` whose Jacobian is the Hessian. A JVP of
# it is therefore :math:`\mathbf{H}\mathbf{w}`, at the cost of a few gradient
# evaluations, without ever forming :math:`\mathbf{H}`. With
# :math:`g(\mathbf{x}) = x_0^2 x_1 + x_1^3` at :math:`\mathbf{x} = (2, 3)` and
# :math:`\mathbf{w} = (1, -1)`:
#
# .. math::
#
#    \mathbf{H} = \begin{pmatrix} 2 x_1 & 2 x_0 \\ 2 x_0 & 6 x_1 \end{pmatrix}
#    = \begin{pmatrix} 6 & 4 \\ 4 & 18 \end{pmatrix},
#    \qquad
#    \mathbf{H}\mathbf{w} = \begin{pmatrix} 2 \\ -14 \end{pmatrix}.
from torch.func import grad


def g(x):
    return x[0] ** 2 * x[1] + x[1] ** 3


w = torch.tensor([1.0, -1.0])
_, Hw = jvp(grad(g), (x,), (w,))
x0, x1 = x.tolist()
H = torch.tensor([[2 * x1, 2 * x0], [2 * x0, 6 * x1]])
print(f"H (closed form) =\n{H}")
print(f"H w (forward over reverse): {Hw}")
torch.testing.assert_close(Hw, H @ w)

# %%
# A batch of points
# -----------------
# For a function applied point by point to a batch ``X`` of shape (N, d),
# one ``jvp`` with a tangent per point (shape of ``X``) gives every point's
# :math:`\mathbf{J}\mathbf{u}`, and one ``torch.autograd.grad`` with a
# cotangent per point (shape of ``f(X)``) every point's
# :math:`\mathbf{J}^{\mathrm{T}}\mathbf{v}`.
X = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.5, 2.0]], requires_grad=True)
U = torch.tensor([[1.0, 0.0]]).expand(3, 2)
V = torch.tensor([[1.0, 0.0]]).expand(3, 2)
_, Ju_batch = jvp(f, (X.detach(),), (U,))
(JTv_batch,) = torch.autograd.grad(f(X), X, grad_outputs=V)
print(f"J u per point:\n{Ju_batch}")
print(f"J^T v per point:\n{JTv_batch}")
J_batch = jacobian_f(X.detach())
torch.testing.assert_close(Ju_batch, (J_batch @ U.unsqueeze(-1)).squeeze(-1))
torch.testing.assert_close(
    JTv_batch, (J_batch.mT @ V.unsqueeze(-1)).squeeze(-1)
)

# %%
# Conclusion
# ----------
# Forward mode computes :math:`\mathbf{J}\mathbf{u}` (a column of
# :math:`\mathbf{J}` per one-hot :math:`\mathbf{u}`) during the forward pass,
# with ``torch.func.jvp`` or dual numbers from ``torch.autograd.forward_ad``;
# reverse mode computes :math:`\mathbf{J}^{\mathrm{T}}\mathbf{v}` (a row).
# For a square :math:`\mathbf{J}` the two agree for every vector only when
# :math:`\mathbf{J}` is symmetric (the :ref:`VJP example
# <example-vector-jacobian-product>` shows a non-symmetric one that agrees
# for one vector). Use reverse mode for few outputs (a scalar loss), forward
# mode for few inputs, and ``jvp(grad(g), ...)`` for Hessian-vector products.

# %%
# Exercises
# ---------
# 1. With one JVP, get the derivative of :math:`e^t \sin t` at 9 points of
#    :math:`[0, 2]` and check it against :math:`e^t (\sin t + \cos t)`.
# 2. Build the Jacobian of :math:`f` at :math:`\mathbf{x} = (2, 3)` with
#    :func:`torch.func.jacfwd` and :func:`torch.func.jacrev`, and check that
#    the Hessian-vector product of :math:`g` with :math:`\mathbf{w} = (1, 0)`
#    is the first column of :math:`\mathbf{H}`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
t9 = torch.linspace(0.0, 2.0, 9)
_, d9 = jvp(lambda t: torch.exp(t) * torch.sin(t), (t9,), (torch.ones(9),))
print(f"d/dt e^t sin t at t = 0, 1, 2: {d9[[0, 4, 8]]}")
torch.testing.assert_close(d9, torch.exp(t9) * (torch.sin(t9) + torch.cos(t9)))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
from torch.func import jacfwd, jacrev

print(f"jacfwd(f)(x):\n{jacfwd(f)(x)}")
torch.testing.assert_close(jacfwd(f)(x), J)
torch.testing.assert_close(jacrev(f)(x), J)
_, Hw0 = jvp(grad(g), (x,), (torch.tensor([1.0, 0.0]),))
print(f"H (1, 0) = first column of H: {Hw0}")
torch.testing.assert_close(Hw0, H[:, 0])
