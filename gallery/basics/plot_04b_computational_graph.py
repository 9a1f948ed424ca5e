r"""
.. _example-computational-graph:

The graph autograd records
==========================

Every differentiable operation that runs in grad mode on a tensor that requires
grad adds a node to a graph (comparisons, argmax, integer casts and detach add
none), and ``backward()`` walks that graph from the output back to the leaves.
For a function that uses its input twice we list the nodes, draw the graph with
each node once, and watch the two paths from the output to the input meet at
one node, where their gradients are added.

The function is :math:`y = \sum_i x_i \sin x_i`, and the two paths give
:math:`\frac{\partial y}{\partial x_i} = \sin x_i + x_i \cos x_i`.

.. reading-path::
   :learn: what graph autograd records while a function runs, how to list and
      draw its nodes, and how gradients are added where two paths meet
   :after: example-leaf-tensors
"""

# %%
# .. _graph-grad-fn:
#
# ``grad_fn`` and ``next_functions``
# ----------------------------------
# Each recorded operation stores its backward function, a *node*, in the
# result's ``grad_fn``. A node's ``next_functions`` holds one pair per tensor
# input of the operation (a Python number counts too, as shown below): the node
# that produced that input, which receives the gradient next, and the index of
# that node's output the input was (0 for a node with one output).
import torch

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
s = torch.sin(x)
p = x * s
y = p.sum()
print(f"y.grad_fn: {y.grad_fn.name()}")
print(f"p.grad_fn: {p.grad_fn.name()}, s.grad_fn: {s.grad_fn.name()}")
inputs_of_mul = [type(f).__name__ for f, _ in p.grad_fn.next_functions]
print(f"next_functions of the product: {inputs_of_mul}")
assert y.grad_fn.next_functions[0][0] is p.grad_fn
assert inputs_of_mul == ["AccumulateGrad", "SinBackward0"]
assert [i for _, i in p.grad_fn.next_functions] == [0, 0]  # one output each

# %%
# The index matters for a node with several outputs: ``split`` returns two
# tensors from one node, and a product of the two halves points at that node
# twice, at output 1 and at output 0.
first, second = x.split([1, 2])
halves = (second * first).grad_fn.next_functions
print(f"next_functions of second * first: "
      f"{[(type(f).__name__, i) for f, i in halves]}")
assert halves[0][0] is halves[1][0] is second.grad_fn
assert [i for _, i in halves] == [1, 0]

# %%
# An input that does not require grad has no node: its slot in
# ``next_functions`` is ``None``. A Python number, the 3 in ``x * 3``, is
# wrapped into such a tensor input: it gets a pair of its own, with ``None``.
c = torch.tensor(2.0)
slots = (x * c).grad_fn.next_functions
names = [type(f).__name__ if f else None for f, _ in slots]
print(f"next_functions of x * c: {names}")
assert slots[1][0] is None
number_slots = (x * 3).grad_fn.next_functions
number_names = [type(f).__name__ if f else None for f, _ in number_slots]
print(f"next_functions of x * 3: {number_names}")
assert len(number_slots) == 2 and number_slots[1][0] is None

# %%
# Only differentiable operations in grad mode add nodes. A comparison,
# ``argmax``, an integer cast and ``detach()`` return results with no
# ``grad_fn`` that do not require grad, and so does a differentiable
# operation under ``torch.no_grad()``.
with torch.no_grad():
    under_no_grad = x * 2
untracked = {
    "x > 1": x > 1,
    "x.argmax()": x.argmax(),
    "x.long()": x.long(),
    "x.detach()": x.detach(),
    "x * 2 under no_grad": under_no_grad,
}
print({name: t.grad_fn for name, t in untracked.items()})
assert all(
    t.grad_fn is None and not t.requires_grad for t in untracked.values()
)

# %%
# Each node once
# --------------
# Following ``next_functions`` from ``y.grad_fn`` reaches every node. ``x``
# is used twice, by ``sin`` and by the product, so two edges lead to its node;
# the walk records each node the first time it meets it, and every edge.


def graph_of(root):
    """Return the nodes reachable from ``root`` (each once) and the edges."""
    nodes, edges, stack = [root], [], [root]
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            edges.append((node, child))
            if child not in nodes:
                nodes.append(child)
                stack.append(child)
    return nodes, edges


nodes, edges = graph_of(y.grad_fn)
print(f"{len(nodes)} nodes: {[type(n).__name__ for n in nodes]}")
print(f"{len(edges)} edges")
assert len(nodes) == 4 and len(edges) == 4

# %%
# .. _accumulate-grad:
#
# The leaf's node: ``AccumulateGrad``
# -----------------------------------
# A leaf that requires grad has no ``grad_fn``; the graph ends at an
# ``AccumulateGrad`` node that holds the leaf in its ``variable`` attribute.
# It is the node that writes, or adds, the gradient into ``x.grad``. There is
# one for ``x``, although two operations used ``x``.
accumulate = [n for n in nodes if type(n).__name__ == "AccumulateGrad"]
print(
    f"AccumulateGrad nodes: {len(accumulate)}, holds x: "
    f"{accumulate[0].variable is x}"
)
print(f"edges into it: {sum(child is accumulate[0] for _, child in edges)}")
assert len(accumulate) == 1 and accumulate[0].variable is x
assert x.grad_fn is None and x.is_leaf

# %%
# The graph, drawn
# ----------------
# Each node sits one row below the lowest node that feeds it gradient, so
# ``AccumulateGrad`` comes last. Arrows point the way gradients flow, from
# :math:`y` down to :math:`x`. We check that the figure has one box per node
# and one arrow per edge.
import matplotlib.pyplot as plt

