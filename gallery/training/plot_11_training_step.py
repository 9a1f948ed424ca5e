r"""
.. _example-training-step:

Gradients in a training step
============================

The one-layer network of PyTorch's autograd tutorial, with every gradient
checked against the closed form of a binary cross-entropy loss. We then see why
a training loop calls ``optimizer.zero_grad()``, and why a second
``backward()`` through a graph whose nodes saved tensors raises unless the
first was told to keep them with ``retain_graph=True``.

.. reading-path::
   :learn: the gradients of a one-layer network's loss, why a training loop
      calls ``optimizer.zero_grad()``, and why a second ``backward()`` raises
      when the graph's nodes saved tensors, unless told ``retain_graph=True``
   :after: example-gradient-accumulation, example-no-grad

.. figure-alt:: 1

   Loss and bias-gradient norm over ten SGD steps, with and without
   zero_grad(): without it the summed gradients grow and the loss falls faster
   for the wrong reason.
"""

# %%
# A one-layer network
# -------------------
# An input :math:`\mathbf{x} = \mathbf{1} \in \mathbb{R}^5`, weights
# :math:`\mathbf{W} \in \mathbb{R}^{5 \times 3}`, a bias :math:`\mathbf{b} \in
# \mathbb{R}^3`, the logits :math:`\mathbf{z} =
# \mathbf{x}^{\mathrm{T}}\mathbf{W} + \mathbf{b}` and the target
# :math:`\mathbf{y} = \mathbf{0}`. Only ``w`` and ``b`` require grad: they are
# the parameters we train.
import torch

torch.manual_seed(0)
x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
print(f"logits z = {z.detach()}")

# %%
# The loss is the binary cross-entropy of the logits, averaged over the three
# outputs (``reduction="mean"``, the default), with :math:`\sigma` the sigmoid:
#
# .. math::
#
#    L = -\frac{1}{3} \sum_{k=1}^{3}
#        \Bigl[ y_k \log \sigma(z_k)
#        + (1 - y_k) \log\bigl(1 - \sigma(z_k)\bigr) \Bigr].
import torch.nn.functional as F

loss = F.binary_cross_entropy_with_logits(z, y)
print(f"loss L = {loss.item():.6f}")
z_ref = x @ w.detach() + b.detach()  # the same logits, without autograd
p_ref = torch.sigmoid(z_ref)
torch.testing.assert_close(
    loss.detach(), -(y * p_ref.log() + (1 - y) * (1 - p_ref).log()).mean()
)

# %%
# What the loss's node saves
# --------------------------
# Each node saves what its backward needs. The node of this loss saves the
# logits :math:`\mathbf{z}` and the target :math:`\mathbf{y}`, not
# :math:`\sigma(\mathbf{z})`, which its backward recomputes. PyTorch shows
# a node's saved tensors as ``_saved_*`` attributes (its autograd notes use
# them for exactly this).
node = loss.grad_fn
print(f"loss.grad_fn: {node.name()}")
print(f"saved self (the logits): {node._saved_self.detach()}")
print(f"saved target:            {node._saved_target}")
assert node._saved_self is z
assert torch.equal(node._saved_target, y)
# z = x @ w + b: the add's first input is x @ w, a matrix product of x (as a
# 1 x 5 row) and w, squeezed back to a vector; the product's node saves x.
add_node = node.next_functions[0][0]  # z = (x @ w) + b
matmul_node = add_node.next_functions[0][0].next_functions[0][0]
print(f"{matmul_node.name()} saves x: {matmul_node._saved_self.flatten()}")
assert torch.equal(matmul_node._saved_self.flatten(), x)

# %%
# The gradients, by hand and by autograd
# --------------------------------------
# Differentiating :math:`L` gives the well-known :math:`\sigma(z_k) - y_k`,
# divided by 3 for the mean. The chain rule through :math:`z_k = \sum_j x_j
# W_{jk} + b_k` then gives an outer product for the weights:
#
# .. math::
#
#    \frac{\partial L}{\partial z_k} = \frac{\sigma(z_k) - y_k}{3}, \qquad
#    \frac{\partial L}{\partial W_{jk}} = x_j \frac{\partial L}{\partial z_k},
#    \qquad
#    \frac{\partial L}{\partial b_k} = \frac{\partial L}{\partial z_k}.
loss.backward()
print(f"dL/dw =\n{w.grad}")
print(f"dL/db = {b.grad}")
dl_dz = (torch.sigmoid(z_ref) - y) / 3
torch.testing.assert_close(w.grad, torch.outer(x, dl_dz), rtol=1e-5, atol=0.0)
torch.testing.assert_close(b.grad, dl_dz, rtol=1e-5, atol=0.0)
assert all(torch.equal(row, b.grad) for row in w.grad)

