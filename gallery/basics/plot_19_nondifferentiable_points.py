r"""
.. _example-nondifferentiable-points:

Non-differentiable points and NaN gradients
===========================================

At a kink, such as the corner of the absolute value at 0, there is no
derivative. At a kink of a built-in operation autograd returns a value
PyTorch chose for that operation; a kink you write as a formula can give
``nan`` instead, as the hand-written norm below shows.
This page shows which values ``relu``, ``abs``, ``clamp`` and ``max`` pick,
where ``sqrt`` and a norm give ``inf`` or ``nan``, why ``torch.where`` does
not protect a gradient from ``nan``, and the "double where" that does.

.. reading-path::
   :learn: which value autograd returns at a kink (``relu``, ``abs``,
      ``clamp``, ``max``), where ``nan`` and ``inf`` gradients come from, and
      the double ``torch.where`` that keeps them out
   :after: example-scalar-derivative, example-computational-graph

.. figure-alt:: 1

   The derivative of a guarded sqrt(x) on either side of 0: with a single
   torch.where it is nan for x ≤ 0, with the double-where fix it is 0 there and
   1/(2√x) for x > 0.
"""

# %%
# One-sided derivatives bracket the choice
# ----------------------------------------
# At a kink the left and right derivatives differ. For :math:`|x|` at 0 they
# are :math:`-1` and :math:`+1`; any value in between is a *subgradient*. We
# measure both sides with float64 one-sided differences.
import torch


def one_sided(f, x0, h=1e-6):
    """Left and right difference quotients of ``f`` at ``x0``, in float64."""
    x0 = torch.tensor(x0, dtype=torch.float64)
    left = (f(x0) - f(x0 - h)) / h
    right = (f(x0 + h) - f(x0)) / h
    return left.item(), right.item()


print(f"|x| at 0: left {one_sided(torch.abs, 0.0)[0]:+.3f}, "
      f"right {one_sided(torch.abs, 0.0)[1]:+.3f}")

# %%
# What autograd returns at the kink
# ---------------------------------
# Each operation has a convention, and a release can change it. ``relu`` and
# ``abs`` return 0. ``clamp(min=0)``, the same function as ``relu``, returned
# 1 at its bound up to torch 2.13 and returns 0 since torch 2.14.0 (PyTorch
# issue #184572). The page expects the value of the torch it runs on, and
# fails if a later release changes it again. Each answer lies between the
# one-sided derivatives, so it is a subgradient.
TORCH_VERSION = tuple(int(part) for part in torch.__version__.split(".")[:2])
CLAMP_AT_BOUND = 1.0 if TORCH_VERSION < (2, 14) else 0.0
print(f"torch {TORCH_VERSION[0]}.{TORCH_VERSION[1]}: clamp's gradient at its "
      f"bound is expected to be {CLAMP_AT_BOUND} "
      f"(1.0 up to 2.13, 0.0 since 2.14)")

KINKS = {
    "relu": torch.relu,
    "abs": torch.abs,
    "clamp(min=0)": lambda t: t.clamp(min=0),
}
EXPECTED = {"relu": 0.0, "abs": 0.0, "clamp(min=0)": CLAMP_AT_BOUND}
for name, f in KINKS.items():
    x = torch.tensor(0.0, requires_grad=True)
    (g,) = torch.autograd.grad(f(x), x)
    left, right = one_sided(f, 0.0)
    print(f"d/dx {name:>12} at 0: {g.item():.1f}  "
          f"(one-sided: {left:.1f}, {right:.1f})")
    torch.testing.assert_close(g, torch.tensor(EXPECTED[name]))
    assert min(left, right) - 1e-6 <= g.item() <= max(left, right) + 1e-6

# %%
# So ``relu(x)`` and ``x.clamp(min=0)`` are equal as functions; as programs
# their gradients at 0 differ up to torch 2.13 and agree since 2.14.
x = torch.zeros(4, requires_grad=True)
(g_relu,) = torch.autograd.grad(torch.relu(x).sum(), x)
(g_clamp,) = torch.autograd.grad(x.clamp(min=0).sum(), x)
print(f"relu grad at zeros:  {g_relu}")
print(f"clamp grad at zeros: {g_clamp}")
print(f"equal on this torch: {torch.equal(g_relu, g_clamp)}")
torch.testing.assert_close(g_relu, torch.zeros(4))
torch.testing.assert_close(g_clamp, torch.full((4,), CLAMP_AT_BOUND))

