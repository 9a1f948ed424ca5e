r"""
.. _example-autograd-in-training:

Autograd in real training
=========================

Four things a training loop does with gradients beyond ``loss.backward()``:
freezing parameters, accumulating gradients over micro-batches with the
right loss scaling, telling ``model.eval()`` from ``torch.no_grad()``, and
mixed precision on CPU with ``torch.autocast`` and a gradient scaler. Each is
checked against the closed-form gradient of a least-squares loss.

The loss and its gradient are

.. math::

   L(w, b) = \frac{1}{N}\sum_{i=1}^N (x_i^{\mathsf T} w + b - y_i)^2,
   \qquad
   \nabla_w L = \frac{2}{N} X^{\mathsf T} r, \quad
   \frac{\partial L}{\partial b} = \frac{2}{N}\sum_i r_i,

where :math:`r = Xw + b - y` is the residual.

.. reading-path::
   :learn: how to freeze parameters, accumulate gradients over micro-batches
      with the right loss scaling, tell ``model.eval()`` from
      ``torch.no_grad()``, and train in mixed precision with a gradient scaler
   :after: example-gradient-accumulation, example-no-grad,
      example-training-step
"""

# %%
# The model and its closed-form gradient
# --------------------------------------
# A linear layer and the mean squared error; ``closed_form`` computes the
# gradients above in float64, without autograd.
import torch

torch.manual_seed(0)
X = torch.randn(8, 3)
y = torch.randn(8, 1)
model = torch.nn.Linear(3, 1)


def closed_form(model, X, y):
    w = model.weight.detach().double()
    b = model.bias.detach().double()
    r = X.double() @ w.T + b - y.double()
    n = X.shape[0]
    return (2 / n * r.T @ X.double()).float(), (2 / n * r.sum(0)).float()


loss = torch.nn.functional.mse_loss(model(X), y)
loss.backward()
gw, gb = closed_form(model, X, y)
print(f"dL/dw: {model.weight.grad}\ndL/db: {model.bias.grad}")
torch.testing.assert_close((model.weight.grad, model.bias.grad), (gw, gb))

# %%
# Freezing parameters
# -------------------
# ``requires_grad_(False)`` makes a parameter a constant: backward no longer
# writes its ``.grad``. ``AdamW`` skips a parameter whose ``.grad`` is
# ``None``: cleared by ``zero_grad()`` (``set_to_none=True``, the default)
# and then frozen, the bias is left untouched, even with weight decay.
model.zero_grad(set_to_none=True)
model.bias.requires_grad_(False)
opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
bias_before = model.bias.detach().clone()
torch.nn.functional.mse_loss(model(X), y).backward()
print(f"frozen bias: grad = {model.bias.grad}")
print(f"trainable weight: grad = {model.weight.grad}")
assert model.bias.grad is None
torch.testing.assert_close(model.weight.grad, closed_form(model, X, y)[0])
opt.step()
assert torch.equal(model.bias.detach(), bias_before)

# %%
# Freezing does not clear a ``.grad`` that is already there, and ``AdamW``
# steps a parameter whose ``.grad`` is a tensor, zeros included (Adam does
# the same in :ref:`example-gradient-accumulation`). After
# ``zero_grad(set_to_none=False)`` the frozen bias keeps a zero ``.grad``,
# and AdamW's decoupled weight decay moves it:
# :math:`b \leftarrow b\,(1 - \eta\lambda)`, while the Adam part of the step
# is :math:`0/(0 + \epsilon) = 0`.
model.bias.requires_grad_(True)
torch.nn.functional.mse_loss(model(X), y).backward()  # fills bias.grad
model.bias.requires_grad_(False)
print(f"bias.grad after requires_grad_(False): {model.bias.grad}")
torch.testing.assert_close(model.bias.grad, closed_form(model, X, y)[1])
opt.zero_grad(set_to_none=False)
bias_before = model.bias.detach().clone()
torch.nn.functional.mse_loss(model(X), y).backward()
opt.step()
print(f"frozen bias, zero .grad, one AdamW step: {bias_before.item():.4f} "
      f"-> {model.bias.item():.4f}")
lr, decay = opt.param_groups[0]["lr"], opt.param_groups[0]["weight_decay"]
torch.testing.assert_close(model.bias.detach(), bias_before * (1 - lr * decay))
model.bias.requires_grad_(True)

# %%
# Accumulating over micro-batches
# -------------------------------
# When a batch does not fit in memory, split it and call ``backward()`` on each
# part: gradients add up in ``.grad``. With a *mean* loss and :math:`k`
# micro-batches of equal size, the sum of the :math:`k` micro-batch gradients
# is :math:`k` times the full-batch gradient; dividing each micro-batch loss by
# :math:`k` makes them equal. (Unequal sizes need other weights: exercise 1.)
model.zero_grad(set_to_none=True)
k = 4
assert len({len(part) for part in X.chunk(k)}) == 1  # equal sizes
for X_part, y_part in zip(X.chunk(k), y.chunk(k), strict=True):
    loss = torch.nn.functional.mse_loss(model(X_part), y_part)
    (loss / k).backward()
