"""Dask: 50 million simulated events from Parquet, reconstructed without holding them at once.

Steps (``quick``: about 10^5 events instead of 5 x 10^7):

1. In a child process, simulate batches of 50,000 sessions, each with its own seed, and
   write each batch's events to its own Parquet file under ``benchmarks/.work/`` (one row
   group per file: every file holds whole sessions, so the files are partitions by
   session). Every batch's 12 videos get the same ids (``video-00`` ...), so the result,
   one curve per video, has the same size for any number of files. Only one batch is in
   memory at a time; the size the whole frame would take is added up batch by batch.
2. On a ``distributed.LocalCluster`` (2 worker processes, 1 thread each), read the files
   with ``dask.dataframe.read_parquet`` and compute ``avi.retention(avi.segments(events),
   by="video_id")`` while sampling the resident memory of this process (client and
   scheduler) and its children (workers): on a tenth of the files, then on all of them.
3. The same pipeline on the first few files, with pandas (``pd.read_parquet`` then the
   pandas functions) and with Dask, for a pandas-vs-dask ratio on a size that fits.

Rows: events per second at full size (against the pandas rate on the small size); peak
resident memory (against the size the events would take in memory: under 1 means they were
never all held; and against the peak on a tenth of the data: near 1 means memory is bounded
by the partition, not the data); the dask/pandas time ratio on the small size. Times on a
shared 2-core machine are noisy; the memory rows are not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks import row
from benchmarks.bench_memory import MB, NOW, PeakRSS, frame_bytes

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
SESSIONS_PER_BATCH = 50_000  # about 300,000 events (10 MB in memory) per file


def _batch(seed: int, sessions: int) -> tuple[pd.DataFrame, pd.Series]:
    from apivideo_insights.sandbox import simulate
    from apivideo_insights.schema import EVENT_COLUMNS

    world = simulate(seed, now=NOW, sessions=sessions, videos=12, live_streams=0)
    # Every batch's videos get the same 12 ids (a project with a dozen videos and millions
    # of sessions): the output, one curve per video, then has the same size at any number
    # of files, and the memory rows measure the processing, not a growing result.
    names = {v["videoId"]: f"video-{j:02d}" for j, v in enumerate(world.videos)}
    events = world.events[[*EVENT_COLUMNS, "video_id"]].reset_index(drop=True)
    ids = events["video_id"].astype(str).map(names)
    events["video_id"] = pd.Categorical(ids, categories=sorted(names.values()))
    lengths = world.durations.rename(index=lambda v: names.get(str(v), str(v)))
    return events, lengths


def write_events(path: Path, target: int, sessions: int) -> dict[str, Any]:
    """Simulated batches to one Parquet file each, until ``target`` events are written."""
    path.mkdir(parents=True, exist_ok=True)
    written = 0
    in_memory = 0
    durations: list[pd.Series] = []
    files: list[Path] = []
    seed = 0
    started = time.perf_counter()
    while written < target:
        events, lengths = _batch(1000 + seed, sessions)
        file = path / f"events-{seed:05d}.parquet"
        # One row group per file: dask then never cuts a session between partitions.
        events.to_parquet(file, index=False, row_group_size=len(events) + 1)
        written += len(events)
        in_memory += frame_bytes(events)
        durations.append(lengths)
        files.append(file)
        seed += 1
        del events
    dur = pd.concat(durations)
    return {
        "events": written,
        "bytes": in_memory,
        "files": files,
        # Each id's longest length over the batches: every batch's positions fit in it.
        "durations": dur.groupby(level=0).max(),
        "seconds": time.perf_counter() - started,
    }


def write_events_elsewhere(path: Path, target: int, sessions: int) -> dict[str, Any]:
    """:func:`write_events` in a child process, so that the memory the simulator used is
    not counted in this process's resident memory afterwards."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_dask",
            "--write",
            str(path),
            str(target),
            str(sessions),
        ],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"writing events failed:\n{out.stderr[-2000:]}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    durations = pd.read_parquet(path / "durations.parquet")["duration"]
    files = sorted(path.glob("events-*.parquet"))
    return {**info, "files": files, "durations": durations}


def _pipeline(events: Any, durations: pd.Series) -> pd.DataFrame:
    import apivideo_insights as avi

    segs = avi.segments(events, duration=durations)
    return avi.retention(segs, duration=durations, by="video_id")


