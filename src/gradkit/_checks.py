"""Input validation shared by the public functions.

Every error message starts with the public function's name, states what was expected and
what was received, and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

_GRAD_HINT = (
    "Create it with `x = x.requires_grad_()` (or `torch.tensor(..., requires_grad=True)`) "
    "before computing `y` from it."
)


def _type_name(obj: object) -> str:
    """Return a short type name for error messages."""
    return type(obj).__name__


def _check_grad_mode(fname: str) -> None:
    """Raise if autograd is switched off, since no derivative can then be built."""
    # Dynamo cannot trace the inference-mode queries (it stops with "Unsupported"), so they
    # are skipped while torch.compile traces; in eager mode they always run.
    if not torch.compiler.is_compiling() and torch.is_inference_mode_enabled():
        raise RuntimeError(
            f"{fname}: called inside `torch.inference_mode()`, where autograd records nothing. "
            "Compute `y` and call this function outside the inference-mode block."
        )
    if not torch.is_grad_enabled():
        raise RuntimeError(
            f"{fname}: called inside `torch.no_grad()` (gradient mode is disabled), so no "
            "derivative can be computed. Call it outside the no-grad block, or wrap the call "
            "in `with torch.enable_grad():`."
        )


def _check_tensor(fname: str, name: str, t: object) -> Tensor:
    """Raise TypeError unless ``t`` is a real floating-point tensor."""
    if not isinstance(t, Tensor):
        raise TypeError(
            f"{fname}: `{name}` must be a torch.Tensor, got {_type_name(t)}. "
            f"Convert it with `torch.as_tensor({name}, dtype=torch.float32)`."
        )
    if not torch.compiler.is_compiling() and t.is_inference():  # see _check_grad_mode
        raise ValueError(
            f"{fname}: `{name}` is an inference tensor (made under `torch.inference_mode()`), "
            "so autograd cannot record operations on it. Make an ordinary copy outside the "
            f"inference-mode block: `{name} = {name}.clone()` (then `.requires_grad_()` for "
            "the points)."
        )
    if t.is_complex() or not t.is_floating_point():
        raise TypeError(
            f"{fname}: `{name}` has dtype {t.dtype}, but only real floating-point dtypes "
            f"(float16, bfloat16, float32, float64) are supported. Convert it with "
            f"`{name}.float()` (or `{name}.double()`)."
        )
    return t


def _check_x(fname: str, x: object, *, ndims: tuple[int, ...] = (1, 2)) -> Tensor:
    """Validate the input points: a floating tensor of allowed rank that requires grad."""
    x = _check_tensor(fname, "x", x)
    if x.ndim not in ndims:
        shapes = " or ".join("(N,)" if n == 1 else "(N, d)" for n in ndims)
        raise ValueError(
            f"{fname}: `x` must have shape {shapes}, got shape {tuple(x.shape)}. "
            "Put one collocation point per row (use `x.reshape(N, -1)`)."
        )
    if not x.requires_grad:
        raise ValueError(f"{fname}: `x` does not require grad. {_GRAD_HINT}")
    return x


def _check_y(
    fname: str,
    y: object,
    x: Tensor,
    *,
    name: str = "y",
    scalar: bool = True,
    allow_unused: bool = False,
) -> Tensor:
    """Validate an output of ``x``: dtype, batch size and, optionally, one value per point."""
    y = _check_tensor(fname, name, y)
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        got = "a 0-d tensor" if y.ndim == 0 else f"{y.shape[0]} rows (shape {tuple(y.shape)})"
        raise ValueError(
            f"{fname}: `{name}` and `x` must have the same number of points (rows): `x` has "
            f"{x.shape[0]} rows, `{name}` has {got}. Compute `{name}` pointwise from `x`, "
            "one row per point; do not reduce over the batch (e.g. with `.sum()`) first."
        )
    if scalar and not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        raise ValueError(
            f"{fname}: `{name}` must be a scalar field, one value per point: shape (N,) or "
            f"(N, 1), got shape {tuple(y.shape)}. Select one component, e.g. "
            f"`{fname}({name}[:, 0], x)`, or use `jacobian`/`divergence` for vector fields."
        )
    if not y.requires_grad and not allow_unused:
        raise ValueError(
            f"{fname}: `{name}` does not require grad, so it was not computed from `x` with "
            "autograd recording (e.g. it was computed under `torch.no_grad()`, or detached). "
            f"{_GRAD_HINT} If `{name}` is constant in `x` (e.g. the gradient of a field "
            "linear in `x`, which autograd returns without a graph), pass "
            "`allow_unused=True` to get zeros."
        )
    return y


def _check_order(fname: str, order: object) -> int:
    """Return ``order`` if it is a positive int, else raise."""
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(
            f"{fname}: `order` must be a positive int, got {order!r} ({_type_name(order)}). "
            "Pass e.g. `order=2` for a second derivative."
        )
    if order < 1:
        raise ValueError(
            f"{fname}: `order` must be a positive int (1, 2, ...), got {order}. "
            "For order 0 use `y` itself."
        )
    return order


def _check_dim(fname: str, dim: object, d: int) -> int:
    """Return ``dim`` normalised to ``0 <= dim < d``, else raise."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(
            f"{fname}: `dim` must be an int column index, got {dim!r} ({_type_name(dim)})."
        )
    if not -d <= dim < d:
        raise ValueError(
            f"{fname}: `dim` is {dim}, out of range for `x` with {d} column(s) "
            f"(valid: 0 to {d - 1}, or -{d} to -1)."
        )
    return dim % d


def _unused_error(fname: str, x: Tensor, name: str = "y") -> ValueError:
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


def _check_dims(fname: str, dims: object, d: int) -> list[int]:
    """Return the input columns ``dims`` (None: all ``d``) as distinct indices ``0 <= i < d``."""
    if dims is None:
        return list(range(d))
    if isinstance(dims, (int, Tensor)) or not isinstance(dims, (list, tuple, range)):
        raise TypeError(
            f"{fname}: `dims` must be a list or tuple of column indices, got {dims!r} "
            f"({_type_name(dims)}). For one column pass e.g. `dims=[0]`."
        )
    out = [_check_dim(fname, i, d) for i in dims]
    if not out:
        raise ValueError(f"{fname}: `dims` is empty; list at least one column of `x`.")
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: `dims` lists a column twice: {list(dims)}.")
    return out


def _call_on_points(fname: str, f: Callable[[Tensor], object], x: Tensor) -> object:
    """Call ``f(x)``; if it fails on points of shape (N,), say how to pass (N, 1) instead."""
    if x.ndim != 1:
        return f(x)
    try:
        return f(x)
    except (RuntimeError, ValueError, IndexError) as e:
        raise ValueError(
            f"{fname}: calling the callable on `x` of shape {tuple(x.shape)}, one value per "
            f"point, failed ({type(e).__name__}: {e}). gradkit passes `x` to the callable as "
            "it is; a network whose first layer is `nn.Linear(1, ...)` expects points of "
            "shape (N, 1): pass `x.unsqueeze(1)`."
        ) from e
