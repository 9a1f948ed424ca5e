"""Pointwise Jacobians, Hessians and Jacobian-vector products.

Each function checks its inputs at the boundary (``_checks``) and then computes with one
engine: the backward passes of ``_engine``, or ``torch.func.jvp`` for :func:`jvp` of a
callable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from ._checks import _model, check_inputs, same_shape, tangent
from ._engine import _grad, _jacobian

__all__ = ["hessian", "jacobian", "jvp", "vjp"]


def jacobian(
    y: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False,
) -> Tensor:
    """Return the Jacobian of a vector field at every point.

    Parameters
    ----------
    y : Tensor, shape (N, m) or (N,)
        Field computed pointwise from ``x``; ``(N,)`` counts as ``m = 1``.
    x : Tensor, shape (N, d) or (N,)
        Collocation points, with ``requires_grad=True``; ``(N,)`` counts as ``d = 1``.
    create_graph, allow_unused : bool
        As in :func:`derivative`.

    Returns
    -------
    Tensor, shape (N, m, d)
        ``J[n, i, j]`` is :math:`\\partial y_i / \\partial x_j` at point ``n``.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``x`` does not require grad, the numbers of points differ, or ``y`` does not
        depend on ``x``.

    Notes
    -----
    One backward pass per output component ``i``; each returns row ``i`` for all points at
    once. Components that do not depend on ``x`` give zero rows, as long as one does.

    Examples
    --------
    >>> import torch
    >>> from gradkit import jacobian
    >>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = torch.stack([x[:, 0] * x[:, 1], x[:, 0] ** 2], dim=1)  # (x0 x1, x0^2)
    >>> jacobian(y, x)  # [[x1, x0], [2 x0, 0]]
    tensor([[[2., 1.],
             [2., 0.]]], grad_fn=<StackBackward0>)
    """
    a = check_inputs("jacobian", y, x, scalar=False, allow_unused=allow_unused)
    return _jacobian("jacobian", a.y, a.x, create_graph=create_graph, allow_unused=allow_unused)


def hessian(
    y: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False,
) -> Tensor:
    """Return the Hessian of a scalar field at every point.

    The symmetric matrix of second partial derivatives; for its trace alone, use
    :func:`laplacian`.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, d) or (N,)
        Collocation points (``(N,)``: one column), with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`derivative`.

    Returns
    -------
    Tensor, shape (N, d, d)
        ``H[n, i, j]`` is :math:`\\partial^2 y / \\partial x_i \\partial x_j` at point ``n``.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        As :func:`gradient`.

    Notes
    -----
    ``1 + d`` backward passes: the gradient, then the Jacobian of the gradient. A gradient
    that is constant in ``x`` (``y`` linear) gives a zero Hessian, not an error.

    Examples
    --------
    >>> import torch
    >>> from gradkit import hessian
    >>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    >>> hessian(x[:, 0] ** 2 * x[:, 1], x)  # [[2 x1, 2 x0], [2 x0, 0]]
    tensor([[[4., 2.],
             [2., 0.]]], grad_fn=<StackBackward0>)
    """
    a = check_inputs("hessian", y, x, allow_unused=allow_unused)
    g = _grad("hessian", a.y, a.x, torch.ones_like(a.y), create_graph=True,
              allow_unused=allow_unused)
    return _jacobian("hessian", g, a.x, create_graph=create_graph, allow_unused=True)


def vjp(
    y: Tensor, x: Tensor, v: Tensor, *, create_graph: bool = True, allow_unused: bool = False,
) -> Tensor:
    """Return the vector-Jacobian product :math:`v^T J` at every point (reverse mode).

    Parameters
    ----------
    y : Tensor, shape (N, m) or (N,)
        Field computed pointwise from ``x``.
    x : Tensor, shape (N, d) or (N,)
        Collocation points, with ``requires_grad=True``.
    v : Tensor, shape of ``y``
        One cotangent vector per point: the weights of the components of ``y``.
    create_graph, allow_unused : bool
        As in :func:`derivative`.

    Returns
    -------
    Tensor, shape of ``x``
        :math:`\\sum_i v_i \\, \\partial y_i / \\partial x_j` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``v`` does not have the shape of ``y``, or as :func:`jacobian`.

    Notes
    -----
    One backward pass, whatever ``m``.

    Examples
    --------
    >>> import torch
    >>> from gradkit import vjp
    >>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = torch.stack([x[:, 0] * x[:, 1], x[:, 0] ** 2], dim=1)
    >>> vjp(y, x, torch.tensor([[1.0, 1.0]]))  # (x1 + 2 x0, x0)
    tensor([[4., 1.]], grad_fn=<AddBackward0>)
    """
    a = check_inputs("vjp", y, x, scalar=False, allow_unused=allow_unused)
    v = same_shape("vjp", "v", v, a.y, "y")
    return _grad("vjp", a.y, a.x, v, create_graph=create_graph, allow_unused=allow_unused)


def jvp(
    y: Tensor | Callable[[Tensor], Tensor], x: Tensor, v: Tensor, *, create_graph: bool = True,
    allow_unused: bool = False,
) -> Tensor:
    """Return the Jacobian-vector product :math:`J v` at every point.

    Parameters
    ----------
    y : Tensor, shape (N, m) or (N,), or callable
        Field computed pointwise from ``x``, or the function computing it (forward mode).
    x : Tensor, shape (N, d) or (N,)
        Collocation points; ``requires_grad=True`` is needed when ``y`` is a tensor.
    v : Tensor, shape of ``x``
        One tangent vector per point: the direction of the derivative.
    create_graph, allow_unused : bool
        As in :func:`derivative`.

    Returns
    -------
    Tensor, shape of ``y``
        :math:`\\sum_j \\partial y_i / \\partial x_j \\, v_j` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`); TypeError also for a ``y`` that
        is neither a tensor nor callable.
    ValueError
        If ``v`` does not have the shape of ``x``, or as :func:`jacobian`.

    Notes
    -----
    With a callable, one forward-mode pass (``torch.func.jvp``), the cheap way. With a
    tensor the graph already exists, so gradkit uses the double-backward trick: two
    backward passes through a dummy cotangent ``u``, :math:`J v = \\nabla_u (u^T J v)`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import jvp
    >>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    >>> f = lambda x: torch.stack([x[:, 0] * x[:, 1], x[:, 0] ** 2], dim=1)
    >>> v = torch.tensor([[1.0, 1.0]])
    >>> jvp(f(x), x, v)  # (x1 + x0, 2 x0)
    tensor([[3., 2.]], grad_fn=<AddBackward0>)
    >>> jvp(f, x, v, create_graph=False)  # forward mode, same values
    tensor([[3., 2.]])
    """
    fname = "jvp"
    if not isinstance(y, Tensor) and callable(y):  # forward mode: torch.func.jvp is the engine
        x, v = tangent(fname, x, v)
        with warnings.catch_warnings():
            # torch.func's first forward-mode call scripts its decompositions with the
            # deprecated torch.jit.script: a torch-internal warning users cannot act on.
            warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated")
            out: Tensor = torch.func.jvp(_model(fname, y), (x,), (v,))[1]
        return out if create_graph else out.detach()
    a = check_inputs(fname, y, x, scalar=False, allow_unused=allow_unused)
    v = same_shape(fname, "v", v, a.x, "x")
    u = torch.zeros_like(a.y, requires_grad=True)
    g = _grad(fname, a.y, a.x, u, create_graph=True, allow_unused=allow_unused)
    if not g.requires_grad:
        return torch.zeros_like(a.y)
    (out,) = torch.autograd.grad(g, u, v, create_graph=create_graph)
    return out
