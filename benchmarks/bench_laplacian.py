"""Laplacian speed: gradkit's forward (Taylor-mode) path against the nested backward loop,
and against jet-for-pytorch's collapsed Taylor mode when it is importable.

Usage::

    python benchmarks/bench_laplacian.py [--quick] [--repeats 7] [--out r.json] [--md r.md]
    python benchmarks/bench_laplacian.py --render r.json --md r.md   # no timing
    python benchmarks/bench_laplacian.py --profile fourier 100 train   # where one cell's time goes

Float32, N = 4096 points, d in {2, 10, 50, 100}; three networks (a 3x64 tanh MLP, a residual
tanh MLP, a Fourier-feature network); two modes: ``value`` (the Laplacian only, no graph kept)
and ``train`` (the Laplacian with its graph, then ``backward`` of its mean square to the
weights). Every method of a cell runs in the same process, interleaved round by round, after
two warm-up rounds; the figure is the median of ``--repeats`` rounds (with the fastest and
slowest round, where the results file has them), and a ratio is the median over the rounds
of the method's time over the nested loop's in the same round. Medians that contradict the
work they measure (``train`` faster than ``value``, or a larger ``d`` faster than a smaller
one, for one method) mark their rows ``noise``, and those rows get no target verdict. Every
method's result is checked against the nested loop's before timing. A second table compares
the stochastic Laplacian (Hutchinson, 16 Rademacher probes, forward path) with the exact
forward Laplacian at d = 100 and 1000: time, and the relative RMS error over the points. A
third table runs gradkit's forward Laplacian under ``torch.compile(fullgraph=True)`` against
eager gradkit, for the MLP and the ResMLP at d = 2, 10, 50; the first call of the compiled
function (the compile time, with an empty Inductor cache) is reported apart.
The compiled nested loop is left out: its second backward pass runs through the compiled
forward, which torch refuses ("torch.compile with aot_autograd does not currently support
double backward").

jet-for-pytorch needs Python >= 3.12: ``make bench`` runs this script in a separate venv
(``make bench-venv``, from ``requirements/bench-jet.lock``) where gradkit, jet and the
site's torch are installed together, so that all methods share one torch build. Without jet
the jet column is left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import gradkit as gk  # noqa: E402

try:  # jet-for-pytorch 1.0 (Python >= 3.12)
    from jet import laplacian as jet_laplacian  # type: ignore[import-not-found]
except ImportError:
    jet_laplacian = None
_JET_CACHE: dict[int, tuple[nn.Module, Callable[[Tensor], Tensor]]] = {}

N, WIDTH = 4096, 64
DEVICE = "cpu"
# The environment variables that change how memory is got from the system, recorded with a
# run: glibc's malloc tunables, PyTorch's transparent-huge-page allocation, a preloaded malloc.
ALLOCATOR_SETTINGS = ("GLIBC_TUNABLES", "THP_MEM_ALLOC_ENABLE", "LD_PRELOAD")


def _sync() -> None:
    if DEVICE != "cpu":
        torch.cuda.synchronize()


class MLP(nn.Module):
    """d -> 64 -> 64 -> 64 -> 1, tanh."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, WIDTH), nn.Tanh(), nn.Linear(WIDTH, WIDTH),
                                 nn.Tanh(), nn.Linear(WIDTH, WIDTH), nn.Tanh(),
                                 nn.Linear(WIDTH, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ResMLP(nn.Module):
    """d -> 64, two residual tanh blocks, -> 1."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.inp = nn.Linear(d, WIDTH)
        self.b1, self.b2 = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)
        self.out = nn.Linear(WIDTH, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(self.inp(x))
        h = h + torch.tanh(self.b1(h))
        h = h + torch.tanh(self.b2(h))
        return self.out(h)


class Fourier(nn.Module):
    """Fixed Fourier features [sin(2 pi x B), cos(2 pi x B)] (64) -> 64 -> 64 -> 1, tanh."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.register_buffer("B", torch.randn(d, WIDTH // 2))
        self.l1, self.l2 = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)
        self.out = nn.Linear(WIDTH, 1)

    def forward(self, x: Tensor) -> Tensor:
        z = 2 * math.pi * (x @ self.B)
        h = torch.cat([torch.sin(z), torch.cos(z)], dim=-1)
        h = torch.tanh(self.l1(h))
        h = torch.tanh(self.l2(h))
        return self.out(h)


