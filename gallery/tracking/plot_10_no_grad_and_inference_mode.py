r"""
.. _example-no-grad:

Switching gradient tracking off: no_grad and inference_mode
===========================================================

Recording a graph costs memory and time, and sometimes it is wrong: a
hand-written parameter update must not become part of the next derivative. We
meet :class:`torch.no_grad`, its relatives :class:`torch.enable_grad`,
:class:`torch.set_grad_enabled` and :class:`torch.inference_mode`, and use them
in gradient descent on a quadratic.

The quadratic is :math:`f(w) = (w - 3)^2`.

.. reading-path::
   :learn: how ``torch.no_grad()`` and ``torch.inference_mode()`` switch
      recording off, how ``torch.enable_grad()`` and
      ``torch.set_grad_enabled()`` switch it back, and why a hand-written
      parameter update needs them
   :after: example-gradient-accumulation, example-detach-numpy

.. search::
   :keywords: inference_mode, no_grad

.. figure-alt:: 1

   Gradient descent on f(w) = (w - 3)²: the iterates w_k rise to 3 along 3(1 -
   2⁻ᵏ) and f(w_k) falls to 0.
"""

# %%
# Inside no_grad nothing is recorded
# ----------------------------------
# A result computed inside ``with torch.no_grad():`` has no ``grad_fn``, even
# from an input that requires grad. Tensors computed before the block keep
# their graph.
import torch

x = torch.tensor(4.0, requires_grad=True)
y = 4 * x**2
print(f"before the block: y.requires_grad = {y.requires_grad}")
with torch.no_grad():
    z = 4 * x**2
    print(f"inside no_grad:   z.requires_grad = {z.requires_grad}")
    print(f"inside no_grad:   y.requires_grad = {y.requires_grad}")
print(f"after the block:  y.requires_grad = {y.requires_grad}, ", end="")
print(f"z.requires_grad = {z.requires_grad}, z.grad_fn = {z.grad_fn}")
assert y.requires_grad and not z.requires_grad and z.grad_fn is None

# %%
# ``torch.enable_grad()`` switches recording back on inside a ``no_grad``
# block, so a derivative can still be taken there: :math:`\frac{d}{dx} 4x^2 =
# 8x = 8 \cdot 4 = 32`.
with torch.no_grad():
    with torch.enable_grad():
        w2 = 4 * x**2
    (dw2dx,) = torch.autograd.grad(w2, x)
print(f"d/dx 4x^2 at x = 4, under enable_grad: {dw2dx}")
torch.testing.assert_close(dw2dx, 8 * x.detach())

# %%
# Not inside ``inference_mode``: there ``enable_grad()`` reports gradients
# as enabled, yet records nothing. The result does not require grad, and
# asking for its derivative raises.
with torch.inference_mode():
    with torch.enable_grad():
        w3 = 4 * x**2
        enabled = torch.is_grad_enabled()
print(
    f"inside inference_mode + enable_grad: is_grad_enabled() = {enabled}, "
    f"w3.requires_grad = {w3.requires_grad}"
)
assert enabled and not w3.requires_grad and w3.grad_fn is None
try:
    torch.autograd.grad(w3, x)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("grad of a result of inference_mode should raise")


# %%
# The same switch as a decorator, and as a function
# -------------------------------------------------
# ``@torch.no_grad()`` turns it off for a whole function, typically a
# prediction step. ``torch.set_grad_enabled(mode)`` takes a boolean, handy for
# code shared by training (``True``) and evaluation (``False``).
@torch.no_grad()
def predict(x):
    return 4 * x**2


print(f"predict(x).requires_grad = {predict(x).requires_grad}")
assert not predict(x).requires_grad
for mode in (False, True):
    torch.set_grad_enabled(mode)
    print(f"after set_grad_enabled({mode}): ", end="")
    print(f"is_grad_enabled() = {torch.is_grad_enabled()}, ", end="")
    print(f"(4 x^2).requires_grad = {(4 * x**2).requires_grad}")
    assert torch.is_grad_enabled() is mode
    assert (4 * x**2).requires_grad is mode

# %%
# inference_mode: stricter, and its tensors cannot be saved for backward
# ----------------------------------------------------------------------
# ``torch.inference_mode()`` also skips bookkeeping that autograd would need
# later (PyTorch documents it for code that will never need gradients). The
# price: tensors created inside are *inference tensors*, and autograd refuses
# to *save* them for a backward pass. An operation that needs its input
# saved, such as a product, raises.
with torch.inference_mode():
    c = 4 * x**2
