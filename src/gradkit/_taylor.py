"""Forward (collapsed Taylor-mode) second derivatives of a callable, by running it.

The callable is run once, for real, on the points, inside a
:class:`torch.overrides.TorchFunctionMode`. The mode sees every torch operation the call
executes, whatever wrote it: a module's own ``forward``, a subclass's ``forward``, forward
hooks and pre-hooks (global ones included), residual connections. Next to each value that
depends on the input it carries

* ``J``: the first directional derivatives along ``k`` directions, shape ``(k, *value.shape)``;
* ``L``: the sum over the directions of the second directional derivatives, shape of value

and pushes them through each operation with that operation's chain rule (Li et al. 2023,
"Forward Laplacian"; Dangel et al. 2025, "Collapsing Taylor mode"). With the unit vectors of
the input columns as directions, ``L`` of the output is the Laplacian.

Nothing is assumed about the callable: an operation without a rule, a tensor of unknown
origin entering an operation (e.g. made by a custom ``autograd.Function`` or a backward hook,
which the mode cannot see into) or an output that does not come from the input stops the
forward mode, and the caller falls back to the exact nested-backward path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from .coupling import coupling_error

__all__ = ["TaylorModeError", "TaylorModeWarning"]


class TaylorModeWarning(UserWarning):
    """The forward (Taylor-mode) path could not run; gradkit used the exact path instead.

    The result is still exact, only slower. The message names the operation that stopped the
    forward mode. Pass ``strict=True`` to get a :class:`TaylorModeError` instead, or silence it
    with ``warnings.filterwarnings("ignore", category=gradkit.TaylorModeWarning)``.
    """


class TaylorModeError(RuntimeError):
    """Raised with ``strict=True`` when the forward (Taylor-mode) path cannot run."""


class _Unsupported(Exception):
    """Internal: stop the forward mode (the reason is the message)."""


class _Coupled(Exception):
    """Internal: a rule found an operation that mixes the points (the message says how)."""


Jet = tuple[Tensor, Tensor]  # (J, L)


def _name(func: Any) -> str:
    """Return the name a reader writes for a torch function: ``torch.cumsum``,
    ``Tensor.cumsum``, ``torch.nn.functional.gelu`` (not torch's internal
    ``_VariableFunctionsClass.cumsum`` or ``TensorBase.cumsum``)."""
    self_ = getattr(func, "__self__", None)
    name = getattr(func, "__name__", None)
    if name == "__get__" and self_ is not None:
        return f"Tensor.{getattr(self_, '__name__', '?')} (attribute)"
    if not isinstance(name, str):
        return repr(func)
    for prefix, namespace in (("torch.", torch), ("torch.nn.functional.", F), ("Tensor.", Tensor)):
        if getattr(namespace, name, None) is func:
            return prefix + name
    return name  # torch's own name, e.g. special_erf for torch.special.erf


def _lift(j: Tensor, ndim: int) -> Tensor:
    """Insert axes after the direction axis so ``j`` broadcasts against ``ndim``-D values."""
    missing = ndim - (j.ndim - 1)
    if missing <= 0:
        return j
    return j.reshape(j.shape[0], *([1] * missing), *j.shape[1:])


def _full(jl: Jet, v: Tensor) -> Jet:
    """Return (J, L) expanded to the value's shape (the input's seeds broadcast over points)."""
    j, lap = jl
    return j.expand(j.shape[0], *v.shape), lap.expand(v.shape)


def _jdim(dim: int) -> int:
    """Return the axis of ``J`` that holds value axis ``dim`` (J has the directions first)."""
    return dim + 1 if dim >= 0 else dim


class _Tracer(TorchFunctionMode):
    """Run a callable and propagate (J, L) next to every value that depends on the input."""

    def __init__(self, fname: str, known: Iterator[Tensor]) -> None:
        super().__init__()
        self.fname = fname
        self.jets: dict[int, tuple[Tensor, Tensor, Tensor]] = {}
        # Tensors that cannot depend on the input: parameters, buffers and tensor attributes
        # of the module (they existed before the call), and anything computed from them only.
        self.const: dict[int, Tensor] = {id(t): t for t in known}
        self.failure: str | None = None

    def seed(self, x: Tensor, j: Tensor) -> None:
        """Mark ``x`` as the input, with first derivatives ``j`` and zero second ones.

        ``j`` may broadcast over the points (shape ``(k, 1, d)``): the rules keep it so while
        they can, which saves the first layer a matrix product per direction.
        """
        self.jets[id(x)] = (x, j, x.new_zeros((1, *x.shape[1:])))

    def shares_memory(self, t: Tensor) -> bool:
        """Return True if ``t`` shares storage with a value that depends on the input.

        Every operation the call runs is seen, so a tensor the mode has not seen either
        existed before the call (a constant: weights kept outside a module, a global) or was
        made where the mode cannot see: by a custom ``autograd.Function`` or a backward hook,
        which hand back views of their inputs. Such a view shares the storage of a tracked
        value; a constant cannot (gradkit made the input itself).
        """
        try:
            ptr = t.untyped_storage().data_ptr()
            return ptr != 0 and any(
                v.untyped_storage().data_ptr() == ptr for v, _, _ in self.jets.values()
            )
        except (NotImplementedError, RuntimeError):
            # Inside a torch.func transform, tensors are wrappers without a storage. The
            # tensors the mode has not seen there are the ones the transform hands in (the
            # parameters of functional_call); a value made from the input where the mode
            # cannot see leaves the output untracked, and that falls back to the exact path.
            return False

    def jet(self, t: object) -> Jet | None:
        """Return (J, L) of a tracked tensor, or None for a constant."""
        if isinstance(t, Tensor):
            e = self.jets.get(id(t))
            if e is not None and e[0] is t:
                return e[1], e[2]
        return None

    def fail(self, reason: str) -> None:
        """Record why the forward mode stopped and abort the call."""
        if self.failure is None:
            self.failure = reason
        raise _Unsupported(reason)

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        if self.failure is not None:
            raise _Unsupported(self.failure)
        out = func(*args, **kwargs)
        tensors = list(_tensors((args, kwargs)))
        tracked = [t for t in tensors if self.jet(t) is not None]
        if not tracked:
            if all(id(t) in self.const for t in tensors):
                for t in _tensors(out):
                    self.const[id(t)] = t
            return out
        for t in tensors:
            if self.jet(t) is None and id(t) not in self.const and self.shares_memory(t):
                self.fail(
                    f"`{_name(func)}` received a view of a value that depends on the input, "
                    "made where the forward mode cannot see (e.g. by a custom "
                    "autograd.Function or a backward hook)"
                )
        if not isinstance(out, Tensor):
            if "BackwardHook" in type(out).__name__:
                # torch reads grad_fn to wire a module's full backward hook: the hook's
                # autograd node would rewrite the gradients that flow through the carried
                # derivatives, which the forward mode cannot honour.
                self.fail("a module on the way has a backward hook (register_full_backward_hook)")
            if any(isinstance(t, Tensor) for t in _tensors(out)):
                self.fail(f"`{_name(func)}` returned several tensors")
            return out  # shape, dtype, a Python number: no derivative to carry
        if func in _SHAPE_ONLY:
            # ones_like(h), h.new_zeros(...): the values do not depend on h's values.
            for t in _tensors(out):
                self.const[id(t)] = t
            return out
        rule = _RULES.get(func)
        if rule is None and getattr(func, "__name__", "") == "__get__":
            self.fail(f"no forward rule for {_name(func)}")
        if rule is None:
            self.fail(f"no forward rule for `{_name(func)}`")
        assert rule is not None
        try:
            j, lap = rule(self, out, args, kwargs)
        except _Unsupported as e:
            self.fail(f"`{_name(func)}` {e}")
            raise
        except _Coupled as e:
            raise coupling_error(self.fname, f"`{_name(func)}` {e}") from None
        except Exception as e:  # a call the rule does not cover (keyword-only input, ...)
            self.fail(f"`{_name(func)}` called in a form its forward rule does not cover "
                      f"({type(e).__name__}: {e})")
            raise
        self.jets[id(out)] = (out, j, lap)
        return out


def _tensors(obj: object) -> Iterator[Tensor]:
    """Yield the tensors in nested tuples, lists and dicts."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


