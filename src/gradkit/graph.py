"""Show the autograd graph behind a tensor, as text or as a matplotlib figure."""

from __future__ import annotations

from typing import Any, TextIO

from torch import Tensor

from ._checks import _type_name

__all__ = ["plot_graph", "print_graph"]


def _label(node: Any) -> str:
    """Return a one-line description of a graph node."""
    if node is None:
        return "None (input does not require grad)"
    var = getattr(node, "variable", None)
    if var is not None:
        return f"AccumulateGrad -> leaf {tuple(var.shape)}, requires_grad={var.requires_grad}"
    return type(node).__name__


def _root(fname: str, t: object) -> Any:
    """Return the graph root of ``t``, or raise if it has none."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{fname}: `t` must be a torch.Tensor, got {_type_name(t)}.")
    if t.grad_fn is None and not t.requires_grad:
        raise ValueError(
            f"{fname}: `t` has no autograd graph (requires_grad=False). Compute it from "
            "tensors created with `requires_grad=True`, outside `torch.no_grad()`."
        )
    return t.grad_fn


def _tree_lines(root: Any) -> list[str]:
    """Return the lines of the indented tree below ``root``, depth first (no recursion)."""
    lines: list[str] = []
    seen: set[int] = set()
    # (node, text before its label, prefix of its inputs' lines)
    stack: list[tuple[Any, str, str]] = [(root, "", "")]
    while stack:
        node, head, tail = stack.pop()
        repeated = node is not None and id(node) in seen
        lines.append(head + _label(node) + (" (shown above)" if repeated else ""))
        if node is None or repeated:
            continue
        seen.add(id(node))
        kids = [child for child, _ in node.next_functions]
        for k in reversed(range(len(kids))):
            last = k == len(kids) - 1
            stack.append(
                (kids[k], tail + ("└── " if last else "├── "), tail + ("    " if last else "│   "))
            )
    return lines


def print_graph(t: Tensor, *, file: TextIO | None = None) -> None:
    """Print the autograd graph behind ``t`` as an indented tree.

    Parameters
    ----------
    t : Tensor
        Any tensor with a graph (``t.requires_grad`` is True).
    file : file-like, optional
        Where to print; default ``sys.stdout``.

    Raises
    ------
    TypeError
        If ``t`` is not a tensor.
    ValueError
        If ``t`` has no graph.

    Notes
    -----
    Each line is a ``grad_fn`` node; its children are its ``next_functions``. Leaves show as
    ``AccumulateGrad`` with the leaf tensor's shape; ``None`` marks an input that does not
    require grad. A node reached a second time is marked ``(shown above)`` and not expanded.

    Examples
    --------
    >>> import torch
    >>> from gradkit import print_graph
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> print_graph((x * x + 2 * x).sum())
    SumBackward0
    └── AddBackward0
        ├── MulBackward0
        │   ├── AccumulateGrad -> leaf (2,), requires_grad=True
        │   └── AccumulateGrad -> leaf (2,), requires_grad=True (shown above)
        └── MulBackward0
            ├── AccumulateGrad -> leaf (2,), requires_grad=True (shown above)
            └── None (input does not require grad)
    """
    root = _root("print_graph", t)
    if root is None:
        print(f"leaf {tuple(t.shape)}, requires_grad=True (no grad_fn)", file=file)
        return
    print("\n".join(_tree_lines(root)), file=file)


def plot_graph(t: Tensor, *, ax: Any = None) -> Any:
    """Draw the autograd graph behind ``t`` with matplotlib (no graphviz).

    Parameters
    ----------
    t : Tensor
        Any tensor with a graph.
    ax : matplotlib Axes, optional
        Axes to draw in; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, one text box per node (``ax.figure`` is the figure). The output tensor's
        node is at the top, leaves at the bottom; arrows point along the backward pass.

    Raises
    ------
    TypeError, ValueError
        As :func:`print_graph`.
    ModuleNotFoundError
        If matplotlib is not installed (the message says how to install it).

    Notes
    -----
    Each node is drawn once, one row per step from the output (its longest path), inputs
    below the nodes that use them: a leaf used twice is one box with two arrows into it.
    Needs matplotlib: ``pip install 'gradkit[plot]'``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import torch
    >>> from gradkit import plot_graph
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> ax = plot_graph((x * x).sum())
    >>> [text.get_text() for text in ax.texts]
    ['SumBackward0', 'MulBackward0', 'AccumulateGrad\\n(2,)']
    """
    root = _root("plot_graph", t)
    try:
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            "plot_graph: needs matplotlib, which is not installed. Install it with "
            "`pip install 'gradkit[plot]'` (or `pip install matplotlib`), or use "
            "`print_graph` for a text view."
        ) from e

    labels, kids = _dag(root, t)
    depth, x = _layout(kids)
    n_leaves = sum(1 for k in kids if not k)
    if ax is None:
        width = max(4.0, 1.8 * n_leaves)
        height = 1.2 * (1 + max(depth))
        _, ax = plt.subplots(figsize=(width, max(2.0, height)))
    pos = [(x[i], -float(depth[i])) for i in range(len(labels))]
    for i, label in enumerate(labels):
        for k in dict.fromkeys(kids[i]):  # an input used twice gets one arrow
            arrow = FancyArrowPatch(pos[i], pos[k], arrowstyle="->", color="0.4",
                                    mutation_scale=10, shrinkA=12, shrinkB=12)
            arrow.set_gid(f"node-{i}->node-{k}")  # which nodes it joins, for readers of the axes
            ax.add_patch(arrow)
        leaf = label.startswith("AccumulateGrad")
        box = ax.text(*pos[i], _short_label(label), ha="center", va="center", fontsize=8,
                      color="black",
                      bbox={"boxstyle": "round", "fc": "#e8f0fe" if leaf else "white", "ec": "0.3"},
                      )
        box.set_gid(f"node-{i}")
    ax.set_xlim(-0.7, max(n_leaves - 0.3, 0.7))
    ax.set_ylim(-max(depth) - 0.6, 0.6)
    ax.set_axis_off()
    return ax


def _dag(root: Any, t: Tensor) -> tuple[list[str], list[list[int]]]:
    """Return each distinct node's label and its inputs' indices, in depth-first order.

    A node reached along several paths (a leaf used twice) is listed once; every ``None``
    input (a tensor that does not require grad) is its own node.
    """
    if root is None:
        return [f"AccumulateGrad -> leaf {tuple(t.shape)}, requires_grad=True"], [[]]
    labels: list[str] = []
    kids: list[list[int]] = []
    index: dict[int, int] = {}

    def add(node: Any) -> tuple[int, bool]:
        """Return the node's index and whether it is new (its inputs still to visit)."""
        if node is not None and id(node) in index:
            return index[id(node)], False
        labels.append(_label(node))
        kids.append([])
        if node is not None:
            index[id(node)] = len(labels) - 1
        return len(labels) - 1, node is not None

    first, _ = add(root)
    stack = [(root, first)]
    while stack:
        node, i = stack.pop()
        new = []
        for child, _ in node.next_functions:
            k, fresh = add(child)
            kids[i].append(k)
            if fresh:
                new.append((child, k))
        stack.extend(reversed(new))
    return labels, kids


