"""Tests for gradkit.coordinates: closed forms, the Cartesian operators, and the identities
div curl = 0, curl grad = 0, div grad = Laplacian (as neurodiffeq tests its operators)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

import gradkit as gk

TOL = {"atol": 1e-9, "rtol": 1e-9}


def _cyl(n: int = 12, width: int = 3, seed: int = 0) -> Tensor:
    """Points (r, phi, z) with r in [0.5, 2], off the axis."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, width, generator=g, dtype=torch.float64)
    x[:, 0] = 0.5 + 1.5 * x[:, 0]
    x[:, 1] = 2 * math.pi * x[:, 1]
    return x.requires_grad_()


def _sph(n: int = 12, seed: int = 0) -> Tensor:
    """Points (r, theta, phi) with r in [0.5, 2] and theta in [0.3, pi - 0.3]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=g, dtype=torch.float64)
    x[:, 0] = 0.5 + 1.5 * x[:, 0]
    x[:, 1] = 0.3 + (math.pi - 0.6) * x[:, 1]
    x[:, 2] = 2 * math.pi * x[:, 2]
    return x.requires_grad_()


def _net(width: int, out: int, seed: int = 3) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(width, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, out)).double()


def _cyl_to_cart(x: Tensor) -> Tensor:
    r, p, z = x.unbind(1)
    return torch.stack([r * torch.cos(p), r * torch.sin(p), z], dim=1)


def _sph_to_cart(x: Tensor) -> Tensor:
    r, t, p = x.unbind(1)
    return torch.stack([r * torch.sin(t) * torch.cos(p), r * torch.sin(t) * torch.sin(p),
                        r * torch.cos(t)], dim=1)


def test_cylindrical_closed_forms():
    x = _cyl()
    r, p, z = x.unbind(1)
    u = r**3 * torch.sin(p) + z**2  # (x^2 + y^2) y + z^2: Laplacian 8 y + 2
    torch.testing.assert_close(gk.cylindrical_laplacian(u, x), 8 * r * torch.sin(p) + 2, **TOL)
    grad = torch.stack([3 * r**2 * torch.sin(p), r**2 * torch.cos(p), 2 * z], dim=1)
    torch.testing.assert_close(gk.cylindrical_gradient(u, x), grad, **TOL)
    v = torch.stack([r**2, r * z, torch.sin(p) * z], dim=1)
    torch.testing.assert_close(gk.cylindrical_divergence(v, x), 3 * r + torch.sin(p), **TOL)
    rot = torch.stack([torch.cos(p) * z / r - r, torch.zeros_like(r), 2 * z], dim=1)
    torch.testing.assert_close(gk.cylindrical_curl(v, x), rot, **TOL)


def test_polar_closed_forms():
    """Two columns (r, phi): the plane's operators; r^n cos(n phi) is harmonic."""
    x = _cyl(width=2)
    r, p = x.unbind(1)
    torch.testing.assert_close(gk.cylindrical_laplacian(r**3 * torch.cos(3 * p), x),
                               torch.zeros_like(r), **TOL)
    torch.testing.assert_close(gk.cylindrical_laplacian(r**2, x), torch.full_like(r, 4.0), **TOL)


def test_spherical_closed_forms():
    x = _sph()
    r, t, p = x.unbind(1)
    u = r**2 * torch.cos(t)  # r z: Laplacian 4 z / r = 4 cos(theta)
    torch.testing.assert_close(gk.spherical_laplacian(u, x), 4 * torch.cos(t), **TOL)
    # r^l Y_l^m is harmonic: r^2 sin^2(theta) cos(2 phi) = x^2 - y^2
    h = r**2 * torch.sin(t) ** 2 * torch.cos(2 * p)
    torch.testing.assert_close(gk.spherical_laplacian(h, x), torch.zeros_like(r), **TOL)
    grad = torch.stack([2 * r * torch.cos(t), -r * torch.sin(t), torch.zeros_like(r)], dim=1)
    torch.testing.assert_close(gk.spherical_gradient(u, x), grad, **TOL)
    v = torch.stack([r**2, torch.zeros_like(r), torch.zeros_like(r)], dim=1)
    torch.testing.assert_close(gk.spherical_divergence(v, x), 4 * r, **TOL)
    w = torch.stack([torch.zeros_like(r), torch.zeros_like(r), r * torch.sin(t)], dim=1)
    rot = torch.stack([2 * torch.cos(t), -2 * torch.sin(t), torch.zeros_like(r)], dim=1)
    torch.testing.assert_close(gk.spherical_curl(w, x), rot, **TOL)