Rule = Callable[[_Tracer, Tensor, tuple[Any, ...], dict[str, Any]], Jet]
_SHAPE_ONLY = {
    torch.Tensor.new_ones, torch.Tensor.new_zeros, torch.Tensor.new_full, torch.Tensor.new_empty,
    torch.ones_like, torch.zeros_like, torch.full_like, torch.empty_like,
}
_RULES: dict[Any, Rule] = {}


def _register(funcs: list[Any], rule: Rule) -> None:
    for f in funcs:
        _RULES[f] = rule


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], i: int, name: str, default: Any) -> Any:
    """Return positional argument ``i`` or keyword ``name`` of a torch call."""
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


# --------------------------------------------------------------------- elementwise functions
Derivs = Callable[[Tensor, Tensor, tuple[Any, ...], dict[str, Any]], tuple[Tensor, Tensor]]


def _elementwise(
    tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any], *, derivs: Derivs
) -> Jet:
    """Rule for y = f(x) elementwise, given (f'(x), f''(x)) from x, y and the call's options.

    Registered as ``partial(_elementwise, derivs=...)``: the rules are plain functions, with
    no closures made at import.
    """
    x = args[0]
    jl = tr.jet(x)
    if jl is None or any(tr.jet(a) is not None for a in args[1:]):
        raise _Unsupported("is elementwise only in its first argument")
    j, lap = jl
    d1, d2 = derivs(x, out, args, kwargs)
    return d1 * j, d1 * lap + d2 * _sum_squares(j)


