"""Tests for gradkit._taylor: every forward rule against torch.func, in float64.

Each function uses one operation (or a few) on points (N, 3); ``laplacian(f, x, strict=True)``
must run the forward path and match the trace of torch.func's Hessian, ``dims`` must
match the partial trace, and ``gradient(f, x, strict=True)`` torch.func's gradient.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.func import hessian, jacrev, vmap

import gradkit as gk

TOL = {"atol": 1e-10, "rtol": 1e-9}
W = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(3, 4)

FUNCS = {
    "tanh": lambda z: torch.tanh(z @ W).sum(-1),
    "sigmoid": lambda z: torch.sigmoid(z @ W).sum(-1),
    "sin-method": lambda z: (z @ W).sin().sum(-1),
    "cos": lambda z: torch.cos(z @ W).sum(-1),
    "exp": lambda z: torch.exp(0.3 * z).sum(-1),
    "log": lambda z: torch.log(1 + z**2).sum(-1),
    "sqrt": lambda z: torch.sqrt(1 + z**2).sum(-1),
    "square": lambda z: torch.square(z @ W).sum(-1),
    "reciprocal": lambda z: torch.reciprocal(2 + z).sum(-1),
    "pow": lambda z: ((z + 1) ** 3.5).sum(-1),
    "silu": lambda z: F.silu(z @ W).sum(-1),
    "gelu": lambda z: F.gelu(z @ W).sum(-1),
    "softplus-threshold": lambda z: F.softplus(4 * z @ W, beta=2.0, threshold=1.0).sum(-1),
    "relu": lambda z: F.relu(z @ W).pow(2).sum(-1),
    "mul-tracked": lambda z: (z[:, 0] * z[:, 1] * torch.sin(z[:, 2])),
    "div-tracked": lambda z: torch.sin(z[:, 0]) / (2 + z[:, 1] * z[:, 2]),
    "rdiv": lambda z: (1 / (2 + z)).sum(-1),
    "rsub-neg": lambda z: (-(1 - z) ** 2).sum(-1),
    "sub-broadcast": lambda z: torch.tanh(z - W[:, 0]).sum(-1),
    "linear": lambda z: F.linear(torch.tanh(F.linear(z, W.T, None)), W[:1] + 1)[:, 0],
    "cat-const": lambda z: torch.tanh(torch.cat([z, z.new_ones(z.shape[0], 1)], 1) @
                                      W[:, :2].repeat(2, 1)[:4]).sum(-1),
    "stack-index": lambda z: torch.stack([z[:, 0] ** 2, z[:, 1] * z[:, 2]], dim=1).sum(1),
    "reshape-flatten": lambda z: torch.tanh(z.reshape(-1, 3, 1).flatten(1) @ W).sum(-1),
    "unsqueeze-squeeze": lambda z: torch.sin(z.unsqueeze(1)).squeeze(1).sum(-1),
    "mean-keepdim": lambda z: torch.exp(z.mean(dim=-1, keepdim=True))[:, 0],
    "layer-norm": lambda z: F.layer_norm(z @ W, (4,), W[0] + 2, W[1]).pow(2).sum(-1),
    "dropout-eval": lambda z: F.dropout(torch.tanh(z), p=0.5, training=False).sum(-1),
    "clone-contiguous": lambda z: torch.sin(z.clone().contiguous()).sum(-1),
    "ellipsis-none": lambda z: torch.sin(z[..., None, 1:])[:, 0].sum(-1),
}

# The same rules called in each of the forms torch accepts (keywords, positional options,
# aliases, a constant on either side, tuples of dims, 3-D values), so a rule that reads one
# argument wrongly fails here instead of silently falling back to the nested path.
B = torch.linspace(0.5, 2, 4, dtype=torch.float64)  # per-channel constants, all positive
FORMS = {
    "add-other-keyword": lambda z: torch.add(torch.sin(z), other=z**2).sum(-1),
    "radd-number": lambda z: torch.sin(2.0 + z).sum(-1),
    "add-constant-first": lambda z: torch.sin(torch.add(W[:, 0], z)).sum(-1),
    "sub-tracked-both": lambda z: torch.sin(torch.sub(torch.sin(z), z**2)).sum(-1),
    "sub-constant-first": lambda z: torch.sin(torch.sub(W[:, 1], z)).sum(-1),
    "sub-method": lambda z: torch.sin(z.sub(W[:, 1])).sum(-1),
    "rsub-tracked": lambda z: torch.sin(W[:, 2] - z**2).sum(-1),
    "neg-positive": lambda z: torch.sin(torch.neg(torch.positive(+z)) ** 2).sum(-1),
    "sum-dim-tuple": lambda z: torch.exp(torch.sum(torch.sin(z), (1,))),
    "sum-two-dims-3d": lambda z: torch.sin((z @ W).reshape(-1, 2, 2) ** 2).sum([1, 2]),
    "sum-keepdim-positional": lambda z: torch.sin(z).sum(1, True)[:, 0] ** 2,
    "mean-dim-keyword": lambda z: torch.mean(torch.sin(z) ** 2, dim=1),
    "mean-two-dims-keepdim": lambda z: (z @ W).reshape(-1, 2, 2).sin().mean((1, 2), True)
    .reshape(-1) ** 2,
    "cat-dim-keyword": lambda z: torch.tanh(
        torch.cat((torch.sin(z), z.new_ones(z.shape[0], 1)), dim=1) @ W.repeat(2, 1)[:4]
    ).sum(-1),
    "concat-constant-first": lambda z: torch.tanh(
        torch.concat([W[0, :2].expand(z.shape[0], 2), z**2], -1)
    ).pow(2).sum(-1),
    "concatenate-3d": lambda z: torch.concatenate(
        [z.unsqueeze(1), torch.sin(z).unsqueeze(1)], 1
    ).pow(3).sum((1, 2)),
    "stack-last-dim": lambda z: torch.stack([z[:, 0] ** 2, z[:, 1].sin()], dim=-1).pow(2).sum(-1),
    "linear-keywords": lambda z: torch.tanh(F.linear(z, weight=W.T, bias=B)).sum(-1),
    "linear-no-bias": lambda z: torch.tanh(F.linear(z, W.T)).pow(2).sum(-1),
    "matmul-forms": lambda z: (
        torch.tanh(torch.mm(z, W)) + torch.tanh(z.matmul(W)) + torch.tanh(z.mm(W))
    ).sum(-1),
    "matmul-3d": lambda z: torch.tanh(z.reshape(-1, 1, 3) @ W).sum((1, 2)),
    "div-by-constant": lambda z: torch.sin(torch.div(torch.sin(z), W[0, :3].abs() + 1)).sum(-1),
    "true-divide-number": lambda z: torch.sin(torch.true_divide(z**2, 3.0)).sum(-1),
    "div-method-tracked": lambda z: torch.sin(z[:, 0]).div(2 + z[:, 1] ** 2),
    "pow-exponent-keyword": lambda z: torch.pow(z + 1, exponent=2.5).sum(-1),
    "pow-int-method": lambda z: (z + 1).pow(3).sum(-1),
    "softplus-defaults": lambda z: F.softplus(z @ W).sum(-1),
    "softplus-beta": lambda z: F.softplus(z @ W, beta=3.0).sum(-1),
    "dropout-p-zero-training": lambda z: F.dropout(torch.sin(z), p=0.0, training=True).sum(-1),
    "dropout-positional": lambda z: F.dropout(torch.sin(z), 0.3, False).sum(-1),
    "reshape-forms": lambda z: torch.sin(
        torch.flatten(torch.unsqueeze(z, 2), 1).view_as(z).reshape_as(z)
    ).sum(-1),
    "squeeze-function": lambda z: torch.squeeze(torch.sin(z).unsqueeze(-1), -1).sum(-1),
    "layer-norm-keywords": lambda z: F.layer_norm(
        z @ W, normalized_shape=[4], weight=B, bias=W[1], eps=0.5
    ).pow(2).sum(-1),
    "layer-norm-no-weight": lambda z: F.layer_norm(z @ W, (4,)).pow(3).sum(-1),
    "layer-norm-two-dims": lambda z: F.layer_norm((z @ W).reshape(-1, 2, 2), (2, 2))
    .pow(2).sum((1, 2)),
    "batch-norm-eval": lambda z: F.batch_norm(
        z @ W, running_mean=W[0], running_var=B, weight=B + 1, bias=W[1], eps=0.25
    ).pow(2).sum(-1),
    "batch-norm-no-weight": lambda z: F.batch_norm(z @ W, W[0], B).pow(2).sum(-1),
    "batch-norm-3d": lambda z: F.batch_norm(
        (z @ W).reshape(-1, 2, 2), W[0, :2], B[:2], B[2:], None, False, 0.1, 0.5
    ).sin().sum((1, 2)),
    "clone-function": lambda z: torch.sin(torch.clone(z) ** 2).sum(-1),
    "softplus-positional": lambda z: F.softplus(z @ W, 2.0, 1.0).sum(-1),
    # a nonlinear input, so that the second derivatives batch_norm scales are not zero
    "batch-norm-of-nonlinear": lambda z: F.batch_norm(
        torch.sin(z @ W), W[0], B, weight=B + 1, eps=0.25
    ).pow(3).sum(-1),
    # a constant with more axes than the tracked value: the jets gain the missing axes
    "broadcast-to-more-axes": lambda z: (
        torch.sin(z) * torch.arange(1.0, 3.0, dtype=z.dtype).reshape(2, 1, 1)
        + torch.add(W[:2, :3].reshape(2, 1, 3), z**2)
    )[1].pow(2).sum(-1),
    "sub-from-more-axes": lambda z: torch.sin(W[:2, :3].reshape(2, 1, 3) - z)[0].sum(-1),
}


def _points() -> Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(5, 3, generator=g, dtype=torch.float64)


def _reference(f, x: Tensor) -> Tensor:
    return vmap(hessian(lambda xi: f(xi.unsqueeze(0)).reshape(())))(x)


@pytest.mark.parametrize("name", [*FUNCS, *FORMS])
def test_rule_matches_torch_func(name):
    f = FUNCS.get(name) or FORMS[name]
    x = _points()
    h = _reference(f, x)
    lap = gk.laplacian(f, x, strict=True)
    torch.testing.assert_close(lap, h.diagonal(dim1=-2, dim2=-1).sum(-1), **TOL)
    part = gk.laplacian(f, x, dims=[2, 0], strict=True)
    torch.testing.assert_close(part, h[:, 0, 0] + h[:, 2, 2], **TOL)
    # the first derivatives the rules carry (J), which a Laplacian of a field linear in
    # some step would not see
    grad = vmap(jacrev(lambda xi: f(xi.unsqueeze(0)).reshape(())))(x)
    torch.testing.assert_close(gk.gradient(f, x, strict=True), grad, **TOL)


@pytest.mark.parametrize("op", [
    lambda z: torch.cumsum(z, 1)[:, -1] ** 2,  # no rule
    lambda z: F.gelu(z, approximate="tanh").sum(1),  # no rule for this variant
    lambda z: F.dropout(z, p=0.5, training=True).sum(1),  # random
    lambda z: torch.sin(z[[0, 1, 0, 2, 3]]).sum(1),  # advanced indexing
    lambda z: torch.sin(z) @ torch.sin(z).T[:, :1],  # tracked @ tracked
    lambda z: torch.tanh(input=z).sum(1),  # the input as a keyword
    lambda z: (z + 0).add_(1).sum(1),  # in place
    lambda z: torch.where(z > 0.5, z, z**2).sum(1),  # no rule
])
def test_no_rule_means_fallback(op):
    with pytest.raises(gk.TaylorModeError):
        gk.laplacian(op, _points(), strict=True)


@pytest.mark.parametrize(("op", "reason"), [
    (lambda z: torch.add(z, z, alpha=2).sum(1), "`torch.add` with `alpha` has no forward rule"),
    (lambda z: torch.sub(z, 1.0, alpha=2).sum(1), "`torch.sub` with `alpha` has no forward rule"),
    (lambda z: torch.sum(z, 1, dtype=torch.float64),
     "`torch.sum` is supported only with `dim` and no `dtype`"),
    (lambda z: z.mean(1, dtype=torch.float64),
     "`Tensor.mean` is supported only with `dim` and no `dtype`"),
    (lambda z: torch.div(z, 2.0, rounding_mode="floor").sum(1),
     "`torch.div` with `rounding_mode` has no forward rule"),
    (lambda z: torch.pow(z, z).sum(1), "`torch.pow` is supported only as tensor ** number"),
    (lambda z: torch.pow(2.0, z).sum(1), "`torch.pow` is supported only as tensor ** number"),
    (lambda z: F.linear(z, torch.sin(z[:3, :3])).sum(1),
     "`torch.nn.functional.linear` is supported only with a constant 2-D weight and bias"),
    (lambda z: F.linear(z, W[:, 0]).sin(),
     "`torch.nn.functional.linear` is supported only with a constant 2-D weight and bias"),
    (lambda z: z.sin()[:, torch.tensor([0, 2])].sum(1),
     "`Tensor.__getitem__` is supported only with ints, slices, None and `...`"),
    (lambda z: F.layer_norm(z, (3,), torch.sin(z[0])).sum(1),
     "`torch.nn.functional.layer_norm` is supported only with constant weight and bias"),
    (lambda z: F.layer_norm(z, (3,), None, torch.sin(z[0])).sum(1),
     "`torch.nn.functional.layer_norm` is supported only with constant weight and bias"),
    (lambda z: torch.max(z, 1).values, "`torch.max` returned several tensors"),
    (lambda z: F.linear(z, W.T, bias=torch.cat([z[0], z[0, :1]])).sum(1),
     "`torch.nn.functional.linear` is supported only with a constant 2-D weight and bias"),
    (lambda z: F.linear(z, W.T, torch.cat([z[0], z[0, :1]])).sum(1),
     "`torch.nn.functional.linear` is supported only with a constant 2-D weight and bias"),
    (lambda z: z.new_ones(z.shape[0]) * 2 + W[0, 0],
     "the output does not come from the input through operations the forward mode sees"),
    (lambda z: torch.sin(z).T.sum(0), "no forward rule for Tensor.T (attribute)"),
    (lambda z: torch.cumsum(z, 1)[:, -1], "no forward rule for `torch.cumsum`"),
    # outside torch, torch.nn.functional and Tensor: torch's own name for it
    (lambda z: torch.special.erf(z).sum(1), "no forward rule for `special_erf`"),
    (lambda z: torch.tanh(input=z).sum(1),
     "`torch.tanh` called in a form its forward rule does not cover (IndexError: "),
    (lambda z: F.gelu(z, approximate="tanh").sum(1),
     "`torch.nn.functional.gelu` with approximate='tanh' has no forward rule"),
    (lambda z: F.dropout(z, 0.5).sum(1),
     "`torch.nn.functional.dropout` in training mode is random; call `net.eval()` first"),
    (lambda z: F.batch_norm(z, W[0, :3], W[1, :3].abs() + 1, torch.sin(z[0])).sum(1),
     "`torch.nn.functional.batch_norm` is supported only with constant statistics and weight"),
    (lambda z: z @ W[:, 0], "`Tensor.matmul` is supported only as tracked @ constant matrix"),
    (lambda z: torch.div(torch.sin(z), z, rounding_mode="trunc").sum(1),
     "`torch.div` with `rounding_mode` has no forward rule"),
])
def test_fallback_names_the_operation_and_why(op, reason):
    """The reason the forward path stopped, as the reader's code names the operation."""
    with pytest.raises(gk.TaylorModeError, match=re.escape(f"this callable: {reason}")):
        gk.laplacian(op, _points(), strict=True)


