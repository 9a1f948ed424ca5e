r"""
.. _example-vector-jacobian-product:

The vector-Jacobian product behind backward()
=============================================

For a vector output, ``backward(v)`` and
``torch.autograd.grad(y, x, grad_outputs=v)`` do not return the Jacobian:
they return the vector-Jacobian product. We compute it on a 2x2 example,
rebuild the full Jacobian from it, and see why it is not the Jacobian-vector
product.

For :math:`\mathbf{y} = f(\mathbf{x})` with Jacobian :math:`\mathbf{J}`, both
return :math:`\mathbf{J}^{\mathrm{T}} \mathbf{v}`, not
:math:`\mathbf{J} \mathbf{v}`.

.. reading-path::
   :learn: what ``backward(v)`` computes for a vector output (the
      vector-Jacobian product, not the Jacobian), and how to rebuild the
      Jacobian from it
   :after: example-partial-derivatives, example-computational-graph

.. search::
   :keywords: vjp, vector-Jacobian product
"""

# %%
# A function from the plane to the plane
# --------------------------------------
# Take a column :math:`\mathbf{x} = (x_1, x_2)^{\mathrm{T}}`, a fixed matrix
# :math:`\mathbf{A}`, and :math:`\mathbf{y} = \mathbf{A}\mathbf{x} +
# \mathbf{x}^2` (square taken elementwise):
#
# .. math::
#
#    \begin{pmatrix} y_1 \\ y_2 \end{pmatrix} =
#    \begin{pmatrix} a_{11} & a_{12} \\ a_{21} & a_{22} \end{pmatrix}
#    \begin{pmatrix} x_1 \\ x_2 \end{pmatrix} +
#    \begin{pmatrix} x_1^2 \\ x_2^2 \end{pmatrix},
#    \qquad
#    \mathbf{x} = \begin{pmatrix} 2 \\ 3 \end{pmatrix},
#    \quad
#    \mathbf{A} = \begin{pmatrix} 1 & 2 \\ -1 & 3 \end{pmatrix}.
import torch

x = torch.tensor([[2.0], [3.0]], requires_grad=True)
A = torch.tensor([[1.0, 2.0], [-1.0, 3.0]])
y = A @ x + x**2
print(
    f"x = {x.detach().flatten()}, y = {y.detach().flatten()}, "
    f"y.shape = {tuple(y.shape)}"
)

# %%
# Its Jacobian, by hand
# ---------------------
# Row :math:`i` of the Jacobian holds the partial derivatives of :math:`y_i`:
#
# .. math::
#
#    \mathbf{J} = \begin{pmatrix}
#       \frac{\partial y_1}{\partial x_1}
#       & \frac{\partial y_1}{\partial x_2} \\
#       \frac{\partial y_2}{\partial x_1} & \frac{\partial y_2}{\partial x_2}
#    \end{pmatrix}
#    = \begin{pmatrix} a_{11} + 2x_1 & a_{12} \\
#      a_{21} & a_{22} + 2x_2 \end{pmatrix}
#    = \begin{pmatrix} 5 & 2 \\ -1 & 9 \end{pmatrix},
#    \qquad
#    \mathbf{J}^{\mathrm{T}} = \begin{pmatrix} 5 & -1 \\ 2 & 9 \end{pmatrix}.
#
# We build it from this closed form, without autograd; it is the oracle for
# every check below.
J = A + torch.diag(2 * x.detach().flatten())
print(f"J (closed form) =\n{J}")

# %%
# ``grad_outputs`` is a vector in output space
# --------------------------------------------
# With :math:`\mathbf{v} = (1, 1)^{\mathrm{T}}`, autograd returns
#
# .. math::
#
#    \mathbf{J}^{\mathrm{T}} \mathbf{v}
#    = \begin{pmatrix} 5 & -1 \\ 2 & 9 \end{pmatrix}
#      \begin{pmatrix} 1 \\ 1 \end{pmatrix}
#    = \begin{pmatrix} 4 \\ 11 \end{pmatrix}.
#
# ``v`` has the shape of ``y`` (one weight per output), so we build it with
# ``torch.ones_like(y)``.
v = torch.ones_like(y)
(vjp,) = torch.autograd.grad(y, x, grad_outputs=v, retain_graph=True)
print(f"J^T v from autograd.grad: {vjp.flatten()} (shape {tuple(vjp.shape)})")
torch.testing.assert_close(vjp, J.T @ v)

# %%
# ``y.backward(v)`` computes the same product and accumulates it into
# ``x.grad``.
y.backward(v, retain_graph=True)
print(f"x.grad after y.backward(v): {x.grad.flatten()}")
torch.testing.assert_close(x.grad, J.T @ v)

