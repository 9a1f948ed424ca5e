"""The boundary: every public entry point checks its inputs once, in gradkit._checks.

Each operator makes one call into the boundary and then computes with one engine, which
checks nothing again. These tests count the checks of ``x`` per call, on the tensor path, the
forward (Taylor-mode) path and the fallback to nested passes, and check that bad input
reaches the same clear message through the entry points whose checks moved there: the
callable forms, the coordinate operators and check_pointwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch
from torch import Tensor

import gradkit as gk
import gradkit._checks as boundary


def _leaf(d: int = 3, n: int = 4, grad: bool = True) -> Tensor:
    return torch.linspace(0.5, 2.0, n * d).reshape(n, d).requires_grad_(grad)


def _scalar(x: Tensor) -> Tensor:
    return torch.sin(x).sum(1)


def _vector(x: Tensor) -> Tensor:
    return torch.sin(x) * x.sum(1, keepdim=True)


def _coupled_free_fallback(x: Tensor) -> Tensor:
    """A pointwise field the forward mode has no rule for (cumsum): the nested path runs."""
    return torch.cumsum(x, 1)[:, -1:] ** 2


# name -> call on points x of shape (4, 3) that require grad (tensor forms)
TENSOR_CALLS: dict[str, Callable[[Tensor], object]] = {
    "derivative": lambda x: gk.derivative(torch.sin(x), x),
    "partial": lambda x: gk.partial(_scalar(x), x, 1, 2),
    "gradient": lambda x: gk.gradient(_scalar(x), x),
    "Derivatives": lambda x: gk.Derivatives(_scalar(x), x)[0, 1],
    "laplacian": lambda x: gk.laplacian(_scalar(x), x),
    "vector_laplacian": lambda x: gk.vector_laplacian(_vector(x), x),
    "laplacian_estimate": lambda x: gk.laplacian_estimate(_scalar(x), x, samples=2),
    "weighted_laplacian": lambda x: gk.weighted_laplacian(_scalar(x), x, torch.eye(3)),
    "divergence": lambda x: gk.divergence(_vector(x), x),
    "curl": lambda x: gk.curl(_vector(x), x),
    "jacobian": lambda x: gk.jacobian(_vector(x), x),
    "hessian": lambda x: gk.hessian(_scalar(x), x),
    "vjp": lambda x: gk.vjp(_vector(x), x, torch.ones(4, 3)),
    "jvp": lambda x: gk.jvp(_vector(x), x, torch.ones(4, 3)),
    "check_pointwise": lambda x: gk.check_pointwise(_vector(x), x),
    "cylindrical_gradient": lambda x: gk.cylindrical_gradient(_scalar(x), x),
    "cylindrical_divergence": lambda x: gk.cylindrical_divergence(_vector(x), x),
    "cylindrical_laplacian": lambda x: gk.cylindrical_laplacian(_scalar(x), x),
    "spherical_curl": lambda x: gk.spherical_curl(_vector(x), x),
}

# name -> call of the callable form on f and points x (any dtype, for the error tests)
CALLABLE_CALLS: dict[str, Callable[[Callable[[Tensor], Tensor], Tensor], object]] = {
    "derivative": lambda f, x: gk.derivative(f, x[:, :1]),
    "gradient": gk.gradient,
    "Derivatives": lambda f, x: gk.Derivatives(f, x)[0],
    "laplacian": gk.laplacian,
    "vector_laplacian": gk.vector_laplacian,
    "laplacian_estimate": lambda f, x: gk.laplacian_estimate(f, x, samples=2),
    "divergence": gk.divergence,
    "jvp": lambda f, x: gk.jvp(f, x, torch.ones(x.shape, dtype=x.dtype)),
}
VECTOR_OUT = {"vector_laplacian", "divergence", "jvp"}


def _count_x_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the function name of every check of the points ``x`` from now on."""
    seen: list[str] = []
    check_x = boundary._check_x

    def counting(fname: str, x: object, **kwargs: object) -> Tensor:
        seen.append(fname)
        return check_x(fname, x, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(boundary, "_check_x", counting)
    return seen


@pytest.mark.parametrize("name", TENSOR_CALLS)
def test_tensor_form_checks_x_once(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tensor field: x is checked once, by the boundary, for the function called."""
    x = _leaf(d=1) if name == "derivative" else _leaf()
    seen = _count_x_checks(monkeypatch)
    TENSOR_CALLS[name](x)
    assert seen == [name]


# jvp runs a callable with torch.func.jvp only: no nested fallback
PATHS = [(n, p) for n in CALLABLE_CALLS for p in ("forward", "nested")
         if (n, p) != ("jvp", "nested")]


@pytest.mark.parametrize(("name", "path"), PATHS)
def test_callable_form_checks_x_once(
    name: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callable: x is checked once, whether the forward mode runs it or gradkit falls back
    to nested passes (the fallback no longer checks x again)."""
    f = _vector if name in VECTOR_OUT else (lambda t: _scalar(t).unsqueeze(1))
    if path == "nested":
        f = _coupled_free_fallback if name not in VECTOR_OUT else (
            lambda t: torch.cumsum(t, 1).sin())
    x = _leaf()
    seen = _count_x_checks(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.TaylorModeWarning)
        CALLABLE_CALLS[name](f, x)
    assert seen == [name]


@pytest.mark.parametrize("name", CALLABLE_CALLS)
def test_callable_form_rejects_integer_points(name: str) -> None:
    x = torch.ones(4, 3, dtype=torch.int64)
    with pytest.raises(TypeError, match=rf"^{name}: `x` has dtype torch\.int64.*`x\.float\(\)`"):
        CALLABLE_CALLS[name](torch.sin, x)


@pytest.mark.parametrize("name", CALLABLE_CALLS)
def test_callable_form_rejects_inference_points(name: str) -> None:
    with torch.inference_mode():
        x = _leaf(grad=False)
    with pytest.raises(ValueError, match=rf"^{name}: `x` is an inference tensor.*x\.clone\(\)"):
        CALLABLE_CALLS[name](torch.sin, x)


@pytest.mark.parametrize("name", CALLABLE_CALLS)
def test_callable_form_rejects_points_of_rank_three(name: str) -> None:
    x = torch.ones(4, 3, 2)
    match = rf"^{name}: `x` must have shape (\(N,\) or )?\(N, d\), got shape \(4, [13], 2\)"
    with pytest.raises(ValueError, match=match):
        CALLABLE_CALLS[name](torch.sin, x)


@pytest.mark.parametrize("name", CALLABLE_CALLS)
def test_callable_form_rejects_an_output_that_is_not_a_tensor(name: str) -> None:
    with pytest.raises(TypeError) as info:
        CALLABLE_CALLS[name](lambda t: [t], _leaf())
    assert str(info.value) == f"{name}: the callable must return a Tensor, got list."


@pytest.mark.parametrize("name", sorted(set(CALLABLE_CALLS) - {"jvp"}))
def test_callable_form_rejects_an_output_with_other_rows(name: str) -> None:
    """An output with fewer rows than points gets the rows message, forward mode or not."""
    f = (lambda t: _vector(t)[:3]) if name in VECTOR_OUT else (lambda t: _scalar(t)[:3])
    match = rf"^{name}: `(y|v)` and `x` must have the same number of points \(rows\)"
    with pytest.raises(ValueError, match=match):
        CALLABLE_CALLS[name](f, _leaf())


def test_callable_divergence_needs_points_with_columns() -> None:
    """Points of shape (N,) are refused by the divergence's own rule for x, before the call."""
    with pytest.raises(ValueError, match=r"^divergence: `x` must have shape \(N, d\), got shape"):
        gk.divergence(torch.sin, torch.rand(4))


COORDINATE_OPS = ["cylindrical_gradient", "cylindrical_divergence", "cylindrical_laplacian",
                  "cylindrical_curl", "spherical_gradient", "spherical_divergence",
                  "spherical_laplacian", "spherical_curl"]


def _coordinate_field(name: str, x: Tensor) -> Tensor:
    return _scalar(x) if name.endswith(("gradient", "laplacian")) else _vector(x)


@pytest.mark.parametrize("name", COORDINATE_OPS)
def test_coordinate_operator_rejects_points_without_grad(name: str) -> None:
    x = _leaf(grad=False)
    with pytest.raises(ValueError, match=rf"^{name}: `x` does not require grad\. Create it"):
        getattr(gk, name)(_coordinate_field(name, x), x)


@pytest.mark.parametrize("name", COORDINATE_OPS)
def test_coordinate_operator_rejects_integer_points(name: str) -> None:
    x = torch.ones(4, 3, dtype=torch.int64)
    with pytest.raises(TypeError, match=rf"^{name}: `x` has dtype torch\.int64"):
        getattr(gk, name)(x, x)


@pytest.mark.parametrize("name", COORDINATE_OPS)
def test_coordinate_operator_under_no_grad(name: str) -> None:
    x = _leaf()
    field = _coordinate_field(name, x)
    with torch.no_grad(), pytest.raises(RuntimeError, match=rf"^{name}: called inside `torch"):
        getattr(gk, name)(field, x)


@pytest.mark.parametrize("name", COORDINATE_OPS)
def test_coordinate_operator_rejects_a_field_with_other_rows(name: str) -> None:
    x = _leaf()
    field = "u" if name.endswith(("gradient", "laplacian")) else "v"
    match = rf"^{name}: `{field}` and `x` must have the same number of points \(rows\)"
    with pytest.raises(ValueError, match=match):
        getattr(gk, name)(_coordinate_field(name, x)[:3], x)


SCALAR_COORDINATE_OPS = [n for n in COORDINATE_OPS if n.endswith(("gradient", "laplacian"))]


@pytest.mark.parametrize("name", SCALAR_COORDINATE_OPS)
def test_coordinate_operator_rejects_a_field_that_ignores_x(name: str) -> None:
    x = _leaf()
    other = _leaf().detach().requires_grad_()
    with pytest.raises(ValueError, match=rf"^{name}: `u` does not depend on `x`"):
        getattr(gk, name)(_scalar(other), x)


@pytest.mark.parametrize("name", sorted(set(COORDINATE_OPS) - set(SCALAR_COORDINATE_OPS)))
def test_coordinate_operator_rejects_a_vector_of_another_width(name: str) -> None:
    x = _leaf()
    with pytest.raises(ValueError, match=rf"^{name}: `v` must have one component per coordinate"):
        getattr(gk, name)(_vector(x)[:, :2], x)


def test_check_pointwise_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match=r"^check_pointwise: `x` does not require grad"):
        gk.check_pointwise(torch.ones(4), torch.ones(4))
    x = _leaf()
    with pytest.raises(ValueError, match=r"^check_pointwise: `y` and `x` must have the same"):
        gk.check_pointwise(_vector(x)[:2], x)


def test_weighted_laplacian_checks_k_before_any_backward_pass() -> None:
    """A coefficient of the wrong shape is refused before gradkit differentiates anything."""
    x = _leaf()
    y = _scalar(x)
    calls = 0

    def counting_hook(grad: Tensor) -> Tensor:
        nonlocal calls
        calls += 1
        return grad

    y.register_hook(counting_hook)
    with pytest.raises(ValueError, match=r"^weighted_laplacian: `k` must have shape \(N,\)"):
        gk.weighted_laplacian(y, x, torch.ones(2, 2))
    assert calls == 0


def test_divergence_names_the_columns_in_dims_when_v_does_not_fit() -> None:
    x = _leaf()
    with pytest.raises(ValueError) as info:
        gk.divergence(_vector(x), x, dims=[0, 2])
    assert str(info.value) == (
        "divergence: `v` must have shape (4, 2), one component per column in `dims`, got "
        "(4, 3). The divergence needs one component per input dimension."
    )


def test_fallback_refuses_a_coupled_callable_with_the_whole_message() -> None:
    """The forward mode has no rule for cumsum; the plain call finds the coupling over the
    points (dim 0) and the error names the function, what stopped the forward mode and the
    fix."""
    x = _leaf()
    with pytest.warns(gk.TaylorModeWarning), pytest.raises(gk.CouplingError) as info:
        gk.laplacian(lambda t: torch.cumsum(t, 0).sin().sum(1), x)
    assert str(info.value) == (
        "laplacian: the model couples the points: its output at one point changes with the "
        "input at other points (the forward mode stopped earlier: no forward rule for "
        "`torch.cumsum`). Its derivatives per point are not what autograd returns (a sum over "
        "all points' outputs), so gradkit gives no number. Evaluate the model in eval mode "
        "(`net.eval()`: BatchNorm then uses its running statistics), or compute each point on "
        "its own with torch.func.vmap, e.g. `f = torch.func.vmap(lambda p: "
        "net(p.unsqueeze(0)).squeeze(0))` and pass `f`."
    )


def test_fallback_reports_a_reduced_output_as_a_row_count() -> None:
    """A callable the forward mode cannot run that returns one number for all points gets the
    rows message (not an IndexError from the coupling test)."""
    with pytest.warns(gk.TaylorModeWarning), pytest.raises(
            ValueError, match=r"^gradient: `y` and `x` must have the same number.*a 0-d tensor"):
        gk.gradient(lambda t: torch.cumsum(t, 1).sum(), _leaf())


@pytest.mark.parametrize("field", ["zero gradient", "other tensor", "empty batch"])
def test_check_pointwise_accepts_fields_without_coupling(field: str) -> None:
    """Fields with nothing to couple pass: gradient zero everywhere, no path from x, no points."""
    x = _leaf(n=0) if field == "empty batch" else _leaf()
    y = {"zero gradient": lambda: 0.0 * _vector(x),
         "other tensor": lambda: _vector(_leaf().detach().requires_grad_()),
         "empty batch": lambda: _vector(x)}[field]()
    gk.check_pointwise(y, x)


def test_points_without_columns_give_empty_results_with_allow_unused() -> None:
    """The boundary lets points with no columns through: a field of no components has an
    empty Jacobian and a zero divergence at every point (with allow_unused, as nothing depends
    on x)."""
    x = torch.rand(4, 0, requires_grad=True)
    v = 2 * x
    torch.testing.assert_close(gk.divergence(v, x, allow_unused=True), torch.zeros(4))
    assert gk.jacobian(v, x, allow_unused=True).shape == (4, 0, 0)
    y = 2 * _leaf()
    assert gk.jacobian(y[:, :0], _leaf(), allow_unused=True).shape == (4, 0, 3)


def test_forward_mode_coupling_error_names_the_function() -> None:
    """The forward engine finds a batch mean; the error it raises names the function."""
    with pytest.raises(gk.CouplingError, match=r"^gradient: the model couples the points: `"):
        gk.gradient(lambda t: (t - t.mean(0)).sin().sum(1), _leaf())


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("laplacian", lambda f, x: gk.laplacian(f, x)),
        ("gradient", lambda f, x: gk.gradient(f, x)),
        ("divergence", lambda f, x: gk.divergence(lambda t: f(t).unsqueeze(1) * t, x)),
    ],
)
def test_fallback_warning_points_at_the_callers_line(name: str, op: Callable[..., Tensor]) -> None:
    """Not the line inside gradkit that issues it (mutmut skips this test: see pyproject)."""
    with pytest.warns(gk.TaylorModeWarning, match=f"^{name}: ") as record:
        op(lambda t: torch.cumsum(t, 1)[:, -1] ** 2, _leaf())
    assert record[0].filename == __file__


