"""One summary row per video (and cohort): views, viewers, play rate, watch time, completion,
and where the audience drops off, skips and rewatches.

Definitions follow the research notes (``shared/research/analytics-semantics.md`` §2, §5):
views are playbacks with at least one watched segment (Mux "view", Wistia "play"), viewers
are sessions (a tab × video), completion is edX's (viewers covering
``max(d − 30 s, 0.95·d)``), the average share watched is Wistia's "engagement" (unique
coverage ÷ duration, averaged over viewers; rewatches count once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _bins, _cohorts, _durations
from ._bins import MAX_BINS, Binned, Floats, Ints, distinct_peaks
from ._dask import dask_aware
from ._docstrings import fill
from ._durations import Duration
from .retention import _curves

__all__ = ["engagement"]

_COLUMNS = [
    "duration",
    "impressions",
    "views",
    "viewers",
    "play_rate",
    "watch_time",
    "wall_time",
    "avg_share_watched",
    "completion_rate",
    "drop_offs",
    "skip_zones",
    "rewatch_hot_spots",
]


def _keys_of(segments: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    keys: list[str] = ["video_id"] if "video_id" in segments.columns else []
    if by is None:
        return keys
    extra = [by] if isinstance(by, str) else list(by)
    for k in extra:
        if not isinstance(k, str):
            raise TypeError(f"by must be a column name or a list of them, not {k!r}.")
        if k not in keys:
            keys.append(k)
    return keys


def _key_frame(
    frame: pd.DataFrame,
    keys: list[str],
    sessions: pd.DataFrame | None,
    fallback: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Key values per row of ``frame`` (own columns, sessions columns or metadata keys);
    a key ``frame`` cannot resolve is taken from ``fallback`` (one row per session_id)."""
    out = {}
    for k in keys:
        try:
            values = _cohorts.cohort_values(frame, k, sessions)
        except ValueError:
            if fallback is None or k not in fallback.columns:
                raise
            sid = frame["session_id"].astype(object).astype(str).to_numpy()
            values = pd.Series(fallback[k].reindex(sid).to_numpy(), index=frame.index)
        out[k] = pd.Series(np.asarray(values.astype(object)), index=frame.index)
    return pd.DataFrame(out, index=frame.index)


def _impressions_per_session(
    segments: pd.DataFrame, events: pd.DataFrame | None
) -> pd.DataFrame | None:
    """Playbacks per session including those with no segment (one ``ready`` each)."""
    if events is not None:
        _bins.check_frame(events, "events")
        # Compare on the column itself: categorical == str is cheap, .astype(object) is not.
        ready = events[(events["type"] == "ready").fillna(False).to_numpy(dtype=bool)]
        sid = ready["session_id"].astype(object).astype(str)
        counts = sid.value_counts(sort=False)
        table = pd.DataFrame({"session_id": counts.index.to_numpy(), "ready": counts.to_numpy()})
        if "video_id" in ready.columns:
            first = pd.Series(ready["video_id"].to_numpy(), index=sid.to_numpy())
            first = first[~first.index.duplicated()]
            table["video_id"] = first.reindex(table["session_id"]).to_numpy()
        return table
    given = segments.attrs.get("playbacks")
    if isinstance(given, pd.Series):
        return pd.DataFrame(
            {"session_id": given.index.astype(str).to_numpy(), "ready": given.to_numpy()}
        )
    return None


def _total_playbacks(segments: pd.DataFrame) -> int | None:
    """``attrs["playbacks"]`` of :func:`avi.segments` (an int over all sessions), only while
    the frame is still whole: row filters keep ``attrs`` but change the row count."""
    attrs = segments.attrs
    total = attrs.get("playbacks")
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)):
        return None
    try:
        rows = int(attrs["segments_raw"]) - int(attrs["dropped_segments"]) - int(attrs["merged"])
    except (KeyError, TypeError, ValueError):
        return None
    return int(total) if rows == len(segments) else None


