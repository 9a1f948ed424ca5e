"""Shared helpers for the gradkit tests: small seeded networks and torch.func references."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, hessian, jacrev, vmap


def mlp(d_in: int, d_out: int = 1, width: int = 16, depth: int = 2, seed: int = 0) -> nn.Sequential:
    """Return a seeded float64 tanh MLP."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    w = d_in
    for _ in range(depth):
        layers += [nn.Linear(w, width), nn.Tanh()]
        w = width
    layers.append(nn.Linear(w, d_out))
    return nn.Sequential(*layers).double()


def points(n: int, d: int, seed: int = 1) -> torch.Tensor:
    """Return seeded float64 collocation points of shape (n, d) that require grad."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g, dtype=torch.float64).requires_grad_()


def func_jacobian(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return the per-point Jacobian (N, m, d) from torch.func.jacrev."""
    return vmap(jacrev(net))(x.detach())


def func_hessian(net: nn.Module, x: torch.Tensor, params: dict | None = None) -> torch.Tensor:
    """Return the per-point Hessian (N, d, d) of a scalar-output net from torch.func."""
    params = dict(net.named_parameters()) if params is None else params

    def f(xi: torch.Tensor) -> torch.Tensor:
        return functional_call(net, params, (xi,)).squeeze(-1)

    return vmap(hessian(f))(x.detach())
