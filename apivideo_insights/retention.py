"""Audience retention curves and per-session heatmaps from watched segments.

Both count, per bin of media time, how segments cover it (see :mod:`._bins` for the rule:
bin ``k`` is ``[k·w, (k+1)·w)``, the last bin ends at the duration, a segment covers a bin
when the overlap has positive length).

* :func:`retention` is the audience view: per bin, how many sessions watched it (``viewers``,
  the edX ``num_users`` / Wistia "% watched" curve once divided by all viewers) and how many
  passes went over it (``views``, rewatches included: the YouTube ``audienceWatchRatio`` /
  Mux heatmap / Vimeo-2024 count).
* :func:`heatmap` is the per-session view (Wistia heatmaps): passes per bin per session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _bins, _durations
from ._bins import Binned

__all__ = ["heatmap", "retention"]


@dataclass
class Curves:
    """Flat per-bin arrays for all groups (see :class:`._bins.Binned` for the layout)."""

    binned: Binned
    viewers: np.ndarray
    views: np.ndarray
    sessions: np.ndarray  # per group: sessions with at least one covered bin
    group_of_bin: np.ndarray
    position: np.ndarray


def _curves(
    segments: pd.DataFrame,
    dur: np.ndarray,
    group: np.ndarray,
    ngroups: int,
    *,
    bin_size: float,
    bins: int | None,
    min_length: float = 0.0,
) -> Curves:
    sess, labels = _bins.session_codes(segments)
    start = segments["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = segments["end"].to_numpy(dtype="float64", na_value=np.nan)
    b = _bins.bin_segments(
        start, end, dur, group, ngroups, bin_size=bin_size, bins=bins, min_length=min_length
    )
    total = b.total
    nsess = max(len(labels), 1)
    pair = b.group * nsess + sess[b.row]
    views = _bins.pass_counts(b.first, b.last, total)
    viewers, distinct = _bins.run_counts(b.first, b.last, pair, total)
    sessions = np.bincount(distinct // nsess, minlength=ngroups).astype(np.int64)
    group_of_bin = np.repeat(np.arange(ngroups), b.nbins)
    position = (np.arange(total) - b.offsets[group_of_bin]) * b.width[group_of_bin]
    return Curves(b, viewers, views, sessions, group_of_bin, position)


def retention(
    segments: pd.DataFrame,
    *,
    duration: Any,
    bin_size: float = 1.0,
    bins: int | None = None,
    by: str | None = None,
    sessions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Audience retention: viewers and passes per bin of media time.

    Parameters
    ----------
    segments : DataFrame
        Watched segments from :func:`apivideo_insights.segments` (``session_id``, ``start``,
        ``end`` are used; ``video_id`` when ``duration`` is per video).
    duration : float or Series
        Video length in seconds, or a Series of lengths indexed by ``video_id`` (use with
        ``by="video_id"`` for one curve per video, or with ``bins=`` to pool videos of
        different lengths on a relative axis).
    bin_size : float, default 1.0
        Bin width in media seconds. Bin ``k`` is ``[k·bin_size, (k+1)·bin_size)``; the last
        bin ends at the duration and may be shorter.
    bins : int, optional
        Instead of ``bin_size``: this many equal bins of each video's duration (YouTube and
        Mux use 100). Adds a ``share`` column, the bin start as a fraction of the duration
        (0 ≤ share < 1), to compare videos of different lengths.
    by : str, optional
        One curve per cohort: a column of ``segments`` (e.g. ``"video_id"``), a column of
        ``sessions`` (``"device_type"``, ``"location_country"``, ``"referrer_medium"``...) or a
        metadata key as ``"metadata.<key>"``, looked up in ``sessions`` by ``session_id``.
        Segments whose cohort is missing are left out and counted in
        ``attrs["segments_without_cohort"]``.
    sessions : DataFrame, optional
        Sessions (``api.video_sessions(...)``) to take ``by`` from.

    Returns
    -------
    DataFrame
        One row per bin, indexed by ``position`` (bin start, media seconds), or by
        ``(cohort, position)`` with ``by``. Columns:

        * ``viewers``: sessions that watched any part of the bin;
        * ``views``: passes over the bin (segments overlapping it), rewatches included;
        * ``retention``: ``viewers`` / sessions that watched anything (of that cohort);
        * ``rewatch``: ``views / viewers``, 1 when everyone watched the bin once, above 1
          where it was watched again; NaN where no one watched the bin;
        * ``share`` (only with ``bins=``): bin start / duration.

        When a cohort pools videos of different lengths, its ``position`` runs over its
        longest video (with ``bins=``, bins of the longest duration: use ``share``).
        ``attrs`` holds ``sessions`` (the denominator; a dict per cohort with ``by``),
        ``segments_outside`` (segments starting at or after the duration),
        ``segments_invalid`` (rows without ``start < end``) and
        ``segments_without_cohort``.

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> seg = pd.DataFrame({"session_id": ["a", "b", "b"], "start": [0.0, 0.0, 1.0],
    ...                     "end": [3.0, 2.0, 2.0]})
    >>> cols = ["viewers", "views", "retention"]
    >>> avi.retention(seg, duration=3)[cols]  # doctest: +NORMALIZE_WHITESPACE
              viewers  views  retention
    position
    0.0             2      2        1.0
    1.0             2      3        1.0
    2.0             1      1        0.5
    """
    _bins.check_segments(segments)
    _bins.check_bin_args(bin_size, bins)
    bin_size = float(bin_size)
    dur = _durations.per_row(segments, duration)
    coh = _bins.cohorts(segments, by, sessions)
    ngroups = len(coh.labels)
    c = _curves(
        segments,
        dur,
        coh.codes,
        ngroups,
        bin_size=bin_size,
        bins=bins,
        min_length=_durations.axis_length(duration),
    )
    denom = c.sessions[c.group_of_bin].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = np.where(denom > 0, c.viewers / denom, np.nan)
        rew = np.where(c.viewers > 0, c.views / np.maximum(c.viewers, 1), np.nan)
    data: dict[str, Any] = {
        "viewers": c.viewers.astype(np.int64),
        "views": c.views.astype(np.int64),
        "retention": ret.astype("float64"),
        "rewatch": rew.astype("float64"),
    }
    if bins is not None:
        b = c.binned
        data["share"] = (np.arange(b.total) - b.offsets[c.group_of_bin]) / float(bins)
    position = pd.Index(c.position.astype("float64"), name="position")
    if by is None:
        index: pd.Index = position
    else:
        index = pd.MultiIndex.from_arrays(
            [coh.labels.take(c.group_of_bin), position], names=[by, "position"]
        )
    out = pd.DataFrame(data, index=index)
    if by is None:
        out.attrs["sessions"] = int(c.sessions[0]) if ngroups else 0
    else:
        out.attrs["sessions"] = {k: int(v) for k, v in zip(coh.labels, c.sessions, strict=True)}
    out.attrs["segments_outside"] = c.binned.outside
    out.attrs["segments_invalid"] = c.binned.invalid
    out.attrs["segments_without_cohort"] = coh.missing
    out.attrs["bin_size"] = None if bins is not None else bin_size
    out.attrs["bins"] = bins
    return out


