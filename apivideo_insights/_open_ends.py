"""Ends the events do not tell: rule 6 of :func:`apivideo_insights.segments.segments`.

A segment still open when its playback ends has an interval-censored end, estimated from
heartbeats, the session's ``ended_at``, the next ``ready`` and the viewer's own runs
(``open_end="estimate"``), or by the older ``"cap"`` rule, or dropped (``"drop"``).
"""

from __future__ import annotations

import numpy as np

from ._event_order import _NAT, _NS
from ._playback_state import _Raw
from ._session_facts import _SessionFacts

#: Seconds between the SDK's timer pings while playing (``PLAYBACK_PING_DELAY``): a page
#: that played on would have pinged again within this.
_PING_INTERVAL = 10.0
#: Seconds from a tab's unload to the ready of its reload (the page loading again).
_RELOAD_LEAD = 0.5
#: Runs of a session needed within an interval before their lengths are trusted there.
_RUNS_MIN = 3


class _Runs:
    """How long uninterrupted runs last (wall seconds), per group, from the runs that a pause
    or an end closed at the player's own position: sorted, with running sums, so that the
    mean length of a group's runs within any ``[lo, hi]`` is two binary searches away.
    ``segments`` groups by session (a viewer's own runs), so that an estimate never depends
    on which other sessions share a block or a dask partition."""

    def __init__(self, group: np.ndarray, length: np.ndarray, n_groups: int) -> None:
        # Keys for per-group searches: (group, length) packed in one float, one sort.
        key = group * _RUN_SPAN + np.minimum(length, _RUN_SPAN - 1)
        order = np.argsort(key)
        self.key = key[order]
        self.length = length[order]
        self.csum = np.concatenate([[0.0], np.cumsum(self.length)])
        self.n_groups = n_groups

    @classmethod
    def of(cls, raws: list[_Raw], group_of: np.ndarray) -> _Runs:
        """The runs of ``raws``, grouped by ``group_of[session code]`` (-1: a group of its
        own for all the unknown ones)."""
        n_groups = int(group_of.max()) + 2 if len(group_of) else 1
        # Only the groups of open segments are ever asked about: the others' runs need no
        # sorting (most of the work, when most sessions end closed).
        asked = np.zeros(n_groups, dtype=bool)
        for raw in raws:
            asked[group_of[raw.s[raw.is_open]]] = True
        groups, lengths = [], []
        for raw in raws:
            done = raw.run_done & asked[group_of[raw.s]]
            groups.append(group_of[raw.s[done]])
            lengths.append((raw.t_close[done] - raw.t_open[done]) / _NS)
        g = np.concatenate(groups) if groups else np.empty(0, np.int64)
        length = np.concatenate(lengths) if lengths else np.empty(0)
        g = np.where(g >= 0, g, n_groups - 1).astype(np.float64)
        return cls(g, length, n_groups)

    def mean_within(
        self, group: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean run length within ``[lo, hi]`` per query, from the query's group when it
        has ``_RUNS_MIN`` such runs (NaN otherwise), and whether it had."""
        g = np.where(group >= 0, group, self.n_groups - 1).astype(np.float64)
        lo_c = np.minimum(lo, _RUN_SPAN - 1)
        hi_c = np.minimum(hi, _RUN_SPAN - 1)
        a = np.searchsorted(self.key, g * _RUN_SPAN + lo_c, side="left")
        b = np.searchsorted(self.key, g * _RUN_SPAN + hi_c, side="right")
        count = b - a
        with np.errstate(invalid="ignore", divide="ignore"):
            own = (self.csum[b] - self.csum[a]) / count
        enough = count >= _RUNS_MIN
        return np.where(enough, own, np.nan), enough


#: Run lengths are packed with their group as ``group * _RUN_SPAN + length`` (seconds).
_RUN_SPAN = 1e7


def _censored_ends(
    raw: _Raw,
    op: np.ndarray,
    facts: _SessionFacts,
    runs: _Runs | None,
    open_cap: float,
    duration: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each open segment's page stopped playing, from the evidence (wall clock, ns).

    The end is interval-censored: it came after the last sign of life (the playback's last
    event; its last heartbeat; the session's ``ended_at`` for its last playback) and before
    the next ``ready`` of the session and, where pings are known, before the next timer ping
    would have come. A next ``ready`` is a reload while playing (the end half a second
    before it) when it came within one ping of the last sign of life, or, without pings, when
    the playback could reach it before the ``duration`` (per session code; NaN: unknown, no).
    Otherwise, within that interval: its middle when pings bound it, else the mean length of
    the viewer's own runs that last that long (``_Runs``), else, when the duration is known,
    the expected end before the playback would have reached it (a pause and an end are sent
    at once, so it did not: :func:`_scale_free_length`), else ``open_cap`` seconds after the
    last sign of life.
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
    # Without pings, a next ready the playback could have reached without coming to the
    # end: a session id lives in one tab (sessionStorage), and a pause or an end would have
    # been sent at once, so the tab was playing when it reloaded. Reaching the end first (a
    # return days later) leaves the end to the runs.
    reach = raw.start[rows] + (at_reload - t_open) / _NS * raw.rate[rows]
    fits = reach < duration[sess]
    reload |= has_next & ~pinged & fits
    # Pings bound it: the middle. Else, without runs to go by: before the playback would
    # have come to the end of the video, else ``open_cap`` after the last sign of life
    # (never past the next ready).
    est = np.where(pinged, mid, np.minimum(alive + round(open_cap * _NS), upper))
    with np.errstate(invalid="ignore", divide="ignore"):
        lived = (alive - t_open) / _NS
        # Seconds from the opening to the duration at the playback's rate (NaN: unknown), or
        # to ``upper`` if sooner.
        hi = np.minimum((duration[sess] - raw.start[rows]) / raw.rate[rows], (upper - t_open) / _NS)
        bounded = np.flatnonzero(~pinged & ~reload & np.isfinite(hi) & (hi > lived))
    length = _scale_free_length(lived[bounded], hi[bounded])
    est[bounded] = t_open[bounded] + np.round(length * _NS).astype(np.int64)
    used_runs = np.zeros(len(rows), dtype=bool)
    if runs is not None:
        # Within the interval, how long the viewer's own uninterrupted runs last.
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


def _scale_free_length(lived: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The expected length (seconds) of stretches known to have lasted ``lived`` seconds and
    to have ended by ``hi``, when nothing sets a time scale: log-uniform on ``[lo, hi]``
    (the prior that does not change with the unit of time), whose mean is
    ``(hi - lo) / ln(hi / lo)``. Unlike the middle, it leans to the short lengths that
    viewers' drop-off makes common, and it tends to the middle as ``hi / lo`` nears 1.

    >>> round(float(_scale_free_length(np.array([10.0]), np.array([20.0]))[0]), 3)
    14.427

    (``10 / ln 2``: nearer 10 than the middle, 15.)
    """
    lo = np.maximum(lived, _MIN_LIVED)
    hi = np.maximum(hi, lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(hi > lo * (1 + 1e-9), (hi - lo) / np.log(hi / lo), lo)
    return np.asarray(np.clip(mean, lived, hi))


#: Seconds a stretch has lasted at least, for :func:`_scale_free_length` (the legacy clock's
#: resolution): a last sign of life at the opening itself does not put the end there.
_MIN_LIVED = 1.0


def _open_bounds(
    raw: _Raw,
    *,
    facts: _SessionFacts,
    runs: _Runs | None,
    open_end: str,
    open_cap: float,
    duration: np.ndarray,
    keep: np.ndarray,
    dropped: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """When each open segment stopped (wall clock, ns; ``raw.t_close`` for closed ones)
    under the ``open_end`` policy, and which were bounded by the session's ``ended_at``,
    by heartbeats and by runs. ``"drop"`` clears them from ``keep`` (counted in
    ``dropped``)."""
    n = len(raw.s)
    # Segments left open: the session's end, else the policy; the end comes from the clock.
    op = raw.is_open
    ended = facts.ended[raw.s]
    by_session = op & raw.last_pb & (ended != _NAT)
    by_beats = np.zeros(n, dtype=bool)
    by_runs = np.zeros(n, dtype=bool)
    if open_end == "estimate":
        bound, by_beats, by_runs = _censored_ends(raw, op, facts, runs, open_cap, duration)
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
    return bound, by_session, by_beats, by_runs


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
