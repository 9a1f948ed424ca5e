"""Tests for gradkit._checks: every bad input raises a clear error naming the function."""

from __future__ import annotations

import pytest
import torch

import gradkit as gk

SCALAR_FNS = {
    "derivative": lambda y, x: gk.derivative(y, x),
    "partial": lambda y, x: gk.partial(y, x, 0),
    "gradient": gk.gradient,
    "laplacian": gk.laplacian,
    "hessian": gk.hessian,
    "Derivatives": lambda y, x: gk.Derivatives(y, x)[0],
    "weighted_laplacian": lambda y, x: gk.weighted_laplacian(y, x, torch.eye(3)),
}
VECTOR_FNS = {
    "jacobian": gk.jacobian,
    "divergence": gk.divergence,
    "curl": gk.curl,
    "vjp": lambda v, x: gk.vjp(v, x, torch.ones_like(v)),
    "jvp": lambda v, x: gk.jvp(v, x, torch.ones_like(x)),
    "vector_laplacian": gk.vector_laplacian,
}
ALL_FNS = {**SCALAR_FNS, **VECTOR_FNS}


def _x(name: str, grad: bool = True) -> torch.Tensor:
    """Return points suited to the function: (4, 1) for derivative, (4, 3) otherwise."""
    d = 1 if name == "derivative" else 3
    return torch.linspace(0.5, 2.0, 4 * d).reshape(4, d).requires_grad_(grad)


def _field(name: str, x: torch.Tensor) -> torch.Tensor:
    """Return a nonlinear field of x of the right kind: scalar (N,) or vector (N, d)."""
    return torch.sin(x).sum(1) if name in SCALAR_FNS else torch.sin(x) * x.prod(1, keepdim=True)


@pytest.mark.parametrize("name", ALL_FNS)
def test_x_without_grad(name):
    """An x that does not require grad is reported with the fix."""
    x = _x(name, grad=False)
    with pytest.raises(ValueError, match=rf"^{name}: `x` does not require grad\. Create it"):
        ALL_FNS[name](_field(name, x), x)


@pytest.mark.parametrize("name", ALL_FNS)
def test_unused_input(name):
    """An output that does not depend on x raises instead of returning zeros."""
    x = _x(name)
    other = _x(name).detach().requires_grad_()
    with pytest.raises(ValueError, match=rf"^{name}: `(y|v)` does not depend on `x`"):
        ALL_FNS[name](_field(name, other), x)


@pytest.mark.parametrize("name", ["gradient", "partial", "laplacian", "hessian", "jacobian"])
def test_slice_after_forward(name):
    """Differentiating wrt a slice taken after y explains to slice afterwards (DeepXDE 1580)."""
    x = torch.rand(4, 2, requires_grad=True)
    u = (x**2).sum(1)
    match = rf"^{name}: .*`x` is a slice .*partial\(y, x_full, dim=i\)"
    with pytest.raises(ValueError, match=match):
        ALL_FNS[name](u, x[:, 0])


def test_untracked_view_leaf_gets_the_plain_unused_message():
    """A leaf made from a view of an untracked tensor is not called a slice in the error."""
    x = torch.linspace(0.0, 1.0, 6).reshape(3, 2).requires_grad_()
    y = torch.ones(3, requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"^gradient: `y` does not depend on `x` \(autograd"):
        gk.gradient(y, x)


@pytest.mark.parametrize("name", ALL_FNS)
def test_no_grad_mode(name):
    """Calling under torch.no_grad() names the cause."""
    x = _x(name)
    y = _field(name, x)
    match = rf"^{name}: called inside `torch.no_grad"
    with torch.no_grad(), pytest.raises(RuntimeError, match=match):
        ALL_FNS[name](y, x)


@pytest.mark.parametrize("name", ALL_FNS)
def test_inference_mode(name):
    """Calling under torch.inference_mode() names the cause."""
    x = _x(name)
    y = _field(name, x)
    match = rf"^{name}: called inside `torch.inference_mode"
    with torch.inference_mode(), pytest.raises(RuntimeError, match=match):
        ALL_FNS[name](y, x)