# the operators whose callable form takes `strict` (jvp runs torch.func.jvp: no fallback)
STRICT_CALLS: dict[str, Callable[[Callable[[Tensor], Tensor], Tensor], object]] = {
    "derivative": lambda f, x: gk.derivative(f, x[:, :1], strict=True),
    "gradient": lambda f, x: gk.gradient(f, x, strict=True),
    "laplacian": lambda f, x: gk.laplacian(f, x, strict=True),
    "vector_laplacian": lambda f, x: gk.vector_laplacian(f, x, strict=True),
    "laplacian_estimate": lambda f, x: gk.laplacian_estimate(f, x, samples=2, strict=True),
    "divergence": lambda f, x: gk.divergence(f, x, strict=True),
}


@pytest.mark.parametrize("name", STRICT_CALLS)
def test_strict_makes_the_fallback_an_error(name: str) -> None:
    """With strict=True an operation without a forward rule raises instead of warning."""
    if name in VECTOR_OUT:
        f = lambda t: torch.cumsum(t, 1)  # noqa: E731
    else:
        f = lambda t: torch.cumsum(t, 1)[:, -1:]  # noqa: E731
    with (warnings.catch_warnings(), pytest.raises(gk.TaylorModeError, match=f"^{name}: ")):
        warnings.simplefilter("error", gk.TaylorModeWarning)  # a warning would fail as such
        STRICT_CALLS[name](f, _leaf())


