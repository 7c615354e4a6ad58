"""The Rust load worker (bench/loadgen/, ``--client rust``): where it is, and building it.

``bench/loadgen`` is a bench-only tool with no dependencies beyond Rust's
standard library (no crates.io access needed). It speaks the stdin/stdout
protocol of ``bench/lib/worker.py`` for the S1 job, and uses a fraction of the
CPU per frame that the Python worker does, so at P = 2,000 the load core is
not the bottleneck of the measurement.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

LOADGEN = Path(__file__).resolve().parents[1] / "loadgen"
BINARY = LOADGEN / "target" / "release" / "ritrovo-loadgen"


def _stale() -> bool:
    if not BINARY.exists():
        return True
    built = BINARY.stat().st_mtime
    sources = [LOADGEN / "Cargo.toml", *(LOADGEN / "src").glob("*.rs")]
    return any(p.stat().st_mtime > built for p in sources)


def ensure_built() -> Path:
    """The worker binary, built (``cargo build --release --offline``) if missing or older than its sources."""
    if not _stale():
        return BINARY
    cargo = shutil.which("cargo")
    if cargo is None:
        if BINARY.exists():
            print("  (cargo not found: using the existing, older ritrovo-loadgen build)")
            return BINARY
        raise SystemExit(
            "--client rust needs the Rust load worker: install Rust (cargo), or build it "
            "elsewhere with `cd bench/loadgen && cargo build --release`"
        )
    print("  building bench/loadgen (cargo build --release)...", flush=True)
    subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], cwd=LOADGEN, check=True)
    return BINARY