@pytest.mark.parametrize("name", SCALAR_FNS)
def test_y_computed_under_no_grad(name):
    """A y computed under no_grad does not require grad, and the error says so."""
    x = _x(name)
    with torch.no_grad():
        y = _field(name, x)
    with pytest.raises(ValueError, match=rf"^{name}: `y` does not require grad"):
        SCALAR_FNS[name](y, x)


@pytest.mark.parametrize("name", [n for n in SCALAR_FNS if n != "derivative"])
def test_vector_where_scalar_expected(name):
    """A y with several values per point is rejected where a scalar field is expected."""
    x = _x(name)
    match = rf"^{name}: `y` must be a scalar field.*got shape \(4, 3\)"
    with pytest.raises(ValueError, match=match):
        SCALAR_FNS[name](torch.sin(x), x)


@pytest.mark.parametrize("name", ALL_FNS)
def test_batch_mismatch(name):
    """Different numbers of points in y and x are reported."""
    x = _x(name)
    y = _field(name, x)
    with pytest.raises(ValueError, match=rf"^{name}: `(y|v)` and `x` must have the same number"):
        ALL_FNS[name](y[:3], x)


@pytest.mark.parametrize("name", ["gradient", "laplacian", "jacobian"])
def test_reduced_y(name):
    """A y reduced over the batch (0-d) is reported as a batch mismatch."""
    x = _x(name)
    with pytest.raises(ValueError, match=rf"^{name}: `y` and `x` must have the same number.*0-d"):
        ALL_FNS[name](torch.sin(x).sum(), x)


@pytest.mark.parametrize(("order", "exc"), [(True, TypeError), (1.0, TypeError), (0, ValueError),
                                            (-2, ValueError), ("2", TypeError)],
                         ids=["bool", "float", "zero", "negative", "str"])
@pytest.mark.parametrize("name", ["derivative", "partial"])
def test_bad_order(name, order, exc):
    """order must be a positive int: bools, floats, zero and negatives are rejected."""
    x = _x(name)
    y = _field(name, x)
    with pytest.raises(exc, match=rf"^{name}: `order` must be a positive int"):
        if name == "derivative":
            gk.derivative(y, x, order)
        else:
            gk.partial(y, x, 0, order)


@pytest.mark.parametrize(("dim", "exc"), [(3, ValueError), (-4, ValueError), (1.0, TypeError)])
def test_bad_dim(dim, exc):
    """dim out of range or not an int is rejected."""
    x = _x("partial")
    with pytest.raises(exc, match=r"^partial: `dim` "):
        gk.partial(_field("partial", x), x, dim)


@pytest.mark.parametrize("dtype", [torch.int64, torch.complex64], ids=["int", "complex"])
@pytest.mark.parametrize("name", ALL_FNS)
def test_unsupported_dtype(name, dtype):
    """Integer and complex inputs raise TypeError with the conversion to use."""
    x = torch.ones(4, 1 if name == "derivative" else 3, dtype=dtype)
    match = rf"^{name}: `x` has dtype torch\.{str(dtype)[6:]}.*x\.float\(\)"
    with pytest.raises(TypeError, match=match):
        ALL_FNS[name](x, x)


def test_non_tensor_x():
    """A list instead of a tensor is a TypeError with the conversion to use."""
    with pytest.raises(TypeError, match=r"^gradient: `x` must be a torch.Tensor, got list"):
        gk.gradient(torch.ones(2), [1.0, 2.0])


def test_derivative_multi_column_x():
    """derivative needs 1-D x and points to partial otherwise."""
    x = _x("partial")
    with pytest.raises(ValueError, match=r"^derivative: `x` must be one-dimensional.*partial"):
        gk.derivative(_field("partial", x), x)


def test_x_bad_rank():
    """x with three dimensions is rejected."""
    x = torch.ones(2, 2, 2, requires_grad=True)
    with pytest.raises(ValueError, match=r"^gradient: `x` must have shape \(N,\) or \(N, d\)"):
        gk.gradient(x.sum((1, 2)), x)


