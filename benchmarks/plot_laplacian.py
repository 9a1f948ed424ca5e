"""Plot the Laplacian benchmark: time against d, one panel per network and mode; medians
of the rows the table marks ``noise`` are crossed out.

Usage::

    python benchmarks/plot_laplacian.py benchmarks/results/laplacian.json --out plot.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from bench_laplacian import inconsistent  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    data = json.loads(a.results.read_text())
    cells = data["cells"]
    bad = inconsistent(cells)
    models = list(dict.fromkeys(c["model"] for c in cells))
    modes = ["value", "train"]
    fig, axes = plt.subplots(len(modes), len(models), figsize=(4 * len(models), 6.5),
                             sharex=True, squeeze=False)
    for i, mode in enumerate(modes):
        for j, model in enumerate(models):
            ax = axes[i][j]
            sel = sorted((c for c in cells if c["model"] == model and c["mode"] == mode),
                         key=lambda c: c["d"])
            noisy = [c for c in sel if (c["model"], c["d"], c["mode"]) in bad]
            for method, style in (("nested", "o-"), ("gradkit", "s-"), ("jet", "^--")):
                if method in sel[0]["median_s"]:
                    ax.plot([c["d"] for c in sel], [1e3 * c["median_s"][method] for c in sel],
                            style, label=method)
                    ax.plot([c["d"] for c in noisy],
                            [1e3 * c["median_s"][method] for c in noisy], "kx", ms=10,
                            label="noise (see the table)" if method == "nested" else None)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{model}, {mode}")
            ax.set_xlabel("input dimension d")
            ax.set_ylabel("time (ms)")
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend()
    meta = data["meta"]
    fig.suptitle(f"Laplacian of N = {cells[0]['n']} points, float32, torch {meta['torch']}, "
                 f"{meta['threads']} thread, median of {meta['repeats']}")
    fig.tight_layout()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=110)


if __name__ == "__main__":
    main()