def _selected_rows(subset: Any, labels: pd.Index) -> tuple[pd.Index, np.ndarray]:
    """Row labels to show and, per session code, its row (-1 = not shown)."""
    if subset is None:
        rows = labels
    else:
        if isinstance(subset, pd.DataFrame):
            if "session_id" not in subset.columns:
                raise ValueError(
                    "sessions has no session_id column; pass session ids or a sessions frame."
                )
            ids: Iterable[Any] = subset["session_id"]
        elif isinstance(subset, str):
            ids = [subset]
        else:
            ids = subset
        rows = pd.Index(pd.unique(pd.Index(list(ids), dtype=object).astype(str)), name="session_id")
    where = rows.get_indexer(labels)
    return rows, where.astype(np.int64)


def heatmap(
    segments: pd.DataFrame,
    *,
    duration: Any,
    bin_size: float = 1.0,
    bins: int | None = None,
    sessions: Any = None,
    max_cells: int = 100_000_000,
) -> pd.DataFrame:
    """Passes over each bin, per session (a Wistia-style heatmap as a frame).

    Parameters
    ----------
    segments : DataFrame
        Watched segments of one video (:func:`apivideo_insights.segments`).
    duration : float or Series
        Video length in seconds (a Series indexed by ``video_id`` is accepted when the
        segments hold a single video).
    bin_size : float, default 1.0
        Bin width in media seconds (same rule as :func:`retention`).
    bins : int, optional
        This many equal bins of the duration instead of ``bin_size``.
    sessions : list of str, Index, Series or DataFrame, optional
        Session ids to show, in this order (a frame's ``session_id`` column). Sessions with
        no segment get a row of zeros; segments of other sessions are ignored. Default: every
        session that has a segment, in the order of ``segments.session_id``'s categories.
    max_cells : int, default 100_000_000
        The result is a dense ``sessions × bins`` int32 array (4 bytes a cell: 100 million
        cells are 400 MB). Above this a ValueError asks for fewer sessions (``sessions=``) or
        wider bins.

    Returns
    -------
    DataFrame
        Indexed by ``session_id`` (str), one int32 column per bin labelled by the bin start
        in media seconds (``columns.name == "position"``). Values: 0 skipped, 1 watched,
        2+ rewatched. For every bin, ``(heatmap > 0).sum()`` equals :func:`retention`'s
        ``viewers`` and ``heatmap.sum()`` its ``views``.

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> seg = pd.DataFrame({"session_id": ["a", "b", "b"], "start": [0.0, 0.0, 1.0],
    ...                     "end": [3.0, 2.0, 2.0]})
    >>> avi.heatmap(seg, duration=3)  # doctest: +NORMALIZE_WHITESPACE
    position    0.0  1.0  2.0
    session_id
    a             1    1    1
    b             1    2    0
    """
    _bins.check_segments(segments)
    _bins.check_bin_args(bin_size, bins)
    bin_size = float(bin_size)
    dur = _durations.per_row(segments, duration)
    if len(dur) and not np.all(dur == dur[0]):
        raise ValueError(
            "heatmap is per video but segments hold videos of different durations; filter "
            "segments to one video_id first (e.g. segments[segments.video_id == vid])."
        )
    sess, labels = _bins.session_codes(segments)
    if sessions is None:
        observed = np.unique(sess)
        labels = labels.take(observed)
        remap = np.full(max(int(sess.max()) + 1 if len(sess) else 0, 1), -1, dtype=np.int64)
        remap[observed] = np.arange(len(observed))
        sess = remap[sess] if len(sess) else sess
    rows, where = _selected_rows(sessions, labels)
    start = segments["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = segments["end"].to_numpy(dtype="float64", na_value=np.nan)
    row_of_segment = where[sess] if len(sess) else np.zeros(0, dtype=np.int64)
    b = _bins.bin_segments(
        start,
        end,
        dur,
        np.zeros(len(start), dtype=np.int64),
        1,
        bin_size=bin_size,
        bins=bins,
        min_length=_durations.axis_length(duration),
    )
    n = int(b.nbins[0])
    nrows = len(rows)
    if nrows * n > max_cells:
        raise ValueError(
            f"heatmap of {nrows} sessions × {n} bins = {nrows * n:,} cells "
            f"(~{nrows * n * 4 / 1e6:,.0f} MB) is over max_cells={max_cells:,}; pass "
            "sessions=[...] for a subset, a larger bin_size or bins=100, or raise max_cells."
        )
    r = row_of_segment[b.row]
    keep = r >= 0
    r, first, last = r[keep], b.first[keep], b.last[keep]
    out = np.zeros((nrows, n), dtype=np.int32)
    if len(r):
        # Row chunks keep the int64 difference arrays small whatever the heatmap's size.
        order = np.argsort(r, kind="stable")
        r, first, last = r[order], first[order], last[order]
        chunk = max(1, 4_000_000 // (n + 1))
        for lo in range(0, nrows, chunk):
            hi = min(nrows, lo + chunk)
            i0, i1 = np.searchsorted(r, [lo, hi])
            if i0 == i1:
                continue
            rr = r[i0:i1] - lo
            size = (hi - lo) * (n + 1)
            diff = np.bincount(rr * (n + 1) + first[i0:i1], minlength=size)
            diff -= np.bincount(rr * (n + 1) + last[i0:i1] + 1, minlength=size)
            out[lo:hi] = np.cumsum(diff.reshape(hi - lo, n + 1), axis=1)[:, :n]
    columns = pd.Index(np.arange(n) * float(b.width[0]), name="position")
    frame = pd.DataFrame(out, index=rows.rename("session_id"), columns=columns)
    frame.attrs["segments_outside"] = b.outside
    frame.attrs["segments_invalid"] = b.invalid
    frame.attrs["segments_not_selected"] = int((~keep).sum())
    frame.attrs["bin_size"] = None if bins is not None else bin_size
    frame.attrs["bins"] = bins
    return frame
