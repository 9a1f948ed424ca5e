r"""
.. _example-distributed-data-parallel:

Distributed data parallel: how gradients are synchronised
=========================================================

``torch.nn.parallel.DistributedDataParallel`` (DDP) runs one process
per device, each on its own shard of the batch. During ``backward()`` it
all-reduces the gradients and divides by the number of processes, which, for
a mean loss and equal shards, gives the full-batch gradient. We run two real
CPU processes (the ``gloo`` backend) and compare what they compute with
single-process gradients, with and without ``no_sync()``.

With :math:`P` processes, each with the loss :math:`L_p` of its shard, the
synchronised gradient is

.. math::

   g = \frac{1}{P}\sum_{p=1}^{P} \nabla_w L_p .

.. reading-path::
   :learn: how ``DistributedDataParallel`` averages the gradients of its
      processes during ``backward()``, and what ``no_sync()`` changes
   :after: example-training-step, example-autograd-in-training

.. figure-alt:: 1

   Bar chart of the three weight gradients: each of the two processes' own
   (under no_sync) and the synchronised one, which lies halfway between them.
"""

# %%
# The single-process reference
# ----------------------------
# A linear model with the mean squared error on a batch of 8, split into two
# shards of 4. Its full-batch gradient has the closed form
# :math:`\nabla_w L = \frac{2}{N} r^{\mathsf T} X` with residual
# :math:`r = Xw^{\mathsf T} + b - y`.
import torch

torch.manual_seed(0)
X = torch.randn(8, 3)
y = torch.randn(8, 1)
model = torch.nn.Linear(3, 1)


def weight_grad(X, y, reduction="mean"):
    """Autograd gradient of the loss on (X, y) w.r.t. the model's weight."""
    loss = torch.nn.functional.mse_loss(model(X), y, reduction=reduction)
    return torch.autograd.grad(loss, model.weight)[0]


full = weight_grad(X, y)
r = (X.double() @ model.weight.detach().double().T
     + model.bias.detach().double() - y.double())
print(f"full-batch gradient: {full}")
torch.testing.assert_close(full, (2 / 8 * r.T @ X.double()).float())
shards = [weight_grad(Xs, ys) for Xs, ys in zip(X.chunk(2), y.chunk(2),
                                                 strict=True)]
torch.testing.assert_close((shards[0] + shards[1]) / 2, full)

# %%
# The worker
# ----------
# Each process runs ``train(rank)``. It joins a process group through a
# file both can see, wraps the same model (same seed) in DDP, computes
# gradients on its shard, and saves them. It also runs the accumulation
# pattern: the first micro-batch under ``no_sync()``, the second
# synchronised.
WORKER = r'''
import multiprocessing
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def train(rank, world, store, out):
    dist.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=world
    )
    torch.manual_seed(0)
    X, y = torch.randn(8, 3), torch.randn(8, 1)
    model = torch.nn.Linear(3, 1)
    ddp = DistributedDataParallel(model)
    Xs, ys = X.chunk(world)[rank], y.chunk(world)[rank]
    results = {}

    def step(X_part, y_part, scale=1.0, reduction="mean"):
        loss = torch.nn.functional.mse_loss(ddp(X_part), y_part,
                                            reduction=reduction)
        (scale * loss).backward()

    step(Xs, ys)  # synchronised: gradients averaged over the processes
    results["synced"] = model.weight.grad.clone()
    ddp.zero_grad()
    with ddp.no_sync():  # local only
        step(Xs, ys)
    results["local"] = model.weight.grad.clone()
    ddp.zero_grad()
    (Xa, Xb), (ya, yb) = Xs.chunk(2), ys.chunk(2)
    with ddp.no_sync():  # accumulate micro-batch a locally ...
        step(Xa, ya, scale=0.5)
    step(Xb, yb, scale=0.5)  # ... and synchronise the sum with micro-batch b
    results["accumulated"] = model.weight.grad.clone()
    ddp.zero_grad()
    step(Xs, ys, reduction="sum")
    results["sum"] = model.weight.grad.clone()
    ddp.zero_grad()
    sizes = [3, 5]  # unequal shards, each mean loss weighted by P n_p / N
    Xu, yu = X.split(sizes)[rank], y.split(sizes)[rank]
    step(Xu, yu, scale=world * sizes[rank] / 8)
    results["uneven"] = model.weight.grad.clone()
    torch.save(results, f"{out}{rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    world, store, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    # on Linux, fork: the ranks share this process's imported torch
    context = multiprocessing.get_context(
        "fork" if sys.platform.startswith("linux") else "spawn"
    )
    procs = [
        context.Process(target=train, args=(rank, world, store, out))
        for rank in range(world)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    sys.exit(max(proc.exitcode for proc in procs))
'''

