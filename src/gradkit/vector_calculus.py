"""Laplacian, divergence and curl of fields sampled at collocation points.

Each operator first checks all its inputs at the boundary (``_checks``: the field and its
points in one call, then its own options) and then computes with one engine: the nested
backward passes of ``_engine``, or, for a callable the forward mode could run, the
derivatives it carried (``L`` is the Laplacian, the diagonal of ``J`` the divergence).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._checks import (
    Forward,
    check_inputs,
    coefficient,
    one_per_column,
    probe_options,
    three_d,
)
from ._engine import (
    _curl_of_jacobian,
    _divergence,
    _grad,
    _jacobian,
    _like,
    _ncols,
    _rows,
    _second_diag,
)

__all__ = [
    "curl",
    "divergence",
    "laplacian",
    "laplacian_estimate",
    "vector_laplacian",
    "weighted_laplacian",
]


def laplacian(
    y: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, dims: Sequence[int] | None = None,
    create_graph: bool = True, allow_unused: bool = False, strict: bool = False,
) -> Tensor:
    """Return the Laplacian of a scalar field, one value per point.

    The sum of the second derivatives along the columns in ``dims`` (default: all).

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1), or callable
        Scalar field computed pointwise from ``x``; or the function (e.g. a network) that
        computes it from ``x``, which lets gradkit use the faster forward (Taylor-mode) path.
    x : Tensor, shape (N, d) or (N,)
        Collocation points. ``requires_grad=True`` is needed when ``y`` is a tensor.
    dims : list of int, optional
        The columns of ``x`` to sum over (default: all). For space-time inputs
        ``x = (t, x_1, ..., x_n)``, ``dims=range(1, n + 1)`` is the spatial Laplacian.
    create_graph : bool, default True
        Keep the graph of the result (see :func:`derivative`).
    allow_unused : bool, default False
        Return zeros instead of raising when ``y`` does not depend on ``x``.
    strict : bool, default False
        With a callable: raise :class:`TaylorModeError` instead of warning when the forward
        path cannot run.

    Returns
    -------
    Tensor, shape of ``y`` (or of ``y(x)``)
        :math:`\\Delta y = \\sum_{i \\in dims} \\partial^2 y / \\partial x_i^2` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`); TypeError also if ``y`` is
        neither a tensor nor callable.
    ValueError
        If ``x`` does not require grad (tensor ``y``), ``y`` is not a scalar field, the
        numbers of points differ, ``y`` does not depend on ``x``, or ``dims`` is invalid.
    TaylorModeError
        With ``strict=True``, if the forward path cannot run on the callable.
    CouplingError
        With a callable whose output at one point depends on the input at other points.

    Warns
    -----
    TaylorModeWarning
        With a callable, when the forward path cannot run: the exact path runs instead.

    Notes
    -----
    With a tensor ``y`` the graph already exists, so only reverse mode is possible: one
    backward pass for the gradient, then one per column for the Hessian diagonal (the
    nested loop, reusing the gradient). The result assumes ``y`` is pointwise (row ``i``
    depends on row ``i`` of ``x`` only); for a ``y`` that mixes the points it is
    :math:`\\sum_j \\partial^2 y_j / \\partial x_{i,k}^2`, not the per-point Laplacian.
    :func:`check_pointwise` tests that assumption with two backward passes. With a
    callable, gradkit checks it and raises :class:`CouplingError` for a model that mixes
    the points (BatchNorm in training mode, a mean over the batch, attention over the
    points), naming the operation.

    With a callable, gradkit runs it once, for real, and carries the first derivatives and
    the Laplacian next to every value (the forward Laplacian of Li et al. 2023, the collapsed
    Taylor mode of Dangel et al. 2025). It sees every operation the call executes (the
    module's own ``forward``, a subclass's ``forward``, forward hooks and pre-hooks), so the
    result is the callable's own function. It knows linear layers and ``@``, ``+ - * /``,
    ``**`` by a number, tanh, sigmoid, sin, cos, exp, log, sqrt, GELU, SiLU, softplus, ReLU,
    ``cat``, ``stack``, indexing, reshapes, sums over feature axes, LayerNorm and dropout in
    eval mode. Anything else (another operation, a module with a backward hook, a view made
    where it cannot see) stops it: a :class:`TaylorModeWarning` says why and the exact path
    runs instead. A custom ``autograd.Function`` is differentiated through the operations of
    its ``forward``. A second derivative that is identically zero contributes zeros, not an
    error.

    Examples
    --------
    >>> import torch
    >>> from gradkit import laplacian
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 1.0]], requires_grad=True)
    >>> laplacian(x[:, 0] ** 2 * x[:, 1] + x[:, 1] ** 3, x)  # 2 x1 + 6 x1
    tensor([16.,  8.], grad_fn=<SumBackward1>)
    >>> laplacian(x[:, 0] ** 2 * x[:, 1] + x[:, 1] ** 3, x, dims=[0])  # 2 x1 only
    tensor([4., 2.], grad_fn=<SumBackward1>)
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> fast = laplacian(net, x)  # forward Laplacian
    >>> torch.allclose(fast, laplacian(net(x), x), atol=1e-6), fast.shape
    (True, torch.Size([2, 1]))
    """
    a = check_inputs("laplacian", y, x, dims=dims, allow_unused=allow_unused,
                     model=Forward(create_graph, strict))
    if a.jet is not None:
        return a.jet[1]
    g = _grad("laplacian", a.y, a.x, torch.ones_like(a.y), create_graph=True,
              allow_unused=allow_unused)
    diag, _ = _second_diag(_rows(g)[:, a.cols], a.x, a.cols, create_graph)
    return _like(diag.sum(1), a.y.shape)


def vector_laplacian(
    v: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, dims: Sequence[int] | None = None,
    create_graph: bool = True, allow_unused: bool = False, strict: bool = False,
) -> Tensor:
    """Return the Laplacian of each component of a vector field, one row per point.

    Each Cartesian component's Laplacian, as in the viscous term of the Navier-Stokes equations.

    Parameters
    ----------
    v : Tensor, shape (N, m) or (N,), or callable
        Field computed pointwise from ``x``, or the function computing it (forward path,
        as in :func:`laplacian`).
    x : Tensor, shape (N, d) or (N,)
        Collocation points. ``requires_grad=True`` is needed when ``v`` is a tensor.
    dims : list of int, optional
        The columns of ``x`` to sum over (default: all).
    create_graph, allow_unused, strict : bool
        As in :func:`laplacian`.

    Returns
    -------
    Tensor, shape of ``v``
        :math:`(\\Delta v_1, \\ldots, \\Delta v_m)` at every point (Cartesian components).

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`); TypeError also if ``v`` is
        neither a tensor nor callable.
    ValueError
        If ``x`` does not require grad (tensor ``v``), the numbers of points differ, no
        component of ``v`` depends on ``x``, or ``dims`` is invalid.
    TaylorModeError
        With ``strict=True``, if the forward path cannot run on the callable.

    Notes
    -----
    Tensor path: ``m (1 + len(dims))`` backward passes. Callable path: one forward pass
    for all components.

    Examples
    --------
    >>> import torch
    >>> from gradkit import vector_laplacian
    >>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    >>> v = torch.stack([x[:, 0] ** 2, x[:, 0] * x[:, 1] ** 3], dim=1)  # (x0^2, x0 x1^3)
    >>> vector_laplacian(v, x)  # (2, 6 x0 x1)
    tensor([[ 2., 12.]], grad_fn=<StackBackward0>)
    """
    fname = "vector_laplacian"
    a = check_inputs(fname, v, x, name="v", scalar=False, dims=dims, allow_unused=allow_unused,
                     model=Forward(create_graph, strict))
    if a.jet is not None:
        return a.jet[1]
    grads = _jacobian(fname, a.y, a.x, create_graph=True, allow_unused=allow_unused, name="v")
    laps = [_second_diag(grads[:, i, a.cols], a.x, a.cols, create_graph)[0].sum(1)
            for i in range(grads.shape[1])]
    return _like(torch.stack(laps, dim=1), a.y.shape)


def laplacian_estimate(
    y: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, samples: int = 16,
    probes: str = "rademacher", generator: torch.Generator | None = None,
    dims: Sequence[int] | None = None, create_graph: bool = True, strict: bool = False,
) -> Tensor:
    """Return an unbiased random estimate of the Laplacian, for large input dimensions.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1), or callable
        Scalar field computed pointwise from ``x``, or the function computing it (forward
        path, as in :func:`laplacian`).
    x : Tensor, shape (N, d) or (N,)
        Collocation points. ``requires_grad=True`` is needed when ``y`` is a tensor.
    samples : int, default 16
        Number ``S`` of random probe vectors per point.
    probes : {"rademacher", "gaussian"}, default "rademacher"
        Distribution of the probes' entries: random signs, or standard normal.
    generator : torch.Generator, optional
        Source of the probes, for reproducible estimates.
    dims : list of int, optional
        The columns of ``x`` to sum over (default: all).
    create_graph, strict : bool
        As in :func:`laplacian`.

    Returns
    -------
    Tensor, shape of ``y`` (or of ``y(x)``)
        :math:`\\frac{1}{S}\\sum_s v_s^T (\\nabla^2 y) v_s` at every point, with independent
        probes ``v_s`` per point; its mean is the Laplacian.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``samples < 1``, ``probes`` is unknown, or as :func:`laplacian`.
    TaylorModeError
        With ``strict=True``, if the forward path cannot run on the callable.

    Notes
    -----
    Hutchinson's estimator: :math:`E[v^T H v] = \\operatorname{tr} H` when
    :math:`E[v v^T] = I`. Its variance is :math:`\\frac{2}{S}\\sum_{i \\ne j} H_{ij}^2`
    for Rademacher probes (the diagonal is exact) and
    :math:`\\frac{2}{S}\\|H\\|_F^2` for Gaussian ones. With a callable, the probes are the
    directions of the forward (Taylor-mode) pass, so the cost grows with ``S`` instead of
    ``d`` (randomised Taylor mode); with a tensor, each probe is one Hessian-vector
    product (one backward pass). Use it when ``d`` is large and an unbiased, noisy
    Laplacian is acceptable (e.g. in a training loss); the exact :func:`laplacian` costs
    ``d`` directions.

    Examples
    --------
    >>> import torch
    >>> from gradkit import laplacian_estimate
    >>> x = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> u = (x**2).sum(1)  # Hessian 2 I: Rademacher probes are exact
    >>> laplacian_estimate(u, x, samples=4, generator=torch.Generator().manual_seed(0))
    tensor([6.], grad_fn=<DivBackward0>)
    """
    fname = "laplacian_estimate"
    probe_options(fname, samples, probes)

    def draw(x: Tensor, cols: list[int]) -> Tensor:
        shape = (samples, x.shape[0], len(cols))
        if probes == "gaussian":
            v = torch.randn(shape, generator=generator, dtype=x.dtype)
        else:
            v = torch.randint(0, 2, shape, generator=generator).to(x.dtype) * 2 - 1
        full = x.new_zeros(samples, x.shape[0], _ncols(x))
        full[:, :, cols] = v.to(x.device)
        return full.reshape(samples, *x.shape)

    # With a callable the probes are the forward mode's directions (scaled so that their
    # second derivatives sum to the mean); with a tensor, each is one Hessian-vector product.
    a = check_inputs(fname, y, x, dims=dims,
                     model=Forward(create_graph, strict, lambda x, c: draw(x, c) / samples**0.5))
    if a.jet is not None:
        return a.jet[1]
    v = draw(a.x, a.cols)
    g = _grad(fname, a.y, a.x, torch.ones_like(a.y), create_graph=True, allow_unused=False)
    total = a.x.new_zeros(a.x.shape[0])
    for s in range(samples):
        gv = (g * v[s]).sum()
        hv = _grad(fname, gv, a.x, torch.ones_like(gv), create_graph=create_graph,
                   allow_unused=True)
        total = total + _rows(hv * v[s]).sum(1)
    return _like(total / samples, a.y.shape)


def weighted_laplacian(
    y: Tensor, x: Tensor, k: Tensor, *, dims: Sequence[int] | None = None,
    create_graph: bool = True, allow_unused: bool = False,
) -> Tensor:
    """Return :math:`\\nabla \\cdot (K \\nabla y)`, the weighted Laplacian, one value per point.

    The diffusion operator with a coefficient ``k`` that varies in space or is anisotropic.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, d) or (N,)
        Collocation points, with ``requires_grad=True``.
    k : Tensor
        The coefficient: shape (N,) or (N, 1) for a scalar ``k(x)`` (isotropic diffusion),
        (n, n) for one constant matrix, or (N, n, n) for a matrix per point, with ``n`` the
        number of columns in ``dims``. A ``k`` computed from ``x`` is differentiated too:
        the result is :math:`\\nabla \\cdot (K \\nabla y)`, not :math:`K : \\nabla^2 y`.
    dims : list of int, optional
        The columns of ``x`` the operator acts on (default: all).
    create_graph, allow_unused : bool
        As in :func:`laplacian`.

    Returns
    -------
    Tensor, shape of ``y``
        :math:`\\sum_{ij} \\partial_i (K_{ij} \\partial_j y)` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``k`` has another shape, or as :func:`laplacian`.

    Notes
    -----
    One backward pass for the gradient, then one per column in ``dims``. With a constant
    symmetric ``K`` the result equals :math:`\\sum_{ij} K_{ij} \\partial_i \\partial_j y`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import weighted_laplacian
    >>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = x[:, 0] ** 2 + x[:, 0] * x[:, 1]
    >>> weighted_laplacian(y, x, torch.tensor([[2.0, 1.0], [1.0, 3.0]]))  # 2*2 + 2*1*1
    tensor([6.], grad_fn=<SumBackward1>)
    """
    fname = "weighted_laplacian"
    a = check_inputs(fname, y, x, dims=dims, allow_unused=allow_unused)
    k = coefficient(fname, k, a)
    n, m = a.x.shape[0], len(a.cols)
    g = _rows(
        _grad(fname, a.y, a.x, torch.ones_like(a.y), create_graph=True, allow_unused=allow_unused)
    )[:, a.cols]
    if k.shape in ((n,), (n, 1)):
        flux = k.reshape(n, 1) * g
    elif k.shape == (m, m):
        flux = g @ k.T
    else:
        flux = (k @ g.unsqueeze(-1)).squeeze(-1)
    diag, _ = _second_diag(flux, a.x, a.cols, create_graph)
    return _like(diag.sum(1), a.y.shape)


def divergence(
    v: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, dims: Sequence[int] | None = None,
    create_graph: bool = True, allow_unused: bool = False, strict: bool = False,
) -> Tensor:
    """Return the divergence of a vector field, one value per point.

    The trace of the Jacobian, taken over the columns in ``dims``.

    Parameters
    ----------
    v : Tensor, shape (N, d), or (N, len(dims)), or callable
        Vector field computed pointwise from ``x``; with ``dims``, component ``i`` goes with
        column ``dims[i]`` of ``x``. Or the function computing it, run once in forward mode
        (see :func:`laplacian`).
    x : Tensor, shape (N, d)
        Collocation points. ``requires_grad=True`` is needed when ``v`` is a tensor.
    dims : list of int, optional
        The columns of ``x`` that ``v``'s components go with (default: all), e.g. the
        spatial columns of space-time inputs.
    create_graph, allow_unused, strict : bool
        As in :func:`laplacian`, with ``v`` for ``y``.

    Returns
    -------
    Tensor, shape (N,)
        :math:`\\nabla \\cdot v = \\sum_i \\partial v_i / \\partial x_{dims_i}` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``x`` does not require grad, shapes of ``v`` and ``x`` differ, or no component
        of ``v`` depends on ``x``.

    Notes
    -----
    One backward pass per component. A component that does not depend on ``x`` adds zero,
    as long as at least one component does.

    Examples
    --------
    >>> import torch
    >>> from gradkit import divergence
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 1.0]], requires_grad=True)
    >>> v = torch.stack([x[:, 0] * x[:, 1], x[:, 1] ** 2], dim=1)  # (x0 x1, x1^2)
    >>> divergence(v, x)  # x1 + 2 x1
    tensor([6., 3.], grad_fn=<SumBackward1>)
    >>> divergence(v[:, 1:], x, dims=[1])  # 2 x1
    tensor([4., 2.], grad_fn=<SumBackward1>)
    """
    a = check_inputs("divergence", v, x, name="v", scalar=False, ndims=(2,), dims=dims,
                     allow_unused=allow_unused, model=Forward(create_graph, strict),
                     shape=one_per_column(dims))
    if a.jet is not None:
        return torch.diagonal(a.jet[0], 0, 0, 2).sum(1)
    return _divergence("divergence", a.y, a.x, a.cols, create_graph=create_graph,
                       allow_unused=allow_unused)


def curl(v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False) -> Tensor:
    """Return the curl of a 3-D vector field, one row per point.

    Parameters
    ----------
    v : Tensor, shape (N, 3)
        Vector field computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Collocation points, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`laplacian`, with ``v`` for ``y``.

    Returns
    -------
    Tensor, shape (N, 3)
        :math:`\\nabla \\times v` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``x`` or ``v`` is not of shape (N, 3), ``x`` does not require grad, or ``v``
        does not depend on ``x``.

    Notes
    -----
    Three backward passes (one Jacobian row per component).

    Examples
    --------
    >>> import torch
    >>> from gradkit import curl
    >>> x = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> zero = torch.zeros_like(x[:, 0])
    >>> v = torch.stack([zero, zero, x[:, 0] * x[:, 1]], dim=1)  # (0, 0, x0 x1)
    >>> curl(v, x)  # (x0, -x1, 0)
    tensor([[ 1., -2.,  0.]], grad_fn=<StackBackward0>)
    """
    a = check_inputs("curl", v, x, name="v", scalar=False, ndims=(2,), allow_unused=allow_unused,
                     shape=three_d)
    j = _jacobian("curl", a.y, a.x, create_graph=create_graph, allow_unused=allow_unused,
                  name="v")
    return _curl_of_jacobian(j)
