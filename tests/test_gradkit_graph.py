"""Tests for gradkit.graph: print_graph and plot_graph."""

from __future__ import annotations

import io

import matplotlib
import pytest
import torch

from gradkit import plot_graph, print_graph

matplotlib.use("Agg")


def _render(t: torch.Tensor) -> str:
    """Return print_graph's output as a string."""
    buf = io.StringIO()
    print_graph(t, file=buf)
    return buf.getvalue()


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
    with pytest.raises(ValueError, match=rf"^{name}: `t` has no autograd graph"):
        fn(torch.ones(2))
    with pytest.raises(TypeError, match=rf"^{name}: `t` must be a torch.Tensor, got list"):
        fn([1.0])


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
