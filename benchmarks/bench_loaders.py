"""Loaders over loopback against the sandbox server: concurrency, rate limits, the cache.

Rows:

* ``pages, 8 workers vs 1``: the events of 200 sessions (200 pages) at 50 ms latency per
  request, ``max_workers=8`` against ``max_workers=1``. Target: at least 6x.
* ``rate limit``: a load of twice the per-minute limit (60/min; quick mode: one window of
  30) at ``max_workers=8``. ``window use`` is requests / (windows started x limit): a
  client that runs just under the limit fills every window it starts (target ≥ 90 %);
  ``429 answers`` counts the server's refusals (target ≤ 3).
* ``warm cache vs cold``: a notebook's loads (videos, one video's sessions, their events,
  a breakdown) re-run from a warm cache by a new client, against the same loads cold at
  ``max_workers=8`` and 50 ms latency. Targets: at least 50x and zero requests. The warm
  time is the median of 5 re-runs, each by a new client; a collection of the process's
  garbage is run before each timed load, cold or warm, so that the sandbox's own heap is
  not collected inside one. A warm load reads one kept frame per loader; the row
  ``pages only`` shows the same re-run with the kept frames deleted first (every page
  read and parsed again), for comparison.

Run: ``python -m benchmarks`` (all) or ``python benchmarks/bench_loaders.py [--quick]``.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import row

NOW = "2024-06-01T12:00:00+00:00"
PERIOD = "2024-05-01/2024-06-01"
LATENCY = 0.05


def _world(sessions: int) -> Any:
    from apivideo_insights.sandbox import simulate

    return simulate(seed=0, now=NOW, sessions=sessions)


def _session_ids(world: Any, n: int) -> list[str]:
    ids = world.events["session_id"].astype(str).unique()[:n].tolist()
    if len(ids) < n:
        raise RuntimeError(f"the simulated world has only {len(ids)} sessions with events")
    return ids


def _row(
    benchmark: str, measure: str, value: float, baseline: str, ratio: float, target: str, ok: bool
) -> dict[str, Any]:
    return row(benchmark, measure, value, baseline, ratio, target, ok)


def bench_concurrency(world: Any, pages: int) -> list[dict[str, Any]]:
    import apivideo_insights as avi
    from apivideo_insights.sandbox import serve

    ids = _session_ids(world, pages)
    times = {}
    with serve(world, latency=LATENCY) as sb:
        for workers in (1, 8):
            api = avi.connect(
                sb.api_key, base_url=sb.base_url, cache=None, max_workers=workers, progress=False
            )
            api.players()  # token and connections first: only the pages are timed
            start = time.perf_counter()
            frame = api.events(ids)
            times[workers] = time.perf_counter() - start
            api.close()
            assert frame["session_id"].nunique() == len(ids)
    speedup = times[1] / times[8]
    return [
        _row(
            f"loaders: {pages} pages at {LATENCY * 1000:.0f} ms",
            "seconds, max_workers=8",
            times[8],
            f"max_workers=1: {times[1]:.2f} s",
            speedup,
            "≥ 6x",
            speedup >= 6,
        )
    ]


def bench_rate_limit(world: Any, limit: int, count: int) -> list[dict[str, Any]]:
    import apivideo_insights as avi
    from apivideo_insights.sandbox import serve

    ids = _session_ids(world, count)
    with serve(world, rate_limit=limit) as sb:
        api = avi.connect(
            sb.api_key, base_url=sb.base_url, cache=None, max_workers=8, progress=False
        )
        start = time.perf_counter()
        frame = api.events(ids)
        elapsed = time.perf_counter() - start
        api.close()
        answered = [r for r in sb.requests if not r.path.startswith("/auth")]
    assert frame["session_id"].nunique() == len(ids)
    refused = sum(1 for r in answered if r.status == 429)
    windows = int(elapsed // 60) + 1
    use = count / (windows * limit)
    bench = f"loaders: {count} requests under {limit}/min"
    return [
        _row(bench, "window use", use, f"{windows} window(s) of {limit}", use, "≥ 0.9", use >= 0.9),
        _row(
            bench,
            "429 answers",
            refused,
            f"load took {elapsed:.1f} s",
            refused,
            "≤ 3",
            refused <= 3,
        ),
    ]


def _notebook(api: Any, video: str, sessions: int) -> list[Any]:
    frames = [api.videos()]
    frames.append(api.video_sessions(video, period=PERIOD))
    frames.append(api.events(frames[-1].iloc[:sessions]))
    frames.append(api.breakdown("play", "country", end="2024-06-01T00:00:00Z"))
    return frames


def _timed(load: Any) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = load()
    return time.perf_counter() - start, result


def bench_cache(world: Any, sessions: int, repeats: int = 5) -> list[dict[str, Any]]:
    import pandas as pd

    import apivideo_insights as avi
    from apivideo_insights.sandbox import serve

    video = str(world.sessions["video_id"].value_counts().index[0])
    with tempfile.TemporaryDirectory() as tmp, serve(world, latency=LATENCY) as sb:

        def connect(cache: Any, workers: int = 8) -> Any:
            return avi.connect(
                sb.api_key, base_url=sb.base_url, cache=cache, max_workers=workers, progress=False
            )

        def rerun(cache: Path, *, pages_only: bool = False) -> tuple[float, Any]:
            api = connect(cache)
            if pages_only:
                api._http.session.cache.frames.clear()
            try:
                return _timed(lambda: _notebook(api, video, sessions))
            finally:
                api.close()

        sequential = connect(None, workers=1)
        cold_one, _ = _timed(lambda: _notebook(sequential, video, sessions))
        sequential.close()
        cache = Path(tmp) / "bench.sqlite"
        cold_api = connect(cache)
        cold_time, cold = _timed(lambda: _notebook(cold_api, video, sessions))
        cold_api.close()
        sb.reset_requests()
        runs = [rerun(cache) for _ in range(repeats)]
        pages = [rerun(cache, pages_only=True)[0] for _ in range(3)]
        sent = len(sb.requests)
    for _, warm in runs:
        for a, b in zip(cold, warm):
            pd.testing.assert_frame_equal(a, b)
    warm_time = statistics.median(t for t, _ in runs)
    pages_time = statistics.median(pages)
    ratio = cold_time / warm_time
    bench = f"loaders: notebook re-run ({sessions} sessions' events)"
    return [
        _row(
            bench,
            "warm seconds",
            warm_time,
            f"cold, 8 workers: {cold_time:.2f} s",
            ratio,
            "≥ 50x",
            ratio >= 50,
        ),
        _row(
            bench,
            "warm seconds vs 1 worker",
            warm_time,
            f"cold, 1 worker: {cold_one:.2f} s",
            cold_one / warm_time,
            "≥ 50x",
            cold_one / warm_time >= 50,
        ),
        _row(
            bench,
            "warm seconds, pages only",
            pages_time,
            f"cold, 8 workers: {cold_time:.2f} s",
            cold_time / pages_time,
            "(for comparison)",
            True,
        ),
        _row(bench, "requests on warm loads", sent, "0", sent, "= 0", sent == 0),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    world = _world(300 if quick else 800)
    rows = bench_concurrency(world, 40 if quick else 200)
    if quick:
        rows += bench_rate_limit(world, limit=30, count=30)
    else:
        rows += bench_rate_limit(world, limit=60, count=120)
    rows += bench_cache(world, 20 if quick else 100)
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
