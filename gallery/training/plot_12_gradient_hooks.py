r"""
.. _example-hooks:

Gradient hooks
==============

Hooks let us read or rewrite a gradient while ``backward()`` runs: on a tensor,
on an intermediate result, on a module, or on a parameter once its ``.grad`` is
final. We check each gradient they see against a closed form, and remove the
hooks. The :ref:`next example <example-gradient-clipping>` rescales the
gradients once ``backward()`` is done.

.. reading-path::
   :learn: how hooks read or rewrite a gradient while ``backward()`` runs: on a
      tensor, on an intermediate result, on a module, or on a parameter once
      its ``.grad`` is final
   :after: example-leaf-tensors, example-training-step

.. search::
   :keywords: hooks, register_hook, modify a gradient, scale a gradient, mask a
      gradient
"""

# %%
# A hook on a tensor
# ------------------
# :meth:`~torch.Tensor.register_hook` calls a function with the gradient
# flowing into a tensor. A hook that returns ``None`` only looks. For :math:`y
# = \sum_i x_i^2` it sees :math:`\partial y / \partial x_i = 2 x_i`.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
seen = []
handle = x.register_hook(lambda grad: seen.append(grad.clone()))
(x**2).sum().backward()
print(f"gradient seen by the hook: {seen[0]}")
print(f"x.grad:                    {x.grad}")
torch.testing.assert_close(seen[0], 2 * x.detach())
torch.testing.assert_close(x.grad, 2 * x.detach())

# %%
# A hook that returns a tensor *replaces* the gradient. Doubling it makes
# ``x.grad`` equal to :math:`2 \cdot 2 x_i = 4 x_i`. ``register_hook`` returns
# a handle; ``handle.remove()`` takes the hook off again.
handle.remove()
x.grad = None
handle = x.register_hook(lambda grad: 2 * grad)
(x**2).sum().backward()
print(f"x.grad with the doubling hook: {x.grad}")
torch.testing.assert_close(x.grad, 4 * x.detach())

# %%
# After ``handle.remove()`` the same computation gives the plain :math:`2 x_i`
# again.
handle.remove()
x.grad = None
(x**2).sum().backward()
print(f"x.grad after handle.remove(): {x.grad}")
torch.testing.assert_close(x.grad, 2 * x.detach())

# %%
# A hook on an intermediate result
# --------------------------------
# Autograd keeps ``.grad`` only for leaves. A hook on a non-leaf reads the
# gradient as it passes, without :meth:`~torch.Tensor.retain_grad`. With
# :math:`h = x^2` and :math:`y = \sum_i h_i^2`, the hook sees :math:`\partial y
# / \partial h_i = 2 h_i`.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x**2
seen_h = []
h.register_hook(lambda grad: seen_h.append(grad.clone()))
y = (h**2).sum()
y.backward()
print(f"h = {h.detach()}")
print(f"dy/dh seen by the hook: {seen_h[0]}")
torch.testing.assert_close(seen_h[0], 2 * x.detach() ** 2)

# %%
# ``h.grad`` itself stayed ``None``, and reading it warns. The warning is
# recorded live (we print it without its trailing "Triggered internally at <C++
# file>"), and the script fails if PyTorch stops emitting it.
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(f"h.grad = {h.grad}")
messages = [
    str(w.message) for w in caught if issubclass(w.category, UserWarning)
]
print(f"UserWarning: {messages[0].split(' (Triggered internally')[0]}")
assert any("not a leaf Tensor" in m for m in messages), (
    "reading h.grad should warn"
)

