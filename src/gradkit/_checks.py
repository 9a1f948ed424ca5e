"""The boundary: every input of every public operator is validated here, once.

A public operator first checks all its inputs here: :func:`check_inputs` for the field and
its points (it returns them as a :class:`Checked`), and the checks of its own options
(``order``, ``dim``, ``k``, ``v``). Then it computes with one engine, which checks nothing
again: the nested-autograd engine (``_engine``) or, for a callable, the values the forward
(Taylor-mode) engine (``_taylor``) carried. The path of ``x`` through e.g.
``laplacian(y, x)``:

* tensor ``y``: :func:`check_inputs` checks the grad mode, ``x``, ``dims`` and ``y``; the
  operator runs the nested engine on them and returns.
* callable ``y``: :func:`check_inputs` checks ``x`` and ``dims``, runs the callable once in
  the forward engine (its output can only be checked once it exists) and checks the output;
  the operator reads the result from the carried derivatives. Where the forward engine
  cannot run the callable, :func:`check_inputs` warns (raises with ``strict``), calls it
  plainly, refuses it if it couples the points, checks its output as a tensor ``y``, and the
  operator runs the nested engine.

Every error message starts with the public function's name, states what was expected and
what was received, and says how to fix it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ._engine import _ncols
from ._taylor import TaylorModeError, TaylorModeWarning, known_tensors, taylor_second_order
from .coupling import coupling_error, is_coupled

_GRAD_HINT = (
    "Create it with `x = x.requires_grad_()` (or `torch.tensor(..., requires_grad=True)`) "
    "before computing `y` from it."
)

Rule = Callable[[str, Tensor, Tensor, list[int]], None]
"""An operator's own shape rule: ``(fname, y or x, x, cols)``, raising if it is broken."""


@dataclass(frozen=True)
class Forward:
    """How to run a callable in forward (Taylor) mode."""

    create_graph: bool
    strict: bool
    # The directions from the checked points and columns; None: the columns' unit vectors.
    probes: Callable[[Tensor, list[int]], Tensor] | None = None


@dataclass(frozen=True)
class Checked:
    """The inputs of an operator, checked: what an engine receives."""

    y: Tensor  # the field, one row per point (for a callable: its value at x)
    x: Tensor  # the points
    cols: list[int]  # the columns of x the operator acts on
    jet: tuple[Tensor, Tensor] | None = None  # (J, L) when the forward engine ran the callable


def check_inputs(
    fname: str, y: object, x: object, *, name: str = "y", scalar: bool = True,
    ndims: tuple[int, ...] = (1, 2), dims: object = None, allow_unused: bool = False,
    model: Forward | str | None = None, points: Callable[[str, Tensor], None] | None = None,
    shape: Rule | None = None,
) -> Checked:
    """Check a field ``y`` (tensor, or callable when ``model`` is given) and its points ``x``.

    ``model`` says what to do with a callable: a :class:`Forward` runs it in forward mode, a
    string runs it plainly (the string says why, for the coupling error), None refuses it.
    ``points`` and ``shape`` are the operator's own rules for ``x`` and for ``y``.
    """
    is_model = model is not None and not isinstance(y, Tensor) and callable(y)
    if not is_model and not isinstance(y, Tensor):
        _check_tensor(fname, name, y)  # neither a tensor nor callable: say so first
    if not is_model:
        _check_grad_mode(fname)
    x = _check_x(fname, x, ndims=ndims, needs_grad=not is_model)
    if points is not None:
        points(fname, x)
    cols = _check_dims(fname, dims, _ncols(x))
    if is_model:
        assert model is not None and callable(y)
        run = _model(fname, y)
        if isinstance(model, str):
            stopped = model
        else:
            res = _forward(fname, y, run, x, cols, model)
            if not isinstance(res, str):
                out, j, lap = res
                _check_rows(fname, name, out, x)
                if scalar:
                    _check_network_scalar(fname, out)
                if shape is not None:
                    shape(fname, out, x, cols)
                return Checked(out, x, cols, (j, lap))
            stopped = res
        y, x = _call_plainly(fname, run, x, stopped)
    y = _check_y(fname, y, x, name=name, scalar=scalar, allow_unused=allow_unused)
    if shape is not None:
        shape(fname, y, x, cols)
    return Checked(y, x, cols)


