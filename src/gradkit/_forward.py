"""The callable path: run the model once in forward (Taylor) mode, or fall back to it as a
tensor (after checking that it does not mix the points)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from ._checks import _call_on_points, _check_grad_mode, _check_tensor, _check_y, _type_name
from ._engine import _ncols
from ._taylor import TaylorModeError, TaylorModeWarning, taylor_second_order
from .coupling import require_pointwise


def _directions(x: Tensor, dims: list[int]) -> Tensor:
    """Return the unit vectors of the columns ``dims``, the same for every point: shape
    (k, 1, d), or (k, 1) for points of shape (N,) (they broadcast over the points)."""
    e = torch.zeros(len(dims), _ncols(x), dtype=x.dtype, device=x.device)
    e[range(len(dims)), dims] = 1
    return e.reshape(len(dims), 1, *x.shape[1:])


def _forward_or_fallback(
    fname: str,
    f: Callable[[Tensor], Tensor],
    x: Tensor,
    directions: Tensor,
    *,
    create_graph: bool,
    strict: bool,
) -> tuple[Tensor, Tensor, Tensor] | str:
    """Run the forward (Taylor-mode) path: ``(f(x), J, L)``; or warn (raise with ``strict``)
    and return why it cannot run."""
    with torch.set_grad_enabled(torch.is_grad_enabled() and create_graph):
        res = taylor_second_order(fname, f, x, directions)
    if not isinstance(res, str):
        return res
    msg = (
        f"{fname}: the forward (Taylor-mode) path cannot run on this callable: {res}. "
        "gradkit computes the exact result with nested backward passes instead (slower). "
        "Pass `strict=True` to make this an error."
    )
    if strict:
        raise TaylorModeError(msg)
    warnings.warn(msg, TaylorModeWarning, stacklevel=3)
    return res


def _call(
    fname: str, f: Callable[[Tensor], Tensor], x: Tensor, stopped: str
) -> tuple[Tensor, Tensor]:
    """Evaluate ``f`` on ``x`` (made to require grad) for the exact path, after the forward
    mode ``stopped``; refuse a callable that mixes the points (the tracer could not tell)."""
    _check_grad_mode(fname)
    if not x.requires_grad and x.is_floating_point():
        x = x.detach().requires_grad_()
    y = _call_on_points(fname, f, x)
    if not isinstance(y, Tensor):
        raise TypeError(f"{fname}: the callable must return a Tensor, got {_type_name(y)}.")
    if y.ndim > 0 and y.shape[0] == x.shape[0] and y.requires_grad:
        require_pointwise(
            fname, y, x, "its output at one point changes with the input at other points "
            f"(the forward mode stopped earlier: {stopped})"
        )
    return y, x


def _check_points(fname: str, x: object) -> Tensor:
    """Validate ``x`` for a callable: a floating tensor of shape (N,) or (N, d)."""
    x = _check_tensor(fname, "x", x)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"{fname}: `x` must have shape (N,) or (N, d), got shape {tuple(x.shape)}. "
            "Put one collocation point per row (use `x.reshape(N, -1)`)."
        )
    return x


def _scalar_rows(fname: str, y: Tensor, x: Tensor) -> None:
    """Raise unless the callable's output ``y`` is one value per point."""
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        _check_y(fname, y, x)  # raises the row-count error
    if _ncols(y) != 1:
        raise ValueError(
            f"{fname}: `y` must compute a scalar field, one value per point, but "
            f"the network returns {_ncols(y)} values per point. Use a network "
            "with one output, or pass one output column as a tensor: "
            f"`{fname}(net(x)[:, i], x)`."
        )
