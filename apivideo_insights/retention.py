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

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _bins, _cohorts, _durations
from ._bins import MAX_BINS, Binned, Floats, Ints
from ._dask import dask_aware
from ._docstrings import fill
from ._durations import Duration

__all__ = ["heatmap", "retention"]


@dataclass
class Curves:
    """Flat per-bin arrays for all groups (see :class:`._bins.Binned` for the layout)."""

    binned: Binned
    viewers: Ints
    views: Ints
    sessions: Ints  # per group: sessions with at least one covered bin
    group_of_bin: Ints
    position: Floats


def _curves(
    segments: pd.DataFrame,
    dur: Floats,
    group: Ints,
    ngroups: int,
    *,
    bin_size: float,
    bins: int | None,
    min_length: float = 0.0,
    max_bins: int = MAX_BINS,
    what: str = "retention",
) -> Curves:
    sess, labels = _bins.session_codes(segments)
    start = segments["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = segments["end"].to_numpy(dtype="float64", na_value=np.nan)
    b = _bins.bin_segments(
        start,
        end,
        dur,
        group,
        ngroups,
        bin_size=bin_size,
        bins=bins,
        min_length=min_length,
        max_bins=max_bins,
        what=what,
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


# --- retention, in three steps: counts (per set of sessions), added up, then the frame --------


@dataclass
class RetentionCounts:
    """What :func:`retention` counts, per cohort; counts of disjoint sets of sessions add up
    (:func:`add_counts`), which is how the dask path splits the work.

    ``labels`` are the cohorts (one ``None`` without ``by``); per cohort ``viewers[i]`` and
    ``views[i]`` are its bins' counts, ``sessions[i]`` its sessions that watched anything and
    ``width[i]`` its bin width (with ``bins=N`` it follows the cohort's longest video).
    """

    labels: pd.Index
    viewers: list[Ints]
    views: list[Ints]
    sessions: Ints
    width: Floats
    outside: int
    invalid: int
    without_cohort: int


def retention_counts(
    segments: pd.DataFrame,
    *,
    duration: Duration,
    bin_size: float = 1.0,
    bins: int | None = None,
    by: str | None = None,
    sessions: pd.DataFrame | None = None,
    max_bins: int = MAX_BINS,
) -> RetentionCounts:
    """The counts behind :func:`retention` (same arguments), before any division."""
    _bins.check_frame(segments, "segments")
    _bins.check_bin_args(bin_size, bins)
    _check_max_bins(max_bins)
    bin_size = float(bin_size)
    dur = _durations.per_row(segments, duration)
    coh = _cohorts.cohorts(segments, by, sessions)
    ngroups = len(coh.labels)
    c = _curves(
        segments,
        dur,
        coh.codes,
        ngroups,
        bin_size=bin_size,
        bins=bins,
        min_length=_durations.axis_length(duration),
        max_bins=max_bins,
    )
    b = c.binned
    cuts = [(int(b.offsets[g]), int(b.offsets[g] + b.nbins[g])) for g in range(ngroups)]
    return RetentionCounts(
        labels=coh.labels,
        viewers=[c.viewers[lo:hi].astype(np.int64) for lo, hi in cuts],
        views=[c.views[lo:hi].astype(np.int64) for lo, hi in cuts],
        sessions=c.sessions.astype(np.int64),
        width=b.width.astype("float64"),
        outside=b.outside,
        invalid=b.invalid,
        without_cohort=coh.missing,
    )


def _check_max_bins(max_bins: object) -> None:
    if isinstance(max_bins, bool) or not isinstance(max_bins, int | np.integer) or max_bins < 1:
        raise ValueError(f"max_bins must be a positive whole number, not {max_bins!r}.")


def add_counts(a: RetentionCounts, b: RetentionCounts) -> RetentionCounts:
    """The counts of two disjoint sets of sessions added up (cohorts of either, in order)."""
    labels = a.labels.append(b.labels).unique()
    if a.labels.name == b.labels.name:
        labels = labels.rename(a.labels.name)
    parts = [_aligned(c, labels) for c in (a, b)]
    return RetentionCounts(
        labels=labels,
        viewers=[_padded_sum(x, y) for x, y in zip(parts[0][0], parts[1][0], strict=True)],
        views=[_padded_sum(x, y) for x, y in zip(parts[0][1], parts[1][1], strict=True)],
        sessions=parts[0][2] + parts[1][2],
        width=np.maximum(parts[0][3], parts[1][3]),
        outside=a.outside + b.outside,
        invalid=a.invalid + b.invalid,
        without_cohort=a.without_cohort + b.without_cohort,
    )


def _aligned(
    counts: RetentionCounts, labels: pd.Index
) -> tuple[list[Ints], list[Ints], Ints, Floats]:
    """``counts`` laid out on ``labels`` (empty curves for cohorts it does not have)."""
    where = counts.labels.get_indexer(labels)
    none = np.zeros(0, dtype=np.int64)
    return (
        [counts.viewers[i] if i >= 0 else none for i in where],
        [counts.views[i] if i >= 0 else none for i in where],
        np.where(where >= 0, counts.sessions[np.maximum(where, 0)], 0).astype(np.int64),
        np.where(where >= 0, counts.width[np.maximum(where, 0)], 0.0).astype("float64"),
    )


def _padded_sum(a: Ints, b: Ints) -> Ints:
    total = np.zeros(max(len(a), len(b)), dtype=np.int64)
    total[: len(a)] += a
    total[: len(b)] += b
    return total


def retention_frame(
    counts: RetentionCounts,
    *,
    by: str | None = None,
    bin_size: float = 1.0,
    bins: int | None = None,
) -> pd.DataFrame:
    """The frame :func:`retention` returns, from its counts (cohorts sorted by label)."""
    labels = counts.labels
    order = np.arange(len(labels))
    if by is not None and not labels.is_monotonic_increasing:
        # Added-up counts list cohorts as met; labels of mixed types keep that order.
        with contextlib.suppress(TypeError):
            order = np.asarray(labels.argsort(), dtype=np.int64)
    labels = labels.take(order)
    nbins = np.array([len(counts.viewers[i]) for i in order], dtype=np.int64)
    group_of_bin = np.repeat(np.arange(len(order)), nbins)
    k = np.concatenate([np.arange(n) for n in nbins]) if len(nbins) else np.zeros(0, np.int64)

    def flat(arrays: list[Ints]) -> Ints:
        return np.concatenate([arrays[i] for i in order]) if len(order) else np.zeros(0, np.int64)

    viewers, views = flat(counts.viewers), flat(counts.views)
    per_group = counts.sessions[order]
    denom = per_group[group_of_bin].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = np.where(denom > 0, viewers / denom, np.nan)
        rew = np.where(viewers > 0, views / np.maximum(viewers, 1), np.nan)
    data: dict[str, Ints | Floats] = {
        "viewers": viewers.astype(np.int64),
        "views": views.astype(np.int64),
        "retention": ret.astype("float64"),
        "rewatch": rew.astype("float64"),
    }
    if bins is not None:
        data["share"] = k / float(bins)
    position = pd.Index((k * counts.width[order][group_of_bin]).astype("float64"), name="position")
    if by is None:
        index: pd.Index = position
    else:
        index = pd.MultiIndex.from_arrays(
            [labels.take(group_of_bin), position], names=[by, "position"]
        )
    out = pd.DataFrame(data, index=index)
    if by is None:
        out.attrs["sessions"] = int(per_group[0]) if len(per_group) else 0
    else:
        out.attrs["sessions"] = {k: int(v) for k, v in zip(labels, per_group, strict=True)}
    out.attrs["segments_outside"] = counts.outside
    out.attrs["segments_invalid"] = counts.invalid
    out.attrs["segments_without_cohort"] = counts.without_cohort
    out.attrs["bin_size"] = None if bins is not None else float(bin_size)
    out.attrs["bins"] = bins
    return out


@dask_aware
@fill
def retention(
    segments: pd.DataFrame,
    *,
    duration: Duration,
    bin_size: float = 1.0,
    bins: int | None = None,
    by: str | None = None,
    sessions: pd.DataFrame | None = None,
    max_bins: int = MAX_BINS,
) -> pd.DataFrame:
    """Audience retention: viewers and passes per bin of media time.

    Parameters
    ----------
    segments : DataFrame
        Watched segments from :func:`apivideo_insights.segments` (``session_id``, ``start``,
        ``end`` are used; ``video_id`` when ``duration`` is per video).
    {params[duration]}
        Per video, use it with ``by="video_id"`` for one curve per video, or with ``bins=``
        to pool videos of different lengths on a relative axis.
    bin_size : float, default 1.0
        Bin width in media seconds. Bin ``k`` is ``[k·bin_size, (k+1)·bin_size)``; the last
        bin ends at the duration and may be shorter.
    bins : int, optional
        Instead of ``bin_size``: this many equal bins of each video's duration (YouTube and
        Mux use 100). Adds a ``share`` column, the bin start as a fraction of the duration
        (0 ≤ share < 1), to compare videos of different lengths.
    by : str, optional
        One curve per cohort: a column of ``segments`` (e.g. ``"video_id"``), a column of
        ``sessions`` or a metadata key as ``"metadata.<key>"``. Segments whose cohort is
        missing are left out and counted in ``attrs["segments_without_cohort"]``.
    {params[sessions]}
    max_bins : int, default 1_000_000
        The most bins one curve may have: a duration of 10⁹ s or ``bin_size=1e-9`` is a
        ValueError that says what to pass instead, not an allocation until MemoryError.

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
    >>> seg = pd.DataFrame({{"session_id": ["a", "b", "b"], "start": [0.0, 0.0, 1.0],
    ...                     "end": [3.0, 2.0, 2.0]}})
    >>> cols = ["viewers", "views", "retention"]
    >>> avi.retention(seg, duration=3)[cols]  # doctest: +NORMALIZE_WHITESPACE
              viewers  views  retention
    position
    0.0             2      2        1.0
    1.0             2      3        1.0
    2.0             1      1        0.5
    """
    counts = retention_counts(
        segments,
        duration=duration,
        bin_size=bin_size,
        bins=bins,
        by=by,
        sessions=sessions,
        max_bins=max_bins,
    )
    return retention_frame(counts, by=by, bin_size=bin_size, bins=bins)


def selected_sessions(session_ids: object, sessions: object) -> pd.Index | None:
    """The session ids a heatmap shows, in order (None: every session with a segment).

    ``session_ids`` are ids (a str, a list, an Index or a Series); ``sessions`` is the
    sessions frame, whose ``session_id`` column is taken in its order. For compatibility
    ``sessions`` may also hold ids, as ``session_ids`` does.
    """
    if session_ids is not None and sessions is not None:
        raise ValueError(
            "pass session_ids= (ids) or sessions= (the sessions frame), not both; e.g. "
            "session_ids=sessions['session_id'] to show a subset in a chosen order."
        )
    chosen = session_ids if session_ids is not None else sessions
    if chosen is None:
        return None
    ids: Iterable[object]
    if isinstance(chosen, pd.DataFrame):
        ids = _bins.check_frame(chosen, "sessions")["session_id"]
    elif isinstance(chosen, str):
        ids = [chosen]
    elif isinstance(chosen, Iterable):
        ids = chosen
    else:
        raise TypeError(
            "session_ids must be session ids (a list, Index or Series of str), not "
            f"{type(chosen).__name__}."
        )
    flat = pd.Index(list(ids), dtype=object).astype(str)
    return pd.Index(pd.unique(flat), name="session_id")


def _heatmap_rows(segments: pd.DataFrame, chosen: pd.Index | None) -> tuple[pd.Index, Ints]:
    """Row labels to show and, per segment, its row (-1 = not shown)."""
    sess, labels = _bins.session_codes(segments)
    if chosen is None:
        observed = np.unique(sess)
        labels = labels.take(observed)
        remap = np.full(max(int(sess.max()) + 1 if len(sess) else 0, 1), -1, dtype=np.int64)
        remap[observed] = np.arange(len(observed))
        sess = remap[sess] if len(sess) else sess
        rows = labels
    else:
        rows = chosen
    where = rows.get_indexer(labels).astype(np.int64)
    return rows, where[sess] if len(sess) else np.zeros(0, dtype=np.int64)


def _dense_passes(r: Ints, first: Ints, last: Ints, nrows: int, n: int) -> npt.NDArray[np.int32]:
    """Passes per (row, bin) from runs of bins, as a dense int32 array."""
    out = np.zeros((nrows, n), dtype=np.int32)
    if not len(r):
        return out
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
    return out


@dask_aware
@fill
def heatmap(
    segments: pd.DataFrame,
    *,
    duration: Duration,
    bin_size: float = 1.0,
    bins: int | None = None,
    sessions: pd.DataFrame | Iterable[str] | None = None,
    max_cells: int = 100_000_000,
    session_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Passes over each bin, per session (a Wistia-style heatmap as a frame).

    Parameters
    ----------
    segments : DataFrame
        Watched segments of one video (:func:`apivideo_insights.segments`).
    {params[duration]}
        Lengths by ``video_id`` are accepted when the segments hold a single video.
    bin_size : float, default 1.0
        Bin width in media seconds (same rule as :func:`retention`).
    bins : int, optional
        This many equal bins of the duration instead of ``bin_size``.
    sessions : pandas.DataFrame, optional
        The sessions frame: its sessions are the rows, in its order (as ``session_ids``).
        Session ids are accepted here too, for compatibility.
    max_cells : int, default 100_000_000
        The result is a dense ``sessions × bins`` int32 array (4 bytes a cell: 100 million
        cells are 400 MB). Above this a ValueError asks for fewer sessions
        (``session_ids=``) or wider bins.
    session_ids : list of str, Index or Series, optional
        Session ids to show, in this order. Sessions with no segment get a row of zeros;
        segments of other sessions are ignored. Default: every session that has a
        segment, in the order of ``segments.session_id``'s categories.

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
    >>> seg = pd.DataFrame({{"session_id": ["a", "b", "b"], "start": [0.0, 0.0, 1.0],
    ...                     "end": [3.0, 2.0, 2.0]}})
    >>> avi.heatmap(seg, duration=3)  # doctest: +NORMALIZE_WHITESPACE
    position    0.0  1.0  2.0
    session_id
    a             1    1    1
    b             1    2    0
    """
    _bins.check_frame(segments, "segments")
    _bins.check_bin_args(bin_size, bins)
    bin_size = float(bin_size)
    dur = _durations.per_row(segments, duration)
    if len(dur) and not np.all(dur == dur[0]):
        raise ValueError(
            "heatmap is per video but segments hold videos of different durations; filter "
            "segments to one video_id first (e.g. segments[segments.video_id == vid])."
        )
    rows, row_of_segment = _heatmap_rows(segments, selected_sessions(session_ids, sessions))
    start = segments["start"].to_numpy(dtype="float64", na_value=np.nan)
    end = segments["end"].to_numpy(dtype="float64", na_value=np.nan)
    b = _bins.bin_segments(
        start,
        end,
        dur,
        np.zeros(len(start), dtype=np.int64),
        1,
        bin_size=bin_size,
        bins=bins,
        min_length=_durations.axis_length(duration),
        # Even one row cannot hold more bins than cells: refused before any allocation.
        max_bins=max(int(max_cells), 1),
        what="heatmap",
        limit="max_cells",
    )
    n = int(b.nbins[0])
    nrows = len(rows)
    if nrows * n > max_cells:
        raise ValueError(
            f"heatmap of {nrows} sessions × {n} bins = {nrows * n:,} cells "
            f"(~{nrows * n * 4 / 1e6:,.0f} MB) is over max_cells={max_cells:,}; pass "
            "session_ids=[...] for a subset, a larger bin_size or bins=100, or raise "
            "max_cells."
        )
    r = row_of_segment[b.row]
    keep = r >= 0
    out = _dense_passes(r[keep], b.first[keep], b.last[keep], nrows, n)
    columns = pd.Index(np.arange(n) * float(b.width[0]), name="position")
    frame = pd.DataFrame(out, index=rows.rename("session_id"), columns=columns)
    frame.attrs["segments_outside"] = b.outside
    frame.attrs["segments_invalid"] = b.invalid
    frame.attrs["segments_not_selected"] = int((~keep).sum())
    frame.attrs["bin_size"] = None if bins is not None else bin_size
    frame.attrs["bins"] = bins
    return frame