def test_fallback_warning_in_full() -> None:
    with pytest.warns(gk.TaylorModeWarning) as record:
        gk.laplacian(lambda t: torch.cumsum(t, 1)[:, -1] ** 2, _leaf())
    assert str(record[0].message) == (
        "laplacian: the forward (Taylor-mode) path cannot run on this callable: no forward "
        "rule for `torch.cumsum`. gradkit computes the exact result with nested backward "
        "passes instead (slower). Pass `strict=True` to make this an error."
    )


@pytest.mark.parametrize("samples", [0, 2.0, True])
def test_laplacian_estimate_refuses_samples_that_are_not_positive_ints(samples: object) -> None:
    x = _leaf()
    with pytest.raises(ValueError, match=r"^laplacian_estimate: `samples` must be a positive"):
        gk.laplacian_estimate(_scalar(x), x, samples=samples)  # type: ignore[arg-type]


def test_laplacian_estimate_takes_one_sample() -> None:
    """One Rademacher probe is exact for a diagonal Hessian: sin summed over columns."""
    x = _leaf()
    gen = torch.Generator().manual_seed(0)
    est = gk.laplacian_estimate(_scalar(x), x, samples=1, generator=gen)
    torch.testing.assert_close(est, -_scalar(x))


def test_weighted_laplacian_checks_k_as_a_tensor() -> None:
    x = _leaf()
    with pytest.raises(TypeError, match=r"^weighted_laplacian: `k` must be a torch\.Tensor, got"):
        gk.weighted_laplacian(_scalar(x), x, [[1.0]])  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(4,), (4, 1), (3, 3), (4, 3, 3)])
