r"""
.. _example-per-sample-gradients:

Per-sample gradients with torch.func
====================================

``backward()`` on a batch loss gives one gradient: the average of the
per-sample gradients for a mean loss, their sum for a summed one.
Some methods need the gradient of every sample separately. We get them with a
loop, then in one call with ``torch.func.vmap(torch.func.grad(...))``, and
check both against the closed form for a linear model and against the batch
gradient.

.. reading-path::
   :learn: how to get one gradient per sample, with a loop and with
      ``torch.func.vmap(torch.func.grad(...))``, and how they relate to the
      batch gradient
   :after: example-training-step

.. figure-alt:: 1

   Bar chart of the gradient norm of each of five samples, and the same norms
   clipped to C = 10.
"""

# %%
# A linear model and five samples
# -------------------------------
# The model is :math:`f(\mathbf{x}) = \mathbf{w} \cdot \mathbf{x} + b` with
# :math:`\mathbf{w} \in \mathbb{R}^3`: an :class:`torch.nn.Linear` whose
# weights we set to :math:`\mathbf{w} = (1, -1, \tfrac12)` and :math:`b =
# \tfrac12`. The data are small random integers, so every value below is exact
# in float32.
import torch

torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
w_ref, b_ref = torch.tensor([1.0, -1.0, 0.5]), torch.tensor(0.5)
with torch.no_grad():
    model.weight.copy_(w_ref.unsqueeze(0))
    model.bias.fill_(b_ref)
X = torch.randint(-2, 3, (5, 3)).float()
Y = torch.randint(-2, 3, (5,)).float()
print(f"X =\n{X}\nY = {Y}")

# %%
# The closed form
# ---------------
# Sample :math:`i` has the squared loss :math:`\ell_i = r_i^2` with residual
# :math:`r_i = \mathbf{w} \cdot \mathbf{x}_i + b - y_i`, so its gradient is
#
# .. math::
#
#    \frac{\partial \ell_i}{\partial \mathbf{w}} = 2 r_i \mathbf{x}_i, \qquad
#    \frac{\partial \ell_i}{\partial b} = 2 r_i .
#
# We compute it without autograd; it is the reference for everything below.
r = X @ w_ref + b_ref - Y
grad_w_ref = 2 * r.unsqueeze(1) * X  # (5, 3): one row per sample
grad_b_ref = 2 * r  # (5,)
print(f"residuals r = {r}")

# %%
# The loop: one backward per sample
# ---------------------------------
# The obvious way runs the model on one sample at a time and copies ``.grad``
# out after each ``backward()``: five passes for five samples.
loop_w, loop_b = [], []
for i in range(len(X)):
    model.zero_grad()
    loss_i = ((model(X[i]) - Y[i]) ** 2).sum()
    loss_i.backward()
    loop_w.append(model.weight.grad[0].clone())
    loop_b.append(model.bias.grad[0].clone())
loop_w, loop_b = torch.stack(loop_w), torch.stack(loop_b)
print(f"per-sample dl/dw (loop):\n{loop_w}")
print(f"per-sample dl/db (loop): {loop_b}")
torch.testing.assert_close(loop_w, grad_w_ref)
torch.testing.assert_close(loop_b, grad_b_ref)

# %%
# vmap over grad
# --------------
# :mod:`torch.func` transforms functions. We write the loss of *one* sample as
# a function of the parameters, with :func:`torch.func.functional_call` running
# ``model`` with the parameters we pass. :func:`torch.func.grad` differentiates
# it with respect to its first argument; :func:`torch.func.vmap` maps that over
# the samples. ``in_dims=(None, 0, 0)``: the parameters are shared, ``X`` and
# ``Y`` are split along dimension 0.
from torch.func import functional_call, grad, vmap

params = {name: p.detach() for name, p in model.named_parameters()}


def sample_loss(params, x, y):
    """Squared error of one sample; x has shape (3,), y shape ()."""
    pred = functional_call(model, params, (x,))
    return ((pred - y) ** 2).sum()


per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, X, Y)
shapes = {name: tuple(g.shape) for name, g in per_sample.items()}
print(f"per-sample gradient shapes: {shapes}")

# %%
# The result has the structure of ``params``, with a leading dimension of 5:
# one gradient per sample, matching the closed form and the loop.
print(f"per-sample dl/dw (vmap):\n{per_sample['weight'][:, 0]}")
print(f"per-sample dl/db (vmap): {per_sample['bias'][:, 0]}")
torch.testing.assert_close(per_sample["weight"][:, 0], grad_w_ref)
torch.testing.assert_close(per_sample["bias"][:, 0], grad_b_ref)
torch.testing.assert_close(per_sample["weight"][:, 0], loop_w)

