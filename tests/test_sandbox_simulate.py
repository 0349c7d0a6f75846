"""Tests of the simulated world: determinism, shapes, ids, truth, and the collector's quirks."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml

import apivideo_insights as avi
from apivideo_insights.sandbox import World, simulate
from apivideo_insights.sandbox import _catalog as cat
from apivideo_insights.sandbox._collector import QUIRKS, resolve_quirks
from apivideo_insights.schema import EVENT_COLUMNS, SEGMENT_COLUMNS, SESSION_COLUMNS, conform

NOW = pd.Timestamp("2026-03-01T12:00:00Z")
ID = {p: re.compile(rf"^{p}[0-9A-Za-z]{{22}}$") for p in ("vi", "li", "pl", "to", "ps")}
SPEC = Path(__file__).parents[1] / "apivideo_insights" / "sandbox" / "specs" / "openapi.yaml"


@pytest.fixture(scope="module")
def world() -> World:
    return simulate(3, now=NOW, sessions=3000)


@pytest.fixture(scope="module")
def clean() -> World:
    return simulate(5, now=NOW, sessions=1500, quirks=False)


def _round(x: Any) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def _simple_segments(events: pd.DataFrame) -> pd.DataFrame:
    """The obvious reading of clean events: play/resume opens at ``at``, pause/end closes."""
    rows = []
    for sid, g in events.groupby("session_id", observed=True, sort=False):
        playback, opened = -1, None
        for typ, at in zip(g["type"].astype(str), g["at"], strict=True):
            if typ == "ready":
                playback, opened = playback + 1, None
            elif typ in ("play", "resume"):
                opened = at
            elif typ in ("pause", "end") and opened is not None:
                rows.append((sid, playback, opened, at))
                opened = None
        if opened is not None:
            rows.append((sid, playback, opened, np.nan))
    return pd.DataFrame(rows, columns=["session_id", "playback", "start", "end"])


_RANK = {"pause": 0, "end": 0, "seek.forward": 1, "seek.backward": 1, "ready": 2}


def _careful_segments(world: World) -> pd.DataFrame:
    """A careful reading of quirky events (analytics-semantics.md §5), written here from the
    notes, independently of the toolkit: canonical order within a second, a scrub's pause
    closes at the seek's ``from``, bounds checked against the wall clock, an open stretch at
    the end closed at the session's ``ended_at``."""
    se = world.sessions.set_index("session_id")
    durations = world.durations.to_dict()
    ev = world.events[world.events["video_id"].notna()]
    ev = ev.assign(
        _t=ev["emitted_at"].astype("int64") // 10**9,
        _r=ev["type"].astype(str).map(lambda t: _RANK.get(t, 3)),
        _i=np.arange(len(ev)),
    )
    rows: list[list[Any]] = []
    for sid, g in ev.groupby("session_id", observed=True, sort=False):
        key = str(sid)
        d = durations[se.loc[key, "video_id"]]
        t_end = se.loc[key, "ended_at"].value / 1e9
        for row in _careful_session(g.sort_values(["_t", "_r", "_i"]), d, t_end):
            rows.append([key, *row])
    out = pd.DataFrame(rows, columns=["session_id", "playback", "start", "end", "t0", "t1"])
    out["video_id"] = se.loc[out["session_id"], "video_id"].to_numpy()
    return out[out["end"] > out["start"]]


