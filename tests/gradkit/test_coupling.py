"""Models that couple the points are refused with a CouplingError, never given a number.

The per-point truth is ``torch.func.vmap`` over the points of the Hessian of the model
applied to one point at a time: each point's output differentiated with respect to that
point, the others fixed.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import Tensor, nn
from torch.func import hessian, vmap

import gradkit as gk

TOL = {"atol": 1e-10, "rtol": 1e-8}


def per_point_laplacian(net: nn.Module, x: Tensor) -> Tensor:
    """The Laplacian of each point's output with respect to that point alone."""

    def one(p: Tensor) -> Tensor:
        return net(p.unsqueeze(0)).reshape(())

    return vmap(hessian(one))(x).diagonal(dim1=-2, dim2=-1).sum(-1)


def batchnorm_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 1))
    net = net.double()
    with torch.no_grad():
        for _ in range(3):  # running statistics that differ from the defaults
            net(torch.randn(64, 2, dtype=torch.float64))
    return net


class BatchMean(nn.Module):
    """Subtracts the batch mean of the hidden features (a normalisation over the points)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(self.a(x))
        return self.b(h - h.mean(0))


class PointAttention(nn.Module):
    """Self-attention in which each point attends to all the others."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(2, 8), nn.Linear(2, 8), nn.Linear(2, 1)

    def forward(self, x: Tensor) -> Tensor:
        a = torch.softmax(self.q(x) @ self.k(x).T, dim=-1)
        return a @ torch.tanh(self.v(x))


@pytest.fixture
def x() -> Tensor:
    torch.manual_seed(1)
    return torch.rand(32, 2, dtype=torch.float64)


def test_batchnorm_train_is_refused_and_nested_would_be_wrong(x: Tensor) -> None:
    net = batchnorm_net().train()
    with pytest.raises(
        gk.CouplingError, match=r"`torch.nn.functional.batch_norm` in training mode.*eval.*vmap"
    ):
        gk.laplacian(net, x)
    for op in (gk.gradient, gk.vector_laplacian):
        with pytest.raises(gk.CouplingError, match="batch_norm"):
            op(net, x)
    # The number refused: the nested sum over points differs from the per-point truth.
    xr = x.clone().requires_grad_()
    nested = gk.laplacian(net(xr), xr).squeeze(1)
    truth = per_point_laplacian(net.eval(), x)  # train mode has no per-point value at all
    assert (nested - truth).abs().max() > 0.1
    with pytest.raises(gk.CouplingError):
        gk.check_pointwise(net.train()(xr), xr)


def test_batchnorm_eval_matches_per_point_truth(x: Tensor) -> None:
    net = batchnorm_net().eval()
    fast = gk.laplacian(net, x, strict=True).squeeze(1)
    torch.testing.assert_close(fast, per_point_laplacian(net, x), **TOL)
    xr = x.clone().requires_grad_()
    gk.check_pointwise(net(xr), xr)  # pointwise: no error


def test_batch_mean_normalisation_is_refused(x: Tensor) -> None:
    net = BatchMean().double()
    for op in (gk.laplacian, gk.gradient, gk.vector_laplacian, gk.laplacian_estimate):
        with pytest.raises(gk.CouplingError, match=r"mean` over dim \(0,\).*batch mean"):
            op(net, x)
    xr = x.clone().requires_grad_()
    with pytest.raises(gk.CouplingError):
        gk.check_pointwise(net(xr), xr)


def test_attention_over_points_is_refused_and_vmap_is_the_fix(x: Tensor) -> None:
    torch.manual_seed(2)
    net = PointAttention().double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.TaylorModeWarning)  # `.T` stops the forward mode
        with pytest.raises(gk.CouplingError, match="other points.*Tensor.T"):
            gk.laplacian(net, x)
        # The fix the message names: each point on its own, through torch.func.vmap.
        per_point = vmap(lambda p: net(p.unsqueeze(0)).squeeze(0))
        got = gk.laplacian(per_point, x).squeeze(1)
    torch.testing.assert_close(got, per_point_laplacian(net, x), **TOL)


def test_strict_does_not_hide_coupling(x: Tensor) -> None:
    with pytest.raises(gk.CouplingError):
        gk.laplacian(BatchMean().double(), x, strict=True)


def test_matmul_over_points_is_refused(x: Tensor) -> None:
    mix = torch.rand(32, 32, dtype=torch.float64)
    with pytest.raises(gk.CouplingError, match="rows"):
        gk.laplacian(lambda z: mix @ torch.tanh(z), x)
    with pytest.raises(gk.CouplingError, match="without `dim`"):
        gk.laplacian(lambda z: torch.tanh(z).sum() * z[:, :1], x)


def test_the_coupling_test_leaves_the_global_random_stream_alone(x: Tensor) -> None:
    """Its random weights come from a generator of its own: a training loop seeded by the
    reader draws the same numbers whether or not gradkit checked a model."""
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    xg = x.clone().requires_grad_()
    gk.check_pointwise(torch.tanh(xg).sum(1), xg)
    with pytest.raises(gk.CouplingError):
        gk.check_pointwise(torch.tanh(xg - xg.mean(0)).sum(1), xg)
    torch.testing.assert_close(torch.rand(4), expected, rtol=0, atol=0)


def test_coupling_in_one_point_of_a_float32_model_is_found() -> None:
    """A single coupled pair (the last point reads the first) among 64 float32 points."""
    x = torch.rand(64, 3, generator=torch.Generator().manual_seed(0)).requires_grad_()
    y = torch.sin(x).sum(1)
    y = torch.cat([y[:-1], y[-1:] + 0.01 * x[:1, 0]])
    with pytest.raises(gk.CouplingError):
        gk.check_pointwise(y, x)
    gk.check_pointwise(torch.sin(x).sum(1), x)  # and a pointwise one passes
