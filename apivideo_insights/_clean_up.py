"""Clean up: rule 7 of :func:`apivideo_insights.segments.segments`, from raw segments to
the result's columns: open ends closed (rule 6, ``_open_ends``), positions clamped to the
duration, short segments dropped, touching segments of one playback merged."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._event_order import _NS
from ._open_ends import _open_bounds, _Runs
from ._playback_state import _Raw
from ._session_facts import _SessionFacts


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
    """Close the open segments, clamp, drop and merge: the result's columns and counts."""
    n = len(raw.s)
    keep = np.ones(n, dtype=bool)
    op = raw.is_open
    bound, by_session, by_beats, by_runs = _open_bounds(
        raw, facts=facts, runs=runs, open_end=open_end, open_cap=open_cap,
        duration=dur_by_code, keep=keep, dropped=dropped,
    )  # fmt: skip
    end = np.where(op, raw.start + (bound - raw.t_open) / _NS * raw.rate, raw.end)
    start_c, end_c, t_end = _clamp(raw, end, dur_by_code, min_length, keep, dropped)
    k = np.flatnonzero(keep)
    out = _merged(raw, k, start_c[k], end_c[k], t_end[k], merge_gap)
    out["raw"] = n
    out["open_at_end"] = int(np.count_nonzero(op))
    out["closed_by_session"] = int(np.count_nonzero(by_session))
    out["closed_by_heartbeats"] = int(np.count_nonzero(by_beats))
    out["closed_by_runs"] = int(np.count_nonzero(by_runs))
    return out


def _clamp(
    raw: _Raw,
    end: np.ndarray,
    dur_by_code: np.ndarray,
    min_length: float,
    keep: np.ndarray,
    dropped: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions clamped to ``[0, duration]``; segments past the duration or too short are
    cleared from ``keep`` (counted in ``dropped``). Returns start, end and end time (ns)."""
    start = raw.start
    op = raw.is_open
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
        op, raw.t_open + np.round((end_c - start_c) / raw.rate * _NS).astype(np.int64), raw.t_close
    )
    return start_c, end_c, t_end


def _merged(
    raw: _Raw, k: np.ndarray, st: np.ndarray, en: np.ndarray, t_end_k: np.ndarray, merge_gap: float
) -> dict[str, Any]:
    """Merge the kept segments ``k`` of one playback that touch: the result's columns."""
    s_k, pb_k = raw.s[k], raw.pb[k]
    new = np.ones(len(k), dtype=bool)
    new[1:] = (pb_k[1:] != pb_k[:-1]) | (np.abs(st[1:] - en[:-1]) > merge_gap)
    heads = np.flatnonzero(new)
    out: dict[str, Any] = {"merged": len(k) - len(heads)}
    if len(k):
        out["s"] = s_k[heads]
        out["playback"] = raw.playback[k][heads].astype(np.int64)
        out["start"] = st[heads]
        out["end"] = np.maximum.reduceat(en, heads)
        out["started_at"] = raw.t_open[k][heads]
        out["ended_at"] = np.maximum.reduceat(t_end_k, heads)
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