# %%
# The source notebook passed ``grad_outputs=torch.ones_like(x)``. That ran only
# because here ``y`` and ``x`` happen to have the same shape. Add a third
# output :math:`y_3 = x_1 x_2`, and the same call fails: ``grad_outputs`` must
# match the outputs, not the inputs.
z = torch.cat([y, x[:1] * x[1:]])
try:
    torch.autograd.grad(z, x, grad_outputs=torch.ones_like(x))
except RuntimeError as err:
    print(f"RuntimeError: {err}")
else:
    raise AssertionError(
        "grad_outputs shaped like x (2, 1) for a (3, 1) output should raise"
    )

# %%
# With ``torch.ones_like(z)`` it works. The Jacobian of :math:`\mathbf{z}`
# gains the row :math:`(x_2, x_1) = (3, 2)`, so
# :math:`\mathbf{J}_z^{\mathrm{T}} \mathbf{1}` adds :math:`(3, 2)` to
# :math:`(4, 11)`.
(vjp_z,) = torch.autograd.grad(
    z, x, grad_outputs=torch.ones_like(z), retain_graph=True
)
print(f"J_z^T 1 for the three outputs: {vjp_z.flatten()}")
J_z = torch.cat([J, x.detach().flip(0).T])
torch.testing.assert_close(vjp_z, J_z.T @ torch.ones(3, 1))

# %%
# The full Jacobian, one row per backward pass
# --------------------------------------------
# A common surprise: ``backward()`` on a vector output never hands back the 2x2
# Jacobian. One reverse pass gives one product :math:`\mathbf{v}^{\mathrm{T}}
# \mathbf{J}`. With a one-hot :math:`\mathbf{v} = \mathbf{e}_i` that product is
# row :math:`i` of :math:`\mathbf{J}`, so two passes give the whole matrix.
rows = []
for i in range(2):
    e_i = torch.zeros_like(y)
    e_i[i] = 1.0
    (row,) = torch.autograd.grad(y, x, grad_outputs=e_i, retain_graph=True)
    rows.append(row.flatten())
J_rows = torch.stack(rows)
print(f"Jacobian from one-hot v's:\n{J_rows}")
torch.testing.assert_close(J_rows, J)

# %%
# :func:`torch.autograd.functional.jacobian` runs that loop for us. It takes
# the function, not the graph, and keeps the shapes of output and input: here
# (2, 1) by (2, 1), which we reshape to 2x2.
from torch.autograd.functional import jacobian


def f(x):
    return A @ x + x**2


J_func = jacobian(f, x.detach())
print(f"autograd.functional.jacobian shape: {tuple(J_func.shape)}")
print(f"reshaped to 2x2:\n{J_func.reshape(2, 2)}")
torch.testing.assert_close(J_func.reshape(2, 2), J)

# %%
# J^T v is not J v
# ----------------
# A reverse pass gives :math:`\mathbf{J}^{\mathrm{T}} \mathbf{v}`; the
# Jacobian-vector product :math:`\mathbf{J} \mathbf{v}` (forward mode's
# product) is what :func:`torch.autograd.functional.jvp` returns. Both exist
# side by side only for a square :math:`\mathbf{J}`, and they agree for
# *every* :math:`\mathbf{v}` exactly when :math:`\mathbf{J}` is symmetric.
# Ours is not, and for :math:`\mathbf{v} = \mathbf{1}` they differ. (The
# transpose is easy to lose: PyTorch's own autograd tutorial once showed the
# Jacobian transposed,
# `pytorch issue 16352 <https://github.com/pytorch/pytorch/issues/16352>`_.)
#
# .. math::
#
#    \mathbf{J} \mathbf{v}
#    = \begin{pmatrix} 5 & 2 \\ -1 & 9 \end{pmatrix}
#      \begin{pmatrix} 1 \\ 1 \end{pmatrix}
#    = \begin{pmatrix} 7 \\ 8 \end{pmatrix}
#    \neq \begin{pmatrix} 4 \\ 11 \end{pmatrix}.
from torch.autograd.functional import jvp

_, jv = jvp(f, x.detach(), v)
print(f"J v   from jvp:      {jv.flatten()}")
print(f"J^T v from backward: {vjp.flatten()}")
torch.testing.assert_close(jv, J @ v)
assert not torch.allclose(jv, vjp)

# %%
# Agreeing for one :math:`\mathbf{v}` proves nothing about symmetry: they
# agree whenever :math:`(\mathbf{J} - \mathbf{J}^{\mathrm{T}})\mathbf{v} =
# \mathbf{0}`. For the non-symmetric linear map below,
# :math:`\mathbf{J} - \mathbf{J}^{\mathrm{T}}` sends
# :math:`\mathbf{w} = (3, 0, 2)` to zero, so the two products are equal
# there, and differ for :math:`\mathbf{e}_1`.
M = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]])


