r"""
.. _example-gradient-accumulation:

Gradients accumulate across backward calls
==========================================

``backward()`` does not overwrite ``x.grad``: it adds to it. We differentiate
:math:`y = 4x^2` and then :math:`t = 3x^3` at :math:`x = 4` and watch
``x.grad`` go from 32 to 176, then reset it the two ways PyTorch offers.
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
#    \texttt{x.grad} = \frac{dy}{dx} + \frac{dt}{dx} = 8x + 9x^2 = 32 + 144 = 176.
t = 3.0 * x**3
t.backward()
print(f"x.grad after t.backward(), 8x + 9x^2: {x.grad}")
torch.testing.assert_close(x.grad, 8 * x.detach() + 9 * x.detach() ** 2)

# %%
# The addition happens in place: a name bound to ``x.grad`` earlier sees the
# new value. Copy it with ``.clone()`` if you want to keep a snapshot.
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
print(
    f"x.grad after a backward() of 4x^2, 8x: {x.grad} (same object: {kept is x.grad})"
)
torch.testing.assert_close(x.grad, 8 * x.detach())
assert kept is x.grad

# %%
# Both resets give the same gradients in a training loop. PyTorch made ``None``
# the default because it lowers the memory footprint and can modestly speed
# things up.
optimizer.zero_grad(set_to_none=False)
print(f"x.grad after optimizer.zero_grad(set_to_none=False): {x.grad}")
torch.testing.assert_close(x.grad, torch.tensor(0.0))

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
    print(
        f"backward() of {name}, whose derivative is {closed}: x.grad = {x.grad}"
    )
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
# Skipping the reset on purpose for a few steps sums gradients of several
# mini-batches: this is "gradient accumulation" for large effective batch
# sizes.

# %%
# The gradkit shortcut
# --------------------
# :func:`gradkit.derivative` returns the derivative instead of storing it, so
# it never accumulates: calling it twice gives :math:`8x` twice, and
# ``xs.grad`` stays ``None``.
import gradkit

xs = torch.linspace(-2.0, 2.0, 9, requires_grad=True)
ys = 4.0 * xs**2
first = gradkit.derivative(ys, xs)
second = gradkit.derivative(ys, xs)
print(f"gradkit.derivative, first call:  {first.detach()}")
print(f"gradkit.derivative, second call: {second.detach()}")
print(f"xs.grad: {xs.grad}")
torch.testing.assert_close(first, 8 * xs.detach())
torch.testing.assert_close(second, 8 * xs.detach())
assert xs.grad is None

# %%
# Conclusion
# ----------
# ``backward()`` adds into ``.grad``; it never overwrites. Reset between steps,
# with ``x.grad = None`` (what ``optimizer.zero_grad()`` does) or
# ``x.grad.zero_()``. Functions that return derivatives, such as
# :func:`torch.autograd.grad` and gradkit's, leave ``.grad`` alone.
