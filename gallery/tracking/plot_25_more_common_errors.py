r"""
.. _example-more-common-errors:

Common autograd errors, and their fixes
=======================================

Four mistakes that learners meet again and again, each produced live with
its real error or symptom, then fixed, with the fixed gradient checked
against a closed form: an integer tensor that should require grad, a
``.to()`` that changes a leaf's dtype or device and so returns a non-leaf
copy, a recurrent hidden state that
drags the whole history into backward, and ``.item()`` under ``vmap``.

.. reading-path::
   :learn: four mistakes learners meet again and again (an integer tensor that
      should require grad, a ``.to()`` to another dtype or device, which makes
      a non-leaf, a hidden state
      that drags its history into backward, ``.item()`` under ``vmap``), each
      with its error and its fix
   :after: example-leaf-tensors, example-detach-numpy
"""

# %%
# Integer tensors cannot require grad
# -----------------------------------
# Derivatives need a continuum of values; an integer tensor has none, so
# PyTorch refuses ``requires_grad=True`` on it. ``torch.tensor([1, 2])`` is
# ``int64`` because its literals are integers.
import torch

try:
    torch.tensor([1, 2, 3], requires_grad=True)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("an int64 tensor must not require grad")

# %%
# The fix is a floating-point tensor (write ``1.0`` or pass ``dtype``). Then
# :math:`\frac{d}{dx}\sum x^2 = 2x`.
x = torch.tensor([1, 2, 3], dtype=torch.float32, requires_grad=True)
(g,) = torch.autograd.grad((x**2).sum(), x)
print(f"d/dx sum(x^2) = 2x: {g}")
torch.testing.assert_close(g, 2 * x.detach())

# %%
# The reverse trap: integer *results* silently leave the graph. ``argmax``
# and a cast to ``long`` return tensors that do not require grad.
print(f"x.argmax().requires_grad = {x.argmax().requires_grad}, "
      f"x.long().requires_grad = {x.long().requires_grad}")
assert not x.argmax().requires_grad and not x.long().requires_grad

# %%
# ``.to()`` makes a non-leaf
# --------------------------
# ``torch.randn(3, requires_grad=True).to(...)`` creates the leaf, then, when
# ``.to()`` changes its dtype or device, *copies* it: the name now holds the
# copy, a non-leaf, whose ``.grad`` stays ``None`` (and PyTorch warns when you
# read it). A change of dtype shows it on any machine; a change of device is
# the same kind of copy (below).
import warnings

torch.manual_seed(0)
w = torch.randn(3, requires_grad=True).to(torch.float64)
(3 * w).sum().backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    grad_seen = w.grad
print(f"w.is_leaf = {w.is_leaf}, w.grad = {grad_seen}")
print(f"UserWarning: {str(caught[0].message).split(' Its ')[0]}")
assert not w.is_leaf and grad_seen is None
assert issubclass(caught[0].category, UserWarning)

# %%
# Moving to another device copies too. ``.cuda()`` needs a GPU; the ``meta``
# device (shapes without data) exists on every machine and shows the same
# copy node.
w_moved = torch.randn(3, requires_grad=True).to("meta")
print(f"after .to('meta'): is_leaf = {w_moved.is_leaf}, "
      f"grad_fn = {type(w_moved.grad_fn).__name__}")
assert not w_moved.is_leaf and w_moved.grad_fn is not None

# %%
# A ``.to()`` that changes neither the dtype nor the device copies nothing:
# it returns the leaf itself, which keeps its ``.grad``.
leaf = torch.randn(3, requires_grad=True)
unchanged = leaf.to(torch.float32).to("cpu")
print(f"leaf.to(float32).to('cpu') is leaf: {unchanged is leaf}, "
      f"is_leaf = {unchanged.is_leaf}")
assert unchanged is leaf and unchanged.is_leaf

# %%
# Create the tensor where and as it will be used, so that it is the leaf
# (``device=``, ``dtype=`` in the factory call); or convert first and call
# ``requires_grad_()`` last. Then :math:`\frac{d}{dw}\sum 3w = 3`.
torch.manual_seed(0)
w = torch.randn(3, dtype=torch.float64, requires_grad=True)
v = torch.randn(3).to(torch.float64).requires_grad_()
(3 * w).sum().backward()
(3 * v).sum().backward()
print(f"w.grad = {w.grad}\nv.grad = {v.grad}")
torch.testing.assert_close(w.grad, torch.full((3,), 3.0, dtype=torch.float64))
torch.testing.assert_close(v.grad, torch.full((3,), 3.0, dtype=torch.float64))

# %%
# An RNN hidden state that remembers too much
# -------------------------------------------
# A linear recurrence :math:`h_t = a h_{t-1} + x_t`, trained on chunks of a
# long sequence, carrying :math:`h` from one chunk to the next. The second
# chunk's graph reaches back into the first, whose buffers the first
# ``backward()`` already freed.
a = torch.tensor(0.5, requires_grad=True)
sequence = torch.tensor([1.0, 2.0, -1.0, 0.5])
h = torch.tensor(0.0)
try:
    for chunk in sequence.split(2):
        for x_t in chunk:
            h = a * h + x_t
        (h**2).backward()