def linear(u):
    return M @ u


for w in (torch.tensor([3.0, 0.0, 2.0]), torch.tensor([1.0, 0.0, 0.0])):
    _, Jw = jvp(linear, torch.zeros(3), w)
    _, JTw = torch.autograd.functional.vjp(linear, torch.zeros(3), w)
    print(f"w = {w}: J w = {Jw}, J^T w = {JTw}")
    torch.testing.assert_close(Jw, M @ w)
    torch.testing.assert_close(JTw, M.T @ w)
assert not torch.equal(M, M.T)
torch.testing.assert_close(
    M @ torch.tensor([3.0, 0.0, 2.0]), M.T @ torch.tensor([3.0, 0.0, 2.0])
)

# %%
# In the plane: the same :math:`\mathbf{v}` is sent to two different vectors.
import matplotlib.pyplot as plt

fig, (ax_j, ax_v) = plt.subplots(1, 2, figsize=(6.5, 3.5))
ax_j.imshow(J_rows.numpy(), cmap="coolwarm", vmin=-10, vmax=10)
for r in range(2):
    for c in range(2):
        ax_j.text(
            c, r, f"{J_rows[r, c]:g}", ha="center", va="center", fontsize=14
        )
ax_j.set_xticks([0, 1], [r"$x_1$", r"$x_2$"])
ax_j.set_yticks([0, 1], [r"$y_1$", r"$y_2$"])
ax_j.set_title(r"$J$ (rows from one-hot $v$)")
arrows = [
    (v, r"$v$", "k"),
    (vjp, r"$J^T v$ (backward)", "C0"),
    (jv, r"$J v$ (jvp)", "C1"),
]
for vec, label, color in arrows:
    ax_v.annotate(
        "",
        xy=vec.flatten().tolist(),
        xytext=(0, 0),
        arrowprops={"arrowstyle": "->", "color": color, "lw": 2},
    )
    ax_v.plot([], [], color=color, label=label)
ax_v.set_xlim(-1, 12)
ax_v.set_ylim(-1, 12)
ax_v.set_aspect("equal")
ax_v.set_xlabel("first component")
ax_v.set_ylabel("second component")
ax_v.legend(loc="lower right")
ax_v.grid(alpha=0.3)
fig.tight_layout()

# %%
# Conclusion
# ----------
# ``backward(v)`` and ``grad(y, x, grad_outputs=v)`` compute
# :math:`\mathbf{J}^{\mathrm{T}}\mathbf{v}`, with ``v`` shaped like the output
# ``y``. One pass per output row rebuilds :math:`\mathbf{J}`; ``jvp`` gives
# :math:`\mathbf{J}\mathbf{v}`, which equals
# :math:`\mathbf{J}^{\mathrm{T}}\mathbf{v}` for every :math:`\mathbf{v}` only
# when :math:`\mathbf{J}` is square and symmetric. For Jacobians of many
# points at once, see the :ref:`gradkit library <gradkit-reference>`.

# %%
# Exercises
# ---------
# 1. For :math:`\mathbf{g}(x_1, x_2) = (x_1 x_2,\; x_1 + x_2,\; x_2^2)` at
#    :math:`(1, 2)`, compute :math:`\mathbf{J}^{\mathrm{T}}\mathbf{v}` with
#    :math:`\mathbf{v} = (1, 0, 1)` using ``grad_outputs`` and check it
#    against the closed form :math:`(x_2,\; x_1 + 2 x_2)`.
# 2. Rebuild the 3 by 2 Jacobian of :math:`\mathbf{g}` from one-hot
#    vectors and compare it with :func:`torch.autograd.functional.jacobian`.

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~


# %%
def g(p):
    return torch.stack([p[0] * p[1], p[0] + p[1], p[1] ** 2])


p = torch.tensor([1.0, 2.0], requires_grad=True)
gp = g(p)
(JTv_g,) = torch.autograd.grad(
    gp, p, grad_outputs=torch.tensor([1.0, 0.0, 1.0]), retain_graph=True
)
print(f"J^T v for v = (1, 0, 1): {JTv_g}")
x1, x2 = p.detach()
torch.testing.assert_close(JTv_g, torch.stack([x2, x1 + 2 * x2]))

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~

# %%
J_g = torch.stack(
    [
        torch.autograd.grad(gp, p, grad_outputs=e, retain_graph=True)[0]
        for e in torch.eye(3)
    ]
)
print(f"Jacobian of g from three one-hot v's:\n{J_g}")
torch.testing.assert_close(J_g, jacobian(g, p.detach()))
torch.testing.assert_close(
    J_g, torch.tensor([[x2, x1], [1.0, 1.0], [0.0, 2 * x2]])
)
