r"""
.. _example-jacobians-hessians:

Whole Jacobians and Hessians
============================

``backward()`` gives one vector-Jacobian product at a time. To get the whole
Jacobian of a vector function, or the Hessian of a scalar one, PyTorch has
:mod:`torch.autograd.functional` and the composable transforms of
:mod:`torch.func`. We compute both matrices each way, for one point and for a
batch, and check every entry against the analytic matrix.
"""

# %%
# Two functions and their derivative matrices
# -------------------------------------------
# A vector function :math:`f : \mathbb{R}^2 \to \mathbb{R}^2` and a scalar one
# :math:`g : \mathbb{R}^2 \to \mathbb{R}`, with their Jacobian and Hessian by
# hand:
#
# .. math::
#
#    f(\mathbf{x}) = \begin{pmatrix} x_0^2 x_1 \\ 5 x_0 + \sin x_1 \end{pmatrix},
#    \qquad
#    \mathbf{J}_f = \begin{pmatrix} 2 x_0 x_1 & x_0^2 \\ 5 & \cos x_1 \end{pmatrix};
#    \qquad
#    g(\mathbf{x}) = x_0^2 x_1 + x_1^3,
#    \qquad
#    \mathbf{H}_g = \begin{pmatrix} 2 x_1 & 2 x_0 \\ 2 x_0 & 6 x_1 \end{pmatrix}.
#
# Indexing with ``x[..., 0]`` lets the same code take one point of shape (2,)
# or a batch of shape (N, 2).
import torch


def f(x):
    return torch.stack(
        [x[..., 0] ** 2 * x[..., 1], 5 * x[..., 0] + torch.sin(x[..., 1])],
        dim=-1,
    )


def g(x):
    return x[..., 0] ** 2 * x[..., 1] + x[..., 1] ** 3


# %%
# The closed forms, evaluated without autograd, are the oracle for every check.
def jacobian_f(x):
    x0, x1 = x[..., 0], x[..., 1]
    row0 = torch.stack([2 * x0 * x1, x0**2], dim=-1)
    row1 = torch.stack([torch.full_like(x0, 5.0), torch.cos(x1)], dim=-1)
    return torch.stack([row0, row1], dim=-2)


def hessian_g(x):
    x0, x1 = x[..., 0], x[..., 1]
    return torch.stack(
        [torch.stack([2 * x1, 2 * x0], -1), torch.stack([2 * x0, 6 * x1], -1)],
        -2,
    )


x = torch.tensor([1.0, 2.0])
print(f"f(x) at x = {x}: {f(x)}")
print(f"g(x) at x = {x}: {g(x)}")

# %%
# Shapes
# ------
# For :math:`f : \mathbb{R}^n \to \mathbb{R}^m` and :math:`g : \mathbb{R}^n \to
# \mathbb{R}`:
#
# * the value :math:`f(\mathbf{x})` is in :math:`\mathbb{R}^m`;
# * the Jacobian :math:`\mathbf{J}_f`, with :math:`J_{ij} = \partial f_i /
#   \partial x_j`, is in :math:`\mathbb{R}^{m \times n}`: one row per output;
# * the Hessian :math:`\mathbf{H}_g`, with :math:`H_{ij} = \partial^2 g /
#   \partial x_i \partial x_j`, is in :math:`\mathbb{R}^{n \times n}`, and
#   symmetric.
#
# torch.autograd.functional
# -------------------------
# :func:`torch.autograd.functional.jacobian` and
# :func:`~torch.autograd.functional.hessian` take the function and the point,
# and return the matrix.
from torch.autograd.functional import hessian as functional_hessian
from torch.autograd.functional import jacobian as functional_jacobian

J = functional_jacobian(f, x)
print(f"Jacobian of f at x = (1, 2):\n{J}")
torch.testing.assert_close(J, jacobian_f(x))

# %%
H = functional_hessian(g, x)
print(f"Hessian of g at x = (1, 2):\n{H}")
torch.testing.assert_close(H, hessian_g(x))

# %%
# torch.func: jacrev, jacfwd, hessian
# -----------------------------------
# :mod:`torch.func` turns a function into its derivative function.
# :func:`torch.func.jacrev` builds the Jacobian in reverse mode, one row (one
# vector-Jacobian product) per output; :func:`torch.func.jacfwd` in forward
# mode, one column (one Jacobian-vector product) per input. Same matrix,
# different cost.
from torch.func import jacfwd, jacrev

J_rev = jacrev(f)(x)
J_fwd = jacfwd(f)(x)
print(f"jacrev(f)(x):\n{J_rev}")
print(f"jacfwd(f)(x):\n{J_fwd}")
torch.testing.assert_close(J_rev, jacobian_f(x))
torch.testing.assert_close(J_fwd, jacobian_f(x))

# %%
# :func:`torch.func.hessian` is ``jacfwd(jacrev(g))``: the Jacobian of the
# gradient. The gradient is taken in reverse mode (one scalar output), the
# Jacobian of that gradient in forward mode.
from torch.func import hessian

