"""Tests for the gradkit package namespace."""

from __future__ import annotations

import gradkit

EXPECTED = {
    "Derivatives", "GradientReport", "check_gradient", "curl", "derivative", "divergence",
    "gradient", "hessian", "jacobian", "jvp", "laplacian", "partial", "plot_graph",
    "print_graph", "vjp", "vector_laplacian", "weighted_laplacian", "TaylorModeError",
    "TaylorModeWarning", "laplacian_estimate", "cylindrical_curl", "cylindrical_divergence",
    "cylindrical_gradient", "cylindrical_laplacian", "spherical_curl", "spherical_divergence",
    "spherical_gradient", "spherical_laplacian", "CouplingError", "check_pointwise",
    "OrthogonalCoordinates", "cylindrical", "spherical",
}
CLASSES = {
    "CouplingError", "OrthogonalCoordinates", "GradientReport", "TaylorModeError",
    "TaylorModeWarning",
}


def test_all_is_the_public_api():
    """__all__ lists exactly the public names, and each is importable."""
    assert set(gradkit.__all__) == EXPECTED
    assert all(hasattr(gradkit, name) for name in gradkit.__all__)


def test_public_names_have_numpydoc_sections():
    """Every public function documents Parameters and Examples."""
    for name in EXPECTED - CLASSES:
        doc = getattr(gradkit, name).__doc__
        assert "Parameters\n" in doc and "Examples\n" in doc, name
