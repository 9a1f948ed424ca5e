r"""
.. _example-custom-functions-in-depth:

Custom autograd Functions in depth
==================================

The :ref:`softplus example <example-custom-function>` wrote a
:class:`torch.autograd.Function` with a forward and a backward. A complete
Function does more: it skips gradients nobody asked for (with
``ctx.needs_input_grad``), marks outputs that carry no gradient as
non-differentiable, supports (or refuses) double backward, has a forward-mode
rule ``jvp``, and works under :func:`torch.func.vmap`. We build them on the
cube function.

The function is :math:`f(x) = x^3`, with :math:`f' = 3x^2` and
:math:`f'' = 6x`.

.. reading-path::
   :learn: what a complete ``torch.autograd.Function`` also does: skip
      gradients nobody asked for, mark outputs as non-differentiable, support
      double backward, forward mode (``jvp``) and ``vmap``
   :after: example-custom-function, example-forward-mode
"""

# %%
# Skipping unneeded gradients: ``ctx.needs_input_grad``
# -----------------------------------------------------
# For :math:`z = x \cdot w`, the gradients are :math:`\bar z\, w` for
# :math:`x` and :math:`\bar z\, x` for :math:`w`. ``ctx.needs_input_grad``
# says which inputs need one; returning ``None`` for the others saves work.
import torch

computed = []


class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_z * w
            computed.append("x")
        if ctx.needs_input_grad[1]:
            grad_w = grad_z * x
            computed.append("w")
        return grad_x, grad_w


# %%
# With a constant :math:`w` only :math:`\partial z / \partial x` is computed.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([4.0, 5.0, 6.0])
(g_x,) = torch.autograd.grad(Mul.apply(x, w).sum(), x)
print(f"dz/dx = w: {g_x}; gradients computed: {computed}")
torch.testing.assert_close(g_x, w)
assert computed == ["x"]

# %%
# Integer outputs: ``mark_non_differentiable``
# --------------------------------------------
# A sort returns values and indices. ``ctx.mark_non_differentiable(indices)``
# declares that no gradient flows through the indices: good practice, and the
# cells after this one show what it changes and what it does not. The
# gradient of the values goes back to the positions they came from.


