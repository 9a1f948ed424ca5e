"""The nested-autograd engine: backward passes over checked inputs.

The public operators hand it values the boundary (``_checks``) has checked; it checks
nothing again. What it alone can find out is whether autograd has a path from ``x`` to the
field, and it reports that as a gradkit error (or zeros, with ``allow_unused``). ``_grad`` is
one vector-Jacobian product; ``_per_column`` the loop of backward passes, one per output
column, behind the Jacobian, Hessian, divergence, curl and the reverse-mode Laplacians.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _ncols(t: Tensor) -> int:
    """Return the number of values per point of ``t`` (1 for shape (N,)); works for N = 0."""
    return math.prod(t.shape[1:])


def _rows(t: Tensor) -> Tensor:
    """Return ``t`` as a 2-D (N, values per point) view; works for N = 0."""
    return _like(t, (t.shape[0], _ncols(t)))


def _like(t: Tensor, shape: tuple[int, ...] | torch.Size) -> Tensor:
    """Reshape only when needed, so results keep a readable ``grad_fn``."""
    return t if t.shape == shape else t.reshape(shape)


def _unused_error(fname: str, x: Tensor, name: str) -> ValueError:
    """Build the error for an output that does not depend on ``x``."""
    # A slice of a tracked tensor (x_full[:, 0]) is the DeepXDE-1580 mistake: it has a
    # grad_fn. A slice of an untracked one (linspace(...).reshape(...).requires_grad_()) is
    # an ordinary leaf.
    if x.grad_fn is not None:
        return ValueError(
            f"{fname}: `{name}` does not depend on `x`. `x` is a slice (view) of another "
            f"tensor: slicing creates a new node after `{name}` was computed, so `{name}` "
            "cannot depend on the slice. Differentiate with respect to the full input and "
            "select the column afterwards, e.g. `gradient(y, x_full)[:, i]`, or use "
            "`partial(y, x_full, dim=i)`."
        )
    return ValueError(
        f"{fname}: `{name}` does not depend on `x` (autograd found no path from `x` to "
        f"`{name}`). Check that `{name}` is computed from this very `x` tensor (not a copy, "
        "a re-created tensor or a slice), or pass `allow_unused=True` to get zeros."
    )


def _grad(
    fname: str, y: Tensor, x: Tensor, grad_outputs: Tensor, *, create_graph: bool,
    allow_unused: bool, name: str = "y",
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
    y: Tensor, x: Tensor, columns: list[int], *, create_graph: bool,
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


def _jacobian(
    fname: str, y: Tensor, x: Tensor, *, create_graph: bool, allow_unused: bool, name: str = "y",
) -> Tensor:
    """Return the (N, m, d) pointwise Jacobian, one backward pass per output column."""
    rows, used = _per_column(y, x, list(range(_ncols(y))), create_graph=create_graph)
    if not used and not allow_unused:
        raise _unused_error(fname, x, name)
    if not rows:
        return x.new_zeros(x.shape[0], 0, _ncols(x))
    return torch.stack(rows, dim=1)


def _second_diag(g: Tensor, x: Tensor, dims: list[int], create_graph: bool) -> tuple[Tensor, bool]:
    """Return d g[:, i] / d x[:, dims[i]] per i, shape (N, len(dims)), and whether any used x."""
    rows, used = _per_column(g, x, list(range(len(dims))), create_graph=create_graph)
    cols = [r[:, c] for r, c in zip(rows, dims, strict=True)]
    return torch.stack(cols, dim=1) if cols else x.new_zeros(x.shape[0], 0), used


def _divergence(
    fname: str, v: Tensor, x: Tensor, cols: list[int], *, create_graph: bool, allow_unused: bool,
    name: str = "v",
) -> Tensor:
    """Return :math:`\\sum_i \\partial v_i / \\partial x_{cols_i}`, one value per point."""
    diag, used = _second_diag(v, x, cols, create_graph)
    if not used and not allow_unused:
        raise _unused_error(fname, x, name)
    return diag.sum(1)


def _curl_of_jacobian(j: Tensor) -> Tensor:
    """Return the curl from the Jacobian ``j[:, i, k] = d v_i / d x_k``, shape (N, 3)."""
    return torch.stack(
        [j[:, 2, 1] - j[:, 1, 2], j[:, 0, 2] - j[:, 2, 0], j[:, 1, 0] - j[:, 0, 1]], dim=1
    )


def _repeated(
    fname: str, y: Tensor, x: Tensor, dim: int, order: int, *, create_graph: bool,
    allow_unused: bool,
) -> Tensor:
    """Differentiate ``order`` times with respect to column ``dim``, one pass each."""
    n, d = x.shape[0], _ncols(x)
    out = y
    for k in range(order):
        g = _grad(
            fname,
            out,
            x,
            torch.ones_like(out),
            create_graph=create_graph or k < order - 1,
            allow_unused=allow_unused or k > 0,
        )
        out = _like(g if d == 1 else _like(g, (n, d))[:, dim], y.shape)
    return out
