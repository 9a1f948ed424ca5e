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
}
VECTOR_FNS = {
    "jacobian": gk.jacobian,
    "divergence": gk.divergence,
    "curl": gk.curl,
    "vjp": lambda v, x: gk.vjp(v, x, torch.ones_like(v)),
    "jvp": lambda v, x: gk.jvp(v, x, torch.ones_like(x)),
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
