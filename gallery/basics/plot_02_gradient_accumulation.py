r"""
.. _example-gradient-accumulation:

Gradients accumulate across backward calls
==========================================

``backward()`` does not overwrite ``x.grad``: it adds to it. We differentiate
two functions in turn at the same point and watch ``x.grad`` go from 32 to
176, then reset it the two ways PyTorch offers.

The functions are :math:`y = 4x^2` and then :math:`t = 3x^3`, at
:math:`x = 4`.

.. reading-path::
   :learn: that ``backward()`` adds to ``x.grad`` instead of overwriting it,
      and the two ways to reset it
   :after: example-scalar-derivative

.. figure-alt:: 1

   x.grad after each of four backward() calls as a step line: it climbs by each
   call's derivative (grey bars, one negative) and matches the running sum of
   the closed forms.
"""

# %%
# A first backward call fills ``x.grad``
# --------------------------------------
# As in the :ref:`first example <example-scalar-derivative>`, ``x.grad`` starts
# as ``None`` and ``y.backward()`` stores :math:`\frac{dy}{dx} = 8x = 32` in
# it.
import torch

x = torch.tensor(4.0, requires_grad=True)
print(f"x.grad before any backward: {x.grad}")
y = 4.0 * x**2
y.backward()
print(f"x.grad after y.backward(), dy/dx = 8x: {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach())

# %%
# A second backward call adds to it
# ---------------------------------
# Now differentiate a different function of the same ``x``, :math:`t = 3x^3`,
# with :math:`\frac{dt}{dx} = 9x^2 = 144`. ``x.grad`` does not become 144: the
# new gradient is added to the one already stored,
#
# .. math::
#
#    \texttt{x.grad} = \frac{dy}{dx} + \frac{dt}{dx}
#    = 8x + 9x^2 = 32 + 144 = 176.
t = 3.0 * x**3
t.backward()
print(f"x.grad after t.backward(), 8x + 9x^2: {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach() + 9 * x.detach() ** 2)

# %%
# A plain ``backward()`` adds in place: a name bound to ``x.grad`` earlier
# sees the new value. Copy it with ``.clone()`` if you want to keep a
# snapshot.
grad_before = x.grad
snapshot = x.grad.clone()
(4.0 * x**2).backward()
print(f"x.grad after a third call, on 4x^2 again, 176 + 8x: {x.grad}")
print(f"grad_before is x.grad: {grad_before is x.grad}, snapshot: {snapshot}")
torch.testing.assert_close(
    x.grad, 8 * x.detach() + 9 * x.detach() ** 2 + 8 * x.detach()
)
assert grad_before is x.grad

# %%
# Not under ``create_graph=True``. Then the sum must itself be part of a
# graph, so PyTorch stores a *new* tensor, ``old + new``, in ``x.grad``; the
# old object keeps its value. PyTorch also warns that ``.grad`` now holds a
# reference back to ``x`` (a reference cycle that can leak memory) and
# recommends :func:`torch.autograd.grad` instead; we capture the warning and
# print it.
import textwrap
import warnings

grad_before = x.grad
# PyTorch gives this warning once per process unless told otherwise
warn_always = torch.is_warn_always_enabled()
torch.set_warn_always(True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    (4.0 * x**2).backward(create_graph=True)
torch.set_warn_always(warn_always)
print(f"x.grad after backward(create_graph=True): {x.grad}")
print(
    f"grad_before is x.grad: {grad_before is x.grad}, "
    f"grad_before: {grad_before}"
)
cycle = [str(w.message) for w in caught if "reference cycle" in str(w.message)]
assert cycle, "backward(create_graph=True) was expected to warn"
message = cycle[0].split(" (Triggered internally")[0]
print("UserWarning:", textwrap.fill(message, width=79), sep="\n")
assert grad_before is not x.grad and x.grad.grad_fn is not None
torch.testing.assert_close(grad_before, 208 * torch.ones(()))
torch.testing.assert_close(x.grad.detach(), grad_before + 8 * x.detach())

# %%
# Resetting with ``x.grad = None``
# --------------------------------
# Setting ``.grad`` to ``None`` throws the stored gradient away; the next
# ``backward()`` stores a fresh tensor instead of adding. This is what
# :meth:`torch.optim.Optimizer.zero_grad` does by default
# (``set_to_none=True``).
x.grad = None
(4.0 * x**2).backward()
print(f"x.grad after x.grad = None and a backward() of 4x^2, 8x: {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach())

# %%
# The optimizer does exactly the same to every parameter it holds:
optimizer = torch.optim.SGD([x], lr=0.1)
optimizer.zero_grad()
print(f"x.grad after optimizer.zero_grad(): {x.grad}")
assert x.grad is None

# %%
# Resetting with ``x.grad.zero_()``
# ---------------------------------
# The other way keeps the tensor and fills it with zeros in place; the next
# ``backward()`` adds into those zeros.
# ``optimizer.zero_grad(set_to_none=False)`` does this. The next gradient is
# the same number either way.
(3.0 * x**3).backward()
print(f"x.grad after a backward() of 3x^3, 9x^2: {x.grad}")
torch.testing.assert_close(x.grad, 9 * x.detach() ** 2)
kept = x.grad
x.grad.zero_()
print(f"x.grad after x.grad.zero_(): {x.grad}")
torch.testing.assert_close(x.grad, torch.tensor(0.0))
(4.0 * x**2).backward()
print(f"x.grad after a backward() of 4x^2, 8x: {x.grad}")
print(f"same object as before zero_(): {kept is x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach())
assert kept is x.grad

# %%
# Both resets give the same next gradient; ``None`` is the default.
optimizer.zero_grad(set_to_none=False)
print(f"x.grad after optimizer.zero_grad(set_to_none=False): {x.grad}")
torch.testing.assert_close(x.grad, torch.tensor(0.0))

# %%
# ``None`` and zero are not the same to an optimizer
# --------------------------------------------------
# An optimizer *skips* a parameter whose ``.grad`` is ``None``, but steps one
# whose ``.grad`` is zero. With a plain gradient step both stay put; with
# weight decay :math:`\lambda` the zero gradient becomes
# :math:`g = 0 + \lambda p`, and Adam moves the parameter. Its first step is
# :math:`p \leftarrow p - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with
# :math:`\hat m = g` and :math:`\hat v = g^2`, so about :math:`\eta` when
# :math:`g \neq 0`.
p_zero = torch.tensor(1.0, requires_grad=True)
p_none = torch.tensor(1.0, requires_grad=True)
adam = torch.optim.Adam([p_zero, p_none], lr=0.1, weight_decay=0.1)
p_zero.grad = torch.zeros(())  # what zero_grad(set_to_none=False) leaves
p_none.grad = None  # what zero_grad() leaves
adam.step()
print(f"Adam with weight decay, .grad zero: p = {p_zero.item():.6f}")
print(f"Adam with weight decay, .grad None: p = {p_none.item():.6f}")
g = 0.1 * 1.0  # the decayed zero gradient
torch.testing.assert_close(
    p_zero.detach(), torch.tensor(1.0 - 0.1 * g / (abs(g) + 1e-8))
)
torch.testing.assert_close(p_none.detach(), torch.tensor(1.0))

# %%
# Watching the sum build up
# -------------------------
# Four functions of the same :math:`x = 4`, one ``backward()`` each, without
# any reset. Their derivatives are :math:`8x = 32`, :math:`9x^2 = 144`,
# :math:`-10` and :math:`2x^3 = 128`; after call :math:`k`, ``x.grad`` holds
# the sum of the first :math:`k` of them.
x = torch.tensor(4.0, requires_grad=True)
x0 = x.detach()
steps = [
    ("4x^2", lambda v: 4.0 * v**2, 8 * x0),
    ("3x^3", lambda v: 3.0 * v**3, 9 * x0**2),
    ("-10x", lambda v: -10.0 * v, torch.tensor(-10.0)),
    ("x^4/2", lambda v: v**4 / 2, 2 * x0**3),
]
history = []
for name, f, closed in steps:
    f(x).backward()
    history.append(x.grad.clone())  # clone: the next call adds in place
    print(f"backward() of {name}, derivative {closed}: x.grad = {x.grad}")
history = torch.stack(history)
contributions = torch.stack([closed for _, _, closed in steps])
running_sum = torch.cumsum(contributions, dim=0)
torch.testing.assert_close(history, running_sum)

# %%
# The bars are each call's own derivative (closed form); the line is ``x.grad``
# read after each call; the crosses are the running sum of the closed forms.
import matplotlib.pyplot as plt

calls = range(1, len(steps) + 1)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(
    calls, contributions.numpy(), color="0.8", label="this call's derivative"
)
ax.step(
    calls,
    history.numpy(),
    where="mid",
    marker="o",
    label="x.grad after the call (autograd)",
)
ax.plot(
    calls,
    running_sum.numpy(),
    "x",
    color="C3",
    ms=10,
    label="running sum of closed forms",
)
ax.axhline(0.0, color="0.3", linewidth=0.8)
ax.set_xticks(
    calls, [f"{k}: ${name}$" for k, (name, _, _) in enumerate(steps, start=1)]
)
ax.set_xlabel("backward() call on")
ax.set_ylabel("gradient at $x = 4$")
ax.legend(loc="upper left")
ax.grid(axis="y", alpha=0.3)
fig.tight_layout()

# %%
# Why training loops call ``optimizer.zero_grad()``
# -------------------------------------------------
# Each training step computes a new loss and calls ``loss.backward()``. Without
# a reset, the parameters' ``.grad`` would hold the sum over all steps so far,
# and the optimizer would step with it. Hence the usual order:
# ``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``.
#
# Gradient accumulation over micro-batches
# ----------------------------------------
# Skipping the reset on purpose sums the gradients of several micro-batches,
# to train with a batch too large for memory. The loss of each micro-batch
# must then be divided by the number of micro-batches :math:`K`: the batch
# loss is a mean over all :math:`N` samples, and each micro-batch mean covers
# only :math:`N / K` of them,
#
# .. math::
#
#    \frac{1}{N} \sum_{i=1}^{N} \ell_i
#    = \sum_{k=1}^{K} \frac{1}{K}
#      \Bigl(\frac{K}{N} \sum_{i \in \text{batch } k} \ell_i\Bigr).
#
# We check it on a least-squares loss :math:`\ell_i = (w x_i - y_i)^2`,
# :math:`N = 8` samples in :math:`K = 4` micro-batches of 2.
samples_x = torch.arange(1.0, 9.0)
samples_y = 3.0 * samples_x + 1.0
w = torch.tensor(2.0, requires_grad=True)
((w * samples_x - samples_y) ** 2).mean().backward()
full_batch = w.grad.clone()
w.grad = None
K = 4
for xb, yb in zip(samples_x.chunk(K), samples_y.chunk(K), strict=True):
    (((w * xb - yb) ** 2).mean() / K).backward()  # divided by K
print(f"full batch dL/dw:             {full_batch}")
print(f"{K} micro-batches, loss / {K}: {w.grad}")
closed = (2 * (2.0 * samples_x - samples_y) * samples_x).mean()
torch.testing.assert_close(full_batch, closed)
torch.testing.assert_close(w.grad, full_batch)

# %%
# Without the division the accumulated gradient is :math:`K` times too large,
# as if the learning rate had been multiplied by :math:`K`.
w.grad = None
for xb, yb in zip(samples_x.chunk(K), samples_y.chunk(K), strict=True):
    ((w * xb - yb) ** 2).mean().backward()  # not divided
print(f"{K} micro-batches, loss not divided: {w.grad}")
torch.testing.assert_close(w.grad, K * full_batch)

# %%
# A function that returns the derivative never accumulates:
# :func:`torch.autograd.grad` called twice gives :math:`8x` twice, and
# ``xs.grad`` stays ``None``.
xs = torch.linspace(-2.0, 2.0, 9, requires_grad=True)
ys = 4.0 * xs**2
(first,) = torch.autograd.grad(ys.sum(), xs, retain_graph=True)
(second,) = torch.autograd.grad(ys.sum(), xs)
print(f"torch.autograd.grad, first call:  {first}")
print(f"torch.autograd.grad, second call: {second}")
print(f"xs.grad: {xs.grad}")
torch.testing.assert_close(first, 8 * xs.detach())
torch.testing.assert_close(second, 8 * xs.detach())
assert xs.grad is None

# %%
# Conclusion
# ----------
# ``backward()`` adds into ``.grad``; it never overwrites. Reset between steps,
# with ``x.grad = None`` (what ``optimizer.zero_grad()`` does) or
# ``x.grad.zero_()``; the two differ to an optimizer with weight decay, such
# as Adam, which skips a ``None`` gradient but steps a zero one. Accumulating
# on purpose over :math:`K` micro-batches needs the loss divided by :math:`K`.
# Functions that return derivatives, such as :func:`torch.autograd.grad`
# (and the :ref:`gradkit library <gradkit-reference>`), leave ``.grad``
# alone.

# %%
# Exercises
# ---------
# 1. Starting from ``x.grad = None``, call ``backward()`` on :math:`x^2` three
#    times at :math:`x = 5` (with ``retain_graph=True``) and predict
#    ``x.grad`` before you print it.
# 2. Accumulate the gradient of the least-squares loss above over
#    :math:`K = 2` micro-batches of 4 and check it equals the full-batch
#    gradient.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(5.0, requires_grad=True)
y = x**2
for _ in range(3):
    y.backward(retain_graph=True)
print(f"x.grad after three backward() calls of x^2 at x = 5: {x.grad}")
torch.testing.assert_close(x.grad, 3 * (2 * x.detach()))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
w.grad = None
for xb, yb in zip(samples_x.chunk(2), samples_y.chunk(2), strict=True):
    (((w * xb - yb) ** 2).mean() / 2).backward()
print(f"2 micro-batches of 4, loss / 2: {w.grad}")
torch.testing.assert_close(w.grad, full_batch)