def _careful_session(
    g: pd.DataFrame, d: float, t_end: float, r_max: float = 2.0, tol: float = 1.5
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    rates: list[float] = []
    playback, opened, closed = -1, None, None

    def bounded(s0: float, w: float, end: float) -> float:
        if np.isnan(end) or not s0 - tol <= end <= min(d, s0 + w * r_max + tol):
            return min(s0 + w, d)  # an impossible bound: estimate from the wall clock
        if w >= 5:
            rates.append((end - s0) / w)
        return min(max(end, s0), d)

    for typ, at, frm, to, t in zip(
        g["type"].astype(str), g["at"], g["seek_from"], g["seek_to"], g["_t"], strict=True
    ):
        if typ == "ready":
            playback, opened, closed = playback + 1, None, None  # an open stretch: lost
        elif typ in ("play", "resume"):
            opened = opened or (at, t)
        elif opened is not None and typ in ("pause", "end"):
            rows.append([playback, opened[0], bounded(opened[0], t - opened[1], at), opened[1], t])
            closed, opened = (len(rows) - 1, t, typ), None
        elif opened is not None and typ.startswith("seek"):
            if opened[1] == t and abs(opened[0] - to) <= 1:
                continue  # the seek that led to this very play/resume
            rows.append([playback, opened[0], bounded(opened[0], t - opened[1], frm), opened[1], t])
            closed, opened = None, (to, t)
        elif typ.startswith("seek") and closed and closed[2] == "pause" and t - closed[1] <= 2:
            row = rows[closed[0]]
            if abs(row[2] - to) <= 1.5:  # the pause sat at the scrub target: use the origin
                row[2] = bounded(row[1], row[4] - row[3], frm)
    if opened is not None:
        rate = float(np.median(rates)) if rates else 1.0
        s0, t0 = opened
        rows.append([playback, s0, min(s0 + max(t_end - t0, 0) * rate, d), t0, t_end])
    return rows


def _passes(segments: pd.DataFrame, duration: float) -> np.ndarray:
    """Passes over each 1-second bin, summed over segments (fractional at the edges)."""
    grid = np.arange(int(np.ceil(duration)) + 1, dtype=float)
    s = segments["start"].to_numpy(float)
    e = segments["end"].to_numpy(float)
    covered = np.clip(grid[:, None] - s[None, :], 0, (e - s)[None, :]).sum(axis=1)
    return np.diff(covered)


# --------------------------------------------------------------------------------------
# Arguments, determinism


def test_same_seed_same_world() -> None:
    a = simulate(11, now=NOW, sessions=300)
    b = simulate(11, now=NOW, sessions=300)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert a.videos == b.videos and a.chapter_vtt == b.chapter_vtt
    assert a.live_streams == b.live_streams and a.webhooks == b.webhooks
    c = simulate(12, now=NOW, sessions=300)
    assert c.videos[0]["videoId"] != a.videos[0]["videoId"]
    assert not c.sessions["session_id"].equals(a.sessions["session_id"])


def test_resources_do_not_depend_on_session_count() -> None:
    a = simulate(4, now=NOW, sessions=10)
    b = simulate(4, now=NOW, sessions=500)
    assert a.videos == b.videos and a.video_status == b.video_status


def test_now_defaults_to_current_hour() -> None:
    w = simulate(0, sessions=20)
    assert w.now == w.now.floor("h") and str(w.now.tz) == "UTC"
    assert abs(pd.Timestamp.now(tz="UTC") - w.now) < pd.Timedelta(hours=1, minutes=1)
    naive = simulate(0, now="2026-03-01 12:00", sessions=5)
    assert naive.now == NOW


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"sessions": -1}, ValueError),
        ({"videos": 0}, ValueError),
        ({"days": 0}, ValueError),
        ({"live_share": 1.5}, ValueError),
        ({"quirks": {"nope": 0.1}}, ValueError),
        ({"quirks": {"lost_event": 2}}, ValueError),
        ({"quirks": "all"}, TypeError),
        ({"now": 12}, TypeError),
        ({"sessions": 1.5}, TypeError),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        simulate(0, **{"now": NOW, **kwargs})


def test_empty_world_has_the_columns() -> None:
    w = simulate(0, now=NOW, sessions=0)
    assert len(w.sessions) == len(w.events) == len(w.truth) == 0
    assert list(w.events.columns[:6]) == list(EVENT_COLUMNS)
    assert list(w.truth.columns[:7]) == list(SEGMENT_COLUMNS)


# --------------------------------------------------------------------------------------
# Shapes and ids


def test_frames_follow_the_schema(world: World) -> None:
    ev, se, tr = world.events, world.sessions, world.truth
    for frame, columns in ((ev, EVENT_COLUMNS), (tr, SEGMENT_COLUMNS)):
        assert list(frame.columns[: len(columns)]) == list(columns)
        expected = conform(frame, columns).dtypes
        assert (frame.dtypes[: len(columns)] == expected[: len(columns)]).all()
    for name in SESSION_COLUMNS:
        assert se[name].dtype == conform(se, SESSION_COLUMNS)[name].dtype, name
    assert list(se.columns[:5]) == [
        "session_id",
        "loaded_at",
        "ended_at",
        "video_id",
        "live_stream_id",
    ]
    assert se["session_id"].is_unique