def _layout(kids: list[list[int]]) -> tuple[list[int], list[float]]:
    """Return each node's row (its longest path from the root) and its x position.

    Nodes without inputs take consecutive x slots in depth-first order; every other node
    sits at the mean x of its inputs. Node 0 is the root; the graph has no cycles.
    """
    n = len(kids)
    # Kahn's algorithm: a node comes after every node that uses it.
    uses = [0] * n
    for ks in kids:
        for c in ks:
            uses[c] += 1
    order, ready = [], [0]
    while ready:
        i = ready.pop()
        order.append(i)
        for c in kids[i]:
            uses[c] -= 1
            if uses[c] == 0:
                ready.append(c)
    depth = [0] * n
    for i in order:
        for c in kids[i]:
            depth[c] = max(depth[c], depth[i] + 1)
    x = [0.0] * n
    slot = 0.0
    for i in range(n):
        if not kids[i]:
            x[i] = slot
            slot += 1.0
    for i in reversed(order):
        if kids[i]:
            x[i] = sum(x[c] for c in kids[i]) / len(kids[i])
    return depth, x


def _short_label(label: str) -> str:
    """Return the two-line box text for a node label."""
    if label.startswith("AccumulateGrad"):
        return "AccumulateGrad\n" + label.split(" -> leaf ")[1].split(", requires_grad")[0]
    return label.split(" (")[0]
