r"""
.. _example-leaf-tensors:

Leaf tensors, non-leaf tensors and ``.grad``
============================================

``backward()`` stores gradients only in *leaf* tensors that require grad. With
:math:`z = 2x^2` and :math:`y = z^2 = 4x^4` at :math:`x = 3`, we see which
tensors get a ``.grad``, what PyTorch says when you read the ``.grad`` of a
non-leaf, and what ``retain_grad()`` and ``requires_grad_()`` change.
"""

# %%
# Leaves and non-leaves
# ---------------------
# A *leaf* is a tensor autograd did not compute: you created it. ``x`` is a
# leaf that requires grad; the constant factor ``c = 2`` is a leaf that does
# not. ``z`` and ``y`` were computed by tracked operations, so they have a
# ``grad_fn`` and are not leaves.
import torch

x = torch.tensor(3.0, requires_grad=True)
c = torch.tensor(2.0)  # a constant: a leaf that does not require grad
z = c * x**2  # a non-leaf: z = 2 x^2 = 18
y = z**2  # y = 4 x^4 = 324
for name, t in [("x", x), ("c", c), ("z", z), ("y", y)]:
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn else None
    print(
        f"{name}: is_leaf={t.is_leaf}, requires_grad={t.requires_grad}, grad_fn={grad_fn}"
    )
assert x.is_leaf and c.is_leaf and not z.is_leaf and not y.is_leaf

# %%
# The graph behind :math:`y`, drawn from these tensors. Leaves are square boxes
# with a bold edge, non-leaves are round and labelled with their ``grad_fn``.
# ``backward()`` sends gradients against the arrows, from ``y`` back to ``x``.
import matplotlib.pyplot as plt


def describe(t):
    """Return a short label: the tensor's role in the graph."""
    if t.is_leaf:
        return "leaf, requires_grad" if t.requires_grad else "leaf, constant"
    return f"non-leaf, {t.grad_fn.name()}"


nodes = {
    "x": ((0.0, 1.0), f"$x$ = {x.item()}\n{describe(x)}\ngets .grad", "C1"),
    "c": (
        (0.0, -1.0),
        f"$c$ = {c.item()}\n{describe(c)}\n.grad stays None",
        "0.85",
    ),
    "z": (
        (2.2, 0.0),
        f"$z = cx^2$ = {z.item()}\n{describe(z)}\n.grad only if retained",
        "C0",
    ),
    "y": ((4.4, 0.0), f"$y = z^2$ = {y.item()}\n{describe(y)}", "C0"),
}
fig, ax = plt.subplots(figsize=(7, 3.2))
boxes = {}
for name, ((px, py), label, color) in nodes.items():
    leaf = name in ("x", "c")
    box = {
        "boxstyle": "square" if leaf else "round",
        "fc": color,
        "alpha": 0.5,
        "lw": 1 + leaf,
    }
    boxes[name] = ax.text(
        px, py, label, ha="center", va="center", fontsize=9, bbox=box
    )
for src, dst in [("x", "z"), ("c", "z"), ("z", "y")]:
    ax.annotate(
        "",
        xy=(0, 0.5),
        xycoords=boxes[dst],
        xytext=(1, 0.5),
        textcoords=boxes[src],
        arrowprops={"arrowstyle": "-|>", "color": "0.3"},
    )
ax.set_xlim(-1.0, 5.4)
ax.set_ylim(-1.7, 1.7)
ax.set_axis_off()
ax.set_title(
    "The graph of $y = (cx^2)^2$: leaves square and bold, non-leaves round"
)
fig.tight_layout()

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
#    \frac{dy}{dx} = \frac{dy}{dz}\frac{dz}{dx} = 2z \cdot 4x = 16x^3 = 16 \cdot 3^3 = 432.
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
# The source notebook says, on its line ``print(z7.grad)``, "No gradients
# available since this is not a lead node"; in fact it calls
# ``z7.retain_grad()`` right after creating ``z7`` (the line is marked
# "Un-comment this", but it is not commented out), so that line prints
# ``tensor(36.)``, as its own output shows. The two gradients are linked by the
# chain rule, :math:`\frac{dy}{dx} = \frac{dy}{dz} \cdot \frac{dz}{dx} = 36
# \cdot 2cx = 36 \cdot 12 = 432`:
dz_dx = 2 * c * x.detach()  # closed form
chain = z.grad * dz_dx
print(f"z.grad * dz/dx = {z.grad} * {dz_dx} = {chain}")
torch.testing.assert_close(chain, x.grad)

# %%
# ``retain_grad()`` on leaves
# ---------------------------
# On a leaf that requires grad, ``retain_grad()`` does nothing: leaves keep
# their gradient anyway (``retains_grad`` is only ever True for non-leaves).
x.retain_grad()
print(
    f"after x.retain_grad(): x.retains_grad = {x.retains_grad}, x.grad = {x.grad}"
)
assert not x.retains_grad
torch.testing.assert_close(x.grad, 16 * x.detach() ** 3)