# %%
# Where the difference shows: hidden units whose pre-activations are exactly 0
# for every input (their incoming weights ``W1`` are 0) while their outgoing
# weights ``W2`` are not. Through ``relu``, ``W1`` gets gradient 0; through
# ``clamp`` it gets a gradient up to torch 2.13 and 0 since 2.14. With an
# all-zero initialisation (``W2 = 0`` too) neither weight gets a gradient with
# either activation: the zero ``W2`` sends nothing back to ``W1``, and the
# zero hidden outputs give ``W2`` nothing.
inputs = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]])
targets = torch.tensor([[1.0], [2.0]])


def weight_grads(activation, w2_init):
    """dL/dW1 and dL/dW2 of a 3-4-1 network, no biases, W1 = 0, MSE loss."""
    w1 = torch.zeros(3, 4, requires_grad=True)
    w2 = w2_init.clone().requires_grad_()
    hidden = activation(inputs @ w1)  # every pre-activation is exactly 0
    loss = (hidden @ w2 - targets).pow(2).mean()
    return torch.autograd.grad(loss, (w1, w2))


W2_INITS = {"W2 = 1": torch.ones(4, 1), "W2 = 0": torch.zeros(4, 1)}
for w2_name, w2_init in W2_INITS.items():
    for name in ("relu", "clamp(min=0)"):
        g_w1, g_w2 = weight_grads(KINKS[name], w2_init)
        print(f"{w2_name}, {name:>12}: max |dL/dW1| = {g_w1.abs().max():.1f}, "
              f"max |dL/dW2| = {g_w2.abs().max():.1f}")
        # hidden = 0, so the output is 0, dL/d(output) = -targets, and the
        # gradient reaches W1 scaled by the activation's slope at 0
        expected_w1 = inputs.T @ (-targets @ w2_init.T) * EXPECTED[name]
        torch.testing.assert_close(g_w1, expected_w1)
        torch.testing.assert_close(g_w2, torch.zeros(4, 1))

# %%
# Ties in a maximum
# -----------------
# :math:`\max(a, b)` at :math:`a = b` is another kink. ``torch.maximum`` splits
# the gradient evenly, :math:`\tfrac12` each; so does the full reduction
# ``max()`` over tied entries. ``max(dim=...)`` instead returns one index and
# sends the whole gradient there.
a = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
ga, gb = torch.autograd.grad(torch.maximum(a, b), (a, b))
print(f"torch.maximum(a, b) at a = b: d/da = {ga}, d/db = {gb}")
torch.testing.assert_close((ga, gb), (torch.tensor(0.5), torch.tensor(0.5)))
v = torch.tensor([1.0, 3.0, 3.0], requires_grad=True)
(g_all,) = torch.autograd.grad(v.max(), v)
(g_dim,) = torch.autograd.grad(v.max(dim=0).values, v)
print(f"v.max():             {g_all}")
print(f"v.max(dim=0).values: {g_dim}")
torch.testing.assert_close(g_all, torch.tensor([0.0, 0.5, 0.5]))
assert g_dim.sum() == 1.0 and g_dim[0] == 0.0 and (g_dim == 1.0).sum() == 1

# %%
# A tensor bound makes ``clamp`` a tie
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# Given as a tensor, the bound is an input of ``clamp`` and gets a gradient
# too. At :math:`x` equal to the bound, torch 2.13 gives :math:`x` 1 and the
# bound 0; since torch 2.14 each gets :math:`\tfrac12`, as with
# ``torch.maximum``. The number bound above gives 1 up to 2.13 and 0 since.
CLAMP_TENSOR_BOUND = (1.0, 0.0) if TORCH_VERSION < (2, 14) else (0.5, 0.5)
x = torch.tensor(0.0, requires_grad=True)
bound = torch.tensor(0.0, requires_grad=True)
g_x, g_bound = torch.autograd.grad(x.clamp(min=bound), (x, bound))
print(f"clamp(x, min=bound) at x = bound: d/dx = {g_x}, d/dbound = {g_bound}")
print(f"expected on torch {TORCH_VERSION[0]}.{TORCH_VERSION[1]}: "
      f"{CLAMP_TENSOR_BOUND} ((1.0, 0.0) up to 2.13, (0.5, 0.5) since 2.14)")
torch.testing.assert_close(
    (g_x, g_bound), tuple(torch.tensor(v) for v in CLAMP_TENSOR_BOUND))

