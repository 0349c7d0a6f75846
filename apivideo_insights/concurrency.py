"""Concurrent viewers over wall-clock time (live streams, or any sessions).

Live streams have no media-position retention (positions are relative to a moving window),
so their audience is measured on the wall clock: how many sessions were open in each
interval, from the sessions' ``loaded_at`` and ``ended_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _bins
from ._bins import MAX_BINS, Ints
from .schema import DATETIME, to_utc

#: A wall-clock instant: a timestamp, or text pandas reads as one ("2024-05-01T12:00Z").
Instant: TypeAlias = str | datetime | np.datetime64 | pd.Timestamp
#: A fixed interval: "30s", "1min", "1h", a timedelta or a fixed pandas offset.
Interval: TypeAlias = str | timedelta | pd.Timedelta | pd.DateOffset

__all__ = ["concurrency"]


def _step(freq: Interval) -> pd.Timedelta:
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        raise ValueError(
            f"freq must be a fixed interval such as '30s', '1min', '5min' or '1h', not {freq!r} "
            "(calendar frequencies like 'MS' have no fixed length)."
        ) from None
    if step <= pd.Timedelta(0):
        raise ValueError(f"freq must be a positive interval (e.g. '1min'), not {freq!r}.")
    return step


def _bound(value: Instant | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        raise ValueError(f"{name} must be a timestamp (e.g. '2024-05-01T12:00Z'), not {value!r}.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def concurrency(
    sessions: pd.DataFrame,
    *,
    freq: Interval = "1min",
    by: str | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
    max_bins: int = MAX_BINS,
) -> pd.DataFrame:
    """Concurrent viewers per interval of wall-clock time.

    A session counts in every interval ``[t, t + freq)`` that its ``[loaded_at, ended_at]``
    overlaps with positive length (a session ending exactly at ``t`` does not count in the
    interval starting at ``t``); a session with ``ended_at == loaded_at`` counts in the
    interval holding that instant.

    Parameters
    ----------
    sessions : DataFrame
        Sessions with ``loaded_at`` and ``ended_at`` (``api.live_stream_sessions(...)`` or
        ``api.video_sessions(...)``).
    freq : str or Timedelta, default "1min"
        Interval length (fixed: ``"10s"``, ``"1min"``, ``"1h"``...).
    by : str, optional
        Group column (e.g. ``"live_stream_id"``, ``"location_country"``): the result gets a
        ``(by, time)`` MultiIndex, every group on the same time grid (``.unstack(0)`` gives
        one column per group).
    start, end : timestamp, optional
        Window (UTC; naive is taken as UTC). Default: from the first ``loaded_at`` (floored
        to ``freq``) to the last ``ended_at``. Sessions outside the window are counted in
        ``attrs["outside_window"]``.
    max_bins : int, default 1_000_000
        The most intervals per group: ``freq="1ns"`` over a day is a ValueError that says
        what to pass instead, not an allocation until MemoryError.

    Returns
    -------
    DataFrame
        Indexed by ``time`` (interval start, UTC) or ``(by, time)``, one column
        ``viewers`` (int64). ``attrs``: ``peak``, ``peak_at`` (first interval at the peak)
        and ``average`` (mean over intervals) of all sessions together; with ``by``,
        ``attrs["groups"]`` maps each group to a dict of the same three; ``dropped`` counts sessions
        left out (``{"missing_time": n, "inverted": m}``: no loaded_at/ended_at, or
        ended_at before loaded_at).

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> s = pd.DataFrame({"loaded_at": pd.to_datetime(["2024-01-01 10:00:10",
    ...                   "2024-01-01 10:01:30"], utc=True),
    ...                   "ended_at": pd.to_datetime(["2024-01-01 10:02:00",
    ...                   "2024-01-01 10:02:30"], utc=True)})
    >>> c = avi.concurrency(s, freq="1min")
    >>> c["viewers"].tolist(), c.attrs["peak"]
    ([1, 2, 1], 2)
    """
    _bins.check_frame(
        sessions,
        "sessions",
        ["loaded_at", "ended_at"],
        hint="Pass api.live_stream_sessions(...) or api.video_sessions(...).",
    )
    step = _step(freq)
    lo_bound, hi_bound = _bound(start, "start"), _bound(end, "end")
    if lo_bound is not None and hi_bound is not None and hi_bound <= lo_bound:
        raise ValueError(f"end ({hi_bound}) must be after start ({lo_bound}).")
    if by is not None and by not in sessions.columns:
        raise ValueError(
            f"unknown by={by!r}: not a column of sessions (columns: {list(sessions.columns)}); "
            "use e.g. by='live_stream_id'."
        )
    loaded = to_utc(sessions["loaded_at"]).to_numpy(dtype="datetime64[ns]")
    ended = to_utc(sessions["ended_at"]).to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(loaded) | np.isnat(ended)
    a = loaded.astype("int64")
    b = ended.astype("int64")
    inverted = ~missing & (b < a)
    ok = ~missing & ~inverted
    if by is not None:
        codes, uniques = pd.factorize(sessions[by], sort=True)
        labels = pd.Index(uniques, name=by)
        codes = np.asarray(codes, dtype=np.int64)
        no_group = ok & (codes < 0)
        ok &= codes >= 0
    else:
        codes = np.zeros(len(sessions), dtype=np.int64)
        labels = pd.Index([None])
        no_group = np.zeros(len(sessions), dtype=bool)
    t0, j0, j1, nint = _intervals(a, b, ok, step.value, lo_bound, hi_bound)
    if nint > max_bins:
        raise ValueError(
            f"concurrency would have {nint:,} intervals of {step}, over max_bins={max_bins:,}; "
            "pass a larger freq (e.g. '1h'), start= and end= around the period of interest, "
            "or raise max_bins."
        )
    inside = ok & (j1 >= 0) & (j0 < nint)
    outside = int((ok & ~inside).sum())
    j0 = np.clip(j0[inside], 0, max(nint - 1, 0))
    j1 = np.clip(j1[inside], 0, max(nint - 1, 0))
    counts = _open_counts(codes[inside], j0, j1, len(labels), nint)
    ns = step.value
    times = pd.DatetimeIndex(
        pd.to_datetime(t0 + ns * np.arange(nint), utc=True), name="time"
    ).astype(DATETIME)
    out = _viewers_frame(counts, labels, times, by)
    out.attrs["freq"] = step
    out.attrs["dropped"] = {
        "missing_time": int(missing.sum()),
        "inverted": int(inverted.sum()),
        "missing_group": int(no_group.sum()),
    }
    out.attrs["outside_window"] = outside
    return out


def _viewers_frame(
    counts: Ints, labels: pd.Index, times: pd.DatetimeIndex, by: str | None
) -> pd.DataFrame:
    """Viewers per interval (per group with ``by``), with peak, peak_at and average."""
    nint = len(times)
    total = counts.sum(axis=0)
    if by is None:
        out = pd.DataFrame({"viewers": total.astype(np.int64)}, index=times)
    else:
        index = pd.MultiIndex.from_product([labels, times], names=[by, "time"])
        out = pd.DataFrame({"viewers": counts.reshape(-1).astype(np.int64)}, index=index)
        # Plain dicts, not a frame: pandas compares attrs with == when combining frames.
        out.attrs["groups"] = {
            label: {
                "peak": int(row.max()) if nint else 0,
                "peak_at": times[int(row.argmax())] if nint else pd.NaT,
                "average": float(row.mean()) if nint else float("nan"),
            }
            for label, row in zip(labels, counts, strict=True)
        }
    out.attrs["peak"] = int(total.max()) if nint else 0
    out.attrs["peak_at"] = times[int(total.argmax())] if nint else pd.NaT
    out.attrs["average"] = float(total.mean()) if nint else float("nan")
    return out


def _intervals(
    a: Ints,
    b: Ints,
    ok: npt.NDArray[np.bool_],
    ns: int,
    lo_bound: pd.Timestamp | None,
    hi_bound: pd.Timestamp | None,
) -> tuple[int, Ints, Ints, int]:
    """Start of the first interval (ns), first and last interval of each session (positive
    overlap; an instant counts once), and the number of intervals."""
    if lo_bound is not None:
        t0 = int(lo_bound.value)
    elif ok.any():
        t0 = (int(a[ok].min()) // ns) * ns
    else:
        t0 = 0
    j0 = (a - t0) // ns
    j1 = np.maximum(-(-(b - t0) // ns) - 1, j0)
    if hi_bound is not None:
        nint = max(-(-(int(hi_bound.value) - t0) // ns), 1)
    elif ok.any():
        nint = max(int(j1[ok].max()) + 1, 1)
    else:
        nint = 0
    return t0, j0, j1, nint


def _open_counts(g: Ints, j0: Ints, j1: Ints, ngroups: int, nint: int) -> Ints:
    """Sessions open per group and interval (difference arrays), shape (groups, intervals)."""
    size = ngroups * nint
    if not size:
        return np.zeros((ngroups, nint), dtype=np.int64)
    diff = np.bincount(g * nint + j0, minlength=size + 1)
    diff -= np.bincount(g * nint + j1 + 1, minlength=size + 1)
    return np.cumsum(diff[:size]).reshape(ngroups, nint)