@pytest.mark.parametrize("system", ["cylindrical", "spherical"])
def test_laplacian_matches_cartesian(system):
    """The curvilinear Laplacian of f(cartesian(x)) equals the Cartesian Laplacian of f."""
    x = _cyl() if system == "cylindrical" else _sph()
    to_cart = _cyl_to_cart if system == "cylindrical" else _sph_to_cart
    f = _net(3, 1)
    lap = getattr(gk, f"{system}_laplacian")(f(to_cart(x))[:, 0], x)
    xc = to_cart(x).detach().requires_grad_()
    torch.testing.assert_close(lap, gk.laplacian(f(xc)[:, 0], xc), **TOL)


@pytest.mark.parametrize("system", ["cylindrical", "spherical"])
def test_identities(system):
    """div curl v = 0, curl grad u = 0 and div grad u = Laplacian u on network fields."""
    x = _cyl() if system == "cylindrical" else _sph()
    op = {name: getattr(gk, f"{system}_{name}")
          for name in ("gradient", "divergence", "laplacian", "curl")}
    v = _net(3, 3)(x)
    u = _net(3, 1, seed=5)(x)[:, 0]
    zero = torch.zeros(x.shape[0], dtype=x.dtype)
    torch.testing.assert_close(op["divergence"](op["curl"](v, x), x), zero, **TOL)
    torch.testing.assert_close(op["curl"](op["gradient"](u, x), x),
                               torch.zeros_like(x), **TOL)
    torch.testing.assert_close(op["divergence"](op["gradient"](u, x), x),
                               op["laplacian"](u, x), **TOL)


@pytest.mark.parametrize("name", ["cylindrical_curl", "spherical_laplacian",
                                  "spherical_divergence", "cylindrical_gradient"])
def test_wrong_width_is_reported(name):
    x = torch.rand(4, 4, requires_grad=True)
    with pytest.raises(ValueError, match=rf"^{name}: `x` must hold the coordinates"):
        getattr(gk, name)(torch.sin(x), x)


def test_empty_batch():
    x = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    assert gk.spherical_laplacian(x.sum(1), x, allow_unused=True).shape == (0,)
    assert gk.cylindrical_curl(x * 2, x, allow_unused=True).shape == (0, 3)


def _parabolic_h(q: Tensor) -> Tensor:
    s, t = q[:, 0], q[:, 1]
    return torch.stack([torch.hypot(s, t), torch.hypot(s, t), s * t], dim=1)


PARABOLIC = gk.OrthogonalCoordinates("parabolic", "(sigma, tau, phi)", _parabolic_h, (3,))


def _par(n: int = 12, seed: int = 0) -> Tensor:
    """Points (sigma, tau, phi) with sigma, tau in [0.5, 1.5]."""
    g = torch.Generator().manual_seed(seed)
    q = torch.rand(n, 3, generator=g, dtype=torch.float64)
    q[:, :2] += 0.5
    q[:, 2] *= 2 * math.pi
    return q.requires_grad_()


