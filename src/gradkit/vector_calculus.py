"""Laplacian, divergence and curl of fields sampled at collocation points."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._checks import (
    _check_dims,
    _check_grad_mode,
    _check_tensor,
    _check_x,
    _check_y,
    _unused_error,
)
from ._engine import _grad, _like, _ncols, _per_column, _rows
from ._forward import _call, _check_points, _directions, _forward_or_fallback, _scalar_rows
from .jacobians import _jacobian

__all__ = [
    "curl",
    "divergence",
    "laplacian",
    "laplacian_estimate",
    "vector_laplacian",
    "weighted_laplacian",
]


def _second_diag(
    g: Tensor, x: Tensor, dims: list[int], create_graph: bool
) -> tuple[Tensor, bool]:
    """Return d g[:, i] / d x[:, dims[i]] per i, shape (N, len(dims)), and whether any used x."""
    rows, used = _per_column(g, x, list(range(len(dims))), create_graph=create_graph)
    cols = [r[:, c] for r, c in zip(rows, dims, strict=True)]
    return torch.stack(cols, dim=1) if cols else x.new_zeros(x.shape[0], 0), used


def laplacian(
    y: Tensor | Callable[[Tensor], Tensor],
    x: Tensor,
    *,
    dims: Sequence[int] | None = None,
    create_graph: bool = True,
    allow_unused: bool = False,
    strict: bool = False,
) -> Tensor:
    """Return the Laplacian of a scalar field, one value per point.

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
    ValueError
        If ``x`` does not require grad (tensor ``y``), ``y`` is not a scalar field, the
        numbers of points differ, ``y`` does not depend on ``x``, or ``dims`` is invalid.
    TypeError
        If ``y`` is neither a tensor nor callable, or a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()`` (tensor ``y``).
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
    fname = "laplacian"
    if not isinstance(y, Tensor) and callable(y):
        x = _check_points(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
        res = _forward_or_fallback(
            fname, y, x, _directions(x, cols), create_graph=create_graph, strict=strict
        )
        if not isinstance(res, str):
            _scalar_rows(fname, res[0], x)
            return res[2]
        y, x = _call(fname, y, x, res)  # x checked above; y is checked below
    else:
        if not isinstance(y, Tensor):
            _check_tensor(fname, "y", y)  # neither a tensor nor callable: say so first
        _check_grad_mode(fname)
        x = _check_x(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
    y = _check_y(fname, y, x, allow_unused=allow_unused)
    g = _grad(fname, y, x, torch.ones_like(y), create_graph=True, allow_unused=allow_unused)
    diag, _ = _second_diag(_rows(g)[:, cols], x, cols, create_graph)
    return _like(diag.sum(1), y.shape)


def vector_laplacian(
    v: Tensor | Callable[[Tensor], Tensor],
    x: Tensor,
    *,
    dims: Sequence[int] | None = None,
    create_graph: bool = True,
    allow_unused: bool = False,
    strict: bool = False,
) -> Tensor:
    """Return the Laplacian of each component of a vector field, one row per point.

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
    ValueError
        If ``x`` does not require grad (tensor ``v``), the numbers of points differ, no
        component of ``v`` depends on ``x``, or ``dims`` is invalid.
    TypeError
        If ``v`` is neither a tensor nor callable, or a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()`` (tensor ``v``).
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
    if not isinstance(v, Tensor) and callable(v):
        x = _check_points(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
        res = _forward_or_fallback(
            fname, v, x, _directions(x, cols), create_graph=create_graph, strict=strict
        )
        if not isinstance(res, str):
            if res[0].ndim == 0 or res[0].shape[0] != x.shape[0]:
                _check_y(fname, res[0], x, name="v", scalar=False)
            return res[2]
        v, x = _call(fname, v, x, res)
    else:
        _check_grad_mode(fname)
        x = _check_x(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
    v = _check_y(fname, v, x, name="v", scalar=False, allow_unused=allow_unused)
    grads, used = _per_column(v, x, list(range(_ncols(v))), create_graph=True)
    if not used and not allow_unused:
        raise _unused_error(fname, x, "v")
    laps = [_second_diag(g[:, cols], x, cols, create_graph)[0].sum(1) for g in grads]
    return _like(torch.stack(laps, dim=1), v.shape)


def laplacian_estimate(
    y: Tensor | Callable[[Tensor], Tensor],
    x: Tensor,
    *,
    samples: int = 16,
    probes: str = "rademacher",
    generator: torch.Generator | None = None,
    dims: Sequence[int] | None = None,
    create_graph: bool = True,
    strict: bool = False,
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
    ValueError
        If ``samples < 1``, ``probes`` is unknown, or as :func:`laplacian`.
    TypeError
        As :func:`laplacian`.
    RuntimeError
        As :func:`laplacian`.
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
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"{fname}: `samples` must be a positive int, got {samples!r}.")
    if probes not in ("rademacher", "gaussian"):
        raise ValueError(
            f"{fname}: `probes` must be 'rademacher' or 'gaussian', got {probes!r}."
        )

    def draw(x: Tensor, cols: list[int]) -> Tensor:
        shape = (samples, x.shape[0], len(cols))
        if probes == "gaussian":
            v = torch.randn(shape, generator=generator, dtype=x.dtype)
        else:
            v = torch.randint(0, 2, shape, generator=generator).to(x.dtype) * 2 - 1
        full = x.new_zeros(samples, x.shape[0], _ncols(x))
        full[:, :, cols] = v.to(x.device)
        return full.reshape(samples, *x.shape)

    if not isinstance(y, Tensor) and callable(y):
        x = _check_points(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
        v = draw(x, cols)
        res = _forward_or_fallback(
            fname, y, x, v / samples**0.5, create_graph=create_graph, strict=strict
        )
        if not isinstance(res, str):
            _scalar_rows(fname, res[0], x)
            return res[2]
        y, x = _call(fname, y, x, res)
    else:
        _check_grad_mode(fname)
        x = _check_x(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
        v = draw(x, cols)
    y = _check_y(fname, y, x)
    g = _grad(fname, y, x, torch.ones_like(y), create_graph=True, allow_unused=False)
    total = x.new_zeros(x.shape[0])
    for s in range(samples):
        gv = (g * v[s]).sum()
        hv = _grad(fname, gv, x, torch.ones_like(gv), create_graph=create_graph,
                   allow_unused=True)
        total = total + _rows(hv * v[s]).sum(1)
    return _like(total / samples, y.shape)


def weighted_laplacian(
    y: Tensor,
    x: Tensor,
    k: Tensor,
    *,
    dims: Sequence[int] | None = None,
    create_graph: bool = True,
    allow_unused: bool = False,
) -> Tensor:
    """Return :math:`\\nabla \\cdot (K \\nabla y)`, the weighted Laplacian, one value per point.

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
    ValueError
        If ``k`` has another shape, or as :func:`laplacian`.
    TypeError
        If a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()``.

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
    _check_grad_mode(fname)
    x = _check_x(fname, x)
    y = _check_y(fname, y, x, allow_unused=allow_unused)
    k = _check_tensor(fname, "k", k)
    cols = _check_dims(fname, dims, _ncols(x))
    n, m = x.shape[0], len(cols)
    g = _rows(
        _grad(fname, y, x, torch.ones_like(y), create_graph=True, allow_unused=allow_unused)
    )[:, cols]
    if k.shape in ((n,), (n, 1)):
        flux = k.reshape(n, 1) * g
    elif k.shape == (m, m):
        flux = g @ k.T
    elif k.shape == (n, m, m):
        flux = (k @ g.unsqueeze(-1)).squeeze(-1)
    else:
        raise ValueError(
            f"{fname}: `k` must have shape (N,), (N, 1), ({m}, {m}) or (N, {m}, {m}) for "
            f"N = {n} points and {m} column(s) in `dims`, got {tuple(k.shape)}."
        )
    diag, _ = _second_diag(flux, x, cols, create_graph)
    return _like(diag.sum(1), y.shape)


def divergence(
    v: Tensor | Callable[[Tensor], Tensor],
    x: Tensor,
    *,
    dims: Sequence[int] | None = None,
    create_graph: bool = True,
    allow_unused: bool = False,
    strict: bool = False,
) -> Tensor:
    """Return the divergence of a vector field, one value per point.

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
    create_graph : bool, default True
        Keep the graph of the result (see :func:`derivative`).
    allow_unused : bool, default False
        Return zeros instead of raising when ``v`` does not depend on ``x``.
    strict : bool, default False
        As in :func:`laplacian`.

    Returns
    -------
    Tensor, shape (N,)
        :math:`\\nabla \\cdot v = \\sum_i \\partial v_i / \\partial x_{dims_i}` at every point.

    Raises
    ------
    ValueError
        If ``x`` does not require grad, shapes of ``v`` and ``x`` differ, or no component
        of ``v`` depends on ``x``.
    TypeError
        If a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()``.

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
    fname = "divergence"
    if not isinstance(v, Tensor) and callable(v):
        x = _check_points(fname, x)
        cols = _check_dims(fname, dims, _ncols(x))
        res = _forward_or_fallback(
            fname, v, x, _directions(x, cols), create_graph=create_graph, strict=strict
        )
        if not isinstance(res, str):
            _vector_shape(fname, res[0], x, cols, dims)
            return torch.diagonal(res[1], 0, 0, 2).sum(1)
        v, x = _call(fname, v, x, res)
    else:
        _check_grad_mode(fname)
        x = _check_x(fname, x, ndims=(2,))
        cols = _check_dims(fname, dims, x.shape[1])
    v = _check_y(fname, v, x, name="v", scalar=False, allow_unused=allow_unused)
    _vector_shape(fname, v, x, cols, dims)
    diag, used = _second_diag(v, x, cols, create_graph)
    if not used and not allow_unused:
        raise _unused_error(fname, x, "v")
    return diag.sum(1)


def _vector_shape(
    fname: str, v: Tensor, x: Tensor, cols: list[int], dims: Sequence[int] | None
) -> None:
    """Raise unless ``v`` has one component per column in ``dims`` at every point."""
    if x.ndim != 2 or v.shape != (x.shape[0], len(cols)):
        want = f"the shape of `x`, {tuple(x.shape)}" if dims is None else (
            f"shape {(x.shape[0], len(cols))}, one component per column in `dims`")
        raise ValueError(
            f"{fname}: `v` must have {want}, got "
            f"{tuple(v.shape)}. The divergence needs one component per input dimension."
        )


def curl(
    v: Tensor,
    x: Tensor,
    *,
    create_graph: bool = True,
    allow_unused: bool = False,
) -> Tensor:
    """Return the curl of a 3-D vector field, one row per point.

    Parameters
    ----------
    v : Tensor, shape (N, 3)
        Vector field computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Collocation points, with ``requires_grad=True``.
    create_graph : bool, default True
        Keep the graph of the result (see :func:`derivative`).
    allow_unused : bool, default False
        Return zeros instead of raising when ``v`` does not depend on ``x``.

    Returns
    -------
    Tensor, shape (N, 3)
        :math:`\\nabla \\times v` at every point.

    Raises
    ------
    ValueError
        If ``x`` or ``v`` is not of shape (N, 3), ``x`` does not require grad, or ``v``
        does not depend on ``x``.
    TypeError
        If a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()``.

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
    fname = "curl"
    _check_grad_mode(fname)
    x = _check_x(fname, x, ndims=(2,))
    v = _check_y(fname, v, x, name="v", scalar=False, allow_unused=allow_unused)
    if x.shape[1] != 3 or v.shape != x.shape:
        raise ValueError(
            f"{fname}: the curl is defined for 3-D fields: `x` and `v` must have shape "
            f"(N, 3), got x {tuple(x.shape)} and v {tuple(v.shape)}. In 2-D, compute the "
            "scalar curl "
            "`partial(v[:, 1], x, 0) - partial(v[:, 0], x, 1)`."
        )
    j = _jacobian(fname, v, x, create_graph=create_graph, allow_unused=allow_unused, name="v")
    return _curl_of_jacobian(j)


def _curl_of_jacobian(j: Tensor) -> Tensor:
    """Return the curl from the Jacobian ``j[:, i, k] = d v_i / d x_k``, shape (N, 3)."""
    return torch.stack(
        [j[:, 2, 1] - j[:, 1, 2], j[:, 0, 2] - j[:, 2, 0], j[:, 1, 0] - j[:, 0, 1]], dim=1
    )
