"""Memory: bytes per event of the events frame, and the peak memory of the reconstruction.

Rows:

* ``bytes per event``: the contract columns of a simulated events frame (categorical ids and
  types, float32 positions, int64-backed times), against the same data with naive dtypes
  (object text, float64). Target: at most 40 bytes per event.
* ``segments peak RSS``: peak resident memory of a fresh process while ``avi.segments``
  reconstructs 10 million events (10^5 in quick mode), sampled every 5 ms with psutil.
  Target: under 2 GB, events frame and interpreter included. The ratio is against the size
  of the events frame in memory.
* ``segments working memory``: (peak - memory before the call) / events, at 10^4 ... 10^7
  events, each in its own process; the ratio to the value at 10^5 events shows that the
  reconstruction's memory grows linearly (target ≤ 1.5×, no superlinear blow-up).

Events of larger sizes are a simulated world tiled with fresh session ids (the simulator's
cost is not what is measured here); :func:`tiled_events` is shared with ``bench_dask``.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import row

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-01T00:00:00Z"
MB = 1024 * 1024
TARGET_BYTES = 40.0
TARGET_PEAK = 2048 * MB


def base_world(seed: int = 0, sessions: int = 2000) -> Any:
    """A simulated world (videos only: live sessions have no media positions to rebuild)."""
    from apivideo_insights.sandbox import simulate

    return simulate(seed, now=NOW, sessions=sessions, videos=12, live_streams=0)


def contract_events(world: Any) -> pd.DataFrame:
    """The world's events with the contract columns, plus ``video_id`` as a category."""
    from apivideo_insights.schema import EVENT_COLUMNS

    events = world.events
    out = events[list(EVENT_COLUMNS)].copy()
    if "video_id" in events.columns:
        out["video_id"] = events["video_id"].astype("category")
    return out