MODELS: dict[str, Callable[[int], nn.Module]] = {"mlp": MLP, "resmlp": ResMLP,
                                                  "fourier": Fourier}


def _nested(net: nn.Module, x: Tensor, train: bool) -> Tensor:
    xr = x.detach().requires_grad_()
    return gk.laplacian(net(xr), xr, create_graph=train)


def _gradkit(net: nn.Module, x: Tensor, train: bool) -> Tensor:
    with torch.set_grad_enabled(train):
        return gk.laplacian(net, x, create_graph=train, strict=True)


def _jet(net: nn.Module, x: Tensor, train: bool) -> Tensor:
    """jet's collapsed Laplacian of one point, vmapped over the points (traced once per net)."""
    cached = _JET_CACHE.get(id(net))
    if cached is None or cached[0] is not net:
        cached = (net, torch.vmap(jet_laplacian(net, (x.new_zeros(x.shape[1]),))))
        _JET_CACHE[id(net)] = cached
    with torch.set_grad_enabled(train):
        return cached[1](x)


def _methods() -> dict[str, Callable[[nn.Module, Tensor, bool], Tensor]]:
    out = {"nested": _nested, "gradkit": _gradkit}
    if jet_laplacian is not None:
        out["jet"] = _jet
    return out


def _minor_faults() -> int:
    """The process's minor page faults so far: pages the kernel mapped (and zeroed) on first
    touch. An operator profile counts their time in the operator that touched the pages."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _run(f: Callable[[nn.Module, Tensor, bool], Tensor], net: nn.Module, x: Tensor,
         train: bool) -> tuple[float, int]:
    """One call's time (s) and the minor page faults it took."""
    _sync()
    faults = _minor_faults()
    t0 = time.perf_counter()
    lap = f(net, x, train)
    if train:
        lap.square().mean().backward()
    _sync()
    return time.perf_counter() - t0, _minor_faults() - faults


def _cell_inputs(model: str, d: int, mode: str, n: int) -> tuple[nn.Module, Tensor, bool]:
    """One cell's network, points and whether it trains, the same for every table."""
    torch.manual_seed(0)
    net = MODELS[model](d).to(DEVICE)
    x = torch.rand(n, d, generator=torch.Generator().manual_seed(1)).to(DEVICE)
    return net, x, mode == "train"


def bench_cell(model: str, d: int, mode: str, repeats: int, n: int) -> dict[str, object]:
    net, x, train = _cell_inputs(model, d, mode, n)
    methods = _methods()
    ref = _nested(net, x, False).reshape(-1)
    scale = ref.abs().max().item()
    for name, f in methods.items():
        got = f(net, x, False).reshape(-1).detach()
        err = (got - ref).abs().max().item()
        assert err <= 1e-3 * max(scale, 1.0), (model, d, name, err, scale)
    times: dict[str, list[float]] = {k: [] for k in methods}
    faults: dict[str, list[int]] = {k: [] for k in methods}
    for r in range(repeats + 2):
        for name, f in methods.items():
            net.zero_grad(set_to_none=True)
            t, pf = _run(f, net, x, train)
            if r >= 2:
                times[name].append(t)
                faults[name].append(pf)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"model": model, "d": d, "mode": mode, "n": n, "median_s": med,
            "ratio": _paired_ratios(times, "nested"), "rounds_s": times,
            "faults_median": {k: statistics.median(v) for k, v in faults.items()}}


def _paired_ratios(times: dict[str, list[float]], base: str) -> dict[str, float]:
    """Each method's median over rounds of its time divided by ``base``'s in the same round.

    The methods of a round run back to back, so a slow spell of the machine (another
    process, a frequency change) slows all of them; the ratio of medians mixes rounds and
    is only as steady as the noisiest method.
    """
    return {k: statistics.median(t / b for t, b in zip(v, times[base], strict=True))
            for k, v in times.items()}


