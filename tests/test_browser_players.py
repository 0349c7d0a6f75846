"""api.video's analytics client in a real browser, posting to the sandbox's collector.

Headless Debian Chromium plays a short ffmpeg-made WebM on a page served from its own
origin, instrumented by ``@api.video/player-analytics`` 1.0.9 (installed from npm by
``./run``) through our hls.js-like and video.js-like integrations (``players/page``);
seeded scripted viewers pause, scrub, drag, switch to 2x, reload, close tabs, watch to the
end and replay. The sandbox records every ping (``serve(record=)``); the page records its
own truth. Skipped when a piece is missing, except in CI (``CI=true``), where that fails.

The full run and the errors against the truth are in ``benchmarks/bench_browser.py``.
"""

from __future__ import annotations

import doctest
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import apivideo_insights as avi
from players import harness, measure

SECONDS = 24
SEED = 7


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the real-browser suite must run in CI: {reason}")
    pytest.skip(reason)


def test_players_docstring_examples() -> None:
    """The helpers' own examples (the package's doctests do not reach players/)."""
    for module in (harness, measure):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


def test_true_segments_split_at_seeks_pauses_and_stalls() -> None:
    samples = [
        [0, 0.0, 0, 0, 1, "play"],
        [500, 0.5, 0, 0, 1, ""],
        [1000, 1.0, 0, 0, 1, ""],  # a stall: the position stays, the stretch goes on
        [1500, 1.0, 0, 0, 1, "waiting"],
        [2000, 1.5, 0, 0, 2, "ratechange"],
        [2500, 2.5, 0, 0, 2, ""],  # 2x: one media second in half a wall second
        [2550, 20.0, 0, 1, 2, "seeking"],  # the step into a seek is not watched
        [2600, 20.0, 0, 0, 2, "seeked"],
        [3000, 20.9, 0, 0, 2, ""],
        [3500, 21.9, 1, 0, 2, "pause"],
        [9000, 21.9, 1, 0, 2, ""],
        [9050, 30.0, 0, 0, 2, ""],  # a jump with no seeking sample: too fast to be watched
        [9550, 31.0, 0, 0, 2, ""],
    ]
    got = measure.true_segments([{"load": "L", "session_id": "s", "samples": samples}])
    assert got[["start", "end"]].to_numpy().tolist() == [[0.0, 2.5], [20.0, 21.9], [30.0, 31.0]]
    orphan = measure.true_segments([{"load": "M", "session_id": None, "samples": samples}])
    assert orphan.empty
    assert orphan.attrs["loads_without_session"] == 1


def test_restore_puts_back_true_origins_and_unload_pauses() -> None:
    """A drag's steps that no ``seeked`` separated are one seek from where the first began;
    a seek with no ``seeked`` of its own in reach keeps the ``from`` it was sent with; a
    page paused when it went away gets no pause; categorical columns are accepted."""
    samples = [
        [0, 0.0, 0, 0, 1, "play"],
        [5000, 5.0, 0, 0, 1, ""],
        [5000, 5.0, 0, 1, 1, "seeking"],  # a drag: 5 -> 30 -> 20, one seeked at its end
        [5100, 30.0, 0, 1, 1, "seeking"],
        [5200, 20.0, 0, 0, 1, "seeked"],
        [9200, 24.0, 0, 0, 1, ""],
        [9300, 24.1, 1, 0, 1, "pause"],
    ]
    loads = [
        {"load": "L", "session_id": "s", "video_id": "v", "samples": samples},
        {"load": "M", "session_id": "s", "video_id": "v", "samples": [
            [20000, 0.0, 0, 0, 1, "play"], [23000, 3.0, 0, 0, 1, ""]]},
    ]  # fmt: skip
    events = pd.DataFrame(
        {
            "session_id": pd.Categorical(["s"] * 4),
            "type": pd.Categorical(["play", "seek.forward", "pause", "seek.forward"]),
            "at": [0.0, None, 24.1, None],
            "seek_from": [None, 0.0, None, 7.0],
            "seek_to": [None, 20.0, None, 9.0],
            "emitted_at": pd.to_datetime([0, 5200, 9300, 60000], unit="ms", utc=True),
            "video_id": "v",
        }
    )
    # L closed while paused; M closed at 24 s while playing, 4 s in.
    got = measure.restore(events, loads, {"L": 15000, "M": 24000})
    assert got["seek_from"].tolist()[1] == 5.0
    assert got["seek_from"].tolist()[3] == 7.0  # nothing within 15 s before it: as sent
    pauses = got[got["type"] == "pause"]
    assert pauses["at"].tolist() == [24.1, pytest.approx(3.999)]
    assert pauses["emitted_at"].iloc[-1] == pd.Timestamp(23999, unit="ms", tz="UTC")
    assert (pauses["video_id"] == "v").all()
    only = measure.restore(events, loads, {"M": 24000}, origins=False, unload_pauses=False)
    assert only["seek_from"].tolist()[1] == 0.0 and len(only) == len(events)