# %%
# The values lie between 0 and 1/3, so the checks use a relative tolerance of
# :math:`10^{-5}` and no absolute one: a gradient off by a relative
# :math:`10^{-4}` would fail them. Since :math:`\mathbf{x} = \mathbf{1}`, every
# row of ``w.grad`` equals ``b.grad``.
#
# A graph is used once
# --------------------
# ``backward()`` frees the tensors the nodes saved (here the input ``x``, the
# logits and the target) as it goes, so a second call on the same ``loss``
# raises. The message is live:
try:
    loss.backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "a second loss.backward() was expected to raise: the graph is freed"
    )

# %%
# Reading a saved tensor after ``backward()`` raises the same error.
try:
    node._saved_self
except RuntimeError as err:
    print(f"RuntimeError: {str(err).split('.')[0]}.")
else:
    raise AssertionError("the saved logits were expected to be freed")

# %%
# The error is about the freed *saved tensors*, not the graph as such. A
# graph whose nodes saved no tensor can be walked twice: in
# :math:`\sum_i (q_i + 1)` neither the addition nor the sum needs a value
# from the forward pass, so a second ``backward()`` goes through and adds
# :math:`\partial/\partial q_i = 1` again.
q = torch.tensor([1.0, 2.0], requires_grad=True)
s = (q + 1).sum()
s.backward()
s.backward()  # no retain_graph: nothing was saved, nothing was freed
print(f"q.grad after two backward() calls on (q + 1).sum(): {q.grad}")
torch.testing.assert_close(q.grad, torch.full((2,), 2.0))

# %%
# ``retain_graph=True`` keeps the saved values, and the second call goes
# through. But ``.grad`` *accumulates*: each call adds its gradient to what is
# there, so two calls leave twice the gradient, :math:`2\,\partial L / \partial
# \mathbf{b}`.
w.grad, b.grad = None, None
loss = F.binary_cross_entropy_with_logits(x @ w + b, y)
loss.backward(retain_graph=True)
b_grad_once = b.grad.clone()
loss.backward()
print(f"dL/db after one backward:  {b_grad_once}")
print(f"dL/db after two backwards: {b.grad}")
torch.testing.assert_close(b_grad_once, dl_dz, rtol=1e-5, atol=0.0)
torch.testing.assert_close(b.grad, 2 * dl_dz, rtol=1e-5, atol=0.0)
torch.testing.assert_close(
    w.grad, 2 * torch.outer(x, dl_dz), rtol=1e-5, atol=0.0
)

# %%
# One training step
# -----------------
# That accumulation is why an optimizer has ``zero_grad()``. By default it sets
# the gradients to ``None`` (``set_to_none=True``); the next ``backward()``
# then writes fresh ones.
optimizer = torch.optim.SGD([w, b], lr=0.5)
optimizer.zero_grad()
print(f"after optimizer.zero_grad(): w.grad = {w.grad}, b.grad = {b.grad}")
assert w.grad is None and b.grad is None

# %%
# A training step is: clear the gradients, run the forward pass,
# ``backward()``, ``optimizer.step()``. Plain SGD moves each parameter against
# its gradient, :math:`\mathbf{b} \leftarrow \mathbf{b} - \eta\, \partial L /
# \partial \mathbf{b}` with learning rate :math:`\eta = 0.5`.
b_before = b.detach().clone()
loss = F.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)
loss.backward()
optimizer.step()
print(f"dL/db used by the step: {b.grad}")
print(f"b before: {b_before}")
print(f"b after:  {b.detach()}")
torch.testing.assert_close(b.grad, dl_dz, rtol=1e-5, atol=0.0)
torch.testing.assert_close(b.detach(), b_before - 0.5 * dl_dz)