def bench_compiled(model: str, d: int, mode: str, repeats: int, n: int) -> dict[str, object]:
    """Eager gradkit against compiled gradkit, one cell (compiled afresh)."""
    torch.compiler.reset()  # one compiled function per cell, not a recompile of the last
    # A cold compile: Inductor's on-disk cache would otherwise serve an earlier run's code.
    cache = tempfile.mkdtemp(prefix="bench-inductor-")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    net, x, train = _cell_inputs(model, d, mode, n)
    fast = torch.compile(lambda z: gk.laplacian(net, z, create_graph=train, strict=True),
                         fullgraph=True, dynamic=False)

    def compiled(net: nn.Module, x: Tensor, train: bool) -> Tensor:
        with torch.set_grad_enabled(train):  # as _gradkit
            return fast(x)

    methods = {"gradkit": _gradkit, "gradkit_compiled": compiled}
    compile_s, _ = _run(compiled, net, x, train)
    ref = _gradkit(net, x, False).reshape(-1)
    for name, f in methods.items():
        err = (f(net, x, False).reshape(-1).detach() - ref).abs().max().item()
        assert err <= 1e-4 * max(ref.abs().max().item(), 1.0), (model, d, name, err)
    times: dict[str, list[float]] = {k: [] for k in methods}
    for r in range(repeats + 2):
        for name, f in methods.items():
            net.zero_grad(set_to_none=True)
            t, _ = _run(f, net, x, train)
            if r >= 2:
                times[name].append(t)
    shutil.rmtree(cache, ignore_errors=True)  # the compiled code is loaded; one cell's cache
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"model": model, "d": d, "mode": mode, "n": n, "median_s": med,
            "ratio": _paired_ratios(times, "gradkit"), "rounds_s": times,
            "first_call_s": compile_s}


def bench_stochastic(d: int, n: int, repeats: int, samples: int = 16) -> dict[str, object]:
    torch.manual_seed(0)
    net = MLP(d).to(DEVICE)
    x = torch.rand(n, d, generator=torch.Generator().manual_seed(1)).to(DEVICE)
    exact = gk.laplacian(net, x, create_graph=False, strict=True).reshape(-1)
    errs = []
    for seed in range(repeats):
        est = gk.laplacian_estimate(net, x, samples=samples, create_graph=False, strict=True,
                                    generator=torch.Generator().manual_seed(seed)).reshape(-1)
        errs.append(((est - exact).square().mean().sqrt() / exact.square().mean().sqrt()).item())
    t_exact, t_est = [], []
    for r in range(repeats + 1):
        _sync()
        t0 = time.perf_counter()
        gk.laplacian(net, x, create_graph=False, strict=True)
        _sync()
        t1 = time.perf_counter()
        gk.laplacian_estimate(net, x, samples=samples, create_graph=False, strict=True,
                              generator=torch.Generator().manual_seed(r))
        _sync()
        t2 = time.perf_counter()
        if r:
            t_exact.append(t1 - t0)
            t_est.append(t2 - t1)
    return {"d": d, "n": n, "samples": samples, "exact_s": statistics.median(t_exact),
            "estimate_s": statistics.median(t_est), "rel_rms_error": statistics.mean(errs),
            "rel_rms_error_sd": statistics.stdev(errs)}