def test_ids_look_like_api_video(world: World) -> None:
    assert all(ID["vi"].match(v["videoId"]) for v in world.videos)
    assert all(ID["li"].match(s["liveStreamId"]) for s in world.live_streams)
    assert all(ID["pl"].match(p["playerId"]) for p in world.players)
    assert all(ID["to"].match(t["token"]) for t in world.upload_tokens)
    assert world.sessions["session_id"].str.fullmatch(ID["ps"].pattern[1:-1]).all()
    players = {p["playerId"] for p in world.players}
    assert all(v["playerId"] in players for v in world.videos)


def _openapi_schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """An OpenAPI 3.0 component as JSON Schema (refs inlined, ``nullable`` honoured)."""

    def convert(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return convert(spec["components"]["schemas"][node["$ref"].split("/")[-1]])
            out = {k: convert(v) for k, v in node.items() if k not in ("example", "nullable")}
            if node.get("nullable") and "type" in node:
                out["type"] = [node["type"], "null"]
            if "enum" in out and node.get("nullable"):
                out["enum"] = [*out["enum"], None]
            return out
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    schema = convert(spec["components"]["schemas"][name])
    schema["additionalProperties"] = False
    return schema


def test_resources_validate_against_openapi(world: World) -> None:
    spec = yaml.safe_load(SPEC.read_text())
    checks = {
        "video": world.videos,
        "video-status": list(world.video_status.values()),
        "live-stream": world.live_streams,
        "player-theme": world.players,
        "upload-token": world.upload_tokens,
        "webhook": world.webhooks,
        "caption": [c for cs in world.captions.values() for c in cs],
        "chapter": [c for cs in world.chapters.values() for c in cs],
    }
    for name, items in checks.items():
        assert items, name
        schema = _openapi_schema(spec, name)
        for item in items:
            jsonschema.validate(item, schema)
    for v in world.videos:
        assert set(_openapi_schema(spec, "video")["properties"]) == set(v)
    durations = world.durations
    assert durations.between(30, 1800).all() and durations.nunique() > 3
    assert (durations < 300).any() and (durations >= 300).any()


def test_titles_carry_html_and_non_ascii(world: World) -> None:
    titles = [v["title"] for v in world.videos]
    assert any("<script>" in t and "&" in t and '"' in t for t in titles)
    assert any(not t.isascii() for t in titles)


def test_chapters_vtt_cover_the_video(world: World) -> None:
    assert world.chapter_vtt
    durations = world.durations
    for (vid, lang), text in world.chapter_vtt.items():
        assert text.startswith("WEBVTT\n")
        assert any(c["language"] == lang for c in world.chapters[vid])
        stamps = re.findall(
            r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})", text
        )
        assert len(stamps) >= 3

        def sec(h: str, m: str, s: str, ms: str) -> float:
            return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

        cues = [(sec(*c[:4]), sec(*c[4:])) for c in stamps]
        assert cues[0][0] == 0 and cues[-1][1] == durations[vid]
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in itertools.pairwise(cues))


def test_sessions_are_consistent(world: World) -> None:
    se = world.sessions
    assert (se["video_id"].isna() ^ se["live_stream_id"].isna()).all()
    assert se["live_stream_id"].notna().any()
    assert (se["loaded_at"] <= se["ended_at"]).all() and (se["ended_at"] <= world.now).all()
    runs_on = {o[0]: o[3] for o in cat.OPERATING_SYSTEMS}
    pairs = se[["device_type", "os_name"]].astype(str).drop_duplicates()
    assert all(dev in runs_on[os] for dev, os in pairs.itertuples(index=False))
    assert se["device_type"].nunique() >= 3 and se["location_country"].nunique() >= 8
    video = se["video_id"].notna()
    assert se.loc[video, "metadata"].map(lambda m: m["plan"] in ("free", "pro")).all()
    # A share of sessions in the last day, so that /data's default window has data.
    recent = se["loaded_at"] >= world.now - pd.Timedelta(days=1)
    assert 0.15 < recent.mean() < 0.5
    assert (se["loaded_at"] >= world.now - pd.Timedelta(days=40)).mean() > 0.99


# --------------------------------------------------------------------------------------
# Truth