print(f"accumulated with loss / {k}: {model.weight.grad}")
gw, gb = closed_form(model, X, y)
torch.testing.assert_close((model.weight.grad, model.bias.grad), (gw, gb))

# %%
# Without the division the accumulated gradient is :math:`k` times too large,
# a learning rate :math:`k` times too large for plain SGD.
model.zero_grad(set_to_none=True)
for X_part, y_part in zip(X.chunk(k), y.chunk(k), strict=True):
    torch.nn.functional.mse_loss(model(X_part), y_part).backward()
print(f"accumulated without dividing: {model.weight.grad}")
torch.testing.assert_close(model.weight.grad, k * gw)

# %%
# ``model.eval()`` is not ``torch.no_grad()``
# -------------------------------------------
# ``eval()`` switches layers such as dropout and batch normalisation to their
# inference behaviour; autograd still records. ``no_grad()`` stops recording;
# the layers keep their training behaviour.
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5))
net.eval()
out_eval = net(X)
print(f"eval(): output has grad_fn {type(out_eval.grad_fn).__name__}")
assert out_eval.requires_grad
net.train()
with torch.no_grad():
    first, second = net(X), net(X)
print(f"no_grad() in train mode: requires_grad {first.requires_grad}, "
      f"dropout masks differ: {not torch.equal(first, second)}")
assert not first.requires_grad and not torch.equal(first, second)

# %%
# In eval mode dropout is the identity, so the gradient is that of the
# linear layer alone: :math:`\frac{\partial}{\partial W}\sum_{ij}
# (XW^{\mathsf T})_{ij} = \mathbf{1}^{\mathsf T} X` for every output row.
net.eval()
(g_W,) = torch.autograd.grad(net(X).sum(), net[0].weight)
print(f"eval-mode gradient, row 0: {g_W[0]}")
torch.testing.assert_close(g_W, X.sum(0).expand(4, 3))

# %%
# A classic trap: validating under ``no_grad()`` but in train mode still
# updates batch-norm running statistics. With momentum 0.1 the running mean
# moves from 0 to :math:`0.1 \bar x`.
bn = torch.nn.BatchNorm1d(3)
with torch.no_grad():
    bn(X)
print(f"running mean after one no_grad call: {bn.running_mean}")
torch.testing.assert_close(
    bn.running_mean, 0.1 * X.mean(0), rtol=1e-5, atol=0.0
)

# %%
# Mixed precision on CPU
# ----------------------
# Under ``torch.autocast("cpu", dtype=torch.bfloat16)`` matrix products run in
# bfloat16; the parameters, and so their gradients, stay float32.
net = torch.nn.Sequential(
    torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)
)
with torch.autocast("cpu", dtype=torch.bfloat16):
    out = net(X)
loss_bf16 = torch.nn.functional.mse_loss(out.float(), y)
loss_bf16.backward()
grads_bf16 = [p.grad.clone() for p in net.parameters()]
print(f"output dtype {out.dtype}; parameter and gradient dtype "
      f"{net[0].weight.dtype}, {net[0].weight.grad.dtype}")
assert out.dtype == torch.bfloat16
assert all(g.dtype == torch.float32 for g in grads_bf16)

# %%
# The bfloat16 gradients are close to the float32 ones, not equal: we check a
# relative error bound per parameter (the exact error depends on the CPU's
# kernels).
net.zero_grad()
torch.nn.functional.mse_loss(net(X), y).backward()
errors = [
    ((g - p.grad).norm() / p.grad.norm()).item()
    for g, p in zip(grads_bf16, net.parameters(), strict=True)
]
print("relative error of bfloat16 gradients: below 0.05 (checked)")
assert max(errors) < 0.05

# %%
# A gradient scaler, and ``unscale_`` before clipping
# ---------------------------------------------------
# :class:`torch.GradScaler` multiplies the loss by a scale :math:`s` so that
# small float16 gradients do not underflow; the gradients in ``.grad`` are
# then :math:`s` times too large until ``scaler.unscale_(optimizer)``.
# (bfloat16 has float32's range, so with it scaling is optional.)
print(f"float32 max {torch.finfo(torch.float32).max:.3e}, "
      f"bfloat16 max {torch.finfo(torch.bfloat16).max:.3e}")
assert torch.finfo(torch.bfloat16).max > 0.99 * torch.finfo(torch.float32).max
opt = torch.optim.SGD(net.parameters(), lr=0.1)
scaler = torch.GradScaler("cpu")
opt.zero_grad()
with torch.autocast("cpu", dtype=torch.bfloat16):
    out = net(X)