@pytest.mark.parametrize(("op", "what"), [
    (lambda z: F.batch_norm(z, W[0, :3], W[1, :3].abs() + 1, training=True).sum(1),
     "`torch.nn.functional.batch_norm` in training mode (or without running statistics) "
     "normalises with the batch's mean and variance, computed over all the points"),
    (lambda z: F.layer_norm(z, z.shape).sum(1),
     "`torch.nn.functional.layer_norm` normalises over the points (dim 0) too"),
    (lambda z: torch.sin(z).sum() * z[:, 0],
     "`Tensor.sum` without `dim` reduces over the points (rows) too"),
    (lambda z: torch.sin(z) - torch.sin(z).mean(0),
     "`Tensor.mean` over dim (0,) reduces over the points (dim 0, e.g. a batch mean)"),
    (lambda z: (torch.sin(z) - torch.sin(z).mean(-2)).sum(1),
     "`Tensor.mean` over dim (-2,) reduces over the points (dim 0, e.g. a batch mean)"),
    (lambda z: (z[:, 0] @ torch.ones(5, 3, dtype=z.dtype))[0] + z[:, 0],
     "`Tensor.matmul` of a vector of one value per point contracts over the points"),
    (lambda z: (torch.sin(z) @ torch.sin(z)[:3])[:, 0],
     "`Tensor.matmul` with a point-dependent matrix on the right sums over its rows "
     "(the points), as attention over the points does"),
])
def test_coupling_names_the_operation_and_how_it_mixes_the_points(op, what):
    with pytest.raises(gk.CouplingError,
                       match=re.escape(f"laplacian: the model couples the points: {what}. ")):
        gk.laplacian(op, _points(), strict=True)


