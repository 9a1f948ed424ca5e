r"""
.. _example-complex-autograd:

Complex autograd: Wirtinger derivatives and the conjugate convention
====================================================================

A real loss of a complex parameter has no complex derivative in general,
but it has two real partial derivatives. PyTorch stores in ``z.grad`` the
conjugate Wirtinger derivative, times 2: the direction of steepest ascent,
so ``z -= lr * z.grad`` descends exactly as for real parameters.

For a loss :math:`L` of :math:`z = x + iy` (:math:`|z|^2`, for one, is not
holomorphic), ``z.grad`` holds

.. math::

   \frac{\partial L}{\partial x} + i\,\frac{\partial L}{\partial y}
   = 2\,\frac{\partial L}{\partial \bar z},
   \qquad
   \frac{\partial}{\partial \bar z}
   = \frac12\Big(\frac{\partial}{\partial x} + i\frac{\partial}{\partial y}
   \Big).

.. reading-path::
   :learn: what PyTorch stores in ``z.grad`` for a complex parameter (twice the
      conjugate Wirtinger derivative), and why gradient descent then works as
      it does for real parameters
   :after: example-partial-derivatives, example-no-grad

.. figure-alt:: 1

   Iterates of gradient descent on a complex parameter z in the complex plane,
   converging to the minimiser b/a (a star).
"""

# %%
# A float64 finite-difference oracle
# ----------------------------------
# For a real function of a complex tensor, perturb the real and the imaginary
# part of each entry and combine the two partials as
# :math:`\partial_x L + i\,\partial_y L`.
import torch


def fd_complex_grad(loss, z, h=1e-6):
    """dL/dx + i dL/dy for each entry of ``z``: float64 central differences."""
    z = z.detach().to(torch.complex128)
    grad = torch.zeros_like(z)
    for k in range(z.numel()):
        for step in (1.0, 1j):
            e = torch.zeros_like(z).flatten()
            e[k] = step * h
            e = e.reshape(z.shape)
            slope = (loss(z + e) - loss(z - e)).real / (2 * h)
            grad.view(-1)[k] += step * slope
    return grad


# %%
# :math:`|z|^2`: the gradient is :math:`2z`
# ------------------------------------------
# :math:`L = x^2 + y^2`, so :math:`\partial_x L + i\,\partial_y L = 2x + 2iy
# = 2z`. In Wirtinger terms :math:`L = z\bar z` and
# :math:`\partial L / \partial \bar z = z`.
z = torch.tensor([1.0 + 2.0j, -0.5 + 0.0j, 3.0 - 1.0j], requires_grad=True)
loss = (z.abs() ** 2).sum()
loss.backward()
print(f"z      = {z.detach()}\nz.grad = {z.grad}")
torch.testing.assert_close(z.grad, 2 * z.detach())
torch.testing.assert_close(
    z.grad.to(torch.complex128),
    fd_complex_grad(lambda t: (t.abs() ** 2).sum(), z),
)

# %%
# :math:`\operatorname{Re}(z^2)`: the gradient is :math:`2\bar z`
# ---------------------------------------------------------------
# :math:`\operatorname{Re}(z^2) = x^2 - y^2`, so the gradient is
# :math:`2x - 2iy = 2\bar z`: the *conjugate* of the complex derivative
# :math:`\frac{d}{dz} z^2 = 2z`.
z = torch.tensor([1.0 + 2.0j, -0.5 + 0.0j, 3.0 - 1.0j], requires_grad=True)
(g,) = torch.autograd.grad((z**2).real.sum(), z)
print(f"grad of Re(z^2): {g}")
torch.testing.assert_close(g, 2 * z.detach().conj())
torch.testing.assert_close(
    g.to(torch.complex128), fd_complex_grad(lambda t: (t**2).real.sum(), z)
)

# %%
# Complex outputs need ``grad_outputs``
# -------------------------------------
# ``backward()`` without arguments is only defined for a *real* scalar: a
# complex output needs a weighting to become a real loss.
try:
    (z**2).sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "real scalar outputs" in str(err)
else:
    raise AssertionError("backward of a complex scalar must fail")

# %%
# With a weight :math:`v`, :func:`torch.autograd.grad` differentiates the
# real loss :math:`\operatorname{Re}\sum_k \bar v_k f(z_k)`. For a
# holomorphic :math:`f` this gives :math:`v\, \overline{f'(z)}`; with
# :math:`v = 1` and :math:`f = z^2` that is the :math:`2\bar z` of above.
v = torch.tensor([1.0 + 0.0j, 1.0j, 2.0 - 1.0j])
(g_v,) = torch.autograd.grad(z**2, z, grad_outputs=v)
print(f"vjp of z^2 with v: {g_v}")
torch.testing.assert_close(g_v, v * (2 * z.detach()).conj())
torch.testing.assert_close(
    g_v.to(torch.complex128),
    fd_complex_grad(lambda t: (v.conj() * t**2).real.sum(), z),
)

