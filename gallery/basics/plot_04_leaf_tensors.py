r"""
.. _example-leaf-tensors:

Leaf tensors, non-leaf tensors and ``.grad``
============================================

``backward()`` stores gradients only in *leaf* tensors that require grad. On
a chain of two operations we see which tensors get a ``.grad``, what PyTorch
says when you read the ``.grad`` of a non-leaf, and what ``retain_grad()``
and ``requires_grad_()`` change.

The chain is :math:`z = 2x^2` and :math:`y = z^2 = 4x^4`, at :math:`x = 3`.

.. reading-path::
   :learn: which tensors get a ``.grad``, what PyTorch says when you read the
      ``.grad`` of a non-leaf, and what ``retain_grad()`` and
      ``requires_grad_()`` change
   :after: example-partial-derivatives

.. search::
   :keywords: leaf, leaf tensor, retain_grad
"""

# %%
# Leaves and non-leaves
# ---------------------
# A *leaf* is a tensor with no ``grad_fn``: no recorded operation produced
# it. Every tensor that does not require grad is a leaf; one that requires
# grad is a leaf only if you created it with ``requires_grad=True`` (or
# switched the flag on), not computed it from one. ``x`` is a leaf that
# requires grad; the constant factor ``c = 2`` is a leaf that does not. ``z``
# and ``y`` were computed by tracked operations, so they have a ``grad_fn``
# and are not leaves (the :ref:`next example <example-computational-graph>`
# draws this graph).
import torch

x = torch.tensor(3.0, requires_grad=True)
c = torch.tensor(2.0)  # a constant: a leaf that does not require grad
z = c * x**2  # a non-leaf: z = 2 x^2 = 18
y = z**2  # y = 4 x^4 = 324
for name, t in [("x", x), ("c", c), ("z", z), ("y", y)]:
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn else None
    flags = f"is_leaf={t.is_leaf}, requires_grad={t.requires_grad}"
    print(f"{name}: {flags}, grad_fn={grad_fn}")
assert x.is_leaf and c.is_leaf and not z.is_leaf and not y.is_leaf

# %%
# Before any ``backward()`` call there is nothing to read: ``x.grad`` is
# ``None``.
print(f"x.grad before backward: {x.grad}")
assert x.grad is None

# %%
# ``.grad`` of the leaf that requires grad
# ----------------------------------------
# ``y.backward()`` stores :math:`\frac{dy}{dx}` in ``x.grad``. By the chain
# rule,
#
# .. math::
#
#    \frac{dy}{dx} = \frac{dy}{dz}\frac{dz}{dx} = 2z \cdot 4x = 16x^3
#    = 16 \cdot 3^3 = 432.
y.backward()
print(f"x.grad = dy/dx = 16x^3 at x = 3: {x.grad}")
torch.testing.assert_close(x.grad, 16 * x.detach() ** 3)

# %%
# The constant ``c`` is a leaf too, but it does not require grad: its ``.grad``
# stays ``None``, and reading it is silent.
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    c_grad = c.grad
print(f"c.grad after backward: {c_grad} ({len(caught)} warnings)")
assert c_grad is None and not caught

# %%
# ``.grad`` of a non-leaf: ``None``, and a warning
# ------------------------------------------------
# ``z`` is not a leaf, so ``backward()`` passed the gradient through it without
# storing it. Reading ``z.grad`` returns ``None`` and PyTorch emits a
# ``UserWarning``; we record it and print its text (without the C++ source
# location that PyTorch appends, which differs between builds).
import textwrap

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    z_grad = z.grad
print(f"z.grad after backward: {z_grad}")
assert z_grad is None
user_warnings = [w for w in caught if issubclass(w.category, UserWarning)]
assert user_warnings, (
    "reading .grad of a non-leaf was expected to emit a UserWarning"
)
message = str(user_warnings[0].message).split(" (Triggered internally")[0]
print("UserWarning:", textwrap.fill(message, width=88), sep="\n")

# %%
# Keeping a non-leaf's gradient with ``retain_grad()``
# ----------------------------------------------------
# The warning names the fix. Call ``z.retain_grad()`` before ``backward()`` and
# ``z.grad`` holds :math:`\frac{dy}{dz} = 2z = 36`. The graph was freed by the
# first ``backward()``, so we rebuild it, and reset ``x.grad``, which would
# otherwise :ref:`accumulate <example-gradient-accumulation>` the new gradient.
x.grad = None
z = c * x**2
z.retain_grad()
y = z**2
y.backward()
print(f"z.retains_grad = {z.retains_grad}")
print(f"z.grad = dy/dz = 2z at z = 18: {z.grad}")
torch.testing.assert_close(z.grad, 2 * z.detach())
print(f"x.grad = dy/dx = 16x^3: {x.grad}")
torch.testing.assert_close(x.grad, 16 * x.detach() ** 3)

# %%
# The two gradients are linked by the chain rule,
# :math:`\frac{dy}{dx} = \frac{dy}{dz} \cdot \frac{dz}{dx} = 36 \cdot 2cx
# = 36 \cdot 12 = 432`:
dz_dx = 2 * c * x.detach()  # closed form
chain = z.grad * dz_dx
print(f"z.grad * dz/dx = {z.grad} * {dz_dx} = {chain}")
torch.testing.assert_close(chain, x.grad)