# %%
# Launching two processes
# -----------------------
# sphinx-gallery (and a notebook) runs this page inside one Python process,
# so we run the worker as a separate program with ``sys.executable``, from a
# temporary folder; it starts the two ranks and we read back what they
# saved. Any failure stops the page with the worker's error output.
import subprocess
import sys
import tempfile
from pathlib import Path


def run_workers(source, world=2, timeout=120):
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "ddp_worker.py"
        script.write_text(source)
        out = Path(tmp) / "rank"
        done = subprocess.run(
            [sys.executable, str(script), str(world), str(Path(tmp) / "store"),
             str(out)],
            capture_output=True, text=True, timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"DDP worker failed:\n{done.stderr}")
        return [torch.load(f"{out}{rank}.pt") for rank in range(world)]


ranks = run_workers(WORKER)
print(f"results from {len(ranks)} processes: {sorted(ranks[0])}")

# %%
# DDP averages
# ------------
# After a synchronised ``backward()`` both processes hold the same gradient:
# the mean of the two shard gradients, which here is the full-batch gradient
# of the single process.
for rank, res in enumerate(ranks):
    print(f"rank {rank}, synchronised: {res['synced']}")
    torch.testing.assert_close(res["synced"], full)

# %%
# ``no_sync()`` skips the all-reduce: each process keeps the gradient of its
# own shard, and the two differ.
for rank, res in enumerate(ranks):
    print(f"rank {rank}, under no_sync: {res['local']}")
    torch.testing.assert_close(res["local"], shards[rank])
assert not torch.allclose(ranks[0]["local"], ranks[1]["local"])

# %%
# Gradient accumulation with ``no_sync``
# --------------------------------------
# Inside ``no_sync()`` gradients accumulate locally; the next synchronised
# ``backward()`` all-reduces the *accumulated* gradient. With each of the two
# micro-batch losses scaled by :math:`\frac12`, the result is again the
# full-batch gradient, with one all-reduce instead of two.
for rank, res in enumerate(ranks):
    print(f"rank {rank}, accumulated: {res['accumulated']}")
    torch.testing.assert_close(res["accumulated"], full)

# %%
# Each process's shard gradient and the synchronised average, component by
# component: the average lies halfway between the shards.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.2))
positions = [0.0, 1.0, 2.0]
for i, (label, g) in enumerate(
    [("rank 0, no_sync", ranks[0]["local"]),
     ("rank 1, no_sync", ranks[1]["local"]),
     ("synchronised (both ranks)", ranks[0]["synced"])]
):
    shifted = [p + (i - 1) * 0.27 for p in positions]
    ax.bar(shifted, g[0].tolist(), width=0.27, label=label)
ax.set_xticks(positions, [f"$\\partial L/\\partial w_{j}$" for j in range(3)])
ax.axhline(0, color="0.3", lw=0.8)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Questions this page settles
# ---------------------------
# From PyTorch's trackers: are DDP gradients summed or averaged, and is a
# manual ``average_gradients`` still needed (pytorch/tutorials issue #2305,
# and pull request #42471 on the docs)? How ``no_sync`` and the
# synchronisation that follows it work (issue #53443). The answers:
# averaged, no manual step; ``no_sync`` accumulates locally and the next
# synchronised backward averages the accumulated gradients.
#
# Conclusion
# ----------
# DDP averages gradients over processes during ``backward()``: with a mean
# loss and equal shards, every process holds the single-process full-batch
# gradient. ``no_sync()`` keeps gradients local, so micro-batch accumulation
# needs one all-reduce per optimizer step. The average is over *processes*,
# not samples: a summed loss or unequal shards need their own scaling.
#
# Exercises
# ---------
# 1. Each process uses ``reduction="sum"`` on its shard. What does DDP return,
#    compared with the single-process gradient of the summed loss?
# 2. Shards of 3 and 5 samples with a mean loss each. Show, in one process,
#    that the plain average of the two shard gradients is not the full-batch
#    gradient, and find the weights that fix it (the worker used them:
#    compare).

# %%
# Solution to exercise 1
# ~~~~~~~~~~~~~~~~~~~~~~
full_sum = weight_grad(X, y, reduction="sum")
print(f"DDP with summed losses: {ranks[0]['sum']}")
print(f"single process, sum:    {full_sum}")
torch.testing.assert_close(ranks[0]["sum"], full_sum / 2)

# %%
# The average over :math:`P = 2` processes halves the summed gradient: the
# learning rate then depends on the number of processes.

# %%
# Solution to exercise 2
# ~~~~~~~~~~~~~~~~~~~~~~
g3 = weight_grad(X[:3], y[:3])
g5 = weight_grad(X[3:], y[3:])
plain = (g3 + g5) / 2
weighted = (2 * 3 / 8 * g3 + 2 * 5 / 8 * g5) / 2  # P n_p / N, then DDP's 1/P
print(f"plain average {plain}\nweighted      {weighted}")
assert not torch.allclose(plain, full)
torch.testing.assert_close(weighted, full)
torch.testing.assert_close(ranks[1]["uneven"], full)