@dask_aware
@fill
def engagement(
    segments: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    duration: Duration = None,
    sessions: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    bin_size: float = 1.0,
    top: int = 3,
    max_bins: int = MAX_BINS,
) -> pd.DataFrame:
    """Summary table: one row per video (when segments have ``video_id``) and cohort.

    Parameters
    ----------
    segments : DataFrame
        Watched segments (:func:`apivideo_insights.segments`). ``playback`` (default: one
        playback per session), ``started_at``/``ended_at`` (wall time) and ``video_id`` are
        used when present.
    by : str or list of str, optional
        Cohort column(s), in addition to ``video_id``: a segments column, a sessions column
        (with ``sessions=``) or ``"metadata.<key>"``. To pool all videos, drop ``video_id``
        from segments.
    {params[duration]}
        Optional here: without it the ratios that need it (``avg_share_watched``,
        ``completion_rate``) are NaN and the curve behind the point lists ends at the
        furthest position watched.
    {params[sessions]}
    events : DataFrame, optional
        Player events: each ``ready`` is an impression (a player load), so that
        ``play_rate`` can be computed. Without events, ``segments.attrs["playbacks"]`` is
        used: a Series of playbacks per session_id (those with no segment included), or the
        int total that :func:`apivideo_insights.segments` records, which only serves a
        one-row table of the unfiltered frame. Otherwise impressions and play rate are NaN.
    bin_size : float, default 1.0
        Bin width (media seconds) of the curves behind the point lists.
    top : int, default 3
        How many points to list in ``drop_offs``, ``skip_zones`` and ``rewatch_hot_spots``.
    max_bins : int, default 1_000_000
        The most bins of one of those curves (as in :func:`~apivideo_insights.retention`).

    Returns
    -------
    DataFrame
        Indexed by the group keys (``video_id`` and/or ``by``; a one-row RangeIndex when
        there are none). Columns:

        * ``duration``: the video length used (NaN if unknown);
        * ``impressions``: playbacks including those with no segment (NaN if unknown);
        * ``views``: playbacks with at least one segment; ``viewers``: sessions with one;
        * ``play_rate``: views / impressions;
        * ``watch_time``: Σ(end − start), media seconds, rewatches included;
        * ``wall_time``: Σ(ended_at − started_at), wall seconds (differs with playback rate);
        * ``avg_share_watched``: mean over viewers of unique coverage / duration (0..1);
        * ``completion_rate``: share of viewers whose segments cover the point
          ``max(d − 30, 0.95·d)`` (edX's complete views);
        * ``drop_offs``: list of up to ``top`` positions (bin starts, media seconds) where
          the retention curve falls the most, largest fall first (the end of the video is
          not a drop-off); in this and the two lists below, points within 5 % of the
          video of a larger one are the same moment and are not listed again;
        * ``skip_zones``: list of the bins most often jumped over forward (a later segment
          of the same playback, in wall-clock order, starting after the previous one's end);
        * ``rewatch_hot_spots``: list of the bins with the highest ``views / viewers``
          above 1.

        ``attrs``: ``segments_without_cohort``, ``impressions_unattributed`` (impressions of
        sessions whose group is unknown).

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> seg = pd.DataFrame({{"session_id": ["a", "b"], "playback": [0, 0],
    ...                     "start": [0.0, 0.0], "end": [60.0, 15.0], "video_id": "v", }})
    >>> cols = ["views", "completion_rate", "avg_share_watched"]
    >>> avi.engagement(seg, duration=60)[cols]  # doctest: +NORMALIZE_WHITESPACE
              views  completion_rate  avg_share_watched
    video_id
    v             2              0.5              0.625
    """
    _bins.check_frame(segments, "segments")
    _bins.check_bin_args(bin_size, None)
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 0:
        raise ValueError(f"top must be a whole number ≥ 0 (e.g. top=3), not {top!r}.")
    bin_size = float(bin_size)
    keys = _keys_of(segments, by)
    n = len(segments)
    sess, sess_labels = _bins.session_codes(segments)
    nsess = max(len(sess_labels), 1)
    imp = _impressions_per_session(segments, events)
    g = _groups(segments, keys, sessions, imp)
    start = segments["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = segments["end"].to_numpy(dtype="float64", na_value=np.nan)
    ok = g.group >= 0
    dur, group_duration = _lengths(segments, duration, g, keys, end, bin_size)

    # Views (playbacks with a segment) and viewers (sessions with a segment).
    playback = (
        segments["playback"].to_numpy(dtype="int64", na_value=0)
        if "playback" in segments.columns
        else np.zeros(n, dtype=np.int64)
    )
    pair = g.group * nsess + sess
    # Hash, not sort: the code of each row's (group, session) pair and the pairs themselves.
    pidx_raw, pairs_raw = pd.factorize(pair[ok], sort=False)
    pidx = np.asarray(pidx_raw, dtype=np.int64)
    viewer_pairs = np.asarray(pairs_raw, dtype=np.int64)
    viewers = np.bincount(viewer_pairs // nsess, minlength=g.ngroups)
    pb = pd.DataFrame({"g": g.group[ok], "s": sess[ok], "p": playback[ok]}).drop_duplicates()
    views = np.bincount(pb["g"].to_numpy(), minlength=g.ngroups)
    impressions, unattributed = _impressions(segments, imp, g, pb, sess_labels, views)

    watch, wall = _watch_times(segments, start, end, g)
    avg_share = completion = np.full(g.ngroups, np.nan)
    if duration is not None and ok.any():
        avg_share, completion = _coverage(
            start[ok], end[ok], dur[ok], pidx, viewer_pairs // nsess, viewers
        )
    drop_offs, skip_zones, hot_spots = _points(
        segments, start, end, dur, g, sess, playback, bin_size=bin_size, top=top, max_bins=max_bins
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        play_rate = np.where(impressions > 0, views / impressions, np.nan)
    out = pd.DataFrame(
        {
            "duration": group_duration,
            "impressions": impressions,
            "views": views.astype(np.int64),
            "viewers": viewers.astype(np.int64),
            "play_rate": play_rate,
            "watch_time": watch,
            "wall_time": wall,
            "avg_share_watched": avg_share,
            "completion_rate": completion,
            "drop_offs": drop_offs,
            "skip_zones": skip_zones,
            "rewatch_hot_spots": hot_spots,
        },
        index=g.labels,
    )[_COLUMNS]
    out.attrs["segments_without_cohort"] = int((g.group < 0).sum())
    out.attrs["impressions_unattributed"] = unattributed
    out.attrs["bin_size"] = bin_size
    return out


def _watch_times(
    segments: pd.DataFrame, start: Floats, end: Floats, g: _Groups
) -> tuple[Floats, Floats]:
    """Watch time per group in media seconds and, with wall-clock columns, in wall seconds."""
    ok = g.group >= 0
    length = np.where(ok & (end > start), end - start, 0.0)
    watch = np.bincount(np.maximum(g.group, 0), weights=length, minlength=g.ngroups)
    wall = np.full(g.ngroups, np.nan)
    if {"started_at", "ended_at"} <= set(segments.columns):
        delta = (segments["ended_at"] - segments["started_at"]).dt.total_seconds()
        secs = np.where(ok, delta.fillna(0.0).to_numpy(dtype="float64"), 0.0)
        wall = np.bincount(np.maximum(g.group, 0), weights=secs, minlength=g.ngroups)
    return watch.astype("float64"), wall.astype("float64")


@dataclass
class _Groups:
    """The table's rows: group code of each segment and of each impression row (-1 none)."""

    labels: pd.Index
    ngroups: int
    group: Ints
    imp_group: Ints


def _groups(
    segments: pd.DataFrame,
    keys: list[str],
    sessions: pd.DataFrame | None,
    imp: pd.DataFrame | None,
) -> _Groups:
    """Groups from the segments and from impressions (a video loaded but never played is a
    row)."""
    n = len(segments)
    if not keys:
        nimp = 0 if imp is None else len(imp)
        return _Groups(
            pd.RangeIndex(1), 1, np.zeros(n, dtype=np.int64), np.zeros(nimp, dtype=np.int64)
        )
    seg_keys = _key_frame(segments, keys, sessions)
    imp_keys = None
    if imp is not None:
        sid = segments["session_id"].astype(object).astype(str).to_numpy()
        first_seg = seg_keys.assign(session_id=sid).drop_duplicates("session_id")
        imp_keys = _key_frame(imp, keys, sessions, fallback=first_seg.set_index("session_id"))
    both = pd.concat([seg_keys, imp_keys]) if imp_keys is not None else seg_keys
    grouped = both.reset_index(drop=True).groupby(keys, sort=True, dropna=True, observed=True)
    codes = grouped.ngroup().to_numpy()
    codes = np.where(pd.isna(codes), -1, codes).astype(np.int64)
    labels = grouped.size().index
    return _Groups(labels, len(labels), codes[:n], codes[n:])


def _lengths(
    segments: pd.DataFrame,
    duration: Duration,
    g: _Groups,
    keys: list[str],
    end: Floats,
    bin_size: float,
) -> tuple[Floats, Floats]:
    """Each segment's video length and each group's (NaN unknown).

    Without ``duration``, the furthest position watched per group stands in, for the
    curves behind the point lists only.
    """
    ok = g.group >= 0
    g_ok = g.group[ok]
    group_duration = np.full(g.ngroups, np.nan)
    if duration is None:
        furthest = np.zeros(g.ngroups)
        if ok.any():
            np.maximum.at(furthest, g_ok, np.nan_to_num(end[ok], nan=0.0))
        dur = furthest[np.maximum(g.group, 0)] if len(segments) else np.zeros(0)
        return np.where(dur > 0, dur, bin_size), group_duration
    dur = _durations.per_row(segments, duration)
    if ok.any():
        tmp = np.zeros(g.ngroups)
        np.maximum.at(tmp, g_ok, dur[ok])
        group_duration = np.where(np.bincount(g_ok, minlength=g.ngroups) > 0, tmp, np.nan)
    lengths = _durations.given_by_video(duration)
    if lengths is None:
        group_duration[:] = _durations.axis_length(duration)
    elif keys and keys[0] == "video_id":
        # Videos with impressions but no segment still have a known length.
        vid = g.labels.get_level_values(0) if isinstance(g.labels, pd.MultiIndex) else g.labels
        looked_up = lengths.reindex(pd.Index(vid).astype(str)).to_numpy()
        group_duration = np.where(np.isnan(group_duration), looked_up, group_duration)
    return dur, group_duration


def _impressions(
    segments: pd.DataFrame,
    imp: pd.DataFrame | None,
    g: _Groups,
    pb: pd.DataFrame,
    sess_labels: pd.Index,
    views: Ints,
) -> tuple[Floats, int]:
    """Impressions per group (readies, never fewer than the playbacks seen in segments) and
    those of sessions whose group is unknown."""
    impressions = np.full(g.ngroups, np.nan)
    if imp is None:
        total = _total_playbacks(segments) if g.ngroups == 1 else None
        if total is not None:
            impressions = np.array([float(max(total, views[0]))])
        return impressions, 0
    sid = imp["session_id"].astype(str).to_numpy()
    ready = imp["ready"].to_numpy(dtype="int64")
    per_session = pb.groupby("s").size()
    seen = pd.Series(per_session.to_numpy(), index=sess_labels.take(per_session.index))
    ready = np.maximum(ready, seen.reindex(sid).fillna(0).to_numpy(dtype="int64"))
    attributed = g.imp_group >= 0
    impressions = np.bincount(
        g.imp_group[attributed], weights=ready[attributed], minlength=g.ngroups
    ).astype("float64")
    # Sessions with segments but no ready event still had at least their playbacks.
    no_ready = ~sess_labels.take(pb["s"].to_numpy()).isin(sid)
    impressions += np.bincount(pb["g"].to_numpy()[no_ready], minlength=g.ngroups)
    return impressions, int(ready[~attributed].sum())


def _coverage(
    start: Floats, end: Floats, dur: Floats, pidx: Ints, pair_group: Ints, viewers: Ints
) -> tuple[Floats, Floats]:
    """Mean unique share watched and completion rate per group, over its viewers.

    Inputs are the rows with a group; ``pidx`` is each row's (group, session) pair and
    ``pair_group`` the group of each pair.
    """
    ngroups = len(viewers)
    npairs = len(pair_group)
    covered = _bins.union_lengths(np.clip(start, 0, dur), np.clip(end, 0, dur), pidx, npairs)
    pair_dur = np.zeros(npairs)
    np.maximum.at(pair_dur, pidx, dur)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_sum = np.bincount(pair_group, weights=covered / pair_dur, minlength=ngroups)
        avg_share = np.where(viewers > 0, share_sum / np.maximum(viewers, 1), np.nan)
    point = np.maximum(dur - 30.0, 0.95 * dur)
    hits = (start <= point + 1e-9) & (end > point)
    done = np.zeros(npairs, dtype=bool)
    done[pidx[hits]] = True
    finished = np.bincount(pair_group, weights=done.astype("float64"), minlength=ngroups)
    completion = np.where(viewers > 0, finished / np.maximum(viewers, 1), np.nan)
    return avg_share, completion


def _points(
    segments: pd.DataFrame,
    start: Floats,
    end: Floats,
    dur: Floats,
    g: _Groups,
    sess: Ints,
    playback: Ints,
    *,
    bin_size: float,
    top: int,
    max_bins: int,
) -> tuple[list[list[float]], list[list[float]], list[list[float]]]:
    """Drop-offs, skip zones and rewatch hot spots per group, from the curves behind them."""
    c = _curves(
        segments,
        dur,
        g.group,
        g.ngroups,
        bin_size=bin_size,
        bins=None,
        max_bins=max_bins,
        what="engagement",
    )
    b = c.binned
    skips = _skip_counts(segments, start, end, dur, g.group, sess, playback, b, bin_size)
    drop_offs, skip_zones, hot_spots = [], [], []
    for k in range(g.ngroups):
        lo, hi = int(b.offsets[k]), int(b.offsets[k] + b.nbins[k])
        pos = c.position[lo:hi]
        vw = c.viewers[lo:hi].astype("float64")
        vs = c.views[lo:hi].astype("float64")
        fall = vw[:-1] - vw[1:]
        drop_offs.append(distinct_peaks(fall, pos[1:], fall > 0, top))
        sk = skips[lo:hi].astype("float64")
        skip_zones.append(distinct_peaks(sk, pos, sk > 0, top))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(vw > 0, vs / np.maximum(vw, 1), 0.0)
        hot_spots.append(distinct_peaks(ratio, pos, ratio > 1, top))
    return drop_offs, skip_zones, hot_spots


def _skip_counts(
    segments: pd.DataFrame,
    start: Floats,
    end: Floats,
    dur: Floats,
    group: Ints,
    sess: Ints,
    playback: Ints,
    layout: Binned,
    bin_size: float,
) -> Ints:
    """Per flat bin: how many forward jumps within a playback passed over it."""
    n = len(start)
    if "started_at" in segments.columns:
        when = segments["started_at"].to_numpy(dtype="datetime64[ns]").astype("int64")
    else:
        when = np.arange(n, dtype=np.int64)
    # avi.segments returns rows grouped by playback in time order: then no sort is needed.
    playback_key = sess * (int(playback.max()) + 1 if n else 1) + playback
    new_run = np.append(True, playback_key[1:] != playback_key[:-1]) if n else np.zeros(0, bool)
    in_order = bool(np.all((np.diff(when) >= 0) | new_run[1:])) if n else True
    grouped = in_order and int(new_run.sum()) == pd.Series(playback_key).nunique()
    order = np.arange(n) if grouped else np.lexsort((np.arange(n), when, playback_key))
    s, e, g = start[order], end[order], group[order]
    same = (sess[order][1:] == sess[order][:-1]) & (playback[order][1:] == playback[order][:-1])
    jump = same & (s[1:] > e[:-1]) & (g[1:] >= 0)
    gap_start, gap_end = e[:-1][jump], s[1:][jump]
    ngroups = len(layout.nbins)
    b = _bins.bin_segments(
        gap_start,
        gap_end,
        dur[order][1:][jump],
        g[1:][jump],
        ngroups,
        bin_size=bin_size,
        # The same lengths as the curves', which were checked against the cap.
        max_bins=int(layout.nbins.max(initial=1)),
    )
    # Lay the gaps out on the curves' flat axis (groups without gaps have no bins here).
    first = np.minimum(b.first - b.offsets[b.group], layout.nbins[b.group] - 1)
    last = np.minimum(b.last - b.offsets[b.group], layout.nbins[b.group] - 1)
    off = layout.offsets[b.group]
    return _bins.pass_counts(first + off, last + off, layout.total)
