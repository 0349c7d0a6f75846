"""The state machine per playback, over whole columns: rules 3 to 5 of
:func:`apivideo_insights.segments.segments` (playbacks, opening and closing, the wall
clock), from ordered events to raw segments.

Each step is a function of the ordered columns to arrays; no Python loop runs per event.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._event_order import _CLOSE, _KIND, _NAT, _NS, _OPEN, _PAUSE, _READYK, _SEEK

# A pause at the scrub target and the seek's ``to`` agree within integer rounding.
_SCRUB_MATCH = 1.0
# A playback's own rate is trusted once its trusted segments add up to this much wall time;
# it is never taken below this floor (a stalled player is not a slow one).
_RATE_MIN_WALL = 10.0
_RATE_FLOOR = 0.25


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


class _Events:
    """The ordered events of a block, as columns, with the playback and state of each."""

    s: np.ndarray
    ty: np.ndarray
    t: np.ndarray
    at: np.ndarray
    fr: np.ndarray
    to: np.ndarray
    kind: np.ndarray
    first: np.ndarray  # first event of its session
    pb_start: np.ndarray  # first event of its playback
    pb: np.ndarray  # global playback id (int32)
    is_open_ev: np.ndarray
    is_close_ev: np.ndarray
    is_seek: np.ndarray
    playing: np.ndarray  # state before each event
    window: int  # scrub window, ns
    n_pb: int


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
    shift: float = 0.0,
) -> _Raw:
    """Raw segments of ordered events (rules 3 to 5), one step at a time."""
    ev = _columns(s, ty, t, at, fr, to, scrub_window)
    eff_open = ev.is_open_ev & ~ev.playing
    eff_close = ev.is_close_ev & ev.playing
    seek_open = ev.is_seek & ev.playing
    reanchor, redundant_open = _reanchors(
        ev, eff_open, max_rate=max_rate, min_rate=min_rate, tolerance=tolerance
    )
    oi, ci, closed = _pair_bounds(ev, eff_open | eff_close | seek_open | reanchor, eff_close)
    start = _opening_positions(ev, oi, eff_open, seek_open)
    cc = ci[closed]
    del ci
    end, est, rate, rate_pb, run_done, tails = _closed_ends(
        ev, oi, closed, cc, start, eff_close, seek_open, reanchor,
        max_rate=max_rate, min_rate=min_rate, tolerance=tolerance, shift=shift,
    )  # fmt: skip
    del eff_open, eff_close, seek_open, reanchor
    opened = ~closed
    t_close, t_next, last_pb = _open_at_end(ev, oi, closed, cc)
    est[opened] = True
    del cc
    hi, h_start, h_end, h_open, h_rate, redundant_close = _lost_plays(
        ev, rate_pb, max_rate=max_rate, tolerance=tolerance
    )
    raw = _Raw()
    raw.redundant_open = redundant_open
    raw.n_playbacks = ev.n_pb
    raw.redundant_close = redundant_close
    raw.inferred = len(hi)
    tail_key, tail_start, tail_end, tail_open, tail_rate = tails
    raw.split = len(tail_key)
    if len(tail_key):
        hi = np.concatenate([hi, tail_key])
        h_start = np.concatenate([h_start, tail_start])
        h_end = np.concatenate([h_end, tail_end])
        h_open = np.concatenate([h_open, tail_open])
        h_rate = np.concatenate([h_rate, tail_rate])
    del tails, tail_key, tail_start, tail_end, tail_open, tail_rate
    _assemble(raw, ev, oi, hi, start=start, end=end, t_close=t_close, t_next=t_next,
              last_pb=last_pb, est=est, opened=opened, run_done=run_done, rate=rate,
              h_start=h_start, h_end=h_end, h_open=h_open, h_rate=h_rate)  # fmt: skip
    return raw


def _columns(
    s: np.ndarray,
    ty: np.ndarray,
    t: np.ndarray,
    at: np.ndarray,
    fr: np.ndarray,
    to: np.ndarray,
    scrub_window: float,
) -> _Events:
    """Rule 3 (playbacks) and the state (playing or not) before each event."""
    m = len(s)
    ev = _Events()
    ev.s, ev.ty, ev.t, ev.at, ev.fr, ev.to = s, ty, t, at, fr, to
    kind = ev.kind = _KIND[np.maximum(ty, 0)]
    first = ev.first = np.ones(m, dtype=bool)
    first[1:] = s[1:] != s[:-1]
    is_ready = kind == _READYK
    pb_start = ev.pb_start = first | is_ready
    del is_ready
    # int32 indices and counters: half the memory of int64 (m < 2**31 events).
    pb = ev.pb = np.cumsum(pb_start, dtype=np.int32)
    pb -= 1
    ev.n_pb = int(pb[-1] + 1) if m else 0

    is_open_ev = ev.is_open_ev = kind == _OPEN
    is_close_ev = ev.is_close_ev = kind == _CLOSE
    ev.is_seek = kind == _SEEK
    # State after each event = last open/close event of the playback (closed at its start).
    last = np.arange(m, dtype=np.int32)
    last[~(is_open_ev | is_close_ev | pb_start)] = 0
    np.maximum.accumulate(last, out=last)
    playing = ev.playing = np.zeros(m, dtype=bool)  # state before each event
    playing[1:] = is_open_ev[last[:-1]]
    playing[pb_start] = False
    del last
    ev.window = round(scrub_window * _NS)
    return ev


def _reanchors(
    ev: _Events, eff_open: np.ndarray, *, max_rate: float, min_rate: float, tolerance: float
) -> tuple[np.ndarray, int]:
    """Which play/resume while playing contradict the position the previous event gave,
    plus the wall time since (the pause in between was lost or listed after it): those
    close the segment at ``at`` and reopen there; the others are repeats (counted)."""
    t, at, to, is_seek, pb_start = ev.t, ev.at, ev.to, ev.is_seek, ev.pb_start
    rj = np.flatnonzero(ev.is_open_ev & ev.playing)
    pj = rj - 1  # never -1: a playback starts closed
    pp = np.maximum(pj - 1, 0)
    prev_paired = eff_open[pj] & ~pb_start[pj] & is_seek[pp] & (t[pj] - t[pp] <= ev.window)
    p_prev = np.where(is_seek[pj] | prev_paired, to[np.where(is_seek[pj], pj, pp)], at[pj]).astype(
        np.float64
    )
    w_prev = (t[rj] - t[pj]) / _NS
    a_r = at[rj].astype(np.float64)
    consistent = (a_r >= p_prev + w_prev * min_rate - tolerance) & (
        a_r <= p_prev + w_prev * max_rate + tolerance
    )
    reanchor = np.zeros(len(t), dtype=bool)
    reanchor[rj[~consistent]] = True
    return reanchor, int(np.count_nonzero(consistent))


def _pair_bounds(
    ev: _Events, bound: np.ndarray, eff_close: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each opening event (``oi``), the event that closes it (``ci``, where ``closed``)."""
    bidx = np.flatnonzero(bound)
    opener_b = ~eff_close[bidx]
    pb_b = ev.pb[bidx]
    has_closer = np.zeros(len(bidx), dtype=bool)
    has_closer[:-1] = opener_b[:-1] & (pb_b[1:] == pb_b[:-1])
    oi = bidx[opener_b]  # opening events
    closed = has_closer[opener_b]
    ci = np.zeros(len(oi), dtype=np.int64)
    ci[closed] = bidx[np.flatnonzero(opener_b & has_closer) + 1]
    return oi, ci, closed


