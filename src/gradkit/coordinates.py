"""Gradient, divergence, Laplacian and curl in cylindrical and spherical coordinates.

The points are given in the curvilinear coordinates themselves, one column each:

* cylindrical: ``x = (r, phi, z)``, or ``(r, phi)`` for polar coordinates in the plane;
* spherical: ``x = (r, theta, phi)``, ``theta`` the polar angle from the z axis and ``phi``
  the azimuth (the physics convention).

Vector fields are given by their components on the orthonormal local basis
(``e_r, e_phi, e_z`` or ``e_r, e_theta, e_phi``), as in every textbook formula. The formulas
are singular on the axis (``r = 0``; ``sin(theta) = 0``): keep the points off it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import _check_grad_mode, _check_x, _check_y
from ._engine import _grad, _like, _per_column, _rows
from .jacobians import _jacobian

__all__ = [
    "cylindrical_curl",
    "cylindrical_divergence",
    "cylindrical_gradient",
    "cylindrical_laplacian",
    "spherical_curl",
    "spherical_divergence",
    "spherical_gradient",
    "spherical_laplacian",
]


def _points(fname: str, x: object, widths: tuple[int, ...], names: str) -> Tensor:
    """Validate curvilinear points: shape (N, k) with k in ``widths``, requiring grad."""
    x = _check_x(fname, x, ndims=(2,))
    if x.shape[1] not in widths:
        want = " or ".join(f"(N, {w})" for w in widths)
        raise ValueError(
            f"{fname}: `x` must hold the coordinates {names}, one column each: shape {want}, "
            f"got {tuple(x.shape)}."
        )
    return x


def _vector(fname: str, v: object, x: Tensor, allow_unused: bool) -> Tensor:
    """Validate a vector field with one component per coordinate of ``x``."""
    v = _check_y(fname, v, x, name="v", scalar=False, allow_unused=allow_unused)
    if v.shape != x.shape:
        raise ValueError(
            f"{fname}: `v` must have one component per coordinate, the shape of `x` "
            f"{tuple(x.shape)}, got {tuple(v.shape)}."
        )
    return v


def _first_and_second(
    fname: str, u: Tensor, x: Tensor, create_graph: bool, allow_unused: bool
) -> tuple[Tensor, Tensor]:
    """Return the gradient (N, k) and the Hessian diagonal (N, k) of a scalar field."""
    g = _rows(_grad(fname, u, x, torch.ones_like(u), create_graph=True,
                    allow_unused=allow_unused))
    rows, _ = _per_column(g, x, list(range(x.shape[1])), create_graph=create_graph)
    diag = torch.stack([r[:, i] for i, r in enumerate(rows)], dim=1)
    return (g if create_graph else g.detach()), diag


def cylindrical_gradient(
    u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the gradient of a scalar field in cylindrical (or polar) coordinates.

    Parameters
    ----------
    u : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, 3) or (N, 2)
        Points ``(r, phi, z)`` or ``(r, phi)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.gradient`.

    Returns
    -------
    Tensor, shape of ``x``
        :math:`(\\partial_r u, \\frac{1}{r}\\partial_\\phi u, \\partial_z u)`.

    Raises
    ------
    ValueError
        If ``x`` is not (N, 2) or (N, 3), or as :func:`gradkit.gradient`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import cylindrical_gradient
    >>> x = torch.tensor([[2.0, 0.5, 1.0]], requires_grad=True)
    >>> cylindrical_gradient(x[:, 0] ** 2 * x[:, 1], x)  # (2 r phi, r, 0)
    tensor([[2., 2., 0.]], grad_fn=<StackBackward0>)
    """
    fname = "cylindrical_gradient"
    _check_grad_mode(fname)
    x = _points(fname, x, (2, 3), "(r, phi, z) or (r, phi)")
    u = _check_y(fname, u, x, name="u", allow_unused=allow_unused)
    g = _grad(fname, u, x, torch.ones_like(u), create_graph=create_graph,
              allow_unused=allow_unused, name="u")
    r = x[:, 0]
    cols = [g[:, 0], g[:, 1] / r] + ([g[:, 2]] if x.shape[1] == 3 else [])
    return torch.stack(cols, dim=1)