# %%
# Forgetting ``zero_grad()``
# --------------------------
# We train 10 steps from the same starting point twice, with and without
# ``zero_grad()``. At every step we check ``b.grad`` against the closed form:
# the current :math:`(\sigma(\mathbf{z}) - \mathbf{y})/3`, or, without
# ``zero_grad()``, the running sum of it over all steps so far.
w0, b0 = w.detach().clone(), b.detach().clone()


def train(*, zero_grad, steps=10, lr=0.5):
    """Run SGD from (w0, b0); return the losses, the norms of b.grad and the
    norms of the current loss's own gradient dL/db."""
    w = w0.clone().requires_grad_()
    b = b0.clone().requires_grad_()
    opt = torch.optim.SGD([w, b], lr=lr)
    losses, grad_norms, true_norms, expected = [], [], [], torch.zeros(3)
    for _ in range(steps):
        if zero_grad:
            opt.zero_grad()
            expected = torch.zeros(3)
        z = x @ w + b
        loss = F.binary_cross_entropy_with_logits(z, y)
        loss.backward()
        true_grad = (torch.sigmoid(z.detach()) - y) / 3
        expected = expected + true_grad
        torch.testing.assert_close(b.grad, expected, rtol=1e-5, atol=0.0)
        losses.append(loss.item())
        grad_norms.append(b.grad.norm().item())
        true_norms.append(true_grad.norm().item())
        opt.step()
    return losses, grad_norms, true_norms


losses_zeroed, norms_zeroed, _ = train(zero_grad=True)
losses_summed, norms_summed, true_norms_summed = train(zero_grad=False)
print(f"|dL/db| at the last step with zero_grad():    {norms_zeroed[-1]:.4f}")
print(f"|dL/db| at the last step without zero_grad(): {norms_summed[-1]:.4f}")

# %%
# Without ``zero_grad()`` each step follows the sum of every gradient seen so
# far, not the gradient of the current loss: along that run the step size
# keeps growing while the true gradient, that of the current loss, shrinks.
# It is a different optimizer from the one we asked for (here it happens to
# lower this loss faster; with :math:`\mathbf{y} = \mathbf{0}` the loss has no
# minimum, its infimum 0 is approached as :math:`\mathbf{z} \to -\infty`),
# and an accidental one. The checks below
# state each of these observations.
pairs = list(zip(norms_summed, norms_summed[1:], strict=False))
assert all(b > a for a, b in pairs), "the summed gradient grows"
pairs = list(zip(true_norms_summed, true_norms_summed[1:], strict=False))
assert all(b < a for a, b in pairs), "the true gradient shrinks"
assert losses_summed[-1] < losses_zeroed[-1], "lower loss, by accident"
import matplotlib.pyplot as plt

steps = range(1, len(losses_zeroed) + 1)
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(6.5, 3.5))
ax_loss.plot(steps, losses_zeroed, "o-", ms=3, label="with zero_grad()")
ax_loss.plot(steps, losses_summed, "s--", ms=3, label="without")
ax_loss.set_xlabel("SGD step")
ax_loss.set_ylabel("loss $L$")
ax_loss.legend()
ax_grad.plot(steps, norms_zeroed, "o-", ms=3, label="with zero_grad()")
ax_grad.plot(steps, norms_summed, "s--", ms=3, label="without (summed)")
ax_grad.set_xlabel("SGD step")
ax_grad.set_ylabel(r"$\|$b.grad$\|$ used by the step")
ax_grad.legend()
for ax in (ax_loss, ax_grad):
    ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# A running total of losses keeps every graph
# -------------------------------------------
# ``total += loss``, to report an average, makes ``total`` a tensor computed
# from every step's loss, and so keeps every step's graph alive. Two counts
# show it, the same on any machine: the backward nodes reachable from
# ``total``, and the saved tensors still alive, seen through a pack hook
# that wraps each in a small object we watch with a weak reference.
import weakref


def graph_nodes(t):
    """Backward nodes reachable from ``t`` (0 for a float, or no history)."""
    if not isinstance(t, torch.Tensor) or t.grad_fn is None:
        return 0
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


class Saved:
    def __init__(self, tensor):
        self.tensor = tensor


watched = []


def pack(tensor):
    saved = Saved(tensor)
    watched.append(weakref.ref(saved))
    return saved


def unpack(saved):
    return saved.tensor


def saved_alive():
    return sum(ref() is not None for ref in watched)


