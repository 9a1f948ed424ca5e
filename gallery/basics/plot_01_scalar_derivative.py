r"""
.. _example-scalar-derivative:

The derivative of a scalar with respect to a scalar
===================================================

The first thing autograd does: the derivative of a function of one variable
at a point, here a parabola. We also meet the first error every newcomer
sees, when the input was created without ``requires_grad=True``.

For :math:`y = 4x^2` we compute :math:`\frac{dy}{dx} = 8x` at :math:`x = 4`.

.. reading-path::
   :learn: how ``backward()`` computes the derivative of a function of one
      variable, where it stores it (``x.grad``), and what happens without
      ``requires_grad=True``
   :after: none

.. figure-alt:: 1

   The parabola y = 4x² and its derivative dy/dx from autograd, a straight line
   through the origin that matches the closed form 8x at every marked point.
"""

# %%
# Autograd needs to be told what to track
# ---------------------------------------
# A tensor created with plain :func:`torch.tensor` is a constant: PyTorch
# records no history for it, so there is nothing to differentiate. Calling
# :meth:`~torch.Tensor.backward` on a result computed only from constants
# raises.
import torch

x = torch.tensor(4.0)
y = 4.0 * x**2
print(f"x = {x}")
print(f"y = 4 x^2 = {y}")
print(f"y.requires_grad = {y.requires_grad}, y.grad_fn = {y.grad_fn}")

# %%
# The error is produced live here: the call runs, PyTorch raises, and the page
# prints its message. If a future PyTorch stopped raising, this example would
# fail.
try:
    y.backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "y.backward() was expected to raise: y does not require grad"
    )

# %%
# Tracking the input
# ------------------
# With ``requires_grad=True``, every operation on ``x`` is recorded in a graph.
# The result ``y`` now carries a ``grad_fn``: the node that knows how to send
# a gradient back to ``x``.
x = torch.tensor(4.0, requires_grad=True)
y = 4.0 * x**2
print(f"y = {y}")
print(f"y.grad_fn = {y.grad_fn.name()}")

# %%
# :meth:`~torch.Tensor.backward` walks the graph from ``y`` back to ``x`` and
# stores :math:`\frac{dy}{dx}` in ``x.grad``. By the power rule,
#
# .. math::
#
#    \frac{d}{dx}\left(4x^2\right) = 8x = 8 \cdot 4 = 32.
y.backward()
print(f"dy/dx at x = 4: {x.grad}")

# %%
# We check the printed value against the closed form :math:`8x`, computed
# without autograd. A wrong derivative fails this line, the tests and the
# build.
torch.testing.assert_close(x.grad, 8 * x.detach())

# %%
# The derivative as a function
# ----------------------------
# ``backward()`` gives the derivative at one point. To see :math:`8x` as a
# curve, evaluate at many points at once; the :ref:`pointwise-derivative
# example <example-pointwise-derivatives>` explains why ``y.sum()`` is the
# right thing to differentiate there.
import matplotlib.pyplot as plt

xs = torch.linspace(-3.0, 3.0, 61, requires_grad=True)
ys = 4.0 * xs**2
ys.sum().backward()
torch.testing.assert_close(xs.grad, 8 * xs.detach())

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs.detach(), ys.detach(), label=r"$y = 4x^2$")
ax.plot(xs.detach(), xs.grad, label=r"$dy/dx$ from autograd")
ax.plot(xs.detach()[::6], 8 * xs.detach()[::6], "o", label=r"closed form $8x$")
ax.set_xlabel("$x$")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Conclusion
# ----------
# Set ``requires_grad=True`` on the inputs you differentiate with respect to,
# call ``backward()`` on a scalar result, read ``.grad``. For derivatives at
# a batch of points in one call, see the :ref:`gradkit library
# <gradkit-reference>`.

# %%
# Exercises
# ---------
# 1. Compute :math:`\frac{d}{dx}\left(x^3 - 2x\right)` at :math:`x = 2` with
#    ``backward()`` and check it against the closed form :math:`3x^2 - 2`.
# 2. Only floating-point tensors can require grad. Show what PyTorch does
#    with ``torch.tensor(4, requires_grad=True)`` (an integer) and fix it.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(2.0, requires_grad=True)
(x**3 - 2.0 * x).backward()
print(f"d/dx (x^3 - 2x) at x = 2: {x.grad}")
torch.testing.assert_close(x.grad, 3 * x.detach() ** 2 - 2)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
try:
    torch.tensor(4, requires_grad=True)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("an integer tensor was expected to refuse grad")
x = torch.tensor(4.0, requires_grad=True)  # 4.0: a float32 tensor
(4.0 * x**2).backward()
print(f"with a float: dy/dx at x = 4: {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach())