# %%
# Hooks on a module
# -----------------
# :meth:`~torch.nn.Module.register_full_backward_hook` sees the gradients at a
# module's boundary. For a linear layer :math:`\mathbf{O} = \mathbf{X}
# \mathbf{W}^{\mathrm{T}} + \mathbf{b}` on a batch of two rows and the loss
# :math:`L = \tfrac12 \sum O_{nk}^2`:
#
# .. math::
#
#    \underbrace{\frac{\partial L}{\partial \mathbf{O}}
#    = \mathbf{O}}_{\mathtt{grad\_output}},
#    \qquad
#    \underbrace{\frac{\partial L}{\partial \mathbf{X}} =
#    \frac{\partial L}{\partial \mathbf{O}} \mathbf{W}}_{\mathtt{grad\_input}},
#    \qquad
#    \frac{\partial L}{\partial \mathbf{W}} =
#    \Bigl(\frac{\partial L}{\partial \mathbf{O}}\Bigr)^{\mathrm{T}}
#    \mathbf{X},
#    \qquad
#    \frac{\partial L}{\partial \mathbf{b}}
#    = \sum_n \frac{\partial L}{\partial O_{n\cdot}}.
#
# We set small integer weights so every gradient is an exact integer.
torch.manual_seed(0)
layer = torch.nn.Linear(3, 2)
W = torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
b = torch.tensor([0.0, 1.0])
with torch.no_grad():
    layer.weight.copy_(W)
    layer.bias.copy_(b)
X = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]], requires_grad=True)

# %%
# The module hook stores what it is given: tuples with one entry per input and
# per output of the module.
module_calls = []


def record_boundary(module, grad_input, grad_output):
    module_calls.append((grad_input[0].clone(), grad_output[0].clone()))


module_handle = layer.register_full_backward_hook(record_boundary)

# %%
# Hooks after accumulation
# ------------------------
# :meth:`~torch.Tensor.register_post_accumulate_grad_hook` runs on a parameter
# once its ``.grad`` is complete for this ``backward()``. It is where a hook
# reads the final gradient of each parameter, for logging, say.
accumulated = {}


def make_recorder(name):
    def record(param):
        accumulated[name] = param.grad.clone()

    return record


param_handles = [
    p.register_post_accumulate_grad_hook(make_recorder(name))
    for name, p in layer.named_parameters()
]


def run_backward():
    """Clear the gradients, then backpropagate L = 1/2 sum(O^2) once."""
    layer.zero_grad()
    loss = 0.5 * (layer(X) ** 2).sum()
    loss.backward()


run_backward()

# %%
# Every gradient the hooks saw, against the closed forms computed from ``W``,
# ``b`` and ``X`` without autograd:
grad_input, grad_output = module_calls[-1]
O_ref = X.detach() @ W.T + b
print(f"grad_output, shape {tuple(grad_output.shape)}:\n{grad_output}")
print(f"grad_input,  shape {tuple(grad_input.shape)}:\n{grad_input}")
print(f"dL/dW seen after accumulation:\n{accumulated['weight']}")
print(f"dL/db seen after accumulation: {accumulated['bias']}")
grad_W, grad_b = O_ref.T @ X.detach(), O_ref.sum(dim=0)
torch.testing.assert_close(grad_output, O_ref)
torch.testing.assert_close(grad_input, O_ref @ W)
torch.testing.assert_close(accumulated["weight"], grad_W)
torch.testing.assert_close(accumulated["bias"], grad_b)

# %%
# ``grad_input`` is the gradient with respect to the module's *input*
# :math:`\mathbf{X}`, not its parameters; parameter gradients are what the
# post-accumulate hooks (or ``.grad``) give.


# %%
# Removing the hooks
# ------------------
# Module and parameter hooks stay until removed. After ``remove()`` a new
# ``backward()`` no longer reaches them, while ``.grad`` is still computed.
module_handle.remove()
for param_handle in param_handles:
    param_handle.remove()
calls_before, accumulated = len(module_calls), {}
run_backward()
print(f"module hook calls: {calls_before} before, {len(module_calls)} after")
print(f"post-accumulate hook records after remove(): {accumulated}")
assert len(module_calls) == calls_before and not accumulated
torch.testing.assert_close(layer.bias.grad, grad_b)

