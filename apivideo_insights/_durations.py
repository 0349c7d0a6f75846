"""Video lengths: the one place that decides how long a video is.

A length (``duration``, media seconds) comes from, in this order of trust:

1. **given**: one number for every video, or seconds by ``video_id`` (a Series, a mapping,
   or a frame with ``video_id`` and ``duration`` columns such as ``api.video_status(...)``
   or ``api.videos()``);
2. **the videos frame**: its ``duration`` column by ``video_id``;
3. **end events**: the largest ``at`` of a video's ``end`` events (where the player stopped
   because the media ended);
4. **furthest watched**: the largest ``end`` of a video's segments, a lower bound only
   (marked ``estimated``).

Two kinds of callers use it:

* the metrics (:func:`~apivideo_insights.retention`, ``heatmap``, ``engagement``) need a
  length they can trust and fail clearly without one: :func:`per_row` (strict, only the
  given ``duration``) and :func:`axis_length`;
* display (report, dashboard) and the dask path resolve what they can and show the rest as
  unknown: :func:`by_video` (a float Series indexed by ``video_id``, NaN unknown),
  :func:`for_video` (the one-video case), :func:`from_status` and :func:`from_end_events`.

:func:`per_session` serves the reconstruction (:func:`~apivideo_insights.segments`), which
needs one length per session, from a ``duration`` indexed by ``session_id`` or ``video_id``
and the ``end`` events of each session.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from .exceptions import warn

__all__ = [
    "MAX_SECONDS",
    "WHERE",
    "Duration",
    "axis_length",
    "by_video",
    "check_lengths",
    "for_video",
    "from_end_events",
    "from_status",
    "furthest_watched",
    "given_by_video",
    "per_row",
    "per_session",
]

#: What a ``duration`` argument may be: seconds for every video, seconds by ``video_id``
#: (a Series, a mapping, or a frame with ``video_id`` and ``duration`` columns), or None.
Duration: TypeAlias = float | int | pd.Series | pd.DataFrame | Mapping[str, float] | None

#: Longer than any video (317 years): a larger "length" is a unit mistake or garbage, and
#: would overflow the bin arithmetic.
MAX_SECONDS = 1e10

#: Where a length comes from, said in every error about a missing or bad one.
WHERE = (
    "pass the video's length in seconds (duration=api.video_status(video_id), or its "
    "'duration' value), or lengths by video_id (duration=api.videos(), or a Series such as "
    "videos.set_index('video_id')['duration'])"
)

_FloatArray: TypeAlias = npt.NDArray[np.float64]


def _empty() -> pd.Series:
    return pd.Series([], dtype="float64", name="duration", index=pd.Index([], name="video_id"))


def check_lengths(values: np.ndarray, labels: Sequence[object] | None = None) -> None:
    """Raise a ValueError unless every value is a plausible length (0 < d ≤ MAX_SECONDS).

    Examples
    --------
    >>> check_lengths(np.array([10.0, 600.0]))
    >>> check_lengths(np.array([-5.0]))
    Traceback (most recent call last):
    ...
    ValueError: duration must be a positive number of media seconds, got [-5.0]; ...
    """
    values = np.asarray(values, dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values <= 0) | (values > MAX_SECONDS)
    if bad.any():
        where = (
            "" if labels is None else f" for {[labels[int(i)] for i in np.flatnonzero(bad)][:5]}"
        )
        raise ValueError(
            f"duration must be a positive number of media seconds{where}, got "
            f"{values[bad][:5].tolist()}; {WHERE}. A length must be finite, above 0 and at "
            f"most {MAX_SECONDS:.0e} s; a missing one must not be given as 0, NaN or -1."
        )


def _number(value: object) -> float:
    """A given scalar as a float (TypeError when it is not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(
            "duration must be a number of seconds, a Series of seconds indexed by video_id, "
            f"or a frame with video_id and duration columns; not {type(value).__name__}. "
            f"To find one: {WHERE}."
        )
    try:
        return float(value)
    except OverflowError:  # a huge int
        return math.inf


def given_by_video(duration: Duration) -> pd.Series | None:
    """A given per-video ``duration`` as a float Series indexed by ``video_id`` (str).

    None for a scalar or None; a frame must have ``video_id`` (column or index) and
    ``duration``. Values that are not numbers become NaN; duplicated ids keep the last.

    Examples
    --------
    >>> given_by_video({"v1": 10, "v2": "x"}).to_dict()
    {'v1': 10.0, 'v2': nan}
    >>> given_by_video(pd.DataFrame({"video_id": ["v"], "duration": [3.0]})).to_dict()
    {'v': 3.0}
    >>> given_by_video(600.0) is None
    True
    """
    if duration is None or isinstance(duration, int | float | np.number):
        return None
    if isinstance(duration, pd.DataFrame):
        frame = duration
        if "video_id" not in frame.columns and frame.index.name == "video_id":
            frame = frame.reset_index()
        if not {"video_id", "duration"} <= set(frame.columns):
            raise TypeError(
                "a duration frame needs video_id and duration columns (api.video_status(...) "
                f"or api.videos()); this one has {list(frame.columns)}. Or pass a Series of "
                "seconds indexed by video_id."
            )
        duration = pd.Series(frame["duration"].to_numpy(), index=frame["video_id"].to_numpy())
    elif isinstance(duration, Mapping):
        duration = pd.Series(dict(duration), dtype=object)
    elif not isinstance(duration, pd.Series):
        _number(duration)  # raises the TypeError that says what a duration may be
    series = cast(pd.Series, duration)
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    out = pd.Series(values.to_numpy(), index=pd.Index(series.index.astype(str), name="video_id"))
    out = out[~out.index.duplicated(keep="last")]
    return out.rename("duration")


def from_status(status: object) -> float:
    """The length in an ``api.video_status`` answer (frame, row, dict or number); NaN if none.

    Examples
    --------
    >>> from_status(pd.DataFrame({"video_id": ["v"], "duration": [12.5]}))
    12.5
    >>> from_status({"encoding": {"metadata": {"duration": 7}}})
    7.0
    >>> from_status(None)
    nan
    """
    if isinstance(status, pd.DataFrame):
        status = status.iloc[0] if len(status) else pd.Series(dtype=object)
    if isinstance(status, pd.Series):
        status = status.to_dict()
    value: object = None
    if isinstance(status, Mapping):
        for key in ("duration", "encoding_metadata_duration"):
            if status.get(key) is not None:
                value = status[key]
                break
        else:
            encoding = status.get("encoding")
            metadata = encoding.get("metadata") if isinstance(encoding, Mapping) else None
            value = metadata.get("duration") if isinstance(metadata, Mapping) else None
    elif isinstance(status, int | float | np.number) and not isinstance(status, bool):
        value = status
    try:
        return float(cast(float, value)) if value is not None else math.nan
    except (TypeError, ValueError, OverflowError):
        return math.nan


def from_end_events(events: object) -> pd.Series:
    """Largest ``at`` of a valid ``end`` event per ``video_id`` (pandas or dask events).

    A dask frame is reduced on its workers (three columns) and only the per-video maxima
    are computed. Videos without a positive one are left out.

    Examples
    --------
    >>> ev = pd.DataFrame({"video_id": ["v", "v", "w"], "type": ["end", "pause", "ready"],
    ...                    "at": [30.0, 40.0, 0.0]})
    >>> from_end_events(ev).to_dict()
    {'v': 30.0}
    """
    columns = getattr(events, "columns", ())
    if not {"video_id", "type", "at"} <= set(columns):
        return _empty()
    frame = cast(pd.DataFrame, events)
    ends = frame[frame["type"] == "end"][["video_id", "at"]]
    ends = ends[(ends["at"] >= 0) & (ends["at"] < np.inf)]
    found = ends.groupby("video_id", observed=True)["at"].max()
    if hasattr(found, "compute"):  # dask: the maxima only travel to the client
        found = found.compute()
    return _positive(found)


def furthest_watched(segments: object) -> pd.Series:
    """Largest ``end`` of the segments per ``video_id``: a lower bound of each length.

    Examples
    --------
    >>> seg = pd.DataFrame({"video_id": ["v", "v"], "start": [0.0, 5.0], "end": [4.0, 9.0]})
    >>> furthest_watched(seg).to_dict()
    {'v': 9.0}
    """
    columns = getattr(segments, "columns", ())
    if not {"video_id", "end"} <= set(columns):
        return _empty()
    frame = cast(pd.DataFrame, segments)
    ends = frame[["video_id", "end"]]
    ends = ends[ends["end"] < np.inf]
    return _positive(ends.groupby("video_id", observed=True)["end"].max())


def _positive(found: pd.Series) -> pd.Series:
    out = pd.Series(
        pd.to_numeric(found, errors="coerce").to_numpy(dtype="float64"),
        index=pd.Index(found.index.astype(object).astype(str), name="video_id"),
        name="duration",
    )
    return out[(out > 0) & (out <= MAX_SECONDS)]


def _plausible(values: pd.Series) -> pd.Series:
    """Unknown (NaN) where a length is not usable: not finite, ≤ 0 or over MAX_SECONDS."""
    return values.where((values > 0) & (values <= MAX_SECONDS))


def by_video(
    duration: Duration = None,
    *,
    videos: pd.DataFrame | None = None,
    events: object = None,
    segments: object = None,
    video_ids: Iterable[object] | None = None,
) -> pd.Series:
    """Every source of lengths resolved: a float Series of seconds indexed by ``video_id``.

    The videos are those named by any argument (``video_ids``, the given Series, the
    videos, events and segments frames). Each gets the first usable length of: the given
    ``duration`` (a number applies to every video), ``videos``' ``duration`` column, its
    ``end`` events, the furthest position watched in ``segments``; NaN when none is known.
    An unusable value (not finite, ≤ 0, over :data:`MAX_SECONDS`) counts as unknown here:
    display shows it as unknown, the metrics (:func:`per_row`) refuse it.

    ``attrs["source"]`` maps each video id to where its length came from (``"given"``,
    ``"videos"``, ``"end events"``, ``"furthest watched"`` or ``"unknown"``) and
    ``attrs["estimated"]`` lists the ids whose length is only the furthest watched.

    Examples
    --------
    >>> videos = pd.DataFrame({"video_id": ["a", "b", "c"], "duration": [60.0, None, None]})
    >>> seg = pd.DataFrame({"video_id": ["b"], "start": [0.0], "end": [42.0]})
    >>> lengths = by_video(videos=videos, segments=seg)
    >>> lengths.to_dict()
    {'a': 60.0, 'b': 42.0, 'c': nan}
    >>> lengths.attrs["estimated"]
    ['b']
    """
    given = given_by_video(duration)
    scalar = None if given is not None or duration is None else _number(duration)
    from_videos = given_by_video(videos) if _has_lengths(videos) else None
    sources: list[tuple[str, pd.Series]] = []
    if given is not None:
        sources.append(("given", _plausible(given)))
    if from_videos is not None:
        sources.append(("videos", _plausible(from_videos)))
    sources.append(("end events", from_end_events(events)))
    sources.append(("furthest watched", furthest_watched(segments)))
    ids = _ids(video_ids, given, videos, events, segments, [s for _, s in sources])
    out = pd.Series(np.nan, index=ids, dtype="float64", name="duration")
    where = pd.Series("unknown", index=ids, dtype=object)
    if scalar is not None:
        ok = 0 < scalar <= MAX_SECONDS
        out[:] = scalar if ok else np.nan
        where[:] = "given" if ok else "unknown"
    for name, lengths in sources:
        fill = out.isna() & lengths.reindex(ids).notna().to_numpy()
        out[fill] = lengths.reindex(ids)[fill]
        where[fill] = name
    out.attrs["source"] = where.to_dict()
    out.attrs["estimated"] = [str(v) for v in ids[(where == "furthest watched").to_numpy()]]
    return out


def _has_lengths(videos: object) -> bool:
    if not isinstance(videos, pd.DataFrame) or "duration" not in videos.columns:
        return False
    return "video_id" in videos.columns or videos.index.name == "video_id"


def _ids(
    video_ids: Iterable[object] | None,
    given: pd.Series | None,
    videos: object,
    events: object,
    segments: object,
    found: list[pd.Series],
) -> pd.Index:
    """Video ids in first-seen order: the ones asked for, then every frame's."""
    parts: list[Iterable[object]] = []
    if video_ids is not None:
        parts.append([video_ids] if isinstance(video_ids, str) else video_ids)
    if given is not None:
        parts.append(given.index)
    for frame in (videos, segments):
        if isinstance(frame, pd.DataFrame) and "video_id" in frame.columns:
            parts.append(pd.unique(frame["video_id"].dropna().astype(object)))
    if isinstance(events, pd.DataFrame) and "video_id" in events.columns:
        parts.append(pd.unique(events["video_id"].dropna().astype(object)))
    parts.extend(s.index for s in found)
    ids = pd.Index([str(v) for part in parts for v in part], dtype=object, name="video_id")
    return ids.unique()


def for_video(
    video_id: str | None = None,
    duration: Duration = None,
    *,
    videos: pd.DataFrame | None = None,
    events: object = None,
    segments: object = None,
) -> float:
    """The length of one video (the :func:`by_video` rules); NaN when unknown.

    With ``video_id=None`` the frames are taken to hold one video, and a given Series of a
    single video is that video's length.

    Examples
    --------
    >>> for_video("v", {"v": 30.0, "w": 12.0})
    30.0
    >>> seg = pd.DataFrame({"video_id": ["v"], "start": [0.0], "end": [8.0]})
    >>> for_video("v", segments=seg)
    8.0
    >>> for_video("x")
    nan
    """
    if video_id is None:
        if duration is not None and given_by_video(duration) is None:
            value = _number(duration)
            return value if 0 < value <= MAX_SECONDS else math.nan
        lengths = by_video(duration, videos=videos, events=events, segments=segments)
        return float(lengths.iloc[0]) if len(lengths) == 1 else math.nan
    lengths = by_video(
        duration, videos=videos, events=events, segments=segments, video_ids=[video_id]
    )
    return float(lengths.get(str(video_id), math.nan))


def axis_length(duration: Duration) -> float:
    """The length every curve's axis spans when one length was given (else 0.0).

    Examples
    --------
    >>> axis_length(30), axis_length({"v": 12.0}), axis_length({"v": 1.0, "w": 2.0})
    (30.0, 12.0, 0.0)
    """
    given = given_by_video(duration)
    if given is not None:
        return float(given.iloc[0]) if len(given) == 1 and given.notna().all() else 0.0
    if duration is None:
        return 0.0
    try:
        value = _number(duration)
    except TypeError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def per_row(frame: pd.DataFrame, duration: Duration, *, what: str = "segments") -> _FloatArray:
    """Length of each row's video (for the metrics): strict, from the given ``duration``.

    ``duration`` is one number, or lengths by ``video_id`` matched on the frame's
    ``video_id`` column. Missing, unusable or unmatched lengths raise a ValueError that
    says where a length comes from; one number for rows of several videos warns.

    Examples
    --------
    >>> seg = pd.DataFrame({"video_id": ["a", "b", "a"]})
    >>> per_row(seg, {"a": 10.0, "b": 20.0}).tolist()
    [10.0, 20.0, 10.0]
    >>> per_row(seg, None)
    Traceback (most recent call last):
    ...
    ValueError: duration is required: ...
    """
    n = len(frame)
    if duration is None:
        raise ValueError(f"duration is required: {WHERE}.")
    given = given_by_video(duration)
    if given is None:
        number = _number(duration)
        check_lengths(np.array([number]))
        _warn_if_several_videos(frame, number)
        return np.full(n, number)
    if "video_id" not in frame.columns:
        if len(given) == 1:
            check_lengths(given.to_numpy())
            return np.full(n, float(given.iloc[0]))
        raise ValueError(
            f"duration holds {len(given)} videos but {what} have no video_id column; add "
            "video_id to them, or pass one number."
        )
    # Factorize (hashing, or the categorical codes) rather than sorting a million strings.
    inv, found = pd.factorize(frame["video_id"], sort=False)
    if (inv < 0).any():
        raise ValueError(
            f"{what} have rows with no video_id while duration is per video; drop them or "
            "pass one number."
        )
    uniq = [str(v) for v in found]
    missing = [v for v in uniq if v not in given.index]
    if missing:
        raise ValueError(
            f"duration has no entry for video(s) {missing[:5]}; give a length for every video "
            f"in {what}, or filter {what} to the videos you have lengths for. To find one: "
            f"{WHERE}."
        )
    lengths = given.reindex(uniq).to_numpy(dtype="float64")
    check_lengths(lengths, uniq)
    return lengths[inv] if n else np.empty(0, dtype="float64")


def _warn_if_several_videos(frame: pd.DataFrame, number: float) -> None:
    if not len(frame) or "video_id" not in frame.columns:
        return
    videos = frame["video_id"]
    videos = videos[videos.notna()]
    # Cheaper than counting distinct ids: is any row's video not the first row's?
    if len(videos) and bool((videos != videos.iloc[0]).any()):
        warn(
            f"duration={number:g} is one length for segments of several videos: every "
            "video is taken to last that long. Pass a Series of lengths indexed by "
            "video_id (e.g. videos.set_index('video_id')['duration']), or filter "
            "segments to one video."
        )


def per_session(
    duration: Duration,
    session_ids: pd.Index,
    video_of_session: np.ndarray | None,
    end_at: np.ndarray,
) -> _FloatArray:
    """One length per session, for the reconstruction; NaN where unknown.

    Parameters
    ----------
    duration : float, Series, mapping, frame or None
        One number; or lengths by ``session_id`` or by ``video_id`` (told by the index name,
        else by which ids match more); or None.
    session_ids : Index
        The sessions (str), in the order of the result.
    video_of_session : ndarray of object, optional
        Each session's ``video_id`` (None unknown); None when no video is known at all.
    end_at : ndarray of float
        Each session's largest ``at`` of a usable ``end`` event (NaN without one).

    Returns
    -------
    ndarray of float
        The given length; where none is given, the largest ``end_at`` over the sessions of
        the same video (of the session itself when its video is unknown).

    Examples
    --------
    >>> ids = pd.Index(["s1", "s2", "s3"])
    >>> videos = np.array(["v", "v", None], dtype=object)
    >>> per_session(None, ids, videos, np.array([30.0, np.nan, 12.0])).tolist()
    [30.0, 30.0, 12.0]
    >>> per_session({"s3": 20.0}, ids, videos, np.array([30.0, np.nan, 12.0])).tolist()
    [30.0, 30.0, 20.0]
    """
    nsess = len(session_ids)
    if video_of_session is not None:
        vcodes, vids = pd.factorize(pd.Series(video_of_session, dtype=object))
    else:
        vcodes, vids = None, None
    given = np.full(nsess, np.nan)
    if duration is not None:
        series = given_by_video(duration)
        if series is None:
            number = _number(duration)
            check_lengths(np.array([number]))
            given[:] = number
        else:
            given = _given_per_session(series, duration, session_ids, vcodes, vids)
    missing = np.isnan(given)
    if not missing.any():
        return given
    # Inferred: the largest end ``at`` per video (per session when its video is unknown).
    if vcodes is not None and vids is not None:
        group = np.where(vcodes >= 0, vcodes, len(vids) + np.arange(nsess))
    else:
        group = np.arange(nsess)
    ngroup = int(group.max()) + 1 if nsess else 0
    inferred = np.full(ngroup, -np.inf)
    at = np.asarray(end_at, dtype="float64")
    has = np.isfinite(at)
    np.maximum.at(inferred, group[has], at[has])
    inferred[(inferred <= 0) | (inferred > MAX_SECONDS)] = np.nan
    return np.where(missing, inferred[group] if nsess else given, given)


def _given_per_session(
    series: pd.Series,
    duration: Duration,
    session_ids: pd.Index,
    vcodes: np.ndarray | None,
    vids: pd.Index | None,
) -> _FloatArray:
    values = series.to_numpy(dtype="float64")
    known = ~np.isnan(values)
    check_lengths(values[known], [str(k) for k in series.index[known]])
    keys = pd.Index(series.index.astype(str), dtype=object)
    sessions = pd.Index(session_ids.astype(str), dtype=object)
    by_session = sessions.get_indexer(keys)
    # A frame (api.video_status, api.videos) is by video; a Series says so by its index name.
    by: object = None
    if isinstance(duration, pd.DataFrame):
        by = "video_id"
    elif isinstance(duration, pd.Series):
        by = duration.index.name
    if by not in ("session_id", "video_id"):
        n_sess = int((by_session >= 0).sum())
        n_vid = int(pd.Index(vids).isin(keys).sum()) if vids is not None else 0
        by = "session_id" if n_sess > n_vid or (n_sess == n_vid and vids is None) else "video_id"
    out = np.full(len(sessions), np.nan)
    if by == "session_id":
        hit = by_session >= 0
        out[by_session[hit]] = values[hit]
        return out
    if vcodes is None or vids is None:
        raise ValueError(
            "duration is indexed by video_id but neither events nor sessions carry a "
            "video_id column; pass sessions=, or index duration by session_id"
        )
    vdur = series.reindex(pd.Index(vids).astype(str)).to_numpy(dtype="float64")
    return np.where(vcodes >= 0, vdur[np.maximum(vcodes, 0)] if len(vdur) else np.nan, np.nan)
