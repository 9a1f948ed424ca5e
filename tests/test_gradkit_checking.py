"""Tests for gradkit.checking: check_gradient and its report."""

from __future__ import annotations

import pytest
import torch

from gradkit import GradientReport, check_gradient


class _WrongSquare(torch.autograd.Function):
    """x**2 with a deliberately wrong backward (returns x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


def test_correct_gradient_passes_with_exact_errors():
    """A polynomial at integer points passes with zero error (exact central differences)."""
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    report = check_gradient(lambda s, t: s**2 * t, a, b)
    assert report.passed and bool(report)
    assert [r.name for r in report.inputs] == ["x0", "x1"]
    assert report.max_abs_error == 0.0


def test_wrong_gradient_fails_and_reports_error():
    """A wrong backward fails, and the table shows the error size and NO."""
    report = check_gradient(_WrongSquare.apply, torch.tensor([1.0, 2.0, 3.0]))
    assert not report.passed
    assert report.inputs[0].max_abs_error == pytest.approx(3.0)
    assert report.inputs[0].max_rel_error == pytest.approx(0.5)
    text = str(report)
    assert "NO" in text and "FAILED" in text and "3.00e+00" in text
    assert repr(report) == text


def test_second_order_check():
    """second_order=True runs gradgradcheck as well."""
    report = check_gradient(torch.sin, torch.tensor([0.5, 1.0]), second_order=True)
    assert report.passed and report.second_order
    assert "gradcheck + gradgradcheck passed" in str(report)


def test_inputs_not_modified_and_float32_promoted():
    """float32 inputs are checked in float64 copies and left untouched."""
    x = torch.tensor([0.25, 0.5])
    report = check_gradient(torch.exp, x)
    assert report.passed and x.dtype == torch.float32 and not x.requires_grad
    assert isinstance(report, GradientReport)


@pytest.mark.parametrize(("args", "exc", "match"), [
    ((3, torch.ones(2)), TypeError, r"^check_gradient: `f` must be callable, got int"),
    ((torch.sin,), ValueError, r"^check_gradient: give at least one input"),
    ((torch.sin, torch.ones(2, dtype=torch.int64)), TypeError,
     r"^check_gradient: input 0 must be a floating-point tensor, got torch.int64"),
    ((lambda t: [t], torch.ones(2)), TypeError, r"^check_gradient: `f` must return one Tensor"),
], ids=["not-callable", "no-input", "int-input", "list-output"])
def test_bad_arguments(args, exc, match):
    """Bad arguments raise errors naming check_gradient."""
    with pytest.raises(exc, match=match):
        check_gradient(*args)
