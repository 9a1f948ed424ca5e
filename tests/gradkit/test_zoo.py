"""The model zoo: every public operator on models a PINN user writes, in float64 against torch.func.

Each model is called the way PyTorch calls it (its own ``forward``, its hooks); the reference is
``torch.func`` applied to the same module one point at a time. The forward (Taylor-mode) path of
``laplacian`` / ``vector_laplacian`` must either match (``strict=True``: no fallback allowed)
or, for a model it cannot see through, warn and return the exact result.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import hessian, jacrev, vmap

import gradkit as gk

TOL = {"atol": 1e-10, "rtol": 1e-8}


# ------------------------------------------------------------------------ the models
class Rescaled(nn.Sequential):
    """A Sequential whose forward maps [0, 1] to [-1, 1] first (a common PINN pattern)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(2 * x - 1)


class DoubledLinear(nn.Linear):
    """A Linear subclass with its own forward."""

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, 2 * self.weight, self.bias)


class Tanh3(nn.Tanh):
    """An activation subclass computing tanh(3 h)."""

    def forward(self, h: Tensor) -> Tensor:
        return torch.tanh(3 * h)


class Residual(nn.Module):
    """Two residual tanh blocks with LayerNorm and a GELU * sin head."""

    def __init__(self, d: int, m: int = 1, w: int = 12) -> None:
        super().__init__()
        self.inp, self.b1, self.b2 = nn.Linear(d, w), nn.Linear(w, w), nn.Linear(w, w)
        self.norm, self.out = nn.LayerNorm(w), nn.Linear(w, m)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(self.inp(x))
        h = h + F.silu(self.b1(h))
        h = self.norm(h + torch.tanh(self.b2(h)))
        return self.out(F.gelu(h) * torch.sin(h))


class Fourier(nn.Module):
    """Random Fourier features (fixed B) followed by a softplus MLP."""

    def __init__(self, d: int, buffer: bool = True, w: int = 8) -> None:
        super().__init__()
        b = torch.randn(d, w, dtype=torch.float64) * 2
        if buffer:
            self.register_buffer("B", b)
        else:
            self.B = b  # a plain tensor attribute, not a buffer
        self.hidden, self.out = nn.Linear(2 * w, w), nn.Linear(w, 1)

    def forward(self, x: Tensor) -> Tensor:
        z = 2 * math.pi * x @ self.B
        h = torch.cat([torch.sin(z), torch.cos(z)], dim=-1)
        return self.out(F.softplus(self.hidden(h), beta=2.0))


class OnColumn(nn.Module):
    """A network of one input variable that takes points of shape (N,) and returns (N,)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 10), nn.Tanh(), nn.Linear(10, 1))

    def forward(self, t: Tensor) -> Tensor:
        return self.net(t.unsqueeze(-1)).squeeze(-1)


class Cube(torch.autograd.Function):
    """A custom autograd.Function (x^3 with its true derivative)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return x**3

    @staticmethod
    def setup_context(ctx: object, inputs: tuple[Tensor], output: Tensor) -> None:
        ctx.save_for_backward(inputs[0])  # type: ignore[attr-defined]
        ctx.save_for_forward(inputs[0])  # type: ignore[attr-defined]

    @staticmethod
    def jvp(ctx: object, t: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return 3 * x**2 * t

    @staticmethod
    def backward(ctx: object, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return 3 * x**2 * g


class WithCube(nn.Sequential):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(Cube.apply(x))


def _seq(d: int, m: int, act: Callable[[], nn.Module] = nn.Tanh, w: int = 10) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d, w), act(), nn.Linear(w, w), act(), nn.Linear(w, m))


def _hooked_output(d: int, m: int) -> nn.Module:
    net = _seq(d, m)
    net[1].register_forward_hook(lambda mod, args, out: 1.5 * out + 0.1)
    return net


def _hooked_input(d: int, m: int) -> nn.Module:
    net = _seq(d, m)
    net.register_forward_pre_hook(lambda mod, args: (3 * args[0],))
    return net


def _backward_hooked(d: int, m: int) -> nn.Module:
    net = _seq(d, m)
    net[1].register_full_backward_hook(lambda mod, gin, gout: None)
    return net


