"""Gradient, divergence, Laplacian and curl in orthogonal curvilinear coordinates.

An orthogonal coordinate system is data: its scale factors (Lamé coefficients)
``h_i(q)``, the lengths of the tangent vectors ``d position / d q_i``. One implementation
of each operator serves every system:

* gradient: :math:`(\\nabla u)_i = \\frac{1}{h_i} \\partial_i u`;
* divergence: :math:`\\nabla \\cdot v = \\frac{1}{H} \\sum_i \\partial_i (\\frac{H}{h_i} v_i)`,
  with :math:`H = \\prod_i h_i`;
* Laplacian: :math:`\\Delta u = \\frac{1}{H} \\sum_i \\partial_i (\\frac{H}{h_i^2} \\partial_i u)`;
* curl (three coordinates): :math:`(\\nabla \\times v)_i = \\frac{h_i}{H}
  (\\partial_j (h_k v_k) - \\partial_k (h_j v_j))` for ``(i, j, k)`` cyclic.

The points are given in the coordinates themselves, one column each, and vector fields by
their components on the orthonormal local basis, as in every textbook formula. The
formulas are singular where a scale factor vanishes (the axis ``r = 0``; ``sin(theta) = 0``):
keep the points off it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import torch
from torch import Tensor

from ._checks import _check_grad_mode, _check_x, _check_y
from ._engine import _grad, _like, _rows
from .jacobians import _jacobian
from .vector_calculus import _curl_of_jacobian, _second_diag

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

    def _points(self, fname: str, x: object, widths: tuple[int, ...]) -> tuple[Tensor, Tensor]:
        """Validate the points (shape (N, k), k in ``widths``) and return them with ``h``."""
        x = _check_x(fname, x, ndims=(2,))
        if x.shape[1] not in widths:
            want = " or ".join(f"(N, {w})" for w in widths)
            raise ValueError(
                f"{fname}: `x` must hold the coordinates {self.coordinates}, one column "
                f"each: shape {want}, got {tuple(x.shape)}."
            )
        return x, self.scale_factors(x)

    def _vector(self, fname: str, v: object, x: Tensor, allow_unused: bool) -> Tensor:
        """Validate a vector field with one component per coordinate of ``x``."""
        v = _check_y(fname, v, x, name="v", scalar=False, allow_unused=allow_unused)
        if v.shape != x.shape:
            raise ValueError(
                f"{fname}: `v` must have one component per coordinate, the shape of `x` "
                f"{tuple(x.shape)}, got {tuple(v.shape)}."
            )
        return v

    def gradient(
        self, u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the gradient of a scalar field: ``(d_i u / h_i)`` per point.

        Parameters
        ----------
        u : Tensor, shape (N,) or (N, 1)
            Scalar field computed pointwise from ``x``.
        x, create_graph, allow_unused
            Points in these coordinates, and options as in :func:`gradkit.gradient`.

        Returns
        -------
        Tensor, shape of ``x``

        Examples
        --------
        >>> import torch
        >>> from gradkit import cylindrical
        >>> x = torch.tensor([[2.0, 0.5, 1.0]], requires_grad=True)
        >>> cylindrical.gradient(x[:, 0] ** 2 * x[:, 1], x)  # (2 r phi, r, 0)
        tensor([[2., 2., 0.]], grad_fn=<DivBackward0>)
        """
        fname = f"{self.name}_gradient"
        _check_grad_mode(fname)
        x, h = self._points(fname, x, self.widths)
        u = _check_y(fname, u, x, name="u", allow_unused=allow_unused)
        g = _grad(fname, u, x, torch.ones_like(u), create_graph=create_graph,
                  allow_unused=allow_unused, name="u")
        return g / h

    def divergence(
        self, v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the divergence of a vector field, one value per point.

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
        fname = f"{self.name}_divergence"
        _check_grad_mode(fname)
        x, h = self._points(fname, x, self.widths)
        v = self._vector(fname, v, x, allow_unused)
        vol = h.prod(1, keepdim=True)
        return self._div(x, vol / h * v, create_graph) / vol[:, 0]

    def laplacian(
        self, u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the Laplacian of a scalar field, one value per point.

        Parameters
        ----------
        u : Tensor, shape (N,) or (N, 1)
            Scalar field computed pointwise from ``x``.
        x, create_graph, allow_unused
            Points in these coordinates, and options as in :func:`gradkit.laplacian`.

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
        fname = f"{self.name}_laplacian"
        _check_grad_mode(fname)
        x, h = self._points(fname, x, self.widths)
        u = _check_y(fname, u, x, name="u", allow_unused=allow_unused)
        g = _rows(_grad(fname, u, x, torch.ones_like(u), create_graph=True,
                        allow_unused=allow_unused, name="u"))
        vol = h.prod(1, keepdim=True)
        return _like(self._div(x, vol / (h * h) * g, create_graph) / vol[:, 0], u.shape)

    def curl(
        self, v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
    ) -> Tensor:
        """Return the curl of a vector field in three coordinates, one row per point.

        Parameters
        ----------
        v : Tensor, shape of ``x``
            Components on the orthonormal local basis, computed pointwise from ``x``.
        x, create_graph, allow_unused
            Points in these coordinates, and options as in :func:`gradkit.curl`.

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
        fname = f"{self.name}_curl"
        _check_grad_mode(fname)
        x, h = self._points(fname, x, (3,))
        v = self._vector(fname, v, x, allow_unused)
        j = _jacobian(fname, h * v, x, create_graph=create_graph,
                      allow_unused=allow_unused, name="v")
        return _curl_of_jacobian(j) * h / h.prod(1, keepdim=True)

    @staticmethod
    def _div(x: Tensor, flux: Tensor, create_graph: bool) -> Tensor:
        """Return :math:`\\sum_i \\partial_i flux_i`, one value per point."""
        diag, _ = _second_diag(flux, x, list(range(x.shape[1])), create_graph)
        return diag.sum(1)


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
