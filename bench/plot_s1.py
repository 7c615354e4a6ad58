"""Plot S1 guess->verdict latency against P for both stores (and the reference server).

Reads bench/results/s1.json (written by s1_quiz_burst.py) and writes
bench/s1_latency.png. Needs matplotlib, a bench-only tool:
``.venv/bin/pip install matplotlib`` (not a runtime dependency of Ritrovo).

    .venv/bin/python bench/plot_s1.py [--results bench/results/s1.json] [--out bench/s1_latency.png]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

BENCH = Path(__file__).resolve().parent

STYLE = {
    "memory": ("Ritrovo, memory store", "tab:blue", "o"),
    "redis": ("Ritrovo, Redis store", "tab:red", "s"),
    "ref-coalesce": ("reference, coalescing 100 ms", "tab:green", "^"),
    "ref-per-message": ("reference, broadcast per message", "tab:gray", "v"),
}


# Experiments (bench/lib/patched_serve.py): candidate fixes patched into the server.
EXPERIMENTS = [
    ("s1-exp-decoded", "memory + room lock + decoded-room cache (experiment)", "tab:purple", "D"),
    ("s1-exp-small", "... + own-team player lists (experiment)", "tab:orange", "P"),
    ("s1-exp-all", "... + no deflate (experiment)", "black", "*"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=Path, default=BENCH / "results" / "s1.json")
    parser.add_argument("--out", type=Path, default=BENCH / "s1_latency.png")
    args = parser.parse_args()
    if not args.results.exists():
        print(f"plot: no results yet ({args.results}); run bench/s1_quiz_burst.py first")
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("plot: matplotlib is not installed (.venv/bin/pip install matplotlib); skipping")
        return
    data = json.loads(args.results.read_text())
    rows = data["rows"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, key, title in ((axes[0], "p50_ms", "p50"), (axes[1], "p99_ms", "p99")):
        for target, (label, color, marker) in STYLE.items():
            points = sorted(
                (r["players"], r[key])
                for r in rows
                if r["target"] == target and not math.isnan(r[key])
            )
            if points:
                ax.plot(
                    [p for p, _ in points],
                    [v for _, v in points],
                    marker=marker,
                    color=color,
                    label=label,
                )
        for name, label, color, marker in EXPERIMENTS:
            path = args.results.parent / f"{name}.json"
            if path.exists():
                exp = [r for r in json.loads(path.read_text())["rows"] if not math.isnan(r[key])]
                if exp:
                    ax.scatter(
                        [r["players"] for r in exp],
                        [r[key] for r in exp],
                        color=color,
                        marker=marker,
                        s=70,
                        label=label,
                        zorder=5,
                    )
        if key == "p99_ms":
            ax.axhline(
                60,
                color="black",
                linestyle="--",
                linewidth=1,
                label="target p99 (memory, P=2000): 60 ms",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("players P (one room, 20 teams)")
        ax.set_title(f"S1 quiz burst: guess -> verdict latency, {title}")
        ax.grid(True, which="both", alpha=0.3)
        ps = sorted({r["players"] for r in rows})
        ax.set_xticks(ps)
        ax.set_xticklabels([str(p) for p in ps])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes[0].set_ylabel("milliseconds (log scale)")
    axes[1].legend(fontsize=7, loc="lower right")
    m = data.get("machine", {})
    fig.suptitle(
        f"{m.get('date', '')}: {m.get('cores', '?')} cores, {m.get('memory_gib', '?')} GiB; server on core 0, load on core 1; "
        "machine shared with other test runs",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"plot: wrote {args.out}")


if __name__ == "__main__":
    main()
