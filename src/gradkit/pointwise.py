"""Pointwise derivatives of a scalar field with respect to collocation points.

gradkit assumes, like every PINN library, that row ``i`` of the output depends only on row
``i`` of the input (no batch norm, no attention across points). One backward pass with a
vector of ones then returns every point's derivative at once.

Each function first checks all its inputs at the boundary (``_checks``: the field and its
points in one call, then its own options) and then computes with one engine: the nested
backward passes of ``_engine``, or, for a callable the forward mode could run, the
derivatives it carried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ._checks import Forward, _check_dim, _check_order, check_inputs, line_points
from ._engine import _grad, _like, _ncols, _repeated, _rows

__all__ = ["Derivatives", "derivative", "gradient", "partial"]


def derivative(
    y: Tensor | Callable[[Tensor], Tensor], x: Tensor, order: int = 1, *, create_graph: bool = True,
    allow_unused: bool = False, strict: bool = False,
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
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`); TypeError also if ``order``
        is not an int.
    ValueError
        If ``x`` does not require grad, has more than one column, ``y`` is not a scalar field,
        the numbers of points differ, ``y`` does not depend on ``x``, or ``order < 1``.

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
    order = _check_order(fname, order)
    # The forward mode carries two orders.
    model = Forward(create_graph, strict) if order <= 2 else (
        "orders above 2 use nested backward passes")
    a = check_inputs(fname, y, x, points=line_points, allow_unused=allow_unused, model=model)
    if a.jet is not None:
        return _like(a.jet[0][0] if order == 1 else a.jet[1], a.y.shape)
    return _repeated(fname, a.y, a.x, 0, order, create_graph=create_graph,
                     allow_unused=allow_unused)


def partial(
    y: Tensor, x: Tensor, dim: int, order: int = 1, *, create_graph: bool = True,
    allow_unused: bool = False,
) -> Tensor:
    """Return the ``order``-th partial derivative of ``y`` with respect to column ``dim`` of ``x``.

    One column at a time (:class:`Derivatives` keeps whole gradient rows, for mixed partials).

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
    create_graph, allow_unused : bool
        As in :func:`derivative`.

    Returns
    -------
    Tensor, shape of ``y``
        :math:`\\partial^k y / \\partial x_{dim}^k` at every point.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`); TypeError also if ``dim``
        or ``order`` is not an int.
    ValueError
        If ``dim`` is out of range, or for the cases listed in :func:`derivative`.

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
    order = _check_order(fname, order)
    a = check_inputs(fname, y, x, allow_unused=allow_unused)
    dim = _check_dim(fname, dim, _ncols(a.x))
    return _repeated(fname, a.y, a.x, dim, order, create_graph=create_graph,
                     allow_unused=allow_unused)


def gradient(
    y: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, dims: Sequence[int] | None = None,
    create_graph: bool = True, allow_unused: bool = False, strict: bool = False,
) -> Tensor:
    """Return the gradient of a scalar field ``y`` with respect to ``x``, one row per point.

    With ``dims``, only the listed columns, e.g. the spatial gradient of space-time inputs.

    Parameters
    ----------
    y : Tensor, shape (N,) or (N, 1), or callable
        Scalar field computed pointwise from ``x``; or the function computing it, run once
        in forward mode (see :func:`gradkit.laplacian`).
    x : Tensor, shape (N, d) or (N,)
        Collocation points. ``requires_grad=True`` is needed when ``y`` is a tensor.
    dims : list of int, optional
        Return only these columns of the gradient, in this order (default: all).
    create_graph, allow_unused, strict : bool
        As in :func:`gradkit.laplacian`.

    Returns
    -------
    Tensor, shape of ``x``, or (N, len(dims))
        :math:`\\nabla y` at every point: ``(N, d)`` for ``x`` of shape ``(N, d)``.

    Raises
    ------
    TypeError, RuntimeError
        As every gradkit function (see :mod:`gradkit`).
    ValueError
        If ``x`` does not require grad, ``y`` is not a scalar field, the numbers of points
        differ, or ``y`` does not depend on ``x`` (e.g. ``x`` is a slice taken after ``y``).

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
    a = check_inputs("gradient", y, x, dims=dims, allow_unused=allow_unused,
                     model=Forward(create_graph, strict))
    if a.jet is not None:  # the derivatives along the columns in `dims`
        g = a.jet[0].reshape(len(a.cols), a.x.shape[0]).T
        return _like(g, a.x.shape) if dims is None else g
    g = _grad("gradient", a.y, a.x, torch.ones_like(a.y), create_graph=create_graph,
              allow_unused=allow_unused)
    return g if dims is None else _rows(g)[:, a.cols]


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
        self, y: Tensor | Callable[[Tensor], Tensor], x: Tensor, *, create_graph: bool = True,
    ) -> None:
        a = check_inputs("Derivatives", y, x, model="mixed partials use nested passes")
        self.x: Tensor = a.x
        self.y: Tensor = a.y
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
