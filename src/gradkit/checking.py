"""Checks a user runs on purpose: gradients against finite differences, pointwise fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._checks import _type_name, check_inputs
from .coupling import coupling_error, is_coupled

__all__ = ["GradientReport", "check_gradient", "check_pointwise"]


_FLOAT64_HINT = (
    "{fname}: the check runs in float64 (float32 differences are too noisy to judge), but "
    "{cause}. A float32 model mixes float32 weights with the float64 inputs: check a float64 "
    "copy, e.g. `net64 = copy.deepcopy(net).double()` and "
    "`check_gradient(lambda x: f_of(net64, x), x)`."
)


@dataclass(frozen=True)
class _InputError:
    """Error figures for one input of a checked function."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclass(frozen=True)
class GradientReport:
    """Result of :func:`check_gradient`; ``bool(report)`` is the verdict.

    Attributes
    ----------
    passed : bool
        Verdict of ``torch.autograd.gradcheck`` (and ``gradgradcheck`` when requested).
    inputs : list
        Per input: ``name``, ``shape``, ``max_abs_error``, ``max_rel_error`` (the largest
        absolute error divided by the largest finite-difference entry) and ``passed``.
    eps, atol, rtol : float
        Step and tolerances used.
    """

    passed: bool
    inputs: list[_InputError] = field(default_factory=list)
    eps: float = 2.0**-20
    atol: float = 1e-5
    rtol: float = 1e-3
    second_order: bool = False

    def __bool__(self) -> bool:
        return self.passed

    @property
    def max_abs_error(self) -> float:
        """Largest absolute error over all inputs."""
        return max((r.max_abs_error for r in self.inputs), default=0.0)

    def __str__(self) -> str:
        head = ("input", "shape", "max abs err", "max rel err", "ok")
        rows = [
            (r.name, str(r.shape), f"{r.max_abs_error:.2e}", f"{r.max_rel_error:.2e}",
             "yes" if r.passed else "NO")
            for r in self.inputs
        ]
        widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        check = "gradcheck + gradgradcheck" if self.second_order else "gradcheck"
        lines = [fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*r).rstrip() for r in rows]
        verdict = "passed" if self.passed else "FAILED"
        lines.append(f"{check} {verdict} (eps={self.eps:.3g}, atol={self.atol:g}, "
                     f"rtol={self.rtol:g})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _central_jacobian(f: Callable[..., Tensor], inputs: list[Tensor], k: int, eps: float) -> Tensor:
    """Return the central-difference Jacobian of ``f`` with respect to ``inputs[k]``."""
    x = inputs[k]
    cols = []
    for j in range(x.numel()):
        plus = [t.detach().clone() for t in inputs]
        minus = [t.detach().clone() for t in inputs]
        with torch.no_grad():
            plus[k].view(-1)[j] += eps
            minus[k].view(-1)[j] -= eps
        # f runs with autograd on and inputs that require grad, as it does for gradcheck:
        # a residual built with gradkit differentiates its inputs inside f.
        up = f(*(t.requires_grad_() for t in plus)).detach()
        down = f(*(t.requires_grad_() for t in minus)).detach()
        cols.append(((up - down) / (2 * eps)).reshape(-1))
    return torch.stack(cols, dim=1)


def check_gradient(
    f: Callable[..., Tensor],
    *inputs: Tensor,
    eps: float = 2.0**-20,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    second_order: bool = False,
) -> GradientReport:
    """Check the autograd gradient of ``f`` against float64 central finite differences.

    Parameters
    ----------
    f : callable
        Function of the tensors ``inputs`` returning one tensor.
    *inputs : Tensor
        Points to check at, any shapes. They are copied to float64 with
        ``requires_grad=True``; the originals are not modified.
    eps : float, default 2**-20
        Finite-difference step. A power of two keeps ``x +- eps`` exact for moderate ``x``.
    atol, rtol : float
        Tolerances, passed to ``torch.autograd.gradcheck``: an entry passes when
        ``|autograd - numeric| <= atol + rtol * |numeric|``.
    second_order : bool, default False
        Also run ``torch.autograd.gradgradcheck`` (checks double backward).

    Returns
    -------
    GradientReport
        Verdict from ``gradcheck`` (and ``gradgradcheck``), plus per-input maximum absolute
        and relative errors between ``torch.autograd.functional.jacobian`` and the
        central-difference Jacobian. Printing it shows a table; ``bool(report)`` is the verdict.

    Raises
    ------
    TypeError
        If ``f`` is not callable, an input is not a floating-point tensor, ``f`` does not
        return a tensor, or ``f`` does not compute in float64 (e.g. a float32 model).
    ValueError
        If no input is given.

    Notes
    -----
    Costs ``2 * numel`` evaluations of ``f`` per input on top of ``gradcheck``; meant for
    small test inputs. Compute in float64: float32 differences are too noisy to judge. ``f``
    always runs with autograd on and inputs that require grad, so it may itself
    differentiate (e.g. a PINN residual built with :func:`laplacian`). A float32 model must
    be checked as a float64 copy (``copy.deepcopy(net).double()``); gradkit says so when
    ``f`` fails on, or returns, another dtype.

    Examples
    --------
    >>> import torch
    >>> from gradkit import check_gradient
    >>> x = torch.tensor([1.0, 2.0, 3.0])
    >>> report = check_gradient(lambda t: t**2, x)
    >>> report.passed, report.max_abs_error  # exact: x +- 2**-20 is representable
    (True, 0.0)
    >>> print(report)
    input  shape  max abs err  max rel err  ok
    -----  -----  -----------  -----------  ---
    x0     (3,)   0.00e+00     0.00e+00     yes
    gradcheck passed (eps=9.54e-07, atol=1e-05, rtol=0.001)
    """
    fname = "check_gradient"
    if not callable(f):
        raise TypeError(f"{fname}: `f` must be callable, got {_type_name(f)}.")
    if not inputs:
        raise ValueError(f"{fname}: give at least one input tensor after `f`.")
    xs = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            got = t.dtype if isinstance(t, Tensor) else _type_name(t)
            raise TypeError(
                f"{fname}: input {i} must be a floating-point tensor, got {got}. "
                "Convert it with `torch.as_tensor(t, dtype=torch.float64)`."
            )
        xs.append(t.detach().to(torch.float64).clone().requires_grad_())
    try:
        out = f(*xs)
    except RuntimeError as e:
        if "dtype" not in str(e) and "scalar type" not in str(e):
            raise
        raise TypeError(_FLOAT64_HINT.format(fname=fname, cause=f"`f` failed: {e}")) from e
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}: `f` must return one Tensor, got {_type_name(out)}.")
    if out.dtype != torch.float64:
        raise TypeError(
            _FLOAT64_HINT.format(fname=fname, cause=f"`f` returned {out.dtype} from float64 inputs")
        )
    passed = torch.autograd.gradcheck(
        f, tuple(xs), eps=eps, atol=atol, rtol=rtol, raise_exception=False
    )
    if second_order:
        passed = passed and torch.autograd.gradgradcheck(
            f, tuple(xs), eps=eps, atol=atol, rtol=rtol, raise_exception=False
        )
    # torch.autograd.functional.jacobian has no annotations; with a tuple of inputs it
    # returns a tuple with one Jacobian per input.
    jac: tuple[Tensor, ...] = torch.autograd.functional.jacobian(  # type: ignore[no-untyped-call]
        f, tuple(xs)
    )
    rows = []
    for k, x in enumerate(xs):
        auto = jac[k].reshape(out.numel(), x.numel())
        num = _central_jacobian(f, xs, k, eps)
        err = (auto - num).abs()
        scale = num.abs().max().item() if num.numel() else 0.0
        max_abs = err.max().item() if err.numel() else 0.0
        ok = bool((err <= atol + rtol * num.abs()).all())
        rows.append(
            _InputError(f"x{k}", tuple(x.shape), max_abs, max_abs / scale if scale else max_abs, ok)
        )
    return GradientReport(bool(passed), rows, eps, atol, rtol, second_order)


