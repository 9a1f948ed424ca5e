r"""
.. _example-views-inplace:

Views and in-place operations
=============================

A slice is a view: a new tensor on the memory of another tensor. Writing
into a view in place therefore changes the other tensor too, and autograd
rewrites that tensor's history to match. This page shows how autograd
handles this; why a change made through ``x.detach()`` is caught by the
version counter where one made through ``x.data`` is not, and what the
counter cannot catch; how a custom Function that works in place tells
autograd so; and how to ask backward for the gradients of some leaves only.

You will learn what ``CopySlices`` in a ``grad_fn`` means, what the version
counter catches, and what ``ctx.mark_dirty`` and ``backward(inputs=...)`` do.
Each derivative is checked against its closed form, for example
:math:`\frac{d}{dx}\left(2x \cdot x\right) = 4x` for an entry multiplied in
place.

.. reading-path::
   :learn: what a view shares with its base, what ``CopySlices`` in a
      ``grad_fn`` means, why a change through ``x.detach()`` is checked where
      one through ``x.data`` is not,
      what ``ctx.mark_dirty`` and ``backward(inputs=...)`` do
   :after: example-leaf-tensors, example-saved-tensors

.. search::
   :keywords: view, in-place operation, CopySlices, mark_dirty, version counter
"""

# %%
# A view shares storage
# ---------------------
# ``a[1:4]`` copies nothing: the slice reads and writes the memory of ``a``.
# Both tensors report the same storage, and a write through the view shows in
# ``a``.
import torch

a = torch.arange(6.0)
v = a[1:4]
same = v.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
print(f"same storage: {same}")
v[0] = 100.0
print(f"a after v[0] = 100: {a}")
assert same and a[1] == 100.0

# %%
# An in-place operation on a view rewrites the base's history
# -----------------------------------------------------------
# Take :math:`b = 2x` and multiply its last two entries in place by
# :math:`x_1, x_2`. The entries of :math:`b` are then
# :math:`(2x_0,\ 2x_1^2,\ 2x_2^2)`, so
#
# .. math::
#
#    \frac{\partial}{\partial x_i} \sum_j b_j = (2,\ 4x_1,\ 4x_2)_i.
#
# Autograd must know that :math:`b` changed through its view: it replaces
# ``b.grad_fn`` by a ``CopySlices`` node, which routes the gradient of the
# changed slice through the in-place multiplication.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = 2 * x
print(f"b.grad_fn before: {b.grad_fn.name()}")
tail = b[1:]
tail.mul_(x[1:])
print(f"b.grad_fn after tail.mul_(...): {b.grad_fn.name()}")
assert "CopySlices" in b.grad_fn.name()

# %%
# The gradient through the rewritten history is the closed form above.
(g,) = torch.autograd.grad(b.sum(), x)
xd = x.detach()
print(f"d/dx sum(b) = {g}")
torch.testing.assert_close(g, torch.tensor([2.0, 4 * xd[1], 4 * xd[2]]))

# %%
# The same change on a view of a *leaf* that requires grad is refused while
# autograd records; under ``torch.no_grad()`` it is a plain change of the
# numbers (the :ref:`common errors <error-leaf-view-inplace>` page has more).
try:
    x[1:].mul_(2)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("an in-place change of a view of a leaf must fail")
with torch.no_grad():
    x[1:].mul_(2)
print(f"x after the change under no_grad: {x}")
torch.testing.assert_close(x.detach(), torch.tensor([1.0, 4.0, 6.0]))

# %%
# .. _detach-vs-data:
#
# ``x.detach()`` is checked, ``x.data`` is not
# --------------------------------------------
# Both give a tensor on the same memory, outside the graph. The difference is
# the *version counter*: a node that saved a tensor records the tensor's
# version, a count of the in-place torch operations made on the tensor (or
# on ``detach()``, or on a view of it), and backward checks it. A change
# made through ``detach()`` counts; one made through ``.data`` does not.
# ``sigmoid`` saves its output :math:`s`, since :math:`\sigma' = s(1 - s)`.
# Zeroing :math:`s` through ``detach()`` raises at backward:
p = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
s = torch.sigmoid(p)
for outside in (s.detach(), s.data):
    assert outside.data_ptr() == s.data_ptr()  # the same memory
    assert not outside.requires_grad and outside.grad_fn is None
s.detach().zero_()
try:
    s.sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "output 0 of Sigmoid" in str(err)
else:
    raise AssertionError("a change through detach() must fail at backward")

# %%
# The same change through ``.data`` goes unnoticed, and backward reads the
# zeros: the gradient it returns is :math:`0 \cdot (1 - 0) = 0`, silently
# wrong. The true derivative is :math:`\sigma(p)(1 - \sigma(p))`.
p = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
s = torch.sigmoid(p)
s.data.zero_()
s.sum().backward()
true_grad = torch.sigmoid(p.detach()) * (1 - torch.sigmoid(p.detach()))
print(f"gradient after s.data.zero_(): {p.grad}")
print(f"true derivative:               {true_grad}")
torch.testing.assert_close(p.grad, torch.zeros(3))
assert not torch.allclose(p.grad, true_grad)

