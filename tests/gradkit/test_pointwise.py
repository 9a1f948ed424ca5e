"""Tests for gradkit.pointwise: derivative, partial, gradient and Derivatives."""

from __future__ import annotations

import pytest
import torch
from gradkit_helpers import func_hessian, func_jacobian, mlp, points

from gradkit import Derivatives, derivative, gradient, partial

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

# name, f, [d f, d2 f, d3 f, d4 f] as closed forms
CASES_1D = [
    ("cube", lambda x: x**3, [lambda x: 3 * x**2, lambda x: 6 * x, lambda x: 6 + 0 * x,
                              lambda x: 0 * x]),
    ("sin", torch.sin, [torch.cos, lambda x: -torch.sin(x), lambda x: -torch.cos(x), torch.sin]),
    ("exp2x", lambda x: torch.exp(2 * x), [lambda x: 2 * torch.exp(2 * x),
                                           lambda x: 4 * torch.exp(2 * x),
                                           lambda x: 8 * torch.exp(2 * x),
                                           lambda x: 16 * torch.exp(2 * x)]),
    ("linear", lambda x: 3 * x + 1, [lambda x: 3 + 0 * x, lambda x: 0 * x, lambda x: 0 * x,
                                     lambda x: 0 * x]),
]


def _x1d(shape: tuple[int, ...]) -> torch.Tensor:
    """Return float64 1-D points of the given shape that require grad."""
    return torch.linspace(-1.0, 2.0, 7, dtype=torch.float64).reshape(shape).requires_grad_()


@pytest.mark.parametrize("shape", [(7,), (7, 1)], ids=["N", "N1"])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize(("name", "f", "refs"), CASES_1D, ids=[c[0] for c in CASES_1D])
def test_derivative_closed_forms(name, f, refs, order, shape):
    """derivative matches the closed form for every order and both 1-D shapes."""
    x = _x1d(shape)
    out = derivative(f(x), x, order)
    assert out.shape == x.shape
    torch.testing.assert_close(out, refs[order - 1](x.detach()))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize(("name", "f", "refs"), CASES_1D, ids=[c[0] for c in CASES_1D])
def test_derivative_of_a_callable_closed_forms(name, f, refs, order):
    """The callable form: orders 1 and 2 from the forward mode, higher ones by nested
    passes; each order its own closed form."""
    x = _x1d((7, 1)).detach()
    out = derivative(f, x, order)
    torch.testing.assert_close(out, refs[order - 1](x))


def test_derivative_of_a_coupled_callable_says_why_the_forward_mode_did_not_run():
    """Above order 2 gradkit calls the model plainly; a model that mixes the points is
    refused, and the message says the order was the reason for the plain call."""
    import gradkit as gk

    x = _x1d((7, 1)).detach()
    with pytest.raises(gk.CouplingError, match=r"\(the forward mode stopped earlier: orders "
                       r"above 2 use nested backward passes\)"):
        derivative(lambda t: torch.sin(t - t.mean(0)), x, 3)


def test_derivatives_of_a_coupled_callable_says_why_the_forward_mode_did_not_run():
    import gradkit as gk

    x = torch.rand(5, 2, dtype=torch.float64)
    with pytest.raises(gk.CouplingError, match=r"\(the forward mode stopped earlier: mixed "
                       r"partials use nested passes\)"):
        Derivatives(lambda t: torch.sin(t - t.mean(0)).sum(1), x)


def test_derivative_second_of_linear_is_zero():
    """The second derivative of 3x + 1 is zero, not an error."""
    x = _x1d((7,))
    out = derivative(3 * x + 1, x, order=2)
    torch.testing.assert_close(out, torch.zeros_like(x))


def test_derivative_keeps_graph_by_default():
    """A first derivative keeps its graph and can be differentiated again."""
    x = _x1d((7,))
    d1 = derivative(x**3, x)
    assert d1.requires_grad
    (d2,) = torch.autograd.grad(d1.sum(), x)
    torch.testing.assert_close(d2, 6 * x.detach())


