"""The autograd engine calls shared by the public functions.

``_grad`` is one vector-Jacobian product that turns "no path from ``x``" into a gradkit
error (or zeros); ``_per_column`` is the one loop of backward passes, one per output column,
behind :func:`gradkit.jacobian`, :func:`gradkit.hessian`, :func:`gradkit.divergence` and the
reverse-mode Laplacian.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import _unused_error


def _ncols(t: Tensor) -> int:
    """Return the number of values per point of ``t`` (1 for shape (N,)); works for N = 0."""
    return math.prod(t.shape[1:])


def _rows(t: Tensor) -> Tensor:
    """Return ``t`` as a 2-D (N, values per point) view; works for N = 0."""
    return _like(t, (t.shape[0], _ncols(t)))


def _grad(
    fname: str,
    y: Tensor,
    x: Tensor,
    grad_outputs: Tensor,
    *,
    create_graph: bool,
    allow_unused: bool,
    name: str = "y",
) -> Tensor:
    """Return the vector-Jacobian product; raise (or give zeros) if ``y`` ignores ``x``."""
    if not y.requires_grad:
        # A derivative that came out constant (no graph) cannot depend on x.
        if allow_unused:
            return torch.zeros_like(x)
        raise _unused_error(fname, x, name)
    (g,) = torch.autograd.grad(
        y, x, grad_outputs, retain_graph=True, create_graph=create_graph, allow_unused=True
    )
    if g is None:
        if allow_unused:
            return torch.zeros_like(x)
        raise _unused_error(fname, x, name)
    return g


def _per_column(
    y: Tensor, x: Tensor, columns: list[int], *, create_graph: bool
) -> tuple[list[Tensor], bool]:
    """Return ``d y[:, i] / d x`` as (N, d) rows for each listed column ``i`` of ``y``.

    One backward pass per column. A column that does not depend on ``x`` gives zeros; the
    second value says whether any column did depend on ``x``.
    """
    y2 = _rows(y)
    n, d = x.shape[0], _ncols(x)
    out: list[Tensor] = []
    used = False
    for i in columns:
        yi = y2[:, i]
        r = None
        if yi.requires_grad:
            (r,) = torch.autograd.grad(
                yi, x, torch.ones_like(yi), retain_graph=True, create_graph=create_graph,
                allow_unused=True,
            )
        used = used or r is not None
        out.append(x.new_zeros(n, d) if r is None else _like(r, (n, d)))
    return out, used


def _like(t: Tensor, shape: tuple[int, ...] | torch.Size) -> Tensor:
    """Reshape only when needed, so results keep a readable ``grad_fn``."""
    return t if t.shape == shape else t.reshape(shape)
