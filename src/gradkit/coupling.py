"""Models that couple the points: the error, and the test that finds them.

gradkit's derivatives are per point: row ``i`` of the output differentiated with respect to
row ``i`` of the input, the other rows held fixed. Autograd cannot see rows: one backward
pass with a vector of ones returns :math:`\\sum_j \\partial y_j / \\partial x_i`, which is the
per-point derivative only when ``y_j`` does not depend on ``x_i`` for ``j != i``. A model
that mixes the rows (batch statistics in training mode, a mean over the batch, attention
over the points) would get a wrong number, so gradkit raises :class:`CouplingError` instead:
the forward engine (``_taylor``) names the operation, the boundary (``_checks``) tests a
callable it runs plainly with :func:`is_coupled`, and :func:`gradkit.check_pointwise` offers
that test for tensors.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["CouplingError"]

_FIX = (
    "Evaluate the model in eval mode (`net.eval()`: BatchNorm then uses its running "
    "statistics), or compute each point on its own with torch.func.vmap, e.g. "
    "`f = torch.func.vmap(lambda p: net(p.unsqueeze(0)).squeeze(0))` and pass `f`."
)


class CouplingError(ValueError):
    """The output at one point depends on the input at other points.

    gradkit computes per-point derivatives; for such a model autograd returns sums over the
    points instead. The message names the operation that mixes the points and the fix.
    """


def coupling_error(fname: str, what: str) -> CouplingError:
    """Build the error for a model that mixes the points, ``what`` naming the operation."""
    return CouplingError(
        f"{fname}: the model couples the points: {what}. Its derivatives per point are not "
        "what autograd returns (a sum over all points' outputs), so gradkit gives no number. "
        + _FIX
    )


def is_coupled(y: Tensor, x: Tensor) -> bool:
    """Return True if some ``y_j`` depends on ``x_i`` for ``j != i`` (two backward passes).

    For a pointwise ``y`` the gradient of ``sum_j w_j y_j`` is ``w_i`` times the gradient of
    ``sum_j y_j`` at every point ``i``; with random weights ``w`` any coupling breaks that
    (up to rounding, allowed as sqrt(eps) of the largest term).
    """
    gen = torch.Generator(device=x.device).manual_seed(0)
    w_shape = (y.shape[0],) + (1,) * (y.ndim - 1)
    w = 1 + torch.rand(w_shape, generator=gen, device=x.device, dtype=y.dtype)
    g1 = torch.autograd.grad(y, x, torch.ones_like(y), retain_graph=True, allow_unused=True)[0]
    g2 = torch.autograd.grad(y, x, w.expand_as(y), retain_graph=True, allow_unused=True)[0]
    if g1 is None or g2 is None or g1.numel() == 0:
        return False
    w_x = w.reshape((x.shape[0],) + (1,) * (x.ndim - 1)).to(g1.dtype)
    tol = torch.finfo(g1.dtype).eps ** 0.5 * 2 * float(g1.abs().max())
    return bool((g2 - w_x * g1).abs().max() > tol)