def test_value_only_forward_keeps_no_graph():
    """create_graph=False runs the forward path without autograd: nothing requires grad."""
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    lap = gk.laplacian(net, _points().float(), create_graph=False, strict=True)
    assert not lap.requires_grad


def test_directions_are_rows_of_points():
    """The Laplacian of a sum of squares is 2 d at every point, whatever the batch."""
    x = torch.rand(7, 4, dtype=torch.float64)
    out = gk.laplacian(lambda z: (z**2).sum(1) + math.pi, x, strict=True)
    torch.testing.assert_close(out, torch.full((7,), 8.0, dtype=torch.float64))


def test_a_view_made_out_of_sight_is_refused():
    """A tensor that shares the memory of a tracked value but was made where the mode could
    not see (here: before entering it) stops the forward mode."""
    from gradkit._taylor import _Tracer, _Unsupported

    x = _points()
    tracer = _Tracer("laplacian", iter(()))
    tracer.seed(x, torch.ones(1, *x.shape, dtype=x.dtype))
    hidden = x.view(-1)  # not seen by the mode, shares x's memory
    with pytest.raises(_Unsupported, match="view of a value that depends on the input"):
        with tracer:
            torch.sin(x) + hidden.view(5, 3)


def test_relu_has_torchs_derivative_at_zero():
    """torch's relu has derivative 0 at 0 (its backward uses x > 0); so does the rule."""
    x = torch.tensor([[0.0, 1.0, -1.0]], dtype=torch.float64)
    got = gk.gradient(lambda t: F.relu(t).sum(1), x, strict=True)
    torch.testing.assert_close(got, torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64))