print(f"c.is_inference() = {c.is_inference()}, ", end="")
print(f"c.requires_grad = {c.requires_grad}")
assert c.is_inference() and not c.requires_grad
try:
    x * c
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("x * (inference tensor) was expected to raise")

# %%
# An operation that saves nothing accepts an inference tensor: the backward
# of ``x + c`` needs neither input, so it is recorded as usual
# (``AddBackward0``) and :math:`\frac{d}{dx}(x + c) = 1`.
s = x + c
(dsdx,) = torch.autograd.grad(s, x)
print(f"(x + c).grad_fn = {s.grad_fn.name()}, d/dx (x + c) = {dsdx}")
assert s.grad_fn.name() == "AddBackward0"
torch.testing.assert_close(dsdx, torch.tensor(1.0))

# %%
# As the message says, a clone is a normal tensor. It enters the graph as a
# constant, so :math:`\frac{d}{dx}(x \cdot c) = c = 4 \cdot 4^2 = 64`.
(dxcdx,) = torch.autograd.grad(x * c.clone(), x)
print(f"d/dx (x c) at x = 4: {dxcdx}")
torch.testing.assert_close(dxcdx, 4 * x.detach() ** 2)

# %%
# Use case: a gradient-descent step by hand
# -----------------------------------------
# To minimise :math:`f(w) = (w - 3)^2` from :math:`w = 0` we repeat :math:`w
# \leftarrow w - \eta f'(w)` with :math:`f'(w) = 2(w - 3)` and :math:`\eta =
# 1/4`. The gradient is fine, but written as an in-place update on the leaf
# ``w`` without ``no_grad``, the step is refused: the update would enter the
# graph of ``w`` itself.
w = torch.tensor(0.0, requires_grad=True)
lr = 0.25
f = (w - 3.0) ** 2
f.backward()
print(f"f'(w) at w = 0: {w.grad}")
torch.testing.assert_close(w.grad, 2 * (w.detach() - 3.0))
try:
    w -= lr * w.grad
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "an in-place update of a leaf that requires grad was expected to raise"
    )

# %%
# Inside ``no_grad`` the update is a plain change of the numbers. Each step
# halves the distance to the minimum, :math:`w_{k+1} - 3 = \frac{1}{2}(w_k -
# 3)`, so :math:`w_k = 3\left(1 - 2^{-k}\right)`. We check the gradient at
# every step, and each new iterate against this closed form.
w = torch.tensor(0.0, requires_grad=True)
history = []
for k in range(8):
    f = (w - 3.0) ** 2
    f.backward()
    print(
        f"k = {k}: w = {w.item()}, f(w) = {f.item()}, f'(w) = {w.grad.item()}"
    )
    torch.testing.assert_close(
        w.grad, 2 * (w.detach() - 3.0), rtol=1e-6, atol=1e-7
    )
    history.append((w.item(), f.item()))
    with torch.no_grad():
        w -= lr * w.grad
    w.grad = None
    torch.testing.assert_close(
        w.detach(), torch.tensor(3 * (1 - 0.5 ** (k + 1)))
    )
print(f"after 8 steps: w = {w.item()}")

# %%
# The iterates approach 3 geometrically; :math:`f` falls by a factor 4 per
# step.
import matplotlib.pyplot as plt

steps = torch.arange(len(history))
ws, fs = torch.tensor(history).T
fig, (ax_w, ax_f) = plt.subplots(1, 2, figsize=(6.5, 3.5))
ax_w.plot(steps, ws, "o-", label="$w_k$ (iterates)")
ax_w.plot(steps, 3 * (1 - 0.5**steps), "k+", ms=10, label=r"$3(1 - 2^{-k})$")
ax_w.axhline(3.0, color="gray", lw=0.8)
ax_w.set_xlabel("step $k$")
ax_w.set_ylabel("$w$")
ax_w.legend(loc="lower right")
ax_f.plot(steps, fs, "o-", color="C1")
ax_f.set_xlabel("step $k$")
ax_f.set_ylabel("$f(w_k) = (w_k - 3)^2$")
for ax in (ax_w, ax_f):
    ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# .. _detach-vs-no-grad:
