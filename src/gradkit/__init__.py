"""gradkit: pointwise derivatives for PyTorch autograd, with clear errors.

Inputs are collocation points ``x`` of shape ``(N,)`` or ``(N, d)`` with
``requires_grad=True``; outputs are fields computed pointwise from them. Results keep
their graph by default (``create_graph=True``) so losses built from them can be trained.

Every function checks its inputs before it computes anything, and its errors name the
function, the cause and the fix: ``TypeError`` for an argument that is not a real
floating-point tensor, ``RuntimeError`` for a call under ``torch.no_grad()`` or
``torch.inference_mode()`` where autograd is needed (the forward mode, which runs a callable,
needs none), ``ValueError`` for a wrong shape, points that do not require grad and a field that
does not depend on its points.
"""

from ._taylor import TaylorModeError, TaylorModeWarning
from .checking import GradientReport, check_gradient, check_pointwise
from .coordinates import (
    OrthogonalCoordinates,
    cylindrical,
    cylindrical_curl,
    cylindrical_divergence,
    cylindrical_gradient,
    cylindrical_laplacian,
    spherical,
    spherical_curl,
    spherical_divergence,
    spherical_gradient,
    spherical_laplacian,
)
from .coupling import CouplingError
from .graph import plot_graph, print_graph
from .jacobians import hessian, jacobian, jvp, vjp
from .pointwise import Derivatives, derivative, gradient, partial
from .vector_calculus import (
    curl,
    divergence,
    laplacian,
    laplacian_estimate,
    vector_laplacian,
    weighted_laplacian,
)

__all__ = [
    "CouplingError",
    "Derivatives",
    "GradientReport",
    "OrthogonalCoordinates",
    "TaylorModeError",
    "TaylorModeWarning",
    "check_gradient",
    "check_pointwise",
    "curl",
    "cylindrical",
    "cylindrical_curl",
    "cylindrical_divergence",
    "cylindrical_gradient",
    "cylindrical_laplacian",
    "derivative",
    "divergence",
    "gradient",
    "hessian",
    "jacobian",
    "jvp",
    "laplacian",
    "laplacian_estimate",
    "partial",
    "plot_graph",
    "print_graph",
    "spherical",
    "spherical_curl",
    "spherical_divergence",
    "spherical_gradient",
    "spherical_laplacian",
    "vector_laplacian",
    "vjp",
    "weighted_laplacian",
]

__version__ = "0.1.0"
