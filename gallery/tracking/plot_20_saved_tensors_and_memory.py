r"""
.. _example-saved-tensors:

Memory and saved tensors
========================

To run backward later, each node of the graph keeps the tensors from the
forward pass that its derivative needs. This page shows what a node saves,
the version counter that catches an in-place change to a saved tensor,
:class:`torch.autograd.graph.saved_tensors_hooks` to see or compress what is
saved, and ``torch.utils.checkpoint``, which trades recomputation for memory.

For :math:`y = \sin x`, for instance, the node keeps :math:`x`, because
:math:`\frac{dy}{dx} = \cos x`.

.. reading-path::
   :learn: what a node of the graph saves for backward, how the version counter
      catches an in-place change to a saved tensor, how hooks see or compress
      saved tensors, and how checkpointing trades recomputation for memory
   :after: example-computational-graph, example-no-grad

.. figure-alt:: 1

   Bar chart of the MiB the graph keeps between forward and backward, for the
   plain graph and for checkpointed segments of several sizes, with the
   recomputed segment stacked on top as an estimate.
"""

# %%
# What a node saves
# -----------------
# ``sin`` needs its input for :math:`\cos x`; ``exp`` needs only its output,
# since :math:`\frac{d}{dx}e^x = e^x`. The autograd notes document the
# ``grad_fn._saved_*`` attributes that show them.
import torch

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
s = torch.sin(x)
e = torch.exp(x)
print(f"sin saves its input:  {s.grad_fn._saved_self}")
print(f"exp saves its output: {e.grad_fn._saved_result}")
assert torch.equal(s.grad_fn._saved_self, x)
assert torch.equal(e.grad_fn._saved_result, e)
(g_sin,) = torch.autograd.grad(s.sum(), x)
(g_exp,) = torch.autograd.grad(e.sum(), x)
print(f"d/dx sin x = cos x: {g_sin}\nd/dx exp x = exp x: {g_exp}")
torch.testing.assert_close(g_sin, torch.cos(x.detach()))
torch.testing.assert_close(g_exp, torch.exp(x.detach()))

# %%
# The version counter
# -------------------
# Every tensor counts the in-place operations applied to it. A node records the
# count of each tensor it saves, and backward compares: if :math:`h` changed
# in place after ``sin`` saved it, :math:`\cos h` would use the wrong
# :math:`h`, so backward raises instead.
h = x * 3
y = torch.sin(h)
h.mul_(2)  # sin saved h: this changes what backward would read
try:
    y.sum().backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
    assert "is at version 1; expected version 0" in str(err)
else:
    raise AssertionError("backward through a modified saved tensor must fail")

# %%
# An in-place change is harmless when no node saved :math:`h`: ``exp``
# saved its *output* :math:`y = e^{h}`, and its backward multiplies the
# incoming gradient by that saved :math:`y`, which ``h.add_(1)`` did not
# touch. Backward then gives :math:`\frac{d}{dx} e^{3x} = 3e^{3x}`.
h = x * 3
y = torch.exp(h)
h.add_(1)  # exp saved y, not h: nothing to protect
saved = y.grad_fn._saved_result
torch.testing.assert_close(saved, torch.exp(3 * x.detach()))  # e^(3x), not e^h
(g,) = torch.autograd.grad(y.sum(), x)
print(f"d/dx exp(3x), h modified afterwards: {g}")
torch.testing.assert_close(g, 3 * saved)  # backward read the saved y
torch.testing.assert_close(g, 3 * torch.exp(3 * x.detach()))

# %%
# A leaf that requires grad cannot be changed in place while grad mode is on,
# even when no graph uses it yet (``w`` below is fresh): autograd would record
# the operation, and ``w`` would stop being a leaf, the tensor whose
# ``.grad`` backward fills. On a non-leaf the same operation is simply
# recorded. Update a leaf under ``torch.no_grad()``: nothing is recorded,
# and it stays a leaf.
w = torch.tensor([1.0, 2.0], requires_grad=True)
try:
    w.sub_(0.1)
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError("an in-place change of a leaf must fail")
v = w * 1  # a non-leaf: its in-place change becomes a node of the graph
v.sub_(0.1)
print(f"non-leaf after sub_: grad_fn = {type(v.grad_fn).__name__}")
assert type(v.grad_fn).__name__ == "SubBackward0"
with torch.no_grad():
    w.sub_(0.1)
print(f"updated under no_grad: {w}, still a leaf: {w.is_leaf}")
torch.testing.assert_close(w.detach(), torch.tensor([0.9, 1.9]))
assert w.is_leaf and w.grad_fn is None

