"""Benchmarks: every target is a ratio against a baseline run in the same process."""

from __future__ import annotations

from typing import Any


def row(
    benchmark: str, measure: str, value: float, baseline: str, ratio: float, target: str, ok: bool
) -> dict[str, Any]:
    """One line of ``benchmarks/results.md`` (the shape ``python -m benchmarks`` collects)."""
    return {
        "benchmark": benchmark,
        "measure": measure,
        "value": float(value),
        "baseline": baseline,
        "ratio": float(ratio),
        "target": target,
        "ok": bool(ok),
    }