# %%
# Gradient descent on a complex parameter
# ---------------------------------------
# Minimise :math:`L(z) = |az - b|^2` for complex :math:`a, b`. Its gradient
# is :math:`2\bar a (az - b)`, zero at :math:`z^* = b / a`. Plain
# ``z -= lr * z.grad`` walks there.
a = torch.tensor(1.0 + 1.0j)
b = torch.tensor(2.0 - 1.0j)
z = torch.tensor(-1.0 + 2.0j, requires_grad=True)
path = [z.detach().clone()]
for _ in range(25):
    loss = (a * z - b).abs() ** 2
    (g,) = torch.autograd.grad(loss, z)
    torch.testing.assert_close(g, 2 * a.conj() * (a * z.detach() - b))
    with torch.no_grad():
        z -= 0.2 * g
    path.append(z.detach().clone())
print(f"after 25 steps z = {z.detach()}; b / a = {b / a}")
torch.testing.assert_close(z.detach(), b / a)

# %%
# Each step moves against ``z.grad`` in the complex plane, straight towards
# :math:`b / a`: the conjugate convention makes the gradient point uphill, as
# a real gradient does.
import matplotlib.pyplot as plt

path = torch.stack(path)
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.plot(path.real, path.imag, "o-", ms=3, label="iterates of z")
ax.plot((b / a).real, (b / a).imag, "*", ms=14, color="C3", label="b / a")
ax.set_xlabel("Re z")
ax.set_ylabel("Im z")
ax.set_aspect("equal")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: which convention ``grad`` follows for complex
# inputs (issue #41857, where PyTorch settled on the conjugate Wirtinger
# derivative so that gradient descent works unchanged), and the sign of the
# conjugate Wirtinger derivative in the docs (pytorch.github.io issue #702).
#
# Conclusion
# ----------
# For a real loss of complex parameters, ``z.grad`` is
# :math:`\partial_x L + i\,\partial_y L = 2\,\partial L/\partial\bar z`,
# checkable with real finite differences of the real and imaginary parts.
# For a holomorphic :math:`f` it is the conjugate of :math:`f'(z)`, times
# the weight ``grad_outputs``; complex outputs always need that weight.
#
# Exercises
# ---------
# 1. What is ``z.grad`` for :math:`L = |z|^4`? Derive it with Wirtinger
#    calculus (:math:`L = (z\bar z)^2`) and check.
# 2. Complex least squares :math:`L = \|Az - b\|^2`: check ``z.grad`` against
#    :math:`2A^{\mathsf H}(Az - b)`.
# 3. For the holomorphic :math:`f(z) = e^z` and weights :math:`v`, what does
#    ``torch.autograd.grad(f(z), z, grad_outputs=v)`` return?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
z = torch.tensor([1.0 + 2.0j, -0.5 + 0.5j], requires_grad=True)
(g,) = torch.autograd.grad((z.abs() ** 4).sum(), z)
print(f"grad of |z|^4 = 4|z|^2 z: {g}")
torch.testing.assert_close(g, 4 * z.detach().abs() ** 2 * z.detach())

# %%
# (:math:`\partial L/\partial\bar z = 2(z\bar z)\,z`, times 2.)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
torch.manual_seed(0)
A = torch.randn(4, 2, dtype=torch.complex128)
rhs = torch.randn(4, dtype=torch.complex128)
z = torch.randn(2, dtype=torch.complex128, requires_grad=True)
(g,) = torch.autograd.grad(torch.linalg.vector_norm(A @ z - rhs) ** 2, z)
print(f"grad of ||Az - b||^2: {g}")
torch.testing.assert_close(g, 2 * A.conj().T @ (A @ z.detach() - rhs))

# %%
# Solution to exercise 3
# ~~~~~~~~~~~~~~~~~~~~~~
z = torch.tensor([0.5 + 1.0j, -1.0 + 0.0j], requires_grad=True)
v = torch.tensor([1.0 + 0.0j, 0.5 - 2.0j])
(g,) = torch.autograd.grad(torch.exp(z), z, grad_outputs=v)
print(f"v * conj(exp(z)): {g}")
torch.testing.assert_close(g, v * torch.exp(z.detach()).conj())
