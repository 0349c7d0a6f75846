"""Run every ``benchmarks/bench_*.py`` and write the table to ``benchmarks/results.md``.

Each module defines ``run(quick: bool = False) -> list[dict]`` with rows
``{benchmark, measure, value, baseline, ratio, target, ok}``. Targets are ratios against a
baseline measured in the same process, so they hold on a shared, noisy machine; no timing
here is a test.

    python -m benchmarks            # full sizes (minutes)
    python -m benchmarks --quick    # small sizes (seconds): checks the harness works
    python -m benchmarks --only segments loaders
"""

from __future__ import annotations

import argparse
import importlib
import math
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ("benchmark", "measure", "value", "baseline", "ratio", "target", "ok")


def _modules(only: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only or n in only]
    return names


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**NO**"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value).replace("|", "\\|")


def to_markdown(rows: list[dict], *, quick: bool, seconds: float) -> str:
    head = (
        f"# Benchmark results\n\nMachine: {platform.machine()}, Python "
        f"{platform.python_version()}, {'quick' if quick else 'full'} sizes, "
        f"{seconds:.0f} s in all. Ratios compare against a baseline run in the same "
        "process.\n\n"
    )
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in COLUMNS) + " |")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds not minutes")
    parser.add_argument("--only", nargs="*", help="module names, e.g. segments loaders")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)

    rows: list[dict] = []
    failed = 0
    started = time.perf_counter()
    for name in _modules(args.only):
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            got = module.run(quick=args.quick)
        except Exception:  # a broken benchmark must not hide the others' results
            failed += 1
            traceback.print_exc()
            rows.append({"benchmark": name, "measure": "crashed", "ok": False})
            continue
        for row in got:
            print("   ", {k: row.get(k) for k in COLUMNS}, flush=True)
        rows.extend(got)
    text = to_markdown(rows, quick=args.quick, seconds=time.perf_counter() - started)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