# %%
# An evaluation loop that forgets ``torch.no_grad()``, four steps, three ways
# to add up the losses. With ``total += loss`` the nodes and the saved
# tensors grow with every step; with ``loss.item()`` (a float) or
# ``loss.detach()`` (a tensor without history) ``total`` holds no graph, and
# only the current step's saved tensors are alive.
def evaluate(add):
    total, counts = 0.0, []
    watched.clear()
    for _ in range(4):
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            loss = F.binary_cross_entropy_with_logits(x @ w + b, y)
        total = add(total, loss)
        counts.append((graph_nodes(total), saved_alive()))
    return counts


runs = {
    "total += loss         ": evaluate(lambda tot, loss: tot + loss),
    "total += loss.item()  ": evaluate(lambda tot, loss: tot + loss.item()),
    "total += loss.detach()": evaluate(lambda tot, loss: tot + loss.detach()),
}
for name, counts in runs.items():
    print(f"{name}: (nodes, saved tensors alive) per step {counts}")
kept = runs["total += loss         "]
per_step = kept[0][1]
assert per_step > 0
assert [alive for _, alive in kept] == [per_step * k for k in (1, 2, 3, 4)]
nodes = [n for n, _ in kept]
growth = {nodes[k + 1] - nodes[k] for k in range(len(nodes) - 1)}
assert len(growth) == 1 and growth.pop() > 0  # the same chain every step
for name in list(runs)[1:]:
    assert runs[name] == [(0, per_step)] * 4

# %%
# In a training loop ``backward()`` frees each step's saved tensors, but
# ``total += loss`` still keeps the nodes, one chain more per step. (The
# parameters do not move here, and each step's ``b.grad`` is checked against
# :math:`(\sigma(z) - y)/3` at their current values.)
dl_dz_now = (torch.sigmoid(x @ w.detach() + b.detach()) - y) / 3
total = 0.0
watched.clear()
train_counts = []
for _ in range(4):
    w.grad, b.grad = None, None
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        loss = F.binary_cross_entropy_with_logits(x @ w + b, y)
    loss.backward()
    torch.testing.assert_close(b.grad, dl_dz_now, rtol=1e-5, atol=0.0)
    total += loss
    train_counts.append((graph_nodes(total), saved_alive()))
print(f"training, total += loss: (nodes, saved alive) {train_counts}")
assert [n for n, _ in train_counts] == nodes
assert all(alive == 0 for _, alive in train_counts)

# %%
# Conclusion
# ----------
# ``backward()`` *adds* :math:`\partial L / \partial \theta` into ``.grad`` of
# each parameter :math:`\theta`, and frees the tensors the graph saved unless
# told ``retain_graph=True``. A training step therefore clears the gradients
# (``optimizer.zero_grad()``), builds a fresh graph with the forward pass,
# calls ``backward()`` once, and steps.
#
# For the tensors that nodes save and how to trade memory for recomputation,
# see PyTorch's `autograd notes on saved tensors
# <https://pytorch.org/docs/stable/notes/autograd.html#saved-tensors>`_.

# %%
# Exercises
# ---------
# 1. Compute the gradient with ``reduction="sum"`` instead of the mean: what
#    becomes of :math:`\partial L / \partial \mathbf{b}`? Check it against
#    the closed form.
# 2. Which tensor does the node of ``torch.exp(z)`` save: its input or its
#    output? Look at its ``_saved_*`` attributes and check.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
#
# Without the division by 3: :math:`\sigma(z_k) - y_k`.

# %%
w.grad, b.grad = None, None
loss_sum = F.binary_cross_entropy_with_logits(x @ w + b, y, reduction="sum")
loss_sum.backward()
z_now = x @ w.detach() + b.detach()
print(f"dL/db with reduction='sum': {b.grad}")
torch.testing.assert_close(
    b.grad, torch.sigmoid(z_now) - y, rtol=1e-5, atol=0.0
)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# Its output: the derivative of :math:`e^z` is :math:`e^z` itself.

# %%
zz = torch.tensor([0.0, 1.0], requires_grad=True)
ez = torch.exp(zz)
saved = [a for a in dir(ez.grad_fn) if a.startswith("_saved")]
print(f"{ez.grad_fn.name()} saves {saved}")
assert saved == ["_saved_result"] and ez.grad_fn._saved_result.equal(ez)
