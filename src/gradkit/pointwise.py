"""Pointwise derivatives of a scalar field with respect to collocation points.

gradkit assumes, like every PINN library, that row ``i`` of the output depends only on row
``i`` of the input (no batch norm, no attention across points). One backward pass with a
vector of ones then returns every point's derivative at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._checks import (
    _check_dim,
    _check_dims,
    _check_grad_mode,
    _check_order,
    _check_x,
    _check_y,
)
from ._engine import _grad, _like, _ncols, _rows
from ._forward import _call, _check_points, _directions, _forward_or_fallback, _scalar_rows

__all__ = ["Derivatives", "derivative", "gradient", "partial"]


def _flat_x(fname: str, x: Tensor) -> None:
    """Raise unless ``x`` is 1-D data, shape (N,) or (N, 1)."""
    if x.ndim == 2 and x.shape[1] != 1:
        raise ValueError(
            f"{fname}: `x` must be one-dimensional, shape (N,) or (N, 1), got shape "
            f"{tuple(x.shape)}. For a column of a multi-column input use "
            "`partial(y, x, dim=i, order=k)`."
        )


def derivative(
    y: Tensor | Callable[[Tensor], Tensor],
    x: Tensor,
    order: int = 1,
    *,
    create_graph: bool = True,
    allow_unused: bool = False,
    strict: bool = False,
) -> Tensor:
    """Return the ``order``-th derivative of ``y`` with respect to a 1-D input, per point.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1), or callable
        Scalar field computed pointwise from ``x``; or the function computing it, which
        orders 1 and 2 run once in forward (Taylor) mode (see :func:`gradkit.laplacian`).
    x : Tensor, shape (N,) or (N, 1)
        Collocation points. ``requires_grad=True`` is needed when ``y`` is a tensor.
    order : int, default 1
        Order ``k >= 1`` of the derivative.
    create_graph : bool, default True
        Keep the graph of the result so a loss built from it can be backpropagated
        (to network weights, or to higher derivatives). ``False`` returns a tensor
        with ``requires_grad=False`` and saves memory.
    allow_unused : bool, default False
        Return zeros instead of raising when ``y`` does not depend on ``x`` (where
        ``torch.autograd.grad(..., allow_unused=True)`` returns None).
    strict : bool, default False
        As in :func:`gradkit.laplacian`.

    Returns
    -------
    Tensor, shape of ``y``
        :math:`d^k y / dx^k` at every point.

    Raises
    ------
    ValueError
        If ``x`` does not require grad, has more than one column, ``y`` is not a scalar field,
        the numbers of points differ, ``y`` does not depend on ``x``, or ``order < 1``.
    TypeError
        If ``order`` is not an int, or a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()``.

    Notes
    -----
    Each order costs one backward pass through the graph of the previous order. Only the
    first order checks that ``y`` depends on ``x``: if an intermediate derivative is constant
    in ``x`` (e.g. the second derivative of ``3 * x + 1``), autograd has no path left and the
    higher derivatives are returned as zeros, which is the correct value.

    Examples
    --------
    >>> import torch
    >>> from gradkit import derivative
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> derivative(x**3, x)  # 3 x^2
    tensor([ 3., 12.], grad_fn=<MulBackward0>)
    >>> derivative(x**3, x, order=2)  # 6 x
    tensor([ 6., 12.], grad_fn=<MulBackward0>)
    >>> derivative(3 * x + 1, x, order=2, create_graph=False)  # identically zero
    tensor([0., 0.])
    """
    fname = "derivative"
    if not isinstance(y, Tensor) and callable(y):
        x = _check_points(fname, x)
        _flat_x(fname, x)
        order = _check_order(fname, order)
        if order > 2:  # the forward mode carries two orders
            y, x = _call(fname, y, x, "orders above 2 use nested backward passes")
        else:
            res = _forward_or_fallback(
                fname, y, x, _directions(x, [0]), create_graph=create_graph, strict=strict
            )
            if not isinstance(res, str):
                _scalar_rows(fname, res[0], x)
                return _like(res[1][0] if order == 1 else res[2], res[0].shape)
            y, x = _call(fname, y, x, res)
    else:
        _check_grad_mode(fname)
        x = _check_x(fname, x)
        _flat_x(fname, x)
        order = _check_order(fname, order)
    y = _check_y(fname, y, x, allow_unused=allow_unused)
    return _repeated(fname, y, x, 0, order, create_graph=create_graph, allow_unused=allow_unused)


def _repeated(
    fname: str, y: Tensor, x: Tensor, dim: int, order: int, *, create_graph: bool,
    allow_unused: bool,
) -> Tensor:
    """Differentiate ``order`` times with respect to column ``dim``, one pass each."""
    n, d = x.shape[0], _ncols(x)
    out = y
    for k in range(order):
        g = _grad(
            fname,
            out,
            x,
            torch.ones_like(out),
            create_graph=create_graph or k < order - 1,
            allow_unused=allow_unused or k > 0,
        )
        out = _like(g if d == 1 else _like(g, (n, d))[:, dim], y.shape)
    return out


def partial(
    y: Tensor,
    x: Tensor,
    dim: int,
    order: int = 1,
    *,
    create_graph: bool = True,
    allow_unused: bool = False,
) -> Tensor:
    """Return the ``order``-th partial derivative of ``y`` with respect to column ``dim`` of ``x``.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, d) or (N,)
        Collocation points, with ``requires_grad=True``; a 1-D ``x`` counts as ``d = 1``.
    dim : int
        Column of ``x`` to differentiate against, ``-d <= dim < d``.
    order : int, default 1
        Order ``k >= 1``.
    create_graph : bool, default True
        Keep the graph of the result (see :func:`derivative`).
    allow_unused : bool, default False
        Return zeros instead of raising when ``y`` does not depend on ``x``.

    Returns
    -------
    Tensor, shape of ``y``
        :math:`\\partial^k y / \\partial x_{dim}^k` at every point.

    Raises
    ------
    ValueError
        If ``dim`` is out of range, or for the cases listed in :func:`derivative`.
    TypeError
        If ``dim`` or ``order`` is not an int, or a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()``.

    Notes
    -----
    Each order is one backward pass that yields the whole gradient row; the other columns
    are discarded. To reuse them (mixed partials, Laplacians), use :class:`Derivatives`.
    Higher orders of a derivative that became constant in ``x`` are zeros, as in
    :func:`derivative`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import partial
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 1.0]], requires_grad=True)
    >>> u = x[:, 0] ** 2 * x[:, 1]  # u = x0^2 x1
    >>> partial(u, x, dim=0)  # 2 x0 x1
    tensor([4., 6.], grad_fn=<SelectBackward0>)
    >>> partial(u, x, dim=0, order=2)  # 2 x1
    tensor([4., 2.], grad_fn=<SelectBackward0>)
    >>> partial(u, x, dim=1, order=2, create_graph=False)  # u is linear in x1
    tensor([0., 0.])
    """
    fname = "partial"
    _check_grad_mode(fname)
    x = _check_x(fname, x)
    y = _check_y(fname, y, x, allow_unused=allow_unused)
    dim = _check_dim(fname, dim, _ncols(x))
    order = _check_order(fname, order)
    return _repeated(fname, y, x, dim, order, create_graph=create_graph, allow_unused=allow_unused)


def gradient(
    y: Tensor | Callable[[Tensor], Tensor],
    x: Tensor,
    *,
    dims: Sequence[int] | None = None,
    create_graph: bool = True,
    allow_unused: bool = False,
    strict: bool = False,
) -> Tensor:
    """Return the gradient of a scalar field ``y`` with respect to ``x``, one row per point.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1), or callable
        Scalar field computed pointwise from ``x``; or the function computing it, run once
        in forward mode (see :func:`gradkit.laplacian`).
    x : Tensor, shape (N, d) or (N,)
        Collocation points. ``requires_grad=True`` is needed when ``y`` is a tensor.
    dims : list of int, optional
        Return only these columns of the gradient, in this order (default: all).
    create_graph : bool, default True
        Keep the graph of the result (see :func:`derivative`).
    allow_unused : bool, default False
        Return zeros instead of raising when ``y`` does not depend on ``x``.
    strict : bool, default False
        As in :func:`gradkit.laplacian`.

    Returns
    -------
    Tensor, shape of ``x``, or (N, len(dims))
        :math:`\\nabla y` at every point: ``(N, d)`` for ``x`` of shape ``(N, d)``.

    Raises
    ------
    ValueError
        If ``x`` does not require grad, ``y`` is not a scalar field, the numbers of points
        differ, or ``y`` does not depend on ``x`` (e.g. ``x`` is a slice taken after ``y``).
    TypeError
        If a tensor is not real floating point.
    RuntimeError
        If called under ``torch.no_grad()`` or ``torch.inference_mode()``.

    Notes
    -----
    One backward pass. The rows are independent because of the pointwise assumption.

    Examples
    --------
    >>> import torch
    >>> from gradkit import gradient
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 1.0]], requires_grad=True)
    >>> gradient(x[:, 0] ** 2 * x[:, 1], x)  # (2 x0 x1, x0^2)
    tensor([[4., 1.],
            [6., 9.]], grad_fn=<AddBackward0>)
    >>> gradient(x[:, 0] ** 2 * x[:, 1], x, dims=[1])  # x0^2 only
    tensor([[1.],
            [9.]], grad_fn=<IndexBackward0>)
    """
    fname = "gradient"
    if not isinstance(y, Tensor) and callable(y):
        x = _check_points(fname, x)
        every = _check_dims(fname, dims, _ncols(x))
        res = _forward_or_fallback(
            fname, y, x, _directions(x, every), create_graph=create_graph, strict=strict
        )
        if not isinstance(res, str):
            _scalar_rows(fname, res[0], x)
            g = res[1].reshape(len(every), x.shape[0]).T
            return _like(g, x.shape) if dims is None else g
        y, x = _call(fname, y, x, res)
    else:
        _check_grad_mode(fname)
        x = _check_x(fname, x)
        every = _check_dims(fname, dims, _ncols(x))
    y = _check_y(fname, y, x, allow_unused=allow_unused)
    g = _grad(
        fname, y, x, torch.ones_like(y), create_graph=create_graph, allow_unused=allow_unused
    )
    return g if dims is None else _rows(g)[:, every]


class Derivatives:
    """Memoising view of the partial derivatives of one scalar field.

    ``d[i]`` is :math:`\\partial u / \\partial x_i`, ``d[i, j]`` is
    :math:`\\partial^2 u / \\partial x_i \\partial x_j`, and so on. Every backward pass
    returns a whole gradient row, which is cached, so a derivative asked for twice (or a
    mixed partial asked for in either order) is computed once.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1), or callable
        Scalar field computed pointwise from ``x``, or the function computing it (called
        once on ``x``, and refused with :class:`CouplingError` if it mixes the points).
    x : Tensor, shape (N, d) or (N,)
        Collocation points. ``requires_grad=True`` is needed when ``y`` is a tensor.
    create_graph : bool, default True
        Keep the graph of the results (see :func:`derivative`).

    Raises
    ------
    ValueError
        As :func:`gradient` at construction; on indexing, if an index is out of range or
        ``y`` does not depend on ``x``.
    TypeError
        If an index is not an int or a tuple of ints.

    Notes
    -----
    Mixed partials are assumed symmetric (Schwarz's theorem), which holds for the smooth
    activations PINNs use. Results have the shape of ``y``. ``n_backward`` counts the
    backward passes done so far. Higher derivatives of a derivative that became constant in
    ``x`` are zeros (see :func:`derivative`).

    Examples
    --------
    >>> import torch
    >>> from gradkit import Derivatives
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 1.0]], requires_grad=True)
    >>> d = Derivatives(x[:, 0] ** 2 * x[:, 1], x)  # u = x0^2 x1
    >>> d[0]  # 2 x0 x1
    tensor([4., 6.], grad_fn=<SelectBackward0>)
    >>> d[0, 1]  # 2 x0
    tensor([2., 6.], grad_fn=<SelectBackward0>)
    >>> d[1, 0], d.n_backward  # cached: same value, no new pass
    (tensor([2., 6.], grad_fn=<SelectBackward0>), 2)
    >>> d.partial(1, order=2)  # u is linear in x1
    tensor([0., 0.], grad_fn=<SelectBackward0>)
    >>> d.laplacian()  # 2 x1 + 0
    tensor([4., 2.], grad_fn=<AddBackward0>)
    """

    def __init__(
        self, y: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, create_graph: bool = True
    ) -> None:
        fname = "Derivatives"
        if not isinstance(y, Tensor) and callable(y):
            y, x = _call(fname, y, _check_points(fname, x), "mixed partials use nested passes")
        _check_grad_mode(fname)
        self.x: Tensor = _check_x(fname, x)
        self.y: Tensor = _check_y(fname, y, self.x)
        self.d: int = _ncols(self.x)
        self.create_graph: bool = create_graph
        self.n_backward: int = 0
        self._cache: dict[tuple[int, ...], Tensor] = {(): self.y}

    def _key(self, key: object) -> tuple[int, ...]:
        """Normalise an index to a sorted tuple of column numbers."""
        keys = key if isinstance(key, tuple) else (key,)
        if not keys:
            raise TypeError("Derivatives: index must be at least one column, got `()`.")
        return tuple(sorted(_check_dim("Derivatives", k, self.d) for k in keys))

    def _get(self, key: tuple[int, ...]) -> Tensor:
        """Return the cached derivative, computing the parent's gradient row if needed."""
        if key in self._cache:
            return self._cache[key]
        parent = key[:-1]
        p = self._get(parent)
        g = _grad(
            "Derivatives",
            p,
            self.x,
            torch.ones_like(p),
            create_graph=True,
            allow_unused=bool(parent),
        )
        if p.requires_grad:
            self.n_backward += 1
        g = _like(g, (self.x.shape[0], self.d))
        for j in range(self.d):
            k = tuple(sorted((*parent, j)))
            self._cache.setdefault(k, _like(g[:, j], self.y.shape))
        return self._cache[key]

    def __getitem__(self, key: int | tuple[int, ...]) -> Tensor:
        """Return the partial derivative with respect to the listed columns."""
        out = self._get(self._key(key))
        # Intermediate orders always keep their graph so later orders can be taken;
        # only the returned value is cut when the caller asked for no graph.
        return out if self.create_graph else out.detach()

    def partial(self, dim: int, order: int = 1) -> Tensor:
        """Return the ``order``-th partial derivative with respect to column ``dim``."""
        order = _check_order("Derivatives.partial", order)
        return self[(dim,) * order]

    def gradient(self) -> Tensor:
        """Return the gradient, shape (N, d)."""
        return torch.stack([self[i].reshape(-1) for i in range(self.d)], dim=1)

    def laplacian(self) -> Tensor:
        """Return the Laplacian, shape of ``y``, from cached second derivatives."""
        out = self[0, 0]
        for i in range(1, self.d):
            out = out + self[i, i]
        return out