def _opening_positions(
    ev: _Events, oi: np.ndarray, eff_open: np.ndarray, seek_open: np.ndarray
) -> np.ndarray:
    """Opening position: the seek's ``to`` for a seek, or a seek just before a play/resume."""
    t, is_seek = ev.t, ev.is_seek
    prev = np.maximum(oi - 1, 0)
    paired_open = eff_open[oi] & ~ev.pb_start[oi] & is_seek[prev] & (t[oi] - t[prev] <= ev.window)
    start = np.where(
        seek_open[oi] | paired_open, ev.to[np.where(seek_open[oi], oi, prev)], ev.at[oi]
    )
    return start.astype(np.float64)


def _closed_ends(
    ev: _Events,
    oi: np.ndarray,
    closed: np.ndarray,
    cc: np.ndarray,
    start: np.ndarray,
    eff_close: np.ndarray,
    seek_open: np.ndarray,
    reanchor: np.ndarray,
    *,
    max_rate: float,
    min_rate: float,
    tolerance: float,
    shift: float = 0.0,
) -> tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
]:
    """Rule 5: the end of every closed segment, checked against the wall clock at the
    playback's own rate. Returns ends (NaN while open), estimated flags, rate per segment,
    rate per playback, runs done, and the stretches split before unreachable closes."""
    t, at, fr, pb = ev.t, ev.at, ev.fr, ev.pb
    # Closing position: ``at``; ``from`` for a seek or for a pause before a scrub.
    a_cc = at[cc].astype(np.float64)
    scrub, nxt = _before_scrub(cc, a_cc, ev.ty, ev.is_seek, ev.pb_start, ev.to, t, ev.window)
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
    trusted = good & eff_close[cc]
    rate_pb = _playback_rates(
        pb_c, trusted, cand - s0, wall, ev.n_pb, pb, ev.s, ev.pb_start, at, fr, ev.to, t,
        min_rate=min_rate, max_rate=max_rate, shift=shift,
    )  # fmt: skip
    # In a session whose origins go stale (``_fresh_origins``), an in-play seek's true
    # origin is where the clock puts the player; a ``from`` behind it is the player's
    # position at its last media event, often where the stretch began: the clock wins.
    fresh = _fresh_origins(ev.s[cc], seek_open[cc], cand, s0, wall, tolerance=tolerance)
    with np.errstate(invalid="ignore"):
        behind = seek_open[cc] & (cand < s0 + wall * rate_pb[pb_c] - tolerance)
    stale = behind & ~fresh
    # Elsewhere a ``from`` behind the clock is one of two things the events cannot tell
    # apart: right, with the clock late by the seek's own buffering (a slow network), or
    # the position at the last rate change or fragment loaded, with the clock right (a fast
    # one). The origin is interval-censored between the two: its middle.
    lagging = behind & fresh & good
    clock_1x = s0 + wall * np.maximum(rate_pb[pb_c], 1.0)
    cand = np.where(lagging, (cand + clock_1x) / 2, cand)
    good &= ~stale
    # A ``from`` ahead of where the viewer's rate puts the player: playback ran faster for a
    # while (rate changes send nothing), and ``from`` is where it was at its last media
    # event, some time before the seek. The origin is then interval-censored between
    # ``from`` and where the viewer's rate takes it from the earliest moment the player
    # could have been at ``from`` (reached at ``max_rate``): its middle. A ``from`` only a
    # little ahead may be rounding rather than speed, so it moves there in proportion to
    # how far ahead it is, all the way from ``tolerance`` on (no jump at a border that
    # whole-second data often sits on).
    with np.errstate(invalid="ignore", divide="ignore"):
        over = cand - (s0 + wall * np.maximum(rate_pb[pb_c], 1.0))
        ahead = seek_open[cc] & good & (over > 0) & ~fresh
        weight = np.clip(over / tolerance, 0.0, 1.0)
    since = np.maximum(wall - (cand - s0) / max_rate, 0.0)
    middle = np.minimum(cand + since * rate_pb[pb_c] / 2, s0 + wall * max_rate)
    cand = np.where(ahead, cand + weight * (middle - cand), cand)
    del trusted, behind, stale, since, fresh, over, weight, middle, clock_1x
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
    est[closed] = ~good | ahead | lagging
    sp = np.flatnonzero(split)
    tail_key = cc[sp]
    tail_end = a_cc[sp]
    tail_start = np.maximum(tail_end - half[sp], 0.0)
    tail_open = t[tail_key] - np.round(wall[sp] / 2 * _NS).astype(np.int64)
    tail_rate = rate[closed][sp]
    # Runs a pause or an end closed where the player said: how long viewers watch on.
    run_done = np.zeros(len(oi), dtype=bool)
    run_done[closed] = good & eff_close[cc]
    tails = (tail_key, tail_start, tail_end, tail_open, tail_rate)
    return end, est, rate, rate_pb, run_done, tails