def test_truth_invariants(world: World) -> None:
    tr = world.truth
    assert (tr["start"] >= 0).all() and (tr["start"] < tr["end"]).all()
    video = tr["video_id"].notna()
    dur = tr.loc[video, "video_id"].astype(str).map(world.durations)
    assert (tr.loc[video, "end"] <= dur + 1e-9).all()
    wall = (tr["ended_at"] - tr["started_at"]).dt.total_seconds()
    media = tr["end"] - tr["start"]
    assert np.allclose(media, wall * tr["rate"], atol=1e-6)
    assert (media <= 2 * wall + 1e-6).all() and (tr["rate"] > 1).any()
    # Stretches sit inside their session and do not overlap in wall time.
    se = world.sessions.set_index("session_id")
    sid = tr["session_id"].astype(str)
    assert (tr["started_at"].to_numpy() >= se.loc[sid, "loaded_at"].to_numpy()).all()
    assert (tr["ended_at"].to_numpy() <= se.loc[sid, "ended_at"].to_numpy()).all()
    same = sid.values[1:] == sid.values[:-1]
    assert (tr["started_at"].to_numpy()[1:][same] >= tr["ended_at"].to_numpy()[:-1][same]).all()


def test_truth_has_real_retention_shapes(world: World) -> None:
    tr = world.truth[world.truth["video_id"].notna()]
    dur = tr["video_id"].astype(str).map(world.durations)
    frac_end = (tr["end"] / dur).groupby(tr["session_id"], observed=True).max()
    # Steep early drop-off, some completions, and plenty in between.
    assert 0.1 < (frac_end < 0.15).mean() < 0.45
    assert 0.1 < (frac_end > 0.99).mean() < 0.6
    # Rewatches: some sessions cover a position more than once (backward scrubs).
    back = tr.groupby("session_id", observed=True)["start"].diff() < -1
    assert back.any()
    # Reloads: several playbacks in one session; impressions without play.
    assert (tr["playback"] > 0).any()
    n_ready = world.events[world.events["type"] == "ready"].groupby("session_id", observed=True)
    assert (n_ready.size() > 1).any()


def test_every_stretch_opens_with_an_event(world: World) -> None:
    tr = world.truth
    ev = world.events
    opening = ev[ev["type"].isin(["play", "resume"])]
    keys = set(
        zip(
            opening["session_id"].astype(str),
            opening["at"].astype(float),
            opening["emitted_at"].astype("int64") // 10**9,
            strict=True,
        )
    )
    starts = zip(
        tr["session_id"].astype(str),
        _round(tr["start"]),
        tr["started_at"].astype("int64") // 10**9,
        strict=True,
    )
    found = np.mean([(s, a, t) in keys or (s, a, t + 1) in keys for s, a, t in starts])
    assert found > 0.97  # the rest: events lost on purpose


# --------------------------------------------------------------------------------------
# Events and quirks


def test_events_are_grouped_and_in_order(world: World) -> None:
    ev = world.events
    codes = ev["session_id"].cat.codes.to_numpy()
    changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    assert len(np.unique(codes[np.r_[0, changes]])) == len(changes) + 1  # contiguous
    ns = ev["emitted_at"].astype("int64").to_numpy()
    assert (ns % 10**9 == 0).all()
    same = codes[1:] == codes[:-1]
    assert (np.diff(ns)[same] >= 0).all()
    for col in ("at", "seek_from", "seek_to"):
        values = ev[col].dropna().to_numpy()
        assert (values == np.round(values)).all() and (values >= 0).all()
    seeks = ev["type"].isin(["seek.forward", "seek.backward"])
    assert ev.loc[seeks, "at"].isna().all() and ev.loc[~seeks, "seek_to"].isna().all()
    first = ev.groupby("session_id", observed=True)["type"].first()
    assert (first == "ready").all()
    se = world.sessions.set_index("session_id")
    loaded = se.loc[ev["session_id"].astype(str), "loaded_at"].to_numpy()
    ended = se.loc[ev["session_id"].astype(str), "ended_at"].to_numpy()
    assert (ev["emitted_at"].to_numpy() >= loaded).all()
    assert (ev["emitted_at"].to_numpy() <= ended).all()


def test_clean_events_reconstruct_exactly(clean: World) -> None:
    assert (clean.events["quirk"] == "none").all()
    ev = clean.events[clean.events["live_stream_id"].isna()]
    rec = _simple_segments(ev).reset_index(drop=True)
    tr = clean.truth[clean.truth["live_stream_id"].isna()].reset_index(drop=True)
    assert len(rec) == len(tr)
    assert (rec["session_id"].astype(str) == tr["session_id"].astype(str)).all()
    assert (rec["playback"] == tr["playback"]).all()
    assert (rec["start"] == _round(tr["start"])).all()
    assert (rec["end"] == _round(tr["end"])).all()