def test_true_passes_count_as_segments_counts_them() -> None:
    """A pause and resume is one pass on both curves; a drag's blink is none; a reload or a
    seek starts a new one."""
    t = pd.to_datetime([0, 13, 25, 26, 40, 60], unit="s", utc=True)
    truth = pd.DataFrame(
        {
            "session_id": ["s"] * 5 + ["u"],
            "load": ["L", "L", "L", "L", "M", "N"],
            "video_id": "v",
            "start": [0.0, 12.7, 56.05, 58.8, 12.9, 3.0],
            "end": [12.7, 20.0, 56.18, 64.0, 18.0, 9.0],
            "started_at": t,
            "ended_at": t + pd.Timedelta(seconds=5),
        }
    )
    got = measure.passes(truth)
    assert got[["session_id", "start", "end"]].to_numpy().tolist() == [
        ["s", 0.0, 20.0],  # paused at 12.7, went on from there
        ["s", 58.8, 64.0],  # after the 0.13 s blink at 56.05, dropped
        ["s", 12.9, 18.0],  # a new page load: a new pass even where the last one stopped
        ["u", 3.0, 9.0],
    ]
    assert (got.attrs["joined"], got.attrs["short"]) == (1, 1)

    # Second 12: the raw intervals count three views (two of them one paused pass), the
    # passes two.
    def curve(frame: pd.DataFrame) -> pd.DataFrame:
        return avi.retention(frame.assign(playback=0, estimated=False), duration=90)

    assert curve(truth).loc[12.0, "views"] == 3
    assert curve(got).loc[12.0, "views"] == 2
    # The caller may choose: intervals that meet exactly still join; the blink stays.
    assert measure.passes(truth, merge_gap=0.0, min_length=0.0)["start"].tolist() == [
        0.0, 56.05, 58.8, 12.9, 3.0
    ]  # fmt: skip


def test_wanderers_spread_over_the_video_and_never_run_into_its_end_unasked() -> None:
    """Each wanderer's script, replayed on paper: every watch stays inside the video unless
    the script waits for the end, and the seeds spread the actions over the whole video."""
    d = 90.0
    scripts = [
        harness.viewers(d, integration="hls", seed=s, kinds=["wanderer"])[0].steps
        for s in range(40)
    ]
    assert scripts[0] == harness.viewers(d, integration="hls", seed=0, kinds=["wanderer"])[0].steps
    targets, ways_out = [], set()
    for steps in scripts:
        assert steps[:2] == [("open", None), ("play", None)] and steps[-1] == ("close", None)
        pos, rate, playing = 0.0, 1.0, True
        for action, arg in steps:
            if action == "watch" and playing:
                pos += float(arg) * rate  # type: ignore[arg-type]
                assert pos <= d - 3.0 + 1e-9, steps
            elif action == "seek":
                pos = float(arg)  # type: ignore[arg-type]
                targets.append(pos)
            elif action == "drag":
                pos = float(arg[-1])  # type: ignore[index]
                targets.append(pos)
            elif action == "rate":
                rate = float(arg)  # type: ignore[arg-type]
            elif action == "pause":
                playing = False
            elif action in ("resume", "play"):
                playing = True
            elif action == "reload":
                pos, playing = 0.0, False
            elif action == "until_end":
                pos, playing = d, False
        ways_out.add(next(a for a, _ in reversed(steps[:-1]) if a != "watch"))
        assert all(0.0 <= t <= 0.9 * d for t in targets)
    # Spread: the seek targets fill every tenth of the first 90 % of the video.
    assert set(np.floor(np.array(targets) / (0.1 * d)).astype(int)) == set(range(9))
    assert {"until_end", "pause", "play"} <= ways_out  # ended, closed after a pause, reloaded