def profile_cell(model: str, d: int, mode: str, repeats: int, n: int = N, rows: int = 12) -> None:
    """Print each method's operator time per call and its operators by self CPU time, over
    ``repeats`` calls of one cell (after two warm-up calls)."""
    from torch.profiler import ProfilerActivity, profile

    net, x, train = _cell_inputs(model, d, mode, n)
    for name, f in _methods().items():
        for _ in range(2):
            _run(f, net, x, train)
        wall, faults = 0.0, 0
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(repeats):
                net.zero_grad(set_to_none=True)
                t, pf = _run(f, net, x, train)
                wall, faults = wall + t, faults + pf
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        print(f"\n## {model} d={d} {mode}: {name}, {repeats} calls, per call: "
              f"{1e3 * wall / repeats:.1f} ms wall, {total / 1e3 / repeats:.1f} ms of operator "
              f"time, {faults // repeats} minor page faults")
        print(events.table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="d in {2, 10}, N = 512, 3 repeats")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", type=Path)
    p.add_argument("--md", type=Path)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--render", type=Path,
                   help="write --md from this recorded results file, without timing")
    p.add_argument("--only-compiled", action="store_true", help="the compiled table alone")
    p.add_argument("--only-laplacian", action="store_true",
                   help="the Laplacian table alone: no stochastic, no compiled table")
    p.add_argument("--profile", nargs=3, metavar=("MODEL", "D", "MODE"),
                   help="where one cell's time goes: torch.profiler's operators, per method")
    a = p.parse_args()
    if a.profile:
        torch.set_num_threads(1)
        profile_cell(a.profile[0], int(a.profile[1]), a.profile[2], a.repeats)
        return
    if a.render:
        data = json.loads(a.render.read_text())
        a.md.write_text(markdown(data["meta"], data["cells"], data["stochastic"])
                        + compiled_markdown(data.get("compiled", [])))
        return
    global DEVICE
    DEVICE = a.device
    torch.set_num_threads(1)
    dims, n, repeats = ([2, 10], 512, 3) if a.quick else ([2, 10, 50, 100], N, a.repeats)
    cells: list[dict[str, object]] = []
    stoch: list[dict[str, object]] = []
    if not a.only_compiled:
        for model in MODELS:
            for d in dims:
                for mode in ("value", "train"):
                    c = bench_cell(model, d, mode, repeats, n)
                    print(json.dumps(c), flush=True)
                    cells.append(c)
        stoch = [bench_stochastic(d, nn_, repeats) for d, nn_ in
                 ([(100, 512)] if a.quick else [(100, N), (1000, 256)])
                 if not a.only_laplacian]
        for s in stoch:
            print(json.dumps(s), flush=True)
    comp = []
    for model in ("mlp", "resmlp") if not a.only_laplacian else ():
        for d in [d for d in dims if d <= 50]:
            for mode in ("value", "train"):
                c = bench_compiled(model, d, mode, repeats, n)
                print(json.dumps(c), flush=True)
                comp.append(c)
    meta = {"torch": torch.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "machine": platform.processor() or
            platform.machine(), "platform": platform.platform(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "repeats": repeats, "jet": jet_laplacian is not None,
            "device": DEVICE if DEVICE == "cpu" else torch.cuda.get_device_name(),
            "allocator": {k: os.environ[k] for k in ALLOCATOR_SETTINGS if k in os.environ}}
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({"meta": meta, "cells": cells, "stochastic": stoch,
                                     "compiled": comp}, indent=1))
    if a.md:
        a.md.parent.mkdir(parents=True, exist_ok=True)
        # --only-compiled times no cell of the first two tables
        a.md.write_text((markdown(meta, cells, stoch) if cells else "") + compiled_markdown(comp))


def _allocator(meta: dict[str, Any]) -> str:
    env = meta.get("allocator")
    if env is None:
        return "allocator settings not recorded"
    if not env:
        return "the system allocator's defaults"
    return "allocator settings " + ", ".join(f"`{k}={v}`" for k, v in env.items())


def _faults(c: dict[str, Any], methods: list[str]) -> str:
    f = c.get("faults_median")
    return " / ".join(f"{f[m]:.0f}" for m in methods) if f else "-"


def _target(c: dict[str, object]) -> str:
    """The issue's targets: train <= 0.5x and value <= 0.6x at d >= 10; never slower than jet."""
    r = c["ratio"]
    assert isinstance(r, dict)
    ok = []
    if int(c["d"]) >= 10:  # type: ignore[call-overload]
        limit = 0.5 if c["mode"] == "train" else 0.6
        ok.append(r["gradkit"] <= limit)
    if "jet" in r:
        ok.append(r["gradkit"] <= r["jet"])
    return "-" if not ok else ("met" if all(ok) else "MISSED")