def _pandas_run(files: list[Path], durations: pd.Series) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    # pyarrow unifies the files' dictionaries: categories stay categories.
    events = pd.read_parquet([str(f) for f in files])
    curve = _pipeline(events, durations)
    return curve, time.perf_counter() - started


def _dask_run(files: list[Path], durations: pd.Series) -> tuple[pd.DataFrame, float]:
    import dask.dataframe as dd

    started = time.perf_counter()
    events = dd.read_parquet([str(f) for f in files], split_row_groups=False)
    curve = _pipeline(events, durations)
    return curve, time.perf_counter() - started


def _row(measure: str, value: float, baseline: str, ratio: float, target: str, ok: bool) -> dict:
    return row("dask", measure, value, baseline, ratio, target, ok)


def run(quick: bool = False, *, events: int | None = None) -> list[dict]:
    import distributed

    target = events or (100_000 if quick else 50_000_000)
    sessions = 4_000 if quick else SESSIONS_PER_BATCH
    small_files = 2 if quick else 8  # the size that fits: ~2.4 million events
    work = WORK / f"dask-{os.getpid()}"
    rows: list[dict] = []
    try:
        data = write_events_elsewhere(work, target, sessions)
        files, durations = data["files"], data["durations"]
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
            ) as cluster,
            distributed.Client(cluster),
        ):
            # Warm the workers (imports, first tasks) so that no timing pays for them.
            _dask_run(files[:1], durations)
            # A tenth of the files, then all of them: if memory is bounded by the partition
            # and not by the data, ten times the events barely move the peak.
            tenth = files[: max(1, len(files) // 10)]
            with PeakRSS(interval=0.1, children=True) as probe_tenth:
                _dask_run(tenth, durations)
            with PeakRSS(interval=0.1, children=True) as probe:
                before = probe.peak
                curve, full_s = _dask_run(files, durations)
            small = files[:small_files]
            small_events = sum(len(pd.read_parquet(f, columns=["type"])) for f in small)
            # Best of two for each: a shared machine is noisy.
            want, pandas_s = _pandas_run(small, durations)
            got, dask_s = _dask_run(small, durations)
            pandas_s = min(pandas_s, _pandas_run(small, durations)[1])
            dask_s = min(dask_s, _dask_run(small, durations)[1])
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
        assert int(curve["viewers"].sum()) > 0
        pandas_rate = small_events / pandas_s
        rate = data["events"] / full_s
        rows.append(
            _row(
                f"dask segments+retention, events/s ({data['events']:,} events from Parquet)",
                rate,
                f"pandas on {small_events:,} events: {pandas_rate:,.0f} events/s",
                rate / pandas_rate,
                "info (quick: overhead-bound)" if quick else ">= 0.5x pandas",
                quick or rate >= 0.5 * pandas_rate,
            )
        )
        rows.append(
            _row(
                "dask peak RSS, MB (this process + scheduler + 2 workers)",
                probe.peak / MB,
                f"events in memory: {data['bytes'] / MB:,.0f} MB (before: {before / MB:,.0f} MB)",
                probe.peak / data["bytes"],
                "< 1 (never all in memory)" if not quick else "info (quick: tiny data)",
                quick or probe.peak < data["bytes"],
            )
        )
        rows.append(
            _row(
                f"dask peak RSS with {len(files) / len(tenth):.0f}x the events, MB",
                probe.peak / MB,
                f"{len(tenth)} of {len(files)} files: {probe_tenth.peak / MB:,.0f} MB",
                probe.peak / probe_tenth.peak,
                "info (quick: tiny data)" if quick else "<= 1.25x (bounded by partition)",
                quick or probe.peak <= 1.25 * probe_tenth.peak,
            )
        )
        rows.append(
            _row(
                f"dask / pandas time, same {small_events:,} events from Parquet",
                dask_s,
                f"pandas: {pandas_s:.2f} s",
                dask_s / pandas_s,
                "info (quick: overhead-bound)" if quick else "<= 2x",
                quick or dask_s <= 2 * pandas_s,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if WORK.exists() and not any(WORK.iterdir()):
            WORK.rmdir()
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--write":
        where = Path(sys.argv[2])
        got = write_events(where, int(sys.argv[3]), int(sys.argv[4]))
        got["durations"].rename("duration").to_frame().to_parquet(where / "durations.parquet")
        keep = ("events", "bytes", "seconds")
        print(json.dumps({k: got[k] for k in keep}))
    else:
        for r in run(quick="--quick" in sys.argv):
            print(r)
