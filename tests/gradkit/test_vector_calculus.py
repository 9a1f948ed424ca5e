"""Tests for gradkit.vector_calculus: laplacian, divergence and curl."""

from __future__ import annotations

import pytest
import torch
from gradkit_helpers import func_hessian, func_jacobian, mlp, points
from torch import nn

from gradkit import curl, divergence, laplacian

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

# name, d, u(x), closed-form Laplacian
LAPLACIANS = [
    ("quadratic", 3, lambda x: (x**2).sum(1), lambda x: 6 + 0 * x[:, 0]),
    ("harmonic", 2, lambda x: x[:, 0] ** 2 - x[:, 1] ** 2, lambda x: 0 * x[:, 0]),
    ("sin-product", 2, lambda x: torch.sin(x[:, 0]) * torch.sin(x[:, 1]),
     lambda x: -2 * torch.sin(x[:, 0]) * torch.sin(x[:, 1])),
    ("linear", 4, lambda x: x.sum(1) + 1, lambda x: 0 * x[:, 0]),
    ("exp-1d", 1, lambda x: torch.exp(3 * x[:, 0]), lambda x: 9 * torch.exp(3 * x[:, 0])),
]


@pytest.mark.parametrize(("name", "d", "u", "ref"), LAPLACIANS, ids=[c[0] for c in LAPLACIANS])
def test_laplacian_closed_forms(name, d, u, ref):
    """laplacian matches the closed form, including identically zero cases."""
    x = points(6, d)
    torch.testing.assert_close(laplacian(u(x), x), ref(x.detach()))


@pytest.mark.parametrize(("xshape", "yshape"), [((6,), (6,)), ((6, 1), (6, 1)), ((6, 3), (6,)),
                                                ((6, 3), (6, 1))])
def test_laplacian_shapes(xshape, yshape):
    """laplacian returns the shape of y for (N,), (N, 1) and (N, d) inputs."""
    x = torch.rand(*xshape, dtype=torch.float64, requires_grad=True)
    y = (x.reshape(6, -1) ** 3).sum(1).reshape(yshape)
    out = laplacian(y, x)
    assert out.shape == yshape
    torch.testing.assert_close(out.reshape(-1), (6 * x.detach().reshape(6, -1)).sum(1))


@pytest.mark.parametrize("d", [1, 3, 10])
def test_laplacian_matches_torch_func(d):
    """laplacian of an MLP equals the trace of torch.func's Hessian."""
    net = mlp(d)
    x = points(5, d)
    ref = func_hessian(net, x).diagonal(dim1=1, dim2=2).sum(-1)
    torch.testing.assert_close(laplacian(net(x), x).squeeze(-1), ref)


def test_laplacian_loss_trains_like_torch_func():
    """A loss built from a laplacian backpropagates to the weights like torch.func does."""
    net = mlp(3)
    x = points(5, 3)
    laplacian(net(x), x).pow(2).sum().backward()
    # The output bias does not enter the Laplacian, so its gradient is absent (zero).
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in net.parameters()]
    params = dict(net.named_parameters())
    ref_loss = func_hessian(net, x, params).diagonal(dim1=1, dim2=2).sum(-1).pow(2).sum()
    ref = torch.autograd.grad(ref_loss, list(params.values()), materialize_grads=True)
    for g, r in zip(grads, ref, strict=True):
        torch.testing.assert_close(g, r)


def test_laplacian_create_graph_false():
    """create_graph=False returns a tensor that does not require grad."""
    net = mlp(2)
    x = points(5, 2)
    assert not laplacian(net(x), x, create_graph=False).requires_grad
    assert not laplacian(net, x, create_graph=False).requires_grad


def test_laplacian_gradcheck():
    """The Laplacian's gradient with respect to x passes gradcheck in float64."""
    x = points(4, 2)
    assert torch.autograd.gradcheck(lambda t: laplacian(torch.sin(t).prod(1) * t[:, 0], t), (x,))