@pytest.mark.parametrize("order", [1, 2, 3])
def test_derivative_create_graph_false(order):
    """create_graph=False gives the same values, in a tensor that does not require grad."""
    x = _x1d((7,))
    out = derivative(torch.sin(x), x, order, create_graph=False)
    assert not out.requires_grad
    torch.testing.assert_close(out, CASES_1D[1][2][order - 1](x.detach()))


def test_derivative_allow_unused_gives_zeros():
    """allow_unused=True returns zeros for an output that ignores x."""
    x = _x1d((7,))
    w = torch.ones(7, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(derivative(w * 2, x, allow_unused=True), torch.zeros(7).double())


def test_derivative_gradcheck():
    """The second derivative's own gradient passes torch.autograd.gradcheck in float64."""
    x = _x1d((7,))
    assert torch.autograd.gradcheck(lambda t: derivative(torch.sin(t) * t, t, 2), (x,))


# u(x0, x1, x2) = x0^2 x1 + sin(x2); closed-form partials by (dim, order)
PARTIALS = [
    ((0, 1), lambda x: 2 * x[:, 0] * x[:, 1]),
    ((0, 2), lambda x: 2 * x[:, 1]),
    ((0, 3), lambda x: 0 * x[:, 0]),
    ((1, 1), lambda x: x[:, 0] ** 2),
    ((1, 2), lambda x: 0 * x[:, 0]),
    ((2, 1), lambda x: torch.cos(x[:, 2])),
    ((2, 2), lambda x: -torch.sin(x[:, 2])),
    ((-1, 4), lambda x: torch.sin(x[:, 2])),
    ((-3, 1), lambda x: 2 * x[:, 0] * x[:, 1]),
]


def _u3(x: torch.Tensor) -> torch.Tensor:
    """Return the test field x0^2 x1 + sin(x2)."""
    return x[:, 0] ** 2 * x[:, 1] + torch.sin(x[:, 2])


@pytest.mark.parametrize(
    ("dim_order", "ref"), PARTIALS, ids=[f"d{a}o{b}" for (a, b), _ in PARTIALS]
)
def test_partial_closed_forms(dim_order, ref):
    """partial matches the closed form for each column and order."""
    x = points(5, 3)
    dim, order = dim_order
    out = partial(_u3(x), x, dim, order)
    assert out.shape == (5,)
    torch.testing.assert_close(out, ref(x.detach()))


@pytest.mark.parametrize(("order", "ref"), [(2, lambda x: -torch.sin(x[:, 2])),
                                            (3, lambda x: -torch.cos(x[:, 2]))])
def test_partial_create_graph_false(order, ref):
    """create_graph=False gives the closed-form values of higher partials, without a graph."""
    x = points(5, 3)
    out = partial(_u3(x), x, 2, order, create_graph=False)
    assert not out.requires_grad
    torch.testing.assert_close(out, ref(x.detach()))


@pytest.mark.parametrize("order", [2, 3])
def test_partial_of_linear_field_is_zero(order):
    """Partials of a field linear in x become constant, so higher orders are zeros, not errors."""
    x = points(5, 2)
    out = partial(3 * x[:, 0] + x[:, 1], x, 0, order)
    torch.testing.assert_close(out, torch.zeros(5, dtype=torch.float64))


def test_partial_keeps_shape_of_y():
    """partial returns the shape of y, (N, 1) here, so residuals do not broadcast to (N, N)."""
    x = points(5, 2)
    y = (x[:, :1] ** 2) * x[:, 1:]
    assert partial(y, x, 0).shape == (5, 1)


def test_partial_one_dimensional_x():
    """partial accepts x of shape (N,) with dim 0."""
    x = _x1d((7,))
    torch.testing.assert_close(partial(x**3, x, 0, 2), 6 * x.detach())


@pytest.mark.parametrize("d", [1, 2, 5])
def test_gradient_matches_torch_func(d):
    """gradient of an MLP matches torch.func.jacrev, shape (N, d)."""
    net = mlp(d)
    x = points(6, d)
    g = gradient(net(x), x)
    assert g.shape == (6, d)
    torch.testing.assert_close(g, func_jacobian(net, x)[:, 0, :])


def test_gradient_one_dimensional_shapes():
    """gradient of y (N,) wrt x (N,) has shape (N,)."""
    x = _x1d((7,))
    torch.testing.assert_close(gradient(x**2, x), 2 * x.detach())


def test_derivatives_w4_computes_each_once():
    """Derivatives gives u_x, u_y, u_xx, u_yy, u_xy with three backward passes."""
    net = mlp(2)
    x = points(8, 2)
    d = Derivatives(net(x), x)
    vals = [d[0], d[1], d[0, 0], d[1, 1], d[0, 1], d[1, 0], d[0], d.partial(1, 2)]
    assert d.n_backward == 3
    h = func_hessian(net, x)
    jac = func_jacobian(net, x)[:, 0, :]
    for v, ref in zip(vals, [jac[:, 0], jac[:, 1], h[:, 0, 0], h[:, 1, 1], h[:, 0, 1],
                             h[:, 1, 0], jac[:, 0], h[:, 1, 1]], strict=True):
        torch.testing.assert_close(v.squeeze(-1), ref)


def test_derivatives_laplacian_and_gradient():
    """Derivatives.laplacian and .gradient agree with closed forms."""
    x = points(5, 3)
    d = Derivatives(_u3(x), x)
    xd = x.detach()
    torch.testing.assert_close(d.laplacian(), 2 * xd[:, 1] - torch.sin(xd[:, 2]))
    torch.testing.assert_close(d.gradient()[:, 1], xd[:, 0] ** 2)


def test_derivatives_third_order_and_no_graph():
    """Derivatives computes third-order mixed partials and detaches when asked."""
    x = points(5, 3)
    d = Derivatives(_u3(x), x, create_graph=False)
    out = d[0, 0, 1]
    torch.testing.assert_close(out, 2 + 0 * x.detach()[:, 0])
    assert not out.requires_grad


@pytest.mark.parametrize(("key", "exc", "match"), [
    ((), TypeError, r"^Derivatives: index must be at least one column"),
    (3, ValueError, r"^Derivatives: `dim` is 3, out of range"),
    ((0, 1.5), TypeError, r"^Derivatives: `dim` must be an int"),
])
def test_derivatives_bad_index(key, exc, match):
    """Derivatives rejects empty, out-of-range and non-int indices."""
    x = points(4, 2)
    d = Derivatives(x[:, 0] * x[:, 1], x)
    with pytest.raises(exc, match=match):
        d[key]


def test_derivatives_bad_order():
    """Derivatives.partial rejects order 0."""
    x = points(4, 2)
    with pytest.raises(ValueError, match=r"^Derivatives.partial: `order` must be a positive"):
        Derivatives(x[:, 0], x).partial(0, 0)


def test_derivatives_of_linear_field():
    """Second partials of a linear field are zeros, including the Laplacian, not errors."""
    x = points(4, 2)
    d = Derivatives(3 * x[:, 0] - 2 * x[:, 1], x)
    torch.testing.assert_close(d[1], torch.full((4,), -2.0, dtype=torch.float64))
    zeros = torch.zeros(4, dtype=torch.float64)
    for out in (d[0, 0], d[0, 1], d.partial(1, 3), d.laplacian()):
        torch.testing.assert_close(out, zeros)


def test_derivatives_partial_default_order_is_one():
    """Derivatives.partial without an order is the first partial derivative."""
    x = points(5, 3)
    d = Derivatives(_u3(x), x)
    torch.testing.assert_close(d.partial(1), x.detach()[:, 0] ** 2)


def test_gradient_of_a_callable_has_the_shapes_of_the_tensor_form():
    """The forward path returns what the nested one does: (N,) for points (N,), and one
    column per entry of dims."""
    x1 = torch.linspace(0.0, 1.0, 4, dtype=torch.float64)
    torch.testing.assert_close(gradient(torch.sin, x1), torch.cos(x1))
    x = torch.rand(4, 3, dtype=torch.float64)
    f = lambda t: (t.sin() * torch.arange(1.0, 4.0, dtype=t.dtype)).sum(1)  # noqa: E731
    torch.testing.assert_close(gradient(f, x, dims=[2, 0]),
                               torch.stack([3 * x[:, 2].cos(), x[:, 0].cos()], dim=1))
    xg = x.clone().requires_grad_()
    assert gradient(f, x, dims=[1]).shape == gradient(f(xg), xg, dims=[1]).shape == (4, 1)