@pytest.mark.parametrize("d", [2, 4])
def test_curl_requires_three_dims(d):
    """curl with d != 3 explains that it is defined for 3-D fields."""
    x = torch.rand(4, d, requires_grad=True)
    with pytest.raises(ValueError, match=r"^curl: the curl is defined for 3-D fields"):
        gk.curl(torch.sin(x), x)


def test_vector_field_shape_mismatch():
    """divergence needs v of the shape of x."""
    x = torch.rand(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"^divergence: `v` must have the shape of `x`"):
        gk.divergence(torch.sin(x[:, :2]), x)


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_product_vector_shape(name):
    """vjp/jvp reject a vector of the wrong shape."""
    x = torch.rand(4, 3, requires_grad=True)
    y = torch.sin(x)
    fn = gk.vjp if name == "vjp" else gk.jvp
    with pytest.raises(ValueError, match=rf"^{name}: `v` must have the shape of"):
        fn(y, x, torch.ones(4, 2))


def test_allow_unused_is_explicit():
    """Zeros for an unused input come only with allow_unused=True."""
    x = torch.rand(4, 3, requires_grad=True)
    other = torch.rand(4, 3, requires_grad=True)
    torch.testing.assert_close(gk.gradient(other.sum(1), x, allow_unused=True), torch.zeros(4, 3))
    torch.testing.assert_close(gk.laplacian(other.sum(1), x, allow_unused=True), torch.zeros(4))
    torch.testing.assert_close(gk.jacobian(other, x, allow_unused=True), torch.zeros(4, 3, 3))


def _leaf(n: int = 4, d: int = 3) -> torch.Tensor:
    """Return fresh leaf points (not a view of another tensor) that require grad."""
    return torch.rand(n, d, requires_grad=True)


def _other_leaf_field(x: torch.Tensor) -> torch.Tensor:
    """Return a vector field of a tensor like x that x itself does not enter."""
    return torch.sin(x.detach().clone().requires_grad_())


# Complete messages, pinned word for word: each names the function and the argument, says
# what was received, and gives the fix.
_FIX_UNUSED = (
    "Check that `{n}` is computed from this very `x` tensor (not a copy, a re-created tensor "
    "or a slice), or pass `allow_unused=True` to get zeros."
)
_SLICE = (
    "`x` is a slice (view) of another tensor: slicing creates a new node after `y` was "
    "computed, so `y` cannot depend on the slice. Differentiate with respect to the full "
    "input and select the column afterwards, e.g. `gradient(y, x_full)[:, i]`, or use "
    "`partial(y, x_full, dim=i)`."
)
_ROWS = (
    "Compute `{n}` pointwise from `x`, one row per point; do not reduce over the batch "
    "(e.g. with `.sum()`) first."
)


def _in_no_grad(call):
    """Run call() under torch.no_grad()."""
    with torch.no_grad():
        return call()


def _in_inference_mode(call):
    """Run call() under torch.inference_mode()."""
    with torch.inference_mode():
        return call()


def _wants_columns(t):
    """A model that indexes columns, as a network's first layer does (torch's own message
    differs between releases, so the cause is ours)."""
    if t.ndim != 2:
        raise IndexError("needs points of shape (N, 1)")
    return torch.sin(t[:, 0])


