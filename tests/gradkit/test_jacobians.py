"""Tests for gradkit.jacobians: jacobian, hessian, vjp and jvp."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest
import torch
from gradkit_helpers import func_hessian, func_jacobian, mlp, points

from gradkit import hessian, jacobian, jvp, vjp

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


@pytest.mark.parametrize(("d", "m"), [(1, 1), (3, 3), (2, 4)])
def test_jacobian_matches_torch_func(d, m):
    """jacobian of an MLP matches vmap(jacrev), shape (N, m, d)."""
    net = mlp(d, m)
    x = points(6, d)
    j = jacobian(net(x), x)
    assert j.shape == (6, m, d)
    torch.testing.assert_close(j, func_jacobian(net, x))


def test_jacobian_closed_form_and_shapes():
    """jacobian of (x0 x1, x0^2) matches the closed form; y (N,) and x (N,) count as 1."""
    x = points(4, 2)
    y = torch.stack([x[:, 0] * x[:, 1], x[:, 0] ** 2], 1)
    xd = x.detach()
    ref = torch.stack([torch.stack([xd[:, 1], xd[:, 0]], 1),
                       torch.stack([2 * xd[:, 0], 0 * xd[:, 0]], 1)], 1)
    torch.testing.assert_close(jacobian(y, x), ref)
    t = torch.linspace(0, 1, 5, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(jacobian(t**2, t), (2 * t.detach()).reshape(5, 1, 1))


def test_jacobian_partly_unused_component():
    """A constant output component gives a zero Jacobian row, not an error."""
    x = points(4, 2)
    w = torch.ones(4, dtype=torch.float64, requires_grad=True)
    j = jacobian(torch.stack([x[:, 0] ** 2, w], 1), x)
    torch.testing.assert_close(j[:, 1], torch.zeros(4, 2, dtype=torch.float64))


@pytest.mark.parametrize("d", [1, 3])
def test_hessian_matches_torch_func(d):
    """hessian of an MLP matches vmap(torch.func.hessian), shape (N, d, d)."""
    net = mlp(d)
    x = points(6, d)
    h = hessian(net(x), x)
    assert h.shape == (6, d, d)
    torch.testing.assert_close(h, func_hessian(net, x))


def test_hessian_of_linear_is_zero():
    """The Hessian of a linear field is zero, not an error."""
    x = points(4, 3)
    torch.testing.assert_close(hessian(x.sum(1) * 2, x), torch.zeros(4, 3, 3, dtype=torch.float64))


def test_hessian_keeps_graph_and_gradcheck():
    """hessian keeps its graph by default and its gradient passes gradcheck."""
    x = points(3, 2)
    assert hessian(torch.sin(x).prod(1), x).requires_grad
    assert not hessian(torch.sin(x).prod(1), x, create_graph=False).requires_grad
    assert torch.autograd.gradcheck(lambda t: hessian(torch.sin(t).prod(1), t), (x,))


def test_vjp_and_jvp_match_jacobian():
    """vjp and jvp (tensor and callable forms) agree with the full Jacobian."""
    net = mlp(3, 2)
    x = points(5, 3)
    j = func_jacobian(net, x)
    u = torch.randn(5, 2, dtype=torch.float64)
    v = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(vjp(net(x), x, u), torch.einsum("nm,nmd->nd", u, j))
    ref = torch.einsum("nmd,nd->nm", j, v)
    torch.testing.assert_close(jvp(net(x), x, v), ref)
    torch.testing.assert_close(jvp(net, x.detach(), v), ref)


def test_products_graph_switch():
    """vjp and jvp keep their graph by default and drop it with create_graph=False."""
    x = points(4, 2)
    y = torch.sin(x) * x
    v = torch.ones(4, 2, dtype=torch.float64)
    assert vjp(y, x, v).requires_grad and jvp(y, x, v).requires_grad
    assert not vjp(y, x, v, create_graph=False).requires_grad
    assert not jvp(y, x, v, create_graph=False).requires_grad
    assert not jvp(torch.sin, x, v, create_graph=False).requires_grad


def test_jvp_of_linear_map():
    """jvp of a linear field (constant Jacobian) is J v."""
    x = points(4, 2)
    v = torch.ones(4, 2, dtype=torch.float64)
    torch.testing.assert_close(jvp(3 * x, x, v), 3 * v)


def test_jvp_callable_keeps_graph_to_weights():
    """Forward-mode jvp of a network keeps the graph to its weights unless create_graph=False."""
    net = mlp(3, 2)
    x = points(5, 3).detach()
    v = torch.ones(5, 3, dtype=torch.float64)
    out = jvp(net, x, v)
    assert out.requires_grad
    g = torch.autograd.grad(out.sum(), net[0].weight)[0]
    ref = torch.func.grad(
        lambda w: torch.einsum("nmd,nd->nm", _jac_with_weight(net, w, x), v).sum()
    )(net[0].weight.detach())
    torch.testing.assert_close(g, ref)
    assert not jvp(net, x, v, create_graph=False).requires_grad


def _jac_with_weight(net, w, x):
    """Return the per-point Jacobian of net with its first weight replaced by w (torch.func)."""
    params = {**dict(net.named_parameters()), "0.weight": w}

    def f(xi: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(net, params, (xi,))

    return torch.vmap(torch.func.jacrev(f))(x)


@pytest.mark.parametrize(("call", "exc", "message"), [
    (lambda x: jvp(lambda t: [t], x, torch.ones(4, 2)), TypeError,
     "jvp: the callable must return a Tensor, got list."),
    (lambda x: jvp(torch.sin, x, torch.ones(4, 3)), ValueError,
     "jvp: `v` must have the shape of `x`, (4, 2), got (4, 3)."),
    (lambda x: jvp(torch.sin(x), x, torch.ones(4, 3)), ValueError,
     "jvp: `v` must have the shape of `x`, (4, 2), got (4, 3)."),
    (lambda x: vjp(torch.sin(x), x, torch.ones(4, 3)), ValueError,
     "vjp: `v` must have the shape of `y`, (4, 2), got (4, 3)."),
], ids=["jvp-callable-output", "jvp-callable-shape", "jvp-shape", "vjp-shape"])
def test_product_errors_in_full(call, exc, message):
    """jvp and vjp errors name the function and the received shapes or type in full."""
    with pytest.raises(exc) as info:
        call(torch.rand(4, 2, requires_grad=True))
    assert str(info.value) == message


def test_jvp_callable_warns_nothing_in_a_fresh_process():
    """The first forward-mode jvp in a process shows no torch-internal deprecation warning."""
    code = (
        "import torch, gradkit\n"
        "x = torch.linspace(0, 1, 6, dtype=torch.float64).reshape(3, 2)\n"
        "print(gradkit.jvp(torch.sin, x, torch.ones_like(x)).sum().item())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    x = torch.linspace(0, 1, 6, dtype=torch.float64).reshape(3, 2)
    assert float(run.stdout) == pytest.approx(jvp(torch.sin, x, torch.ones_like(x)).sum().item())


def test_jvp_callable_passes_user_warnings_through():
    """jvp silences only torch's own deprecation notice, not warnings raised by the callable."""

    def noisy(t: torch.Tensor) -> torch.Tensor:
        warnings.warn("from the user's function", UserWarning, stacklevel=2)
        return torch.sin(t)

    x = points(3, 2).detach()
    with pytest.warns(UserWarning, match="from the user's function"):
        jvp(noisy, x, torch.ones_like(x))
