"""Markdown tables of the saved results, for bench/README.md.

.venv/bin/python bench/lib/report.py > /tmp/tables.md
.venv/bin/python bench/lib/report.py s1_recorded      # one results file
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def f(value: object, digits: int = 1) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value) if value not in (None, "") else "-"


def md(headers: list[str], rows: list[list[object]]) -> str:
    out = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|",
    ]
    out += ["| " + " | ".join(f(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def s1(name: str = "s1") -> str:
    data = load(name)
    if not data:
        return f"(no {name}.json)"
    if data["args"].get("guesses") == "recorded":
        return s1_recorded(name)
    rows = []
    for r in data["rows"]:
        refused = sum(v for k, v in r["replies"].items() if k.startswith("error:"))
        rows.append([
            r["target"], r["players"], r["p50_ms"], r["p99_ms"], r.get("p99_ms_best", float("nan")), r["final_ms"],
            r["cpu_s"], r["hwm_mib"], r.get("p99_ms_ratio", ""), r.get("final_ms_ratio", ""), r.get("cpu_s_ratio", ""),
            f"{r['accepted_guesses']}/{r['accepted_guesses'] + refused}",
            r.get("redis_round_trips_per_accepted_guess", float("nan")),
        ])  # fmt: skip
    m = data["machine"]
    head = f"{m['date']}, {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB; args {data['args']}\n\n"
    return head + md(
        ["server", "P", "p50 ms", "p99 ms", "p99 best burst", "final ms", "CPU s", "peak RSS MiB",
         "p99 vs ref", "final vs ref", "CPU vs ref", "accepted/guesses", "Redis trips per accepted guess"],
        rows,
    )  # fmt: skip


def s1_recorded(name: str = "s1_recorded") -> str:
    """S1 ``--guesses recorded``: issue 11's figures, each with its ratio to the reference."""
    data = load(name)
    if not data:
        return f"(no {name}.json)"
    by = {(r["target"], r["players"]): r for r in data["rows"]}

    def cell(r: dict, key: str, digits: int = 1) -> str:
        ref = by.get(("ref-coalesce", r["players"]))
        if key not in r:
            return "-"  # not measured by this run's version of the script
        value = f(r[key], digits)
        if ref is None or r is ref or not ref.get(key):
            return value
        return f"{value} ({r[key] / ref[key]:.1f}x)"

    rows = []
    for r in data["rows"]:
        rows.append([
            r["target"], r["players"], f"{r['rounds_complete']}/{data['args']['bursts']}",
            f"{r['accepted_guesses']:,}/{r['guesses']:,.0f}", cell(r, "cpu_s", 2),
            cell(r, "cpu_ms_per_guess", 2), cell(r, "p50_ms"), cell(r, "p99_ms"), cell(r, "final_ms"),
            cell(r, "kb_per_player"), cell(r, "kb_wire_per_player"), f(r["player_state_kb_max"]),
            f(r["kb_to_host"], 0),
            f(r["load_util"], 2), f(r["load_util_peak_1s"], 2),
        ])  # fmt: skip
    m = data["machine"]
    head = (
        f"{m['date']}, {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB; ritrovo "
        f"{m.get('ritrovo', '?')}; args {data['args']}\n\n"
    )
    scale = "".join(
        f"\n{t}: CPU per guess {s['small_ms']:.2f} ms at P={s['small_p']:,}, {s['large_ms']:.2f} ms at "
        f"P={s['large_p']:,}: **{s['ratio']:.2f}x**\n"
        for t, s in data.get("cpu_per_guess_scaling", {}).items()
    )
    headers = ["server", "P", "rounds done", "recorded/guesses", "CPU s per round", "CPU ms per guess",
               "ack p50 ms", "ack p99 ms", "last guess -> final ms", "KB per player", "wire KB per player",
               "largest player state KB", "KB to host", "load core share", "load core, worst 1 s"]  # fmt: skip
    return head + md(headers, rows) + "\n" + scale


def s2(name: str = "s2") -> str:
    data = load(name)
    if not data:
        return f"(no {name}.json)"
    rows = [[r["target"], r["lines"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["cpu_pct"], r.get("p99_ms_ratio", ""),
             r.get("cpu_pct_ratio", ""), r["missing"], r.get("redis_round_trips_per_line", float("nan"))]
            for r in data["rows"]]  # fmt: skip
    m = data["machine"]
    head = f"{m['date']}, {m['cores']} cores, {m['memory_gib']} GiB; args {data['args']}\n\n"
    return head + md(["server", "lines", "p50 ms", "p99 ms", "max ms", "CPU %", "p99 vs ref", "CPU vs ref",
                      "deliveries missing", "Redis trips per line"], rows)  # fmt: skip


def s3(name: str = "s3") -> str:
    data = load(name)
    if not data:
        return f"(no {name}.json)"
    rows = [[r["target"], r["connections"], r["failures"], r["kib_per_conn"], r["rss_mib"], r["accept_per_s"],
             r["server_cpu_ms_per_conn"], r.get("kib_per_conn_ratio", ""), r.get("accept_per_s_ratio", "")]
            for r in data["rows"]]  # fmt: skip
    m = data["machine"]
    head = f"{m['date']}, {m['cores']} cores, {m['memory_gib']} GiB, open-files limit {m.get('open_files_limit')}; args {data['args']}\n\n"
    return head + md(["server", "connections held", "failed", "KiB per connection", "RSS MiB", "accepted per s",
                      "server CPU ms per connection", "KiB vs ref", "accept/s vs ref"], rows)  # fmt: skip


def s4(name: str = "s4") -> str:
    data = load(name)
    if not data:
        return f"(no {name}.json)"
    rows = [[r["phase"], r["count"], r["round_trips_per_item"],
             ", ".join(f"{k} {v}" for k, v in r["round_trips"].items()) or "-",
             r["inner_per_item"], r["commandstats_per_item"], r["background_per_s"]] for r in data["rows"]]  # fmt: skip
    return md(["phase", "n", "round trips per item", "round trips by kind", "commands inside scripts per item",
               "INFO commandstats calls per item", "background per s"], rows)  # fmt: skip


if __name__ == "__main__":
    which = sys.argv[1:] or ["s1", "s2", "s3", "s4"]
    for name in which:
        fn = (
            s1_recorded
            if name.startswith("s1_recorded")
            else {"s1": s1, "s2": s2, "s3": s3, "s4": s4}[name[:2]]
        )
        print(f"### {name}\n\n{fn(name)}\n")