depth = {nodes[0]: 0}
for _ in nodes:  # longest path from the root; the graph has no cycle
    for parent, child in edges:
        depth[child] = max(depth.get(child, 0), depth[parent] + 1)
rows = {}
for node in nodes:
    rows.setdefault(depth[node], []).append(node)
position = {
    node: (k - (len(row) - 1) / 2, -d)
    for d, row in rows.items()
    for k, node in enumerate(row)
}
fig, ax = plt.subplots(figsize=(5, 4))
boxes = {}
for node, (px, py) in position.items():
    label = type(node).__name__
    if label == "AccumulateGrad":
        label += f"\n(x.grad, shape {tuple(node.variable.shape)})"
    boxes[node] = ax.text(
        px,
        py,
        label,
        ha="center",
        va="center",
        fontsize=9,
        bbox={"boxstyle": "round", "fc": "C0", "alpha": 0.3},
    )


def skip(parent, child):
    """Curvature of an edge: 0 between neighbouring rows, else a bend."""
    return 0.0 if depth[child] - depth[parent] == 1 else 0.6


arrows = [
    ax.annotate(
        "",
        xy=position[child],
        xytext=position[parent],
        arrowprops={
            "arrowstyle": "-|>",
            "color": "0.3",
            "shrinkA": 12,
            "shrinkB": 12,
            # an edge that skips a row bends around the boxes between
            "connectionstyle": f"arc3,rad={skip(parent, child)}",
        },
    )
    for parent, child in edges
]
ax.set_xlim(-1.5, 1.5)
ax.set_ylim(-max(depth.values()) - 0.5, 0.5)
ax.set_axis_off()
ax.set_title("Graph of y = sum(x * sin(x)): one box per node")
fig.tight_layout()
# count what the axes hold: boxed labels are nodes, the other texts arrows
drawn_boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]
drawn_arrows = [t for t in ax.texts if t.get_bbox_patch() is None]
print(f"drawn: {len(drawn_boxes)} boxes, {len(drawn_arrows)} arrows")
assert len(drawn_boxes) == len(nodes) and len(drawn_arrows) == len(edges)
assert len({t.get_text() for t in drawn_boxes}) == len(nodes)  # each once

# %%
# Two paths, one sum
# ------------------
# The product sends :math:`\sin x_i` to ``x`` directly, and
# :math:`x_i` to ``sin``, whose node turns it into :math:`x_i \cos x_i`.
# A hook on a node (:meth:`torch.autograd.graph.Node.register_hook`) sees the
# gradients the node sends to its inputs; a hook on ``x`` sees what arrives
# there. It fires once, with the sum of both paths.
sent = {}
p.grad_fn.register_hook(lambda to_inputs, _: sent.update(mul=to_inputs))
s.grad_fn.register_hook(lambda to_inputs, _: sent.update(sin=to_inputs))
arrived = []
x.register_hook(lambda grad: arrived.append(grad.clone()))
y.backward()
xd = x.detach()
print(f"product -> x:   {sent['mul'][0]}  (sin x)")
print(f"sin -> x:       {sent['sin'][0]}  (x cos x)")
print(f"arrived at x:   {arrived}")
print(f"x.grad:         {x.grad}")
torch.testing.assert_close(sent["mul"][0], torch.sin(xd))
torch.testing.assert_close(sent["sin"][0], xd * torch.cos(xd))
assert len(arrived) == 1
torch.testing.assert_close(x.grad, torch.sin(xd) + xd * torch.cos(xd))

# %%
# Conclusion
# ----------
# The forward pass records one node per operation in ``grad_fn``, linked by
# ``next_functions``; inputs that do not require grad get no node. A leaf
# that requires grad ends the graph at a single ``AccumulateGrad`` node, and
# when a tensor feeds several operations, the gradients of all its paths are
# added there before ``.grad`` is written. :ref:`How autograd works
# <how-autograd-works>` continues with the backward pass as a chain of
# vector-Jacobian products.

# %%
# Exercises
# ---------
# 1. List the nodes of the graph of :math:`\sum_i (x_i^2 + x_i)` with
#    ``graph_of``. How many are there, and how many edges lead to ``x``'s
#    node? Check ``x.grad`` against :math:`2x + 1`.
# 2. In :math:`y = \sum_i x_i x_i` both inputs of the product are ``x``.
#    What does a hook on the product's node see, and what is ``x.grad``?

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
y = (x**2 + x).sum()
nodes, edges = graph_of(y.grad_fn)
names = [type(n).__name__ for n in nodes]
into_x = sum(type(child).__name__ == "AccumulateGrad" for _, child in edges)
print(f"{len(nodes)} nodes {names}; {into_x} edges into x's node")
assert len(nodes) == 4 and into_x == 2
y.backward()
print(f"x.grad = 2x + 1: {x.grad}")
torch.testing.assert_close(x.grad, 2 * x.detach() + 1)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
y = (x * x).sum()
sent = {}
y.grad_fn.next_functions[0][0].register_hook(
    lambda to_inputs, _: sent.update(mul=to_inputs)
)
y.backward()
print(f"the product sends {sent['mul'][0]} and {sent['mul'][1]} to x")
print(f"x.grad = 2x: {x.grad}")
torch.testing.assert_close(sent["mul"][0], x.detach())
torch.testing.assert_close(sent["mul"][1], x.detach())
torch.testing.assert_close(x.grad, 2 * x.detach())