def test_weighted_laplacian_takes_each_documented_k(shape: tuple[int, ...]) -> None:
    """k = 1 in every documented shape gives the plain Laplacian (4 points, 3 columns)."""
    x = _leaf()
    k = torch.eye(3).expand(shape) if len(shape) > 1 and shape[-1] == 3 else torch.ones(shape)
    torch.testing.assert_close(gk.weighted_laplacian(_scalar(x), x, k), -_scalar(x))


def test_weighted_laplacian_k_message_in_full() -> None:
    x = _leaf()
    with pytest.raises(ValueError) as info:
        gk.weighted_laplacian(_scalar(x), x, torch.ones(3))
    assert str(info.value) == (
        "weighted_laplacian: `k` must have shape (N,), (N, 1), (3, 3) or (N, 3, 3) for N = 4 "
        "points and 3 column(s) in `dims`, got (3,)."
    )


@pytest.mark.parametrize("name", ["gradient", "divergence", "check_pointwise"])
def test_a_field_of_integers_is_refused_naming_it(name: str) -> None:
    x = _leaf()
    y = torch.ones(4, 3, dtype=torch.int64)
    field = "v" if name == "divergence" else "y"
    call = {"gradient": lambda: gk.gradient(y[:, 0], x),
            "divergence": lambda: gk.divergence(y, x),
            "check_pointwise": lambda: gk.check_pointwise(y, x)}[name]
    with pytest.raises(TypeError, match=rf"^{name}: `{field}` has dtype torch\.int64"):
        call()