MESSAGES = [
    ("no-grad", lambda: (x := _leaf(), _in_no_grad(lambda: gk.gradient(x.sum(1), x))),
     RuntimeError, "gradient: called inside `torch.no_grad()` (gradient mode is disabled), so "
     "no derivative can be computed. Call it outside the no-grad block, or wrap the call in "
     "`with torch.enable_grad():`."),
    ("inference-mode", lambda: (x := _leaf(), _in_inference_mode(lambda: gk.gradient(x, x))),
     RuntimeError, "gradient: called inside `torch.inference_mode()`, where autograd records "
     "nothing. Compute `y` and call this function outside the inference-mode block."),
    ("x-rank", lambda: gk.gradient(torch.ones(2), torch.ones(2, 2, 2, requires_grad=True)),
     ValueError, "gradient: `x` must have shape (N,) or (N, d), got shape (2, 2, 2). Put one "
     "collocation point per row (use `x.reshape(N, -1)`)."),
    ("x-rank-2d-only", lambda: gk.divergence(torch.ones(4), torch.ones(4, requires_grad=True)),
     ValueError, "divergence: `x` must have shape (N, d), got shape (4,). Put one collocation "
     "point per row (use `x.reshape(N, -1)`)."),
    ("x-rank-curl", lambda: gk.curl(torch.ones(4), torch.ones(4, requires_grad=True)),
     ValueError, "curl: `x` must have shape (N, d), got shape (4,). Put one collocation "
     "point per row (use `x.reshape(N, -1)`)."),
    ("rows", lambda: (x := _leaf(), gk.gradient(torch.sin(x).sum(1)[:3], x)),
     ValueError, "gradient: `y` and `x` must have the same number of points (rows): `x` has 4 "
     "rows, `y` has 3 rows (shape (3,)). " + _ROWS.format(n="y")),
    ("rows-0d", lambda: (x := _leaf(), gk.gradient(torch.sin(x).sum(), x)),
     ValueError, "gradient: `y` and `x` must have the same number of points (rows): `x` has 4 "
     "rows, `y` has a 0-d tensor. " + _ROWS.format(n="y")),
    ("rows-divergence", lambda: (x := _leaf(), gk.divergence(torch.sin(x)[:3], x)),
     ValueError, "divergence: `v` and `x` must have the same number of points (rows): `x` has 4 "
     "rows, `v` has 3 rows (shape (3, 3)). " + _ROWS.format(n="v")),
    ("rows-curl", lambda: (x := _leaf(), gk.curl(torch.sin(x)[:2], x)),
     ValueError, "curl: `v` and `x` must have the same number of points (rows): `x` has 4 "
     "rows, `v` has 2 rows (shape (2, 3)). " + _ROWS.format(n="v")),
    ("y-no-grad", lambda: (x := _leaf(), gk.gradient(torch.sin(x).sum(1).detach(), x)),
     ValueError, "gradient: `y` does not require grad, so it was not computed from `x` with "
     "autograd recording (e.g. it was computed under `torch.no_grad()`, or detached). Create "
     "it with `x = x.requires_grad_()` (or `torch.tensor(..., requires_grad=True)`) before "
     "computing `y` from it. If `y` is constant in `x` (e.g. the gradient of a field linear "
     "in `x`, which autograd returns without a graph), pass `allow_unused=True` to get "
     "zeros."),
    ("order-type", lambda: (x := _leaf(), gk.partial(torch.sin(x).sum(1), x, 0, 1.0)),
     TypeError, "partial: `order` must be a positive int, got 1.0 (float). Pass e.g. `order=2` "
     "for a second derivative."),
    ("order-zero", lambda: (x := _leaf(), gk.partial(torch.sin(x).sum(1), x, 0, 0)),
     ValueError, "partial: `order` must be a positive int (1, 2, ...), got 0. For order 0 use "
     "`y` itself."),
    ("dim-type", lambda: (x := _leaf(), gk.partial(torch.sin(x).sum(1), x, "1")),
     TypeError, "partial: `dim` must be an int column index, got '1' (str)."),
    ("dim-range", lambda: (x := _leaf(), gk.partial(torch.sin(x).sum(1), x, 3)),
     ValueError, "partial: `dim` is 3, out of range for `x` with 3 column(s) (valid: 0 to 2, "
     "or -3 to -1)."),
    ("dim-range-negative", lambda: (x := _leaf(4, 2), gk.partial(x.sum(1), x, -3)),
     ValueError, "partial: `dim` is -3, out of range for `x` with 2 column(s) (valid: 0 to 1, "
     "or -2 to -1)."),
    ("flat-x", lambda: (x := _leaf(), gk.derivative(torch.sin(x).sum(1), x)),
     ValueError, "derivative: `x` must be one-dimensional, shape (N,) or (N, 1), got shape "
     "(4, 3). For a column of a multi-column input use `partial(y, x, dim=i, order=k)`."),
    ("unused", lambda: (x := _leaf(), gk.gradient(_other_leaf_field(x).sum(1), x)),
     ValueError, "gradient: `y` does not depend on `x` (autograd found no path from `x` to "
     "`y`). " + _FIX_UNUSED.format(n="y")),
    ("unused-divergence", lambda: (x := _leaf(), gk.divergence(_other_leaf_field(x), x)),
     ValueError, "divergence: `v` does not depend on `x` (autograd found no path from `x` to "
     "`v`). " + _FIX_UNUSED.format(n="v")),
    ("unused-curl", lambda: (x := _leaf(), gk.curl(_other_leaf_field(x), x)),
     ValueError, "curl: `v` does not depend on `x` (autograd found no path from `x` to "
     "`v`). " + _FIX_UNUSED.format(n="v")),
    ("unused-slice", lambda: (x := _leaf(4, 2), gk.gradient((x**2).sum(1), x[:, 0])),
     ValueError, "gradient: `y` does not depend on `x`. " + _SLICE),
    ("curl-2d", lambda: (x := _leaf(4, 2), gk.curl(torch.sin(x), x)),
     ValueError, "curl: the curl is defined for 3-D fields: `x` and `v` must have shape (N, 3), "
     "got x (4, 2) and v (4, 2). In 2-D, compute the scalar curl "
     "`partial(v[:, 1], x, 0) - partial(v[:, 0], x, 1)`."),
    ("dims-int", lambda: (x := _leaf(), gk.laplacian(x.sin().sum(1), x, dims=1)),
     TypeError, "laplacian: `dims` must be a list or tuple of column indices, got 1 (int). "
     "For one column pass e.g. `dims=[0]`."),
    ("dims-set", lambda: (x := _leaf(), gk.laplacian(x.sin().sum(1), x, dims={0, 1})),
     TypeError, "laplacian: `dims` must be a list or tuple of column indices, got {0, 1} "
     "(set). For one column pass e.g. `dims=[0]`."),
    ("dims-out-of-range", lambda: (x := _leaf(), gk.gradient(x.sin().sum(1), x, dims=[0, 3])),
     ValueError, "gradient: `dim` is 3, out of range for `x` with 3 column(s) (valid: 0 to 2, "
     "or -3 to -1)."),
    ("divergence-forward-shape", lambda: gk.divergence(lambda t: torch.sin(t)[:, :2], _leaf()),
     ValueError, "divergence: `v` must have the shape of `x`, (4, 3), got (4, 2). The "
     "divergence needs one component per input dimension."),
    ("dims-empty", lambda: (x := _leaf(), gk.gradient(x.sin().sum(1), x, dims=[])),
     ValueError, "gradient: `dims` is empty; list at least one column of `x`."),
    ("dims-twice", lambda: (x := _leaf(), gk.divergence(x.sin(), x, dims=(0, 2, -3))),
     ValueError, "divergence: `dims` lists a column twice: [0, 2, -3]."),
    ("inference-tensor", lambda: (
        x := _in_inference_mode(lambda: torch.ones(4, 3)), gk.laplacian(torch.sin, x)
    ), ValueError, "laplacian: `x` is an inference tensor (made under "
     "`torch.inference_mode()`), so autograd cannot record operations on it. Make an "
     "ordinary copy outside the inference-mode block: `x = x.clone()` (then "
     "`.requires_grad_()` for the points)."),
    ("points-of-one-value", lambda: gk.derivative(_wants_columns, torch.linspace(0, 1, 4)),
     ValueError, "derivative: calling the callable on `x` of shape (4,), one value per "
     "point, failed (IndexError: needs points of shape (N, 1)). gradkit passes `x` to the "
     "callable as it is; a network whose first layer is `nn.Linear(1, ...)` expects points "
     "of shape (N, 1): pass `x.unsqueeze(1)`."),
]