def test_a_view_made_out_of_sight_message_in_full():
    from gradkit._taylor import _Tracer, _Unsupported

    x = _points()
    tracer = _Tracer("laplacian", iter(()))
    tracer.seed(x, torch.ones(1, *x.shape, dtype=x.dtype))
    hidden = x.view(-1)
    with pytest.raises(_Unsupported) as info:
        with tracer:
            torch.sin(x) + hidden.view(5, 3)
    assert str(info.value) == (
        "`Tensor.add` received a view of a value that depends on the input, made where the "
        "forward mode cannot see (e.g. by a custom autograd.Function or a backward hook)"
    )


class _KeepsPoints(torch.nn.Module):
    """Keeps a reference point set as an attribute, e.g. the collocation points it was
    built with; called on those very points."""

    def __init__(self, ref: Tensor) -> None:
        super().__init__()
        self.ref = ref

    def forward(self, t: Tensor) -> Tensor:
        return ((t - self.ref[0]) ** 2).sum(1)


def test_a_module_that_keeps_the_points_as_a_constant():
    """Its attribute shares the points' storage, yet is a constant (it existed before the
    call), and so is what it computes from it: the forward path runs, exact."""
    x = _points()
    got = gk.laplacian(_KeepsPoints(x), x, strict=True)
    torch.testing.assert_close(got, torch.full((5,), 6.0, dtype=x.dtype))