# %%
# The counter sees torch operations only. A write through NumPy into the
# memory of ``s.detach()`` (``.numpy()`` makes no copy) goes unnoticed just as
# ``.data`` does: the first entry of the gradient is silently 0.
p = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
s = torch.sigmoid(p)
s.detach().numpy()[0] = 0.0
s.sum().backward()
print(f"gradient after s.detach().numpy()[0] = 0: {p.grad}")
torch.testing.assert_close(p.grad[1:], true_grad[1:])
assert p.grad[0] == 0.0 and true_grad[0] > 0.2

# %%
# The counter guards only what a node saved. ``b = 2 * x`` saves the number 2
# and nothing of ``b``, so tripling ``b`` through ``detach()`` raises nothing:
# ``b`` holds :math:`6x` and its gradient is still 2, silently wrong.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = 2 * x
b.detach().mul_(3)
(g_b,) = torch.autograd.grad(b.sum(), x)
print(f"b = {b.detach()}; d/dx sum(b) = {g_b}")
torch.testing.assert_close(b.detach(), 6 * x.detach())
torch.testing.assert_close(g_b, torch.full((3,), 2.0))

# %%
# So reach the data with ``detach()`` (and update under ``torch.no_grad()``):
# an in-place torch operation on a tensor that a node saved (as ``sigmoid``
# saves its output) then makes backward through that node raise, as above,
# instead of giving a wrong number.
# Any other change (through NumPy, or of a tensor no node saved) goes
# unchecked: to change values that a graph still uses, work on a copy,
# ``.detach().clone()`` (or ``.detach().numpy().copy()``).
#
# In-place custom Functions: ``ctx.mark_dirty``
# ---------------------------------------------
# A :class:`torch.autograd.Function` whose ``forward`` changes an input in
# place must say so with ``ctx.mark_dirty(x)`` and return that input (shown
# below). This one replaces :math:`h` by :math:`e^h` and saves the result,
# since :math:`\frac{d}{dh} e^h = e^h`.
class ExpInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h):
        h.exp_()
        ctx.mark_dirty(h)
        ctx.save_for_backward(h)
        return h  # the changed input itself, not a copy

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return grad_out * result


# %%
# Marked dirty, the input's own history is rewritten: ``h`` is the output,
# its ``grad_fn`` is the Function's node, and for :math:`h = 2x` the
# derivative of :math:`\sum_i e^{2x_i}` is :math:`2e^{2x}`.
x = torch.tensor([0.0, 0.5, 1.0], requires_grad=True)
h = 2 * x
out = ExpInPlace.apply(h)
print(f"out is h: {out is h}; h.grad_fn: {type(h.grad_fn).__name__}")
(g,) = torch.autograd.grad(h.sum(), x)
print(f"d/dx sum(exp(2x)) = {g}")
assert out is h and type(h.grad_fn).__name__ == "ExpInPlaceBackward"
torch.testing.assert_close(g, 2 * torch.exp(2 * x.detach()))


# %%
# Marking the input dirty but returning a copy of it raises in ``apply``,
# after ``forward`` has already changed the input:
class ExpInPlaceReturnsCopy(ExpInPlace):
    @staticmethod
    def forward(ctx, h):
        h.exp_()
        ctx.mark_dirty(h)
        return h.clone()


h = 2 * x
try:
    ExpInPlaceReturnsCopy.apply(h)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("a dirty input that is not returned must raise")
print(f"h after the error: {h.detach()} (exp(2x))")
torch.testing.assert_close(h.detach(), torch.exp(2 * x.detach()))


# %%
# Without ``mark_dirty``, ``apply`` returns a new tensor object (on ``h``'s
# memory) that carries the Function's node (differentiating it gives the
# right :math:`2e^{2x}`), but ``h`` itself keeps its old history
# (``h = 2x``) while holding :math:`e^{2x}`. Here nothing raises, because
# ``h``'s old node, ``MulBackward0``, saved nothing that the change touched:
# differentiating ``h`` gives 2, silently wrong.
class ExpInPlaceUnmarked(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h):
        h.exp_()
        ctx.save_for_backward(h)
        return h

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return grad_out * result


x = torch.tensor([0.0, 0.5, 1.0], requires_grad=True)
h = 2 * x
out = ExpInPlaceUnmarked.apply(h)
(g_out,) = torch.autograd.grad(out.sum(), x, retain_graph=True)
print(f"out is h: {out is h}; out.grad_fn: {type(out.grad_fn).__name__}; "
      f"d/dx sum(out) = {g_out}")
assert out is not h and out.data_ptr() == h.data_ptr()
assert type(out.grad_fn).__name__ == "ExpInPlaceUnmarkedBackward"
torch.testing.assert_close(g_out, 2 * torch.exp(2 * x.detach()))
(g_unmarked,) = torch.autograd.grad(h.sum(), x)
print(f"h.grad_fn: {h.grad_fn.name()}; d/dx sum(h) = {g_unmarked}")
assert h.grad_fn.name() == "MulBackward0"
torch.testing.assert_close(g_unmarked, torch.full((3,), 2.0))
assert not torch.allclose(g_unmarked, 2 * torch.exp(2 * x.detach()))