@pytest.mark.parametrize(("call", "exc", "message"), [c[1:] for c in MESSAGES],
                         ids=[c[0] for c in MESSAGES])
def test_full_error_messages(call, exc, message):
    """Each error message is complete: function, argument, what was received and the fix."""
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == message


def _bad_v_calls(name: str, v: object):
    """Call vjp or jvp (tensor and callable forms) with the given product vector v."""
    x = _leaf()
    if name == "vjp":
        return gk.vjp(torch.sin(x), x, v)
    if name == "jvp":
        return gk.jvp(torch.sin(x), x, v)
    return gk.jvp(torch.sin, x.detach(), v)


@pytest.mark.parametrize("name", ["vjp", "jvp", "jvp-callable"])
@pytest.mark.parametrize(("v", "exc", "match"), [
    (torch.ones(4, 3, dtype=torch.int64), TypeError,
     r"`v` has dtype torch\.int64.*Convert it with `v\.float\(\)` \(or `v\.double\(\)`\)\.$"),
    ([1.0], TypeError,
     r"`v` must be a torch\.Tensor, got list\. Convert it with `torch\.as_tensor\(v, "),
], ids=["int", "list"])
def test_bad_product_vector(name, v, exc, match):
    """vjp and jvp check the vector v itself and name it in the error."""
    fname = name.split("-")[0]
    with pytest.raises(exc, match=rf"^{fname}: {match}"):
        _bad_v_calls(name, v)


