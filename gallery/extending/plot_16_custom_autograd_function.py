r"""
.. _example-custom-function:

A custom autograd Function: a softplus that does not overflow
=============================================================

Autograd differentiates the formula you wrote, overflow and kinks included:
the textbook softplus gives a ``nan`` gradient for large inputs in float32,
and its stable rewrite, which fixes that, gives a wrong derivative at 0 (1 or
0, depending on the torch version, instead of 1/2). We write a
:class:`torch.autograd.Function` with the stable forward and a hand-written
backward, verify it with :func:`torch.autograd.gradcheck`,
and watch gradcheck catch a wrong backward.

The textbook formula is :math:`\operatorname{softplus}(x) = \log(1 + e^x)`;
it overflows at :math:`x = 100`, and the true derivative at :math:`x = 0` is
:math:`\sigma(0) = 1/2`.

.. reading-path::
   :learn: how to write a ``torch.autograd.Function`` with its own forward and
      backward, check it with ``gradcheck``, and see ``gradcheck`` catch a
      wrong backward
   :after: example-computational-graph, example-nondifferentiable-points

.. figure-alt:: 1

   The derivative of softplus(x) from the custom Function stays at 1 for large
   x, while the naive log(1 + eˣ) gives nan past the overflow near x = 89.
"""

# %%
# The naive formula overflows
# ---------------------------
# On paper :math:`\frac{d}{dx}\log(1 + e^x) = \frac{e^x}{1 + e^x}`, a number
# between 0 and 1. In float32, :math:`e^{x}` overflows to ``inf`` once
# :math:`x` exceeds :math:`\log(\text{largest float32})`, and so does the
# value.
import math

import torch

x = torch.tensor([-20.0, 0.0, 20.0, 100.0], requires_grad=True)
y_naive = torch.log(1 + torch.exp(x))
y_naive.sum().backward()
threshold = math.log(torch.finfo(torch.float32).max)
print(f"overflow threshold log(float32 max) = {threshold:.2f}")
print(f"naive softplus at x = {x.detach().tolist()}: {y_naive.detach()}")
print(f"naive d/dx: {x.grad}")

# %%
# Up to :math:`x = 20` the naive gradient is right: we check it against the
# closed form :math:`\sigma(x) = 1 / (1 + e^{-x})`, evaluated in float64
# without autograd. At :math:`x = 100` the value is ``inf`` and the gradient
# ``nan``: the backward of ``log`` sends :math:`1 / (1 + e^x) = 0`, and the
# backward of ``exp`` multiplies it by :math:`e^x = \infty`, and :math:`0 \cdot
# \infty` is ``nan``.
sigma = (1 / (1 + torch.exp(-x.detach().double()))).float()
torch.testing.assert_close(x.grad[:3], sigma[:3])
assert torch.isinf(y_naive[3]) and torch.isnan(x.grad[3])


# %%
# A stable formula, and its kink
# ------------------------------
# Rewrite the value so that no exponential of a large positive number
# appears:
#
# .. math::
#
#    \operatorname{softplus}(x) = \max(x, 0) + \log\left(1 + e^{-|x|}\right),
#    \qquad
#    \frac{d}{dx}\operatorname{softplus}(x) = \sigma(x) = \frac{1}{1 + e^{-x}}.
#
# Plain autograd on this formula no longer overflows: every gradient is
# finite, and right away from 0. At :math:`x = 0`, though, both pieces have a
# kink, and autograd takes PyTorch's conventions there: ``abs`` has
# derivative 0 at 0, which zeroes the ``log`` term's gradient, and
# ``clamp(min=0)`` passes the gradient 1 at its bound up to torch 2.13 and 0
# since torch 2.14.0 (:ref:`example-nondifferentiable-points` shows the
# conventions). The sum is that ``clamp`` value, 1 or 0, not
# :math:`\sigma(0) = 1/2`; the check below expects the value of the torch it
# runs on.
TORCH_VERSION = tuple(int(part) for part in torch.__version__.split(".")[:2])
CLAMP_AT_BOUND = 1.0 if TORCH_VERSION < (2, 14) else 0.0
x = torch.tensor([-20.0, 0.0, 20.0, 100.0], requires_grad=True)
(x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))).sum().backward()
print(f"plain autograd on the stable formula: {x.grad}")
print(f"sigma(x):                             {sigma}")
print(f"expected at 0 on torch {TORCH_VERSION[0]}.{TORCH_VERSION[1]}: "
      f"{CLAMP_AT_BOUND} (1.0 up to 2.13, 0.0 since 2.14)")