@pytest.mark.parametrize("act", [nn.Tanh, nn.Sigmoid, nn.SiLU])
@pytest.mark.parametrize("d", [1, 4])
def test_forward_laplacian_matches_reverse(act, d):
    """The forward Laplacian of a module equals the nested-backward one, values and weight grads."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(d, 8), act(), nn.Identity(), nn.Linear(8, 8), act(),
                        nn.Linear(8, 1)).double()
    x = points(5, d)
    fast = laplacian(net, x)
    slow = laplacian(net(x), x)
    torch.testing.assert_close(fast, slow)
    g_fast = torch.autograd.grad(fast.sum(), list(net.parameters()), materialize_grads=True)
    g_slow = torch.autograd.grad(slow.sum(), list(net.parameters()), materialize_grads=True)
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b)


def test_laplacian_callable_fallback():
    """A callable that is not a supported Sequential is evaluated and differentiated."""
    x = points(5, 2).detach()
    out = laplacian(lambda t: (t**3).sum(1), x)
    torch.testing.assert_close(out, (6 * x).sum(1))


def test_laplacian_module_with_several_outputs():
    """The forward path rejects a network with more than one output per point."""
    with pytest.raises(ValueError, match=r"^laplacian: `y` must compute a scalar field.*returns 3"):
        laplacian(mlp(2, 3), points(4, 2))


def test_laplacian_bad_first_argument():
    """A non-tensor, non-callable y is a TypeError."""
    with pytest.raises(TypeError, match=r"^laplacian: `y` must be a torch.Tensor, got int"):
        laplacian(3, points(2, 2))


# name, v(x), closed-form divergence, closed-form curl (3-D only)
FIELDS = [
    ("rotation", lambda x: torch.stack([-x[:, 1], x[:, 0], 0 * x[:, 2]], 1),
     lambda x: 0 * x[:, 0], lambda x: torch.stack([0 * x[:, 0], 0 * x[:, 0], 2 + 0 * x[:, 0]], 1)),
    ("radial", lambda x: x * (x**2).sum(1, keepdim=True),
     lambda x: 5 * (x**2).sum(1), lambda x: 0 * x),
    ("mixed", lambda x: torch.stack([x[:, 1] * x[:, 2], torch.sin(x[:, 0]), x[:, 0] ** 2], 1),
     lambda x: 0 * x[:, 0],
     lambda x: torch.stack([0 * x[:, 0], x[:, 1] - 2 * x[:, 0], torch.cos(x[:, 0]) - x[:, 2]], 1)),
]


@pytest.mark.parametrize(("name", "v", "div", "rot"), FIELDS, ids=[f[0] for f in FIELDS])
def test_divergence_and_curl_closed_forms(name, v, div, rot):
    """divergence and curl match closed forms for 3-D fields."""
    x = points(6, 3)
    torch.testing.assert_close(divergence(v(x), x), div(x.detach()))
    c = curl(v(x), x)
    assert c.shape == (6, 3)
    torch.testing.assert_close(c, rot(x.detach()))


@pytest.mark.parametrize("d", [1, 2, 5])
def test_divergence_matches_torch_func(d):
    """divergence of an MLP vector field is the trace of torch.func's Jacobian."""
    net = mlp(d, d)
    x = points(5, d)
    ref = func_jacobian(net, x).diagonal(dim1=1, dim2=2).sum(-1)
    torch.testing.assert_close(divergence(net(x), x), ref)


def test_curl_of_gradient_is_zero_and_keeps_graph():
    """The curl of a gradient field vanishes, and the result keeps its graph."""
    net = mlp(3, 3)
    x = points(5, 3)
    c = curl(net(x), x)
    assert c.requires_grad
    u = (torch.sin(x) * x.flip(1)).sum(1)
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    torch.testing.assert_close(curl(g, x), torch.zeros(5, 3, dtype=torch.float64))
    assert not curl(net(x), x, create_graph=False).requires_grad


def test_forward_laplacian_of_linear_network_is_zero():
    """A network of Linear layers only is linear in x: its forward Laplacian is zeros (N, 1)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1)).double()
    out = laplacian(net, points(5, 3))
    torch.testing.assert_close(out, torch.zeros(5, 1, dtype=torch.float64))


def test_forward_laplacian_stays_on_the_device_of_x():
    """The forward Laplacian builds its work tensors on x's device (meta stands in for a GPU)."""
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).to("meta")
    out = laplacian(net, torch.empty(5, 3, device="meta"))
    assert out.device.type == "meta" and out.shape == (5, 1)