@pytest.mark.parametrize("name", ["laplacian", "jvp"])
def test_callable_form_checks_x(name):
    """The callable forms of laplacian and jvp check x's dtype and name the function."""
    x = torch.ones(4, 3, dtype=torch.int64)
    net = torch.nn.Sequential(torch.nn.Linear(3, 1))
    call = {"laplacian": lambda: gk.laplacian(net, x),
            "jvp": lambda: gk.jvp(torch.sin, x, torch.ones(4, 3))}[name]
    with pytest.raises(TypeError, match=rf"^{name}: `x` has dtype torch\.int64.*`x\.float\(\)`"):
        call()


# name, call with allow_unused=True on a field that ignores x (4, 3), expected zeros shape
UNUSED_ZEROS = [
    ("derivative", lambda y, v, x1, x: gk.derivative(y[:, :1].sum(1), x1, allow_unused=True),
     (4,)),
    ("partial", lambda y, v, x1, x: gk.partial(y.sum(1), x, 1, allow_unused=True), (4,)),
    ("partial-order2", lambda y, v, x1, x: gk.partial(y.sum(1), x, 1, 2, allow_unused=True),
     (4,)),
    ("gradient", lambda y, v, x1, x: gk.gradient(y.sum(1), x, allow_unused=True), (4, 3)),
    ("laplacian", lambda y, v, x1, x: gk.laplacian(y.sum(1), x, allow_unused=True), (4,)),
    ("hessian", lambda y, v, x1, x: gk.hessian(y.sum(1), x, allow_unused=True), (4, 3, 3)),
    ("jacobian", lambda y, v, x1, x: gk.jacobian(y, x, allow_unused=True), (4, 3, 3)),
    ("divergence", lambda y, v, x1, x: gk.divergence(y, x, allow_unused=True), (4,)),
    ("curl", lambda y, v, x1, x: gk.curl(y, x, allow_unused=True), (4, 3)),
    ("vjp", lambda y, v, x1, x: gk.vjp(y, x, v, allow_unused=True), (4, 3)),
    ("jvp", lambda y, v, x1, x: gk.jvp(y, x, v, allow_unused=True), (4, 3)),
    ("vector_laplacian", lambda y, v, x1, x: gk.vector_laplacian(y, x, allow_unused=True),
     (4, 3)),
    ("weighted_laplacian",
     lambda y, v, x1, x: gk.weighted_laplacian(y.sum(1), x, torch.eye(3), allow_unused=True),
     (4,)),
    ("cylindrical_gradient",
     lambda y, v, x1, x: gk.cylindrical_gradient(y.sum(1), x, allow_unused=True), (4, 3)),
    ("cylindrical_laplacian",
     lambda y, v, x1, x: gk.cylindrical_laplacian(y.sum(1), x, allow_unused=True), (4,)),
    # (the curvilinear divergence and curl also have terms without derivatives: not zeros)
]