# %%
# The commonest trap: ``.to()`` after ``requires_grad=True``
# ----------------------------------------------------------
# ``torch.randn(3, requires_grad=True).to(device)`` looks like a parameter,
# but ``.to()`` to another device or dtype is a recorded operation: the
# result is a *non-leaf* copy, and
# its ``.grad`` stays ``None`` after ``backward()``, with the same warning.
# (PyTorch issues #13113 and #12627; a change of dtype shows it on any
# machine, so we use ``.to(torch.float64)``.)
torch.manual_seed(0)
w = torch.randn(3, requires_grad=True).to(torch.float64)
print(f"w.is_leaf = {w.is_leaf}, w.grad_fn = {type(w.grad_fn).__name__}")
(w**2).sum().backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    w_grad = w.grad
print(f"w.grad after backward: {w_grad} ({len(caught)} warning)")
assert not w.is_leaf and w_grad is None
assert any("not a leaf Tensor" in str(m.message) for m in caught)

# %%
# The fix: create the tensor where and as it will be used, or call
# ``requires_grad_()`` after ``.to()``. Either way it is a leaf and its
# ``.grad`` is :math:`\frac{d}{dw} \sum_i w_i^2 = 2w`.
torch.manual_seed(0)
w = torch.randn(3, dtype=torch.float64, requires_grad=True)
w_after = torch.randn(3).to(torch.float64).requires_grad_()
for t in (w, w_after):
    (t**2).sum().backward()
    print(f"is_leaf = {t.is_leaf}, .grad = 2w: {t.grad}")
    assert t.is_leaf
    torch.testing.assert_close(t.grad, 2 * t.detach())

# %%
# ``requires_grad_()`` on a non-leaf
# ----------------------------------
# Whether a non-leaf requires grad is decided by its inputs, not by a flag, so
# it cannot be switched off. Trying it raises:
try:
    z.requires_grad_(False)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "z.requires_grad_(False) was expected to raise: z is not a leaf"
    )

# %%
# The message names the fix: ``z.detach()`` is a new leaf that shares ``z``'s
# data and does not require grad. Switching the flag *on* for ``z`` is allowed
# and changes nothing, since ``z`` already requires grad.
z_const = z.detach()
print(
    f"z.detach(): {z_const}, is_leaf={z_const.is_leaf}, "
    f"requires_grad={z_const.requires_grad}"
)
assert z_const.is_leaf and not z_const.requires_grad
z.requires_grad_()
print(
    f"after z.requires_grad_(): is_leaf={z.is_leaf}, "
    f"requires_grad={z.requires_grad}"
)
assert not z.is_leaf and z.requires_grad

# %%
# Gradients with respect to a non-leaf, without storing anything
# --------------------------------------------------------------
# :func:`torch.autograd.grad` differentiates with respect to any tensor in
# the graph, leaf or not: ask for :math:`\frac{dy}{dz}` directly, no
# ``retain_grad()`` needed, nothing stored.
xs = torch.linspace(0.5, 3.0, 6, requires_grad=True)
zs = 2.0 * xs**2  # non-leaf
ys = zs**2
dy_dz, dy_dx = torch.autograd.grad(ys.sum(), (zs, xs))
print(f"dy/dz = 2z:    {dy_dz}")
torch.testing.assert_close(dy_dz, 2 * zs.detach())
print(f"dy/dx = 16x^3: {dy_dx}")
torch.testing.assert_close(dy_dx, 16 * xs.detach() ** 3)
assert xs.grad is None

# %%
# Conclusion
# ----------
# ``backward()`` stores gradients only in leaves that require grad. A
# non-leaf's ``.grad`` is ``None`` with a warning unless you call
# ``retain_grad()`` first; a constant leaf's is ``None`` silently.
# ``requires_grad`` can be changed only on leaves; for a non-leaf use
# ``detach()``. ``.to()`` that changes the device or dtype of a tensor that
# requires grad returns a non-leaf:
# create tensors on their device and dtype, or call ``requires_grad_()``
# last. :func:`torch.autograd.grad` reaches any tensor in the graph without
# storing anything.

# %%
# Exercises
# ---------
# 1. Which of ``a = torch.ones(2, requires_grad=True)``, ``b = a * 2``,
#    ``c = a.detach()`` and ``d = torch.ones(2)`` are leaves? Predict, then
#    check ``is_leaf`` and ``grad_fn``.
# 2. With :math:`u = 3x` and :math:`v = u^2` at :math:`x = 2`, get
#    :math:`\frac{dv}{du} = 2u` from ``backward()`` (not from
#    :func:`torch.autograd.grad`) and check it.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
a = torch.ones(2, requires_grad=True)
b = a * 2
c = a.detach()
d = torch.ones(2)
for name, t in [("a", a), ("b", b), ("c", c), ("d", d)]:
    grad_fn = t.grad_fn.name() if t.grad_fn else None
    print(f"{name}: is_leaf = {t.is_leaf}, grad_fn = {grad_fn}")
assert [t.is_leaf for t in (a, b, c, d)] == [True, False, True, True]

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(2.0, requires_grad=True)
u = 3 * x
u.retain_grad()  # without it, u.grad stays None
v = u**2
v.backward()
print(f"u.grad = dv/du = 2u = {u.grad}")
torch.testing.assert_close(u.grad, 2 * u.detach())