# name -> (builder(d, m), input width d, output width m, forward path expected to run)
ZOO: dict[str, tuple[Callable[[int, int], nn.Module], int, int, bool]] = {
    "sequential-tanh": (_seq, 3, 1, True),
    "sequential-subclass-forward": (lambda d, m: Rescaled(*_seq(d, m)), 3, 1, True),
    "linear-subclass": (
        lambda d, m: nn.Sequential(DoubledLinear(d, 10), nn.Tanh(), DoubledLinear(10, m)), 3, 1,
        True),
    "activation-subclass": (lambda d, m: _seq(d, m, Tanh3), 3, 1, True),
    "forward-hook": (_hooked_output, 3, 1, True),
    "forward-pre-hook": (_hooked_input, 3, 1, True),
    "residual-layernorm": (lambda d, m: Residual(d, m), 3, 1, True),
    "fourier-buffer": (lambda d, m: Fourier(d), 3, 1, True),
    "fourier-attribute": (lambda d, m: Fourier(d, buffer=False), 3, 1, True),
    "sin": (lambda d, m: _seq(d, m, lambda: _Fn(torch.sin)), 3, 1, True),
    "gelu": (lambda d, m: _seq(d, m, nn.GELU), 3, 1, True),
    "silu": (lambda d, m: _seq(d, m, nn.SiLU), 3, 1, True),
    "softplus": (lambda d, m: _seq(d, m, nn.Softplus), 3, 1, True),
    "sigmoid": (lambda d, m: _seq(d, m, nn.Sigmoid), 3, 1, True),
    "layernorm": (
        lambda d, m: nn.Sequential(nn.Linear(d, 10), nn.LayerNorm(10), nn.Tanh(),
                                   nn.Linear(10, m)), 3, 1, True),
    "vector-output": (_seq, 3, 3, True),
    "vector-output-residual": (lambda d, m: Residual(d, m), 3, 3, True),
    "custom-function": (lambda d, m: WithCube(*_seq(d, m)), 3, 1, True),
    # torch wires a full backward hook into the graph of everything the module outputs,
    # the carried derivatives included: the forward path refuses it (when grad is on).
    "backward-hook": (_backward_hooked, 3, 1, False),
    "gelu-tanh-approx": (lambda d, m: _seq(d, m, lambda: nn.GELU(approximate="tanh")), 3, 1,
                         False),
}