# %%
# On a leaf that does not require grad there is no gradient to keep, and
# PyTorch raises:
try:
    c.retain_grad()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "c.retain_grad() was expected to raise: c does not require grad"
    )

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
    f"z.detach(): {z_const}, is_leaf={z_const.is_leaf}, requires_grad={z_const.requires_grad}"
)
assert z_const.is_leaf and not z_const.requires_grad
z.requires_grad_()
print(
    f"after z.requires_grad_(): is_leaf={z.is_leaf}, requires_grad={z.requires_grad}"
)
assert not z.is_leaf and z.requires_grad

# %%
# ``requires_grad_()`` on leaves
# ------------------------------
# On a leaf the flag can be switched either way. Turning it on for ``c`` makes
# it a tracked leaf: rebuilt, the graph now gives ``c`` a gradient too,
# :math:`\frac{dy}{dc} = \frac{d}{dc}\left(c^2 x^4\right) = 2cx^4 = 324`.
c.requires_grad_()
x.grad = None
y = (c * x**2) ** 2
y.backward()
print(f"c.is_leaf = {c.is_leaf}, c.grad = dy/dc = 2 c x^4: {c.grad}")
torch.testing.assert_close(c.grad, 2 * c.detach() * x.detach() ** 4)
print(f"x.grad = dy/dx = 16x^3: {x.grad}")
torch.testing.assert_close(x.grad, 16 * x.detach() ** 3)

# %%
# Turning it off for ``x`` freezes ``x``: it becomes a constant, and the next
# ``backward()`` leaves ``x.grad`` alone (here ``None``, after a reset) while
# ``c`` still gets :math:`2cx^4 = 324`.
x.requires_grad_(False)
x.grad = None
c.grad = None
y = (c * x**2) ** 2
y.backward()
print(
    f"x.requires_grad = {x.requires_grad}, x.grad = {x.grad}, c.grad = {c.grad}"
)
assert x.grad is None
torch.testing.assert_close(c.grad, 2 * c.detach() * x**4)

# %%
# Summary
# -------
# Every entry below was produced by the code above.
#
# .. list-table::
#    :header-rows: 1
#    :stub-columns: 1
#
#    * - tensor
#      - ``.grad`` after ``backward()``
#      - ``retain_grad()``
#      - ``requires_grad_()``
#    * - leaf that requires grad (``x``)
#      - the gradient, :math:`16x^3 = 432`, accumulated over calls
#      - allowed; does nothing, ``.grad`` is filled anyway
#      - ``requires_grad_(False)`` allowed: ``x`` becomes a constant, ``.grad`` is
#        left alone
#    * - leaf that does not require grad (``c``)
#      - ``None``, silently
#      - ``RuntimeError``: can't retain_grad on Tensor that has requires_grad=False
#      - ``requires_grad_()`` allowed: ``c`` becomes a tracked leaf,
#        ``c.grad`` = :math:`2cx^4 = 324`
#    * - non-leaf (``z``)
#      - ``None``, with a ``UserWarning``
#      - ``.grad`` is filled: :math:`2z = 36`
#      - ``requires_grad_(False)``: ``RuntimeError``, use ``z.detach()``;
#        ``requires_grad_()`` allowed, changes nothing

# %%
# The gradkit shortcut
# --------------------
# :func:`torch.autograd.grad`, and so :func:`gradkit.derivative`,
# differentiates with respect to any tensor in the graph, leaf or not: ask for
# :math:`\frac{dy}{dz}` directly, no ``retain_grad()`` needed, nothing stored.
import gradkit

xs = torch.linspace(0.5, 3.0, 6, requires_grad=True)
zs = 2.0 * xs**2  # non-leaf
ys = zs**2
dy_dz = gradkit.derivative(ys, zs)
print(f"gradkit.derivative(ys, zs), 2z:    {dy_dz.detach()}")
torch.testing.assert_close(dy_dz, 2 * zs.detach())
dy_dx = gradkit.derivative(ys, xs)
print(f"gradkit.derivative(ys, xs), 16x^3: {dy_dx.detach()}")
torch.testing.assert_close(dy_dx, 16 * xs.detach() ** 3)

# %%
# Conclusion
# ----------
# ``backward()`` stores gradients only in leaves that require grad. A
# non-leaf's ``.grad`` is ``None`` with a warning unless you call
# ``retain_grad()`` first; a constant leaf's is ``None`` silently.
# ``requires_grad`` can be changed only on leaves; for a non-leaf use
# ``detach()``. :func:`torch.autograd.grad` reaches any tensor in the graph
# without storing anything.