def test_a_users_system_parabolic_closed_forms():
    """|X|^2 = (s^2 + t^2)^2 / 4: gradient 2X, Laplacian 6; X itself: divergence 3, curl 0."""
    q = _par()
    s, t = q[:, 0], q[:, 1]
    rho = torch.hypot(s, t)
    x_local = torch.stack([s * rho / 2, t * rho / 2, torch.zeros_like(s)], dim=1)  # X
    f = rho**4 / 4
    torch.testing.assert_close(PARABOLIC.gradient(f, q), 2 * x_local, **TOL)
    torch.testing.assert_close(PARABOLIC.laplacian(f, q), torch.full_like(s, 6.0), **TOL)
    torch.testing.assert_close(PARABOLIC.divergence(x_local, q), torch.full_like(s, 3.0), **TOL)
    torch.testing.assert_close(PARABOLIC.curl(x_local, q), torch.zeros_like(q), **TOL)


def test_a_users_system_matches_cartesian():
    """The parabolic Laplacian of f(cartesian(q)) equals the Cartesian Laplacian of f."""
    q = _par()
    s, t, p = q.unbind(1)
    to_cart = torch.stack([s * t * torch.cos(p), s * t * torch.sin(p), (t**2 - s**2) / 2], 1)
    f = _net(3, 1)
    xc = to_cart.detach().requires_grad_()
    torch.testing.assert_close(PARABOLIC.laplacian(f(to_cart)[:, 0], q),
                               gk.laplacian(f(xc)[:, 0], xc), **TOL)
    with pytest.raises(ValueError, match=r"^parabolic_laplacian: `x` must hold .*\(sigma"):
        PARABOLIC.laplacian(s, q[:, :2])


def test_a_users_planar_system_elliptic():
    """Elliptic coordinates (mu, nu): x^2 + y^2 = cosh^2 mu cos^2 nu + sinh^2 mu sin^2 nu
    has Laplacian 4."""
    elliptic = gk.OrthogonalCoordinates(
        "elliptic", "(mu, nu)",
        lambda q: torch.hypot(torch.sinh(q[:, 0]), torch.sin(q[:, 1])).unsqueeze(1).expand(-1, 2),
        (2,),
    )
    q = _par()[:, :2].detach().requires_grad_()
    mu, nu = q[:, 0], q[:, 1]
    f = (torch.cosh(mu) * torch.cos(nu)) ** 2 + (torch.sinh(mu) * torch.sin(nu)) ** 2
    torch.testing.assert_close(elliptic.laplacian(f, q), torch.full_like(mu, 4.0), **TOL)


def _cartesian() -> gk.OrthogonalCoordinates:
    """Cartesian coordinates as a system: scale factors 1, nothing in them depends on x."""
    return gk.OrthogonalCoordinates("cartesian", "(x, y, z)", torch.ones_like, (3,))


def test_a_field_that_ignores_x_is_refused_or_zero_with_allow_unused():
    """With constant scale factors nothing hides a field that does not depend on x: each
    operator raises naming it, or returns zeros with allow_unused=True."""
    cart, x = _cartesian(), _cyl()
    other = _cyl().detach().requires_grad_()
    fields = {"gradient": other[:, 0] ** 2, "laplacian": other[:, 0] ** 2,
              "divergence": other**2, "curl": other**2}
    shapes = {"gradient": (12, 3), "laplacian": (12,), "divergence": (12,), "curl": (12, 3)}
    for op, field in fields.items():
        name = "u" if op in ("gradient", "laplacian") else "v"
        with pytest.raises(ValueError, match=rf"^cartesian_{op}: `{name}` does not depend on"):
            getattr(cart, op)(field, x)
        zeros = getattr(cart, op)(field, x, allow_unused=True)
        torch.testing.assert_close(zeros, torch.zeros(shapes[op], dtype=x.dtype))


def test_laplacian_of_a_linear_field_is_zero():
    """Its gradient has no graph: the second derivatives are zeros, not an error."""
    x = _cyl()
    torch.testing.assert_close(_cartesian().laplacian(3 * x[:, 0] + x[:, 2], x),
                               torch.zeros(12, dtype=x.dtype))