H_func = hessian(g)(x)
H_composed = jacfwd(jacrev(g))(x)
print(f"hessian(g)(x):\n{H_func}")
torch.testing.assert_close(H_func, hessian_g(x))
torch.testing.assert_close(H_composed, hessian_g(x))

# %%
# Which one to use
# ----------------
# ``jacrev`` needs :math:`m` reverse passes and ``jacfwd`` :math:`n` forward
# passes (both batched with ``vmap`` internally). Prefer ``jacrev`` when there
# are fewer outputs than inputs (:math:`m < n`, "wide" Jacobians, a loss of
# many parameters), and ``jacfwd`` when there are fewer inputs than outputs
# (:math:`n < m`, "tall" Jacobians). For a Hessian, ``jacfwd(jacrev(g))`` is
# the usual best choice, which is what ``torch.func.hessian`` does.
#
# A batch of points with vmap
# ---------------------------
# On a batch of :math:`N` points, ``jacrev(f)`` sees one function of all
# :math:`2N` inputs and returns every cross-derivative between points, shape
# (N, m, N, n). Point :math:`k` only depends on its own input, so only the
# diagonal blocks ``[k, :, k, :]`` are nonzero, and they are the per-point
# Jacobians.
X = torch.tensor([[1.0, 2.0], [0.0, 1.0], [-1.0, 0.5], [2.0, -1.0]])
J_block = jacrev(f)(X)
J_diag = J_block.diagonal(dim1=0, dim2=2).permute(
    2, 0, 1
)  # blocks [k, :, k, :]
print(f"jacrev(f)(X).shape = {tuple(J_block.shape)}")
print(f"nonzero entries: {int(J_block.count_nonzero())} of {J_block.numel()}")
torch.testing.assert_close(J_diag, jacobian_f(X))
torch.testing.assert_close(J_block.abs().sum(), J_diag.abs().sum())

# %%
# :func:`torch.func.vmap` maps the single-point Jacobian over the rows of ``X``
# instead: (N, m, n), one Jacobian per point, the same for the Hessians.
from torch.func import vmap

J_batch = vmap(jacrev(f))(X)
H_batch = vmap(hessian(g))(X)
print(f"vmap(jacrev(f))(X), shape {tuple(J_batch.shape)}:\n{J_batch}")
print(f"vmap(hessian(g))(X), shape {tuple(H_batch.shape)}:\n{H_batch}")
torch.testing.assert_close(J_batch, jacobian_f(X))
torch.testing.assert_close(H_batch, hessian_g(X))

# %%
# The gradkit shortcut
# --------------------
# :func:`gradkit.jacobian` and :func:`gradkit.hessian` work from the tensors
# instead of the functions: ``y`` computed pointwise from points ``x`` of shape
# (N, d) with ``requires_grad=True``. They return (N, m, d) and (N, d, d), and
# keep the graph so the result can enter a loss.
import gradkit

Xg = X.clone().requires_grad_()
J_gk = gradkit.jacobian(f(Xg), Xg)
H_gk = gradkit.hessian(g(Xg), Xg)
print(
    f"gradkit.jacobian shape {tuple(J_gk.shape)}, gradkit.hessian shape {tuple(H_gk.shape)}"
)
print(f"gradkit.hessian at the last point:\n{H_gk[-1].detach()}")
torch.testing.assert_close(J_gk.detach(), jacobian_f(X))
torch.testing.assert_close(H_gk.detach(), hessian_g(X))

# %%
# Both matrices at :math:`\mathbf{x} = (1, 2)`, as computed by ``jacrev`` and
# ``hessian``. The Hessian is symmetric; the Jacobian need not be.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(6.5, 3.5))
panels = [
    (J_rev, r"$J_f$ at $x = (1, 2)$"),
    (H_func, r"$H_g$ at $x = (1, 2)$"),
]
for ax, (M, title) in zip(axes, panels, strict=True):
    ax.imshow(M.numpy(), cmap="coolwarm", vmin=-12, vmax=12)
    for i in range(2):
        for j in range(2):
            color = "white" if abs(M[i, j]) > 8 else "black"
            ax.text(
                j,
                i,
                f"{M[i, j]:.3g}",
                ha="center",
                va="center",
                fontsize=13,
                color=color,
            )
    ax.set_xticks([0, 1], [r"$\partial x_0$", r"$\partial x_1$"])
    ax.set_xlabel("with respect to")
    ax.set_title(title)
axes[0].set_yticks([0, 1], [r"$f_0$", r"$f_1$"])
axes[0].set_ylabel("output")
axes[1].set_yticks([0, 1], [r"$\partial x_0$", r"$\partial x_1$"])
axes[1].set_ylabel("with respect to")
fig.tight_layout()

# %%
# Conclusion
# ----------
# ``torch.autograd.functional.jacobian`` / ``hessian`` and
# ``torch.func.jacrev``, ``jacfwd`` and ``hessian`` all return the full matrix
# of a function at a point; ``jacrev`` suits few outputs, ``jacfwd`` few
# inputs, and ``hessian`` composes them. For a batch, wrap the single-point
# transform in ``vmap`` to get (N, m, n) rather than the block matrix of all
# points. ``gradkit.jacobian`` and ``gradkit.hessian`` do the batched version
# from tensors already computed.