scaler.scale(torch.nn.functional.mse_loss(out.float(), y)).backward()
s = scaler.get_scale()
print(f"scale s = {s:.0f}; scaled weight gradient norm / unscaled: "
      f"{(net[0].weight.grad.norm() / grads_bf16[0].norm()).item():.0f}")
torch.testing.assert_close(net[0].weight.grad, s * grads_bf16[0])

# %%
# Clipping must see the true gradients, so ``unscale_`` comes first. After it
# the gradients equal the unscaled bfloat16 ones, and
# ``clip_grad_norm_`` brings their total norm down to ``max_norm``.
scaler.unscale_(opt)
torch.testing.assert_close(net[0].weight.grad, grads_bf16[0])
max_norm = 0.1
before = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm)
after = torch.linalg.vector_norm(
    torch.stack([p.grad.norm() for p in net.parameters()])
)
print(f"total gradient norm (above {max_norm}) clipped to {after:.4f}")
assert before > max_norm
true_norm = torch.linalg.vector_norm(
    torch.stack([g.norm() for g in grads_bf16])
)
torch.testing.assert_close(before, true_norm)
torch.testing.assert_close(after, torch.tensor(max_norm), rtol=1e-5, atol=0.0)
scaler.step(opt)
scaler.update()

# %%
# Clipping *before* ``unscale_`` measures the scaled norm, :math:`s` times too
# large, and after unscaling the gradients are :math:`s` times smaller than
# intended: an update a 65536th of its size.
opt.zero_grad()
with torch.autocast("cpu", dtype=torch.bfloat16):
    out = net(X)
scaler.scale(torch.nn.functional.mse_loss(out.float(), y)).backward()
torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm)  # too early
scaler.unscale_(opt)
wrong = torch.linalg.vector_norm(
    torch.stack([p.grad.norm() for p in net.parameters()])
)
print(f"norm after clip-then-unscale: {wrong:.3e} instead of {max_norm}")
expected_wrong = torch.tensor(max_norm / scaler.get_scale())
torch.testing.assert_close(wrong, expected_wrong, rtol=1e-5, atol=0.0)

# %%
# .. _gan-detach-generator:
#
# A GAN's discriminator step: detach the generator's output
# ---------------------------------------------------------
# A generator :math:`G(z) = g z + h` makes fake samples; a discriminator with
# logit :math:`D(s) = a s + c` learns to tell them from real ones. Its loss is
# :math:`L_D = \operatorname{mean}\,\operatorname{softplus}(-D(r)) +
# \operatorname{mean}\,\operatorname{softplus}(D(f))` (binary cross-entropy
# with labels 1 for the real :math:`r`, 0 for the fakes :math:`f`). Its
# step must move :math:`a, c` only. We set the four parameters and the
# samples by hand.
generator = torch.nn.Linear(1, 1)
discriminator = torch.nn.Linear(1, 1)
with torch.no_grad():
    for layer, (slope, offset) in ((generator, (0.5, 0.1)),
                                   (discriminator, (1.0, -0.5))):
        layer.weight.fill_(slope)
        layer.bias.fill_(offset)
noise = torch.tensor([[-1.0], [-0.5], [0.0], [0.5], [1.0], [1.5]])
real = torch.tensor([[1.5], [2.0], [2.5], [1.8], [2.2], [2.0]])
bce = torch.nn.functional.binary_cross_entropy_with_logits


def discriminator_loss(fake):
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    return bce(real_logits, torch.ones_like(real_logits)) + bce(
        fake_logits, torch.zeros_like(fake_logits)
    )


# %%
# With ``generator(noise).detach()`` the fakes are constants for this
# backward: the generator's parameters get no gradient at all, and the
# discriminator's are the closed forms
#
# .. math::
#
#    \frac{\partial L_D}{\partial a} = \operatorname{mean}(-\sigma(-D(r))\,r)
#    + \operatorname{mean}(\sigma(D(f))\,f),
#    \qquad
#    \frac{\partial L_D}{\partial c} = \operatorname{mean}(-\sigma(-D(r)))
#    + \operatorname{mean}(\sigma(D(f))).
generator.zero_grad(set_to_none=True)
discriminator.zero_grad(set_to_none=True)
fake = generator(noise).detach()
discriminator_loss(fake).backward()
print(f"with detach: generator grads {generator.weight.grad}, "
      f"{generator.bias.grad}")
print(f"discriminator dL/da = {discriminator.weight.grad.item():.4f}, "
      f"dL/dc = {discriminator.bias.grad.item():.4f}")