def check_pointwise(y: Tensor, x: Tensor) -> None:
    """Raise :class:`CouplingError` if the output at one point depends on other points' input.

    Parameters
    ----------
    y : Tensor, shape (N, ...)
        A field computed from ``x``, one row per point.
    x : Tensor, shape (N, d) or (N,)
        Collocation points, with ``requires_grad=True``.

    Raises
    ------
    CouplingError
        If some row of ``y`` depends on another row of ``x`` (e.g. a model with BatchNorm in
        training mode, a mean over the batch, or attention over the points).
    ValueError, TypeError, RuntimeError
        As :func:`gradkit.gradient`, for invalid inputs.

    Notes
    -----
    gradkit's operators on a tensor ``y`` assume it was computed pointwise (they cannot see
    the model). This check costs two backward passes: with random per-point weights ``w``,
    a pointwise ``y`` has ``grad(sum w y) = w grad(sum y)`` at every point. Coupling smaller
    than about ``sqrt(eps)`` of the largest gradient entry is not detected.

    Examples
    --------
    >>> import torch
    >>> from gradkit import CouplingError, check_pointwise
    >>> x = torch.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    >>> check_pointwise(x**2, x)  # pointwise: no error
    >>> try:
    ...     check_pointwise(x - x.mean(0), x)  # subtracts the batch mean
    ... except CouplingError as e:
    ...     print(str(e)[:60])
    check_pointwise: the model couples the points: row i of `y`
    """
    fname = "check_pointwise"
    a = check_inputs(fname, y, x, scalar=False)
    if is_coupled(a.y, a.x):
        raise coupling_error(fname, "row i of `y` depends on other rows of `x`")