# %%
# The batch gradient is their mean, for a mean loss
# --------------------------------------------------
# The usual training loss is the mean :math:`L = \frac{1}{N} \sum_i \ell_i`,
# and the gradient is linear, so :math:`\nabla L = \frac{1}{N} \sum_i \nabla
# \ell_i`: one ``backward()`` on the batch gives exactly the mean of the
# per-sample gradients, and nothing more.
model.zero_grad()
batch_loss = ((model(X).squeeze(1) - Y) ** 2).mean()
batch_loss.backward()
print(f"batch dL/dw: {model.weight.grad[0]}")
print(f"batch dL/db: {model.bias.grad[0]:.4f}")
torch.testing.assert_close(
    model.weight.grad[0], per_sample["weight"][:, 0].mean(dim=0)
)
torch.testing.assert_close(model.weight.grad[0], grad_w_ref.mean(dim=0))
torch.testing.assert_close(model.bias.grad[0], grad_b_ref.mean())

# %%
# The average comes from the loss, not from ``backward()``. With a summed
# loss, :math:`L = \sum_i \ell_i` (``reduction="sum"`` in PyTorch's loss
# modules), the same call returns the *sum* of the per-sample gradients,
# :math:`N` times the mean.
model.zero_grad()
sum_loss = torch.nn.functional.mse_loss(
    model(X).squeeze(1), Y, reduction="sum"
)
sum_loss.backward()
print(f"summed loss, batch dL/dw: {model.weight.grad[0]}")
torch.testing.assert_close(model.weight.grad[0], grad_w_ref.sum(dim=0))
torch.testing.assert_close(model.bias.grad[0], grad_b_ref.sum())
torch.testing.assert_close(
    model.weight.grad[0], len(X) * grad_w_ref.mean(dim=0)
)

# %%
# A use: per-sample clipping in DP-SGD
# ------------------------------------
# Differentially private SGD (DP-SGD) bounds how much any one sample can move
# the model: it clips each per-sample gradient to norm at most :math:`C`,
# averages, and adds noise. That needs the per-sample norms, which for our
# model are :math:`\|\nabla \ell_i\| = 2 |r_i| \sqrt{\|\mathbf{x}_i\|^2 + 1}`.
flat = torch.cat(
    [per_sample["weight"][:, 0], per_sample["bias"]], dim=1
)  # (5, 4)
norms = flat.norm(dim=1)
print(f"per-sample gradient norms: {norms}")
torch.testing.assert_close(
    norms, 2 * r.abs() * (X.square().sum(dim=1) + 1).sqrt()
)

# %%
# Each gradient is scaled by :math:`\min(1, C / \|\nabla \ell_i\|)`; with
# :math:`C = 10`, the samples above the line are shortened to it, the others
# kept.
C = 10.0
clipped = flat * (C / norms).clamp(max=1.0).unsqueeze(1)
clipped_norms = clipped.norm(dim=1)
print(f"norms after per-sample clipping: {clipped_norms}")
torch.testing.assert_close(clipped_norms, norms.clamp(max=C))

# %%
import matplotlib.pyplot as plt

samples = range(1, len(X) + 1)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(
    [s - 0.2 for s in samples],
    norms.tolist(),
    width=0.4,
    label="per-sample gradient",
)
ax.bar(
    [s + 0.2 for s in samples],
    clipped_norms.tolist(),
    width=0.4,
    label="clipped to $C$",
)
ax.axhline(C, color="k", ls="--", lw=1, label="$C = 10$")
ax.set_xlabel("sample $i$")
ax.set_ylabel(r"$\|\nabla \ell_i\|$")
ax.set_ylim(0, 17)
ax.legend(loc="upper left", ncol=3, fontsize="small")
ax.grid(alpha=0.3, axis="y")
fig.tight_layout()

# %%
# Conclusion
# ----------
# ``vmap(grad(loss), in_dims=(None, 0, 0))`` over a ``functional_call`` gives
# every sample's gradient in one call, with the structure of the parameters and
# a batch dimension in front; a loop of ``backward()`` calls gives the same,
# one pass per sample. The batch gradient is their mean for a mean loss and
# their sum for a summed one; either way it is all ``backward()`` on the
# batch loss can tell. Per-sample gradients are what per-sample clipping
# (DP-SGD) needs.

# %%
# Exercises
# ---------
# 1. Use ``torch.nn.functional.mse_loss`` with its default
#    ``reduction="mean"`` on the batch and check that the bias gradient is
#    the mean of the per-sample ones.
# 2. Change the per-sample loss to :math:`\ell_i = r_i^4 / 4` and get the
#    per-sample gradients with ``vmap(grad(...))``. Check them against
#    :math:`\partial \ell_i / \partial \mathbf{w} = r_i^3 \mathbf{x}_i`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
model.zero_grad()
torch.nn.functional.mse_loss(model(X).squeeze(1), Y).backward()
print(f"mean loss, batch dL/db: {model.bias.grad[0]:.4f}")
torch.testing.assert_close(model.bias.grad[0], per_sample["bias"].mean())

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~


# %%
def quartic_loss(params, x, y):
    """r^4 / 4 for one sample."""
    pred = functional_call(model, params, (x,))
    return ((pred - y) ** 4 / 4).sum()


quartic = vmap(grad(quartic_loss), in_dims=(None, 0, 0))(params, X, Y)
print(f"per-sample d(r^4/4)/dw:\n{quartic['weight'][:, 0]}")
torch.testing.assert_close(quartic["weight"][:, 0], r.unsqueeze(1) ** 3 * X)
torch.testing.assert_close(quartic["bias"][:, 0], r**3)