def test_naive_replay_follows_the_list() -> None:
    ev = pd.DataFrame(
        {
            "session_id": "s",
            "type": ["ready", "play", "seek.forward", "pause", "resume", "end"],
            "at": [0, 0, None, 12, 12, 20],
            "seek_from": [None, None, 5, None, None, None],
            "seek_to": [None, None, 10, None, None, None],
        }
    )
    got = measure.naive_segments(ev)
    assert got[["start", "end"]].to_numpy().tolist() == [[0, 5], [10, 12], [12, 20]]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Recording]:
    missing = harness.requirements()
    if missing:
        _unavailable("; ".join(missing))
    group = [
        *harness.viewers(SECONDS, integration="hls", seed=SEED),
        *harness.viewers(SECONDS, integration="videojs", seed=SEED),
        # Real hls.js streaming an HLS rendition, with the hls.js plugin's mapping.
        *harness.viewers(SECONDS, integration="hlsjs", seed=SEED),
    ]
    rec = harness.record(
        tmp_path_factory.mktemp("browser"), group, seconds=SECONDS, parallel=3, time_limit=120
    )
    yield rec


def _bodies(rec: harness.Recording) -> list[dict[str, Any]]:
    return [json.loads(line) for line in rec.pings.read_text().splitlines() if line.strip()]


def _meta(body: dict[str, Any]) -> dict[str, str]:
    return {k: v for item in body["session"].get("metadata") or [] for k, v in item.items()}


@pytest.mark.browser
def test_pages_post_pings_cross_origin_through_the_real_sdk(
    recording: harness.Recording,
) -> None:
    assert recording.run.errors == []
    # The pages' origin is not the collector's: every ping was a cross-origin POST.
    assert recording.run.collector not in recording.run.page_origins
    bodies = _bodies(recording)
    assert {_meta(b)["viewer"] for b in bodies} == set(recording.run.viewers)
    assert all(b["session"]["session_id"] and "received_at" in b for b in bodies)
    types = {e["type"] for b in bodies for e in b["events"]}
    assert {"ready", "play", "pause", "resume", "seek.forward", "seek.backward", "end"} <= types
    # The SDK sends float positions and millisecond times.
    ats = [e["at"] for b in bodies for e in b["events"] if "at" in e]
    assert any(a != int(a) for a in ats)
    # The page read the collector's cross-origin answer: the SDK handed it the id
    # (onSessionIdReceived), which only happens when CORS let it read {"session": id}.
    assert all(entry["session_id"] for entry in recording.run.truth)


@pytest.mark.browser
def test_second_load_in_a_tab_reuses_the_collector_assigned_id(
    recording: harness.Recording,
) -> None:
    bodies = _bodies(recording)
    by_viewer: dict[str, set[str]] = {}
    loads: dict[str, set[str]] = {}
    for b in bodies:
        meta = _meta(b)
        by_viewer.setdefault(meta["viewer"], set()).add(b["session"]["session_id"])
        loads.setdefault(meta["viewer"], set()).add(meta["load"])
    reloaders = [v for v in recording.run.viewers if v.endswith("reloader")]
    assert reloaders
    for viewer in recording.run.viewers:
        assert len(by_viewer[viewer]) == 1, viewer  # one tab, one session id
    for viewer in reloaders:
        assert len(loads[viewer]) == 2, viewer  # two page loads in it
    # The page's own view agrees: both loads of the tab ended with that id.
    truth_ids = {(e["viewer"], e["session_id"]) for e in recording.run.truth}
    assert {v for v, _ in truth_ids} == set(recording.run.viewers)
    assert all(sid in by_viewer[v] for v, sid in truth_ids)


