"""Plot W1 (Laplacian) time against input dimension d from a bench_gradkit.py JSON file.

Usage::

    python benchmarks/plot_results.py [results.json] [--out plot.png] [--n 4096] [--mode train]

One line per method; by default the largest N and the ``train`` mode (Laplacian plus a
backward pass to the weights) recorded in the file.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent


Series = dict[str, list[tuple[int, float]]]


def _w1_series(data: dict, n: int | None, mode: str) -> tuple[int, Series]:
    """Return the N used and, per method, the (d, time in ms) points of W1."""
    cases = []
    for case in data["results"]:
        m = re.match(r"N=(\d+) d=(\d+) (\w+)", case["case"])
        if case["workload"] == "W1" and m and m.group(3) == mode:
            cases.append((int(m.group(1)), int(m.group(2)), case))
    if not cases:
        raise SystemExit(f"plot_results: no W1 cases in {mode!r} mode in the results file.")
    n = max(c[0] for c in cases) if n is None else n
    series: Series = {}
    for n_c, d, case in cases:
        if n_c != n:
            continue
        for row in case["methods"]:
            if "time_ms" in row:
                series.setdefault(row["method"], []).append((d, row["time_ms"]))
    return n, series


def plot(data: dict, out: Path, n: int | None = None, mode: str = "train") -> Path:
    """Save the W1 time-against-d plot to ``out`` and return the path."""
    n, series = _w1_series(data, n, mode)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, pts in sorted(series.items()):
        pts.sort()
        style = "-o" if method.startswith("gradkit") else "--."
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            style,
            label=method,
            linewidth=2.2 if method.startswith("gradkit") else 1.2,
        )
    m = data["machine"]
    ax.set(
        xlabel="input dimension d",
        ylabel="time per call (ms, median)",
        yscale="log",
        title=f"Laplacian of a d -> 64x4 -> 1 tanh MLP, N = {n}, {mode}\n"
        f"{m['device']}, {m['threads']} threads, torch {m['torch']}",
    )
    ax.set_xticks(sorted({p[0] for pts in series.values() for p in pts}))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, read the JSON and save the PNG."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="?", type=Path, default=HERE / "results" / "cpu.json")
    p.add_argument("--out", type=Path, default=HERE / "results" / "w1_laplacian.png")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--mode", choices=["value", "train"], default="train")
    args = p.parse_args(argv)
    print(plot(json.loads(args.results.read_text()), args.out, args.n, args.mode))


if __name__ == "__main__":
    main()
