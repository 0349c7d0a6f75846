"""What was watched: continuous watched segments reconstructed from player events.

The legacy collector sends ``ready``, ``play``, ``pause``, ``resume``, ``seek.forward``,
``seek.backward`` and ``end`` with integer positions and one-second ``emitted_at``; around a
scrub it emits ``pause(at=target)``, ``resume(at=target)`` and ``seek(from=origin,
to=target)`` in the same second, in no reliable order (see ``DESIGN.md``, "What the events
mean"). :func:`segments` turns such events into one row per continuous stretch of media
watched, for all sessions at once, with numpy operations over whole columns (no Python loop
per event or per session).

The rules, in order:

1. **Validate and clean.** Rows with no session, no type or no ``emitted_at`` are dropped;
   so are ``play``/``resume``/``pause``/``end`` rows whose ``at`` is missing, negative or
   infinite, and seeks whose ``to`` is. A seek whose ``from`` is unusable is kept (its
   ``to`` still tells where playback went) and any bound that would come from it is
   estimated from the wall clock instead.
2. **Order.** Events are sorted by session (in order of first appearance), then
   ``emitted_at``; ties (with the API's
   one-second timestamps: the same second) go closing events (``pause``, ``end``) first, then
   seeks, then ``ready``, then opening events (``play``, ``resume``), and list order
   otherwise. Consecutive identical rows are dropped as duplicates.
3. **Playbacks.** A session holds several playbacks (reloads reuse the session id): a new
   one starts at each ``ready`` (the first ``ready`` of a session, when it is its first event,
   starts playback 0).
4. **State machine per playback.** ``play``/``resume`` while paused opens a segment at its
   ``at``, or at the ``to`` of a seek just before it (within ``scrub_window`` seconds).
   ``pause``/``end`` while playing closes it at ``at``, except before a scrub: a ``pause``
   whose ``at`` equals (within 1 s) the ``to`` of the seek right after it (within
   ``scrub_window``) closes at that seek's ``from``. A seek while playing closes at ``from``
   and reopens at ``to``. A ``play``/``resume`` while playing whose ``at`` agrees with the
   previous event's position plus the wall time since (see 5.), and a ``pause``/``end`` while
   paused at or behind the position the player was left at, change nothing and are counted
   as redundant. Otherwise they are evidence of a lost event: a ``play``/``resume`` at an
   unexpected ``at`` closes the segment at that ``at`` and reopens there (the pause was
   lost); a ``pause``/``end`` while paused that is ahead of where the player was left (by no
   more than the clock allows) adds the segment in between, estimated (the play was lost).
   What real browsers send (research notes §1.8) follows from the same rules: a scrub while
   paused is pause(at=origin), seek(s), resume(at=target); a replay is pause/end at the
   duration, resume(at=duration), seek.backward duration -> 0; duplicate readies and pauses
   change nothing.
5. **Wall clock.** A closing position is kept only if it is ``>= start`` and within
   ``[start + W * min_rate - tolerance, start + W * max_rate + tolerance]``, where ``W`` is
   the wall time elapsed since the segment opened; otherwise (broken ``from`` such as
   ``seek.forward 17 -> 17`` or ``0 -> target``) the end is ``start + W * rate`` and the
   segment is ``estimated``. ``rate`` is the playback's own, from its trustworthy spans:
   media over wall time of the segments a pause or an end closed at the player's position,
   once they span 10 s of wall time (else its session's, else 1), clipped to
   ``[max(min_rate, 0.25), max_rate]`` and, for integer data (whole positions and seconds),
   rounded to a quarter (players offer rates in quarter steps; rates are never reported).
   An in-play seek's true origin is ``start + W * rate``: a ``from`` more than
   ``tolerance`` behind it is stale (the player's position at its last media event, often
   where the stretch began) and the clock is used. A ``pause``/``end`` the clock cannot
   reach from the start (a seek that sent nothing, as video.js does while playing) splits
   the ``W * rate`` media seconds: half from the start, half leading to the close
   (``attrs["split"]``), both estimated.
6. **Open at the end.** A segment still open when its playback ends (the tab closed or
   reloaded while playing, its last events lost) has an interval-censored end
   (``open_end="estimate"``, the default): it came after the last sign of life (the
   playback's last event; its last heartbeat, when ``sessions`` has the ``heartbeats`` of
   ``avi.read_pings``; the session's ``ended_at``, the last ping received, for its last
   playback) and before the next ``ready`` and, where pings are known, before the next timer
   ping would have come (10 s). A next ``ready`` within one ping of the last sign of life
   is the same tab reloading: the end is half a second before it. Otherwise the end is the
   mean length of the viewer's own uninterrupted runs (those a pause or an end closed, in
   the same session; so the result never depends on other sessions, blocks or dask
   partitions) that fall within that interval, with 3 such runs at least; else the
   interval's middle when pings bound it, else ``open_cap`` seconds after the last sign of
   life. ``"cap"`` is the older rule (``ended_at``, else ``open_cap``
   seconds after the last event, never after the next ``ready``); ``"drop"`` drops those
   segments. The end is ``start + elapsed * rate`` and estimated.
7. **Clean up.** Positions are clamped to ``[0, duration]``; segments starting at or past
   the duration, or shorter than ``min_length``, are dropped; segments of one playback that
   touch (``|next start - previous end| <= merge_gap``) are merged, so that a pause/resume
   does not count a second pass.

Nothing is dropped silently: ``result.attrs`` holds

* ``"events"``: rows in; ``"events_used"``: rows that entered the state machine;
  ``"dropped_events"``: the rest (``events == events_used + dropped_events``);
* ``"dropped"``: reason -> count, for events (``missing_session``, ``missing_type``,
  ``missing_time``, ``bad_position``, ``duplicate``, ``redundant_open``,
  ``redundant_close``) and for segments (``open_at_end``, ``past_duration``,
  ``short``); every reason is present, with 0 when nothing was dropped for it;
* ``"seek_from_missing"``: seeks kept without a usable ``from``;
* ``"segments_raw"``: segments before clean-up; ``"dropped_segments"``; ``"merged"``: segments
  absorbed into their predecessor (``segments_raw == len(result) + dropped_segments +
  merged``);
* ``"estimated"``: rows of the result with ``estimated=True``; ``"estimated_seconds"``:
  the media seconds of those rows, ``"watched_seconds"``: of all rows, and
  ``"estimated_share"`` the first over the second; ``"open_at_end"``: segments that were
  still open at the end of their playback (``"closed_by_session"`` of them bounded by the
  session's ``ended_at`` only, ``"closed_by_heartbeats"`` by known pings,
  ``"closed_by_runs"`` estimated from the viewer's own runs); ``"inferred"``: segments added for
  a lost play/resume; ``"split"``: stretches added before a close the clock cannot reach;
* ``"sessions"``, ``"playbacks"``: counted over the events used; ``"unclamped_sessions"``:
  sessions with events but no known duration;
* ``"options"``: the options used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _durations
from . import schema as _schema
from ._dask import dask_aware

__all__ = ["segments"]

_NS = 1_000_000_000
_NAT = np.iinfo(np.int64).min

# Event type codes follow _schema.EVENT_TYPES: ready, play, pause, resume, seek.forward,
# seek.backward, end.
_READY, _PLAY, _PAUSE, _RESUME, _SEEK_FWD, _SEEK_BWD, _END = range(7)
# Internal kinds, numbered in their within-a-second order: closing, seeking, ready, opening.
_CLOSE, _SEEK, _READYK, _OPEN = 0, 1, 2, 3
_KIND = np.array([_READYK, _OPEN, _CLOSE, _OPEN, _SEEK, _SEEK, _CLOSE], dtype=np.int8)
# A pause at the scrub target and the seek's ``to`` agree within integer rounding.
_SCRUB_MATCH = 1.0
# A playback's own rate is trusted once its trusted segments add up to this much wall time;
# it is never taken below this floor (a stalled player is not a slow one).
_RATE_MIN_WALL = 10.0
_RATE_FLOOR = 0.25

_EVENT_REASONS = (
    "missing_session",
    "missing_type",
    "missing_time",
    "bad_position",
    "duplicate",
    "redundant_open",
    "redundant_close",
)
_SEGMENT_REASONS = ("open_at_end", "past_duration", "short")


@dask_aware
def segments(
    events: pd.DataFrame,
    *,
    duration: float | pd.Series | Mapping[str, float] | None = None,
    sessions: pd.DataFrame | None = None,
    max_rate: float = 2.0,
    min_rate: float = 0.5,
    tolerance: float = 2.0,
    min_length: float = 0.25,
    merge_gap: float = 1.0,
    scrub_window: float = 2.0,
    open_end: Literal["estimate", "cap", "drop"] = "estimate",
    open_cap: float = 5.0,
) -> pd.DataFrame:
    """Reconstruct the watched segments of every session from its player events.

    Parameters
    ----------
    events : pandas.DataFrame
        Player events with the columns of ``api.events`` / ``avi.read_events``
        (``session_id, type, at, seek_from, seek_to, emitted_at``). Any dtypes that convert
        cleanly are accepted (strings, numbers, naive timestamps taken as UTC). An extra
        ``video_id`` or ``live_stream_id`` column is carried to the result.
    duration : float, pandas.Series or mapping, optional
        Media duration in seconds, to clamp positions: one number for every session, or
        values indexed by ``session_id`` or by ``video_id`` (the index name decides, else
        whichever ids the index matches more of; ties go to videos when they are known).
        Sessions it does not cover, and every session when it is None, get the largest
        ``at`` of an ``end`` event of their video (of their session when the video is
        unknown); with no ``end`` event either, positions are not clamped (counted in
        ``attrs["unclamped_sessions"]``).
    sessions : pandas.DataFrame, optional
        Sessions with ``session_id`` and ``ended_at`` (``api.video_sessions``, or
        ``avi.read_pings`` with its ``heartbeats``): evidence for when a segment left open
        ended. Its ``video_id`` / ``live_stream_id`` columns are carried to the result.
    max_rate : float, default 2.0
        Fastest playback rate believed: a segment cannot cover more media than
        ``wall time * max_rate + tolerance``.
    min_rate : float, default 0.5
        Slowest average rate believed while playing: a segment open for ``W`` seconds that
        covers less than ``W * min_rate - tolerance`` media seconds (a ``from`` of 0, a
        hidden seek back) gets its end from the clock. 0 turns this check off.
    tolerance : float, default 2.0
        Seconds of slack in that check, for integer ``at`` and one-second ``emitted_at``.
    min_length : float, default 0.25
        Segments shorter than this (media seconds, after clamping) are dropped (edX's rule).
    merge_gap : float, default 1.0
        Consecutive segments of one playback whose start is within this of the previous
        end are merged into one.
    scrub_window : float, default 2.0
        Seconds within which a seek pairs with the pause before it and the play/resume
        after it.
    open_end : {"estimate", "cap", "drop"}, default "estimate"
        A segment still open at the end of its playback: its end estimated from the
        evidence (heartbeats, ``ended_at``, the next ``ready``, how long the viewer's runs
        last; rule 6 of the module docstring), or closed ``open_cap`` seconds after the
        playback's last event (``ended_at`` for the last playback), or dropped.
    open_cap : float, default 5.0
        Seconds of watching assumed after the last sign of life when nothing else tells.

    Returns
    -------
    pandas.DataFrame
        Columns ``session_id, playback, start, end, started_at, ended_at, estimated``
        (``_schema.SEGMENT_COLUMNS``), then ``video_id`` / ``live_stream_id`` when known;
        grouped by session (in order of first appearance in ``events``), then in time order.
        ``attrs`` counts what was dropped and why (see the module docstring).

    Raises
    ------
    ValueError
        When ``events`` lacks a column or a column holds values of the wrong type, or an
        option is out of range.

    Examples
    --------
    >>> import pandas as pd
    >>> import apivideo_insights as avi
    >>> ev = pd.DataFrame({
    ...     "session_id": "s1",
    ...     "type": ["ready", "play", "pause", "resume", "seek.forward", "end"],
    ...     "at": [0, 0, 7, 21, None, 30],
    ...     "seek_from": [None, None, None, None, 7, None],
    ...     "seek_to": [None, None, None, None, 21, None],
    ...     "emitted_at": pd.to_datetime(["2021-09-15 21:35:50", "2021-09-15 21:35:57",
    ...         "2021-09-15 21:36:05", "2021-09-15 21:36:19", "2021-09-15 21:36:19",
    ...         "2021-09-15 21:36:28"], utc=True),
    ... })
    >>> avi.segments(ev)[["session_id", "start", "end", "estimated"]]
      session_id  start   end  estimated
    0         s1    0.0   7.0      False
    1         s1   21.0  30.0      False
    """
    _check_options(
        max_rate, min_rate, tolerance, min_length, merge_gap, scrub_window, open_end, open_cap
    )
    ev = _validate_events(events)
    options: dict[str, Any] = {
        "max_rate": max_rate,
        "min_rate": min_rate,
        "tolerance": tolerance,
        "min_length": min_length,
        "merge_gap": merge_gap,
        "scrub_window": scrub_window,
        "open_end": open_end,
        "open_cap": open_cap,
    }
    # Durations are per video, over all sessions: decided once, before any split; so are
    # the facts of sessions (ended_at, heartbeats) and the videos open runs are judged by.
    dur_by_code = _durations_of(ev, duration, sessions)
    cats = ev["session_id"].cat.categories
    facts = _SessionFacts(
        ended=_session_ended(sessions, cats),
        beats=_heartbeats(sessions, cats),
        video=_video_codes(ev, sessions, cats),
    )
    if len(ev) <= _BLOCK_EVENTS:
        blocks = [_block_raw(ev, sessions=sessions, options=options)]
    else:
        blocks = [
            _block_raw(ev[rows], sessions=sessions, options=options)
            for rows in _session_blocks(ev["session_id"].cat.codes.to_numpy(), _BLOCK_EVENTS)
        ]
    # How long uninterrupted runs last, per video, over every block: the evidence for the
    # ends that the events do not tell.
    # Grouped by session (a viewer's own runs): the estimate then never depends on which
    # other sessions share a block or a dask partition.
    by_session = np.arange(len(cats), dtype=np.int64)
    runs = _Runs.of([b.raw for b in blocks], by_session) if open_end == "estimate" else None
    parts = [
        _block_frame(b, facts=facts, runs=runs, dur_by_code=dur_by_code, options=options)
        for b in blocks
    ]
    if len(parts) == 1:
        return parts[0]
    frame = pd.concat(parts, ignore_index=True)
    frame.attrs = _merge_attrs([part.attrs for part in parts])
    return frame


#: Inputs larger than this are reconstructed a block of whole sessions at a time, each of
#: about this many events: the working arrays (a few hundred bytes an event) then stay
#: bounded whatever the input size, and the result is the same as in one go.
_BLOCK_EVENTS = 1_000_000


def _durations_of(ev: pd.DataFrame, duration: Any, sessions: pd.DataFrame | None) -> np.ndarray:
    """Duration per session category (NaN = unknown), from all of ``ev`` at once."""
    cats = ev["session_id"].cat.categories
    codes = ev["session_id"].cat.codes.to_numpy()
    rows = np.flatnonzero(codes >= 0)
    ids = _session_ids(ev, sessions, cats, rows, codes[rows])
    del rows
    # Only the end events that reconstruction would keep count towards an inferred length.
    ty = _type_codes(ev["type"])
    ends = np.flatnonzero((codes >= 0) & (ty == _END))
    at = ev["at"].to_numpy(dtype=np.float32, na_value=np.nan)[ends]
    t = ev["emitted_at"].array.asi8[ends] if len(ev) else np.empty(0, np.int64)
    usable = np.isfinite(at) & (at >= 0) & (t != _NAT)
    ends = ends[usable]
    end_at = np.full(len(cats), np.nan)
    np.fmax.at(end_at, codes[ends], at[usable].astype(np.float64))
    return _durations.per_session(duration, pd.Index(cats.astype(str)), ids.get("video_id"), end_at)


def _session_blocks(codes: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Boolean row masks, each holding whole sessions and about ``size`` events.

    Blocks follow the order of first appearance, so that concatenating the blocks' results
    keeps the sessions in the order a single pass gives. Rows without a session go with
    the first block (where they are counted as dropped).
    """
    ncat = int(codes.max()) + 1 if len(codes) else 0
    per_code = np.bincount(codes[codes >= 0], minlength=ncat)
    rank = _appearance_rank(codes, ncat)
    seen = np.flatnonzero(per_code)
    seen = seen[np.argsort(rank[seen], kind="stable")]
    before = np.cumsum(per_code[seen]) - per_code[seen]
    block_of_code = np.zeros(ncat, dtype=np.int64)
    block_of_code[seen] = before // size
    row_block = np.where(codes >= 0, block_of_code[np.maximum(codes, 0)], 0)
    for block in range(int(row_block.max()) + 1 if len(row_block) else 0):
        yield row_block == block


def _merge_attrs(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up the blocks' counts (``options`` are the same in every block)."""
    merged: dict[str, Any] = {}
    for key, value in parts[0].items():
        if key == "options":
            merged[key] = value
        elif key == "estimated_share":
            continue
        elif isinstance(value, dict):
            merged[key] = {k: sum(p[key][k] for p in parts) for k in value}
        else:
            merged[key] = sum(p[key] for p in parts)
    # Seconds are rounded to the microsecond: the same whatever the blocks' summing order.
    watched = merged["watched_seconds"] = round(merged["watched_seconds"], 6)
    est = merged["estimated_seconds"] = round(merged["estimated_seconds"], 6)
    merged["estimated_share"] = round(est / watched, 9) if watched > 0 else 0.0
    return {key: merged[key] for key in parts[0]}


class _Block:
    """What phase one of a block left for phase two: its raw segments and counts."""

    dtype: pd.CategoricalDtype
    raw: _Raw
    dropped: dict[str, int]
    ids: dict[str, np.ndarray]  # per raw segment
    n_in: int
    n_used_rows: int
    n_sess_used: int
    seen: np.ndarray
    seek_from_missing: int


def _block_raw(
    ev: pd.DataFrame, *, sessions: pd.DataFrame | None, options: dict[str, Any]
) -> _Block:
    """Phase one for ``ev`` (validated events; whole sessions only): validate, order and
    run the state machine, up to the raw segments."""
    max_rate, min_rate = options["max_rate"], options["min_rate"]
    tolerance, scrub_window = options["tolerance"], options["scrub_window"]
    sess_cat = ev["session_id"].cat.categories
    ncat = len(sess_cat)
    n_in = len(ev)

    codes = ev["session_id"].cat.codes.to_numpy()
    type_codes = _type_codes(ev["type"])
    t = ev["emitted_at"].array.asi8 if n_in else np.empty(0, np.int64)
    at = ev["at"].to_numpy(dtype=np.float32, na_value=np.nan)
    fr = ev["seek_from"].to_numpy(dtype=np.float32, na_value=np.nan)
    to = ev["seek_to"].to_numpy(dtype=np.float32, na_value=np.nan)

    dropped = dict.fromkeys(_EVENT_REASONS + _SEGMENT_REASONS, 0)

    # 1. Validity: counted in a fixed order so that each row has exactly one reason.
    bad_sess = codes < 0
    bad_type = ~bad_sess & (type_codes < 0)
    bad_time = ~bad_sess & ~bad_type & (t == _NAT)
    ok = ~(bad_sess | bad_type | bad_time)
    kind_all = _KIND[np.maximum(type_codes, 0)]
    is_seek_all = kind_all == _SEEK
    pos = np.where(is_seek_all, to, at)
    needs_pos = kind_all != _READYK
    # A ready may lack ``at`` (it then means 0), but a negative or infinite one is wrong.
    unusable = ~(np.isfinite(pos) & (pos >= 0))
    bad_pos = ok & unusable & (needs_pos | ~np.isnan(pos))
    del unusable
    ok &= ~bad_pos
    bad_from = is_seek_all & ~(np.isfinite(fr) & (fr >= 0))
    dropped["missing_session"] = int(bad_sess.sum())
    dropped["missing_type"] = int(bad_type.sum())
    dropped["missing_time"] = int(bad_time.sum())
    dropped["bad_position"] = int(bad_pos.sum())
    seek_from_missing = int((ok & bad_from).sum())
    fr = np.where(bad_from, np.float32(np.nan), fr)
    del bad_sess, bad_type, bad_time, bad_pos, bad_from, needs_pos, pos, is_seek_all

    # 2. Order: one stable sort of a packed (session, time, kind) key.
    sess_rank = _appearance_rank(codes, ncat)
    if ok.all():
        order = _sort_order(sess_rank, codes, t, kind_all)
    else:
        rows = np.flatnonzero(ok)
        order = rows[_sort_order(sess_rank, codes[rows], t[rows], kind_all[rows])]
        del rows
    del ok, kind_all
    s = codes[order].astype(np.int32)
    ty = type_codes[order]
    tt = t[order]
    a = at[order]
    f = fr[order]
    g = to[order]

    # Consecutive exact duplicates (NaN equal to NaN).
    if len(s) > 1:
        dup = np.zeros(len(s), dtype=bool)
        dup[1:] = (
            (s[1:] == s[:-1])
            & (ty[1:] == ty[:-1])
            & (tt[1:] == tt[:-1])
            & _same(a[1:], a[:-1])
            & _same(f[1:], f[:-1])
            & _same(g[1:], g[:-1])
        )
        ndup = int(dup.sum())
        if ndup:
            keep = ~dup
            order, s, ty, tt, a, f, g = (x[keep] for x in (order, s, ty, tt, a, f, g))
        dropped["duplicate"] = ndup

    seg = _reconstruct(
        s, ty, tt, a, f, g,
        max_rate=max_rate, min_rate=min_rate, tolerance=tolerance, scrub_window=scrub_window,
    )  # fmt: skip
    dropped["redundant_open"] = seg.redundant_open
    dropped["redundant_close"] = seg.redundant_close

    block = _Block()
    block.dtype, block.raw, block.dropped = ev["session_id"].dtype, seg, dropped
    # Ids per raw segment (video_id / live_stream_id), from the events and sessions.
    ids = _session_ids(ev, sessions, sess_cat, order, s)
    block.ids = {name: values[seg.s] for name, values in ids.items()}
    del ids
    block.n_in = n_in
    block.n_used_rows = len(s)
    block.n_sess_used = int(np.count_nonzero(np.diff(s, prepend=-1))) if len(s) else 0
    seen = np.zeros(ncat, dtype=bool)
    seen[s] = True
    block.seen = seen
    block.seek_from_missing = seek_from_missing
    return block


def _block_frame(
    block: _Block,
    *,
    facts: _SessionFacts,
    runs: _Runs | None,
    dur_by_code: np.ndarray,
    options: dict[str, Any],
) -> pd.DataFrame:
    """Phase two: ends of open segments, clamping, merging, the frame and its attrs."""
    seg, dropped = block.raw, block.dropped
    out = _finish(
        seg,
        facts=facts,
        runs=runs,
        dur_by_code=dur_by_code,
        min_length=options["min_length"],
        merge_gap=options["merge_gap"],
        open_end=options["open_end"],
        open_cap=options["open_cap"],
        dropped=dropped,
    )

    frame = pd.DataFrame(
        {
            "session_id": pd.Categorical.from_codes(out["s"], dtype=block.dtype),
            "playback": out["playback"],
            "start": out["start"],
            "end": out["end"],
            "started_at": pd.DatetimeIndex(out["started_at"].view("M8[ns]"), tz="UTC"),
            "ended_at": pd.DatetimeIndex(out["ended_at"].view("M8[ns]"), tz="UTC"),
            "estimated": out["estimated"],
        }
    )
    for name, values in block.ids.items():
        frame[name] = _schema.to_str(pd.Series(values[out["raw_row"]], dtype=object)).to_numpy()
        frame[name] = _schema.to_str(frame[name])

    used = block.n_used_rows - seg.redundant_open - seg.redundant_close
    dropped_events = sum(dropped[r] for r in _EVENT_REASONS)
    dropped_segments = sum(dropped[r] for r in _SEGMENT_REASONS)
    watched = round(float(np.sum(out["end"] - out["start"])), 6)
    est_seconds = round(float(out["estimated_seconds"]), 6)
    frame.attrs = {
        "events": block.n_in,
        "events_used": int(used),
        "dropped_events": int(dropped_events),
        "dropped": {k: int(v) for k, v in dropped.items()},
        "seek_from_missing": block.seek_from_missing,
        "segments_raw": int(out["raw"]),
        "dropped_segments": int(dropped_segments),
        "merged": int(out["merged"]),
        "estimated": int(out["estimated"].sum()),
        "estimated_seconds": est_seconds,
        "estimated_share": round(est_seconds / watched, 9) if watched > 0 else 0.0,
        "watched_seconds": watched,
        "open_at_end": int(out["open_at_end"]),
        "closed_by_session": int(out["closed_by_session"]),
        "closed_by_heartbeats": int(out["closed_by_heartbeats"]),
        "closed_by_runs": int(out["closed_by_runs"]),
        "inferred": int(seg.inferred),
        "split": int(seg.split),
        "sessions": block.n_sess_used,
        "playbacks": int(seg.n_playbacks),
        "unclamped_sessions": int(np.count_nonzero(block.seen & np.isnan(dur_by_code))),
        "options": dict(options),
    }
    return frame


# --------------------------------------------------------------------------------------
# Validation


def _check_options(
    max_rate: float,
    min_rate: float,
    tolerance: float,
    min_length: float,
    merge_gap: float,
    scrub_window: float,
    open_end: str,
    open_cap: float,
) -> None:
    for name, value in (
        ("max_rate", max_rate),
        ("min_rate", min_rate),
        ("tolerance", tolerance),
        ("min_length", min_length),
        ("merge_gap", merge_gap),
        ("scrub_window", scrub_window),
        ("open_cap", open_cap),
    ):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    if max_rate <= 0:
        raise ValueError(f"max_rate must be > 0 (a playback rate such as 2.0), not {max_rate!r}")
    if min_rate > max_rate:
        raise ValueError(f"min_rate ({min_rate}) must not exceed max_rate ({max_rate})")
    if open_end not in ("estimate", "cap", "drop"):
        raise ValueError(f'open_end must be "estimate", "cap" or "drop", not {open_end!r}')


def _validate_events(events: Any) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise TypeError(
            f"events must be a pandas DataFrame (from api.events or avi.read_events), "
            f"not {type(events).__name__}"
        )
    dup = events.columns[events.columns.duplicated()].unique().tolist()
    if dup:
        raise ValueError(
            f"events has duplicate column names {dup[:5]}; keep one column of each name "
            "(e.g. events.loc[:, ~events.columns.duplicated()])"
        )
    missing = [c for c in _schema.EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(
            f"events is missing column {missing[0]!r}; segments needs the columns "
            f"{list(_schema.EVENT_COLUMNS)} (as returned by api.events or avi.read_events)"
        )
    for name in ("at", "seek_from", "seek_to"):
        dtype = events[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            raise ValueError(f"events column {name!r} must hold media positions in seconds")
    if not (
        pd.api.types.is_datetime64_any_dtype(events["emitted_at"].dtype)
        or pd.api.types.is_numeric_dtype(events["emitted_at"].dtype)
        or events["emitted_at"].dtype == object
        or pd.api.types.is_string_dtype(events["emitted_at"].dtype)
    ):
        raise ValueError("events column 'emitted_at' must hold timestamps")
    _check_epoch_seconds(events["emitted_at"])
    if _conforms(events):
        # Already in the events schema: read it in place (a copy costs ~30 bytes an event).
        ev = events
    else:
        try:
            ev = _schema.conform(events, _schema.EVENT_COLUMNS)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"events could not be read as player events: {exc}") from exc
    # conform keeps whatever categories the column has: check them against the contract.
    type_col = ev["type"]
    if isinstance(type_col.dtype, pd.CategoricalDtype):
        unknown = [c for c in type_col.cat.categories if c not in _schema.EVENT_TYPES]
        if unknown:
            raise ValueError(
                f"events column 'type' has unknown event types {unknown[:5]}; expected "
                f"{list(_schema.EVENT_TYPES)}"
            )
    for name in ("type", "at", "seek_from", "seek_to", "emitted_at"):
        if ev is events:
            break  # nothing was converted, so nothing was lost
        before = int(events[name].notna().sum())
        after = int(ev[name].notna().sum())
        if after < before:
            bad = events[name][events[name].notna() & ev[name].isna()]
            what = "event types" if name == "type" else "values"
            expect = (
                f"expected one of {list(_schema.EVENT_TYPES)}"
                if name == "type"
                else "expected timestamps"
                if name == "emitted_at"
                else "expected numbers of seconds"
            )
            raise ValueError(
                f"events column {name!r} has {len(bad)} unreadable {what} "
                f"(e.g. {bad.iloc[0]!r}); {expect}"
            )
    return ev


#: Numbers in ``emitted_at`` are epoch seconds; beyond this they are milliseconds (1e11 s
#: is the year 5138, 1e11 ms is 1973).
_EPOCH_MS_FLOOR = 1e11


def _check_epoch_seconds(col: pd.Series) -> None:
    """Numbers are read as epoch seconds: refuse values that can only be milliseconds."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return
    if pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    elif col.dtype == object and len(col):
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        return
    big = np.abs(values) > _EPOCH_MS_FLOOR
    if big.any():
        raise ValueError(
            f"events column 'emitted_at' holds numbers such as {values[big][0]:.0f}, which "
            "look like epoch milliseconds; numbers are read as epoch seconds. Pass "
            "timestamps instead, e.g. pd.to_datetime(events['emitted_at'], unit='ms', "
            "utc=True)"
        )


def _conforms(events: pd.DataFrame) -> bool:
    dtypes = events.dtypes
    return (
        isinstance(dtypes["session_id"], pd.CategoricalDtype)
        and isinstance(dtypes["type"], pd.CategoricalDtype)
        and all(dtypes[c] in (np.float32, np.float64) for c in ("at", "seek_from", "seek_to"))
        and str(dtypes["emitted_at"]) == _schema.DATETIME
    )


def _type_codes(col: pd.Series) -> np.ndarray:
    """Codes into ``_schema.EVENT_TYPES`` (-1 for missing), whatever the category order."""
    cats = list(col.cat.categories)
    lookup = np.array([_schema.EVENT_TYPES.index(c) for c in cats] + [-1], dtype=np.int8)
    return np.asarray(lookup[col.cat.codes.to_numpy()])


def _same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray((x == y) | (np.isnan(x) & np.isnan(y)))


# --------------------------------------------------------------------------------------
# Ordering


def _appearance_rank(codes: np.ndarray, ncat: int) -> np.ndarray:
    """Rank of each session code by its first row in ``codes`` (fast when grouped)."""
    rank = np.zeros(ncat, dtype=np.int64)
    if not len(codes) or not ncat:
        return rank
    starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    heads = codes[np.concatenate(([0], starts))]
    heads = heads[heads >= 0]
    if len(heads) and np.bincount(heads, minlength=ncat).max() > 1:
        heads = pd.unique(codes)
        heads = heads[heads >= 0]
    rank[heads] = np.arange(len(heads))
    return rank


def _sort_order(
    sess_rank: np.ndarray, codes: np.ndarray, t: np.ndarray, kind: np.ndarray
) -> np.ndarray:
    """Stable order by (session rank, time, kind), from one packed int64 key when it fits.

    Events usually arrive grouped by session and nearly in time order, so the stable
    (run-aware) sort of the packed key costs little more than reading it.
    """
    n = len(t)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    tmin = int(t.min())
    span = int(t.max()) - tmin
    key = t - tmin
    # API timestamps are whole seconds: pack them in seconds so that the key fits.
    for unit in (_NS, 1_000_000, 1_000):
        if not np.any(key % unit):
            key //= unit
            span //= unit
            break
    nsess = int(sess_rank.max()) + 1 if len(sess_rank) else 1
    if nsess * (span + 1) * 4 < 2**62:
        srank = sess_rank[codes]
        srank *= span + 1
        key += srank
        del srank
        key *= 4
        key += kind
        return np.argsort(key, kind="stable")
    return np.lexsort((kind, key, sess_rank[codes]))


# --------------------------------------------------------------------------------------
# The state machine, over whole columns


class _Raw:
    """Raw segments, one per opening, in event order (before clamping and merging)."""

    s: np.ndarray  # session code
    pb: np.ndarray  # global playback id
    playback: np.ndarray  # playback number within its session
    start: np.ndarray
    end: np.ndarray  # NaN while open at the end of the playback
    t_open: np.ndarray
    t_close: np.ndarray  # for open ones: time of the playback's last event
    t_next: np.ndarray  # for open ones: time of the next playback's ready, else NaT
    last_pb: np.ndarray  # for open ones: is it the session's last playback
    estimated: np.ndarray
    is_open: np.ndarray
    rate: np.ndarray  # the playback's observed rate (1 when unknown)
    run_done: np.ndarray  # closed by a pause/end at the player's own position
    inferred: int  # segments inferred from a pause/end while paused
    split: int  # stretches leading to a pause/end the clock could not reach (hidden seeks)
    redundant_open: int
    redundant_close: int
    n_playbacks: int


def _reconstruct(
    s: np.ndarray,
    ty: np.ndarray,
    t: np.ndarray,
    at: np.ndarray,
    fr: np.ndarray,
    to: np.ndarray,
    *,
    max_rate: float,
    min_rate: float,
    tolerance: float,
    scrub_window: float,
) -> _Raw:
    m = len(s)
    raw = _Raw()
    kind = _KIND[np.maximum(ty, 0)]
    first = np.ones(m, dtype=bool)
    first[1:] = s[1:] != s[:-1]
    is_ready = kind == _READYK
    pb_start = first | is_ready
    del is_ready
    # int32 indices and counters: half the memory of int64 (m < 2**31 events).
    pb = np.cumsum(pb_start, dtype=np.int32)
    pb -= 1
    sess_heads = np.flatnonzero(first)

    is_open_ev = kind == _OPEN
    is_close_ev = kind == _CLOSE
    is_seek = kind == _SEEK
    # State after each event = last open/close event of the playback (closed at its start).
    last = np.arange(m, dtype=np.int32)
    last[~(is_open_ev | is_close_ev | pb_start)] = 0
    np.maximum.accumulate(last, out=last)
    playing = np.zeros(m, dtype=bool)  # state before each event
    playing[1:] = is_open_ev[last[:-1]]
    playing[pb_start] = False
    del last

    eff_open = is_open_ev & ~playing
    eff_close = is_close_ev & playing
    seek_open = is_seek & playing
    window = round(scrub_window * _NS)

    # A play/resume while playing is a repeat, unless its ``at`` contradicts the position
    # the previous event gave, plus the wall time since (the pause in between was lost or
    # listed after it): then it closes the segment at ``at`` and reopens there.
    rj = np.flatnonzero(is_open_ev & playing)
    pj = rj - 1  # never -1: a playback starts closed
    pp = np.maximum(pj - 1, 0)
    prev_paired = eff_open[pj] & ~pb_start[pj] & is_seek[pp] & (t[pj] - t[pp] <= window)
    p_prev = np.where(is_seek[pj] | prev_paired, to[np.where(is_seek[pj], pj, pp)], at[pj]).astype(
        np.float64
    )
    w_prev = (t[rj] - t[pj]) / _NS
    a_r = at[rj].astype(np.float64)
    consistent = (a_r >= p_prev + w_prev * min_rate - tolerance) & (
        a_r <= p_prev + w_prev * max_rate + tolerance
    )
    reanchor = np.zeros(m, dtype=bool)
    reanchor[rj[~consistent]] = True

    raw.redundant_open = int(np.count_nonzero(consistent))
    raw.n_playbacks = int(pb[-1] + 1) if m else 0

    bidx = np.flatnonzero(eff_open | eff_close | seek_open | reanchor)
    opener_b = ~eff_close[bidx]
    pb_b = pb[bidx]
    has_closer = np.zeros(len(bidx), dtype=bool)
    has_closer[:-1] = opener_b[:-1] & (pb_b[1:] == pb_b[:-1])
    oi = bidx[opener_b]  # opening events
    closed = has_closer[opener_b]
    ci = np.zeros(len(oi), dtype=np.int64)
    ci[closed] = bidx[np.flatnonzero(opener_b & has_closer) + 1]

    # Opening position: the seek's ``to`` for a seek, or a seek just before a play/resume.
    prev = np.maximum(oi - 1, 0)
    paired_open = eff_open[oi] & ~pb_start[oi] & is_seek[prev] & (t[oi] - t[prev] <= window)
    start = np.where(seek_open[oi] | paired_open, to[np.where(seek_open[oi], oi, prev)], at[oi])
    start = start.astype(np.float64)

    # Closing position: ``at``; ``from`` for a seek or for a pause before a scrub.
    cc = ci[closed]
    a_cc = at[cc].astype(np.float64)
    scrub, nxt = _before_scrub(cc, a_cc, ty, is_seek, pb_start, to, t, window)
    cand = np.where(seek_open[cc], fr[cc], np.where(scrub, fr[nxt], at[cc])).astype(np.float64)
    s0 = start[closed]
    wall = (t[cc] - t[oi[closed]]) / _NS
    good = (
        np.isfinite(cand)
        & (cand >= s0)
        & (cand <= s0 + wall * max_rate + tolerance)
        # A repeat play/resume says the player sat paused at ``at``: no slowest rate.
        & ((cand >= s0 + wall * min_rate - tolerance) | reanchor[cc])
    )
    # The viewer's rate, from the playback's trustworthy spans: segments a pause or an end
    # closed (their ``at`` is the player's own position; a seek's ``from`` may be stale).
    pb_c = pb[oi[closed]]
    n_pb = int(pb[-1] + 1) if m else 0
    trusted = good & eff_close[cc]
    rate_pb = _playback_rates(
        pb_c, trusted, cand - s0, wall, n_pb, pb, s, pb_start, at, fr, to, t,
        min_rate=min_rate, max_rate=max_rate,
    )  # fmt: skip
    # An in-play seek's true origin is where the clock puts the player; a ``from`` behind
    # it is stale (the player's position at its last media event, often where the stretch
    # began), so the clock is preferred.
    with np.errstate(invalid="ignore"):
        stale = seek_open[cc] & (cand < s0 + wall * rate_pb[pb_c] - tolerance)
    good &= ~stale
    del trusted, stale
    rate = rate_pb[pb[oi]]
    end = np.full(len(oi), np.nan)
    clock_end = s0 + wall * rate[closed]
    # A pause or an end at a position the clock cannot reach from the start (a seek that
    # sent nothing, as video.js does while playing): both positions are the player's own,
    # so the watching is split between a stretch from the start and one that leads to the
    # close, half the clock's media each (where the jump came is unknown).
    split = ~good & eff_close[cc] & ~scrub & np.isfinite(a_cc) & (wall > 0)
    half = wall * rate[closed] / 2
    end[closed] = np.where(good, cand, np.where(split, s0 + half, clock_end))
    est = np.zeros(len(oi), dtype=bool)
    est[closed] = ~good
    sp = np.flatnonzero(split)
    tail_key = cc[sp]
    tail_end = a_cc[sp]
    tail_start = np.maximum(tail_end - half[sp], 0.0)
    tail_open = t[tail_key] - np.round(wall[sp] / 2 * _NS).astype(np.int64)
    tail_rate = rate[closed][sp]
    del clock_end, half, sp, split
    # Runs a pause or an end closed where the player said: how long viewers watch on.
    run_done = np.zeros(len(oi), dtype=bool)
    run_done[closed] = good & eff_close[cc]
    del cand, s0, wall, good, pb_c, scrub, a_cc, nxt, ci, prev
    del paired_open, eff_open, eff_close, seek_open, reanchor, bidx, opener_b, pb_b

    # Open at the end: the playback's last event and the next playback's ready bound it.
    opened = ~closed
    po = oi[opened]
    pb_last = np.flatnonzero(np.append(pb_start[1:], True))  # last event of each playback
    lastev = pb_last[pb[po]]
    t_close = np.zeros(len(oi), dtype=np.int64)
    t_close[closed] = t[cc]
    t_close[opened] = t[lastev]
    following = np.minimum(lastev + 1, m - 1)
    has_next = (lastev + 1 < m) & ~first[following]
    t_next = np.full(len(oi), _NAT, dtype=np.int64)
    t_next[opened] = np.where(has_next, t[following], _NAT)
    last_pb = np.zeros(len(oi), dtype=bool)
    last_pb[opened] = ~has_next
    est[opened] = True

    # A pause/end while paused at a position ahead of where the player was left (after a
    # ready, a close or a seek), within what the clock allows, means the play/resume in
    # between was lost: that stretch was watched (start time estimated at the rate).
    rc = np.flatnonzero(is_close_ev & ~playing & ~pb_start)
    pv = rc - 1
    a_rc = at[rc].astype(np.float64)
    scrub_rc, nx = _before_scrub(rc, a_rc, ty, is_seek, pb_start, to, t, window)
    reached = np.where(scrub_rc, fr[nx], a_rc).astype(np.float64)
    left = np.where(is_seek[pv], to[pv], at[pv]).astype(np.float64)
    left = np.where((kind[pv] == _READYK) & ~np.isfinite(left), 0.0, left)
    gap = reached - left
    with np.errstate(invalid="ignore"):
        hidden = (gap > 0) & (gap <= (t[rc] - t[pv]) / _NS * max_rate + tolerance)
    hi = rc[hidden]
    raw.redundant_close = int(len(rc) - len(hi)) + int(np.count_nonzero(is_close_ev & pb_start))
    h_rate = rate_pb[pb[hi]]
    h_start = left[hidden]
    h_end = reached[hidden]
    del pv, nx, a_rc, scrub_rc, reached, left, gap, hidden, rc
    h_open = t[hi] - np.round((h_end - h_start) / h_rate * _NS).astype(np.int64)
    raw.inferred = len(hi)
    raw.split = len(tail_key)
    if len(tail_key):
        hi = np.concatenate([hi, tail_key])
        h_start = np.concatenate([h_start, tail_start])
        h_end = np.concatenate([h_end, tail_end])
        h_open = np.concatenate([h_open, tail_open])
        h_rate = np.concatenate([h_rate, tail_rate])
    del tail_key, tail_start, tail_end, tail_open, tail_rate

    # Playback number within the session: playbacks since the session's first one.
    sess_no = np.cumsum(first, dtype=np.int32)
    head_pb = pb[sess_heads]
    n_h = len(hi)
    if n_h:
        both = np.concatenate([oi, hi])
        order = np.argsort(both, kind="stable")
        both = both[order]
    else:
        both = oi

    def cat(x: np.ndarray, y: Any) -> np.ndarray:
        if not n_h:
            return x
        return np.concatenate([x, np.broadcast_to(y, n_h)])[order]

    # Fields are moved into ``raw`` one by one, each local freed at once (memory).
    raw.s = s[both]
    raw.pb = pb[both]
    raw.playback = (raw.pb - head_pb[sess_no[both] - 1]).astype(np.int64)
    del sess_no, head_pb
    raw.start = cat(start, h_start)
    del start
    raw.end = cat(end, h_end)
    del end
    raw.t_open = cat(t[oi], h_open)
    raw.t_close = cat(t_close, t[hi])
    del t_close
    raw.t_next = cat(t_next, _NAT)
    del t_next
    raw.last_pb = cat(last_pb, False)
    raw.estimated = cat(est, True)
    raw.is_open = cat(opened, False)
    raw.run_done = cat(run_done, False)
    raw.rate = cat(rate, h_rate)
    return raw


def _playback_rates(
    pb_c: np.ndarray,
    trusted: np.ndarray,
    media: np.ndarray,
    wall: np.ndarray,
    n_pb: int,
    pb: np.ndarray,
    s: np.ndarray,
    pb_start: np.ndarray,
    at: np.ndarray,
    fr: np.ndarray,
    to: np.ndarray,
    t: np.ndarray,
    *,
    min_rate: float,
    max_rate: float,
) -> np.ndarray:
    """Each playback's own rate: media over wall time of its trusted segments once they span
    ``_RATE_MIN_WALL`` seconds, else its session's, else 1.

    With the API's integer positions and whole-second times the ratio is rounded to a
    quarter (players offer rates in quarter steps; this absorbs the rounding); with the
    SDK's float positions it is kept as measured (stalls make it a little lower).
    """
    media_sum = np.bincount(pb_c, weights=np.where(trusted, media, 0.0), minlength=n_pb)
    wall_sum = np.bincount(pb_c, weights=np.where(trusted, wall, 0.0), minlength=n_pb)
    # The session of each playback, for playbacks too short to tell their rate alone.
    sess_of_pb = s[np.flatnonzero(pb_start)]
    n_s = int(sess_of_pb.max()) + 1 if len(sess_of_pb) else 0
    media_s = np.bincount(sess_of_pb, weights=media_sum, minlength=n_s)[sess_of_pb]
    wall_s = np.bincount(sess_of_pb, weights=wall_sum, minlength=n_s)[sess_of_pb]
    own = wall_sum >= _RATE_MIN_WALL
    media_sum = np.where(own, media_sum, media_s)
    wall_sum = np.where(own, wall_sum, wall_s)
    # Integer data: every position whole and every time on a whole second.
    # (NaN and inf give NaN here, which is not > 0: only real fractions count.)
    frac = t % _NS != 0
    for x in (at, fr, to):
        with np.errstate(invalid="ignore"):
            frac |= (x - np.floor(x)) > 0
    coarse = np.bincount(pb, weights=frac, minlength=n_pb) == 0
    lo = min(max(min_rate, _RATE_FLOOR), max_rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = media_sum / wall_sum
        ratio = np.where(coarse, np.round(ratio * 4) / 4, ratio)
        return np.where(wall_sum >= _RATE_MIN_WALL, np.clip(ratio, lo, max_rate), 1.0)


def _before_scrub(
    k: np.ndarray,
    at_k: np.ndarray,
    ty: np.ndarray,
    is_seek: np.ndarray,
    pb_start: np.ndarray,
    to: np.ndarray,
    t: np.ndarray,
    window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows ``k`` are a pause whose ``at`` is the target of the seek right after it
    (within the scrub window, same playback), and the index of that next row.

    Such a pause is the player reporting the scrub, not where watching stopped: the seek's
    ``from`` is.
    """
    m = len(ty)
    nxt = np.minimum(k + 1, m - 1)
    scrub = (
        (ty[k] == _PAUSE)
        & (k + 1 < m)
        & ~pb_start[nxt]
        & is_seek[nxt]
        & (np.abs(to[nxt].astype(np.float64) - at_k) <= _SCRUB_MATCH)
        & (t[nxt] - t[k] <= window)
    )
    return scrub, nxt


def _finish(
    raw: _Raw,
    *,
    facts: _SessionFacts,
    runs: _Runs | None,
    dur_by_code: np.ndarray,
    min_length: float,
    merge_gap: float,
    open_end: str,
    open_cap: float,
    dropped: dict[str, int],
) -> dict[str, Any]:
    n = len(raw.s)
    start = raw.start
    end = raw.end.copy()
    t_end = raw.t_close.copy()
    keep = np.ones(n, dtype=bool)

    # Segments left open: the session's end, else the policy; the end comes from the clock.
    op = raw.is_open
    ended = facts.ended[raw.s]
    by_session = op & raw.last_pb & (ended != _NAT)
    by_beats = np.zeros(n, dtype=bool)
    by_runs = np.zeros(n, dtype=bool)
    if open_end == "estimate":
        bound, by_beats, by_runs = _censored_ends(raw, op, facts, runs, open_cap)
        by_session &= ~by_beats
    else:
        cap_ns = round(open_cap * _NS)
        capped = raw.t_close + cap_ns
        capped = np.where(raw.t_next != _NAT, np.minimum(capped, raw.t_next), capped)
        policy = op & ~by_session
        bound = np.where(by_session, np.maximum(ended, raw.t_close), capped)
        if open_end == "drop":
            keep &= ~policy
            dropped["open_at_end"] = int(np.count_nonzero(policy))
    end = np.where(op, start + (bound - raw.t_open) / _NS * raw.rate, end)

    # Clamp to the duration.
    dur = dur_by_code[raw.s]
    known = ~np.isnan(dur)
    # No segment starts below 0, whatever bound the clock inferred.
    start = np.maximum(start, 0.0)
    end = np.maximum(end, 0.0)
    start_c = np.where(known, np.minimum(start, dur), start)
    end_c = np.where(known, np.minimum(end, dur), end)
    past = keep & known & (start >= dur)
    keep &= ~past
    short = keep & ~((end_c - start_c >= min_length) & (end_c > start_c))
    keep &= ~short
    dropped["past_duration"] = int(np.count_nonzero(past))
    dropped["short"] = int(np.count_nonzero(short))
    # An open segment ends when its estimated end is reached, at the playback's rate.
    t_end = np.where(
        op, raw.t_open + np.round((end_c - start_c) / raw.rate * _NS).astype(np.int64), t_end
    )

    k = np.flatnonzero(keep)
    s_k, pb_k, st, en = raw.s[k], raw.pb[k], start_c[k], end_c[k]
    new = np.ones(len(k), dtype=bool)
    new[1:] = (pb_k[1:] != pb_k[:-1]) | (np.abs(st[1:] - en[:-1]) > merge_gap)
    heads = np.flatnonzero(new)
    out: dict[str, Any] = {
        "raw": n,
        "merged": len(k) - len(heads),
        "open_at_end": int(np.count_nonzero(op)),
        "closed_by_session": int(np.count_nonzero(by_session)),
        "closed_by_heartbeats": int(np.count_nonzero(by_beats)),
        "closed_by_runs": int(np.count_nonzero(by_runs)),
    }
    if len(k):
        out["s"] = s_k[heads]
        out["playback"] = raw.playback[k][heads].astype(np.int64)
        out["start"] = st[heads]
        out["end"] = np.maximum.reduceat(en, heads)
        out["started_at"] = raw.t_open[k][heads]
        out["ended_at"] = np.maximum.reduceat(t_end[k], heads)
        out["estimated"] = np.add.reduceat(raw.estimated[k].astype(np.int64), heads) > 0
        out["raw_row"] = k[heads]
        # Media seconds whose bounds came from the clock or the evidence, not a position.
        est_k = raw.estimated[k]
        out["estimated_seconds"] = float(np.sum((en - st)[est_k]))
    else:
        out["raw_row"] = np.empty(0, dtype=np.int64)
        out["estimated_seconds"] = 0.0
        out["s"] = np.empty(0, dtype=np.int64)
        out["playback"] = np.empty(0, dtype=np.int64)
        out["start"] = np.empty(0)
        out["end"] = np.empty(0)
        out["started_at"] = np.empty(0, dtype=np.int64)
        out["ended_at"] = np.empty(0, dtype=np.int64)
        out["estimated"] = np.empty(0, dtype=bool)
    return out


# --------------------------------------------------------------------------------------
# Ends the events do not tell (interval-censored)

#: Seconds between the SDK's timer pings while playing (``PLAYBACK_PING_DELAY``): a page
#: that played on would have pinged again within this.
_PING_INTERVAL = 10.0
#: Seconds from a tab's unload to the ready of its reload (the page loading again).
_RELOAD_LEAD = 0.5
#: Runs of a session needed within an interval before their lengths are trusted there.
_RUNS_MIN = 3


class _SessionFacts:
    """Per session code: ``ended_at`` (NaT unknown), heartbeat times, video code (-1)."""

    def __init__(
        self,
        ended: np.ndarray,
        beats: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        video: np.ndarray,
    ) -> None:
        self.ended = ended
        # (session code, time) sorted by both, and per code whether its pings are known.
        self.beats = beats
        self.video = video


class _Runs:
    """How long uninterrupted runs last (wall seconds), per video, from the runs that a pause
    or an end closed at the player's own position: sorted, with running sums, so that the
    mean length of the runs within any ``[lo, hi]`` is two binary searches away."""

    def __init__(self, group: np.ndarray, length: np.ndarray, n_groups: int) -> None:
        # Keys for per-group searches: (group, length) packed in one float, one sort.
        key = group * _RUN_SPAN + np.minimum(length, _RUN_SPAN - 1)
        order = np.argsort(key)
        self.key = key[order]
        self.length = length[order]
        self.csum = np.concatenate([[0.0], np.cumsum(self.length)])
        self.n_groups = n_groups
        self.pooled = False  # groups are sessions: no pooling across them
        self.all = np.sort(length)
        self.all_csum = np.concatenate([[0.0], np.cumsum(self.all)])

    @classmethod
    def of(cls, raws: list[_Raw], video: np.ndarray) -> _Runs:
        groups, lengths = [], []
        for raw in raws:
            done = raw.run_done
            groups.append(video[raw.s[done]])
            lengths.append((raw.t_close[done] - raw.t_open[done]) / _NS)
        g = np.concatenate(groups) if groups else np.empty(0, np.int64)
        length = np.concatenate(lengths) if lengths else np.empty(0)
        n_groups = int(video.max()) + 2 if len(video) else 1
        # Unknown video: a group of its own (pooled with nothing but the fallback).
        g = np.where(g >= 0, g, n_groups - 1).astype(np.float64)
        return cls(g, length, n_groups)

    def mean_within(
        self, group: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean run length within ``[lo, hi]`` per query, from the query's video when it
        has ``_RUNS_MIN`` such runs, else from all videos; NaN when neither has."""
        g = np.where(group >= 0, group, self.n_groups - 1).astype(np.float64)
        lo_c = np.minimum(lo, _RUN_SPAN - 1)
        hi_c = np.minimum(hi, _RUN_SPAN - 1)
        a = np.searchsorted(self.key, g * _RUN_SPAN + lo_c, side="left")
        b = np.searchsorted(self.key, g * _RUN_SPAN + hi_c, side="right")
        count = b - a
        with np.errstate(invalid="ignore", divide="ignore"):
            own = (self.csum[b] - self.csum[a]) / count
            a2 = np.searchsorted(self.all, lo, side="left")
            b2 = np.searchsorted(self.all, hi, side="right")
            pooled = (self.all_csum[b2] - self.all_csum[a2]) / (b2 - a2)
        use_own = count >= _RUNS_MIN
        use_all = ~use_own & (b2 - a2 >= _RUNS_MIN) & self.pooled
        return np.where(use_own, own, np.where(use_all, pooled, np.nan)), use_own | use_all


#: Run lengths are packed with their group as ``group * _RUN_SPAN + length`` (seconds).
_RUN_SPAN = 1e7


def _censored_ends(
    raw: _Raw, op: np.ndarray, facts: _SessionFacts, runs: _Runs | None, open_cap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each open segment's page stopped playing, from the evidence (wall clock, ns).

    The end is interval-censored: it came after the last sign of life (the playback's last
    event; its last heartbeat; the session's ``ended_at`` for its last playback) and before
    the next ``ready`` of the session and, where pings are known, before the next timer ping
    would have come. Within that interval: its middle when pings bound it, else the mean
    length of the viewer's own runs that last that long (``_Runs``), else ``open_cap`` seconds
    after the last sign of life.
    """
    n = len(raw.s)
    bound = raw.t_close.copy()
    by_beats = np.zeros(n, dtype=bool)
    by_runs = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(op)
    if not len(rows):
        return bound, by_beats, by_runs
    sess = raw.s[rows]
    t_open = raw.t_open[rows]
    t_next = raw.t_next[rows]
    has_next = t_next != _NAT
    lower = raw.t_close[rows].astype(np.int64)  # the playback's last event
    ping = np.full(len(rows), _NAT, dtype=np.int64)  # last ping known to be this stretch's
    # The session's ended_at: the last ping the collector received (its last playback).
    ended = facts.ended[sess]
    own_end = raw.last_pb[rows] & (ended != _NAT)
    ping = np.where(own_end, np.maximum(ended, lower), ping)
    beats_known = np.zeros(len(rows), dtype=bool)
    if facts.beats is not None:
        b_s, b_t, known = facts.beats
        beats_known = known[sess]
        # The last heartbeat before the next ready (or ever): alive and playing then.
        upto = np.where(has_next, t_next - 1, np.iinfo(np.int64).max)
        hb = _last_before(b_s, b_t, sess, upto)
        ping = np.maximum(ping, np.where(hb >= t_open, hb, _NAT))
    alive = np.maximum(lower, ping)
    interval = round(_PING_INTERVAL * _NS)
    pinged = (ping != _NAT) | beats_known
    # Pings known: the page closed before the next timer ping would have come.
    last_sign = np.where(ping != _NAT, ping, np.maximum(t_open, lower))
    upper = np.where(pinged, last_sign + interval, np.iinfo(np.int64).max)
    upper = np.where(has_next, np.minimum(upper, t_next), upper)
    upper = np.maximum(upper, alive)
    finite = upper != np.iinfo(np.int64).max
    mid = alive + (upper - alive) // 2
    # A next ready within one ping of the last sign of life: the same tab reloaded, so the
    # page played until just before it (a page load takes a moment).
    reload = has_next & (t_next <= alive + interval)
    at_reload = np.maximum(t_next - round(_RELOAD_LEAD * _NS), alive)
    # Pings bound it: the middle. Else, without runs to go by, ``open_cap`` after the last
    # sign of life (never past the next ready).
    est = np.where(pinged, mid, np.minimum(alive + round(open_cap * _NS), upper))
    used_runs = np.zeros(len(rows), dtype=bool)
    if runs is not None:
        # Within the interval, how long the video's uninterrupted runs last.
        k = np.flatnonzero(~reload)
        if len(k):
            lo = (alive[k] - t_open[k]) / _NS
            hi = np.where(finite[k], (upper[k] - t_open[k]) / _NS, np.inf)
            mean, ok = runs.mean_within(sess[k].astype(np.int64), lo, hi)
            est[k[ok]] = t_open[k[ok]] + np.round(mean[ok] * _NS).astype(np.int64)
            used_runs[k[ok]] = True
    est = np.where(reload, at_reload, est)
    bound[rows] = np.clip(est, alive, upper)
    by_beats[rows] = beats_known
    by_runs[rows] = used_runs
    return bound, by_beats, by_runs


# --------------------------------------------------------------------------------------
# Per-session facts


def _last_before(b_s: np.ndarray, b_t: np.ndarray, q_s: np.ndarray, q_t: np.ndarray) -> np.ndarray:
    """For each query (session, time), the time of that session's last beat at or before
    it (NaT: none). One merge of beats and queries in (session, time) order."""
    nb, nq = len(b_s), len(q_s)
    if not nb or not nq:
        return np.full(nq, _NAT, dtype=np.int64)
    s_all = np.concatenate([b_s, q_s]).astype(np.int64)
    t_all = np.concatenate([b_t, q_t])
    flag = np.concatenate([np.zeros(nb, np.int8), np.ones(nq, np.int8)])  # beats first
    order = np.lexsort((flag, t_all, s_all))
    is_beat = order < nb
    pos = np.where(is_beat, np.arange(nb + nq), -1)
    last = np.maximum.accumulate(pos)
    where_q = np.flatnonzero(~is_beat)
    prev = last[where_q]
    ok = prev >= 0
    prev_row = order[np.maximum(prev, 0)]
    q_row = order[where_q] - nb
    ok &= s_all[prev_row] == s_all[order[where_q]]
    out = np.full(nq, _NAT, dtype=np.int64)
    out[q_row[ok]] = t_all[prev_row[ok]]
    return out


def _heartbeats(
    sessions: pd.DataFrame | None, cats: pd.Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The SDK's timer pings of each session (``avi.read_pings``: ``heartbeats`` lists, or
    ``last_heartbeat_at``), as (session code, time ns) sorted by both, and which session
    codes have their pings known; None when not given."""
    if sessions is None or not isinstance(sessions, pd.DataFrame):
        return None
    if "heartbeats" in sessions.columns:
        flat = sessions[["session_id", "heartbeats"]].explode("heartbeats")
        times = _schema.to_utc(flat["heartbeats"])
        sid = flat["session_id"]
    elif "last_heartbeat_at" in sessions.columns:
        times = _schema.to_utc(sessions["last_heartbeat_at"])
        sid = sessions["session_id"]
    else:
        return None
    codes = _codes_for(sid, cats)
    t = times.array.asi8 if len(times) else np.empty(0, np.int64)
    ok = codes >= 0
    have = ok & (t != _NAT)
    order = np.lexsort((t[have], codes[have]))
    known = np.zeros(len(cats), dtype=bool)
    known[codes[ok]] = True
    return codes[have][order], t[have][order], known


def _video_codes(ev: pd.DataFrame, sessions: pd.DataFrame | None, cats: pd.Index) -> np.ndarray:
    """A code per session category for its video (-1 unknown): runs are judged per video."""
    codes = ev["session_id"].cat.codes.to_numpy()
    rows = np.flatnonzero(codes >= 0)
    video = _session_ids(ev, sessions, cats, rows, codes[rows]).get("video_id")
    if video is None:
        return np.full(len(cats), -1, dtype=np.int64)
    vcodes, _ = pd.factorize(pd.Series(video, dtype=object))
    return np.asarray(vcodes, dtype=np.int64)


def _session_ids(
    ev: pd.DataFrame,
    sessions: pd.DataFrame | None,
    cats: pd.Index,
    order: np.ndarray,
    s: np.ndarray,
) -> dict[str, np.ndarray]:
    """``video_id`` / ``live_stream_id`` per session code (object arrays, None unknown)."""
    ids: dict[str, np.ndarray] = {}
    heads = np.flatnonzero(np.diff(s, prepend=-1)) if len(s) else np.empty(0, np.int64)
    for name in ("video_id", "live_stream_id"):
        values = np.full(len(cats), None, dtype=object)
        found = False
        if sessions is not None and name in sessions.columns:
            found = True
            codes = _codes_for(sessions["session_id"], cats)
            col = _schema.to_str(sessions[name]).astype(object).to_numpy()
            hit = (codes >= 0) & pd.notna(col)
            values[codes[hit]] = col[hit]
        if name in ev.columns:
            found = True
            # Pick one row per session first: converting the whole column to Python
            # objects would cost ~60 bytes an event.
            col = ev[name].take(order[heads]).to_numpy(dtype=object)
            have = pd.notna(col)
            values[s[heads][have]] = col[have]
        if found:
            ids[name] = values
    return ids


def _codes_for(ids: pd.Series, cats: pd.Index) -> np.ndarray:
    """Codes of ``ids`` in the events' session categories (-1 where absent)."""
    keys = pd.Index(cats.astype(str)) if len(cats) else pd.Index([], dtype=object)
    return np.asarray(keys.get_indexer(_schema.to_str(ids).astype(object)), dtype=np.int64)


def _session_ended(sessions: pd.DataFrame | None, cats: pd.Index) -> np.ndarray:
    out = np.full(len(cats), _NAT, dtype=np.int64)
    if sessions is None:
        return out
    if not isinstance(sessions, pd.DataFrame):
        raise TypeError(
            f"sessions must be a pandas DataFrame (from api.video_sessions), "
            f"not {type(sessions).__name__}"
        )
    for name in ("session_id", "ended_at"):
        if name not in sessions.columns:
            raise ValueError(
                f"sessions is missing column {name!r}; pass the frame of api.video_sessions "
                "(or api.live_stream_sessions), or sessions=None"
            )
    ended = _schema.to_utc(sessions["ended_at"])
    if int(ended.notna().sum()) < int(sessions["ended_at"].notna().sum()):
        raise ValueError("sessions column 'ended_at' has unreadable values; expected timestamps")
    codes = _codes_for(sessions["session_id"], cats)
    values = ended.array.asi8
    hit = codes >= 0
    np.maximum.at(out, codes[hit], values[hit])
    return out