def _fresh_origins(
    sess: np.ndarray,
    in_play: np.ndarray,
    origin: np.ndarray,
    s0: np.ndarray,
    wall: np.ndarray,
    *,
    tolerance: float,
) -> np.ndarray:
    """Which in-play seeks' ``from`` looks fresh (believed, unless it is more than
    ``tolerance`` behind the clock: then :func:`_closed_ends` takes the middle).

    An in-play seek's ``from`` is the player's position at its last media event other than
    ``timeupdate``. Once the file is downloaded nothing but the stretch's own start fires
    such events, so ``from`` goes stale *at the stretch's start*, long after it opened:
    the sign that a session's origins cannot be trusted against the clock. While the file
    is still downloading, ``progress`` keeps ``from`` fresh, and the clock is what is late
    (by the seek's own buffering: the seek is sent at ``seeked``). So: a ``from`` past its
    stretch's start, in a session that never shows the stale sign, looks fresh.
    """
    n = int(sess.max()) + 1 if len(sess) else 0
    with np.errstate(invalid="ignore"):
        at_start = in_play & (np.abs(origin - s0) <= tolerance / 2) & (wall > tolerance)
        past_start = in_play & (origin - s0 > tolerance)
    stale_s = np.bincount(sess, weights=at_start, minlength=n) > 0
    out: np.ndarray = past_start & ~stale_s[sess]
    return out


