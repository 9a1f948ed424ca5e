r"""
.. _example-jacobians-hessians:

Whole Jacobians and Hessians
============================

``backward()`` gives one vector-Jacobian product at a time. To get the whole
Jacobian of a vector function, or the Hessian of a scalar one, PyTorch has
:mod:`torch.autograd.functional` and the composable transforms of
:mod:`torch.func`. We compute both matrices each way, for one point and for a
batch, and check every entry against the analytic matrix.

.. reading-path::
   :learn: how to compute whole Jacobians and Hessians with
      ``torch.autograd.functional`` and with ``torch.func``, for one point and
      for a batch
   :after: example-vector-jacobian-product, example-higher-order
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
#    f(\mathbf{x}) = \begin{pmatrix} x_0^2 x_1 \\ 5 x_0 + \sin x_1
#    \end{pmatrix},
#    \qquad
#    \mathbf{J}_f = \begin{pmatrix} 2 x_0 x_1 & x_0^2 \\ 5 & \cos x_1
#    \end{pmatrix};
#    \qquad
#    g(\mathbf{x}) = x_0^2 x_1 + x_1^3,
#    \qquad
#    \mathbf{H}_g = \begin{pmatrix} 2 x_1 & 2 x_0 \\ 2 x_0 & 6 x_1
#    \end{pmatrix}.
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
# Reverse mode builds a Jacobian one row (one vector-Jacobian product) per
# output, forward mode one column (one Jacobian-vector product) per input, as
# the :ref:`forward-mode example <example-forward-mode>` shows by building
# both. Prefer ``jacrev`` when there are fewer outputs than inputs
# (:math:`m < n`, "wide" Jacobians, a loss of many parameters), and
# ``jacfwd`` when there are fewer inputs than outputs (:math:`n < m`, "tall"
# Jacobians). ``torch.func.hessian`` is documented as ``jacfwd(jacrev(g))``,
# and above it gives the same matrix.
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
# From computed tensors, with the graph kept
# ------------------------------------------
# A PINN has the tensors, not a function: ``y = f(x)`` computed from points
# ``x`` of shape (N, d) with ``requires_grad=True``. Since each row of ``y``
# depends only on its own row of ``x``, one :func:`torch.autograd.grad` of
# output column :math:`i`, summed over the points, gives row :math:`i` of
# every point's Jacobian, (N, d); stacking them gives (N, m, d). With
# ``create_graph=True`` the result keeps a graph, so it can enter a loss, and
# differentiating the gradient once more gives the Hessians, (N, d, d).
Xg = X.clone().requires_grad_()
Yg = f(Xg)  # (N, m)
J_t = torch.stack(
    [
        torch.autograd.grad(Yg[:, i].sum(), Xg, create_graph=True)[0]
        for i in range(Yg.shape[1])
    ],
    dim=1,
)
(G,) = torch.autograd.grad(g(Xg).sum(), Xg, create_graph=True)  # (N, d)
H_t = torch.stack(
    [
        torch.autograd.grad(G[:, j].sum(), Xg, retain_graph=True)[0]
        for j in range(G.shape[1])
    ],
    dim=1,
)
print(f"Jacobians {tuple(J_t.shape)}, Hessians {tuple(H_t.shape)}")
print(f"Hessian at the last point:\n{H_t[-1]}")
print(f"the Jacobians keep a graph: requires_grad = {J_t.requires_grad}")
torch.testing.assert_close(J_t.detach(), jacobian_f(X))
torch.testing.assert_close(H_t, hessian_g(X))
assert J_t.requires_grad

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
# The Hessian with respect to a module's parameters
# -------------------------------------------------
# ``hessian`` differentiates a function with respect to its *arguments*. A
# module's parameters are not arguments of ``model(X)``, so make them one:
# :func:`torch.func.functional_call` runs the module with the parameters
# given in a dictionary. A flat vector :math:`\theta` is easiest to read;
# ``unflatten`` cuts it into the named shapes. For a linear model
# :math:`\hat y = X w + b` and the mean squared error, the Hessian is
# :math:`\frac{2}{N} A^{\mathsf T} A` with :math:`A = [X\;\mathbf{1}]`.
from torch.func import functional_call, grad, jvp

torch.manual_seed(0)
model = torch.nn.Linear(2, 1)
y_target = torch.tensor([[1.0], [0.0], [2.0], [-1.0]])  # X: the 4 points above
shapes = {name: p.shape for name, p in model.named_parameters()}


def unflatten(theta):
    sizes = [s.numel() for s in shapes.values()]
    parts = theta.split(sizes)
    named = zip(shapes.items(), parts, strict=True)
    return {name: t.reshape(shape) for (name, shape), t in named}


def loss_of(theta):
    prediction = functional_call(model, unflatten(theta), (X,))
    return ((prediction - y_target) ** 2).mean()


theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
H_params = hessian(loss_of)(theta)
A = torch.cat([X, torch.ones(len(X), 1)], dim=1)
print(f"Hessian with respect to (w_0, w_1, b):\n{H_params}")
torch.testing.assert_close(H_params, 2 / len(X) * A.T @ A)

# %%
# A Hessian-vector product :math:`Hv` needs no Hessian: it is the forward-mode
# derivative of the gradient in the direction :math:`v`, ``jvp(grad(loss))``.
v = torch.tensor([1.0, -1.0, 0.5])
_, Hv = jvp(grad(loss_of), (theta,), (v,))
print(f"Hv = {Hv}")
torch.testing.assert_close(Hv, 2 / len(X) * A.T @ A @ v)

# %%
# Why ``torch.autograd.functional.hessian`` (``functional_hessian`` above)
# can return zeros: it differentiates the function with respect to the
# tensors it passes in. A
# closure that calls ``model(X)`` computes with the module's own parameters,
# not with those arguments, so its Hessian with respect to them is zero.
# ``strict=True`` turns that into an error.

def closure(weight, bias):
    return ((model(X) - y_target) ** 2).mean()  # ignores weight and bias


inputs = (model.weight.detach(), model.bias.detach())
H_closure = functional_hessian(closure, inputs)
print(f"Hessian blocks of the closure all zero: "
      f"{all(not block.any() for row in H_closure for block in row)}")
assert all(not block.any() for row in H_closure for block in row)
try:
    functional_hessian(closure, inputs, strict=True)
except RuntimeError as err:
    print(f"RuntimeError: {str(err).split('. ')[0]}.")
else:
    raise AssertionError("strict=True must refuse a closure that ignores them")

# %%
# For a network with a nonlinearity there is no short closed form; a float64
# central finite difference of the loss is the check, entry by entry:
# :math:`H_{ij} \approx [L(\theta + h e_i + h e_j) - L(\theta + h e_i - h e_j)
# - L(\theta - h e_i + h e_j) + L(\theta - h e_i - h e_j)] / 4h^2`.
model = torch.nn.Sequential(
    torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)
).double()
shapes = {name: p.shape for name, p in model.named_parameters()}
theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
X, y_target = X.double(), y_target.double()
H_net = hessian(loss_of)(theta)
step, eye = 1e-4, torch.eye(len(theta), dtype=torch.float64)
H_fd = torch.empty_like(H_net)
for i in range(len(theta)):
    for j in range(len(theta)):
        di, dj = step * eye[i], step * eye[j]
        H_fd[i, j] = (
            loss_of(theta + di + dj) - loss_of(theta + di - dj)
            - loss_of(theta - di + dj) + loss_of(theta - di - dj)
        ) / (4 * step**2)
print(f"Hessian of the {len(theta)} parameters: shape {tuple(H_net.shape)}, "
      "within 1e-6 of the finite difference (checked)")
torch.testing.assert_close(H_net, H_fd, rtol=0.0, atol=1e-6)
X = X.float()

# %%
# Conclusion
# ----------
# ``torch.autograd.functional.jacobian`` / ``hessian`` and
# ``torch.func.jacrev``, ``jacfwd`` and ``hessian`` all return the full matrix
# of a function at a point; ``jacrev`` suits few outputs, ``jacfwd`` few
# inputs, and ``hessian`` composes them. For a batch, wrap the single-point
# transform in ``vmap`` to get (N, m, n) rather than the block matrix of all
# points. From tensors already computed, one ``grad`` per output column
# gives the per-point Jacobians; the :ref:`gradkit library
# <gradkit-reference>` packages that.

# %%
# Exercises
# ---------
# 1. For :math:`q(\mathbf{x}) = x_0 x_1 x_2` at :math:`(1, 2, 3)`, compute
#    the Hessian with :func:`torch.func.hessian` and check it against the
#    closed form: zero diagonal, :math:`H_{ij} = x_k` off it (:math:`k` the
#    third index).
# 2. ``jacrev(f)`` of a function :math:`\mathbb{R}^2 \to \mathbb{R}^2` and
#    ``jacrev`` of ``lambda x: f(x).flip(-1)``, its outputs swapped: how
#    are the two Jacobians related? Check it at :math:`(1, 2)`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~


# %%
def q(x):
    return x[0] * x[1] * x[2]


xq = torch.tensor([1.0, 2.0, 3.0])
Hq = hessian(q)(xq)
q0, q1, q2 = xq.tolist()
print(f"Hessian of x0 x1 x2 at (1, 2, 3):\n{Hq}")
torch.testing.assert_close(
    Hq, torch.tensor([[0.0, q2, q1], [q2, 0.0, q0], [q1, q0, 0.0]])
)

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
#
# Flipping the outputs swaps the rows of the Jacobian (one row per output).

# %%
J_flip = jacrev(lambda x: f(x).flip(-1))(x)
print(f"Jacobian of the flipped outputs:\n{J_flip}")
torch.testing.assert_close(J_flip, jacobian_f(x).flip(0))
