"""Per-session facts for :func:`apivideo_insights.segments.segments`, from the events and
the optional ``sessions`` frame: ``ended_at``, heartbeats, video and live stream ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as _schema
from ._event_order import _NAT


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