#
# ``detach()`` and ``no_grad()`` side by side
# -------------------------------------------
# :meth:`~torch.Tensor.detach` acts on *one tensor*: it returns the same
# numbers without history, and the rest of the expression is still recorded.
# ``torch.no_grad()`` acts on *a block of code*: nothing computed inside is
# recorded, whatever its inputs (unless ``torch.enable_grad()``, or
# ``torch.set_grad_enabled(True)``, switches recording back on, as above).
# Take :math:`y = w\,u` with both factors requiring grad.
w = torch.tensor(3.0, requires_grad=True)
u = torch.tensor(4.0, requires_grad=True)
y_detached = w * u.detach()
with torch.no_grad():
    y_no_grad = w * u
print(f"w * u.detach():      requires_grad = {y_detached.requires_grad}")
print(f"w * u under no_grad: requires_grad = {y_no_grad.requires_grad}")
assert y_detached.requires_grad and not y_no_grad.requires_grad

# %%
# With ``u.detach()`` the gradient still reaches :math:`w`:
# :math:`\partial y / \partial w = u = 4`. The detached factor is a constant,
# so :math:`u` gets none (``None`` with ``allow_unused=True``).
dy_dw, dy_du = torch.autograd.grad(y_detached, (w, u), allow_unused=True)
print(f"dy/dw = {dy_dw}, dy/du = {dy_du}")
torch.testing.assert_close(dy_dw, u.detach())
assert dy_du is None

# %%
# ``detach()`` cuts the history *after* the operation was recorded: ``exp``
# below still made its node, which saved its output for backward. Under
# ``no_grad()`` no node is made at all. The numbers are the same.
h = torch.exp(u)
h_cut = h.detach()
with torch.no_grad():
    h_plain = torch.exp(u)
print(f"h.grad_fn = {h.grad_fn.name()}, saved its output: "
      f"{torch.equal(h.grad_fn._saved_result, h)}")
print(f"h_cut.grad_fn = {h_cut.grad_fn}, h_plain.grad_fn = {h_plain.grad_fn}")
assert h.grad_fn.name() == "ExpBackward0" and h_cut.grad_fn is None
assert h_plain.grad_fn is None and torch.equal(h_cut, h_plain)

# %%
# So, as a rule of thumb:
#
# - ``detach()`` inside a computation that is differentiated, for *one value*
#   that must act as a constant: a target computed by the model itself, a
#   generator's output while the discriminator trains
#   (:ref:`gan-detach-generator`), a value for NumPy or a plot
#   (:ref:`example-detach-numpy`).
# - ``no_grad()`` around *code* that needs no gradient at all: parameter
#   updates (above), evaluation, metrics. It saves the memory of the nodes
#   that ``detach()`` would cut only afterwards.

# %%
# Conclusion
# ----------
# Use ``torch.no_grad()`` (or ``@torch.no_grad()``) for computations that must
# not be differentiated, such as parameter updates, and
# ``torch.enable_grad()`` to take a derivative inside it.
# ``torch.inference_mode()`` is for pure inference: ``enable_grad()`` records
# nothing inside it, and its tensors can enter a graph later only through
# operations that do not save them (``x + c``), or as a ``clone()``.

# %%
# Exercises
# ---------
# 1. Inside a ``torch.no_grad()`` block, compute
#    :math:`\frac{d}{dx} x^3 = 3x^2` at :math:`x = 2`.
# 2. ``c`` is the inference tensor from above. Which of ``x - c``, ``c / x``
#    and ``x * c.clone()`` can be differentiated with respect to ``x``?
#    Predict, then check the derivatives that exist.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor(2.0, requires_grad=True)
with torch.no_grad():
    with torch.enable_grad():
        cube = x**3
    (d_cube,) = torch.autograd.grad(cube, x)
print(f"d/dx x^3 at x = 2 inside no_grad: {d_cube}")
torch.testing.assert_close(d_cube, 3 * x.detach() ** 2)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# ``x - c`` saves nothing and works; ``c / x`` must save ``c`` for its
# derivative :math:`-c / x^2` and raises; the clone works.
(d_sub,) = torch.autograd.grad(x - c, x)
print(f"d/dx (x - c) = {d_sub}")
torch.testing.assert_close(d_sub, torch.tensor(1.0))
try:
    c / x
except RuntimeError as err:
    print(f"c / x: RuntimeError: {str(err).split('.')[0]}")
else:
    raise AssertionError("c / x was expected to refuse the inference tensor")
(d_mul,) = torch.autograd.grad(x * c.clone(), x)
print(f"d/dx (x c.clone()) = c = {d_mul}")
torch.testing.assert_close(d_mul, c)
