"""Shared binning and grouping for the metrics computed from watched segments.

Everything here is vectorized over all segments at once: a segment becomes a first and a
last bin index, and per-bin counts come from difference arrays (one ``+1`` where a run of
bins starts, one ``-1`` after it ends, then a cumulative sum), built with ``np.bincount``.

Binning rule (the one rule used by :func:`~apivideo_insights.retention`,
:func:`~apivideo_insights.heatmap`, :func:`~apivideo_insights.engagement`):

* bin ``k`` is ``[k·w, (k+1)·w)``; the last bin ends at the duration and may be shorter;
* a segment ``[start, end)`` covers bin ``k`` when their overlap has positive length, so a
  segment ending exactly on a bin edge does not touch the next bin (unlike edX, which counts a
  touch);
* positions are compared with a tolerance of ``1e-9`` bin widths, so ``0.3 / 0.1`` lands in
  bin 3 and not, through rounding, in bin 2;
* the part of a segment beyond the duration is ignored; a segment starting at or after the
  duration (or ending at or before 0) covers no bin and is counted as ``outside``; a row
  without ``start < end`` (or with NaN) is counted as ``invalid``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._durations import WHERE

__all__ = [
    "MAX_BINS",
    "Binned",
    "bin_segments",
    "check_bin_args",
    "check_frame",
    "distinct_peaks",
    "pass_counts",
    "run_counts",
    "session_codes",
    "union_lengths",
]

_EPS = 1e-9
Ints: TypeAlias = npt.NDArray[np.int64]
Floats: TypeAlias = npt.NDArray[np.float64]

#: The most bins one curve may have unless told otherwise (a 1 s bin for 11 days of media):
#: 8 bytes of every per-bin array each, so a wrong length or width fails clearly instead of
#: allocating until MemoryError.
MAX_BINS = 1_000_000

#: What each frame the metrics read must hold, and where it comes from.
_FRAMES: dict[str, tuple[tuple[str, ...], str]] = {
    "segments": (
        ("session_id", "start", "end"),
        "Pass the frame returned by avi.segments(events).",
    ),
    "sessions": (
        ("session_id",),
        "Pass the frame returned by api.video_sessions(...) or api.live_stream_sessions(...).",
    ),
    "events": (
        ("session_id", "type"),
        "Pass the frame returned by api.events(...) or avi.read_events(...).",
    ),
}


def check_frame(
    frame: object, what: str, columns: Iterable[str] | None = None, *, hint: str | None = None
) -> pd.DataFrame:
    """``frame`` itself once it is a DataFrame holding ``columns``; else a TypeError or
    ValueError naming what is missing and what to pass.

    For the frames the metrics read (``what`` = ``"segments"``, ``"sessions"`` or
    ``"events"``) the columns and the hint default to what those frames always hold and
    where they come from.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"session_id": ["a"]}), "segments")
    Traceback (most recent call last):
    ...
    ValueError: segments is missing column(s) ['start', 'end']; it has ['session_id']. ...
    """
    base, default_hint = _FRAMES.get(what, ((), ""))
    hint = default_hint if hint is None else hint
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, not {type(frame).__name__}; {hint}")
    required = list(base if columns is None else columns)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} is missing column(s) {missing}; it has {list(frame.columns)}. {hint}"
        )
    return frame


def check_bin_args(bin_size: object, bins: object) -> None:
    """Validate ``bin_size`` / ``bins`` (``bins`` wins when given)."""
    if bins is not None:
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
            raise ValueError(
                f"bins must be a positive whole number of bins (e.g. bins=100), not {bins!r}; "
                "or leave bins=None and give bin_size in seconds."
            )
        return
    ok = (
        isinstance(bin_size, int | float | np.number)
        and not isinstance(bin_size, bool)
        and bool(np.isfinite(bin_size))
        and float(bin_size) > 0
    )
    if not ok:
        raise ValueError(
            f"bin_size must be a positive number of media seconds (e.g. 1.0 or 5.0), "
            f"not {bin_size!r}."
        )


@dataclass
class Binned:
    """Segments reduced to runs of bins, laid out group after group on one flat axis.

    ``first``/``last`` are inclusive flat bin indices (group offset + bin within the group),
    ``row`` the position of each kept segment in the input, ``offsets[g]`` the flat index of
    group ``g``'s bin 0 and ``nbins[g]`` its number of bins; ``width[g]`` its bin width in
    seconds, ``length[g]`` its (longest) duration.
    """

    first: Ints
    last: Ints
    row: Ints
    group: Ints
    offsets: Ints
    nbins: Ints
    width: Floats
    length: Floats
    outside: int
    invalid: int = 0

    @property
    def total(self) -> int:
        return int(self.offsets[-1] + self.nbins[-1]) if len(self.nbins) else 0


def check_bin_count(
    longest: float,
    *,
    bin_size: float,
    bins: int | None,
    max_bins: int,
    what: str,
    limit: str = "max_bins",
) -> None:
    """Refuse, before anything is allocated, a curve of more than ``max_bins`` bins.

    Counted in floating point, so a huge length (or a tiny width) cannot overflow the
    integer bin indices on the way. ``limit`` names the caller's argument that sets it.

    Examples
    --------
    >>> check_bin_count(1e9, bin_size=1.0, bins=None, max_bins=1_000_000, what="retention")
    Traceback (most recent call last):
    ...
    ValueError: retention would have 1,000,000,000 bins (a duration of 1e+09 s in bins of 1 s), ...
    """
    count = float(bins) if bins is not None else float(np.ceil(longest / bin_size - _EPS))
    if count <= max_bins:
        return
    if bins is not None:
        how = f"bins={bins:,} for each video"
        fix = f"fewer bins (bins={min(100, max_bins)})"
    else:
        how = f"a duration of {longest:g} s in bins of {bin_size:g} s"
        fix = f"a larger bin_size (bin_size={_round_up(longest / max_bins):g} or more) or bins=100"
    raise ValueError(
        f"{what} would have {count:,.0f} bins ({how}), over {limit}={max_bins:,}. Pass {fix}; "
        f"if the duration is wrong, {WHERE}. Raise {limit} only if that many bins are "
        "really wanted."
    )


def _round_up(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least ``value``."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    return float(next((m * power for m in (1, 2, 5, 10) if m * power >= value), 10 * power))


def bin_segments(
    start: Floats,
    end: Floats,
    dur: Floats,
    group: Ints,
    ngroups: int,
    *,
    bin_size: float = 1.0,
    bins: int | None = None,
    min_length: float = 0.0,
    max_bins: int = MAX_BINS,
    what: str = "the curve",
    limit: str = "max_bins",
) -> Binned:
    """First and last bin of every segment, per group (see the module's binning rule).

    With ``bins=N`` every video gets N bins of its own duration (relative position); with
    ``bin_size`` bins are ``bin_size`` seconds and a group pooling videos of different
    lengths gets as many bins as its longest video needs. A group of more than ``max_bins``
    bins is a ValueError (:func:`check_bin_count`).
    """
    start = np.asarray(start, dtype="float64")
    end = np.asarray(end, dtype="float64")
    valid = group >= 0
    longest = max(float(dur[valid].max()) if valid.any() else 0.0, min_length)
    check_bin_count(
        longest, bin_size=bin_size, bins=bins, max_bins=max_bins, what=what, limit=limit
    )
    if bins is not None:
        w = dur / bins
        nseg = np.full(len(start), int(bins), dtype=np.int64)
    else:
        w = np.full(len(start), float(bin_size))
        nseg = np.maximum(np.ceil(dur / bin_size - _EPS).astype(np.int64), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        k0 = np.maximum(np.floor(start / w + _EPS), 0)
        k1 = np.minimum(np.ceil(end / w - _EPS) - 1, nseg - 1)
    ok = valid & (k0 <= k1) & np.isfinite(k0) & np.isfinite(k1) & (start < dur)
    # Per-group layout: number of bins and width, from the longest video in the group.
    nbins = np.zeros(ngroups, dtype=np.int64)
    length = np.zeros(ngroups, dtype="float64")
    if valid.any():
        np.maximum.at(nbins, group[valid], nseg[valid])
        np.maximum.at(length, group[valid], dur[valid])
    # A known duration gives every group its full axis, even a group with no segment.
    length = np.maximum(length, min_length)
    if bins is not None:
        nbins[:] = int(bins)
        width = length / bins
    else:
        width = np.full(ngroups, float(bin_size))
        if min_length > 0:
            nbins = np.maximum(nbins, max(int(np.ceil(min_length / bin_size - _EPS)), 1))
    offsets = np.zeros(ngroups, dtype=np.int64)
    if ngroups > 1:
        offsets[1:] = np.cumsum(nbins)[:-1]
    rows = np.flatnonzero(ok)
    g = group[rows]
    off = offsets[g]
    # Not start < end (or NaN): broken rows, counted apart from those merely out of range.
    broken = valid & ~(start < end)
    return Binned(
        first=k0[rows].astype(np.int64) + off,
        last=k1[rows].astype(np.int64) + off,
        row=rows,
        group=g,
        offsets=offsets,
        nbins=nbins,
        width=width,
        length=length,
        outside=int((valid & ~ok & ~broken).sum()),
        invalid=int(broken.sum()),
    )


def pass_counts(first: Ints, last: Ints, total: int) -> Ints:
    """Number of runs ``[first, last]`` covering each flat bin (difference array)."""
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    diff = np.bincount(first, minlength=total + 1) - np.bincount(last + 1, minlength=total + 1)
    return np.cumsum(diff[:total])


def run_counts(first: Ints, last: Ints, key: Ints, total: int) -> tuple[Ints, Ints]:
    """Number of distinct ``key`` values (e.g. sessions) covering each flat bin, and the
    distinct keys seen (sorted).

    Runs of the same key are merged into their union first (sort by key then first bin, then
    a running maximum of the last bin that restarts with each key), so a session that passes
    over a bin three times counts once.
    """
    none = np.zeros(0, dtype=np.int64)
    if total == 0 or len(first) == 0:
        return np.zeros(total, dtype=np.int64), none
    big = np.int64(total + 2)
    key = key.astype(np.int64)
    kmax = int(key.max()) + 1
    if kmax * float(big) * float(big) < 2.0**62:
        # Pack (key, first, last) into one int64 and sort values, not indices: about twice
        # as fast as an argsort followed by gathers.
        packed = np.sort((key * big + first) * big + last)
        k = packed // (big * big)
        f = (packed // big) % big
        lo = packed % big
    else:
        order = np.argsort(key * big + first)
        k, f, lo = key[order], first[order], last[order]
    # Running maximum of the last bin, restarting with each key (keys are shifted apart).
    reach = np.maximum.accumulate(k * big + lo) - k * big
    new = np.empty(len(f), dtype=bool)
    new[0] = True
    new[1:] = (k[1:] != k[:-1]) | (f[1:] > reach[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:] - 1, len(f) - 1)
    run_first = f[starts]
    run_key = k[starts]
    run_last = reach[ends]
    distinct = run_key[np.append(True, run_key[1:] != run_key[:-1])]
    return pass_counts(run_first, run_last, total), distinct


def union_lengths(start: Floats, end: Floats, key: Ints, nkeys: int) -> Floats:
    """Length of the union of intervals ``[start, end)`` per key (media seconds)."""
    out = np.zeros(nkeys, dtype="float64")
    if len(start) == 0:
        return out
    order = np.lexsort((start, key))
    s, e, k = start[order], end[order], key[order]
    # Running maximum of the ends, restarting with each key (exact, unlike an offset trick).
    reach = pd.Series(e).groupby(k, sort=False).cummax().to_numpy()
    prev = np.empty(len(s))
    prev[0] = -np.inf
    prev[1:] = reach[:-1]
    prev[1:][k[1:] != k[:-1]] = -np.inf
    gain = np.maximum(0.0, e - np.maximum(s, prev))
    return np.bincount(k, weights=gain, minlength=nkeys).astype("float64")


def session_codes(segments: pd.DataFrame) -> tuple[Ints, pd.Index]:
    """Integer code of each segment's session and the session ids (as strings) they index."""
    sid = segments["session_id"]
    if isinstance(sid.dtype, pd.CategoricalDtype):
        codes = sid.cat.codes.to_numpy().astype(np.int64)
        labels = pd.Index(sid.cat.categories.astype(str), name="session_id")
    else:
        raw, uniques = pd.factorize(sid.astype(object), sort=False)
        codes = raw.astype(np.int64)
        labels = pd.Index(pd.Index(uniques).astype(str), name="session_id")
    if (codes < 0).any():
        raise ValueError(
            "segments have rows with no session_id; drop them or pass the frame returned by "
            "avi.segments(events)."
        )
    return codes, labels


#: Points closer than this share of the video (or one bin) are one moment: a drop-off
#: spread over three neighbouring seconds is one drop-off, not the top three.
_DISTINCT = 0.05


def distinct_peaks(
    values: Floats, positions: Floats, mask: npt.NDArray[np.bool_], top: int
) -> list[float]:
    """The ``top`` largest ``values``' positions, largest first, each a distinct moment.

    A run of neighbouring bins with the same value (a stretch skipped or rewatched as a
    whole) is one moment, reported by its first bin; so is anything within ``_DISTINCT`` of
    the video of a larger point.
    """
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or top == 0:
        return []
    step = float(np.min(np.diff(positions))) if len(positions) > 1 else 0.0
    span = float(positions[-1] - positions[0]) + step
    gap = max(_DISTINCT * span, step)
    vals = values[idx]
    new_run = np.ones(len(idx), dtype=bool)
    new_run[1:] = (np.diff(idx) != 1) | (vals[1:] != vals[:-1])
    run = np.cumsum(new_run)
    picked: list[float] = []
    runs: set[int] = set()
    # Bounded by the number of bins of one curve, and stops after ``top`` picks.
    for k in np.lexsort((positions[idx], -vals)):
        p = float(positions[idx[k]])
        if run[k] in runs or any(abs(p - q) < gap for q in picked):
            continue
        picked.append(p)
        runs.add(int(run[k]))
        if len(picked) == top:
            break
    return picked
