r"""
.. _example-pointwise-derivatives:

Pointwise derivatives of a batch of points
==========================================

A physics-informed neural network (PINN) evaluates its output at many points
at once and needs its first and second derivatives at every point. On a
function whose derivatives we know, we see why
``grad_outputs=torch.ones_like(y)`` is the right call.

At the points :math:`x_1, \dots, x_N` we need :math:`y'(x_i)` and
:math:`y''(x_i)`. Here :math:`y = \sin x`, so we know both answers:
:math:`\cos x` and :math:`-\sin x`.

.. reading-path::
   :learn: how to get the first and second derivatives at every point of a
      batch with ``grad_outputs=torch.ones_like(y)``, and why that call is
      right
   :after: example-vector-jacobian-product, example-higher-order

.. figure-alt:: 1

   sin x with its first derivative (matching cos x) and second derivative
   (matching -sin x) computed by autograd at every point.
"""

# %%
# A vector output has no implicit gradient
# ----------------------------------------
# Five points in :math:`[0, 2\pi]` stand in for the collocation points of a
# PINN, and :math:`y_i = \sin x_i` for its outputs. Asking for ``grad(y, x)``
# as for a scalar fails: autograd does not know how to weigh the five outputs.
import math

import torch

x5 = torch.linspace(0, 2 * math.pi, 5, requires_grad=True)
y5 = torch.sin(x5)
print(f"x = {x5.detach()}")
print(f"y = sin x = {y5.detach()}")
try:
    torch.autograd.grad(y5, x5)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "grad of a 5-element output without grad_outputs should raise"
    )

# %%
# Why a vector of ones gives every point's derivative
# ---------------------------------------------------
# Output :math:`y_i` depends only on its own point :math:`x_i`, so the Jacobian
# is diagonal. Take the scalar :math:`\ell = \sum_i y_i`; then :math:`\partial
# \ell / \partial \mathbf{y} = \mathbf{1}`, and the chain rule gives
#
# .. math::
#
#    \frac{\partial \ell}{\partial \mathbf{x}}
#    = \mathbf{J}^{\mathrm{T}} \frac{\partial \ell}{\partial \mathbf{y}}
#    = \operatorname{diag}(\cos x_1, \dots, \cos x_N)\, \mathbf{1}
#    = (\cos x_1, \dots, \cos x_N)^{\mathrm{T}}.
#
# That :math:`\mathbf{1}` is ``grad_outputs`` (see the
# :ref:`vector-Jacobian product example <example-vector-jacobian-product>`).
(dydx5,) = torch.autograd.grad(y5, x5, grad_outputs=torch.ones_like(y5))
print(f"dy/dx from autograd: {dydx5}")
print(f"cos x (closed form): {torch.cos(x5.detach())}")

# %%
# The tiny values such as ``-4.3711e-08`` are float32 rounding: :math:`\pi/2`
# is not exactly representable, so its cosine is not exactly zero. The check
# therefore has an absolute tolerance of :math:`10^{-6}`, far below any error
# worth catching.
torch.testing.assert_close(dydx5, torch.cos(x5.detach()), rtol=1e-6, atol=1e-6)

# %%
# The second derivative, as a PINN needs
# --------------------------------------
# A PINN residual such as :math:`y'' + y = 0` needs the second derivative too.
# We use 101 points, and ``create_graph=True`` so that the first derivative is
# itself part of a graph that autograd can differentiate again.
x = torch.linspace(0, 2 * math.pi, 101, requires_grad=True)
y = torch.sin(x)
(dydx,) = torch.autograd.grad(
    y, x, grad_outputs=torch.ones_like(y), create_graph=True
)
print(f"dy/dx has a graph of its own: requires_grad = {dydx.requires_grad}")
torch.testing.assert_close(dydx, torch.cos(x.detach()), rtol=1e-6, atol=1e-6)

# %%
# Differentiating ``dydx`` the same way gives :math:`y'' = -\sin x` at every
# point, and the residual :math:`y'' + y` of the equation vanishes.
(d2ydx2,) = torch.autograd.grad(dydx, x, grad_outputs=torch.ones_like(dydx))
residual = d2ydx2 + y.detach()
print(f"y'' at the first 5 points: {d2ydx2[:5]}")
print(f"max |y'' + y| over 101 points: {residual.abs().max():.1e}")
torch.testing.assert_close(
    d2ydx2, -torch.sin(x.detach()), rtol=1e-6, atol=1e-6
)
torch.testing.assert_close(
    residual, torch.zeros_like(residual), rtol=0, atol=1e-6
)

# %%
# Autograd's derivatives (lines) lie on the closed forms (markers) at every
# point.
import matplotlib.pyplot as plt

xs = x.detach()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, y.detach(), color="k", label=r"$y = \sin x$")
ax.plot(xs, dydx.detach(), color="C0", label=r"$y'$ (autograd)")
ax.plot(xs, d2ydx2, color="C1", label=r"$y''$ (autograd)")
ax.plot(
    xs[::5], torch.cos(xs[::5]), "o", color="C0", mfc="none", label=r"$\cos x$"
)
ax.plot(
    xs[::5],
    -torch.sin(xs[::5]),
    "s",
    color="C1",
    mfc="none",
    label=r"$-\sin x$",
)
ax.set_xlabel("$x$")
ax.set_ylim(-1.15, 1.8)
ax.legend(loc="upper center", ncol=3, fontsize="small")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Conclusion
# ----------
# For outputs computed point by point, ``grad(y, x,
# grad_outputs=torch.ones_like(y))`` returns every point's derivative in one
# pass, because the Jacobian is diagonal. Add ``create_graph=True`` to
# differentiate again. The :ref:`next example <example-input-components>`
# shows where the ones trick stops being a pointwise derivative. The
# :ref:`gradkit library <gradkit-reference>` packages these calls for PINNs.

# %%
# Exercises
# ---------
# 1. For :math:`y = e^{-x^2}` at 7 points in :math:`[-1.5, 1.5]`, compute
#    :math:`y'` at every point in one call and check it against
#    :math:`-2x e^{-x^2}`.
# 2. Get the same :math:`y'` with ``backward()`` instead of
#    :func:`torch.autograd.grad`. What must you call it on?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x7 = torch.linspace(-1.5, 1.5, 7, requires_grad=True)
y7 = torch.exp(-(x7**2))
(dy7,) = torch.autograd.grad(y7, x7, grad_outputs=torch.ones_like(y7))
print(f"x:  {x7.detach()}")
print(f"y': {dy7}")
x7d = x7.detach()
torch.testing.assert_close(dy7, -2 * x7d * torch.exp(-(x7d**2)))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# On the sum: ``y.backward()`` of a vector raises, ``y.sum().backward()``
# is the same vector-Jacobian product with :math:`\mathbf{v} = \mathbf{1}`.
y7 = torch.exp(-(x7**2))
y7.sum().backward()
print(f"x.grad after y.sum().backward(): {x7.grad}")
torch.testing.assert_close(x7.grad, dy7)