@pytest.mark.parametrize("field", ["other leaf", "constant"])
@pytest.mark.parametrize(("call", "shape"), [c[1:] for c in UNUSED_ZEROS],
                         ids=[c[0] for c in UNUSED_ZEROS])
def test_allow_unused_gives_zeros_everywhere(call, shape, field):
    """allow_unused=True turns the unused-input error into zeros of the documented shape,
    for a field computed from another tensor and for one that requires no grad at all."""
    x = _leaf()
    x1 = _leaf(4, 1)
    y = _other_leaf_field(x) if field == "other leaf" else torch.sin(x.detach())
    out = call(y, torch.ones(4, 3), x1, x)
    torch.testing.assert_close(out, torch.zeros(shape))


def test_bad_first_argument_of_jvp():
    """A jvp first argument that is neither a tensor nor callable is a TypeError naming y."""
    x = _leaf()
    with pytest.raises(TypeError, match=r"^jvp: `y` must be a torch\.Tensor, got int\."):
        gk.jvp(3, x, torch.ones(4, 3))


def test_no_grad_mode_callable_laplacian():
    """Under torch.no_grad() the forward path still runs (it needs no autograd); when it cannot,
    the exact path's error names the cause."""
    x = _leaf()
    with torch.no_grad():
        lap = gk.laplacian(lambda t: torch.sin(t).sum(1), x)
    torch.testing.assert_close(lap, -torch.sin(x).sum(1).detach())
    with (torch.no_grad(), pytest.warns(gk.TaylorModeWarning, match="cumsum"),
          pytest.raises(RuntimeError, match=r"^laplacian: called inside `torch")):
        gk.laplacian(lambda t: torch.cumsum(t, 1)[:, -1] ** 2, x)


def test_constant_field_allow_unused_gives_zeros():
    """The gradient of a linear field has no graph; with allow_unused its divergence is 0."""
    x = _leaf()
    g = gk.gradient(x @ torch.tensor([1.0, 2.0, 3.0]), x)
    assert not g.requires_grad
    torch.testing.assert_close(gk.divergence(g, x, allow_unused=True), torch.zeros(4))
    torch.testing.assert_close(gk.laplacian(g[:, 0], x, allow_unused=True), torch.zeros(4))
    with pytest.raises(ValueError, match=r"constant in `x`.*allow_unused=True"):
        gk.divergence(g, x)


@pytest.mark.parametrize("name", ALL_FNS)
def test_inference_tensor(name):
    """Points made under torch.inference_mode() get a gradkit error with the fix."""
    with torch.inference_mode():
        x = _x(name, grad=False)
    with pytest.raises(ValueError, match=rf"^{name}: `x` is an inference tensor.*x\.clone\(\)"):
        ALL_FNS[name](torch.ones(4), x)


def test_one_dimensional_points_into_a_column_network():
    """Points of shape (N,) into a network that expects (N, 1): the error says unsqueeze."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"^laplacian: calling the callable on `x` of shape "
                       r"\(5,\).*x\.unsqueeze\(1\)"):
        gk.laplacian(net, torch.rand(5))


@pytest.mark.parametrize("name", ALL_FNS)
def test_empty_batch(name):
    """N = 0 points (an empty boundary batch) give an empty result, not a reshape error."""
    x = torch.zeros(0, 1 if name == "derivative" else 3, requires_grad=True)
    out = ALL_FNS[name](_field(name, x), x)
    assert out.shape[0] == 0