# %%
# Infinite slopes: sqrt and the norm at 0
# ---------------------------------------
# :math:`\frac{d}{dx}\sqrt{x} = \frac{1}{2\sqrt{x}}` is infinite at 0, and
# autograd says so. The norm :math:`\|x\| = \sqrt{\sum_i x_i^2}` written by
# hand has a kink at the zero vector and gives ``nan`` there:
# :math:`\frac{1}{2\sqrt{0}} = \infty` times the inner derivative
# :math:`2x_i = 0`.
x = torch.tensor(0.0, requires_grad=True)
(g_sqrt,) = torch.autograd.grad(torch.sqrt(x), x)
print(f"d/dx sqrt(x) at 0: {g_sqrt}")
assert g_sqrt.item() == float("inf")
z = torch.zeros(3, requires_grad=True)
(g_hand,) = torch.autograd.grad(z.pow(2).sum().sqrt(), z)
print(f"grad of sqrt(sum(z^2)) at z = 0: {g_hand}")
assert torch.isnan(g_hand).all()

# %%
# ``torch.linalg.vector_norm`` has its own backward, which returns the
# subgradient 0 at the zero vector, and :math:`x / \|x\|` elsewhere.
(g_norm,) = torch.autograd.grad(torch.linalg.vector_norm(z), z)
print(f"grad of vector_norm(z) at z = 0: {g_norm}")
torch.testing.assert_close(g_norm, torch.zeros(3))
w = torch.tensor([3.0, 0.0, 4.0], requires_grad=True)
(g_w,) = torch.autograd.grad(torch.linalg.vector_norm(w), w)
print(f"grad of vector_norm at (3, 0, 4): {g_w}")
torch.testing.assert_close(g_w, w.detach() / 5.0)

# %%
# The ``torch.where`` trap
# ------------------------
# A guard such as ``torch.where(x > 0, torch.sqrt(x), 0)`` gives the right
# *value* everywhere but a ``nan`` *gradient* wherever :math:`x \le 0`.
# Backward runs through both branches: the unused one receives a zero
# gradient, and ``sqrt``'s backward divides it by :math:`2\sqrt{x}`, which
# gives :math:`0 / 0` at 0 and :math:`0 / \mathrm{nan}` below 0, both
# ``nan``. The first line below shows the :math:`0 / 0` alone.
x0 = torch.tensor(0.0, requires_grad=True)
(g_zero,) = torch.autograd.grad(torch.sqrt(x0), x0, torch.tensor(0.0))
print(f"sqrt's backward at 0 given a zero gradient: {g_zero}")
assert torch.isnan(g_zero)
x = torch.tensor([-1.0, 0.0, 4.0], requires_grad=True)
y = torch.where(x > 0, torch.sqrt(x), torch.zeros_like(x))
(g_where,) = torch.autograd.grad(y.sum(), x)
print(f"x = {x.detach().tolist()}")
print(f"where(x > 0, sqrt(x), 0):      {y.detach()}")
print(f"its gradient:                  {g_where}")
assert torch.isnan(g_where[:2]).all()
torch.testing.assert_close(g_where[2], 0.5 / torch.sqrt(x.detach()[2]))

# %%
# Anomaly detection names the culprit
# -----------------------------------
# :class:`torch.autograd.detect_anomaly` checks every backward node's output
# and raises at the first ``nan``, naming the node (its warning also shows
# the forward line that created it).
import warnings

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with torch.autograd.detect_anomaly():
            y = torch.where(x > 0, torch.sqrt(x), torch.zeros_like(x))
            torch.autograd.grad(y.sum(), x)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "SqrtBackward0" in str(err)
else:
    raise AssertionError("detect_anomaly was expected to flag SqrtBackward0")

# %%
# The double-where fix
# --------------------
# Make the unused branch harmless *before* the dangerous operation: feed
# ``sqrt`` a safe input (1) where the result will be thrown away, then select.
# No ``inf`` or ``nan`` is ever formed, so the zero gradient stays zero.
def safe_sqrt(x):
    positive = x > 0
    x_safe = torch.where(positive, x, torch.ones_like(x))
    return torch.where(positive, torch.sqrt(x_safe), torch.zeros_like(x))


(g_safe,) = torch.autograd.grad(safe_sqrt(x).sum(), x)
print(f"double where, gradient: {g_safe}")
x64 = x.detach().double()
expected = torch.where(x64 > 0, 0.5 / torch.sqrt(x64.clamp(min=1e-30)), 0.0)
torch.testing.assert_close(g_safe, expected.float())