def _sum_squares(j: Tensor) -> Tensor:
    """Return ``(j * j).sum(0)``; without autograd, without the (k, ...) temporary."""
    if torch.is_grad_enabled() and j.requires_grad:
        return j.square().sum(0)
    acc = j[0].square()
    for i in range(1, j.shape[0]):
        acc.addcmul_(j[i], j[i])
    return acc


def _tanh(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    d1 = 1 - y * y
    return d1, -2 * y * d1


def _sigmoid(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    d1 = y * (1 - y)
    return d1, d1 * (1 - 2 * y)


def _sin(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    return torch.cos(x), -y


def _cos(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    return -torch.sin(x), -y


def _exp(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    return y, y


def _log(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    r = 1 / x
    return r, -r * r


def _sqrt(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    d1 = 0.5 / y
    return d1, -d1 / (2 * x)


def _square(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    return 2 * x, torch.full_like(x, 2.0)


def _reciprocal(
    x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]
) -> tuple[Tensor, Tensor]:
    return -y * y, 2 * y * y * y


def _silu(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    s = torch.sigmoid(x)
    s1 = s * (1 - s)
    return s + x * s1, s1 * (2 + x * (1 - 2 * s))


def _gelu(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    if k.get("approximate", "none") != "none":  # a keyword-only option of F.gelu
        raise _Unsupported("with approximate='tanh' has no forward rule")
    cdf = 0.5 * (1 + torch.erf(x * (1 / math.sqrt(2))))
    pdf = torch.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return cdf + x * pdf, pdf * (2 - x * x)


def _softplus(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    beta = _arg(a, k, 1, "beta", 1.0)
    threshold = _arg(a, k, 2, "threshold", 20.0)
    z = x * beta
    s = torch.sigmoid(z)
    linear = z > threshold  # softplus returns x itself there
    d1 = torch.where(linear, torch.ones_like(s), s)
    d2 = torch.where(linear, torch.zeros_like(s), beta * s * (1 - s))
    return d1, d2


def _relu(x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Tensor, Tensor]:
    return (x > 0).to(x.dtype), torch.zeros_like(x)


T = torch.Tensor
_register([torch.tanh, T.tanh, F.tanh], partial(_elementwise, derivs=_tanh))
_register([torch.sigmoid, T.sigmoid, F.sigmoid], partial(_elementwise, derivs=_sigmoid))
_register([torch.sin, T.sin], partial(_elementwise, derivs=_sin))
_register([torch.cos, T.cos], partial(_elementwise, derivs=_cos))
_register([torch.exp, T.exp], partial(_elementwise, derivs=_exp))
_register([torch.log, T.log], partial(_elementwise, derivs=_log))
_register([torch.sqrt, T.sqrt], partial(_elementwise, derivs=_sqrt))
_register([torch.square, T.square], partial(_elementwise, derivs=_square))
_register([torch.reciprocal, T.reciprocal], partial(_elementwise, derivs=_reciprocal))
_register([F.silu], partial(_elementwise, derivs=_silu))
_register([F.gelu], partial(_elementwise, derivs=_gelu))
_register([F.softplus], partial(_elementwise, derivs=_softplus))
_register([torch.relu, T.relu, F.relu], partial(_elementwise, derivs=_relu))


def _pow(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    base, p = args[0], _arg(args, kwargs, 1, "exponent", None)
    if tr.jet(base) is None or not isinstance(p, (int, float)) or isinstance(p, bool):
        raise _Unsupported("is supported only as tensor ** number")

    def derivs(
        x: Tensor, y: Tensor, a: tuple[Any, ...], k: dict[str, Any]
    ) -> tuple[Tensor, Tensor]:
        return p * x ** (p - 1), p * (p - 1) * x ** (p - 2)

    return _elementwise(tr, out, (base,), {}, derivs=derivs)


_register([torch.pow, T.pow, T.__pow__], _pow)


# ----------------------------------------------------------------------- arithmetic
def _sides(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    a = args[0]
    b = args[1] if len(args) > 1 else kwargs.get("other")
    if kwargs.get("alpha", 1) != 1:  # a keyword-only option of add and sub
        raise _Unsupported("with `alpha` has no forward rule")
    return a, b


def _k(tr: _Tracer, *ts: Any) -> int:
    for t in ts:
        jl = tr.jet(t)
        if jl is not None:
            return jl[0].shape[0]
    raise _Unsupported("has no tracked argument")


def _add(
    tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any], *,
    sign_a: float, sign_b: float,
) -> Jet:
    """Rule for ``sign_a * a + sign_b * b`` (add, sub, rsub)."""
    a, b = _sides(args, kwargs)
    ja, jb = tr.jet(a), tr.jet(b)
    parts_j, parts_l = [], []
    for s, jl in ((sign_a, ja), (sign_b, jb)):
        if jl is not None:
            parts_j.append(_lift(jl[0], out.ndim) * s if s != 1 else _lift(jl[0], out.ndim))
            parts_l.append(jl[1] * s if s != 1 else jl[1])
    j = parts_j[0] if len(parts_j) == 1 else parts_j[0] + parts_j[1]
    lap = parts_l[0] if len(parts_l) == 1 else parts_l[0] + parts_l[1]
    return j, lap


_register([torch.add, T.add, T.__add__, T.__radd__], partial(_add, sign_a=1.0, sign_b=1.0))
_register([torch.sub, T.sub, T.__sub__], partial(_add, sign_a=1.0, sign_b=-1.0))
_register([T.__rsub__], partial(_add, sign_a=-1.0, sign_b=1.0))


def _neg(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    jl = tr.jet(args[0])
    assert jl is not None
    return -jl[0], -jl[1]


_register([torch.neg, T.neg, T.__neg__], _neg)


def _identity(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    if any(tr.jet(a) is not None for a in args[1:]):
        raise _Unsupported("is tracked only in its first argument")
    jl = tr.jet(args[0])
    assert jl is not None
    return jl[0].clone(), jl[1].clone()


def _dropout(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    # F.dropout hands its override the input alone by position, p and training by keyword
    # (torch/nn/functional.py), however the caller wrote them.
    if kwargs["training"] and kwargs["p"] > 0:
        raise _Unsupported("in training mode is random; call `net.eval()` first")
    return _identity(tr, out, args, {})


_register([T.clone, torch.clone, T.contiguous, T.__pos__, torch.positive, T.positive],
          _identity)
_register([F.dropout], _dropout)


def _mul(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    a, b = _sides(args, kwargs)
    ja, jb = tr.jet(a), tr.jet(b)
    n = out.ndim
    if ja is not None and jb is not None:
        j = _lift(ja[0], n) * b + a * _lift(jb[0], n)
        lap = ja[1] * b + a * jb[1] + 2 * (_lift(ja[0], n) * _lift(jb[0], n)).sum(0)
        return j, lap
    (t, c) = (ja, b) if ja is not None else (jb, a)
    assert t is not None
    return _lift(t[0], n) * c, t[1] * c


def _div(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    a, b = _sides(args, kwargs)
    if kwargs.get("rounding_mode") is not None:
        raise _Unsupported("with `rounding_mode` has no forward rule")
    jb = tr.jet(b)
    if jb is None:
        ja = tr.jet(a)
        assert ja is not None
        return _lift(ja[0], out.ndim) / b, ja[1] / b
    # a / b = a * (1 / b): the reciprocal's jet, then the product rule.
    r = 1 / b
    rj, rl = _elementwise(tr, r, (b,), {}, derivs=_reciprocal)
    tr.jets[id(r)] = (r, rj, rl)
    return _mul(tr, out, (a, r), {})


def _rdiv(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    return _div(tr, out, (args[1], args[0]), {})


_register([torch.mul, T.mul, T.__mul__, T.__rmul__], _mul)
_register([torch.div, T.div, T.__truediv__, torch.true_divide], _div)
_register([T.__rtruediv__, T.__rdiv__], _rdiv)


# --------------------------------------------------------------------- linear maps
def _linear(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    x = args[0]
    w = _arg(args, kwargs, 1, "weight", None)
    b = _arg(args, kwargs, 2, "bias", None)
    jl = tr.jet(x)
    if jl is None or tr.jet(w) is not None or tr.jet(b) is not None or w.ndim != 2:
        raise _Unsupported("is supported only with a constant 2-D weight and bias")
    return _flat_linear(jl[0], w), F.linear(jl[1], w)


def _flat_linear(j: Tensor, w: Tensor) -> Tensor:
    """``F.linear(j, w)`` as one 2-D product (faster on CPU than the batched form)."""
    if j.ndim <= 2 or not j.is_contiguous():
        return F.linear(j, w)
    return F.linear(j.reshape(-1, j.shape[-1]), w).reshape(*j.shape[:-1], w.shape[0])


def _matmul(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    a, b = _sides(args, kwargs)
    jl = tr.jet(a)
    if isinstance(b, Tensor) and b.ndim == 2 and tr.jet(b) is not None:
        raise _Coupled("with a point-dependent matrix on the right sums over its rows (the "
                       "points), as attention over the points does")
    if isinstance(a, Tensor) and a.ndim < 2 and jl is not None:
        raise _Coupled("of a vector of one value per point contracts over the points")
    if (jl is None or tr.jet(b) is not None or not isinstance(b, Tensor) or b.ndim != 2
            or a.ndim < 2):
        # A constant matrix on the left would mix the points (rows).
        raise _Unsupported("is supported only as tracked @ constant matrix")
    return jl[0] @ b, jl[1] @ b


_register([F.linear], _linear)
_register([torch.matmul, T.matmul, T.__matmul__, torch.mm, T.mm], _matmul)


def _reshaping(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    """Rule for operations that keep the order of the elements (reshape, view, squeeze...).

    Only the first argument's values matter: a tensor after it (``view_as(other)``) gives
    a shape.
    """
    jl = tr.jet(args[0])
    if jl is None:
        raise _Unsupported("is tracked only in its first argument")
    j, lap = _full(jl, args[0])
    return j.reshape(j.shape[0], *out.shape), lap.reshape(out.shape)


_register(
    [T.reshape, torch.reshape, T.view, T.view_as, T.reshape_as, T.flatten, torch.flatten,
     T.unsqueeze, torch.unsqueeze, T.squeeze, torch.squeeze],
    _reshaping,
)


def _getitem(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    x, idx = args
    jl = tr.jet(x)
    parts = idx if isinstance(idx, tuple) else (idx,)
    if jl is None or not all(
        p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts
    ):
        raise _Unsupported("is supported only with ints, slices, None and `...`")
    j, lap = _full(jl, x)
    return j[(slice(None), *parts)], lap[idx]


_register([T.__getitem__], _getitem)


def _joining(
    tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any], *,
    join: Callable[..., Tensor],
) -> Jet:
    """Rule for ``torch.cat`` / ``torch.stack``: join the jets along the matching axis, with
    zeros for the constant parts."""
    ts = args[0]
    dim = _arg(args, kwargs, 1, "dim", 0)
    k = _k(tr, *ts)
    js, ls = [], []
    for t in ts:
        jl = tr.jet(t)
        jl = (t.new_zeros((k, *t.shape)), t.new_zeros(t.shape)) if jl is None else _full(jl, t)
        js.append(jl[0])
        ls.append(jl[1])
    return join(js, _jdim(dim)), join(ls, dim)


_register([torch.cat, torch.concat, torch.concatenate], partial(_joining, join=torch.cat))
_register([torch.stack], partial(_joining, join=torch.stack))


def _reduce(
    tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any], *, mean: bool
) -> Jet:
    """Rule for ``sum`` and ``mean`` over the columns (never over the points, dim 0)."""
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim", None)
    keepdim = _arg(args, kwargs, 2, "keepdim", False)
    jl = tr.jet(x)
    if jl is None or kwargs.get("dtype") is not None:
        raise _Unsupported("is supported only with `dim` and no `dtype`")
    if dim is None:
        raise _Coupled("without `dim` reduces over the points (rows) too")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if any(d % x.ndim == 0 for d in dims):
        raise _Coupled(f"over dim {dims} reduces over the points (dim 0, e.g. a batch mean)")
    jd = tuple(_jdim(d) for d in dims)
    jl = _full(jl, x)
    if mean:
        return jl[0].mean(jd, keepdim=keepdim), jl[1].mean(dims, keepdim=keepdim)
    return jl[0].sum(jd, keepdim=keepdim), jl[1].sum(dims, keepdim=keepdim)


_register([torch.sum, T.sum], partial(_reduce, mean=False))
_register([torch.mean, T.mean], partial(_reduce, mean=True))


# ------------------------------------------------------------------ layer normalisation
def _jmul(a: tuple[Tensor, Tensor, Tensor], b: tuple[Tensor, Tensor, Tensor]) -> tuple[
    Tensor, Tensor, Tensor
]:
    """Product of two (value, J, L) jets."""
    (va, ja, la), (vb, jb, lb) = a, b
    return va * vb, ja * vb + va * jb, la * vb + va * lb + 2 * (ja * jb).sum(0)


def _layer_norm(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    # F.layer_norm hands its override input and normalized_shape by position, weight, bias
    # and eps by keyword (torch/nn/functional.py); a call in another form stops the rule.
    x, shape = args[0], tuple(args[1])
    w, b, eps = kwargs["weight"], kwargs["bias"], kwargs["eps"]
    jl = tr.jet(x)
    if jl is None or tr.jet(w) is not None or tr.jet(b) is not None:
        raise _Unsupported("is supported only with constant weight and bias")
    if len(shape) >= x.ndim:
        raise _Coupled("normalises over the points (dim 0) too")
    j, lap = jl
    dims = tuple(range(-len(shape), 0))
    c = (x - x.mean(dims, keepdim=True), j - j.mean(dims, keepdim=True),
         lap - lap.mean(dims, keepdim=True))
    var = x.var(dims, unbiased=False, keepdim=True)
    # v = mean(c^2): derivative 2 mean(c c'), second derivative 2 mean(c c'' + |c'|^2).
    vj = 2 * (c[0] * c[1]).mean(dims, keepdim=True)
    vl = 2 * (c[0] * c[2] + (c[1] * c[1]).sum(0)).mean(dims, keepdim=True)
    r = (var + eps) ** -0.5  # r(v) = (v + eps)^(-1/2)
    r1 = -0.5 * r / (var + eps)
    r2 = -1.5 * r1 / (var + eps)
    rj = r1 * vj
    rl = r1 * vl + r2 * (vj * vj).sum(0)
    _, nj, nl = _jmul(c, (r, rj, rl))
    if w is not None:
        nj, nl = nj * w, nl * w
    return nj, nl


_register([F.layer_norm], _layer_norm)


def _batch_norm(tr: _Tracer, out: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Jet:
    # F.batch_norm hands its override input and the running statistics by position, the
    # rest by keyword (torch/nn/functional.py); a call in another form stops the rule.
    x, mean, var = args
    w, training, eps = kwargs["weight"], kwargs["training"], kwargs["eps"]
    if training or mean is None or var is None:
        raise _Coupled("in training mode (or without running statistics) normalises with "
                       "the batch's mean and variance, computed over all the points")
    if any(tr.jet(t) is not None for t in (mean, var, w)):
        raise _Unsupported("is supported only with constant statistics and weight")
    # Eval mode: an affine map per channel (dim 1), the same at every point.
    scale = (var + eps) ** -0.5 if w is None else w * (var + eps) ** -0.5
    scale = scale.reshape(-1, *([1] * (x.ndim - 2)))
    jl = tr.jet(x)
    assert jl is not None
    return jl[0] * scale, jl[1] * scale


_register([F.batch_norm], _batch_norm)


# ------------------------------------------------------------------------------- driver
def known_tensors(f: object) -> Iterator[Tensor]:
    """Yield the tensors a module holds: parameters, buffers, tensor attributes."""
    if isinstance(f, nn.Module):
        for m in f.modules():
            yield from m.parameters(recurse=False)
            yield from m.buffers(recurse=False)
            yield from (v for v in vars(m).values() if isinstance(v, Tensor))


def taylor_second_order(
    fname: str,
    run: Callable[[Tensor], Tensor],
    known: Iterator[Tensor],
    x: Tensor,
    directions: Tensor,
) -> tuple[Tensor, Tensor, Tensor] | str:
    """Run ``run(x)`` and return ``(run(x), J, L)``, or why it cannot.

    ``run`` is the callable as the boundary (``_checks``) wraps it: it returns a tensor or
    raises; ``known`` are the tensors that exist before the call (see :func:`known_tensors`).
    ``directions`` has shape ``(k, *x.shape)`` (or broadcasts to it). ``J`` holds the first
    directional derivatives at every point, shape ``(k, *run(x).shape)``; ``L`` is the sum
    over ``k`` of the second directional derivatives, shape of ``run(x)``. With the unit
    vectors of the columns, ``J`` is the gradient and ``L`` the Laplacian.
    """
    tracer = _Tracer(fname, known)
    # The input is an alias that gradkit owns: it keeps the graph to x (if any), and nothing
    # else in the call can be this tensor.
    xin = x.view_as(x)
    tracer.seed(xin, directions)
    y: object = None
    try:
        with tracer:
            y = run(xin)
    except _Unsupported:
        pass
    except Exception:
        if tracer.failure is None:
            raise
        # The callable caught our stop signal and failed later: report the first cause.
    if tracer.failure is not None:
        return tracer.failure
    jl = tracer.jet(y)
    if jl is None:
        return "the output does not come from the input through operations the forward mode sees"
    assert isinstance(y, Tensor)  # a tracked value is a tensor
    j, lap = _full(jl, y)
    return y, j, lap.contiguous()
