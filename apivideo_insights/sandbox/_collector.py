"""Turn true viewing behaviour into the events the legacy api.video collector recorded.

The simulator (:mod:`apivideo_insights.sandbox.simulate`) knows what each viewer really did:
one :class:`Transitions` batch per behaviour step, each row saying where playback stopped
(``x`` at wall time ``t_stop``) and where it restarted (``y`` at ``t_res``). This module
writes what the Generation-1 collector made of it (``analytics-semantics.md`` §1.2-1.4,
§1.7), quirks included, each at a rate the caller sets in :data:`QUIRKS`:

* around a scrub, ``pause(at=target)``, ``resume(at=target)`` and ``seek(from, to)``, all at
  the release time, the seek listed after the resume;
* ``end`` with no pause before it; a replay after ``end`` as ``play at 0`` plus
  ``seek.backward duration→0``;
* the ``destroy()`` pause on tab close: duplicated when the player was already paused, and
  often lost when it was playing;
* broken seek ``from`` values (stale, ``0`` or missing), random lost events, repeated
  ``ready`` before the first play, ``at`` lagging behind the true position;
* integer positions and whole-second ``emittedAt`` are applied by the caller.

Everything is vectorised across the rows of a batch: no Python loop per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "KIND",
    "QUIRKS",
    "QUIRK_CODE",
    "EventArrays",
    "Transitions",
    "emit",
    "reserve",
    "resolve_quirks",
]

#: Event type codes: positions in :data:`apivideo_insights.schema.EVENT_TYPES`.
READY, PLAY, PAUSE, RESUME, SEEK_FORWARD, SEEK_BACKWARD, END = range(7)

#: Kinds of true transition between two stretches of playback.
KIND: dict[str, int] = {
    "open_play": 0,  # page loaded (ready), then the first play after an idle gap
    "open_only": 1,  # page loaded, never played (an impression)
    "pause": 2,  # paused at x, resumed later at y (y != x: scrubbed while paused)
    "scrub": 3,  # scrubbed while playing from x to y
    "end_stop": 4,  # reached the end, stayed there, tab closed at t_close
    "end_replay": 5,  # reached the end, pressed replay: restarts at 0
    "leave_paused": 6,  # paused at x and never resumed; tab closed at t_close
    "leave_playing": 7,  # closed the tab while playing at x
}

#: Default rate of each collector quirk (probability per opportunity, or seconds).
QUIRKS: dict[str, float] = {
    # A scrub's pause carries the target position and the release time (sample rows 9,
    # 12, 15); otherwise it carries the origin at the time the scrub began.
    "pause_at_target": 0.9,
    # The seek is listed after the resume/play it precedes, in the same second (rows 4-5).
    "seek_after_resume": 0.85,
    # hls.js style: a pause at the duration right before ``end``.
    "pause_before_end": 0.1,
    # A replay after ``end`` also emits ``seek.backward duration→0`` (rows 7-8).
    "replay_seek": 1.0,
    # destroy() on tab close sends a second pause when the player was already paused.
    "duplicate_pause": 0.3,
    # The unload pause of a tab closed while playing never reaches the collector.
    "lost_unload_pause": 0.3,
    # Any other event lost (no retry in the client).
    "lost_event": 0.002,
    # A seek whose ``from`` is wrong: stale (just below ``to``), 0 or missing (row 17).
    "broken_from": 0.02,
    # hls.js fires ``ready`` on every ``canplay`` before the first play: 1-2 extra readies.
    "extra_ready": 0.03,
    # ``at`` is the position at the last ``timeupdate``: up to this many seconds behind.
    "timeupdate_lag": 0.25,
    # A scrub while playing that the collector never hears of (video.js reports in-play
    # seeks late or not at all): no pause, resume or seek, just a jump in ``at``. Off by
    # default; the truth then cannot be fully recovered from the events.
    "hidden_seek": 0.0,
}


def resolve_quirks(quirks: Mapping[str, float] | bool | None) -> dict[str, float]:
    """Merge ``quirks`` into :data:`QUIRKS`.

    ``None`` or ``True`` gives the defaults, ``False`` switches every quirk off, and a
    mapping overrides some rates (the others keep their defaults).

    >>> resolve_quirks(False)["lost_event"]
    0.0
    >>> resolve_quirks({"broken_from": 0.5})["broken_from"]
    0.5
    """
    if quirks is None or quirks is True:
        return dict(QUIRKS)
    if quirks is False:
        return dict.fromkeys(QUIRKS, 0.0)
    if not isinstance(quirks, Mapping):
        raise TypeError("quirks must be a dict of rates, True (defaults) or False (none)")
    unknown = sorted(set(quirks) - set(QUIRKS))
    if unknown:
        raise ValueError(f"unknown quirks {unknown}; choose among {sorted(QUIRKS)}")
    out = dict(QUIRKS)
    for name, rate in quirks.items():
        value = float(rate)
        if not np.isfinite(value) or value < 0 or (name != "timeupdate_lag" and value > 1):
            raise ValueError(f"quirk {name!r} must be a rate in [0, 1], not {rate!r}")
        out[name] = value
    return out


@dataclass
class Transitions:
    """One behaviour step for ``m`` playbacks (arrays of length ``m``).

    Times are wall seconds since the playback's ``ready``; positions are media seconds.
    ``plan`` holds the collector's per-row decisions, filled by :func:`reserve`.
    """

    pb: np.ndarray  # playback index (int64)
    kind: np.ndarray  # KIND code (int8)
    x: np.ndarray  # position where playback stopped
    y: np.ndarray  # position where it restarted (target of a scrub, 0 after replay)
    t_stop: np.ndarray  # when it stopped (for "open_*": the ready time)
    t_res: np.ndarray  # when it restarted (for "open_play": the first play)
    t_close: np.ndarray  # when the tab closed ("end_stop", "leave_paused")
    duration: np.ndarray  # the media's duration
    plan: dict[str, np.ndarray] = field(default_factory=dict)
    # Where and when the stretch that ends here began (real profiles' stale seek origins).
    p: np.ndarray | None = None
    t_start: np.ndarray | None = None
    # The position at the stretch's last media event other than timeupdate (``p``, or where
    # a rate switch came back to 1x): what a stale in-play seek origin reports.
    origin: np.ndarray | None = None


#: Codes stored in the ``quirk`` column of events (0: a clean event).
QUIRK_CODE: dict[str, int] = {
    "none": 0,
    "pause_at_target": 1,
    "seek_after_resume": 2,
    "pause_before_end": 3,
    "replay_seek": 4,
    "duplicate_pause": 5,
    "broken_from": 6,
    "extra_ready": 7,
    "timeupdate_lag": 8,
}

#: The decisions :func:`reserve` takes for :func:`emit` (all boolean, per row).
_PLAN = ("extra1", "extra2", "hidden", "before_end", "duplicate", "replay_seek", "sent")


@dataclass
class EventArrays:
    """Preallocated event columns; unused slots keep ``type == -1`` and are dropped later."""

    type: np.ndarray  # int8 event type code, -1 for an empty slot
    at: np.ndarray  # float64 true-ish position (NaN for seeks)
    seek_from: np.ndarray  # float64 (NaN except seeks)
    seek_to: np.ndarray  # float64 (NaN except seeks)
    t: np.ndarray  # float64 wall seconds since the playback's ready
    quirk: np.ndarray  # int8 QUIRK_CODE

    @classmethod
    def empty(cls, n: int) -> EventArrays:
        return cls(
            type=np.full(n, -1, dtype=np.int8),
            at=np.full(n, np.nan),
            seek_from=np.full(n, np.nan),
            seek_to=np.full(n, np.nan),
            t=np.zeros(n),
            quirk=np.zeros(n, dtype=np.int8),
        )


def reserve(
    tr: Transitions,
    q: Mapping[str, float],
    rng: np.random.Generator,
    collector: str = "textbook",
) -> np.ndarray:
    """How many events each transition yields (before random losses), deciding the quirks
    that change that number; the decisions go to ``tr.plan`` for :func:`emit`.

    Reserving exact counts lets the caller place every event in its final row up front.
    """
    if collector != "textbook":
        return _reserve_real(tr, q, rng, COLLECTORS[collector])
    m = len(tr.kind)
    k = tr.kind
    plan = {name: np.zeros(m, dtype=bool) for name in _PLAN}

    def draw(rows: np.ndarray, name: str, rate: float | None = None) -> None:
        p = q[name] if rate is None else rate
        if rows.size and p > 0:
            plan_key = {
                "extra_ready": "extra1",
                "hidden_seek": "hidden",
                "pause_before_end": "before_end",
                "duplicate_pause": "duplicate",
                "replay_seek": "replay_seek",
                "lost_unload_pause": "sent",
            }[name]
            plan[plan_key][rows] = rng.random(rows.size) < p

    opening = np.flatnonzero(k <= KIND["open_only"])
    draw(opening, "extra_ready")
    plan["extra2"][opening] = plan["extra1"][opening] & (rng.random(opening.size) < 0.5)
    draw(np.flatnonzero(k == KIND["scrub"]), "hidden_seek")
    ending = np.flatnonzero((k == KIND["end_stop"]) | (k == KIND["end_replay"]))
    draw(ending, "pause_before_end")
    draw(np.flatnonzero((k == KIND["end_stop"]) | (k == KIND["leave_paused"])), "duplicate_pause")
    draw(np.flatnonzero(k == KIND["end_replay"]), "replay_seek")
    leaving = np.flatnonzero(k == KIND["leave_playing"])
    draw(leaving, "lost_unload_pause")  # True here means lost
    plan["sent"][leaving] = ~plan["sent"][leaving]
    tr.plan = plan

    n_extra = plan["extra1"].astype(np.int64) + plan["extra2"]
    moved = np.abs(tr.y - tr.x) > 1e-9
    return _by_kind(
        k,
        {
            "open_play": 2 + n_extra,
            "open_only": 1 + n_extra,
            "pause": 2 + moved,
            "scrub": np.where(plan["hidden"], 0, 3),
            "end_stop": 1 + plan["before_end"] + plan["duplicate"],
            "end_replay": 2 + plan["before_end"] + plan["replay_seek"],
            "leave_paused": 1 + plan["duplicate"],
            "leave_playing": plan["sent"].astype(np.int64),
        },
    )


def emit(
    tr: Transitions,
    base: np.ndarray,
    out: EventArrays,
    q: Mapping[str, float],
    rng: np.random.Generator,
    collector: str = "textbook",
) -> None:
    """Write the collector's events for one batch of transitions into ``out``.

    Row ``i`` of ``tr`` owns the slots ``base[i] ..`` of ``out`` that :func:`reserve`
    counted for it, in list order; events lost at random leave their slot empty.
    """
    kind = tr.kind
    real = collector != "textbook"
    for code in np.unique(kind):
        rows = np.flatnonzero(kind == code)
        r = _Rows(tr, rows, base[rows], out, q, rng)
        if real:
            _REAL_WRITERS[int(code)](r, COLLECTORS[collector])
        else:
            _KIND_WRITERS[int(code)](r)


class _Rows:
    """The rows of one kind within a batch, and helpers that write their events."""

    def __init__(
        self,
        tr: Transitions,
        rows: np.ndarray,
        base: np.ndarray,
        out: EventArrays,
        q: Mapping[str, float],
        rng: np.random.Generator,
    ) -> None:
        self.n = rows.size
        self.x, self.y, self.d = tr.x[rows], tr.y[rows], tr.duration[rows]
        self.p = tr.p[rows] if tr.p is not None else None
        self.t_start = tr.t_start[rows] if tr.t_start is not None else None
        self.origin = tr.origin[rows] if tr.origin is not None else self.p
        self.t_stop, self.t_res, self.t_close = tr.t_stop[rows], tr.t_res[rows], tr.t_close[rows]
        self.plan = {name: values[rows] for name, values in tr.plan.items()}
        self.base, self.out, self.q, self.rng = base, out, q, rng
        # ``at`` comes from the last timeupdate: a little behind the true position.
        lag = rng.random(self.n) * q["timeupdate_lag"]
        self.x_at = np.where(self.x >= self.d, self.x, np.maximum(self.x - lag, 0.0))
        self.lagged = np.floor(self.x_at + 0.5) != np.floor(self.x + 0.5)

    def subset(self, keep: np.ndarray) -> _Rows:
        """The same helper restricted to some rows."""
        out = object.__new__(_Rows)
        out.__dict__.update(self.__dict__)
        out.n = int(keep.sum())
        for name in ("x", "y", "d", "t_stop", "t_res", "t_close", "base", "x_at", "lagged"):
            setattr(out, name, getattr(self, name)[keep])
        for name in ("p", "t_start", "origin"):
            if getattr(self, name) is not None:
                setattr(out, name, getattr(self, name)[keep])
        out.plan = {name: values[keep] for name, values in self.plan.items()}
        return out

    def chance(self, name: str) -> np.ndarray:
        """Which rows the quirk hits (no draw when it is off: worlds stay put)."""
        if self.q[name] == 0:
            return np.zeros(self.n, dtype=bool)
        return self.rng.random(self.n) < self.q[name]

    def put(
        self,
        mask: np.ndarray | None,
        slot: int | np.ndarray,
        code: int,
        when: np.ndarray,
        at: float | np.ndarray = np.nan,
        quirk: int | np.ndarray = 0,
        lossy: bool = True,
    ) -> None:
        """One event per selected row (``mask``), in ``slot`` (an int or per row)."""
        sel = np.arange(self.n) if mask is None else np.flatnonzero(mask)
        if lossy and self.q["lost_event"] > 0:
            sel = sel[self.rng.random(sel.size) >= self.q["lost_event"]]
        where = self.base[sel] + (slot if np.isscalar(slot) else np.asarray(slot)[sel])
        o = self.out
        o.type[where] = code
        o.t[where] = when[sel]
        o.at[where] = at if np.isscalar(at) else np.asarray(at)[sel]
        o.quirk[where] = quirk if np.isscalar(quirk) else np.asarray(quirk)[sel]

    def seek(
        self,
        mask: np.ndarray,
        slot: int | np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        quirk: Any,
        when: np.ndarray | None = None,
        breakable: bool = True,
    ) -> None:
        """A seek ``x -> y`` at ``when`` (default ``t_res``): maybe a broken ``from``,
        labelled on floats."""
        sel = np.flatnonzero(mask)
        if self.q["lost_event"] > 0:
            sel = sel[self.rng.random(sel.size) >= self.q["lost_event"]]
        frm, to = np.asarray(x, dtype=float)[sel], np.asarray(y, dtype=float)[sel]
        qk = np.broadcast_to(np.asarray(quirk, dtype=np.int8), (self.n,))[sel].copy()
        u = self.rng.random((2, sel.size))
        broken = u[0] < (self.q["broken_from"] if breakable else 0.0)
        stale = np.maximum(to - 0.49 * u[1], 0.0)  # the position at the target's timeupdate
        how = u[1]
        frm = np.where(broken, np.where(how < 0.5, stale, np.where(how < 0.75, 0.0, np.nan)), frm)
        qk[broken] = QUIRK_CODE["broken_from"]
        where = self.base[sel] + (slot if np.isscalar(slot) else np.asarray(slot)[sel])
        o = self.out
        # The client labels on its floats: from < to is forward; NaN (undefined) is backward.
        o.type[where] = np.where(frm < to, SEEK_FORWARD, SEEK_BACKWARD)
        o.t[where] = (self.t_res if when is None else np.asarray(when))[sel]
        o.seek_from[where] = frm
        o.seek_to[where] = to
        o.quirk[where] = qk


def _opening(r: _Rows, play: bool) -> None:
    extra1, extra2 = r.plan["extra1"], r.plan["extra2"]
    gap = r.t_res - r.t_stop if play else np.full(r.n, 30.0)
    code = QUIRK_CODE["extra_ready"]
    r.put(None, 0, READY, r.t_stop, 0.0, lossy=False)
    r.put(extra1, 1, READY, r.t_stop + np.minimum(gap * 0.3, 1.0), 0.0, code)
    r.put(extra2, 2, READY, r.t_stop + np.minimum(gap * 0.6, 2.0), 0.0, code)
    if play:
        r.put(None, 1 + extra1 + extra2, PLAY, r.t_res, 0.0)


def _pause_quirk(r: _Rows) -> np.ndarray:
    return np.where(r.lagged, QUIRK_CODE["timeupdate_lag"], 0)


def _seek_pair(r: _Rows, mask: np.ndarray, opener: int, at: np.ndarray) -> None:
    """The opening event at the target and its seek (slots 1, 2): the seek often last."""
    after = r.chance("seek_after_resume")
    open_slot = np.where(after, 1, 2)
    r.put(mask, open_slot, opener, r.t_res, at)
    r.seek(mask, 3 - open_slot, r.x, r.y, np.where(after, QUIRK_CODE["seek_after_resume"], 0))


def _pause(r: _Rows) -> None:
    r.put(None, 0, PAUSE, r.t_stop, r.x_at, _pause_quirk(r))
    moved = np.abs(r.y - r.x) > 1e-9
    r.put(~moved, 1, RESUME, r.t_res, r.y)
    _seek_pair(r, moved, RESUME, r.y)


def _scrub(r: _Rows) -> None:
    heard = ~r.plan["hidden"]
    if not heard.all():
        r = r.subset(heard)
    target = r.chance("pause_at_target")
    at = np.where(target, r.y, r.x_at)
    when = np.where(target, r.t_res, r.t_stop)
    qk = np.where(target, QUIRK_CODE["pause_at_target"], _pause_quirk(r))
    r.put(None, 0, PAUSE, when, at, qk)
    _seek_pair(r, np.ones(r.n, dtype=bool), RESUME, r.y)


def _end(r: _Rows, replay: bool) -> None:
    before = r.plan["before_end"]
    slot = before.astype(np.int64)
    r.put(before, 0, PAUSE, r.t_stop, r.d, QUIRK_CODE["pause_before_end"])
    r.put(None, slot, END, r.t_stop, r.d)
    if replay:
        r.put(None, slot + 1, PLAY, r.t_res, 0.0)
        r.seek(r.plan["replay_seek"], slot + 2, r.d, np.zeros(r.n), QUIRK_CODE["replay_seek"])
    else:
        code = QUIRK_CODE["duplicate_pause"]
        r.put(r.plan["duplicate"], slot + 1, PAUSE, r.t_close, r.d, code)


def _leave_paused(r: _Rows) -> None:
    r.put(None, 0, PAUSE, r.t_stop, r.x_at, _pause_quirk(r))
    code = QUIRK_CODE["duplicate_pause"]
    r.put(r.plan["duplicate"], 1, PAUSE, r.t_close, r.x_at, code)


def _leave_playing(r: _Rows) -> None:
    r.put(r.plan["sent"], 0, PAUSE, r.t_stop, r.x_at, _pause_quirk(r))


_KIND_WRITERS = {
    KIND["open_play"]: lambda r: _opening(r, play=True),
    KIND["open_only"]: lambda r: _opening(r, play=False),
    KIND["pause"]: _pause,
    KIND["scrub"]: _scrub,
    KIND["end_stop"]: lambda r: _end(r, replay=False),
    KIND["end_replay"]: lambda r: _end(r, replay=True),
    KIND["leave_paused"]: _leave_paused,
    KIND["leave_playing"]: _leave_playing,
}


# --------------------------------------------------------------------------------------
# Real-browser collector profiles (analytics-semantics.md §1.8)


@dataclass(frozen=True)
class Collector:
    """How one real integration of ``@api.video/player-analytics`` 1.x reports a viewer.

    Measured in Chromium (§1.8); every field is a fact of the stream, not a quirk rate.
    """

    #: How stale an in-play seek's ``from`` is: "stretch" (the position at the last media
    #: event other than timeupdate, i.e. where the stretch began: a downloaded progressive
    #: file), "fragment" (hls.js: ``progress`` at each ~2 s fragment, 3.5 s behind on
    #: average), "fresh" (still downloading: ``progress`` keeps it ~0.25 s behind) or
    #: "hidden" (video.js: an in-play seek sends nothing until the next play).
    seek_origin: str
    #: ``destroy()`` on unload: a pause when the tab closes or reloads (a repeat one when
    #: already paused). False for api.video's own hls.js plugin.
    unload_pause: bool
    #: A pause at the duration before ``end`` (hls.js mapping: the browser's pause event).
    pause_before_end: bool
    #: The unload pause of a tab closed while playing is lost this often.
    unload_loss: float = 0.1
    #: Events still queued when the tab closes (play, resume, seeks since the last ping)
    #: are lost (no unload handler flushes them).
    lose_queued: bool = False
    #: Share of paused scrubs whose target was not buffered: the resume carries the old
    #: position and the seek follows it.
    unbuffered: float = 0.1
    #: Share of first plays preceded by a second ``ready`` (a seek before the first play
    #: fires ``canplay`` again).
    extra_ready: float = 0.25


#: The collector profiles of :func:`~apivideo_insights.sandbox.simulate` (``collector=``).
COLLECTORS: dict[str, Collector] = {
    # An integration following the hls.js plugin's event mapping, calling destroy() on
    # unload, on a fully downloaded progressive file (§1.8, first way).
    "hlsjs": Collector("stretch", unload_pause=True, pause_before_end=True),
    # The same while the file is still downloading: fresh seek origins.
    "hlsjs_downloading": Collector("fresh", unload_pause=True, pause_before_end=True),
    # api.video's own hls.js plugin v1 with hls.js: nothing on unload, queued events lost.
    "hlsjs_plugin": Collector(
        "fragment", unload_pause=False, pause_before_end=True, lose_queued=True
    ),
    # The video.js plugin v1 (§1.3): in-play seeks unreported, no pause before end.
    "videojs": Collector("hidden", unload_pause=True, pause_before_end=False),
}

#: Seconds between the client's timer pings while playing (``PLAYBACK_PING_DELAY``).
PING_INTERVAL = 10.0


def _reserve_real(
    tr: Transitions, q: Mapping[str, float], rng: np.random.Generator, c: Collector
) -> np.ndarray:
    m = len(tr.kind)
    k = tr.kind
    plan = {name: np.zeros(m, dtype=bool) for name in _PLAN}
    opening = k <= KIND["open_only"]
    plan["extra1"] = opening & (rng.random(m) < c.extra_ready)
    plan["hidden"] = (k == KIND["scrub"]) & (c.seek_origin == "hidden")
    plan["before_end"] = ((k == KIND["end_stop"]) | (k == KIND["end_replay"])) & bool(
        c.pause_before_end
    )
    plan["duplicate"] = ((k == KIND["end_stop"]) | (k == KIND["leave_paused"])) & bool(
        c.unload_pause
    )
    plan["replay_seek"] = k == KIND["end_replay"]
    plan["sent"] = (k == KIND["leave_playing"]) & c.unload_pause & (rng.random(m) >= c.unload_loss)
    tr.plan = plan
    moved = np.abs(tr.y - tr.x) > 1e-9
    return _by_kind(
        k,
        {
            "open_play": 2 + plan["extra1"],
            "open_only": 1 + plan["extra1"],
            "pause": 2 + moved,
            "scrub": np.where(plan["hidden"], 0, 1),
            "end_stop": 1 + plan["before_end"] + plan["duplicate"],
            "end_replay": 3 + plan["before_end"],
            "leave_paused": 1 + plan["duplicate"],
            "leave_playing": plan["sent"].astype(np.int64),
        },
    )


def _real_open(r: _Rows, c: Collector, play: bool) -> None:
    extra = r.plan["extra1"]
    gap = r.t_res - r.t_stop if play else np.full(r.n, 30.0)
    r.put(None, 0, READY, r.t_stop, 0.0, lossy=False)
    r.put(extra, 1, READY, r.t_stop + np.minimum(gap * 0.3, 1.0), 0.0, QUIRK_CODE["extra_ready"])
    if play:
        r.put(None, 1 + extra, PLAY, r.t_res, 0.0)


def _real_pause(r: _Rows, c: Collector) -> None:
    """Paused at ``x``; a scrub while paused is seek(s) with exact ``from``/``to``, then the
    resume at the target (or, target not buffered, the resume at ``x`` and the seek after)."""
    r.put(None, 0, PAUSE, r.t_stop, r.x_at, _pause_quirk(r))
    moved = np.abs(r.y - r.x) > 1e-9
    r.put(~moved, 1, RESUME, r.t_res, r.y)
    if c.seek_origin == "hidden":  # video.js: the seek is reported at the play, just before
        r.seek(moved, 1, r.x, r.y, 0, when=r.t_res, breakable=False)
        r.put(moved, 2, RESUME, r.t_res, r.y)
        return
    late = moved & (r.rng.random(r.n) < c.unbuffered)
    on_time = moved & ~late
    seek_t = np.maximum(r.t_res - 0.05, r.t_stop)
    r.seek(on_time, 1, r.x, r.y, 0, when=seek_t, breakable=False)
    r.put(on_time, 2, RESUME, r.t_res, r.y)
    r.put(late, 1, RESUME, r.t_res, r.x_at)
    r.seek(late, 2, r.x, r.y, QUIRK_CODE["seek_after_resume"], when=r.t_res + 0.3, breakable=False)


def _real_scrub(r: _Rows, c: Collector) -> None:
    """An in-play seek: no pause, no resume, one seek whose ``from`` is stale."""
    heard = ~r.plan["hidden"]
    if not heard.any():
        return
    r = r.subset(heard)
    p = r.origin if r.origin is not None else np.zeros(r.n)
    u = r.rng.random(r.n)
    if c.seek_origin == "stretch":
        frm = p
    elif c.seek_origin == "fragment":
        frm = np.maximum(r.x - 7.0 * u, p)
    else:  # "fresh"
        frm = np.maximum(r.x - 0.5 * u, p)
    r.seek(np.ones(r.n, dtype=bool), 0, frm, r.y, QUIRK_CODE["broken_from"], breakable=False)


def _real_end(r: _Rows, c: Collector, replay: bool) -> None:
    before = r.plan["before_end"]
    # The pause and the end go in two pings: listed in either order.
    flip = before & (r.rng.random(r.n) < 0.5)
    r.put(before, np.where(flip, 1, 0), PAUSE, r.t_stop, r.d, QUIRK_CODE["pause_before_end"])
    slot = before.astype(np.int64)
    r.put(None, np.where(flip, 0, slot), END, r.t_stop, r.d)
    if replay:
        if c.seek_origin == "hidden":  # video.js: the seek at the play, then the resume
            r.seek(np.ones(r.n, dtype=bool), slot + 1, r.d, np.zeros(r.n), 4, breakable=False)
            r.put(None, slot + 2, RESUME, r.t_res, 0.0)
            return
        # resume(at=duration) while playback restarts at 0, then seek.backward d -> 0
        # (sometimes 0 -> 0: the origin was read after the jump).
        r.put(None, slot + 1, RESUME, r.t_res, r.d)
        zero = r.rng.random(r.n) < 0.2
        frm = np.where(zero, 0.0, r.d)
        code = QUIRK_CODE["replay_seek"]
        r.seek(np.ones(r.n, dtype=bool), slot + 2, frm, np.zeros(r.n), code,
               when=r.t_res + 0.05, breakable=False)  # fmt: skip
    else:
        r.put(r.plan["duplicate"], slot + 1, PAUSE, r.t_close, r.d, QUIRK_CODE["duplicate_pause"])


def _real_leave_paused(r: _Rows, c: Collector) -> None:
    r.put(None, 0, PAUSE, r.t_stop, r.x_at, _pause_quirk(r))
    r.put(r.plan["duplicate"], 1, PAUSE, r.t_close, r.x_at, QUIRK_CODE["duplicate_pause"])


def _real_leave_playing(r: _Rows, c: Collector) -> None:
    r.put(r.plan["sent"], 0, PAUSE, r.t_stop, r.x_at, _pause_quirk(r))


_REAL_WRITERS = {
    KIND["open_play"]: lambda r, c: _real_open(r, c, play=True),
    KIND["open_only"]: lambda r, c: _real_open(r, c, play=False),
    KIND["pause"]: _real_pause,
    KIND["scrub"]: _real_scrub,
    KIND["end_stop"]: lambda r, c: _real_end(r, c, replay=False),
    KIND["end_replay"]: lambda r, c: _real_end(r, c, replay=True),
    KIND["leave_paused"]: _real_leave_paused,
    KIND["leave_playing"]: _real_leave_playing,
}


def queued_at_close(
    e_pb: np.ndarray,
    e_type: np.ndarray,
    e_t: np.ndarray,
    close_t: np.ndarray,
    closed_playing: np.ndarray,
) -> np.ndarray:
    """Which events were still in the client's queue when their tab closed while playing.

    Play, resume and seeks wait for the next timer ping (every :data:`PING_INTERVAL` s
    since the ready); ready, pause and end are sent at once and flush the queue. An event
    of a playback closed while playing is lost when no ping left between it and the close.
    ``e_t`` is relative to the playback's ready; ``close_t`` and ``closed_playing`` are
    per playback.
    """
    n = len(e_pb)
    lost = np.zeros(n, dtype=bool)
    if not n:
        return lost
    flush = (e_type == READY) | (e_type == PAUSE) | (e_type == END)
    # The time of the next flush after each event, within its playback (inf: none).
    nxt = np.where(flush, e_t, np.inf)
    same = np.ones(n, dtype=bool)
    same[:-1] = e_pb[1:] == e_pb[:-1]
    # Reverse running minimum per playback (segments of equal e_pb are contiguous).
    rev = nxt[::-1].copy()
    grp = np.cumsum(np.r_[True, e_pb[::-1][1:] != e_pb[::-1][:-1]])
    offset = grp * 1e15
    running = np.minimum.accumulate(rev - offset) + offset
    after = np.r_[running[::-1][1:], np.inf]
    after = np.where(same, after, np.inf)
    del same
    close = close_t[e_pb]
    tick = (np.floor(e_t / PING_INTERVAL) + 1) * PING_INTERVAL
    queued = ~flush & closed_playing[e_pb] & (after > close) & (tick > close) & (e_t <= close)
    lost[queued] = True
    return lost


def _by_kind(k: np.ndarray, values: Mapping[str, Any]) -> np.ndarray:
    """Events each step sends, by kind of step (0 for kinds not named)."""
    chosen = np.select([k == KIND[name] for name in values], list(values.values()), 0)
    return np.asarray(chosen, dtype=np.int64)