def test_clean_events_have_no_quirks(clean: World) -> None:
    ev = clean.events
    t = ev["type"].astype(str).to_numpy()
    sid = ev["session_id"].cat.codes.to_numpy()
    same = sid[1:] == sid[:-1]
    assert not ((t[1:] == "pause") & (t[:-1] == "pause") & same).any()  # no duplicates
    assert not ((t[1:] == "end") & (t[:-1] == "pause") & same).any()
    seeks = ev["type"].isin(["seek.forward", "seek.backward"])
    assert ev.loc[seeks, "seek_from"].notna().all()
    # Seeks come before the resume they cause, and carry the scrub's true origin.
    assert not ((t[1:] == "seek.forward") & (t[:-1] == "resume") & same).any()
    assert not (ev.loc[seeks, "seek_from"] == ev.loc[seeks, "seek_to"]).any()


def test_quirks_happen_at_their_rates(world: World) -> None:
    ev = world.events
    q = world.meta["quirks"]
    assert q == QUIRKS
    t = ev["type"].astype(str).to_numpy()
    sid = ev["session_id"].cat.codes.to_numpy()
    same = np.r_[sid[1:] == sid[:-1], False]
    nxt = np.append(t[1:], "")
    # Scrubs: pause(at=target) then resume then seek, all in the same second.
    seek_after = (t == "resume") & np.char.startswith(nxt.astype(str), "seek") & same
    seek_before = np.char.startswith(t.astype(str), "seek") & (nxt == "resume") & same
    share = seek_after.sum() / (seek_after.sum() + seek_before.sum())
    assert abs(share - q["seek_after_resume"]) < 0.05
    counts = ev["quirk"].value_counts()
    for name in ("pause_at_target", "duplicate_pause", "broken_from", "replay_seek"):
        assert counts[name] > 0, name
    seeks = ev["type"].str.startswith("seek")
    broken = (ev["quirk"] == "broken_from") & seeks
    assert 0.005 < broken.sum() / seeks.sum() < 0.05
    assert ev.loc[seeks, "seek_from"].isna().any()
    # The collector's float direction rule: a forward seek with from == to exists.
    fwd = ev["type"] == "seek.forward"
    assert (ev.loc[fwd, "seek_from"] == ev.loc[fwd, "seek_to"]).any()
    # Replays after end: play at 0 then seek.backward duration -> 0.
    replay = (t == "play") & (np.append(t[1:], "") == "seek.backward") & same
    assert replay.any()
    # Sessions that end on play/resume (unload pause lost).
    last = ev.groupby("session_id", observed=True)["type"].last().astype(str)
    assert last.isin(["play", "resume"]).mean() > 0.05


def test_quirk_switches() -> None:
    w = simulate(2, now=NOW, sessions=800, quirks={"broken_from": 0.5, "lost_event": 0.0})
    seeks = w.events["type"].str.startswith("seek")
    broken = (w.events["quirk"] == "broken_from") & seeks
    assert 0.4 < broken.sum() / seeks.sum() < 0.6
    assert resolve_quirks(False) == dict.fromkeys(QUIRKS, 0.0)
    hidden = simulate(2, now=NOW, sessions=300, quirks={"hidden_seek": 1.0})
    assert not (hidden.events["quirk"] == "pause_at_target").any()  # no in-play scrub heard
    assert (hidden.events["type"] == "seek.forward").any()  # scrubs while paused still are
    off = simulate(2, now=NOW, sessions=300, quirks={"lost_unload_pause": 0.0})
    last = off.events.groupby("session_id", observed=True)["type"].last().astype(str)
    live = off.sessions.set_index("session_id")["live_stream_id"].notna()
    # Without lost unload pauses, a video session ends on pause/end (or ready: impression).
    assert (
        last[~live.reindex(last.index.astype(str)).to_numpy()]
        .isin(["pause", "end", "ready"])
        .mean()
        > 0.99
    )


