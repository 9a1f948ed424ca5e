r"""
.. _example-detach-numpy:

Leaving the graph: detach(), NumPy and plotting
===============================================

``.numpy()`` refuses a tensor that requires grad, and so does plotting it.
:meth:`~torch.Tensor.detach` is the way out: it returns the same data outside
the graph; ``.numpy(force=True)`` detaches for you. A detached value is a
constant for autograd, which changes derivatives.

For example,
:math:`\frac{d}{dx}\left[x \cdot \operatorname{detach}(x)\right] = x`,
not :math:`2x`.

.. reading-path::
   :learn: how ``detach()`` takes a tensor out of the graph (for NumPy and for
      plots), and how a detached value changes a derivative
   :after: example-leaf-tensors, example-computational-graph

.. figure-alt:: 1

   y = x² with two derivatives: d/dx(x·x) = 2x and d/dx(x·detach(x)) = x, a
   line with half the slope.
"""

# %%
# NumPy refuses tensors that require grad
# ---------------------------------------
# NumPy arrays have no graph. PyTorch refuses the conversion rather than
# silently dropping the history, and says what to do instead.
import torch

x = torch.linspace(-2, 2, 17, requires_grad=True)
y = x**2
try:
    y.numpy()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("y.numpy() was expected to raise: y requires grad")

# %%
# ``y.numpy(force=True)`` converts anyway: it detaches before converting, so
# the array holds the values and none of the graph; ``y`` itself still
# requires grad.
import numpy as np

forced = y.numpy(force=True)
print(f"y.numpy(force=True): {type(forced).__name__}, shape {forced.shape}")
assert isinstance(forced, np.ndarray) and y.requires_grad
np.testing.assert_array_equal(forced, (x.detach() ** 2).numpy())

# %%
# detach() shares the data, not the graph
# ---------------------------------------
# ``y.detach()`` is a new tensor on the same memory, with
# ``requires_grad=False`` and no ``grad_fn``; its ``.numpy()`` works and costs
# no copy.
y_det = y.detach()
print(f"requires_grad: {y_det.requires_grad}, grad_fn: {y_det.grad_fn}")
print(f"same memory as y: {y_det.data_ptr() == y.data_ptr()}")
print(f"as a NumPy array: {y_det.numpy()}")
torch.testing.assert_close(y_det, x.detach() * x.detach())
assert y_det.data_ptr() == y.data_ptr() and y_det.grad_fn is None
assert y_det.numpy().ctypes.data == y.data_ptr()  # the array is no copy

# %%
# Because the memory is shared, an in-place change to the detached tensor
# changes the original too. When you need an independent copy, use
# ``.detach().clone()``.
a = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
b = a.exp()
b_copy = b.detach().clone()
b_copy[0] = 100.0
print(f"b after changing a clone:          {b.detach()}")
b_view = b.detach()
b_view[0] = 100.0
print(f"b after changing the detached view: {b.detach()}")
assert b_copy[0] == 100.0 and b[0] == 100.0  # the view wrote into b

# %%
# Autograd notices: ``exp`` saved its output for the backward pass, and a
# version counter, which ``b`` shares with its detached view, records the
# in-place change. The backward pass refuses to use the modified value.
try:
    b.sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "backward through a modified saved tensor was expected to raise"
    )

# %%
# What the same in-place change of ``b`` does when it is made through
# ``.data`` or through a NumPy array instead: :ref:`detach-vs-data`.

# %%
# Plotting needs detached tensors
# -------------------------------
# Matplotlib converts its inputs with NumPy, so plotting tensors that require
# grad fails with the same message (we close the empty figure).
import matplotlib.pyplot as plt

fig, ax = plt.subplots()
try:
    ax.plot(x, y)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "plotting tensors that require grad was expected to raise"
    )
plt.close(fig)

# %%
# A detached value is a constant
# ------------------------------
# In :math:`z = x \cdot \operatorname{detach}(x)` autograd sees the second
# factor as a number :math:`c` that happens to equal :math:`x`, so
#
# .. math::
#
#    \frac{dz}{dx} = c = x, \qquad \text{whereas} \qquad
#    \frac{d}{dx}\left(x \cdot x\right) = 2x.
z = x * x.detach()
(dzdx,) = torch.autograd.grad(z, x, grad_outputs=torch.ones_like(z))
print(f"x                 : {x.tolist()}")
print(f"d/dx [x detach(x)]: {dzdx.tolist()}")
torch.testing.assert_close(dzdx, x.detach())

# %%
# Without the ``detach()`` the same product gives :math:`2x`.
y_both = x * x
(dydx,) = torch.autograd.grad(y_both, x, grad_outputs=torch.ones_like(y_both))
print(f"d/dx [x x]        : {dydx.tolist()}")
torch.testing.assert_close(dydx, 2 * x.detach())

# %%
# With detached tensors the plot works. The two derivatives differ everywhere
# but at :math:`x = 0`.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(x.detach(), y.detach(), "k", label=r"$y = x^2$")
ax.plot(x.detach(), dydx, "o-", label=r"$\frac{d}{dx}(x \cdot x) = 2x$")
ax.plot(
    x.detach(),
    dzdx,
    "s--",
    label=r"$\frac{d}{dx}(x \cdot \mathrm{detach}(x)) = x$",
)
ax.set_xlabel("$x$")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# When to use ``detach()`` and when ``torch.no_grad()``:
# :ref:`detach-vs-no-grad`.

# %%
# Conclusion
# ----------
# Call ``.detach()`` before ``.numpy()`` or plotting (or
# ``.numpy(force=True)``); add ``.clone()`` when you will modify the result.
# Inside a computation, a detached tensor is a constant: autograd sends no
# gradient through it.

# %%
# Exercises
# ---------
# 1. Predict, then check at the points ``x`` above:
#    :math:`\frac{d}{dx}\left[x \cdot \operatorname{detach}(x)^2\right]` and
#    :math:`\frac{d}{dx}\, x^3`.
# 2. The *straight-through* trick: ``x + (torch.round(x) - x).detach()`` has
#    the value of ``round(x)`` but the derivative of ``x``. Check both.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
xd = x.detach()
(d_detached,) = torch.autograd.grad((x * xd**2).sum(), x)
(d_cube,) = torch.autograd.grad((x**3).sum(), x)
print(f"d/dx [x detach(x)^2] = x^2 at x = 2: {d_detached[-1]}")
print(f"d/dx x^3 = 3x^2 at x = 2:            {d_cube[-1]}")
torch.testing.assert_close(d_detached, xd**2)
torch.testing.assert_close(d_cube, 3 * xd**2)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
q = torch.tensor([0.2, 0.7, 1.4], requires_grad=True)
st = q + (torch.round(q) - q).detach()
st.sum().backward()
print(f"value: {st.detach()}, derivative: {q.grad}")
torch.testing.assert_close(st.detach(), torch.round(q.detach()))
torch.testing.assert_close(q.grad, torch.ones(3))