def inconsistent(cells: list[dict[str, Any]]) -> set[tuple[str, int, str]]:
    """Rows whose medians contradict the work measured, for some method: ``train`` (the
    Laplacian plus a backward pass) faster than ``value`` at the same d, or a larger d faster
    than the next smaller one in the same mode. Such a difference is noise of the machine,
    not a result."""
    med = {(c["model"], c["d"], c["mode"]): c["median_s"] for c in cells}
    bad: set[tuple[str, int, str]] = set()
    for (model, d, mode), times in med.items():
        train = med.get((model, d, "train"))
        larger = sorted(dd for (mm, dd, md) in med if mm == model and md == mode and dd > d)
        nxt = med[(model, larger[0], mode)] if larger else None
        for method, t in times.items():
            if mode == "value" and train is not None and train[method] < t:
                bad |= {(model, d, "value"), (model, d, "train")}
            if nxt is not None and nxt[method] < t:
                bad |= {(model, d, mode), (model, larger[0], mode)}
    return bad


def _time(c: dict[str, Any], method: str) -> str:
    """The median, and the fastest and slowest round where they were recorded."""
    m, rounds = c["median_s"][method], c.get("rounds_s")
    if rounds is None:
        return f"{m:.4f}"
    return f"{m:.4f} ({min(rounds[method]):.4f}-{max(rounds[method]):.4f})"


def markdown(meta: dict[str, object], cells: list[dict[str, object]],
             stoch: list[dict[str, object]]) -> str:
    has_jet = bool(meta["jet"])
    head = "| model | d | mode | nested (s) | gradkit (s) | gradkit / nested |"
    head += " jet (s) | jet / nested |" if has_jet else ""
    methods = ["nested", "gradkit"] + (["jet"] if has_jet else [])
    head += f" page faults per call ({' / '.join(methods)}) | target |"
    bad = inconsistent(cells)
    spread = any("rounds_s" in c for c in cells)
    lines = [f"Recorded with `make bench-laplacian` (`benchmarks/bench_laplacian.py`): "
             f"{meta.get('date', 'date not recorded')}; {meta['device']} "
             f"({meta.get('platform', meta['machine'])}); torch {meta['torch']}, "
             f"Python {meta['python']}, {meta['threads']} CPU thread(s); {_allocator(meta)}; "
             f"median of {meta['repeats']} interleaved rounds"
             + (" (fastest-slowest round in brackets)" if spread else
                " (the run did not record the spread of the rounds)")
             + "; a ratio is the median of the per-round ratios; "
             f"float32, N = {cells[0]['n']}. "
             f"{len(bad)} of {len(cells)} rows are marked `noise`: for some method, `train` "
             "was faster than `value` at the same d, or a larger d faster than a smaller one, "
             "which the work measured rules out; they get no target verdict.", "",
             head, "|" + "---|" * (head.count("|") - 1)]
    for c in cells:
        r = c["ratio"]
        assert isinstance(r, dict)
        row = (f"| {c['model']} | {c['d']} | {c['mode']} | {_time(c, 'nested')} | "
               f"{_time(c, 'gradkit')} | {r['gradkit']:.2f} |")
        if has_jet:
            row += f" {_time(c, 'jet')} | {r['jet']:.2f} |"
        verdict = "noise" if (c["model"], c["d"], c["mode"]) in bad else _target(c)
        lines.append(row + f" {_faults(c, methods)} | {verdict} |")
    if stoch:
        lines += ["", "| d | N | probes | exact forward (s) | estimate (s) | relative RMS error |",
                  "|---|---|---|---|---|---|"]
    for s in stoch:
        lines.append(f"| {s['d']} | {s['n']} | {s['samples']} Rademacher | {s['exact_s']:.4f} "
                     f"| {s['estimate_s']:.4f} | {s['rel_rms_error']:.3f} "
                     f"(sd {s['rel_rms_error_sd']:.3f}) |")
    return "\n".join(lines) + "\n"


def compiled_markdown(comp: list[dict[str, object]]) -> str:
    if not comp:
        return ""
    lines = ["", "| model | d | mode | eager gradkit (s) | compiled (s) | compiled / eager "
             "| first compiled call (s, empty compile cache) |", "|---|---|---|---|---|---|---|"]
    for c in comp:
        m, r = c["median_s"], c["ratio"]
        assert isinstance(m, dict) and isinstance(r, dict)
        lines.append(f"| {c['model']} | {c['d']} | {c['mode']} | {m['gradkit']:.4f} | "
                     f"{m['gradkit_compiled']:.4f} | {r['gradkit_compiled']:.2f} | "
                     f"{c['first_call_s']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