class Sort(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = torch.sort(x)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        return torch.zeros_like(grad_values).scatter(0, indices, grad_values)


x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
values, indices = Sort.apply(x)
print(f"values {values}, indices {indices}")
assert values.requires_grad and not indices.requires_grad
weights = torch.tensor([10.0, 20.0, 30.0])  # d(sum w_k v_k)/dx_i
(g_sort,) = torch.autograd.grad((weights * values).sum(), x)
print(f"gradient reaches the original positions: {g_sort}")
torch.testing.assert_close(g_sort, torch.tensor([30.0, 10.0, 20.0]))

# %%
# The mark is not why the indices have ``requires_grad=False``: integer
# tensors cannot require grad at all, so the indices of a Function that does
# not mark them come out the same, and asking raises.


class SortUnmarked(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = torch.sort(x)
        ctx.save_for_backward(indices)
        return values, indices

    backward = staticmethod(Sort.backward)


_, indices_unmarked = SortUnmarked.apply(x)
print(f"unmarked indices: dtype {indices_unmarked.dtype}, "
      f"requires_grad={indices_unmarked.requires_grad}")
assert not indices_unmarked.requires_grad
try:
    indices_unmarked.requires_grad_()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("an integer tensor must refuse requires_grad")

# %%
# For a floating-point output the mark is what decides: here the positions
# are returned as floats, and only the marked ones come out without
# ``requires_grad``.


class SortFloatPositions(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mark):
        values, indices = torch.sort(x)
        positions = indices.to(x.dtype)
        if mark:
            ctx.mark_non_differentiable(positions)
        ctx.save_for_backward(indices)
        return values, positions

    @staticmethod
    def backward(ctx, grad_values, grad_positions):
        (indices,) = ctx.saved_tensors
        grad_x = torch.zeros_like(grad_values).scatter(0, indices, grad_values)
        return grad_x, None


for mark in (False, True):
    _, positions = SortFloatPositions.apply(x, mark)
    print(f"float positions, marked={mark}: "
          f"requires_grad={positions.requires_grad}")
    assert positions.requires_grad is not mark

# %%
# A true double backward
# ----------------------
# If ``backward`` is written with differentiable torch operations on saved
# tensors, autograd can differentiate it again. This cube also has a
# forward-mode rule ``jvp`` (:math:`\dot y = 3x^2 \dot x`) and
# ``generate_vmap_rule = True``. For ``torch.func`` transforms it is written
# in the ``setup_context`` style (the errors at the end show why).


class Cube(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return x**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * 3 * x**2

    @staticmethod
    def jvp(ctx, x_dot):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * x_dot


# %%
# First and second derivatives, :math:`3x^2` and :math:`6x`, by calling
# :func:`torch.autograd.grad` twice with ``create_graph=True``:
x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
(d1,) = torch.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
(d2,) = torch.autograd.grad(d1.sum(), x)
print(f"f'(x) = 3x^2: {d1.detach()}\nf''(x) = 6x: {d2}")
torch.testing.assert_close(d1.detach(), 3 * x.detach() ** 2)
torch.testing.assert_close(d2, 6 * x.detach())

# %%
# :func:`torch.autograd.gradcheck` and
# :func:`torch.autograd.gradgradcheck` compare first and second derivatives
# with float64 finite differences, including the ``jvp`` when asked to
# (``check_forward_ad=True``).
from torch.autograd import gradcheck, gradgradcheck

x64 = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
ok1 = gradcheck(
    Cube.apply, (x64,), check_forward_ad=True, raise_exception=False
)
ok2 = gradgradcheck(Cube.apply, (x64,), raise_exception=False)
print(f"gradcheck (with forward AD): {ok1}; gradgradcheck: {ok2}")
assert ok1 and ok2

# %%
# Refusing double backward: ``once_differentiable``
# -------------------------------------------------
# A backward written with non-differentiable code (NumPy, or anything else
# autograd cannot record) would give a silently wrong second derivative.
# Decorate it with ``once_differentiable``. Applied alone, the first
# derivative then comes back without a graph, so a second backward fails with
# autograd's generic "does not require grad" error.
from torch.autograd.function import once_differentiable


class CubeOnce(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * 3 * x**2


x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
(d1_alone,) = torch.autograd.grad(
    CubeOnce.apply(x).sum(), x, create_graph=True
)
print(f"d/dx x^3 = 3x^2: {d1_alone}")
torch.testing.assert_close(d1_alone, 3 * x.detach() ** 2)
assert not d1_alone.requires_grad
try:
    d1_alone.sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "does not require grad" in str(err)
else:
    raise AssertionError("a first derivative without a graph must refuse")

# %%
# Inside a larger function, :math:`(x^3)^2`, the first derivative
# :math:`6x^5` is right and has a graph, and a second backward stops with an
# error that names ``once_differentiable``.
(d1,) = torch.autograd.grad(
    (CubeOnce.apply(x) ** 2).sum(), x, create_graph=True
)
print(f"d/dx (x^3)^2 = 6x^5: {d1.detach()}")
torch.testing.assert_close(d1.detach(), 6 * x.detach() ** 5)
try:
    d1.sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "once_differentiable" in str(err)
else:
    raise AssertionError("once_differentiable must refuse double backward")

# %%
# Forward mode: the ``jvp`` rule
# ------------------------------
# :func:`torch.func.jvp` pushes a tangent :math:`\dot x` forward through
# ``Cube.jvp`` and returns :math:`f(x)` and :math:`3x^2 \dot x`, with no
# backward pass.
from torch.func import jvp

x = torch.tensor([-1.0, 0.5, 2.0])
tangent = torch.tensor([1.0, 1.0, 2.0])
value, y_dot = jvp(Cube.apply, (x,), (tangent,))
print(f"jvp of the cube: {y_dot}")
torch.testing.assert_close(y_dot, 3 * x**2 * tangent)

# %%
# Under ``torch.func``: ``generate_vmap_rule``
# --------------------------------------------
# With ``generate_vmap_rule = True`` PyTorch derives the batching rule by
# running ``forward``, ``backward`` and ``jvp`` themselves under ``vmap``, so
# ``vmap(grad(f))`` computes one derivative per input.
from torch.func import grad, vmap

per_sample = vmap(grad(Cube.apply))(x)
print(f"vmap(grad(cube)) = 3x^2 per example: {per_sample}")
torch.testing.assert_close(per_sample, 3 * x**2)

# %%
# The rule is needed only by ``vmap``: the same cube without it still works
# under ``grad`` and ``jvp``, and ``vmap`` raises.


class CubeWithoutVmapRule(Cube):
    generate_vmap_rule = False


d_cube = grad(CubeWithoutVmapRule.apply)(x[2])
_, y_dot = jvp(CubeWithoutVmapRule.apply, (x,), (tangent,))
print(f"without the rule, grad at 2: {d_cube}; jvp: {y_dot}")
torch.testing.assert_close(d_cube, 3 * x[2] ** 2)
torch.testing.assert_close(y_dot, 3 * x**2 * tangent)
try:
    vmap(CubeWithoutVmapRule.apply)(x)
except RuntimeError as err:
    print(f"RuntimeError: {str(err).splitlines()[0]}")
    assert "generate_vmap_rule" in str(err)
else:
    raise AssertionError("vmap needs generate_vmap_rule or a vmap method")

# %%
# The ``setup_context`` style, by contrast, is needed by every ``torch.func``
# transform: the earlier ``Mul``, written in the old style with ``ctx`` in
# ``forward``, raises under ``grad``, ``jvp`` and ``vmap`` alike.
TRANSFORMS = {
    "grad": lambda: grad(lambda t: Mul.apply(t, t).sum())(x),
    "jvp": lambda: jvp(lambda t: Mul.apply(t, t), (x,), (tangent,)),
    "vmap": lambda: vmap(lambda t: Mul.apply(t, t))(x),
}
for name, transform in TRANSFORMS.items():
    try:
        transform()
    except RuntimeError as err:
        print(f"{name}: RuntimeError: {str(err).splitlines()[0][:68]}...")
        assert "setup_context" in str(err)
    else:
        raise AssertionError(f"an old-style Function must fail under {name}")

# %%
# One gradient per forward input
# ------------------------------
# ``backward`` returns one value per argument of ``forward`` after ``ctx``,
# in order: a gradient for each tensor input, ``None`` for each input that
# is not a tensor (a Python number, a flag). For :math:`z = s\,x w` with a
# float :math:`s`, that is three values: :math:`s\,\bar z\, w`,
# :math:`s\,\bar z\, x` and ``None``.
class ScaledMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, scale):
        ctx.save_for_backward(x, w)
        ctx.scale = scale
        return scale * x * w

    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        return ctx.scale * grad_z * w, ctx.scale * grad_z * x, None


x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
g_x, g_w = torch.autograd.grad(ScaledMul.apply(x, w, 0.5).sum(), (x, w))
print(f"dz/dx = 0.5 w: {g_x}\ndz/dw = 0.5 x: {g_w}")
torch.testing.assert_close(g_x, 0.5 * w.detach())
torch.testing.assert_close(g_w, 0.5 * x.detach())


# %%
# Leave out the ``None`` and backward raises, naming the Function and both
# counts:
class ScaledMulTwoGradients(ScaledMul):
    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        return ctx.scale * grad_z * w, ctx.scale * grad_z * x


try:
    ScaledMulTwoGradients.apply(x, w, 0.5).sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("two gradients for three forward inputs must raise")


# %%
# A tensor where the number was gets its own error, and so does a gradient
# whose shape cannot be summed down to its input's shape (here a scalar for a
# vector):
class ScaledMulGradientForScale(ScaledMul):
    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        return ctx.scale * grad_z * w, ctx.scale * grad_z * x, grad_z.sum()


class ScaledMulWrongShape(ScaledMul):
    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        return (ctx.scale * grad_z * w).sum(), ctx.scale * grad_z * x, None


for wrong, expected in (
    (ScaledMulGradientForScale, "was not a Variable"),
    (ScaledMulWrongShape, "invalid gradient at index 0"),
):
    try:
        wrong.apply(x, w, 0.5).sum().backward()
    except RuntimeError as err:
        print(f"RuntimeError: {err}")
        assert expected in str(err)
    else:
        raise AssertionError(f"{wrong.__name__}'s backward must raise")


# %%
# A gradient with extra leading dimensions (a shape that the input's shape
# broadcasts to) raises nothing: autograd sums it down to the input's shape.
# Here the gradient for :math:`x` repeated on two rows (shape ``(2, 3)`` for an
# input of shape ``(3,)``) becomes twice the right one, :math:`w` instead of
# :math:`0.5\,w`, silently. ``gradcheck`` (above) catches it, since it compares
# the backward with finite differences.
class ScaledMulExtraDimension(ScaledMul):
    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        grad_x = (ctx.scale * grad_z * w).expand(2, 3)
        return grad_x, ctx.scale * grad_z * x, None


g_x_summed, _ = torch.autograd.grad(
    ScaledMulExtraDimension.apply(x, w, 0.5).sum(), (x, w)
)
print(f"dz/dx from a (2, 3) gradient: {g_x_summed} (right: 0.5 w)")
torch.testing.assert_close(g_x_summed, 2 * 0.5 * w.detach())

x64, w64 = x.detach().double().requires_grad_(), w.detach().double()
caught = not gradcheck(
    lambda a: ScaledMulExtraDimension.apply(a, w64, 0.5), (x64,),
    raise_exception=False,
)
print(f"gradcheck finds the wrong gradient: {caught}")
assert caught


# %%
# ``None`` for a tensor that requires grad is allowed, and means a zero
# gradient: with ``.backward()`` nothing raises, and that input's ``.grad``
# stays ``None``. Return ``None`` only where the derivative really is zero
# (or nobody asked for it, as ``needs_input_grad`` says).
class ScaledMulNoneForX(ScaledMul):
    @staticmethod
    def backward(ctx, grad_z):
        x, w = ctx.saved_tensors
        return None, ctx.scale * grad_z * x, None


x.grad = w.grad = None
ScaledMulNoneForX.apply(x, w, 0.5).sum().backward()
print(f"x.grad = {x.grad}, w.grad = {w.grad}")
assert x.grad is None
torch.testing.assert_close(w.grad, 0.5 * x.detach())

# %%
# ``torch.autograd.grad`` instead reports that input as unused, and raises:
try:
    torch.autograd.grad(ScaledMulNoneForX.apply(x, w, 0.5).sum(), (x, w))
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("autograd.grad must raise for a None gradient")

# %%
# Pass ``allow_unused=True`` to get ``None`` for it, or
# ``materialize_grads=True`` to get zeros:
g_x_none, g_w = torch.autograd.grad(
    ScaledMulNoneForX.apply(x, w, 0.5).sum(), (x, w), allow_unused=True
)
print(f"allow_unused=True:      dz/dx = {g_x_none}, dz/dw = {g_w}")
assert g_x_none is None
torch.testing.assert_close(g_w, 0.5 * x.detach())
g_x_zeros, g_w = torch.autograd.grad(
    ScaledMulNoneForX.apply(x, w, 0.5).sum(), (x, w), materialize_grads=True
)
print(f"materialize_grads=True: dz/dx = {g_x_zeros}, dz/dw = {g_w}")
torch.testing.assert_close(g_x_zeros, torch.zeros(3))
torch.testing.assert_close(g_w, 0.5 * x.detach())


# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: double backward of a custom Function that is
# silently wrong because ``backward`` uses a tensor autograd cannot trace to
# the input (issues #58509 and #76185, with an intermediate saved on ``ctx``;
# exercise 3 loses a term the same way, with a factor computed in NumPy);
# integer outputs that should never require grad (issue #37680); an
# ``autograd.Function`` under ``vmap``, which the ``setup_context`` style made
# possible (pytorch/functorch issue #296, which failed with an older error),
# and the "must override the setup_context staticmethod" error that old-style
# Functions still raise (reported in state-spaces/mamba issue #239).
#
# Conclusion
# ----------
# ``needs_input_grad`` lets backward skip work; integer outputs never require
# grad, and ``mark_non_differentiable`` says so explicitly, and keeps a
# floating-point output out of the graph. A backward made of torch
# operations is differentiable again (check with ``gradgradcheck``);
# otherwise mark it ``once_differentiable``. For any ``torch.func``
# transform (``grad``, ``jvp``, ``vmap``) write the Function in the
# ``setup_context`` style; add ``jvp`` for forward mode, and
# ``generate_vmap_rule = True`` (or a ``vmap`` staticmethod) for ``vmap``.
#
# Exercises
# ---------
# 1. Write ``MulFwd``, the product :math:`x w` for forward mode only: the
#    ``setup_context`` style with a ``jvp`` and no ``backward``. Check
#    :math:`\dot z = \dot x\, w + x\, \dot w` with :func:`torch.func.jvp`.
# 2. Compute the per-example second derivative :math:`6x` of ``Cube`` with
#    ``vmap`` and nested ``grad``.
# 3. Write ``CubeNumpy``, ``CubeOnce`` without ``once_differentiable`` and
#    with its factor :math:`3x^2` computed in NumPy
#    (``x.detach().numpy()``). What second derivative of :math:`(x^3)^2` do
#    you get? The true one is :math:`30x^4`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~


class MulFwd(torch.autograd.Function):
    @staticmethod
    def forward(x, w):
        return x * w

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_forward(*inputs)

    @staticmethod
    def jvp(ctx, x_dot, w_dot):
        x, w = ctx.saved_tensors
        return x_dot * w + x * w_dot


x = torch.tensor([1.0, 2.0, 3.0])
w = torch.tensor([4.0, 5.0, 6.0])
x_dot, w_dot = torch.tensor([1.0, 0.0, 1.0]), torch.tensor([0.5, 1.0, 0.0])
_, z_dot = jvp(MulFwd.apply, (x, w), (x_dot, w_dot))
print(f"jvp of x * w: {z_dot}")
torch.testing.assert_close(z_dot, x_dot * w + x * w_dot)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
x = torch.tensor([-1.0, 0.5, 2.0])
second = vmap(grad(grad(Cube.apply)))(x)
print(f"vmap(grad(grad(cube))): {second}")
torch.testing.assert_close(second, 6 * x)

# %%
# Solution to exercise 3
# ~~~~~~~~~~~~~~~~~~~~~~


class CubeNumpy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * torch.from_numpy(3 * x.detach().numpy() ** 2)


x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
(d1,) = torch.autograd.grad(
    (CubeNumpy.apply(x) ** 2).sum(), x, create_graph=True
)
torch.testing.assert_close(d1.detach(), 6 * x.detach() ** 5)
(d2,) = torch.autograd.grad(d1.sum(), x)
x0 = x.detach()
print(f"second derivative: {d2}; true 30x^4: {30 * x0**4}")
torch.testing.assert_close(d2, 18 * x0**4)  # silently wrong
missing = 30 * x0**4 - d2
print(f"missing: {missing}")
torch.testing.assert_close(missing, (2 * x0**3) * (6 * x0))

# %%
# The first derivative is right. Its backward returns
# :math:`\bar y \cdot 3x^2` with :math:`\bar y = 2x^3`, the gradient from the
# square. Autograd differentiates :math:`\bar y`, which has a graph, and keeps
# :math:`3x^2` as a constant factor: :math:`6x^2 \cdot 3x^2 = 18x^4`. What it
# misses is the derivative of that factor, computed in NumPy without a graph:
# :math:`\bar y \cdot 6x = 12x^4`, the difference printed above, and no
# error says so. ``once_differentiable`` turns this into the clear error shown
# above.