assert torch.isfinite(x.grad).all()
keep = torch.tensor([True, False, True, True])
torch.testing.assert_close(x.grad[keep], sigma[keep])
torch.testing.assert_close(x.grad[1], torch.tensor(CLAMP_AT_BOUND))
torch.testing.assert_close(sigma[1], torch.tensor(0.5))
x0 = torch.tensor(0.0, requires_grad=True)
(g_log_term,) = torch.autograd.grad(torch.log1p(torch.exp(-x0.abs())), x0)
torch.testing.assert_close(g_log_term, torch.tensor(0.0))


# %%
# A Function with the derivative stated
# -------------------------------------
# So we state the derivative ourselves. In a
# :class:`torch.autograd.Function`, ``forward`` computes the value,
# ``setup_context`` saves what ``backward`` needs (here the input), and
# ``backward`` turns the gradient of the output into the gradient of the input,
# by the chain rule.
class StableSoftplus(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


softplus = StableSoftplus.apply

# %%
# A Function is called through ``.apply``. The result's ``grad_fn`` is a node
# made from our class, so ``backward()`` runs our ``backward``.
x = torch.tensor([-20.0, 0.0, 20.0, 100.0], requires_grad=True)
y = softplus(x)
y.sum().backward()
print(f"y.grad_fn = {type(y.grad_fn).__name__}")
print(f"stable softplus at x = {x.detach().tolist()}: {y.detach()}")
print(f"stable d/dx: {x.grad}")

# %%
# Every entry is finite now. We check the gradient against the closed form
# :math:`\sigma(x)` from above, and value and gradient against PyTorch's own
# :func:`torch.nn.functional.softplus`.
import torch.nn.functional as F

torch.testing.assert_close(x.grad, sigma)
x_ref = x.detach().clone().requires_grad_()
y_ref = F.softplus(x_ref)
y_ref.sum().backward()
torch.testing.assert_close(y.detach(), y_ref.detach())
torch.testing.assert_close(x.grad, x_ref.grad)

# %%
# Verifying the backward with gradcheck
# -------------------------------------
# :func:`torch.autograd.gradcheck` compares the Jacobian built from our
# ``backward`` with central finite differences, entry by entry. It needs
# float64: in float32 the differences are too noisy to judge.
from torch.autograd import gradcheck, gradgradcheck

x64 = torch.tensor(
    [-30.0, -2.0, 0.0, 1.5, 30.0, 100.0],
    dtype=torch.float64,
    requires_grad=True,
)
ok = gradcheck(softplus, (x64,), raise_exception=False)
print(f"gradcheck(StableSoftplus): {ok}")
assert ok

# %%
# Double backward comes for free
# ------------------------------
# Our ``backward`` is built from differentiable operations on the saved input,
# so autograd can differentiate it again: the second derivative is
# :math:`\sigma'(x) = \sigma(x)\,(1 - \sigma(x))`.
y64 = softplus(x64)
(d1,) = torch.autograd.grad(y64, x64, torch.ones_like(y64), create_graph=True)
(d2,) = torch.autograd.grad(d1, x64, torch.ones_like(d1))
print(f"d2/dx2 softplus at x = {x64.detach().tolist()}:\n{d2}")
s64 = 1 / (1 + torch.exp(-x64.detach()))
torch.testing.assert_close(d2, s64 * (1 - s64))

# %%
# :func:`torch.autograd.gradgradcheck` checks that second derivative against
# finite differences of the first.
ok2 = gradgradcheck(softplus, (x64,), raise_exception=False)
print(f"gradgradcheck(StableSoftplus): {ok2}")
assert ok2


# %%
# A wrong backward that a simple test misses
# ------------------------------------------
# A classic slip: returning the local derivative :math:`\sigma(x)` and
# forgetting to multiply by ``grad_output``. A test through
# ``y.sum().backward()`` cannot see it, because there ``grad_output`` is all
# ones.
class ForgetfulSoftplus(StableSoftplus):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.sigmoid(x)


x = torch.tensor([-20.0, 0.0, 20.0, 100.0], requires_grad=True)
ForgetfulSoftplus.apply(x).sum().backward()
print(f"forgetful d/dx through sum(): {x.grad}")
torch.testing.assert_close(x.grad, sigma)

# %%
# gradcheck builds the whole Jacobian, one output at a time, so it feeds
# ``grad_output`` vectors that are not all ones. It raises
# :class:`~torch.autograd.gradcheck.GradcheckError` and shows both Jacobians:
# the analytical one has every row filled where only the diagonal should be.
from torch.autograd.gradcheck import GradcheckError

x3 = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
try:
    gradcheck(ForgetfulSoftplus.apply, (x3,))
except GradcheckError as err:
    print(f"GradcheckError: {err}")
else:
    raise AssertionError(
        "gradcheck was expected to reject a backward that ignores grad_output"
    )

# %%
# Naive against stable, over a range
# ----------------------------------
# Over :math:`x \in [-20, 100]` the naive gradient agrees with
# :math:`\sigma(x)` until :math:`e^x` overflows and then is ``nan`` (a gap in
# the curve); the custom Function stays on :math:`\sigma(x)` everywhere.
import matplotlib.pyplot as plt

xs = torch.linspace(-20.0, 100.0, 241, requires_grad=True)
(g_naive,) = torch.autograd.grad(torch.log(1 + torch.exp(xs)).sum(), xs)
(g_stable,) = torch.autograd.grad(softplus(xs).sum(), xs)
sigma_xs = (1 / (1 + torch.exp(-xs.detach().double()))).float()
torch.testing.assert_close(g_stable, sigma_xs)
first_nan = xs[torch.isnan(g_naive)].min().item()
print(f"first grid point where the naive gradient is nan: x = {first_nan}")
assert first_nan > math.log(torch.finfo(torch.float32).max) > first_nan - 0.5
# Where it is finite, the naive gradient is right: it is sigma too.
finite = ~torch.isnan(g_naive)
torch.testing.assert_close(g_naive[finite], sigma_xs[finite])

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(
    xs.detach(), g_stable, lw=3, alpha=0.5, label="custom Function: stable"
)
ax.plot(
    xs.detach(),
    g_naive,
    "--",
    label=r"naive $\log(1 + e^x)$: nan past overflow",
)
ax.axvline(math.log(torch.finfo(torch.float32).max), color="gray", lw=0.8)
ax.set_xlabel("$x$")
ax.set_ylabel(r"$\frac{d}{dx}\,\mathrm{softplus}(x)$")
ax.set_ylim(-0.05, 1.1)
ax.legend(loc="center right")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Conclusion
# ----------
# Write a custom Function when autograd's derivative of your formula is wrong:
# in floating point (overflow), or at a point where the function is smooth
# but the formula has a kink (``clamp`` and ``abs`` at 0). Put the value in
# ``forward``, save inputs in ``setup_context``, multiply by ``grad_output`` in
# ``backward``, and always run ``gradcheck`` (and ``gradgradcheck`` if you need
# second derivatives) in float64: tests through ``sum()`` alone miss the most
# common mistake.

# %%
# Exercises
# ---------
# 1. Write a Function for :math:`x^3` whose backward returns
#    ``grad_output * 3 * x**2``, and check it with ``gradcheck``.
# 2. Catch the forgetful backward without gradcheck: differentiate with
#    ``grad_outputs`` equal to 2 and compare ``StableSoftplus`` with
#    ``ForgetfulSoftplus``.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~


# %%
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x**2


xc = torch.tensor([-1.5, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
ok_cube = gradcheck(Cube.apply, (xc,), raise_exception=False)
print(f"gradcheck(Cube): {ok_cube}")
assert ok_cube
(dc,) = torch.autograd.grad(Cube.apply(xc).sum(), xc)
torch.testing.assert_close(dc, 3 * xc.detach() ** 2)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# With weights of 2 the right backward returns :math:`2\sigma(x)`, the
# forgetful one still :math:`\sigma(x)`.

# %%
x2 = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
twos = torch.full((3,), 2.0)
(good,) = torch.autograd.grad(softplus(x2), x2, grad_outputs=twos)
(bad,) = torch.autograd.grad(ForgetfulSoftplus.apply(x2), x2, twos)
print(f"StableSoftplus:    {good}\nForgetfulSoftplus: {bad}")
torch.testing.assert_close(good, 2 * torch.sigmoid(x2.detach()))
assert not torch.allclose(bad, good)