# %%
# Seeing what is saved: pack and unpack hooks
# -------------------------------------------
# :class:`~torch.autograd.graph.saved_tensors_hooks` calls ``pack`` on every
# tensor a node saves and ``unpack`` when backward needs it back. Here
# ``pack`` only counts bytes, for a small tanh network of width 256.
torch.manual_seed(0)
width, depth, batch = 256, 8, 1024
layers = [torch.nn.Linear(width, width) for _ in range(depth)]
inputs = torch.randn(batch, width)


def network(h, part=layers):
    for layer in part:
        h = torch.tanh(layer(h))
    return h


saved_bytes = []


def pack_count(t):
    saved_bytes.append(t.nbytes)
    return t


with torch.autograd.graph.saved_tensors_hooks(pack_count, lambda t: t):
    loss = network(inputs).pow(2).mean()
activation = batch * width * 4  # one float32 activation, in bytes
n_act = saved_bytes.count(activation)
n_weight = saved_bytes.count(width * width * 4)
print(f"{len(saved_bytes)} saved tensors, {sum(saved_bytes) / 2**20:.2f} MiB:"
      f" {n_act} activations of 1 MiB, {n_weight} weights of 0.25 MiB")
assert (n_act, n_weight) == (2 * depth + 1, depth - 1)
assert n_act + n_weight == len(saved_bytes)

# %%
# Each layer saves its input (for its weight's gradient) and its ``tanh``
# output (for :math:`1 - \tanh^2`); ``pow`` saves the final output. Each
# weight is saved for the gradient passed down to the layer below, except
# the first: its input needs no gradient. Hooks that return what they got
# change nothing:
grads = torch.autograd.grad(loss, layers[-1].weight)
reference = torch.autograd.grad(
    network(inputs).pow(2).mean(), layers[-1].weight
)
torch.testing.assert_close(grads, reference, rtol=1e-5, atol=0.0)


# %%
# Saving compressed
# -----------------
# ``pack`` may return anything, as long as ``unpack`` rebuilds a tensor.
# Storing float32 tensors as bfloat16 halves the saved bytes; the gradient
# is then approximate (bfloat16 keeps 8 significant bits): we check a bound
# on its relative error against the exact gradient.
def pack_bf16(t):
    return (t.dtype, t.to(torch.bfloat16)) if t.is_floating_point() else t


def unpack_bf16(packed):
    return packed[1].to(packed[0]) if isinstance(packed, tuple) else packed


compressed_bytes = []


def pack_bf16_counted(t):
    packed = pack_bf16(t)
    compressed_bytes.append(packed[1].nbytes)
    return packed


with torch.autograd.graph.saved_tensors_hooks(pack_bf16_counted, unpack_bf16):
    loss_c = network(inputs).pow(2).mean()
(g_c,) = torch.autograd.grad(loss_c, layers[-1].weight)
ratio = sum(compressed_bytes) / sum(saved_bytes)
error = ((g_c - reference[0]).norm() / reference[0].norm()).item()
print(f"saved bytes, bfloat16 / float32: {ratio:.2f}")
print("relative error of the gradient: below 0.02 (checked)")
assert ratio == 0.5 and error < 0.02

# %%
# :class:`torch.autograd.graph.save_on_cpu` is the built-in pair of hooks that
# moves saved tensors from an accelerator to CPU memory. On a CPU-only machine
# it changes nothing, and the gradient is exactly the same.
with torch.autograd.graph.save_on_cpu():
    loss_cpu = network(inputs).pow(2).mean()
(g_cpu,) = torch.autograd.grad(loss_cpu, layers[-1].weight)
print(f"same gradient under save_on_cpu: {torch.equal(g_cpu, reference[0])}")
torch.testing.assert_close(g_cpu, reference[0], rtol=0.0, atol=0.0)

# %%
# Checkpointing: recompute instead of saving
# ------------------------------------------
# ``torch.utils.checkpoint.checkpoint(fn, h)`` runs ``fn`` without saving its
# intermediate tensors, keeps only its input, and runs ``fn`` again during
# backward. Our :math:`n = 8` layers go in segments of :math:`s` layers.
from torch.utils.checkpoint import checkpoint

forward_calls = [0]


def counted(h, part):
    forward_calls[0] += len(part)
    return network(h, part)


def forward(use_checkpoint, segment=4):
    h = inputs
    for i in range(0, depth, segment):
        part = layers[i : i + segment]
        if use_checkpoint:
            h = checkpoint(counted, h, part, use_reentrant=False)
        else:
            h = counted(h, part)
    return h.pow(2).mean()


weights = [layer.weight for layer in layers]
forward_calls[0] = 0
g_plain = torch.autograd.grad(forward(False), weights)
plain_calls = forward_calls[0]
forward_calls[0] = 0
g_ckpt = torch.autograd.grad(forward(True), weights)
print(f"layer forwards: plain {plain_calls}, checkpointed {forward_calls[0]}")
assert plain_calls == depth and forward_calls[0] == 2 * depth
torch.testing.assert_close(g_ckpt, g_plain, rtol=1e-5, atol=0.0)
torch.testing.assert_close(g_plain[-1], reference[0], rtol=1e-5, atol=0.0)