def _recorded_events(rec: harness.Recording) -> pd.DataFrame:
    rows = []
    for b in _bodies(rec):
        for e in b["events"]:
            rows.append(
                {
                    "session_id": b["session"]["session_id"],
                    "video_id": b["session"]["video_id"],
                    "type": e["type"],
                    "at": e.get("at"),
                    "seek_from": e.get("from"),
                    "seek_to": e.get("to"),
                }
            )
    return pd.DataFrame(rows)


def _multiset(frame: pd.DataFrame, floor: bool) -> list[tuple[Any, ...]]:
    out = []
    for sid, kind, *pos in frame[["session_id", "type", "at", "seek_from", "seek_to"]].itertuples(
        index=False
    ):
        vals = tuple(
            # float32: the events frame's position dtype.
            None if v is None or pd.isna(v) else (math.floor(v) if floor else float(np.float32(v)))
            for v in pos
        )
        out.append((str(sid), str(kind), *vals))
    return sorted(out, key=repr)


@pytest.mark.browser
def test_recorded_events_come_back_whole_through_read_pings(
    recording: harness.Recording,
) -> None:
    events, sessions = avi.read_pings(recording.pings)
    sent = _recorded_events(recording)
    assert len(events) == len(sent)
    assert _multiset(events, floor=False) == _multiset(sent, floor=False)
    assert set(sessions["session_id"].astype(str)) == set(sent["session_id"])


@pytest.mark.browser
def test_recorded_sessions_come_back_whole_through_the_legacy_api(
    recording: harness.Recording,
) -> None:
    sent = _recorded_events(recording)
    before = recording.pings.read_bytes()
    # The recording sandbox has stopped: a new one on the same record= file serves them.
    for video in sorted(sent["video_id"].unique()):
        ours = sent[sent["video_id"] == video]
        events, sessions = measure.legacy(recording.pings, video_id=video)
        assert set(sessions["session_id"].astype(str)) == set(ours["session_id"])
        assert len(events) == len(ours)
        # Integer positions (floored) and one-second times, as the API served them.
        assert _multiset(events, floor=True) == _multiset(ours, floor=True)
        assert (events["emitted_at"].dt.microsecond == 0).all()
    assert recording.pings.read_bytes() == before  # serving it appended nothing


@pytest.mark.browser
def test_truth_is_kept_and_thin_truth_gives_the_same_segments(
    recording: harness.Recording,
) -> None:
    saved = measure.read_truth(recording.truth)
    full = measure.true_segments(recording.run.truth)
    thin = measure.true_segments(saved["loads"])
    assert len(full) >= len(recording.run.viewers)
    assert full["start"].ge(0).all() and full["end"].le(SECONDS + 0.05).all()
    watched = float((full["end"] - full["start"]).sum())
    assert watched > 10 * len(recording.run.viewers) * 0.3
    assert measure.pass_difference(full, thin) <= 1e-3 * watched
    assert len(saved["segments"]) == len(full)


@pytest.mark.browser
def test_errors_against_the_truth_are_finite_and_reported(
    recording: harness.Recording, tmp_path: Path, record_property: Any
) -> None:
    truth = measure.true_segments(recording.run.truth)
    by_form = measure.forms(
        recording.pings,
        duration=SECONDS,
        unloads=recording.run.unloads,
        workdir=tmp_path,
    )
    assert set(by_form) == set(measure.FORMS)
    got = measure.errors(truth, by_form)
    for name, value in got.items():
        record_property(f"error_{name}", value)
        assert math.isfinite(value), name
    # Loose sanity bounds only (the targets belong to the next issue).
    assert got["raw"] < 0.6
    assert got["legacy"] < 0.6
    assert by_form["legacy-no-unload"].attrs["unload_pings_dropped"] > 0