@pytest.mark.parametrize("f", [
    lambda t: torch.stack([t[:, 0] ** 2, (t**3).sum(1)], 0)[1],  # joined along the points
    lambda t: torch.cat([t**2, t**3])[5:].sum(1),  # cat's default dim, 0 (5 points)
], ids=["stack-dim-0", "cat-default-dim"])
def test_joining_along_the_points_then_taking_them_back(f):
    """Joining along dim 0 and indexing back to one row per point is pointwise: both give
    sum(x_i^3), gradient 3 x^2 and Laplacian 6 sum(x_i)."""
    x = _points()
    torch.testing.assert_close(gk.gradient(f, x, strict=True), 3 * x**2, **TOL)
    torch.testing.assert_close(gk.laplacian(f, x, strict=True), 6 * x.sum(1), **TOL)


def test_a_reshape_of_a_constant_to_a_tracked_shape_is_refused():
    c = torch.arange(5.0, dtype=torch.float64)
    with pytest.raises(gk.TaylorModeError,
                       match=re.escape("`Tensor.view_as` is tracked only in its first argument")):
        gk.laplacian(lambda t: (t**2).sum(1) + c.view_as(t[:, 0]), _points(), strict=True)


@pytest.mark.parametrize(("f", "reason"), [
    (lambda t, c, h: torch.sin(c, out=h), "`torch.sin` is elementwise only in its first argument"),
    (lambda t, c, h: torch.cat([c, c], 1, out=h), "`torch.cat` has no tracked argument"),
], ids=["sin-out", "cat-out"])
def test_an_out_argument_that_is_tracked_is_refused(f, reason):
    """Writing a constant's result into a tracked tensor (out=) is not an operation on it."""
    c = torch.rand(5, 3, dtype=torch.float64)

    def g(t):
        h = torch.cat([torch.sin(t), torch.sin(t)], 1) if "cat" in reason else torch.sin(t)
        f(t, c, h)
        return h.sum(1)

    with pytest.raises(gk.TaylorModeError, match=re.escape(f"this callable: {reason}")):
        gk.laplacian(g, _points(), create_graph=False, strict=True)