# %%
# The gradients agree; the price is one extra forward pass. What it buys is
# measured by a pack hook that records each distinct storage the graph keeps
# between forward and backward (parameters excluded: they are kept anyway).
parameter_storages = {w.untyped_storage().data_ptr() for w in weights}


def kept_mib(run_forward):
    kept = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in parameter_storages:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run_forward()
    return sum(kept.values()) / 2**20


plain_kept = kept_mib(lambda: forward(False))
print(f"kept for backward, plain: {plain_kept:.1f} MiB "
      f"(the input and the 8 layer outputs)")
assert plain_kept == (depth + 1) * activation / 2**20

# %%
# With segments of :math:`s` layers the graph keeps only the :math:`n/s`
# segment inputs and the final output (measured and checked below). While a
# segment is recomputed during backward, its :math:`s` layer outputs exist
# again: an estimate of :math:`s` activations, not measured here. The sum is
# smallest near :math:`s = \sqrt{n}`, the usual rule of thumb.
segments = [1, 2, 4, 8]
kept = [kept_mib(lambda s=s: forward(True, s)) for s in segments]
for s, mib in zip(segments, kept, strict=True):
    print(f"segments of {s}: kept {mib:.1f} MiB "
          f"(+ about {s} MiB while a segment is recomputed)")
    assert mib == (depth // s + 1) * activation / 2**20

# %%
# Kept memory (measured) against the plain graph, and the estimated extra
# activations of the segment being recomputed (one MiB per layer here).
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
labels = [f"s = {s}" for s in segments]
ax.bar(labels, kept, label="kept between forward and backward")
ax.bar(labels, segments, bottom=kept, label="+ recomputed segment (estimate)")
ax.axhline(plain_kept, color="C3", ls="--", label="plain graph")
ax.set_ylabel("MiB")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# In-place changes through a view, through ``.data``, or inside a custom
# Function: :ref:`example-views-inplace`.

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's issue tracker: "one of the variables needed for gradient
# computation has been modified by an inplace operation" (issue #96265);
# checkpointing that does not seem to lower peak memory (issues #78731 and
# #147449). The answers: the version counter protects *saved* tensors only;
# checkpointing lowers what is kept between forward and backward, by an
# amount that depends on the segment size, and costs one recomputation.
#
# Conclusion
# ----------
# Each node saves what its derivative formula needs, inputs or outputs. An
# in-place change to a saved tensor raises at backward; to an unsaved one it
# is harmless. ``saved_tensors_hooks`` sees, moves or compresses what is
# saved; checkpointing saves less and recomputes it, at the cost of one more
# forward pass.
#
# Exercises
# ---------
# 1. Which of ``sigmoid``, ``relu``, ``tanh`` and ``log`` save their input, and
#    which their output? Look for ``_saved_self`` and ``_saved_result``.
# 2. How many tensors does autograd save for ``(x * w).sin().sum()``? Count
#    them with a pack hook, and check the gradient :math:`w \cos(xw)`.
# 3. Repair the failing code of "The version counter" so that it doubles
#    :math:`h` after ``sin`` and still differentiates :math:`\sin 3x`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
x = torch.tensor([0.5, 2.0], requires_grad=True)
found = {}
for name in ("sigmoid", "relu", "tanh", "log"):
    node = getattr(torch, name)(x).grad_fn
    found[name] = "output" if hasattr(node, "_saved_result") else "input"
    print(f"{name:>7} saves its {found[name]}")
assert found == {
    "sigmoid": "output", "relu": "output", "tanh": "output", "log": "input"
}

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
x = torch.tensor([0.5, 2.0], requires_grad=True)
w = torch.tensor([3.0, -1.0], requires_grad=True)
packed = []
with torch.autograd.graph.saved_tensors_hooks(
    lambda t: packed.append(t) or t, lambda t: t
):
    out = (x * w).sin().sum()
print(f"saved tensors: {len(packed)} (x and w for mul, x * w for sin)")
assert len(packed) == 3
(g_x,) = torch.autograd.grad(out, x)
torch.testing.assert_close(g_x, (w * torch.cos(x * w)).detach())

# %%
# Solution to exercise 3
# ~~~~~~~~~~~~~~~~~~~~~~
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
h = x * 3
y = torch.sin(h)
h = h * 2  # out of place: a new tensor, the saved h is untouched
(g,) = torch.autograd.grad(y.sum(), x)
print(f"d/dx sin(3x): {g}")
torch.testing.assert_close(g, 3 * torch.cos(3 * x.detach()))