class _Fn(nn.Module):
    def __init__(self, f: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.f = f

    def forward(self, h: Tensor) -> Tensor:
        return self.f(h)


def _model(name: str) -> tuple[nn.Module, Tensor, bool]:
    build, d, m, fast = ZOO[name]
    torch.manual_seed(0)
    net = build(d, m).double()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(6, d, generator=g, dtype=torch.float64)
    return net, x, fast


def _ref_jac_hess(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-point Jacobian (N, m, d) and Hessians (N, m, d, d) from torch.func."""

    def f(xi: Tensor) -> Tensor:
        return net(xi.unsqueeze(0)).reshape(-1)

    return vmap(jacrev(f))(x), vmap(hessian(f))(x)


@contextlib.contextmanager
def _expect_fast(fast: bool) -> Iterator[dict[str, bool]]:
    """Run the forward path strictly when it must run, else expect a TaylorModeWarning."""
    if fast:
        yield {"strict": True}
    else:
        with pytest.warns(gk.TaylorModeWarning, match="forward .Taylor-mode. path cannot run"):
            yield {}


def _reference(name: str, net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    if name == "backward-hook":
        # torch.func refuses modules with backward hooks; the hook returns None, so the
        # function is the same Sequential without it.
        clean = _seq(3, 1).double()
        clean.load_state_dict(net.state_dict())
        return _ref_jac_hess(clean, x)
    return _ref_jac_hess(net, x)


@pytest.mark.parametrize("name", ZOO)
def test_every_operator_matches_torch_func(name):
    net, x0, fast = _model(name)
    jac, hes = _reference(name, net, x0)  # (N, m, d), (N, m, d, d)
    n, m, d = jac.shape
    x = x0.clone().requires_grad_()
    y = net(x)
    lap_ref = hes.diagonal(dim1=-2, dim2=-1).sum(-1)  # (N, m)

    torch.testing.assert_close(gk.jacobian(y, x), jac, **TOL)
    torch.testing.assert_close(gk.vjp(y, x, torch.ones_like(y)), jac.sum(1), **TOL)
    v = torch.linspace(-1, 1, n * d, dtype=x.dtype).reshape(n, d)
    torch.testing.assert_close(gk.jvp(y, x, v), (jac @ v.unsqueeze(-1)).squeeze(-1), **TOL)
    torch.testing.assert_close(gk.jvp(net, x0, v), (jac @ v.unsqueeze(-1)).squeeze(-1), **TOL)
    torch.testing.assert_close(gk.vector_laplacian(y, x), lap_ref, **TOL)
    with _expect_fast(fast) as kw:
        torch.testing.assert_close(gk.vector_laplacian(net, x0, **kw), lap_ref, **TOL)
    if m == d == 3:
        div = jac.diagonal(dim1=-2, dim2=-1).sum(-1)
        torch.testing.assert_close(gk.divergence(y, x), div, **TOL)
        rot = torch.stack([jac[:, 2, 1] - jac[:, 1, 2], jac[:, 0, 2] - jac[:, 2, 0],
                           jac[:, 1, 0] - jac[:, 0, 1]], dim=1)
        torch.testing.assert_close(gk.curl(y, x), rot, **TOL)
        torch.testing.assert_close(gk.divergence(y[:, 1:], x, dims=[1, 2]),
                                   div - jac[:, 0, 0], **TOL)
    if m != 1:
        return
    u = y[:, 0]
    g, h, lap = jac[:, 0], hes[:, 0], lap_ref[:, 0]
    torch.testing.assert_close(gk.gradient(u, x), g, **TOL)
    torch.testing.assert_close(gk.gradient(u, x, dims=[2, 0]), g[:, [2, 0]], **TOL)
    torch.testing.assert_close(gk.partial(u, x, 1), g[:, 1], **TOL)
    torch.testing.assert_close(gk.partial(u, x, 1, order=2), h[:, 1, 1], **TOL)
    ds = gk.Derivatives(u, x)
    torch.testing.assert_close(ds[0, 2], h[:, 0, 2], **TOL)
    torch.testing.assert_close(ds.laplacian(), lap, **TOL)
    torch.testing.assert_close(gk.hessian(u, x), h, **TOL)
    torch.testing.assert_close(gk.laplacian(u, x), lap, **TOL)
    torch.testing.assert_close(gk.laplacian(y, x), lap.unsqueeze(1), **TOL)
    torch.testing.assert_close(gk.laplacian(u, x, dims=[1, 2]), lap - h[:, 0, 0], **TOL)
    with _expect_fast(fast) as kw:
        torch.testing.assert_close(gk.laplacian(net, x0, **kw), lap.unsqueeze(1), **TOL)
    with _expect_fast(fast) as kw:
        torch.testing.assert_close(gk.laplacian(net, x0, dims=[0, 2], **kw),
                                   (lap - h[:, 1, 1]).unsqueeze(1), **TOL)
    k = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]], dtype=x.dtype)
    torch.testing.assert_close(gk.weighted_laplacian(u, x, k), (h * k).sum((1, 2)), **TOL)


NO_LAYERNORM = ["residual-layernorm", "layernorm"]


@pytest.mark.parametrize(
    "name", [n for n, (_, _, m, fast) in ZOO.items() if m == 1 and fast and n not in NO_LAYERNORM]
)
def test_forward_path_weight_gradients_match_exact_path(name):
    """Training through the forward path gives the weight gradients of the exact path."""
    net, x0, _ = _model(name)
    params = [p for p in net.parameters() if p.requires_grad]
    fast = gk.laplacian(net, x0, strict=True)
    g_fast = torch.autograd.grad(fast.square().sum(), params, materialize_grads=True)
    x = x0.clone().requires_grad_()
    slow = gk.laplacian(net(x), x)
    g_slow = torch.autograd.grad(slow.square().sum(), params, materialize_grads=True)
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_points_of_shape_n():
    """A network of (N,) points: derivative, laplacian (both paths) against torch.func."""
    torch.manual_seed(0)
    net = OnColumn().double()
    t0 = torch.linspace(-1, 1, 7, dtype=torch.float64)
    d2 = vmap(hessian(lambda ti: net(ti.reshape(1)).reshape(())))(t0)
    d1 = vmap(jacrev(lambda ti: net(ti.reshape(1)).reshape(())))(t0)
    t = t0.clone().requires_grad_()
    u = net(t)
    torch.testing.assert_close(gk.derivative(u, t), d1, **TOL)
    torch.testing.assert_close(gk.derivative(u, t, order=2), d2, **TOL)
    torch.testing.assert_close(gk.laplacian(u, t), d2, **TOL)
    torch.testing.assert_close(gk.laplacian(net, t0, strict=True), d2, **TOL)


def test_global_forward_hook_is_honoured():
    """A global module forward hook (torch.nn.modules.module.register_module_forward_hook)
    changes every module's output; the forward path runs it and stays exact."""
    net, x0, _ = _model("sequential-tanh")

    def hook(mod: nn.Module, args: tuple[Tensor, ...], out: Tensor) -> Tensor | None:
        return torch.sin(out) if isinstance(mod, nn.Tanh) else None

    handle = nn.modules.module.register_module_forward_hook(hook)
    try:
        _, hes = _ref_jac_hess(net, x0)
        lap = gk.laplacian(net, x0, strict=True)
    finally:
        handle.remove()
    plain = _ref_jac_hess(net, x0)[1]
    assert not torch.allclose(hes, plain)  # the hook does change the function
    torch.testing.assert_close(lap[:, 0], hes[:, 0].diagonal(dim1=-2, dim2=-1).sum(-1), **TOL)


def test_backward_hook_is_refused():
    """With autograd on, a module's full backward hook stops the forward path (strict)."""
    net, x0, _ = _model("backward-hook")
    with pytest.raises(gk.TaylorModeError, match=r"this callable: a module on the way has a "
                       r"backward hook \(register_full_backward_hook\)\. gradkit computes"):
        gk.laplacian(net, x0, strict=True)


def test_strict_raises_with_the_reason():
    net, x0, _ = _model("gelu-tanh-approx")
    with pytest.raises(gk.TaylorModeError, match=r"^laplacian: the forward .* cannot run on "
                       r"this callable: `torch.nn.functional.gelu` with approximate='tanh' "
                       r"has no forward rule"):
        gk.laplacian(net, x0, strict=True)


def test_unknown_operation_falls_back_loudly_and_exactly():
    """An operation without a forward rule (cumsum) is named in the warning; the result is exact."""
    x0 = torch.rand(5, 3, dtype=torch.float64)

    def f(z: Tensor) -> Tensor:
        return torch.cumsum(torch.sin(z), dim=1)[:, -1] * z[:, 0]

    with pytest.warns(gk.TaylorModeWarning, match="cumsum"):
        lap = gk.laplacian(f, x0)
    x = x0.clone().requires_grad_()
    torch.testing.assert_close(lap, gk.laplacian(f(x), x), **TOL)


def test_closure_tensor_is_a_constant():
    """A tensor made before the call (a global, a closure) cannot depend on the points: the
    forward path treats it as a constant, exactly."""
    w = torch.randn(3, 4, dtype=torch.float64)
    x0 = torch.rand(5, 3, dtype=torch.float64)
    lap = gk.laplacian(lambda z: torch.tanh(z @ w).sum(1), x0, strict=True)
    x = x0.clone().requires_grad_()
    torch.testing.assert_close(lap, gk.laplacian(torch.tanh(x @ w).sum(1), x), **TOL)


def test_batch_mixing_operation_is_refused():
    """A sum over the points (dim 0) breaks the pointwise assumption: a CouplingError."""
    x0 = torch.rand(5, 2, dtype=torch.float64)
    with pytest.raises(gk.CouplingError, match="reduces over the points"):
        gk.laplacian(lambda z: (z**2).sum(1) + (z**2).sum(0, keepdim=True)[:, 0], x0)


@pytest.mark.parametrize("name", NO_LAYERNORM)
def test_forward_path_weight_gradients_through_layernorm(name):
    """Through LayerNorm, the forward path's weight gradients of a Laplacian loss match a
    float64 central difference of the loss. (torch 2.13's own third derivatives of
    layer_norm, by nested backward or by torch.func, differ from that difference by up to
    0.05 here, so the exact path is not the reference for this one.)"""
    net, x0, _ = _model(name)
    w = next(net.parameters())  # the first Linear's weight, before the LayerNorm
    fast = gk.laplacian(net, x0, strict=True)
    (g,) = torch.autograd.grad(fast.square().sum(), [w])

    def loss() -> float:
        with torch.no_grad():
            return float(gk.laplacian(net, x0, strict=True).square().sum())

    eps = 1e-6
    for i, j in [(0, 0), (4, 1), (2, 2)]:
        with torch.no_grad():
            w[i, j] += eps
        up = loss()
        with torch.no_grad():
            w[i, j] -= 2 * eps
        down = loss()
        with torch.no_grad():
            w[i, j] += eps
        assert abs((up - down) / (2 * eps) - g[i, j].item()) < 1e-7 * max(1.0, abs(up))
