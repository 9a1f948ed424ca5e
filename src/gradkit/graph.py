"""Show the autograd graph behind a tensor, as text or as a matplotlib figure."""

from __future__ import annotations

import sys
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


def _walk(node: Any, depth: int, seen: set[int], out: list[tuple[int, str, bool]]) -> None:
    """Append ``(depth, label, repeated)`` for ``node`` and, on first visit, its inputs."""
    repeated = node is not None and id(node) in seen
    out.append((depth, _label(node), repeated))
    if node is None or repeated:
        return
    seen.add(id(node))
    for child, _ in node.next_functions:
        _walk(child, depth + 1, seen, out)


def _nodes(fname: str, t: object) -> list[tuple[int, str, bool]]:
    """Return the graph of ``t`` as a depth-first list of ``(depth, label, repeated)``."""
    root = _root(fname, t)
    if root is None:
        return [(0, f"leaf {tuple(t.shape)}, requires_grad=True (no grad_fn)", False)]  # type: ignore[union-attr]
    out: list[tuple[int, str, bool]] = []
    _walk(root, 0, set(), out)
    return out


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
    nodes = _nodes("print_graph", t)
    # equivalent mutant: passing file=None on (print writes None to sys.stdout).
    file = sys.stdout if file is None else file
    # Whether each depth still has a sibling coming, to draw the vertical bars.
    for i, (depth, label, repeated) in enumerate(nodes):
        prefix = ""
        for level in range(1, depth + 1):
            more = _has_next_sibling(nodes, i, level)
            if level == depth:
                prefix += "├── " if more else "└── "
            else:
                prefix += "│   " if more else "    "
        print(prefix + label + (" (shown above)" if repeated else ""), file=file)


def _has_next_sibling(nodes: list[tuple[int, str, bool]], i: int, level: int) -> bool:
    """Return True if a later node sits at ``level`` before the tree climbs above it."""
    for depth, _, _ in nodes[i + 1 :]:
        if depth < level:
            return False
        if depth == level:
            return True
    return False


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
    TypeError
        If ``t`` is not a tensor.
    ValueError
        If ``t`` has no graph.

    Notes
    -----
    The layout is the tree of :func:`print_graph`: a node reached twice is drawn twice,
    the second time in grey.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import torch
    >>> from gradkit import plot_graph
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> ax = plot_graph((x * x).sum())
    >>> [text.get_text() for text in ax.texts]
    ['SumBackward0', 'MulBackward0', 'AccumulateGrad\\n(2,)', 'AccumulateGrad\\n(2,)']
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    nodes = _nodes("plot_graph", t)
    if ax is None:
        width = max(4.0, 1.8 * sum(1 for i in range(len(nodes)) if _is_leaf(nodes, i)))
        height = 1.2 * (1 + max(d for d, _, _ in nodes))
        _, ax = plt.subplots(figsize=(width, max(2.0, height)))
    # equivalent mutant: other start values (the loop below sets every entry).
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * len(nodes)
    next_x = 0.0
    # Post-order: leaves take consecutive x slots, parents sit over their children.
    for i in reversed(range(len(nodes))):
        depth = nodes[i][0]
        # equivalent mutant: kids = None (this pass only sets y; x is reset below).
        kids = _children(nodes, i)
        if kids:
            # equivalent mutants: of the x formula (x is reset below for every node).
            pos[i] = (sum(pos[k][0] for k in kids) / len(kids), -depth)
        else:
            # equivalent mutant: an x other than 0.0 (x is reset below for every node).
            pos[i] = (0.0, -depth)
    for i in range(len(nodes)):
        if _is_leaf(nodes, i):
            pos[i] = (next_x, pos[i][1])
            next_x += 1.0
    for i in reversed(range(len(nodes))):
        kids = _children(nodes, i)
        if kids:
            pos[i] = (sum(pos[k][0] for k in kids) / len(kids), pos[i][1])
    for i, (_, label, repeated) in enumerate(nodes):
        for k in _children(nodes, i):
            ax.add_patch(FancyArrowPatch(pos[i], pos[k], arrowstyle="->", color="0.4",
                                         mutation_scale=10, shrinkA=12, shrinkB=12))
        short = _short_label(label)
        ax.text(*pos[i], short, ha="center", va="center", fontsize=8,
                # equivalent mutant: "BLACK" (matplotlib colour names ignore case).
                color="0.5" if repeated else "black",
                # equivalent mutants: "ROUND", "#E8F0FE", "WHITE" (style and colours ignore case).
                bbox={"boxstyle": "round", "fc": "#e8f0fe" if "Accumulate" in label else "white",
                      "ec": "0.3"})
    ax.set_xlim(-0.7, max(next_x - 0.3, 0.7))
    ax.set_ylim(-max(d for d, _, _ in nodes) - 0.6, 0.6)
    ax.set_axis_off()
    return ax


def _short_label(label: str) -> str:
    """Return the two-line box text for a node label."""
    if label.startswith("AccumulateGrad"):
        return "AccumulateGrad\n" + label.split(" -> leaf ")[1].split(", requires_grad")[0]
    # equivalent mutant: split() (node type names have no spaces).
    return label.split(" (")[0]


def _children(nodes: list[tuple[int, str, bool]], i: int) -> list[int]:
    """Return indices of the direct children of node ``i`` in the depth-first list."""
    depth = nodes[i][0]
    kids = []
    for j in range(i + 1, len(nodes)):
        if nodes[j][0] <= depth:
            break
        if nodes[j][0] == depth + 1:
            kids.append(j)
    return kids


def _is_leaf(nodes: list[tuple[int, str, bool]], i: int) -> bool:
    """Return True if node ``i`` has no children."""
    return not _children(nodes, i)
