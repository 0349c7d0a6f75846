"""Figures of the robustness suite (faults, interruption, fuzzing, secrets, hostile server).

The tests call :func:`record` with what they measured (rows expected and delivered, faults
injected and survived, inputs fuzzed). Each figure is printed (visible with ``pytest -s``)
and, when ``$AVI_FIGURES`` names a file, appended to it as one JSON line.

Run ``.venv/bin/python tests/_fault_figures.py`` to run the four test files and print the
figures as a Markdown table (for the README).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["record", "summary"]

_LOCK = threading.Lock()
_FILES = [
    "test_faults.py",
    "test_interruption.py",
    "test_fuzz.py",
    "test_secrets.py",
    "test_hostile.py",
]


def record(test: str, **figures: Any) -> None:
    """Print ``figures`` of ``test`` and append them to ``$AVI_FIGURES`` if set."""
    line = {"test": test, **figures}
    print(f"[figures] {json.dumps(line, sort_keys=True, default=str)}")
    target = os.environ.get("AVI_FIGURES")
    if target:
        with _LOCK, open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True, default=str) + "\n")


def summary(lines: list[dict[str, Any]]) -> str:
    """A Markdown table of recorded figures (one row per test; the hostile cases in one)."""
    out = ["| test | figures |", "|---|---|"]
    hostile = [line for line in lines if line["test"] == "hostile"]
    lines = [line for line in lines if line["test"] != "hostile"]
    if hostile:
        slowest = max(float(line["seconds"]) for line in hostile)
        total = sum(float(line["seconds"]) for line in hostile)
        out.append(
            f"| hostile | cases held={len(hostile)}, slowest={slowest:.1f} s, all={total:.0f} s |"
        )
    for line in lines:
        rest = ", ".join(f"{k}={v}" for k, v in sorted(line.items()) if k != "test")
        out.append(f"| {line['test']} | {rest} |")
    return "\n".join(out)


def main() -> int:
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "figures.jsonl"
        env = {**os.environ, "AVI_FIGURES": str(target)}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        cmd += [str(here / f) for f in _FILES]
        code = subprocess.call(cmd, env=env, cwd=here.parent, timeout=600)
        lines = []
        if target.exists():
            lines = [json.loads(x) for x in target.read_text().splitlines() if x.strip()]
    print(summary(lines))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