# %%
# Modify a gradient: scale it, mask it
# ------------------------------------
# To change a gradient during ``backward()``, return the changed tensor from a
# tensor hook. On an intermediate result the change reaches everything
# upstream. Scaling the gradient into :math:`h = x^2` by :math:`\lambda =
# 0.1` in :math:`y = \sum_i h_i^2` scales :math:`\partial y/\partial x_i =
# 4x_i^3` by :math:`\lambda` too (with :math:`-\lambda` this is a
# gradient-reversal layer).
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x**2
h.register_hook(lambda grad: 0.1 * grad)
(h**2).sum().backward()
print(f"x.grad with the gradient into h scaled by 0.1: {x.grad}")
torch.testing.assert_close(x.grad, 0.1 * 4 * x.detach() ** 3)

# %%
# A mask keeps chosen entries of a parameter fixed: a hook on
# ``layer.weight`` sets its gradient to 0 in row 0 and keeps it elsewhere, so
# ``.grad`` is :math:`\partial L/\partial \mathbf{W}` with row 0 zeroed
# (``grad_W`` is the closed form from above).
keep = torch.tensor([[False], [True]]).expand(2, 3)
mask_handle = layer.weight.register_hook(
    lambda grad: torch.where(keep, grad, 0.0)
)
run_backward()
print(f"masked dL/dW:\n{layer.weight.grad}")
torch.testing.assert_close(layer.weight.grad, torch.where(keep, grad_W, 0.0))

# %%
# Plain SGD then leaves row 0 alone. SGD with weight decay still moves it:
# its decay term :math:`\eta\,\mathrm{wd}\,W` does not come from ``.grad``,
# so masking the gradient does not freeze the entry.
weight_before = layer.weight.detach().clone()
with torch.no_grad():
    for wd in (0.0, 0.5):
        layer.weight.copy_(weight_before)
        torch.optim.SGD([layer.weight], lr=0.1, weight_decay=wd).step()
        moved = layer.weight[0] - weight_before[0]
        print(f"weight_decay = {wd}: row 0 moved by {moved}")
        torch.testing.assert_close(moved, -0.1 * wd * weight_before[0])
    layer.weight.copy_(weight_before)
mask_handle.remove()

# %%
# Conclusion
# ----------
# ``Tensor.register_hook`` reads or replaces the gradient flowing into any
# tensor, leaf or not; ``register_full_backward_hook`` shows a module's
# ``grad_input`` and ``grad_output``; ``register_post_accumulate_grad_hook``
# sees each parameter's final ``.grad``. Keep the handles and call
# ``remove()`` when done.

# %%
# Exercises
# ---------
# 1. Write a tensor hook that clamps the gradient flowing into ``x`` to
#    :math:`[-1, 1]` and check ``x.grad`` for :math:`y = \sum_i x_i^2` at
#    :math:`x = (-2, 0.25, 3)`.
# 2. A parameter used twice gets gradient from both uses. With
#    :math:`L = \sum_i (a x_i)^2 + a` and a scalar :math:`a`, check that a
#    tensor hook on ``a`` and a post-accumulate hook both fire once, and see
#    :math:`\partial L / \partial a = 2a \sum_i x_i^2 + 1`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor([-2.0, 0.25, 3.0], requires_grad=True)
handle = x.register_hook(lambda grad: grad.clamp(-1.0, 1.0))
(x**2).sum().backward()
handle.remove()
print(f"x.grad with the clamping hook: {x.grad}")
torch.testing.assert_close(x.grad, (2 * x.detach()).clamp(-1.0, 1.0))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
a = torch.tensor(0.5, requires_grad=True)
xs = torch.tensor([1.0, 2.0])
tensor_hook, post_hook = [], []
a.register_hook(lambda grad: tensor_hook.append(grad.clone()))
a.register_post_accumulate_grad_hook(
    lambda param: post_hook.append(param.grad.clone())
)
(((a * xs) ** 2).sum() + a).backward()
print(f"tensor hook saw {tensor_hook}, post-accumulate hook saw {post_hook}")
expected = 2 * a.detach() * (xs**2).sum() + 1
assert len(tensor_hook) == 1 and len(post_hook) == 1
torch.testing.assert_close(post_hook[0], expected)
torch.testing.assert_close(a.grad, expected)
