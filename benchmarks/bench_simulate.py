"""Throughput of ``avi.sandbox.simulate``, against numpy drawing random floats.

The simulator is vectorised: a bounded loop over behaviour steps, each step handling every
still-active viewer at once. Its cost should grow linearly with the number of sessions and
stay within a small multiple of the cheapest thing numpy can do per session: drawing the
random numbers. The baseline draws 100 uniform floats per session (about one per value
the simulator writes: ~9 events and ~3.5 truth rows per session, several fields each).

Targets: 10^6 sessions in under 10 s wall time on this (shared, 2-core) machine; within
30x the baseline from 10^5 sessions up; 10^4 sessions (a test-sized world, bound by fixed
overhead) in under 1 s.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from apivideo_insights.sandbox import simulate
from benchmarks import row

NOW = pd.Timestamp("2026-01-01T00:00:00Z")
FLOATS_PER_SESSION = 100
RATIO_TARGET = 30.0


def _baseline(sessions: int) -> float:
    """Seconds numpy takes to draw ``FLOATS_PER_SESSION`` uniform floats per session."""
    rng = np.random.default_rng(0)
    buf = np.empty(1_000_000)
    total = sessions * FLOATS_PER_SESSION
    t0 = time.perf_counter()
    for _ in range(max(1, total // buf.size)):
        rng.random(out=buf)
    return time.perf_counter() - t0


def _row(measure: str, value: float, baseline: str, ratio: float, target: str, ok: bool) -> dict:
    return row("simulate", measure, value, baseline, ratio, target, ok)


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Sessions per second at 10^4..10^6 sessions (10^4, 10^5 when ``quick``)."""
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rows = []
    simulate(0, now=NOW, sessions=1_000)  # warm up imports and caches
    for n in sizes:
        base = _baseline(n)
        t0 = time.perf_counter()
        world = simulate(0, now=NOW, sessions=n)
        took = time.perf_counter() - t0
        ratio = took / base if base > 0 else float("nan")
        # Small worlds are bound by fixed overhead (resources, frames): judge them by time.
        small = n < 100_000
        rows.append(
            _row(
                f"sessions/s at {n:,} sessions ({len(world.events):,} events)",
                n / took,
                f"rng.random({FLOATS_PER_SESSION} floats/session): {base:.3f} s",
                ratio,
                f"< 1 s ({took:.2f} s)" if small else f"<= {RATIO_TARGET:g}x baseline",
                took < 1.0 if small else ratio <= RATIO_TARGET,
            )
        )
        if n >= 1_000_000:
            rows.append(
                _row(
                    f"seconds for {n:,} sessions",
                    took,
                    "wall clock",
                    took / 10.0,
                    "< 10 s",
                    took < 10.0,
                )
            )
        del world
    return rows


if __name__ == "__main__":  # pragma: no cover
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