# ------------------------------------------------------------------ running a callable
def _model(fname: str, f: Callable[..., object]) -> Callable[[Tensor], Tensor]:
    """Return ``f`` as a call on points that names the fix for (N,) points and checks that
    it returns a tensor."""

    def run(x: Tensor) -> Tensor:
        y = _call_on_points(fname, f, x)
        if not isinstance(y, Tensor):
            raise TypeError(f"{fname}: the callable must return a Tensor, got {_type_name(y)}.")
        return y

    return run


def _forward(
    fname: str, f: object, run: Callable[[Tensor], Tensor], x: Tensor, cols: list[int],
    how: Forward,
) -> tuple[Tensor, Tensor, Tensor] | str:
    """Run the forward (Taylor-mode) engine: ``(f(x), J, L)``; or warn (raise with
    ``strict``) and return why it cannot run."""
    directions = _unit_vectors(x, cols) if how.probes is None else how.probes(x, cols)
    with torch.set_grad_enabled(torch.is_grad_enabled() and how.create_graph):
        res = taylor_second_order(fname, run, known_tensors(f), x, directions)
    if not isinstance(res, str):
        return res
    msg = (
        f"{fname}: the forward (Taylor-mode) path cannot run on this callable: {res}. "
        "gradkit computes the exact result with nested backward passes instead (slower). "
        "Pass `strict=True` to make this an error."
    )
    if how.strict:
        raise TaylorModeError(msg)
    warnings.warn(msg, TaylorModeWarning, stacklevel=4)
    return res


def _unit_vectors(x: Tensor, cols: list[int]) -> Tensor:
    """Return the unit vectors of the columns ``cols``, the same for every point: shape
    (k, 1, d), or (k, 1) for points of shape (N,) (they broadcast over the points)."""
    e = torch.zeros(len(cols), _ncols(x), dtype=x.dtype, device=x.device)
    e[range(len(cols)), cols] = 1
    return e.reshape(len(cols), 1, *x.shape[1:])


def _call_plainly(
    fname: str, run: Callable[[Tensor], Tensor], x: Tensor, stopped: str,
) -> tuple[Tensor, Tensor]:
    """Evaluate the callable on ``x`` (made to require grad) for the nested engine, which
    runs because ``stopped``; refuse a callable that mixes the points."""
    _check_grad_mode(fname)
    if not x.requires_grad:
        x = x.detach().requires_grad_()
    y = run(x)
    if y.ndim > 0 and y.shape[0] == x.shape[0] and y.requires_grad and is_coupled(y, x):
        raise coupling_error(
            fname, "its output at one point changes with the input at other points "
            f"(the forward mode stopped earlier: {stopped})"
        )
    return y, x


def _call_on_points(fname: str, f: Callable[..., object], x: Tensor) -> object:
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


# --------------------------------------------------------------------------- the checks
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


def _check_x(
    fname: str, x: object, *, needs_grad: bool, ndims: tuple[int, ...] = (1, 2),
) -> Tensor:
    """Validate the input points: a floating tensor of allowed rank (that requires grad)."""
    x = _check_tensor(fname, "x", x)
    if x.ndim not in ndims:
        shapes = " or ".join("(N,)" if n == 1 else "(N, d)" for n in ndims)
        raise ValueError(
            f"{fname}: `x` must have shape {shapes}, got shape {tuple(x.shape)}. "
            "Put one collocation point per row (use `x.reshape(N, -1)`)."
        )
    if needs_grad and not x.requires_grad:
        raise ValueError(f"{fname}: `x` does not require grad. {_GRAD_HINT}")
    return x


def _check_rows(fname: str, name: str, y: Tensor, x: Tensor) -> None:
    """Raise unless ``y`` has one row per point of ``x``."""
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        got = "a 0-d tensor" if y.ndim == 0 else f"{y.shape[0]} rows (shape {tuple(y.shape)})"
        raise ValueError(
            f"{fname}: `{name}` and `x` must have the same number of points (rows): `x` has "
            f"{x.shape[0]} rows, `{name}` has {got}. Compute `{name}` pointwise from `x`, "
            "one row per point; do not reduce over the batch (e.g. with `.sum()`) first."
        )


def _check_network_scalar(fname: str, y: Tensor) -> None:
    """Raise unless a callable's output ``y`` is one value per point."""
    if _ncols(y) != 1:
        raise ValueError(
            f"{fname}: `y` must compute a scalar field, one value per point, but "
            f"the network returns {_ncols(y)} values per point. Use a network "
            "with one output, or pass one output column as a tensor: "
            f"`{fname}(net(x)[:, i], x)`."
        )


