r"""
.. _example-gradient-clipping:

Gradient clipping
=================

Between ``backward()`` and ``optimizer.step()``, gradient clipping bounds
the gradients: :func:`~torch.nn.utils.clip_grad_norm_` rescales them all
together so their total norm is at most ``max_norm``;
:func:`~torch.nn.utils.clip_grad_value_` clamps every entry. On a linear
layer with exact integer gradients we check both against closed forms.

.. reading-path::
   :learn: how ``clip_grad_norm_`` and ``clip_grad_value_`` bound the gradients
      between ``backward()`` and ``optimizer.step()``
   :after: example-training-step, example-hooks

.. figure-alt:: 1

   Bar chart of the weight, bias and total gradient norms: raw, after
   clip_grad_norm_(1) and after clip_grad_value_(3).
"""

# %%
# A layer with known gradients
# ----------------------------
# As in the :ref:`hooks example <example-hooks>`: a linear layer
# :math:`\mathbf{O} = \mathbf{X} \mathbf{W}^{\mathrm{T}} + \mathbf{b}`, the
# loss :math:`L = \tfrac12 \sum O_{nk}^2`, and the gradients
#
# .. math::
#
#    \frac{\partial L}{\partial \mathbf{W}} = \mathbf{O}^{\mathrm{T}}
#    \mathbf{X}, \qquad
#    \frac{\partial L}{\partial \mathbf{b}} = \sum_n O_{n\cdot}.
#
# Small integer weights make every gradient an exact integer.
import torch

torch.manual_seed(0)
layer = torch.nn.Linear(3, 2)
W = torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
b = torch.tensor([0.0, 1.0])
with torch.no_grad():
    layer.weight.copy_(W)
    layer.bias.copy_(b)
X = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]], requires_grad=True)


def run_backward():
    """Clear the gradients, then backpropagate L = 1/2 sum(O^2) once."""
    layer.zero_grad()
    loss = 0.5 * (layer(X) ** 2).sum()
    loss.backward()


run_backward()
O_ref = X.detach() @ W.T + b
grad_W, grad_b = O_ref.T @ X.detach(), O_ref.sum(dim=0)
print(f"dL/dW =\n{layer.weight.grad}\ndL/db = {layer.bias.grad}")
torch.testing.assert_close(layer.weight.grad, grad_W)
torch.testing.assert_close(layer.bias.grad, grad_b)

# %%
# Clipping the gradient norm
# --------------------------
# :func:`torch.nn.utils.clip_grad_norm_` treats all gradients as one vector,
# with total norm :math:`\|g\| = \sqrt{\|\partial L/\partial \mathbf{W}\|^2 +
# \|\partial L/\partial \mathbf{b}\|^2}`. If :math:`\|g\|` exceeds ``max_norm``
# it multiplies every gradient by :math:`\mathtt{max\_norm} / (\|g\| +
# 10^{-6})`, so the new total norm is ``max_norm``. It returns the norm before
# clipping.
from torch.nn.utils import clip_grad_norm_, clip_grad_value_

total_norm = clip_grad_norm_(layer.parameters(), max_norm=1.0)
print(f"total norm before clipping: {total_norm:.4f}")
print(f"dL/db before clipping: {grad_b}")
print(f"dL/db after clipping (.grad): {layer.bias.grad}")
total_ref = torch.sqrt((grad_W**2).sum() + (grad_b**2).sum())
scale = 1.0 / (total_ref + 1e-6)
torch.testing.assert_close(total_norm, total_ref)
torch.testing.assert_close(
    layer.weight.grad, scale * grad_W, rtol=1e-5, atol=1e-7
)
torch.testing.assert_close(
    layer.bias.grad, scale * grad_b, rtol=1e-5, atol=1e-7
)

# %%
# The direction is kept and only the length changes: the clipped gradients have
# total norm 1 (up to the :math:`10^{-6}` guard).
norm_after = torch.sqrt(
    layer.weight.grad.square().sum() + layer.bias.grad.square().sum()
)
print(f"total norm after clipping: {norm_after:.6f}")
torch.testing.assert_close(norm_after, total_ref * scale, rtol=1e-5, atol=0.0)

# %%
# Clipping each value
# -------------------
# :func:`torch.nn.utils.clip_grad_value_` instead clamps every entry to
# :math:`[-c, c]`. That changes the direction: entries above :math:`c` are cut,
# the small ones kept.
run_backward()
clip_grad_value_(layer.parameters(), clip_value=3.0)
print(f"dL/dW clipped to [-3, 3]:\n{layer.weight.grad}")
print(f"dL/db clipped to [-3, 3]: {layer.bias.grad}")
torch.testing.assert_close(layer.weight.grad, grad_W.clamp(-3.0, 3.0))
torch.testing.assert_close(layer.bias.grad, grad_b.clamp(-3.0, 3.0))

# %%
# The norms of the three versions of the gradient side by side:
import matplotlib.pyplot as plt

groups = {
    "raw": (grad_W, grad_b),
    "clip_grad_norm_(1)": (scale * grad_W, scale * grad_b),
    "clip_grad_value_(3)": (layer.weight.grad, layer.bias.grad),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, (g_W, g_b) in enumerate(groups.values()):
    norms = [
        g_W.norm().item(),
        g_b.norm().item(),
        torch.cat([g_W.flatten(), g_b]).norm().item(),
    ]
    ax.bar(
        [k - 0.25, k, k + 0.25],
        norms,
        width=0.25,
        color=["C0", "C1", "C2"],
        label=["weight", "bias", "total"] if k == 0 else None,
    )
ax.set_xticks(range(3), list(groups))
ax.set_xlabel("gradients")
ax.set_ylabel("norm")
ax.legend()
ax.grid(alpha=0.3, axis="y")
fig.tight_layout()

# %%
# Conclusion
# ----------
# Clipping runs between ``backward()`` and ``optimizer.step()``:
# ``clip_grad_norm_`` rescales all gradients together and keeps their
# direction, ``clip_grad_value_`` clamps each entry and changes it.

# %%
# Exercises
# ---------
# 1. Call ``clip_grad_norm_`` with a ``max_norm`` above the total norm. What
#    does it return, and what happens to the gradients?
# 2. Clip only the weight's gradient to norm 1, leaving the bias alone, and
#    check both.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
#
# It returns the total norm and leaves the gradients as they were: the
# factor :math:`\mathtt{max\_norm} / (\|g\| + 10^{-6})` is clamped to 1.

# %%
run_backward()
returned = clip_grad_norm_(layer.parameters(), max_norm=100.0)
print(f"returned {returned:.4f}; dL/db = {layer.bias.grad}")
torch.testing.assert_close(returned, total_ref)
torch.testing.assert_close(layer.weight.grad, grad_W)
torch.testing.assert_close(layer.bias.grad, grad_b)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
run_backward()
clip_grad_norm_([layer.weight], max_norm=1.0)
print(
    f"|dL/dW| after clipping the weight alone: {layer.weight.grad.norm():.6f}"
)
print(f"dL/db, untouched: {layer.bias.grad}")
torch.testing.assert_close(
    layer.weight.grad, grad_W / (grad_W.norm() + 1e-6), rtol=1e-5, atol=1e-7
)
torch.testing.assert_close(layer.bias.grad, grad_b)