# %%
# Over a range, the single ``where`` gives ``nan`` at every grid point with
# :math:`x \le 0` (counted below; ``nan`` is not drawn), while the double
# ``where`` gives :math:`\frac{1}{2\sqrt{x}}` right of 0 and the 0 that the
# formula's flat branch deserves on the left.
import matplotlib.pyplot as plt

xs = torch.linspace(-1.0, 2.0, 301, requires_grad=True)
ys = torch.where(xs > 0, torch.sqrt(xs), torch.zeros_like(xs))
(g_single,) = torch.autograd.grad(ys.sum(), xs)
(g_double,) = torch.autograd.grad(safe_sqrt(xs).sum(), xs)
nan_count = int(torch.isnan(g_single).sum())
print(f"grid points with x <= 0: {int((xs <= 0).sum())} of {xs.numel()}")
print(f"grid points with a nan gradient: single where {nan_count}, "
      f"double where {int(torch.isnan(g_double).sum())}")
assert nan_count == int((xs <= 0).sum()) and not torch.isnan(g_double).any()
right = xs.detach() > 0
torch.testing.assert_close(g_double[right], 0.5 / xs.detach()[right].sqrt())
torch.testing.assert_close(g_single[right], g_double[right])

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs.detach(), g_double, lw=3, alpha=0.5, label="double where")
ax.plot(xs.detach(), g_single, "--", label="single where (nan for x <= 0)")
ax.set_ylim(-0.2, 3.0)
ax.set_xlabel("$x$")
ax.set_ylabel(r"$\frac{d}{dx}$ guarded $\sqrt{x}$")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# A stable formula is not a stable derivative
# -------------------------------------------
# The overflow-free softplus :math:`\max(x, 0) + \log(1 + e^{-|x|})` has the
# right value everywhere, but autograd differentiates the *program*: at
# :math:`x = 0` it adds ``clamp``'s gradient at its bound (1 up to torch 2.13,
# 0 since 2.14) and 0 from the ``log`` term (``abs``'s derivative 0 times
# :math:`-\tfrac12`), so it returns 1 or 0, not :math:`\sigma(0) = \tfrac12`.
# Compare :func:`torch.nn.functional.softplus`.
import torch.nn.functional as F

x = torch.tensor(0.0, requires_grad=True)
stable = x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))
(g_formula,) = torch.autograd.grad(stable, x)
(g_builtin,) = torch.autograd.grad(F.softplus(x), x)
print(f"stable formula, autograd's d/dx at 0: {g_formula}")
print(f"F.softplus, d/dx at 0:                {g_builtin}")
(g_log_term,) = torch.autograd.grad(torch.log1p(torch.exp(-x.abs())), x)
torch.testing.assert_close(g_log_term, torch.tensor(0.0))
torch.testing.assert_close(g_formula, torch.tensor(CLAMP_AT_BOUND))
torch.testing.assert_close(g_builtin, torch.sigmoid(torch.tensor(0.0)))

# %%
# When the derivative is known in closed form, state it: a
# :class:`torch.autograd.Function` with the stable forward and the backward
# :math:`\sigma(x)` is right at 0 as well (the full treatment, with gradcheck,
# is :ref:`example-custom-function`).
class Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


(g_custom,) = torch.autograd.grad(Softplus.apply(x), x)
print(f"custom Function, d/dx at 0: {g_custom}")
torch.testing.assert_close(g_custom, torch.tensor(0.5))

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: ``torch.where`` giving ``nan`` gradients for
# the branch it did not select (issues #52248, #68425 and #187297); the
# gradient of a zero norm (issue #2421); ``clamp_min`` and ``relu``
# disagreeing at 0 (issue #184572). The answers: backward visits both
# branches, so guard the input (double where); ``vector_norm`` returns the
# subgradient 0 at the zero vector, a hand-written norm returns ``nan``;
# ``clamp`` at a number bound returns 1 up to torch 2.13 and 0 since 2.14; at
# a tensor bound it returns 1 for the input and 0 for the bound up to 2.13,
# and :math:`\tfrac12` each since 2.14, like ``maximum``.
#
# Conclusion
# ----------
# At a kink of a built-in operation autograd returns the operation's
# convention (``relu`` and ``abs`` 0; ``clamp`` at a number bound 1 up to
# torch 2.13 and 0 since 2.14, at a tensor bound 1 and 0 up to 2.13 and
# :math:`\tfrac12` each since 2.14; ties split evenly by ``maximum``), a
# subgradient you can check against one-sided differences; a convention can
# change between releases, so check it on yours. Infinite slopes give
# ``inf``; an infinite slope times a zero inner derivative (the hand-written
# norm) and ``sqrt``'s :math:`0 / 0` behind an unused ``torch.where`` branch
# give ``nan``, which ``torch.where`` does not stop.
# Guard the input of the dangerous operation, and find the culprit with
# ``detect_anomaly``.
#
# Exercises
# ---------
# 1. The distance :math:`\|a - b\|` must be differentiable at :math:`a = b` in
#    a loss. Write ``safe_distance(a, b)`` with the double where so that the
#    gradient is the subgradient 0 at :math:`a = b`, and
#    :math:`(a - b) / \|a - b\|` elsewhere.
# 2. What gradient does ``torch.abs`` give at 0 in forward mode
#    (:func:`torch.func.jvp`)? Is it the same subgradient as reverse mode?
# 3. ``x * torch.log(x)`` is 0 at :math:`x = 0` by continuity but gives ``nan``
#    there. :func:`torch.xlogy` returns the right value; what gradient does it
#    give at 0, and how do you get the derivative :math:`\log x + 1` for
#    :math:`x > 0` without ``nan`` at 0?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~


