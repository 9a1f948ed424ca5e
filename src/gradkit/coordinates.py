"""Gradient, divergence, Laplacian and curl in orthogonal curvilinear coordinates.

An orthogonal coordinate system is data: its scale factors (Lamé coefficients)
``h_i(q)``, the lengths of the tangent vectors ``d position / d q_i``. One implementation
of each operator (its formula is in its docstring) serves every system.

The points are given in the coordinates themselves, one column each, and vector fields by
their components on the orthonormal local basis, as in every textbook formula. The
formulas are singular where a scale factor vanishes (the axis ``r = 0``; ``sin(theta) = 0``):
keep the points off it.

Each operator checks its field and points with one call to the boundary
(``_checks.check_inputs``), with the system's own rule for the number of columns, and then
computes with the backward passes of ``_engine``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import torch
from torch import Tensor

from ._checks import Checked, check_inputs, coordinate_points, one_per_coordinate
from ._engine import _curl_of_jacobian, _divergence, _grad, _jacobian, _like, _rows, _second_diag

__all__ = [
    "OrthogonalCoordinates",
    "cylindrical",
    "cylindrical_curl",
    "cylindrical_divergence",
    "cylindrical_gradient",
    "cylindrical_laplacian",
    "spherical",
    "spherical_curl",
    "spherical_divergence",
    "spherical_gradient",
    "spherical_laplacian",
]

_Operator: TypeAlias = Callable[..., Tensor]  # a bound method of a coordinate system


class OrthogonalCoordinates:
    """An orthogonal coordinate system, given by its scale factors.

    Parameters
    ----------
    name : str
        Name used in error messages, e.g. ``"cylindrical"`` (errors then start with
        ``cylindrical_laplacian:``).
    coordinates : str
        The columns, for error messages, e.g. ``"(r, phi, z)"``.
    scale_factors : callable
        Maps points ``q`` of shape (N, k) to the scale factors ``h`` of shape (N, k), built
        from ``q`` with torch operations (they are differentiated).
    widths : tuple of int
        The numbers of columns accepted (the curl needs 3).

    Notes
    -----
    Each operator takes points ``x`` of shape (N, k), one coordinate per column, with
    ``requires_grad=True``, and raises ``ValueError`` for another number of columns (or as
    the Cartesian operator of the same name does).

    Examples
    --------
    Parabolic coordinates ``(sigma, tau, phi)``, one definition away:

    >>> import torch
    >>> from gradkit import OrthogonalCoordinates
    >>> def parabolic_h(q):
    ...     s, t = q[:, 0], q[:, 1]
    ...     return torch.stack([torch.hypot(s, t), torch.hypot(s, t), s * t], dim=1)
    >>> parabolic = OrthogonalCoordinates("parabolic", "(sigma, tau, phi)", parabolic_h, (3,))
    >>> q = torch.tensor([[1.0, 2.0, 0.3]], dtype=torch.float64, requires_grad=True)
    >>> s, t = q[:, 0], q[:, 1]
    >>> lap = parabolic.laplacian((s**2 + t**2) ** 2 / 4, q)  # |position|^2: Laplacian 6
    >>> torch.allclose(lap, torch.tensor([6.0], dtype=torch.float64))
    True
    """

    def __init__(
        self,
        name: str,
        coordinates: str,
        scale_factors: Callable[[Tensor], Tensor],
        widths: tuple[int, ...],
    ) -> None:
        self.name = name
        self.coordinates = coordinates
        self.scale_factors = scale_factors
        self.widths = widths

    def __repr__(self) -> str:
        return f"OrthogonalCoordinates({self.name!r}, {self.coordinates!r})"

    def _field(
        self, op: str, y: object, x: object, allow_unused: bool, *, vector: bool = False,
        widths: tuple[int, ...] | None = None,
    ) -> tuple[Checked, Tensor]:
        """Check the field and the points of operator ``op`` (one boundary call); return
        them with the scale factors at the points."""
        a = check_inputs(f"{self.name}_{op}", y, x, name="v" if vector else "u", scalar=not vector,
                         ndims=(2,), allow_unused=allow_unused,
                         points=coordinate_points(self.coordinates, widths or self.widths),
                         shape=one_per_coordinate if vector else None)
        return a, self.scale_factors(a.x)

    def gradient(
        self, u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the gradient of a scalar field, one row per point.

        :math:`(\\nabla u)_i = \\frac{1}{h_i} \\partial_i u`.

        Parameters
        ----------
        u : Tensor, shape (N,) or (N, 1)
            Scalar field computed pointwise from ``x``.
        x, create_graph, allow_unused
            Points in these coordinates, and options as in :func:`gradkit.gradient`.

        Returns
        -------
        Tensor, shape of ``x``
            The components on the orthonormal local basis.

        Examples
        --------
        >>> import torch
        >>> from gradkit import cylindrical
        >>> x = torch.tensor([[2.0, 0.5, 1.0]], requires_grad=True)
        >>> cylindrical.gradient(x[:, 0] ** 2 * x[:, 1], x)  # (2 r phi, r, 0)
        tensor([[2., 2., 0.]], grad_fn=<DivBackward0>)
        """
        a, h = self._field("gradient", u, x, allow_unused)
        g = _grad(f"{self.name}_gradient", a.y, a.x, torch.ones_like(a.y),
                  create_graph=create_graph, allow_unused=allow_unused, name="u")
        return g / h

    def divergence(
        self, v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the divergence of a vector field, one value per point.

        :math:`\\nabla \\cdot v = \\frac{1}{H} \\sum_i \\partial_i (\\frac{H}{h_i} v_i)`,
        with :math:`H = \\prod_i h_i`.

        Parameters
        ----------
        v : Tensor, shape of ``x``
            Components on the orthonormal local basis, computed pointwise from ``x``.
        x, create_graph, allow_unused
            Points in these coordinates, and options as in :func:`gradkit.divergence`.

        Returns
        -------
        Tensor, shape (N,)

        Examples
        --------
        >>> import torch
        >>> from gradkit import cylindrical
        >>> x = torch.tensor([[2.0, 0.5]], requires_grad=True)
        >>> v = torch.stack([x[:, 0] ** 2, torch.zeros(1)], dim=1)  # v_r = r^2: div = 3 r
        >>> cylindrical.divergence(v, x)
        tensor([6.], grad_fn=<DivBackward0>)
        """
        a, h = self._field("divergence", v, x, allow_unused, vector=True)
        vol = h.prod(1, keepdim=True)
        div = _divergence(f"{self.name}_divergence", vol / h * a.y, a.x, a.cols,
                          create_graph=create_graph, allow_unused=allow_unused)
        return div / vol[:, 0]

    def laplacian(
        self, u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the Laplacian of a scalar field, one value per point.

        :math:`\\Delta u = \\frac{1}{H} \\sum_i \\partial_i (\\frac{H}{h_i^2} \\partial_i u)`.

        Parameters
        ----------
        u : Tensor, shape (N,) or (N, 1)
            Scalar field computed pointwise from ``x``, twice differentiable.
        x, create_graph, allow_unused
            As in :meth:`gradient` (options as in :func:`gradkit.laplacian`).

        Returns
        -------
        Tensor, shape of ``u``

        Examples
        --------
        >>> import torch
        >>> from gradkit import cylindrical
        >>> x = torch.tensor([[2.0, 0.5]], requires_grad=True)
        >>> cylindrical.laplacian(torch.log(x[:, 0]), x)  # log r is harmonic in the plane
        tensor([0.], grad_fn=<DivBackward0>)
        """
        a, h = self._field("laplacian", u, x, allow_unused)
        g = _rows(_grad(f"{self.name}_laplacian", a.y, a.x, torch.ones_like(a.y),
                        create_graph=True, allow_unused=allow_unused, name="u"))
        vol = h.prod(1, keepdim=True)
        # A flux that is constant in x (u linear, constant scale factors) gives zeros.
        div, _ = _second_diag(vol / (h * h) * g, a.x, a.cols, create_graph)
        return _like(div.sum(1) / vol[:, 0], a.y.shape)

    def curl(
        self, v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the curl of a vector field in three coordinates, one row per point.

        :math:`(\\nabla \\times v)_i = \\frac{h_i}{H}
        (\\partial_j (h_k v_k) - \\partial_k (h_j v_j))` for ``(i, j, k)`` cyclic.

        Parameters
        ----------
        v : Tensor, shape of ``x``
            Components on the orthonormal local basis, computed pointwise from ``x``.
        x, create_graph, allow_unused
            As in :meth:`divergence` (options as in :func:`gradkit.curl`).

        Returns
        -------
        Tensor, shape (N, 3)

        Examples
        --------
        >>> import torch
        >>> from gradkit import cylindrical
        >>> x = torch.tensor([[2.0, 0.5, 1.0]], requires_grad=True)
        >>> zero = torch.zeros(1)
        >>> v = torch.stack([zero, x[:, 0], zero], dim=1)  # rigid rotation: curl = (0, 0, 2)
        >>> cylindrical.curl(v, x)
        tensor([[0., 0., 2.]], grad_fn=<DivBackward0>)
        """
        a, h = self._field("curl", v, x, allow_unused, vector=True, widths=(3,))
        j = _jacobian(f"{self.name}_curl", h * a.y, a.x, create_graph=create_graph,
                      allow_unused=allow_unused, name="v")
        return _curl_of_jacobian(j) * h / h.prod(1, keepdim=True)


def _cylindrical_h(q: Tensor) -> Tensor:
    """(1, r, 1), or (1, r) for polar points (r, phi)."""
    one = torch.ones_like(q[:, 0])
    return torch.stack([one, q[:, 0], one][: q.shape[1]], dim=1)


def _spherical_h(q: Tensor) -> Tensor:
    """(1, r, r sin(theta)) for points (r, theta, phi), theta from the z axis."""
    r = q[:, 0]
    return torch.stack([torch.ones_like(r), r, r * torch.sin(q[:, 1])], dim=1)


cylindrical: OrthogonalCoordinates = OrthogonalCoordinates(
    "cylindrical", "(r, phi, z) or (r, phi)", _cylindrical_h, (2, 3)
)
"""Cylindrical coordinates ``(r, phi, z)``, or polar ``(r, phi)`` in the plane."""

spherical: OrthogonalCoordinates = OrthogonalCoordinates(
    "spherical", "(r, theta, phi)", _spherical_h, (3,)
)
"""Spherical coordinates ``(r, theta, phi)``: ``theta`` the polar angle from the z axis,
``phi`` the azimuth (the physics convention)."""

cylindrical_gradient: _Operator = cylindrical.gradient
cylindrical_divergence: _Operator = cylindrical.divergence
cylindrical_laplacian: _Operator = cylindrical.laplacian
cylindrical_curl: _Operator = cylindrical.curl
spherical_gradient: _Operator = spherical.gradient
spherical_divergence: _Operator = spherical.divergence
spherical_laplacian: _Operator = spherical.laplacian
spherical_curl: _Operator = spherical.curl
