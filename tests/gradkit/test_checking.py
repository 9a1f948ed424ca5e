"""Tests for gradkit.checking: check_gradient and its report."""

from __future__ import annotations

import pytest
import torch

from gradkit import GradientReport, check_gradient


class _Square(torch.autograd.Function):
    """x**2; each subclass below gets its backward wrong in its own way."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2


class _WrongSquare(_Square):
    """x**2 with a deliberately wrong backward (returns x instead of 2x)."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class _DetachedBackwardSquare(_Square):
    """x**2 with a right first derivative whose own derivative is lost (double backward 0)."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x.detach()


_CHECKED = torch.tensor([1.0, 2.0], dtype=torch.float64)


class _SquareExactAtCheckedPoints(_Square):
    """x**2 whose backward is exact at _CHECKED only: g (2x + (x - _CHECKED)**3).

    First derivatives at _CHECKED are right for any step; the finite-difference second
    derivative of the backward is off by eps**2 * g, so only a small step passes gradgradcheck.
    """

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 * x + (x - _CHECKED) ** 3)


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


def test_report_text_in_full():
    """The table pads columns, strips trailing blanks, and ends with the verdict and settings."""
    report = check_gradient(lambda s, t: _WrongSquare.apply(s) + 3 * t,
                            torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, -1.0, 0.5]))
    assert str(report) == (
        "input  shape  max abs err  max rel err  ok\n"
        "-----  -----  -----------  -----------  ---\n"
        "x0     (3,)   3.00e+00     5.00e-01     NO\n"
        "x1     (3,)   0.00e+00     0.00e+00     yes\n"
        "gradcheck FAILED (eps=9.54e-07, atol=1e-05, rtol=0.001)"
    )
    assert [r.passed for r in report.inputs] == [False, True]


def test_non_symmetric_jacobians():
    """Jacobians that are not symmetric (cumsum) or not square (outer product) are exact."""
    a = torch.tensor([1.0, 2.0, 3.0])
    report = check_gradient(lambda t: t.cumsum(0) * t, a)
    assert report.passed and report.max_abs_error == 0.0
    report = check_gradient(lambda s, t: (s[:, None] * t).sum(0), a[:2], torch.ones(2, 3))
    assert report.passed and [r.shape for r in report.inputs] == [(2,), (2, 3)]
    assert report.max_abs_error == 0.0


def test_zero_jacobian_has_zero_relative_error():
    """A zero Jacobian gives a zero relative error instead of dividing by zero."""
    report = check_gradient(lambda t: 0 * t, torch.tensor([1.0, 2.0]))
    assert report.passed and report.inputs[0].max_rel_error == 0.0


# f, x, keyword arguments, expected verdict (gradcheck, then per input): each setting is used
TOLERANCES = [
    ("exact-needs-equality", lambda t: t**2, [1.0, 2.0, 3.0], {"atol": 0.0, "rtol": 0.0}, True),
    ("coarse-eps-fails", torch.exp, [0.0, 1.0], {"eps": 0.5}, False),
    ("wrong-within-atol", _WrongSquare.apply, [1.0, 2.0, 3.0], {"atol": 10.0}, True),
    ("wrong-within-rtol", _WrongSquare.apply, [1.0, 2.0, 3.0], {"atol": 0.0, "rtol": 10.0},
     True),
    ("wrong-outside-rtol", _WrongSquare.apply, [1.0, 2.0, 3.0], {"atol": 0.0, "rtol": 0.4},
     False),
]


@pytest.mark.parametrize(("f", "x", "kwargs", "verdict"), [c[1:] for c in TOLERANCES],
                         ids=[c[0] for c in TOLERANCES])
def test_step_and_tolerances_are_used(f, x, kwargs, verdict):
    """eps, atol and rtol reach gradcheck and the per-input verdict: |err| <= atol + rtol |num|."""
    report = check_gradient(f, torch.tensor(x), **kwargs)
    assert report.passed is verdict and report.inputs[0].passed is verdict
    assert {k: getattr(report, k) for k in kwargs} == kwargs


# f, x, keyword arguments, expected verdict with second_order=True
SECOND_ORDER = [
    ("first-order-wrong", _WrongSquare.apply, {}, False),
    ("double-backward-lost", _DetachedBackwardSquare.apply, {}, False),
    ("double-backward-lost-within-atol", _DetachedBackwardSquare.apply, {"atol": 100.0}, True),
    ("double-backward-lost-within-rtol", _DetachedBackwardSquare.apply,
     {"atol": 0.0, "rtol": 100.0}, True),
    ("small-step", _SquareExactAtCheckedPoints.apply, {}, True),
    ("coarse-step", _SquareExactAtCheckedPoints.apply, {"eps": 0.5}, False),
]


@pytest.mark.parametrize(("f", "kwargs", "verdict"), [c[1:] for c in SECOND_ORDER],
                         ids=[c[0] for c in SECOND_ORDER])
def test_second_order_verdicts(f, kwargs, verdict):
    """second_order=True needs both checks to pass, and returns False rather than raising."""
    report = check_gradient(f, _CHECKED.clone(), second_order=True, **kwargs)
    assert report.passed is verdict


@pytest.mark.parametrize(("args", "exc", "match"), [
    ((3, torch.ones(2)), TypeError, r"^check_gradient: `f` must be callable, got int"),
    ((torch.sin,), ValueError, r"^check_gradient: give at least one input"),
    ((torch.sin, torch.ones(2, dtype=torch.int64)), TypeError,
     r"^check_gradient: input 0 must be a floating-point tensor, got torch.int64"),
    ((torch.sin, torch.ones(2), [1.0]), TypeError,
     r"^check_gradient: input 1 must be a floating-point tensor, got list\. Convert it with "
     r"`torch\.as_tensor\(t, dtype=torch\.float64\)`\.$"),
    ((lambda t: [t], torch.ones(2)), TypeError,
     r"^check_gradient: `f` must return one Tensor, got list\.$"),
], ids=["not-callable", "no-input", "int-input", "list-input", "list-output"])
def test_bad_arguments(args, exc, match):
    """Bad arguments raise errors naming check_gradient."""
    with pytest.raises(exc, match=match):
        check_gradient(*args)


def test_check_gradient_of_a_gradkit_residual():
    """A PINN residual built with gradkit differentiates inside f: the check still runs."""
    import gradkit as gk

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(),
                              torch.nn.Linear(6, 1)).double()
    x = torch.rand(3, 2, dtype=torch.float64)
    report = check_gradient(lambda z: gk.laplacian(net(z), z), x)
    assert report.passed and report.max_abs_error < 1e-6


def test_check_gradient_float32_model_says_what_to_do():
    """A float32 model fed float64 points gets a gradkit error with the fix."""
    net = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"^check_gradient: the check runs in float64.*"
                       r"copy\.deepcopy\(net\)\.double\(\)"):
        check_gradient(net, torch.rand(3, 2))


_HINT_TAIL = (
    ". A float32 model mixes float32 weights with the float64 inputs: check a float64 copy, "
    "e.g. `net64 = copy.deepcopy(net).double()` and `check_gradient(lambda x: f_of(net64, x), "
    "x)`."
)


@pytest.mark.parametrize(("f", "torch_says"), [
    # torch words a dtype clash in two ways, by operation (its exact words vary by release)
    (torch.nn.Linear(2, 1), "dtype"),
    (lambda t: torch.bmm(t[None], torch.ones(1, 2, 1)), "scalar type"),
])
def test_check_gradient_float32_weights_message_in_full(f, torch_says):
    with pytest.raises(TypeError) as info:
        check_gradient(f, torch.rand(3, 2))
    head, _, cause = str(info.value).partition("`f` failed: ")
    assert head == ("check_gradient: the check runs in float64 (float32 differences are too "
                    "noisy to judge), but ")
    assert torch_says in cause and cause.endswith(_HINT_TAIL)


def test_check_gradient_f_returning_float32():
    """An f that casts to float32 internally is caught before gradcheck's own message."""
    with pytest.raises(TypeError) as info:
        check_gradient(lambda t: (t**2).float(), torch.rand(3))
    assert str(info.value) == (
        "check_gradient: the check runs in float64 (float32 differences are too noisy to "
        "judge), but `f` returned torch.float32 from float64 inputs" + _HINT_TAIL
    )