def safe_distance(a, b):
    squared = (a - b).pow(2).sum(-1)
    positive = squared > 0
    s_safe = torch.where(positive, squared, torch.ones_like(squared))
    return torch.where(positive, s_safe.sqrt(), torch.zeros_like(squared))


a = torch.tensor([[1.0, 2.0], [3.0, 0.0]], requires_grad=True)
b = torch.tensor([[1.0, 2.0], [0.0, 4.0]])
(g_a,) = torch.autograd.grad(safe_distance(a, b).sum(), a)
print(f"gradient of the distances w.r.t. a:\n{g_a}")
diff = (a.detach() - b).double()
norms = diff.norm(dim=-1, keepdim=True)
expected = torch.where(norms > 0, diff / norms.clamp(min=1e-30), 0.0)
torch.testing.assert_close(g_a, expected.float())

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
from torch.func import jvp

_, tangent = jvp(torch.abs, (torch.tensor(0.0),), (torch.tensor(1.0),))
print(f"jvp of abs at 0 with tangent 1: {tangent}")
torch.testing.assert_close(tangent, torch.tensor(0.0))

# %%
# Solution to exercise 3
# ~~~~~~~~~~~~~~~~~~~~~~
x = torch.tensor([0.0, 0.5, 2.0], requires_grad=True)
(g_xlogy,) = torch.autograd.grad(torch.xlogy(x, x).sum(), x)
print(f"xlogy(x, x) gradient at {x.detach().tolist()}: {g_xlogy}")
assert torch.isnan(g_xlogy[0])

# %%
# The ``nan`` does not come from :math:`\log 0`. ``xlogy(a, b)`` has two
# inputs; with two separate tensors autograd shows their gradients apart. For
# the first, :math:`\log b`, xlogy returns 0 where :math:`a = 0`; the second,
# :math:`a / b`, is :math:`0 / 0 =` ``nan`` at 0. ``xlogy(x, x)`` adds the two.
a = x.detach().clone().requires_grad_()
b = x.detach().clone().requires_grad_()
g_first, g_second = torch.autograd.grad(torch.xlogy(a, b).sum(), (a, b))
print(f"d/da xlogy(a, b): {g_first}\nd/db xlogy(a, b): {g_second}")
torch.testing.assert_close(g_first[0], torch.tensor(0.0))
assert torch.isnan(g_second[0])
x64 = x.detach().double()[1:]
torch.testing.assert_close(g_first[1:], torch.log(x64).float())
torch.testing.assert_close(g_second[1:], torch.ones(2))
torch.testing.assert_close(g_xlogy[1:], g_first[1:] + g_second[1:])

# %%
# So guard the input, as for ``sqrt``: the double where gives
# :math:`\log x + 1` for :math:`x > 0` and 0 at 0.
positive = x > 0
x_safe = torch.where(positive, x, torch.ones_like(x))
y = torch.where(positive, x_safe * torch.log(x_safe), torch.zeros_like(x))
(g_fixed,) = torch.autograd.grad(y.sum(), x)
print(f"double-where x log x gradient: {g_fixed}")
x64 = x.detach().double()[1:]
torch.testing.assert_close(g_fixed[1:], (torch.log(x64) + 1).float())
torch.testing.assert_close(g_fixed[0], torch.tensor(0.0))

# %%
# (At 0 the true one-sided derivative is :math:`-\infty`; the double where
# returns 0 there, a choice you make consciously rather than a ``nan``.)
