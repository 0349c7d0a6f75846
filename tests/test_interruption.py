"""Interrupted and shared loads: the SQLite cache never turns a crash into a wrong answer.

* A load killed mid-way (SIGKILL, in its own process) and run again completes, and the
  second run fetches exactly the pages the cache lacks.
* A corrupted cache file gives a clear error (naming the file) or is rebuilt; a locked one
  gives a clear error or is waited for within bounds; never a wrong answer, never a hang.
* Two processes loading through one cache file both get the world's rows, and leave a
  cache that answers a third load without a request.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
from _fault_figures import record

import apivideo_insights as avi
from apivideo_insights.sandbox import serve, simulate

NOW = "2024-06-01T12:00:00+00:00"
PERIOD = "2024-04-01/2024-06-01"
WORKER = Path(__file__).with_name("_load_worker.py")
EVENT_COLUMNS = ["session_id", "type", "at", "seek_from", "seek_to", "emitted_at"]


@pytest.fixture(scope="module")
def world() -> Any:
    return simulate(seed=5, now=NOW, sessions=120, videos=2, live_streams=0)


@pytest.fixture(scope="module")
def video_id(world) -> str:
    return str(world.sessions["video_id"].value_counts().index[0])


def _want(world: Any, video_id: str) -> tuple[list[str], pd.DataFrame]:
    sessions = world.sessions[world.sessions["video_id"] == video_id]
    ids = sorted(sessions["session_id"].astype(str))
    events = world.events[world.events["session_id"].astype(str).isin(ids)]
    return ids, _norm(events)


def _norm(events: pd.DataFrame) -> pd.DataFrame:
    out = events[EVENT_COLUMNS].copy()
    out["session_id"] = out["session_id"].astype(str)
    out["type"] = out["type"].astype(str)
    for c in ("at", "seek_from", "seek_to"):
        out[c] = out[c].astype("float64")
    out["emitted_at"] = pd.to_datetime(out["emitted_at"], utc=True)
    return out.sort_values("session_id", kind="stable").reset_index(drop=True)


def _from_worker(path: Path) -> tuple[list[str], pd.DataFrame, dict[str, Any]]:
    result = json.loads(path.read_text())
    events = pd.DataFrame(result["events"], columns=EVENT_COLUMNS)
    return result["sessions"], _norm(events), result


def _assert_world(ids: list[str], events: pd.DataFrame, want_ids, want_events) -> None:
    assert ids == want_ids
    pd.testing.assert_frame_equal(events, want_events, check_dtype=False)


def _worker(sb: Any, cache: Path, video_id: str, out: Path, page_size: int) -> subprocess.Popen:
    env = {**os.environ, "APIVIDEO_API_KEY": sb.api_key, "PYTHONUNBUFFERED": "1"}
    env.pop("APIVIDEO_BASE_URL", None)
    cmd = [sys.executable, str(WORKER), sb.base_url, str(cache), video_id, PERIOD]
    cmd += [str(page_size), str(out)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # kill() cannot be ignored
        proc.communicate(timeout=10)


def _page_key(path: str, query: dict[str, list[str]] | list[tuple[str, str]]) -> tuple[str, str]:
    q = dict(query) if isinstance(query, list) else {k: v[-1] for k, v in query.items()}
    return path, str(q.get("currentPage", "1"))


def _served_pages(sb: Any) -> set[tuple[str, str]]:
    return {
        _page_key(r.path, r.query)
        for r in sb.requests
        if r.path.startswith("/analytics/") and r.status == 200
    }


def _cached_pages(cache: Path) -> set[tuple[str, str]]:
    """Pages whose answer is in the cache file (read with requests-cache itself)."""
    from requests_cache.backends.sqlite import SQLiteCache

    backend = SQLiteCache(str(cache))
    try:
        pages = set()
        for response in backend.responses.values():
            parts = urlsplit(response.url)
            if parts.path.startswith("/analytics/") and response.status_code == 200:
                pages.add(_page_key(parts.path, parse_qsl(parts.query)))
        return pages
    finally:
        backend.close()


def test_killed_load_resumes_fetching_only_what_the_cache_lacks(world, video_id, tmp_path):
    want_ids, want_events = _want(world, video_id)
    cache = tmp_path / "cache.sqlite"
    out = tmp_path / "first.json"
    # A little latency so that the kill lands mid-way through the events.
    with serve(world, latency=0.004) as sb:
        proc = _worker(sb, cache, video_id, out, page_size=2)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if sum(r.path.endswith("/events") for r in sb.requests) >= 120:
                    break
                time.sleep(0.01)
            assert proc.poll() is None, "the worker finished (or died) before it was killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            _stop(proc)
        assert proc.returncode == -signal.SIGKILL
        assert not out.exists()
        served_first = _served_pages(sb)
        cached = _cached_pages(cache)
        assert cached, "nothing was cached before the kill"
        assert cached <= served_first

        sb.reset_requests()
        api = avi.connect(sb.api_key, base_url=sb.base_url, cache=cache, page_size=2)
        try:
            sessions = api.video_sessions(video_id, period=PERIOD)
            events = api.events(sessions)
        finally:
            api.close()
        fetched = _served_pages(sb)
        refetched = [
            _page_key(r.path, r.query) for r in sb.requests if r.path.startswith("/analytics/")
        ]

    _assert_world(sorted(sessions["session_id"].astype(str)), _norm(events), want_ids, want_events)
    every_page = cached | fetched
    assert not (cached & fetched), f"pages fetched again although cached: {cached & fetched}"
    assert len(refetched) == len(set(refetched)), "a page was fetched twice in the second run"
    # Every page of the load is accounted for: in the cache, or fetched now.
    empty = sum(1 for sid in want_ids if sid not in set(want_events["session_id"]))
    per_session = want_events.groupby("session_id").size()
    want_pages = -(-len(want_ids) // 2) + int(sum(-(-n // 2) for n in per_session)) + empty
    assert len(every_page) == want_pages
    record(
        "interruption.kill_and_resume",
        pages=want_pages,
        cached_before_kill=len(cached),
        served_before_kill=len(served_first),
        fetched_on_resume=len(fetched),
        refetched_although_cached=len(cached & fetched),
        sessions_expected=len(want_ids),
        sessions_delivered=len(sessions),
        events_expected=len(want_events),
        events_delivered=len(events),
    )


def test_two_processes_share_one_cache_file(world, video_id, tmp_path):
    want_ids, want_events = _want(world, video_id)
    cache = tmp_path / "shared.sqlite"
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    with serve(world) as sb:
        procs = [_worker(sb, cache, video_id, out, page_size=3) for out in outs]
        try:
            for proc in procs:
                proc.wait(timeout=90)
            errors = [p.communicate(timeout=10)[1].decode(errors="replace") for p in procs]
        finally:
            for proc in procs:
                _stop(proc)
        assert [p.returncode for p in procs] == [0, 0], errors
        results = [_from_worker(out) for out in outs]
        for ids, events, raw in results:
            _assert_world(ids, events, want_ids, want_events)
            assert raw["dropped"] == {}
        # The shared file now answers a third load without a single request.
        sb.reset_requests()
        api = avi.connect(sb.api_key, base_url=sb.base_url, cache=cache, page_size=3)
        try:
            sessions = api.video_sessions(video_id, period=PERIOD)
            events = api.events(sessions)
            sent = api.requests_sent
        finally:
            api.close()
        assert sent == 0
        assert [r for r in sb.requests if r.path.startswith("/analytics/")] == []
    _assert_world(sorted(sessions["session_id"].astype(str)), _norm(events), want_ids, want_events)
    record(
        "interruption.two_processes",
        requests_a=results[0][2]["requests_sent"],
        requests_b=results[1][2]["requests_sent"],
        events_expected=len(want_events),
        events_delivered=[len(r[1]) for r in results],
        third_load_requests=sent,
    )


# ------------------------------------------------------------------ corrupted and locked


def _good_cache(sb: Any, path: Path, video_id: str) -> None:
    api = avi.connect(sb.api_key, base_url=sb.base_url, cache=path, page_size=10)
    try:
        api.events(api.video_sessions(video_id, period=PERIOD))
    finally:
        api.close()


def _damage(kind: str, good: Path, path: Path) -> None:
    data = bytearray(good.read_bytes())
    if kind == "garbage":
        data = bytearray(os.urandom(8192))
    elif kind == "truncated":
        data = data[: len(data) // 2]
    elif kind == "pages":
        for offset in range(4096, len(data), 8192):
            data[offset : offset + 512] = os.urandom(512)
    path.write_bytes(bytes(data))


def _is_clear(exc: BaseException, path: Path) -> bool:
    """A clear cache error names the file, so that the user knows what to delete."""
    text = str(exc)
    return str(path) in text or path.name in text


@pytest.mark.parametrize("kind", ["garbage", "truncated", "pages"])
def test_corrupted_cache_gives_a_clear_error_or_is_rebuilt(world, video_id, tmp_path, kind):
    want_ids, want_events = _want(world, video_id)
    good = tmp_path / "good.sqlite"
    bad = tmp_path / f"{kind}.sqlite"
    with serve(world) as sb:
        _good_cache(sb, good, video_id)
        _damage(kind, good, bad)
        try:
            api = avi.connect(sb.api_key, base_url=sb.base_url, cache=bad, page_size=10)
            try:
                sessions = api.video_sessions(video_id, period=PERIOD)
                events = api.events(sessions)
            finally:
                api.close()
        except Exception as exc:
            assert _is_clear(exc, bad), (
                f"{kind} cache: {type(exc).__module__}.{type(exc).__name__}: {exc} "
                "(a clear error names the cache file)"
            )
            outcome = "clear error"
        else:
            ids = sorted(sessions["session_id"].astype(str))
            _assert_world(ids, _norm(events), want_ids, want_events)
            outcome = "rebuilt"
    record(f"interruption.corrupted[{kind}]", outcome=outcome)


def test_locked_cache_gives_a_clear_error_or_waits_never_hangs(world, video_id, tmp_path):
    """Another program holds a write lock on the cache file (a DB browser, a stuck process)."""
    want_ids, want_events = _want(world, video_id)
    cache = tmp_path / "locked.sqlite"
    bound = 12.0
    with serve(world) as sb:
        _good_cache(sb, cache, video_id)
        holder = sqlite3.connect(cache, timeout=0.1, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        outcome: dict[str, Any] = {}

        def load() -> None:
            try:
                api = avi.connect(sb.api_key, base_url=sb.base_url, cache=cache, page_size=10)
                try:
                    sessions = api.video_sessions(video_id, period=PERIOD, refresh=True)
                    outcome["frames"] = (sessions, api.events(sessions, refresh=True))
                finally:
                    api.close()
            except Exception as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=load, daemon=True)
        started = time.monotonic()
        try:
            thread.start()
            thread.join(bound)
            hung = thread.is_alive()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            thread.join(30)  # released: let it finish rather than leak it
        waited = time.monotonic() - started
    record("interruption.locked", hung=hung, seconds=round(waited, 1), outcome=sorted(outcome))
    assert not hung, f"the load was still blocked on the locked cache after {bound:.0f} s"
    if "error" in outcome:
        assert _is_clear(outcome["error"], cache), outcome["error"]
    else:
        sessions, events = outcome["frames"]
        _assert_world(
            sorted(sessions["session_id"].astype(str)), _norm(events), want_ids, want_events
        )


def test_a_cache_file_is_not_shared_across_accounts(world, video_id, tmp_path):
    """Two keys on one file: the second account never reads the first one's answers."""
    cache = tmp_path / "accounts.sqlite"
    with serve(world, api_key="sb_first_account_key_0123456789") as first:
        _good_cache(first, cache, video_id)
        port = first.port
    # Same host and port, so the URLs are identical: only the account tells them apart.
    with serve(world, port=port, api_key="sb_other_account_key_9876543210") as other:
        api = avi.connect(other.api_key, base_url=other.base_url, cache=cache, page_size=10)
        try:
            api.video_sessions(video_id, period=PERIOD)
            assert api.requests_sent > 0
        finally:
            api.close()