def _check_y(
    fname: str, y: object, x: Tensor, *, name: str, scalar: bool, allow_unused: bool
) -> Tensor:
    """Validate an output of ``x``: dtype, batch size and, optionally, one value per point."""
    y = _check_tensor(fname, name, y)
    _check_rows(fname, name, y, x)
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


# ------------------------------------------------------- the operators' own shape rules
def line_points(fname: str, x: Tensor) -> None:
    """Raise unless ``x`` is 1-D data, shape (N,) or (N, 1)."""
    if x.ndim == 2 and x.shape[1] != 1:
        raise ValueError(
            f"{fname}: `x` must be one-dimensional, shape (N,) or (N, 1), got shape "
            f"{tuple(x.shape)}. For a column of a multi-column input use "
            "`partial(y, x, dim=i, order=k)`."
        )


def one_per_column(dims: object) -> Rule:
    """The divergence's rule: ``v`` has one component per column in ``dims``."""

    def rule(fname: str, v: Tensor, x: Tensor, cols: list[int]) -> None:
        if x.ndim != 2 or v.shape != (x.shape[0], len(cols)):
            want = f"the shape of `x`, {tuple(x.shape)}" if dims is None else (
                f"shape {(x.shape[0], len(cols))}, one component per column in `dims`")
            raise ValueError(
                f"{fname}: `v` must have {want}, got "
                f"{tuple(v.shape)}. The divergence needs one component per input dimension."
            )

    return rule


def three_d(fname: str, v: Tensor, x: Tensor, cols: list[int]) -> None:
    """The curl's rule: ``x`` and ``v`` of shape (N, 3)."""
    if x.shape[1] != 3 or v.shape != x.shape:
        raise ValueError(
            f"{fname}: the curl is defined for 3-D fields: `x` and `v` must have shape "
            f"(N, 3), got x {tuple(x.shape)} and v {tuple(v.shape)}. In 2-D, compute the "
            "scalar curl `partial(v[:, 1], x, 0) - partial(v[:, 0], x, 1)`."
        )


def coordinate_points(coordinates: str, widths: tuple[int, ...]) -> Callable[[str, Tensor], None]:
    """A coordinate system's rule for ``x``: one column per coordinate, ``widths`` allowed."""

    def rule(fname: str, x: Tensor) -> None:
        if x.shape[1] not in widths:
            want = " or ".join(f"(N, {w})" for w in widths)
            raise ValueError(
                f"{fname}: `x` must hold the coordinates {coordinates}, one column "
                f"each: shape {want}, got {tuple(x.shape)}."
            )

    return rule


def one_per_coordinate(fname: str, v: Tensor, x: Tensor, cols: list[int]) -> None:
    """A coordinate system's rule for vector fields: one component per coordinate."""
    if v.shape != x.shape:
        raise ValueError(
            f"{fname}: `v` must have one component per coordinate, the shape of `x` "
            f"{tuple(x.shape)}, got {tuple(v.shape)}."
        )


def same_shape(fname: str, name: str, v: object, like: Tensor, of: str) -> Tensor:
    """Check a product vector or coefficient ``v`` that must have the shape of ``of``."""
    v = _check_tensor(fname, name, v)
    if v.shape != like.shape:
        raise ValueError(
            f"{fname}: `{name}` must have the shape of `{of}`, {tuple(like.shape)}, got "
            f"{tuple(v.shape)}."
        )
    return v


def tangent(fname: str, x: object, v: object) -> tuple[Tensor, Tensor]:
    """Check the points and the tangent vectors of a forward-mode product with a callable."""
    x = _check_x(fname, x, needs_grad=False)
    return x, same_shape(fname, "v", v, x, "x")


def probe_options(fname: str, samples: object, probes: object) -> None:
    """Check the random probes of a Laplacian estimate: how many, and which distribution."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"{fname}: `samples` must be a positive int, got {samples!r}.")
    if probes not in ("rademacher", "gaussian"):
        raise ValueError(
            f"{fname}: `probes` must be 'rademacher' or 'gaussian', got {probes!r}."
        )


def coefficient(fname: str, k: object, a: Checked) -> Tensor:
    """Check a diffusion coefficient: one value per point, one matrix, or one per point."""
    k = _check_tensor(fname, "k", k)
    n, m = a.x.shape[0], len(a.cols)
    if k.shape not in ((n,), (n, 1), (m, m), (n, m, m)):
        raise ValueError(
            f"{fname}: `k` must have shape (N,), (N, 1), ({m}, {m}) or (N, {m}, {m}) for "
            f"N = {n} points and {m} column(s) in `dims`, got {tuple(k.shape)}."
        )
    return k