def test_laplacian_callable_keeps_graph_to_x():
    """With a plain callable and an x that requires grad, the result backpropagates to x."""
    x = points(5, 2)
    out = laplacian(lambda t: (t**3).sum(1), x)  # 6 (x0 + x1)
    (g,) = torch.autograd.grad(out.sum(), x)
    torch.testing.assert_close(g, torch.full((5, 2), 6.0, dtype=torch.float64))


def test_laplacian_callable_returning_non_tensor():
    """A callable that returns something other than a tensor is a TypeError naming its type."""
    with pytest.raises(TypeError) as info:
        laplacian(lambda t: [t], points(4, 2))
    assert str(info.value) == "laplacian: the callable must return a Tensor, got list."


def test_laplacian_module_with_several_outputs_message():
    """The forward path's error for several outputs gives both fixes in full."""
    with pytest.raises(ValueError) as info:
        laplacian(mlp(2, 3), points(4, 2))
    assert str(info.value) == (
        "laplacian: `y` must compute a scalar field, one value per point, but the network "
        "returns 3 values per point. Use a network with one output, or pass one output column "
        "as a tensor: `laplacian(net(x)[:, i], x)`."
    )


def _hutchinson_field(x: torch.Tensor) -> torch.Tensor:
    """A field with off-diagonal Hessian entries, so the estimator has a variance."""
    return torch.sin(x[:, 0] * x[:, 1]) + (x**2 * torch.arange(1, x.shape[1] + 1)).sum(1) \
        + torch.tanh(x.sum(1))


