"""Tests for gradkit.graph: print_graph and plot_graph."""

from __future__ import annotations

import importlib.util
import io

import pytest
import torch

from gradkit import plot_graph, print_graph

# matplotlib is optional (gradkit[plot]): the plotting tests need it, the others do not.
HAS_MPL = importlib.util.find_spec("matplotlib") is not None
needs_mpl = pytest.mark.skipif(not HAS_MPL, reason="plot_graph needs matplotlib (gradkit[plot])")
if HAS_MPL:
    import matplotlib

    matplotlib.use("Agg")


def _render(t: torch.Tensor) -> str:
    """Return print_graph's output as a string."""
    buf = io.StringIO()
    print_graph(t, file=buf)
    return buf.getvalue()



def _arrow_ends(ax, arrow):
    """The positions of the two boxes an arrow joins (its gid names them: node-i->node-k)."""
    where = {t.get_gid(): tuple(map(float, t.get_position())) for t in ax.texts}
    start, end = arrow.get_gid().split("->")
    return (where[start], where[end])


def test_print_graph_small_network():
    """print_graph shows grad_fn nodes, leaves with shapes, and inputs without grad."""
    lin = torch.nn.Linear(2, 1)
    x = torch.ones(3, 2)
    text = _render(lin(x).sum())
    assert text.splitlines()[0] == "SumBackward0"
    assert "AddmmBackward0" in text
    assert "AccumulateGrad -> leaf (1,), requires_grad=True" in text
    assert "AccumulateGrad -> leaf (1, 2), requires_grad=True" in text
    assert "None (input does not require grad)" in text


def test_print_graph_shared_node_shown_once():
    """A node reached twice is expanded once and marked the second time."""
    x = torch.ones(2, requires_grad=True)
    h = torch.sin(x)
    text = _render(h * h)
    assert text.count("SinBackward0") == 2 and text.count("(shown above)") == 1


def test_print_graph_leaf_tensor():
    """A leaf that requires grad prints one line."""
    assert _render(torch.ones(2, 3, requires_grad=True)).strip() == (
        "leaf (2, 3), requires_grad=True (no grad_fn)"
    )


@pytest.mark.parametrize("fn", [print_graph, plot_graph])
def test_graph_errors(fn):
    """Tensors without graph and non-tensors are rejected with the function's name."""
    name = fn.__name__
    with pytest.raises(ValueError) as info:
        fn(torch.ones(2))
    assert str(info.value) == (
        f"{name}: `t` has no autograd graph (requires_grad=False). Compute it from tensors "
        "created with `requires_grad=True`, outside `torch.no_grad()`."
    )
    with pytest.raises(TypeError, match=rf"^{name}: `t` must be a torch.Tensor, got list"):
        fn([1.0])


@needs_mpl
def test_plot_graph_returns_axes_with_nodes():
    """plot_graph draws one box per node and one arrow per edge into the given axes."""
    import matplotlib.pyplot as plt

    x = torch.ones(2, requires_grad=True)
    fig, ax = plt.subplots()
    out = plot_graph(torch.exp(x * 2).sum(), ax=ax)
    assert out is ax
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["SumBackward0", "ExpBackward0", "MulBackward0", "AccumulateGrad\n(2,)",
                      "None"]
    assert len(ax.patches) == 4
    plt.close(fig)


