"""What was watched: continuous watched segments reconstructed from player events.

The legacy collector sends ``ready``, ``play``, ``pause``, ``resume``, ``seek.forward``,
``seek.backward`` and ``end`` with integer positions and one-second ``emitted_at``; around a
scrub it emits ``pause(at=target)``, ``resume(at=target)`` and ``seek(from=origin,
to=target)`` in the same second, in no reliable order (see ``DESIGN.md``, "What the events
mean"). :func:`segments` turns such events into one row per continuous stretch of media
watched, for all sessions at once, with numpy operations over whole columns (no Python loop
per event or per session).

The rules, in order (each lives in the module of its stage: 1-2 in ``_event_order.py``, 3-5 in
``_playback_state.py``, 6 in ``_open_ends.py``, 7 in ``_clean_up.py``):

1. **Validate and clean.** Rows with no session, no type or no ``emitted_at`` are dropped;
   so are ``play``/``resume``/``pause``/``end`` rows whose ``at`` is missing, negative or
   infinite, and seeks whose ``to`` is. A seek whose ``from`` is unusable is kept (its
   ``to`` still tells where playback went) and any bound that would come from it is
   estimated from the wall clock instead. Whole-second positions (the legacy API's
   integers: ``positions="auto"``) stand for a span of the player's positions: each above 0
   is read a quarter second on (floored, the middle is 0.5 s on; rounded, 0; a quarter is
   the least bad of both in the worst case), or as given when an ``end`` is past its
   session's duration (the collector then rounded); ``attrs["position_shift"]`` says which.
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
   An in-play seek's ``from`` is the player's position at its last media event other than
   ``timeupdate``: once the file is downloaded, often where the stretch began. A session
   whose in-play seeks show that sign (a ``from`` at its stretch's start, more than
   ``tolerance`` seconds after it opened) has stale origins: a ``from`` more than
   ``tolerance`` behind ``start + W * rate`` gives way to the clock, and one ahead of
   ``start + W * max(rate, 1)`` (a faster stretch; rate changes send nothing) is a lower
   bound, moved toward the middle of what is reachable after it, all the way once it is
   ``tolerance`` ahead and in proportion below that (whole-second data often sits at the
   border; estimated).
   Elsewhere (a file still downloading, or hls.js loading fragments, whose ``progress``
   events keep ``from`` fresher) a ``from`` past its stretch's start is believed, unless it
   is more than ``tolerance`` behind the clock: such a one is right where the network is slow (the
   clock is late by the seek's own buffering) and the position at the last rate change or
   fragment where it is fast, which the events cannot tell apart: its origin is the middle
   of ``from`` and the clock (estimated). A ``pause``/``end`` the clock cannot
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
   is the same tab reloading: the end is half a second before it. So is, without pings, a
   next ``ready`` the playback could have reached before the duration (a session id lives
   in one tab, and a pause or an end would have been sent at once); one it could not (a
   return days later) leaves the end to what follows. Otherwise the end is the
   mean length of the viewer's own uninterrupted runs (those a pause or an end closed, in
   the same session; so the result never depends on other sessions, blocks or dask
   partitions) that fall within that interval, with 3 such runs at least; else the
   interval's middle when pings bound it; else, the duration known, a length between the
   last sign of life and the moment the playback would have reached the duration (it did
   not: the pause and the end are sent at once), log-uniform there (no time scale
   assumed: the mean leans to shorter stretches, as drop-off does); else ``open_cap``
   seconds after the last sign of life. ``"cap"`` is the older rule (``ended_at``, else
   ``open_cap`` seconds after the last event, never after the next ``ready``); ``"drop"``
   drops those segments. The end is ``start + elapsed * rate`` and estimated.
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
* ``"position_shift"``: seconds added to whole-second positions (rule 1);
* ``"options"``: the options used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _durations
from . import schema as _schema
from ._clean_up import _finish
from ._dask import PARAMETER_ATTRS, dask_aware
from ._event_order import (
    _END,
    _NAT,
    _appearance_rank,
    _clean_and_order,
    _position_shift,
    _type_codes,
    _validate_events,
)
from ._open_ends import _Runs
from ._playback_state import _Raw, _reconstruct
from ._session_facts import (
    _heartbeats,
    _session_ended,
    _session_ids,
    _SessionFacts,
    _video_codes,
)

__all__ = ["segments"]

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
    positions: Literal["auto", "floored", "exact"] = "auto",
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
        Seconds of watching assumed after the last sign of life when nothing else tells
        (no pings, too few runs of the viewer's own, and no known duration).
    positions : {"auto", "floored", "exact"}, default "auto"
        How to read whole-second positions (rule 1 of the module docstring): ``"auto"``
        reads the legacy API's integers a quarter second on unless an ``end`` is past its
        session's duration (then as given), and float positions as given; ``"floored"``
        reads every position above 0 half a second on; ``"exact"`` as given.

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
    >>> avi.segments(ev, positions="exact")[["session_id", "start", "end", "estimated"]]
      session_id  start   end  estimated
    0         s1    0.0   7.0      False
    1         s1   21.0  30.0      False

    By default the legacy API's whole seconds are read a quarter second on (the collector
    cut or rounded the player's positions; 30 is the video's end):

    >>> avi.segments(ev)[["start", "end"]]
       start    end
    0   0.00   7.25
    1  21.25  30.00
    """
    _check_options(
        max_rate, min_rate, tolerance, min_length, merge_gap, scrub_window, open_end, open_cap,
        positions,
    )  # fmt: skip
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
        "positions": positions,
    }
    # Durations are per video, over all sessions: decided once, before any split; so are
    # the facts of sessions (ended_at, heartbeats) and the videos open runs are judged by.
    dur_by_code = _durations_of(ev, duration, sessions)
    options["shift"] = _position_shift(ev, positions, dur_by_code)
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
    # How long each viewer's uninterrupted runs last, over every block: the evidence for the
    # ends that the events do not tell. Grouped by session, so that the estimate never
    # depends on which other sessions share a block or a dask partition.
    by_session = np.arange(len(cats), dtype=np.int64)
    runs = _Runs.of([b.raw for b in blocks], by_session) if open_end == "estimate" else None
    parts = [
        _block_frame(b, facts=facts, runs=runs, dur_by_code=dur_by_code, options=options)
        for b in blocks
    ]
    if len(parts) == 1:
        return parts[0]
    frame = _concat_blocks(parts)
    frame.attrs = _merge_attrs([part.attrs for part in parts])
    return frame