except RuntimeError as err:
    print(f"RuntimeError: {str(err).split('.')[0]}.")
    assert "backward through the graph a second time" in str(err)
else:
    raise AssertionError("the second chunk's backward must fail")

# %%
# ``h = h.detach()`` between chunks cuts the history (truncated
# backpropagation through time). For a chunk of two steps from a constant
# :math:`h_0`: :math:`h_2 = a^2 h_0 + a x_1 + x_2`, so
# :math:`\frac{d}{da} h_2^2 = 2h_2\,(2a h_0 + x_1)`.
h = torch.tensor(0.0)
for chunk in sequence.split(2):
    h = h.detach()
    h0 = h.clone()
    for x_t in chunk:
        h = a * h + x_t
    (g_a,) = torch.autograd.grad(h**2, a)
    print(f"chunk {chunk.tolist()}: d(h^2)/da = {g_a:.4f}")
    expected = 2 * h.detach() * (2 * a.detach() * h0 + chunk[0])
    torch.testing.assert_close(g_a, expected)

# %%
# ``.item()`` under ``vmap``
# --------------------------
# :func:`torch.func.vmap` runs a function on a whole batch at once, so a
# per-example Python number does not exist: ``.item()`` raises.
from torch.func import grad, vmap


def scaled_square(t):
    return t**2 * t.item()


try:
    vmap(scaled_square)(torch.tensor([1.0, 2.0, 3.0]))
except RuntimeError as err:
    print(f"RuntimeError: {str(err).split(' We ')[0]}")
    assert ".item()" in str(err)
else:
    raise AssertionError(".item() under vmap must fail")

# %%
# Keep it a tensor: ``t**2 * t`` is :math:`t^3`, and ``vmap(grad(...))``
# gives the per-example derivative :math:`3t^2`.


def cube(t):
    return t**2 * t


ts = torch.tensor([1.0, 2.0, 3.0])
per_example = vmap(grad(cube))(ts)
print(f"vmap(grad(t^3)) = 3t^2: {per_example}")
torch.testing.assert_close(per_example, 3 * ts**2)

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: "Only Tensors of floating point and complex
# dtype can require gradients" (issues #53466 and #95110); ``.grad`` is
# ``None`` after ``.cuda()`` or ``.to(device)`` (issues #13113, #12627 and
# #22860); ``.item()`` under ``vmap`` (pytorch/functorch issues #1108 and
# #770). The RNN case is asked in tutorial repositories
# (yunjey/pytorch-tutorial issue #90, "language model detach(states)").
#
# Conclusion
# ----------
# Make tensors that need gradients floating point, and create them as the
# leaf you will read ``.grad`` from (``dtype=``, ``device=`` in the factory,
# or ``requires_grad_()`` after the conversion). Detach a recurrent state
# between training chunks. Under ``vmap``, stay in tensors: no ``.item()``.
#
# Exercises
# ---------
# 1. A module's parameter is moved with ``.to(torch.float64)``. Does it stay a
#    leaf? (``Module.to`` converts parameters in place.) Check that its
#    gradient is filled, for :math:`\sum W x` with
#    :math:`\partial/\partial W = \mathbf{1} x^{\mathsf T}`.
# 2. Instead of detaching, pass ``retain_graph=True`` to every ``backward()``
#    in the RNN loop. It no longer fails; what does ``a.grad`` hold after each
#    chunk, and why is this not what truncation wants?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
layer = torch.nn.Linear(2, 3, bias=False).to(torch.float64)
x = torch.tensor([1.0, -2.0], dtype=torch.float64)
layer(x).sum().backward()
print(f"weight is leaf: {layer.weight.is_leaf}; grad:\n{layer.weight.grad}")
assert layer.weight.is_leaf
torch.testing.assert_close(layer.weight.grad, x.expand(3, 2))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
a.grad = None
h = torch.tensor(0.0)
after_chunk = []
for chunk in sequence.split(2):
    for x_t in chunk:
        h = a * h + x_t
    (h**2).backward(retain_graph=True)
    after_chunk.append(a.grad.clone())
# h_2 = a x_1 + x_2; h_4 = a^3 x_1 + a^2 x_2 + a x_3 + x_4: the whole history
x1, x2, x3, x4 = sequence
a0 = a.detach()
h2 = a0 * x1 + x2
dh4 = 3 * a0**2 * x1 + 2 * a0 * x2 + x3
print(f"a.grad after chunk 1: {after_chunk[0]:.4f}, "
      f"after chunk 2: {after_chunk[1]:.4f}")
added = after_chunk[1] - after_chunk[0]
print(f"added by chunk 2, d(h_4^2)/da: {added:.4f}")
torch.testing.assert_close(after_chunk[0], 2 * h2 * x1)
torch.testing.assert_close(added, 2 * h.detach() * dh4)

# %%
# ``backward`` adds each chunk's gradient into ``a.grad``, so after the
# second chunk it holds the sum of both. And the second chunk's own share,
# :math:`\frac{d}{da} h_4^2`, now runs through the whole sequence; memory and
# time grow with its length: exactly what truncated BPTT avoids.