def test_print_graph_deep_tree_indentation():
    """print_graph draws the bars of every open level, so depth-3 lines keep their indentation."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert _render((x * x + 2 * x).sum()).splitlines() == [
        "SumBackward0",
        "└── AddBackward0",
        "    ├── MulBackward0",
        "    │   ├── AccumulateGrad -> leaf (2,), requires_grad=True",
        "    │   └── AccumulateGrad -> leaf (2,), requires_grad=True (shown above)",
        "    └── MulBackward0",
        "        ├── AccumulateGrad -> leaf (2,), requires_grad=True (shown above)",
        "        └── None (input does not require grad)",
    ]


def test_print_graph_default_file_is_stdout(capsys):
    """Without file, print_graph writes to sys.stdout."""
    print_graph(torch.ones(2, requires_grad=True))
    assert capsys.readouterr().out == "leaf (2,), requires_grad=True (no grad_fn)\n"


_LEAF, _OP, _EDGE = "#e8f0fe", "#ffffff", "#4c4c4c"
# text, (x, y), colour, box fill: each node once, one row per step from the output; nodes
# without inputs take consecutive x slots, the others sit at the mean x of their inputs.
BOXES = [
    ("SumBackward0", (0.25, 0.0), "#000000", _OP),
    ("AddBackward0", (0.25, -1.0), "#000000", _OP),
    ("MulBackward0", (0.0, -2.0), "#000000", _OP),
    ("MulBackward0", (0.5, -2.0), "#000000", _OP),
    ("AccumulateGrad\n(2,)", (0.0, -3.0), "#000000", _LEAF),
    ("None", (1.0, -3.0), "#000000", _OP),
]
ARROWS = [((0.25, 0.0), (0.25, -1.0)), ((0.25, -1.0), (0.0, -2.0)), ((0.25, -1.0), (0.5, -2.0)),
          ((0.0, -2.0), (0.0, -3.0)), ((0.5, -2.0), (0.0, -3.0)), ((0.5, -2.0), (1.0, -3.0))]


@needs_mpl
def test_plot_graph_layout_and_style():
    """plot_graph puts every box and arrow of a branching graph where the tree layout says."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    fig, ax = plt.subplots()
    plot_graph((x * x + 2 * x).sum(), ax=ax)
    boxes = [(t.get_text(), tuple(map(float, t.get_position())), to_hex(t.get_color()),
              to_hex(t.get_bbox_patch().get_facecolor())) for t in ax.texts]
    assert boxes == BOXES
    for t in ax.texts:
        box = t.get_bbox_patch()
        assert (t.get_fontsize(), t.get_ha(), t.get_va()) == (8.0, "center", "center")
        assert to_hex(box.get_edgecolor()) == _EDGE
        assert type(box.get_boxstyle()).__name__ == "Round"
    arrows = [_arrow_ends(ax, a) for a in ax.patches]
    assert arrows == ARROWS
    for a in ax.patches:
        assert type(a.get_arrowstyle()).__name__ == "CurveB"  # "->"
        assert (to_hex(a.get_edgecolor()), a.get_mutation_scale(), a.shrinkA, a.shrinkB) == (
            "#666666", 10, 12, 12)
    assert ax.get_xlim() == pytest.approx((-0.7, 1.7))
    assert ax.get_ylim() == pytest.approx((-3.6, 0.6))
    assert not ax.axison
    plt.close(fig)


@needs_mpl
@pytest.mark.parametrize(("make", "size", "xlim"), [
    (lambda x: (x * x + 2 * x).sum(), (4.0, 4.8), (-0.7, 1.7)),  # 2 leaves (min 4), 4 rows x 1.2
    (lambda x: x, (4.0, 2.0), (-0.7, 0.7)),  # a lone leaf: the minimum sizes
    # 4 boxes without inputs (the shared leaf, 3 constants): 1.8 in each; 4 rows
    (lambda x: torch.stack([x, 2 * x, 3 * x, 4 * x]).sum(), (7.2, 4.8), (-0.7, 3.7)),
], ids=["four-leaves", "lone-leaf", "four-inputs"])
def test_plot_graph_new_figure_size(make, size, xlim):
    """Without ax, plot_graph makes a figure sized to the inputs and depth, with minimums."""
    import matplotlib.pyplot as plt

    ax = plot_graph(make(torch.tensor([1.0, 2.0], requires_grad=True)))
    assert tuple(ax.figure.get_size_inches()) == pytest.approx(size)
    assert ax.get_xlim() == pytest.approx(xlim)
    plt.close(ax.figure)