def test_live_sessions_are_simple(world: World) -> None:
    ev = world.events[world.events["live_stream_id"].notna()]
    assert len(ev) and set(ev["type"].astype(str)) <= {"ready", "play", "pause", "resume", "end"}
    tr = world.truth[world.truth["live_stream_id"].notna()]
    assert len(tr) and (tr["rate"] == 1).all()
    # The stream on air now has viewers in the last hour.
    on_air = [s["liveStreamId"] for s in world.live_streams if s["broadcasting"]]
    recent = tr["ended_at"] > world.now - pd.Timedelta(hours=1)
    assert tr.loc[recent, "live_stream_id"].astype(str).isin(on_air).any()


def test_quirky_events_still_carry_the_truth(world: World) -> None:
    """A careful reconstruction recovers the per-second pass counts within 2 % of watch time."""
    rec = _careful_segments(world)
    tr = world.truth[world.truth["video_id"].notna()]
    watched = error = 0.0
    for vid, d in world.durations.items():
        truth = _passes(tr[tr["video_id"] == vid], d)
        got = _passes(rec[rec["video_id"] == vid], d)
        watched += truth.sum()
        error += np.abs(truth - got).sum()
    assert error / watched < 0.02


def test_odd_now_keeps_whole_seconds_and_milliseconds() -> None:
    w = simulate(1, now="2026-03-01T12:00:00.250400Z", sessions=200)
    assert (w.events["emitted_at"].astype("int64") % 10**9 == 0).all()
    assert (w.sessions["loaded_at"].astype("int64") % 10**6 == 0).all()
    ended = w.sessions["ended_at"]
    assert ((ended.astype("int64") % 10**6 == 0) | (ended == w.now)).all()  # still on air
    assert (w.events["emitted_at"] <= w.now).all() and (w.truth["ended_at"] <= w.now).all()


def test_meta_describes_the_world(world: World) -> None:
    meta = world.meta
    assert set(meta["profiles"]) == {v["videoId"] for v in world.videos}
    on_air = [b for b in meta["broadcasts"] if b["start"] <= world.now <= b["end"]]
    assert on_air and all(
        b["liveStreamId"] == world.live_streams[0]["liveStreamId"] for b in on_air
    )
    assert meta["args"]["sessions"] == len(world.sessions)


@pytest.mark.parametrize("days", [0.5, 30])
def test_resource_times_are_in_the_past(days: float) -> None:
    w = simulate(6, now=NOW, days=days, sessions=50)
    stamps = [
        pd.Timestamp(item[key])
        for items in (w.videos, w.players, w.live_streams, w.webhooks, w.upload_tokens)
        for item in items
        for key in ("createdAt", "updatedAt", "publishedAt")
        if key in item
    ]
    assert stamps and max(stamps) <= w.now
    first_session = w.sessions["loaded_at"].min()
    assert all(pd.Timestamp(v["publishedAt"]) < first_session for v in w.videos)


# --------------------------------------------------------------------------------------
# Collector profiles that follow real browsers (analytics-semantics.md §1.8)


def _seeks_in_play(w: World) -> pd.DataFrame:
    ev = w.events
    seeks = ev[ev["type"].astype(str).str.startswith("seek")]
    return seeks[seeks["quirk"] == "broken_from"]


def test_hlsjs_profile_sends_stale_in_play_seek_origins() -> None:
    w = simulate(3, now=NOW, sessions=600, collector="hlsjs")
    ev = w.events
    # An in-play seek is only a seek: no pause at its target, no resume from it.
    assert not (ev["quirk"] == "pause_at_target").any()
    stale = _seeks_in_play(w)
    assert len(stale) > 20
    # Its from is where the stretch being watched began (the last media event's position),
    # not where the player was.
    starts = w.truth[["session_id", "start"]].astype({"session_id": str})
    seeks = stale.astype({"session_id": str}).rename_axis("row").reset_index()
    pairs = seeks.merge(starts, on="session_id")
    near = (pairs["seek_from"] - pairs["start"]).abs() <= 1.0
    matched = near.groupby(pairs["row"]).any()
    assert matched.mean() > 0.9
    # A replay is resume(at=duration) then seek.backward duration -> 0.
    replays = ev[(ev["quirk"] == "replay_seek")]
    assert len(replays) and (replays["seek_to"] == 0).all()