@pytest.mark.parametrize("probes", ["rademacher", "gaussian"])
@pytest.mark.parametrize("path", ["tensor", "callable"])
def test_laplacian_estimate_is_unbiased(probes, path):
    """Over 200 seeds the estimate's mean is within 3 standard errors of the exact value."""
    from gradkit import laplacian_estimate

    x0 = torch.rand(4, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = x0.clone().requires_grad_()
    exact = laplacian(_hutchinson_field(x), x).detach()
    ests = []
    for seed in range(200):
        gen = torch.Generator().manual_seed(seed)
        if path == "tensor":
            est = laplacian_estimate(_hutchinson_field(x), x, samples=4, probes=probes,
                                     generator=gen, create_graph=False)
        else:
            est = laplacian_estimate(_hutchinson_field, x0, samples=4, probes=probes,
                                     generator=gen, strict=True)
        ests.append(est.detach())
    e = torch.stack(ests)
    sem = e.std(0) / 200**0.5
    assert (e.std(0) > 0).all()  # a real estimator, not the exact value
    assert ((e.mean(0) - exact).abs() <= 3 * sem).all(), ((e.mean(0) - exact) / sem)


def test_laplacian_estimate_rademacher_exact_on_diagonal_hessian():
    """Rademacher probes have v_i^2 = 1: a diagonal Hessian gives the exact trace."""
    from gradkit import laplacian_estimate

    x = torch.rand(3, 5, dtype=torch.float64, requires_grad=True)
    u = (torch.sin(x) * torch.arange(1.0, 6.0)).sum(1)
    est = laplacian_estimate(u, x, samples=2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(est, laplacian(u, x))


def test_laplacian_estimate_bad_arguments():
    from gradkit import laplacian_estimate

    x = torch.rand(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match="^laplacian_estimate: `samples` must be a positive"):
        laplacian_estimate(x.sum(1), x, samples=0)
    with pytest.raises(ValueError, match="^laplacian_estimate: `probes` must be"):
        laplacian_estimate(x.sum(1), x, probes="uniform")


@pytest.mark.parametrize("probes", ["rademacher", "gaussian"])
def test_laplacian_estimate_is_reproducible_and_path_independent(probes):
    """One seed, one estimate: twice on the tensor path, and the same on the callable path
    (the probes are drawn in the same order; the callable path carries them as directions)."""
    from gradkit import laplacian_estimate

    x0 = torch.rand(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x = x0.clone().requires_grad_()

    def tensor_path(seed: int) -> torch.Tensor:
        return laplacian_estimate(_hutchinson_field(x), x, samples=3, probes=probes,
                                  generator=torch.Generator().manual_seed(seed))

    first, again, other = tensor_path(0), tensor_path(0), tensor_path(1)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.allclose(first, other)  # the generator, not the global seed, draws
    by_callable = laplacian_estimate(_hutchinson_field, x0, samples=3, probes=probes,
                                     generator=torch.Generator().manual_seed(0), strict=True)
    torch.testing.assert_close(by_callable, first)


def test_laplacian_estimate_gaussian_probes_are_not_signs():
    """Gaussian probes have v_i^2 != 1, so unlike Rademacher ones they are not exact on a
    diagonal Hessian; and the default is 16 Rademacher probes."""
    from gradkit import laplacian_estimate

    x = torch.rand(3, 5, dtype=torch.float64, requires_grad=True)
    u = (torch.sin(x) * torch.arange(1.0, 6.0)).sum(1)
    gen = torch.Generator().manual_seed(1)
    gauss = laplacian_estimate(u, x, samples=2, probes="gaussian", generator=gen)
    assert not torch.allclose(gauss, laplacian(u, x))
    # the default, on a field whose estimate depends on the number of probes
    v = _hutchinson_field(x)
    default = laplacian_estimate(v, x, generator=torch.Generator().manual_seed(3))
    sixteen = laplacian_estimate(v, x, samples=16, probes="rademacher",
                                 generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(default, sixteen, rtol=0, atol=0)


@pytest.mark.parametrize("path", ["tensor", "callable"])
def test_laplacian_estimate_sums_over_dims_only(path):
    """With dims, only those columns are probed: exact for a diagonal Hessian (Rademacher)."""
    from gradkit import laplacian_estimate

    x0 = torch.rand(3, 4, dtype=torch.float64)
    field = lambda z: (torch.sin(z) * torch.arange(1.0, 5.0)).sum(1)  # noqa: E731
    x = x0.clone().requires_grad_()
    want = laplacian(field(x), x, dims=[1, 3])
    gen = torch.Generator().manual_seed(0)
    if path == "tensor":
        got = laplacian_estimate(field(x), x, samples=2, dims=[1, 3], generator=gen)
    else:
        got = laplacian_estimate(field, x0, samples=2, dims=[1, 3], generator=gen, strict=True)
    torch.testing.assert_close(got, want)


def test_laplacian_estimate_names_itself_when_y_does_not_depend_on_x():
    from gradkit import laplacian_estimate

    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    other = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match=r"^laplacian_estimate: `y` does not depend on `x`"):
        laplacian_estimate(other.sin().sum(1), x, samples=2)


def test_laplacian_estimate_of_a_linear_field_is_zero():
    """No second derivative: the Hessian-vector products have no path to x, and the estimate
    is zero rather than an error."""
    from gradkit import laplacian_estimate

    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    est = laplacian_estimate(x @ torch.arange(1.0, 5.0, dtype=torch.float64), x, samples=2)
    torch.testing.assert_close(est, torch.zeros(3, dtype=torch.float64))


def test_vector_laplacian_and_weighted_laplacian_honour_dims():
    """Only the columns in dims: per component for the vector Laplacian, and K over those
    columns for the weighted one (sum_ij K_ij d_i d_j y over dims = (2, 0))."""
    from gradkit import vector_laplacian, weighted_laplacian

    x = torch.rand(4, 3, dtype=torch.float64, requires_grad=True)
    v = torch.stack([torch.sin(x[:, 0] * x[:, 2]), x[:, 1] ** 2 * x[:, 2] ** 3,
                     torch.exp(x[:, 0])], dim=1)
    want = torch.stack([laplacian(v[:, i], x, dims=[2, 0]) for i in range(3)], dim=1)
    torch.testing.assert_close(vector_laplacian(v, x, dims=[2, 0]), want)
    y = x[:, 0] ** 2 * x[:, 2] + x[:, 1] ** 3
    k = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)  # over (x2, x0)
    x0, x2 = x[:, 0].detach(), x[:, 2].detach()
    # d2y/dx2^2 = 0, d2y/dx0^2 = 2 x2, d2y/dx0dx2 = 2 x0
    torch.testing.assert_close(weighted_laplacian(y, x, k, dims=[2, 0]),
                               3 * 2 * x2 + 2 * 1 * 2 * x0)


def test_vector_laplacian_names_v_when_it_does_not_depend_on_x():
    from gradkit import vector_laplacian

    x = torch.rand(4, 3, requires_grad=True)
    other = torch.rand(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"^vector_laplacian: `v` does not depend on `x`"):
        vector_laplacian(other.sin(), x)
    with pytest.raises(ValueError, match=r"^vector_laplacian: `v` does not require grad"):
        vector_laplacian(torch.ones(4, 3), x)