assert generator.weight.grad is None and generator.bias.grad is None
with torch.no_grad():
    d_real, d_fake = discriminator(real), discriminator(fake)
    p_real, p_fake = torch.sigmoid(-d_real), torch.sigmoid(d_fake)
    grad_a = (-p_real * real).mean() + (p_fake * fake).mean()
    grad_c = (-p_real).mean() + p_fake.mean()
torch.testing.assert_close(discriminator.weight.grad, grad_a.reshape(1, 1))
torch.testing.assert_close(discriminator.bias.grad, grad_c.reshape(1))

# %%
# Without ``detach()`` the same backward also runs through the generator and
# fills its ``.grad`` with :math:`\partial L_D/\partial g =
# \operatorname{mean}(\sigma(D(f))\, a z)` and :math:`\partial L_D/\partial
# h = \operatorname{mean}(\sigma(D(f))\, a)`: wasted work, and a gradient
# that the generator's own step would add to, unless it zeroes first. The
# discriminator's gradients are the same either way.
d_grads = (discriminator.weight.grad.clone(), discriminator.bias.grad.clone())
discriminator.zero_grad(set_to_none=True)
discriminator_loss(generator(noise)).backward()
print(f"without detach: generator dL/dg = {generator.weight.grad.item():.4f},"
      f" dL/dh = {generator.bias.grad.item():.4f}")
a_now = discriminator.weight.detach()
torch.testing.assert_close(
    generator.weight.grad, (p_fake * a_now * noise).mean().reshape(1, 1)
)
torch.testing.assert_close(
    generator.bias.grad, (p_fake * a_now).mean().reshape(1)
)
torch.testing.assert_close(
    (discriminator.weight.grad, discriminator.bias.grad), d_grads
)

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: passing frozen parameters to an optimizer
# (issue #7338) and whether weight decay applies to a parameter without a
# gradient (issue #150610). Whether evaluation wants ``model.eval()``,
# ``torch.no_grad()`` or both is the subject of d2l-ai/d2l-en pull request
# #1786 (both: they do different things). The gradient-scaler order
# (unscale, then clip) follows PyTorch's AMP examples.
#
# Conclusion
# ----------
# Freezing stops backward from writing a parameter's ``.grad``; ``AdamW`` skips
# the parameter only while that ``.grad`` is ``None``, so freeze after
# ``zero_grad()`` (or leave frozen parameters out of the optimizer). Accumulate
# the gradients of equal-sized micro-batches with each mean loss divided by the
# number of micro-batches. ``eval()`` changes layers, ``no_grad()`` changes
# recording; evaluation wants both. Under autocast, gradients stay float32;
# with a scaler, ``unscale_`` before you clip or inspect them.
#
# Exercises
# ---------
# 1. Micro-batches of unequal size (3 and 5 samples): with what weight must
#    each micro-batch's mean loss be multiplied so that the accumulated
#    gradient equals the full-batch one?
# 2. Leave ``requires_grad=True`` on the bias but do not give it to the
#    optimizer. Is its gradient computed? Does it change at ``step()``?
# 3. With ``y`` fixed, what is the gradient of the loss with respect to the
#    *input* ``X`` of the linear model? Check it against
#    :math:`\frac{2}{N} r w^{\mathsf T}`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
model.zero_grad(set_to_none=True)
n = X.shape[0]
for X_part, y_part in zip(X.split([3, 5]), y.split([3, 5]), strict=True):
    part_loss = torch.nn.functional.mse_loss(model(X_part), y_part)
    (part_loss * X_part.shape[0] / n).backward()  # weight n_i / N
print(f"accumulated with weights n_i / N: {model.weight.grad}")
gw, gb = closed_form(model, X, y)
torch.testing.assert_close((model.weight.grad, model.bias.grad), (gw, gb))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
model.zero_grad(set_to_none=True)
opt = torch.optim.SGD([model.weight], lr=0.1)
bias_before = model.bias.detach().clone()
torch.nn.functional.mse_loss(model(X), y).backward()
print(f"bias grad computed: {model.bias.grad}")
torch.testing.assert_close(model.bias.grad, closed_form(model, X, y)[1])
opt.step()
assert torch.equal(model.bias.detach(), bias_before)

# %%
# The gradient is computed (time and memory spent) but never used: freezing
# with ``requires_grad_(False)`` saves both.

# %%
# Solution to exercise 3
# ~~~~~~~~~~~~~~~~~~~~~~
Xg = X.clone().requires_grad_()
(g_X,) = torch.autograd.grad(
    torch.nn.functional.mse_loss(model(Xg), y), Xg
)
r = (model(X) - y).detach()
print(f"dL/dX, first row: {g_X[0]}")
expected_X = 2 / X.shape[0] * r.double() @ model.weight.detach().double()
torch.testing.assert_close(g_X.double(), expected_X, rtol=1e-5, atol=0.0)