def _concat_blocks(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The blocks' frames one after the other, as ``pd.concat(parts, ignore_index=True)``
    would give them, without its union of categories: every block's ``session_id`` has the
    input's own dtype, so its codes can simply be joined."""
    columns: dict[str, Any] = {}
    for name in parts[0].columns:
        first = parts[0][name]
        if isinstance(first.dtype, pd.CategoricalDtype) and all(
            p[name].dtype == first.dtype for p in parts
        ):
            codes = np.concatenate([p[name].cat.codes.to_numpy() for p in parts])
            columns[name] = pd.Categorical.from_codes(codes, dtype=first.dtype)
        else:
            columns[name] = pd.concat([p[name] for p in parts], ignore_index=True)
    return pd.DataFrame(columns)


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
    """Add up the blocks' counts; attrs that echo what was decided for the whole input
    (``options``, ``position_shift``: ``_dask.PARAMETER_ATTRS``) are the same in every
    block."""
    merged: dict[str, Any] = {}
    for key, value in parts[0].items():
        if key in PARAMETER_ATTRS:
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
    sess_cat = ev["session_id"].cat.categories
    dropped = dict.fromkeys(_EVENT_REASONS + _SEGMENT_REASONS, 0)
    # Rules 1 and 2: clean, order, drop duplicates.
    od = _clean_and_order(ev, dropped, shift=options["shift"])
    order, s, seek_from_missing = od.order, od.s, od.seek_from_missing
    seg = _reconstruct(
        s, od.ty, od.t, od.at, od.fr, od.to,
        max_rate=options["max_rate"], min_rate=options["min_rate"],
        tolerance=options["tolerance"], scrub_window=options["scrub_window"],
        shift=options["shift"],
    )  # fmt: skip
    del od
    dropped["redundant_open"] = seg.redundant_open
    dropped["redundant_close"] = seg.redundant_close

    block = _Block()
    block.dtype, block.raw, block.dropped = ev["session_id"].dtype, seg, dropped
    # Ids per raw segment (video_id / live_stream_id), from the events and sessions.
    ids = _session_ids(ev, sessions, sess_cat, order, s)
    block.ids = {name: values[seg.s] for name, values in ids.items()}
    del ids
    block.n_in = len(ev)
    block.n_used_rows = len(s)
    block.n_sess_used = int(np.count_nonzero(np.diff(s, prepend=-1))) if len(s) else 0
    seen = np.zeros(len(sess_cat), dtype=bool)
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
        "position_shift": float(options["shift"]),
        "options": {k: v for k, v in options.items() if k != "shift"},
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
    positions: str = "auto",
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
    if positions not in ("auto", "floored", "exact"):
        raise ValueError(f'positions must be "auto", "floored" or "exact", not {positions!r}')
    if open_end not in ("estimate", "cap", "drop"):
        raise ValueError(f'open_end must be "estimate", "cap" or "drop", not {open_end!r}')