def test_print_graph_deep_graph_without_recursion_error():
    """A graph 3000 nodes deep (an unrolled recurrence) prints without RecursionError."""
    x = torch.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    lines = _render(y).splitlines()
    # every product has two inputs: the previous product (or the leaf) and a constant (None)
    assert len(lines) == 2 * 3000 + 1
    (leaf,) = [line for line in lines if "AccumulateGrad" in line]
    assert leaf == "│   " * 2999 + "├── AccumulateGrad -> leaf (1,), requires_grad=True"
    assert lines[-1] == "└── None (input does not require grad)"


@needs_mpl
def test_plot_graph_draws_a_shared_leaf_once():
    """A leaf used by three operations is one box with one arrow from each user."""
    import matplotlib.pyplot as plt

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    ax = plot_graph((x.sin() + x.cos() + x.exp()).sum())
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("AccumulateGrad\n(2,)") == 1
    assert len(texts) == len(set(map(id, ax.texts)))
    leaf = next(t for t in ax.texts if t.get_text().startswith("AccumulateGrad"))
    into_leaf = [a for a in ax.patches
                 if _arrow_ends(ax, a)[1] == tuple(map(float, leaf.get_position()))]
    assert len(into_leaf) == 3
    plt.close(ax.figure)


def test_plot_graph_without_matplotlib_says_how_to_install(monkeypatch):
    """Without matplotlib, plot_graph names the gradkit[plot] extra."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(ModuleNotFoundError) as info:
        plot_graph(x.sum())
    assert str(info.value) == (
        "plot_graph: needs matplotlib, which is not installed. Install it with "
        "`pip install 'gradkit[plot]'` (or `pip install matplotlib`), or use `print_graph` "
        "for a text view."
    )


@needs_mpl
def test_plot_graph_boxes_stay_readable_under_a_dark_style():
    """The boxes are white or light blue whatever the style, so their text is black even
    where the style's text colour is white."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with plt.style.context("dark_background"):
        ax = plot_graph((x * x).sum())
    assert {to_hex(t.get_color()) for t in ax.texts} == {"#000000"}
    plt.close(ax.figure)


@needs_mpl
def test_plot_graph_rows_follow_the_longest_path():
    """h = x * x feeds both the sum and sin(h): h sits one row below sin (its longest path
    from the output), and x below h; the four boxes without inputs of a stack take the slots
    0 to 3 from the left."""
    import matplotlib.pyplot as plt

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    for y in (h + h.sin(), h.sin() + h):  # either order of the sum's inputs
        ax = plot_graph(y.sum())
        rows = {t.get_text(): float(t.get_position()[1]) for t in ax.texts}
        assert rows == {"SumBackward0": 0.0, "AddBackward0": -1.0, "SinBackward0": -2.0,
                        "MulBackward0": -3.0, "AccumulateGrad\n(2,)": -4.0}
        plt.close(ax.figure)
    ax = plot_graph(torch.stack([x, 2 * x, 3 * x, 4 * x]).sum())
    bottom = sorted(float(t.get_position()[0]) for t in ax.texts
                    if t.get_text() in ("None", "AccumulateGrad\n(2,)"))
    assert bottom == [0.0, 1.0, 2.0, 3.0]
    plt.close(ax.figure)


@needs_mpl
def test_plot_graph_draws_a_shared_node_and_its_constant_once():
    """h = x * c (c needs no grad) feeds sin and cos: h, its leaf and its None input are one
    box each (a repeated node's inputs are not listed again)."""
    import matplotlib.pyplot as plt

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * torch.tensor([3.0, 4.0])
    ax = plot_graph((h.sin() + h.cos()).sum())
    assert sorted(t.get_text() for t in ax.texts) == sorted([
        "SumBackward0", "AddBackward0", "SinBackward0", "CosBackward0", "MulBackward0",
        "AccumulateGrad\n(2,)", "None"])
    plt.close(ax.figure)