# %%
# The version counter guards what a node saved, whatever a Function marks.
# ``sigmoid`` saves its output, so changing ``h = sigmoid(x)`` in place
# makes backward raise with the marked Function as with the unmarked one:
# ``mark_dirty`` keeps ``h``'s history right; it does not make changing a
# saved tensor safe. (The errors name version 1 after the unmarked
# Function's ``exp_`` and version 2 after the marked one: ``apply`` bumps the
# version of an input marked dirty once more when ``forward`` returns.)
for function, version in ((ExpInPlaceUnmarked, 1), (ExpInPlace, 2)):
    h = torch.sigmoid(x)
    function.apply(h)
    try:
        torch.autograd.grad(h.sum(), x)
    except RuntimeError as err:
        print(f"{function.__name__}: RuntimeError: {err}")
        assert f"is at version {version};" in str(err)
    else:
        raise AssertionError("changing sigmoid's saved output must raise")

# %%
# Gradients for some leaves only: ``backward(inputs=...)``
# --------------------------------------------------------
# ``loss.backward(inputs=[w])`` accumulates into ``w.grad`` alone; other
# leaves keep their ``.grad``. For :math:`L = \sum_i (3w_i + c)^2`,
# :math:`\partial L/\partial w_i = 6(3w_i + c)`.
w = torch.tensor([1.0, 2.0], requires_grad=True)
c = torch.tensor(0.5, requires_grad=True)
loss = ((3 * w + c) ** 2).sum()
loss.backward(inputs=[w])
print(f"w.grad = {w.grad}, c.grad = {c.grad}")
torch.testing.assert_close(w.grad, 6 * (3 * w.detach() + c.detach()))
assert c.grad is None

# %%
# Conclusion
# ----------
# A view shares its base's memory; an in-place operation on it rewrites the
# base's ``grad_fn`` into ``CopySlices``, and the gradients follow the new
# values. Reach a tensor's data with ``detach()``: its shared version counter
# turns an in-place torch operation on a tensor that a node saved into an error
# at backward; ``.data`` and a write through NumPy turned the same change into
# a wrong gradient above, and a change to a tensor no node saved goes unchecked
# either way. A custom Function that changes an input in place calls
# ``ctx.mark_dirty`` and returns that input; without ``mark_dirty``, the input
# kept a history that no longer matched its values, silently wrong. Marked or
# not, an in-place torch operation on a tensor that a node saved makes
# backward through that node raise.
# ``backward(inputs=[...])`` fills ``.grad`` of the listed leaves only.
#
# Exercises
# ---------
# 1. For ``y = x.clone()`` with :math:`x = (1, 2, 3, 4)`, multiply
#    ``y[::2]`` by 5 in place. Predict the gradient of :math:`\sum_i y_i`
#    and the name of ``y.grad_fn``, then check.
# 2. Write an in-place ReLU as a custom Function (``clamp_(min=0)`` and
#    ``mark_dirty``) and check its gradient, :math:`1` where :math:`h > 0`
#    and :math:`0` elsewhere, for :math:`h = x - 1` at
#    :math:`x = (0, 0.5, 2, 3)`.
# 3. With ``w`` and ``c`` as above, call ``backward(inputs=[c])`` on a fresh
#    loss and check :math:`\partial L/\partial c = 2\sum_i (3w_i + c)`; is
#    ``w.grad`` changed?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
#
# Entries 0 and 2 become :math:`5x_i`, so the gradient is :math:`(5, 1, 5,
# 1)`, and the history is rewritten into ``CopySlices``.
x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
y = x.clone()
y[::2].mul_(5)
(g,) = torch.autograd.grad(y.sum(), x)
print(f"y.grad_fn: {y.grad_fn.name()}; gradient: {g}")
assert "CopySlices" in y.grad_fn.name()
torch.testing.assert_close(g, torch.tensor([5.0, 1.0, 5.0, 1.0]))


# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
class ReluInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h):
        h.clamp_(min=0)
        ctx.mark_dirty(h)
        ctx.save_for_backward(h)
        return h

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return grad_out * (result > 0)


x = torch.tensor([0.0, 0.5, 2.0, 3.0], requires_grad=True)
h = x - 1
ReluInPlace.apply(h)
(g,) = torch.autograd.grad(h.sum(), x)
print(f"in-place ReLU of x - 1: {h.detach()}; gradient: {g}")
torch.testing.assert_close(g, (x.detach() > 1).float())

# %%
# Solution to exercise 3
# ~~~~~~~~~~~~~~~~~~~~~~
#
# ``w.grad`` keeps what the first call put there.
w_grad_before = w.grad.clone()
loss = ((3 * w + c) ** 2).sum()
loss.backward(inputs=[c])
unchanged = torch.equal(w.grad, w_grad_before)
print(f"c.grad = {c.grad}, w.grad unchanged: {unchanged}")
torch.testing.assert_close(c.grad, 2 * (3 * w.detach() + c.detach()).sum())
assert torch.equal(w.grad, w_grad_before)