def _open_at_end(
    ev: _Events, oi: np.ndarray, closed: np.ndarray, cc: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open at the end: the playback's last event and the next playback's ready bound it.

    Returns per segment the time it closed (the playback's last event for open ones), the
    next ready's time (NaT: none) and whether it is in the session's last playback."""
    t, m = ev.t, len(ev.t)
    opened = ~closed
    po = oi[opened]
    pb_last = np.flatnonzero(np.append(ev.pb_start[1:], True))  # last event of each playback
    lastev = pb_last[ev.pb[po]]
    t_close = np.zeros(len(oi), dtype=np.int64)
    t_close[closed] = t[cc]
    t_close[opened] = t[lastev]
    following = np.minimum(lastev + 1, m - 1)
    has_next = (lastev + 1 < m) & ~ev.first[following]
    t_next = np.full(len(oi), _NAT, dtype=np.int64)
    t_next[opened] = np.where(has_next, t[following], _NAT)
    last_pb = np.zeros(len(oi), dtype=bool)
    last_pb[opened] = ~has_next
    return t_close, t_next, last_pb


def _lost_plays(
    ev: _Events, rate_pb: np.ndarray, *, max_rate: float, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Segments inferred for a lost play/resume, and the count of redundant closes.

    A pause/end while paused at a position ahead of where the player was left (after a
    ready, a close or a seek), within what the clock allows, means the play/resume in
    between was lost: that stretch was watched (start time estimated at the rate)."""
    t, at, fr, to, is_seek, pb_start = ev.t, ev.at, ev.fr, ev.to, ev.is_seek, ev.pb_start
    rc = np.flatnonzero(ev.is_close_ev & ~ev.playing & ~pb_start)
    pv = rc - 1
    a_rc = at[rc].astype(np.float64)
    scrub_rc, nx = _before_scrub(rc, a_rc, ev.ty, is_seek, pb_start, to, t, ev.window)
    reached = np.where(scrub_rc, fr[nx], a_rc).astype(np.float64)
    left = np.where(is_seek[pv], to[pv], at[pv]).astype(np.float64)
    left = np.where((ev.kind[pv] == _READYK) & ~np.isfinite(left), 0.0, left)
    gap = reached - left
    with np.errstate(invalid="ignore"):
        hidden = (gap > 0) & (gap <= (t[rc] - t[pv]) / _NS * max_rate + tolerance)
    hi = rc[hidden]
    redundant = int(len(rc) - len(hi)) + int(np.count_nonzero(ev.is_close_ev & pb_start))
    h_rate = rate_pb[ev.pb[hi]]
    h_start = left[hidden]
    h_end = reached[hidden]
    h_open = t[hi] - np.round((h_end - h_start) / h_rate * _NS).astype(np.int64)
    return hi, h_start, h_end, h_open, h_rate, redundant


def _assemble(
    raw: _Raw,
    ev: _Events,
    oi: np.ndarray,
    hi: np.ndarray,
    *,
    start: np.ndarray,
    end: np.ndarray,
    t_close: np.ndarray,
    t_next: np.ndarray,
    last_pb: np.ndarray,
    est: np.ndarray,
    opened: np.ndarray,
    run_done: np.ndarray,
    rate: np.ndarray,
    h_start: np.ndarray,
    h_end: np.ndarray,
    h_open: np.ndarray,
    h_rate: np.ndarray,
) -> None:
    """Fill ``raw`` with the segments of the openings ``oi`` and the inferred ones ``hi``,
    merged in event order."""
    t, pb = ev.t, ev.pb
    # Playback number within the session: playbacks since the session's first one.
    sess_no = np.cumsum(ev.first, dtype=np.int32)
    head_pb = pb[np.flatnonzero(ev.first)]
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

    raw.s = ev.s[both]
    raw.pb = pb[both]
    raw.playback = (raw.pb - head_pb[sess_no[both] - 1]).astype(np.int64)
    del sess_no, head_pb
    raw.start = cat(start, h_start)
    raw.end = cat(end, h_end)
    raw.t_open = cat(t[oi], h_open)
    raw.t_close = cat(t_close, t[hi])
    raw.t_next = cat(t_next, _NAT)
    raw.last_pb = cat(last_pb, False)
    raw.estimated = cat(est, True)
    raw.is_open = cat(opened, False)
    raw.run_done = cat(run_done, False)
    raw.rate = cat(rate, h_rate)


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
    shift: float = 0.0,
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
    # Positions are shifted only when every one of them was whole: only times can tell.
    for x in () if shift else (at, fr, to):
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