def tiled_events(events: pd.DataFrame, copies: int, *, offset: int = 0) -> pd.DataFrame:
    """``copies`` copies of ``events``, copy ``i`` with session ids suffixed ``~{offset+i}``.

    Built from the categorical codes, so a 10-million-row frame costs its own size only.
    """
    sid = events["session_id"]
    if not isinstance(sid.dtype, pd.CategoricalDtype):
        sid = sid.astype("category")
    cats = sid.cat.categories.astype(str)
    ncat = len(cats)
    codes = sid.cat.codes.to_numpy()
    width = np.int32 if ncat * copies < 2**31 - 1 else np.int64
    all_codes = (
        np.tile(codes.astype(width), copies)
        + np.repeat(np.arange(copies, dtype=width) * ncat, len(codes))
    ).astype(width)
    all_cats = pd.Index(
        np.concatenate([(cats + f"~{offset + i}").to_numpy() for i in range(copies)]),
        dtype="str",
    )
    data: dict[str, Any] = {
        "session_id": pd.Categorical.from_codes(all_codes, categories=all_cats),
    }
    for name in events.columns:
        if name == "session_id":
            continue
        col = events[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            data[name] = pd.Categorical.from_codes(
                np.tile(col.cat.codes.to_numpy(), copies), dtype=col.dtype
            )
        else:
            data[name] = pd.Series(np.tile(col.to_numpy(), copies), dtype=col.dtype)
    return pd.DataFrame(data)


def events_of_size(n: int, world: Any | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """About ``n`` simulated events (tiled) and the video durations."""
    world = world if world is not None else base_world(0, sessions=min(100_000, max(50, n // 6)))
    base = contract_events(world)
    copies = max(1, int(np.ceil(n / len(base))))
    events = tiled_events(base, copies) if copies > 1 else base
    # Whole sessions only: cut at the session boundary nearest to n.
    if len(events) > n:
        codes = events["session_id"].cat.codes.to_numpy()
        bounds = np.flatnonzero(np.diff(codes) != 0) + 1  # first row of each next session
        i = int(np.searchsorted(bounds, n))
        stop = int(bounds[i]) if i < len(bounds) else len(events)
        events = events.iloc[:stop].copy()
        events["session_id"] = events["session_id"].cat.remove_unused_categories()
    return events.reset_index(drop=True), world.durations


def frame_bytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(deep=True, index=True).sum())


def naive_copy(events: pd.DataFrame) -> pd.DataFrame:
    """The same events as a straightforward JSON-to-pandas load would type them."""
    out = pd.DataFrame(
        {
            "session_id": events["session_id"].astype(object).astype(str).astype(object),
            "type": events["type"].astype(object).astype(str).astype(object),
            "at": events["at"].astype("float64"),
            "seek_from": events["seek_from"].astype("float64"),
            "seek_to": events["seek_to"].astype("float64"),
            "emitted_at": events["emitted_at"]
            .dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            .astype(object),
        }
    )
    return out


class PeakRSS:
    """Peak resident memory of this process (and its children), sampled in a thread."""

    def __init__(self, interval: float = 0.005, children: bool = False) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._children = children
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = self._proc.memory_info().rss
        if self._children:
            for child in self._proc.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except Exception:  # a worker may exit between listing and reading
                    continue
        return int(total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self._interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def _release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc), so that the memory
    the simulator used to build the events does not count as in use before the call."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the baseline is just less tight
        pass


def _child(n: int) -> dict[str, Any]:
    """Run in a fresh process: build ``n`` events, then measure ``segments`` alone."""
    from apivideo_insights.segments import segments

    events, durations = events_of_size(n)
    _release_free_memory()
    with PeakRSS() as probe:
        before = probe.peak
        started = time.perf_counter()
        segs = segments(events, duration=durations)
        seconds = time.perf_counter() - started
    return {
        "events": len(events),
        "segments": len(segs),
        "events_bytes": frame_bytes(events),
        "rss_before": before,
        "peak": probe.peak,
        "seconds": seconds,
    }


def measure_segments(n: int, timeout: float = 900.0) -> dict[str, Any]:
    """:func:`_child` in a fresh interpreter, so that peaks do not carry over."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child for n={n} failed:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _row(measure: str, value: float, baseline: str, ratio: float, target: str, ok: bool) -> dict:
    return row("memory", measure, value, baseline, ratio, target, ok)


def run(quick: bool = False) -> list[dict]:
    rows: list[dict] = []

    # 1. Bytes per event of the events frame.
    world = base_world(0, sessions=300 if quick else 100_000)
    events = contract_events(world).drop(columns="video_id", errors="ignore")
    per_event = frame_bytes(events) / len(events)
    naive = frame_bytes(naive_copy(events)) / len(events)
    rows.append(
        _row(
            f"events frame, bytes per event ({len(events):,} events)",
            per_event,
            f"naive dtypes: {naive:.0f} B/event",
            per_event / naive,
            f"<= {TARGET_BYTES:.0f} B/event",
            per_event <= TARGET_BYTES,
        )
    )

    # 2 and 3. Reconstruction memory at growing sizes, each in a fresh process.
    sizes = [10**4, 10**5] if quick else [10**4, 10**5, 10**6, 10**7]
    results = {n: measure_segments(n) for n in sizes}
    top = results[sizes[-1]]
    rows.append(
        _row(
            f"segments peak RSS, MB ({top['events']:,} events, whole process)",
            top["peak"] / MB,
            f"events frame: {top['events_bytes'] / MB:,.0f} MB",
            top["peak"] / max(top["events_bytes"], 1),
            "< 2048 MB",
            top["peak"] < TARGET_PEAK,
        )
    )
    ref = results[10**5]
    ref_per = (ref["peak"] - ref["rss_before"]) / ref["events"]
    for n in sizes:
        r = results[n]
        work = max(r["peak"] - r["rss_before"], 0) / r["events"]
        rows.append(
            _row(
                f"segments working memory, B/event ({r['events']:,} events)",
                work,
                f"at 1e5 events: {ref_per:.0f} B/event",
                work / ref_per if ref_per > 0 else float("nan"),
                "<= 1.5x (linear)" if n > 10**5 else "info",
                n <= 10**5 or work <= 1.5 * ref_per,
            )
        )
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(int(sys.argv[2]))))
    else:
        for r in run(quick="--quick" in sys.argv):
            print(r)