def cylindrical_divergence(
    v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the divergence of a vector field in cylindrical (or polar) coordinates.

    Parameters
    ----------
    v : Tensor, shape of ``x``
        Components ``(v_r, v_phi, v_z)`` (or ``(v_r, v_phi)``) computed pointwise from ``x``.
    x : Tensor, shape (N, 3) or (N, 2)
        Points ``(r, phi, z)`` or ``(r, phi)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.divergence`.

    Returns
    -------
    Tensor, shape (N,)
        :math:`\\frac{1}{r}\\partial_r (r v_r) + \\frac{1}{r}\\partial_\\phi v_\\phi
        + \\partial_z v_z`.

    Raises
    ------
    ValueError
        If ``x`` is not (N, 2) or (N, 3), ``v`` has another shape, or as
        :func:`gradkit.divergence`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import cylindrical_divergence
    >>> x = torch.tensor([[2.0, 0.5]], requires_grad=True)
    >>> v = torch.stack([x[:, 0] ** 2, torch.zeros(1)], dim=1)  # v_r = r^2: div = 3 r
    >>> cylindrical_divergence(v, x)
    tensor([6.], grad_fn=<AddBackward0>)
    """
    fname = "cylindrical_divergence"
    _check_grad_mode(fname)
    x = _points(fname, x, (2, 3), "(r, phi, z) or (r, phi)")
    v = _vector(fname, v, x, allow_unused)
    j = _jacobian(fname, v, x, create_graph=create_graph, allow_unused=allow_unused, name="v")
    r = x[:, 0]
    out = j[:, 0, 0] + v[:, 0] / r + j[:, 1, 1] / r
    return out + j[:, 2, 2] if x.shape[1] == 3 else out


def cylindrical_laplacian(
    u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the Laplacian of a scalar field in cylindrical (or polar) coordinates.

    Parameters
    ----------
    u : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, 3) or (N, 2)
        Points ``(r, phi, z)`` or ``(r, phi)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.laplacian`.

    Returns
    -------
    Tensor, shape of ``u``
        :math:`\\partial_r^2 u + \\frac{1}{r}\\partial_r u + \\frac{1}{r^2}\\partial_\\phi^2 u
        + \\partial_z^2 u`.

    Raises
    ------
    ValueError
        If ``x`` is not (N, 2) or (N, 3), or as :func:`gradkit.laplacian`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import cylindrical_laplacian
    >>> x = torch.tensor([[2.0, 0.5]], requires_grad=True)
    >>> cylindrical_laplacian(torch.log(x[:, 0]), x)  # log r is harmonic in the plane
    tensor([0.], grad_fn=<AddBackward0>)
    """
    fname = "cylindrical_laplacian"
    _check_grad_mode(fname)
    x = _points(fname, x, (2, 3), "(r, phi, z) or (r, phi)")
    u = _check_y(fname, u, x, name="u", allow_unused=allow_unused)
    g, h = _first_and_second(fname, u, x, create_graph, allow_unused)
    r = x[:, 0]
    out = h[:, 0] + g[:, 0] / r + h[:, 1] / (r * r)
    if x.shape[1] == 3:
        out = out + h[:, 2]
    return _like(out, u.shape)


def cylindrical_curl(
    v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the curl of a vector field in cylindrical coordinates.

    Parameters
    ----------
    v : Tensor, shape (N, 3)
        Components ``(v_r, v_phi, v_z)`` computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Points ``(r, phi, z)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.curl`.

    Returns
    -------
    Tensor, shape (N, 3)
        :math:`(\\frac{1}{r}\\partial_\\phi v_z - \\partial_z v_\\phi,\\;
        \\partial_z v_r - \\partial_r v_z,\\;
        \\frac{1}{r}(\\partial_r (r v_\\phi) - \\partial_\\phi v_r))`.

    Raises
    ------
    ValueError
        If ``x`` or ``v`` is not (N, 3), or as :func:`gradkit.curl`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import cylindrical_curl
    >>> x = torch.tensor([[2.0, 0.5, 1.0]], requires_grad=True)
    >>> zero = torch.zeros(1)
    >>> v = torch.stack([zero, x[:, 0], zero], dim=1)  # rigid rotation: curl = (0, 0, 2)
    >>> cylindrical_curl(v, x)
    tensor([[0., 0., 2.]], grad_fn=<StackBackward0>)
    """
    fname = "cylindrical_curl"
    _check_grad_mode(fname)
    x = _points(fname, x, (3,), "(r, phi, z)")
    v = _vector(fname, v, x, allow_unused)
    j = _jacobian(fname, v, x, create_graph=create_graph, allow_unused=allow_unused, name="v")
    r = x[:, 0]
    return torch.stack(
        [
            j[:, 2, 1] / r - j[:, 1, 2],
            j[:, 0, 2] - j[:, 2, 0],
            j[:, 1, 0] + v[:, 1] / r - j[:, 0, 1] / r,
        ],
        dim=1,
    )


def spherical_gradient(
    u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the gradient of a scalar field in spherical coordinates.

    Parameters
    ----------
    u : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Points ``(r, theta, phi)`` (``theta`` from the z axis), with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.gradient`.

    Returns
    -------
    Tensor, shape (N, 3)
        :math:`(\\partial_r u, \\frac{1}{r}\\partial_\\theta u,
        \\frac{1}{r\\sin\\theta}\\partial_\\phi u)`.

    Raises
    ------
    ValueError
        If ``x`` is not (N, 3), or as :func:`gradkit.gradient`.

    Examples
    --------
    >>> import math, torch
    >>> from gradkit import spherical_gradient
    >>> x = torch.tensor([[2.0, math.pi / 2, 0.0]], requires_grad=True)
    >>> g = spherical_gradient(x[:, 0] * torch.cos(x[:, 1]), x)  # u = z, so grad u = e_z
    >>> torch.allclose(g, torch.tensor([[0.0, -1.0, 0.0]]), atol=1e-6)  # -e_theta on the equator
    True
    """
    fname = "spherical_gradient"
    _check_grad_mode(fname)
    x = _points(fname, x, (3,), "(r, theta, phi)")
    u = _check_y(fname, u, x, name="u", allow_unused=allow_unused)
    g = _grad(fname, u, x, torch.ones_like(u), create_graph=create_graph,
              allow_unused=allow_unused, name="u")
    r, s = x[:, 0], torch.sin(x[:, 1])
    return torch.stack([g[:, 0], g[:, 1] / r, g[:, 2] / (r * s)], dim=1)


def spherical_divergence(
    v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the divergence of a vector field in spherical coordinates.

    Parameters
    ----------
    v : Tensor, shape (N, 3)
        Components ``(v_r, v_theta, v_phi)`` computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Points ``(r, theta, phi)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.divergence`.

    Returns
    -------
    Tensor, shape (N,)
        :math:`\\frac{1}{r^2}\\partial_r (r^2 v_r)
        + \\frac{1}{r\\sin\\theta}\\partial_\\theta (\\sin\\theta\\, v_\\theta)
        + \\frac{1}{r\\sin\\theta}\\partial_\\phi v_\\phi`.

    Raises
    ------
    ValueError
        If ``x`` or ``v`` is not (N, 3), or as :func:`gradkit.divergence`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import spherical_divergence
    >>> x = torch.tensor([[2.0, 1.0, 0.5]], requires_grad=True)
    >>> zero = torch.zeros(1)
    >>> v = torch.stack([x[:, 0], zero, zero], dim=1)  # the position vector: div = 3
    >>> spherical_divergence(v, x)
    tensor([3.], grad_fn=<AddBackward0>)
    """
    fname = "spherical_divergence"
    _check_grad_mode(fname)
    x = _points(fname, x, (3,), "(r, theta, phi)")
    v = _vector(fname, v, x, allow_unused)
    j = _jacobian(fname, v, x, create_graph=create_graph, allow_unused=allow_unused, name="v")
    r, th = x[:, 0], x[:, 1]
    s, c = torch.sin(th), torch.cos(th)
    return (j[:, 0, 0] + 2 * v[:, 0] / r + (j[:, 1, 1] + c / s * v[:, 1]) / r
            + j[:, 2, 2] / (r * s))


def spherical_laplacian(
    u: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the Laplacian of a scalar field in spherical coordinates.

    Parameters
    ----------
    u : Tensor, shape (N,) or (N, 1)
        Scalar field computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Points ``(r, theta, phi)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.laplacian`.

    Returns
    -------
    Tensor, shape of ``u``
        :math:`\\frac{1}{r^2}\\partial_r (r^2 \\partial_r u)
        + \\frac{1}{r^2\\sin\\theta}\\partial_\\theta (\\sin\\theta\\,\\partial_\\theta u)
        + \\frac{1}{r^2\\sin^2\\theta}\\partial_\\phi^2 u`.

    Raises
    ------
    ValueError
        If ``x`` is not (N, 3), or as :func:`gradkit.laplacian`.

    Examples
    --------
    >>> import torch
    >>> from gradkit import spherical_laplacian
    >>> x = torch.tensor([[2.0, 1.0, 0.5]], requires_grad=True)
    >>> spherical_laplacian(1 / x[:, 0], x)  # 1/r is harmonic away from 0
    tensor([0.], grad_fn=<AddBackward0>)
    """
    fname = "spherical_laplacian"
    _check_grad_mode(fname)
    x = _points(fname, x, (3,), "(r, theta, phi)")
    u = _check_y(fname, u, x, name="u", allow_unused=allow_unused)
    g, h = _first_and_second(fname, u, x, create_graph, allow_unused)
    r, th = x[:, 0], x[:, 1]
    s, c = torch.sin(th), torch.cos(th)
    r2 = r * r
    out = h[:, 0] + 2 * g[:, 0] / r + (h[:, 1] + c / s * g[:, 1]) / r2 + h[:, 2] / (r2 * s * s)
    return _like(out, u.shape)


def spherical_curl(
    v: Tensor, x: Tensor, *, create_graph: bool = True, allow_unused: bool = False
) -> Tensor:
    """Return the curl of a vector field in spherical coordinates.

    Parameters
    ----------
    v : Tensor, shape (N, 3)
        Components ``(v_r, v_theta, v_phi)`` computed pointwise from ``x``.
    x : Tensor, shape (N, 3)
        Points ``(r, theta, phi)``, with ``requires_grad=True``.
    create_graph, allow_unused : bool
        As in :func:`gradkit.curl`.

    Returns
    -------
    Tensor, shape (N, 3)
        The components on ``(e_r, e_theta, e_phi)``:
        :math:`\\frac{1}{r\\sin\\theta}(\\partial_\\theta(\\sin\\theta\\, v_\\phi)
        - \\partial_\\phi v_\\theta)`,
        :math:`\\frac{1}{r}(\\frac{1}{\\sin\\theta}\\partial_\\phi v_r - \\partial_r (r v_\\phi))`,
        :math:`\\frac{1}{r}(\\partial_r (r v_\\theta) - \\partial_\\theta v_r)`.

    Raises
    ------
    ValueError
        If ``x`` or ``v`` is not (N, 3), or as :func:`gradkit.curl`.

    Examples
    --------
    >>> import math, torch
    >>> from gradkit import spherical_curl
    >>> x = torch.tensor([[2.0, math.pi / 2, 0.0]], requires_grad=True)
    >>> zero = torch.zeros(1)
    >>> v = torch.stack([zero, zero, x[:, 0] * torch.sin(x[:, 1])], dim=1)  # rotation about z
    >>> c = spherical_curl(v, x)  # 2 e_z, which is -2 e_theta on the equator
    >>> torch.allclose(c, torch.tensor([[0.0, -2.0, 0.0]]), atol=1e-6)
    True
    """
    fname = "spherical_curl"
    _check_grad_mode(fname)
    x = _points(fname, x, (3,), "(r, theta, phi)")
    v = _vector(fname, v, x, allow_unused)
    j = _jacobian(fname, v, x, create_graph=create_graph, allow_unused=allow_unused, name="v")
    r, th = x[:, 0], x[:, 1]
    s, c = torch.sin(th), torch.cos(th)
    return torch.stack(
        [
            (j[:, 2, 1] + c / s * v[:, 2] - j[:, 1, 2] / s) / r,
            j[:, 0, 2] / (r * s) - j[:, 2, 0] - v[:, 2] / r,
            j[:, 1, 0] + v[:, 1] / r - j[:, 0, 1] / r,
        ],
        dim=1,
    )