def test_rate_switches_within_a_stretch_move_the_stale_origins_and_nothing_else() -> None:
    kw = {"now": NOW, "sessions": 600, "collector": "hlsjs"}
    plain = simulate(3, **kw)
    switched = simulate(3, rate_changes=0.5, **kw)
    # The same viewers watch the same media; the switched stretches take less wall time.
    media = ["session_id", "playback", "start", "end"]
    pd.testing.assert_frame_equal(switched.truth[media], plain.truth[media])
    video = switched.truth["video_id"].notna()
    faster = switched.truth.loc[video, "rate"] > plain.truth.loc[video, "rate"] + 1e-9
    assert 0.1 < faster.mean() < 0.6
    wall = (switched.truth["ended_at"] - switched.truth["started_at"]).dt.total_seconds()
    mean_rate = (switched.truth["end"] - switched.truth["start"]) / wall
    long = video & (wall > 1)
    assert np.allclose(mean_rate[long], switched.truth.loc[long, "rate"], rtol=0.02)
    # An in-play seek's stale origin is then the switch back, past the stretch's start.
    starts = switched.truth[["session_id", "start", "end"]].astype({"session_id": str})
    seeks = _seeks_in_play(switched).astype({"session_id": str}).rename_axis("row")
    pairs = seeks.reset_index().merge(starts, on="session_id")
    inside = (pairs["seek_from"] > pairs["start"] + 2) & (pairs["seek_from"] < pairs["end"])
    assert inside.groupby(pairs["row"]).any().mean() > 0.1
    assert switched.meta["args"]["rate_changes"] == 0.5
    with pytest.raises(ValueError, match="rate_changes"):
        simulate(3, now=NOW, sessions=10, rate_changes=1.5)


def test_plugin_profile_sends_nothing_on_unload_and_loses_what_was_queued() -> None:
    kw = {"now": NOW, "sessions": 800}
    destroy = simulate(4, collector="hlsjs", **kw)
    plugin = simulate(4, collector="hlsjs_plugin", **kw)
    assert not (plugin.events["quirk"] == "duplicate_pause").any()
    assert (destroy.events["quirk"] == "duplicate_pause").any()
    # Same viewers, fewer events: the unload pauses and the queued events are gone.
    media = ["session_id", "playback", "start", "end"]
    pd.testing.assert_frame_equal(plugin.truth[media], destroy.truth[media])
    assert len(plugin.events) < len(destroy.events)
    # Sessions end at the last ping heard, never after the last true activity.
    beats = plugin.meta["heartbeats"]
    assert len(beats) > 0
    last = plugin.truth.groupby("session_id", observed=True)["ended_at"].max()
    hb_last = beats.groupby("session_id", observed=True)["heartbeat_at"].max()
    both = last.index.intersection(hb_last.index)
    assert (hb_last[both] <= last[both] + pd.Timedelta(seconds=1)).all()


def test_pings_precision_and_viewer_variants() -> None:
    w = simulate(5, now=NOW, sessions=300, collector="videojs", precision="pings")
    at = w.events["at"].dropna()
    assert (at != at.round()).any()  # float positions
    ns = w.events["emitted_at"].astype("int64")
    assert (ns % 1_000_000_000 != 0).any() and (ns % 1_000_000 == 0).all()
    fast = simulate(5, now=NOW, sessions=300, rates={2.0: 1})
    video = fast.truth[fast.truth["video_id"].notna()]
    assert (video["rate"] == 2.0).all()
    stalled = simulate(5, now=NOW, sessions=300, stalls=0.2)
    assert (stalled.truth["rate"] < 1.0).any()
    with pytest.raises(ValueError, match="collector"):
        simulate(5, now=NOW, sessions=10, collector="flash")
    with pytest.raises(ValueError, match="precision"):
        simulate(5, now=NOW, sessions=10, precision="exact")


def test_reconstruction_holds_on_every_profile() -> None:
    from apivideo_insights.sandbox.world import pass_difference

    profiles: list[tuple[str, dict[str, Any]]] = [
        ("hlsjs", {}),
        ("hlsjs_downloading", {}),
        ("hlsjs_plugin", {}),
        ("hlsjs", {"rate_changes": 0.3}),  # 2x for a while, unreported
    ]
    for collector, extra in profiles:
        w = simulate(6, now=NOW, sessions=800, collector=collector, **extra)
        out = avi.segments(w.events, sessions=w.sessions, duration=w.durations)
        truth = w.truth[w.truth["video_id"].notna()]
        out = out[out["video_id"].notna()]
        watched = (truth["end"] - truth["start"]).sum()
        assert pass_difference(out, truth) <= 0.04 * watched, collector