@pytest.mark.parametrize("op", ["gradient", "divergence", "laplacian", "curl"])
def test_results_keep_their_graph_by_default(op):
    """The default create_graph=True keeps the derivative's own graph: the result can be
    differentiated again (here with respect to x), as with create_graph=True."""
    x = _cyl()
    field = (_net(3, 1, seed=5)(x)[:, 0] if op in ("gradient", "laplacian")
             else _net(3, 3)(x))
    default = getattr(gk.cylindrical, op)(field, x)
    explicit = getattr(gk.cylindrical, op)(field, x, create_graph=True)
    cut = getattr(gk.cylindrical, op)(field, x, create_graph=False)
    (g_default,) = torch.autograd.grad(default.sum(), x, retain_graph=True)
    (g_explicit,) = torch.autograd.grad(explicit.sum(), x, retain_graph=True)
    (g_cut,) = torch.autograd.grad(cut.sum(), x, retain_graph=True)
    torch.testing.assert_close(g_default, g_explicit, **TOL)
    assert not torch.allclose(g_default, g_cut)


def test_scalar_operators_refuse_a_vector_u():
    x = _cyl()
    with pytest.raises(ValueError, match=r"^cylindrical_gradient: `u` must be a scalar field"):
        gk.cylindrical_gradient(torch.sin(x), x)


def test_points_of_shape_n_are_refused():
    x = torch.rand(5, requires_grad=True)
    with pytest.raises(ValueError, match=r"^spherical_laplacian: `x` must have shape \(N, d\)"):
        gk.spherical_laplacian(x**2, x)


def test_the_curl_needs_three_coordinates_even_where_the_system_has_two():
    """Polar points are cylindrical points of width 2: the curl still asks for (r, phi, z)."""
    x = _cyl(width=2)
    with pytest.raises(ValueError) as info:
        gk.cylindrical_curl(torch.sin(x), x)
    assert str(info.value) == (
        "cylindrical_curl: `x` must hold the coordinates (r, phi, z) or (r, phi), one column "
        "each: shape (N, 3), got (12, 2)."
    )


@pytest.mark.parametrize(("system", "width", "message"), [
    (lambda: gk.cylindrical, 4,
     "cylindrical_gradient: `x` must hold the coordinates (r, phi, z) or (r, phi), one "
     "column each: shape (N, 2) or (N, 3), got (4, 4)."),
    # made in the test, so that a mutation test judges the constructor too
    (lambda: gk.OrthogonalCoordinates("parabolic", "(sigma, tau, phi)", _parabolic_h, (3,)), 2,
     "parabolic_gradient: `x` must hold the coordinates (sigma, tau, phi), one column "
     "each: shape (N, 3), got (4, 2)."),
], ids=["cylindrical", "a-users-system"])
def test_wrong_width_message_names_the_coordinates_and_every_width(system, width, message):
    x = torch.rand(4, width, requires_grad=True)
    with pytest.raises(ValueError) as info:
        system().gradient(x.sum(1), x)
    assert str(info.value) == message


def test_a_users_system_repr_names_its_coordinates():
    parabolic = gk.OrthogonalCoordinates("parabolic", "(sigma, tau, phi)", _parabolic_h, (3,))
    assert repr(parabolic) == "OrthogonalCoordinates('parabolic', '(sigma, tau, phi)')"


def test_a_constant_field_keeps_the_terms_without_derivatives():
    """With allow_unused=True a field that needs no grad has zero derivatives, and what is
    left are the scale factors' terms: div v = v_r / r, curl v = (0, 0, v_phi / r)."""
    x = _cyl()
    v = torch.tensor([[2.0, 3.0, 5.0]], dtype=x.dtype).expand(x.shape[0], 3)
    r = x.detach()[:, 0]
    torch.testing.assert_close(gk.cylindrical_divergence(v, x, allow_unused=True), 2.0 / r)
    zero = torch.zeros_like(r)
    torch.testing.assert_close(gk.cylindrical_curl(v, x, allow_unused=True),
                               torch.stack([zero, zero, 3.0 / r], dim=1))
    with pytest.raises(ValueError, match="^cylindrical_divergence: `v` does not require grad"):
        gk.cylindrical_divergence(v, x)
