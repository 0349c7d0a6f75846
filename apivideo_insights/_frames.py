"""The frames that the report and the dashboard draw: one home for loading and slicing them.

Display modules (``report.py``, ``dashboard.py``) never load, reconstruct or select data
themselves: they ask this module for a :class:`Frames` bundle and for one video's
:class:`VideoFrames`, then lay the results of the public computation functions out.

Interface (kept stable; ``dashboard.py`` and ``report.py`` import only these names)
-----------------------------------------------------------------------------------
``Frames(videos=None, sessions=None, events=None, segments=None, durations=None,``
``live_streams=None, live_sessions=None, chapters={}, notes=[], loaded=None)``
    The one bundle of frames (a dataclass; ``report.ReportData`` is this class). Inputs are
    normalised on creation: ``videos`` becomes a frame with ``video_id`` and ``title``
    (:func:`videos_frame`), ``durations`` a float Series by ``video_id`` (NaN: unknown).
    ``loaded`` is the set of video ids whose sessions were asked for (``None``: those
    present in ``sessions``, ``segments`` or ``events``); a video outside it is "not
    loaded", which is not the same as "nobody watched".
``Frames.from_arguments(videos=..., sessions=..., events=..., segments=..., durations=...,``
``chapters=...)``
    The keyword form used by ``avi.dashboard(...)`` (same meaning as above).
``as_frames(source) -> Frames | None``
    A :class:`Frames`, a dict of its fields, or an object carrying them as attributes (a
    simulated ``World``); ``None`` when ``source`` is none of these (a client, say).
``is_client(source) -> bool``
    Whether ``source`` can load frames (``videos``, ``video_sessions``, ``events``).
``load_frames(api, *, videos=None, period=None, live=True) -> Frames``
    Every (or the chosen) video's sessions, events and durations through a client; a
    missing piece (a 404, say) becomes a note instead of an error (``AuthError`` raises).
``load_video(api, video_id, *, period=None, duration=None) -> VideoFrames``
    One video through a client (the dashboard's lazy path): sessions, events, duration
    (``api.video_status`` unless given), segments.
``select(frames, video_ids) -> Frames``
    Only these videos (``ValueError`` naming an unknown id).
``prepare(frames) -> Frames``
    Segments reconstructed once for every video (``avi.segments``), carrying ``video_id``;
    videos watched but not listed added by id; notes extended with what reconstruction
    dropped or estimated, in plain words (``_data_notes.data_notes``). Idempotent.
``Frames.video(video_id) -> VideoFrames``
    One video's slice of prepared frames.
``Frames.order() -> pandas.DataFrame``
    The videos, most sessions first (the report's section order).
``VideoFrames``
    ``video_id``, ``title``, ``tags`` (list), ``metadata`` (dict), ``segments``,
    ``sessions``, ``events``, ``chapters``, ``duration`` (float, NaN unknown),
    ``duration_source`` (where it came from: "given", "videos", "end events",
    "furthest watched" or "unknown", see ``_durations.by_video``), ``length`` (the
    positive length used for bins: the duration, else the furthest position watched; NaN
    when nothing was watched), ``loaded`` (bool), ``n_sessions``, ``n_segments``.
``auto_bin_size(duration, *, max_bins=100) -> float``
    A round bin width giving at most ``max_bins`` bins.

>>> f = Frames(videos=[{"videoId": "vi1", "title": "One"}], durations={"vi1": 30})
>>> f.videos["title"].tolist(), float(f.durations["vi1"])
(['One'], 30.0)
>>> v = prepare(f).video("vi1")
>>> v.loaded, v.duration, v.duration_source, v.n_sessions
(False, 30.0, 'given', 0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from . import _durations
from ._data_notes import data_notes
from ._docstrings import fill
from .exceptions import APIError, AuthError

__all__ = [
    "Frames",
    "VideoFrames",
    "as_frames",
    "auto_bin_size",
    "is_client",
    "load_frames",
    "load_video",
    "prepare",
    "select",
    "videos_frame",
]

_BIN_STEPS = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass
class VideoFrames:
    """One video's frames, as the report's card and the dashboard draw them."""

    video_id: str
    title: str
    segments: pd.DataFrame
    sessions: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    chapters: pd.DataFrame | None = None
    duration: float = math.nan
    duration_source: str = "unknown"
    loaded: bool = True
    tags: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> float:
        """The duration when known, else the furthest position watched (NaN: nothing)."""
        if np.isfinite(self.duration) and self.duration > 0:
            return float(self.duration)
        furthest = float(self.segments["end"].max()) if len(self.segments) else math.nan
        return furthest if np.isfinite(furthest) and furthest > 0 else math.nan

    @property
    def n_sessions(self) -> int:
        return 0 if self.sessions is None else len(self.sessions)

    @property
    def n_segments(self) -> int:
        return len(self.segments)


@dataclass
class Frames:
    """Frames a report (or the dashboard) is built from.

    Attributes
    ----------
    videos : pandas.DataFrame
        One row per video: ``video_id`` and ``title`` at least (``api.videos()``); ``tags``
        and ``metadata`` are shown when present. A list of api.video JSON objects
        (``videoId``, ``title``, ...) is accepted too.
    sessions : pandas.DataFrame
        Video sessions (``api.video_sessions(...)``, concatenated over videos).
    events : pandas.DataFrame, optional
        Their events (``api.events(sessions)``); turned into segments when ``segments``
        is not given.
    segments : pandas.DataFrame, optional
        Watched segments (``avi.segments(events, ...)``).
    durations : pandas.Series, optional
        Duration in seconds by ``video_id`` (``api.video_status``); videos without one use
        the furthest position anybody watched, and the report says so.
    live_streams : pandas.DataFrame, optional
        ``api.live_streams()``: ``live_stream_id`` and ``name``.
    live_sessions : pandas.DataFrame, optional
        ``api.live_stream_sessions(...)``, concatenated over streams.
    chapters : dict, optional
        ``video_id`` -> chapters frame (``chapter``, ``start``, ``end``).
    notes : list of str
        Things the reader should know (rows dropped, videos without duration, ...).
    loaded : set of str, optional
        Video ids whose sessions were asked for; ``None``: those found in the frames.
    """

    videos: Any = None
    sessions: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    durations: Any = None
    live_streams: Any = None
    live_sessions: pd.DataFrame | None = None
    chapters: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    loaded: set[str] | None = None

    def __post_init__(self) -> None:
        self.videos = videos_frame(self.videos)
        self.durations = _given_lengths(self.durations, self.videos)
        if self.live_streams is not None and not isinstance(self.live_streams, pd.DataFrame):
            self.live_streams = _live_streams_frame(self.live_streams)
        if self.loaded is not None:
            self.loaded = {str(v) for v in self.loaded}

    @classmethod
    def from_arguments(
        cls,
        *,
        videos: Any = None,
        sessions: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        segments: pd.DataFrame | None = None,
        durations: Any = None,
        chapters: Mapping[str, pd.DataFrame] | None = None,
    ) -> Frames:
        """The keyword form of ``avi.dashboard`` and ``avi.report``'s dict: same meanings."""
        if videos is None:
            videos = _videos_from(sessions, segments, events)
        return cls(
            videos=videos,
            sessions=sessions,
            events=events,
            segments=segments,
            durations=durations,
            chapters=dict(chapters or {}),
        )

    def order(self) -> pd.DataFrame:
        """The videos, most sessions first (stable: ties keep their listed order)."""
        counts = _session_counts(self.sessions)
        return (
            self.videos.assign(_n=self.videos["video_id"].astype(str).map(counts).fillna(0))
            .sort_values("_n", ascending=False, kind="stable")
            .drop(columns="_n")
            .reset_index(drop=True)
        )

    def video(self, video_id: str) -> VideoFrames:
        """One video's slice (its segments, sessions and events, duration, chapters)."""
        vid = str(video_id)
        segs = self.segments if self.segments is not None else prepare(self).segments
        assert segs is not None
        vsegs = segs[segs["video_id"].astype(str) == vid] if len(segs) else segs
        sessions = self.sessions
        if sessions is not None and "video_id" in sessions.columns:
            sessions = sessions[sessions["video_id"].astype(str) == vid]
        elif sessions is not None:
            sessions = None  # sessions that do not say their video belong to none
        events = self.events
        if events is not None:
            if "video_id" in events.columns:
                events = events[events["video_id"].astype(str) == vid]
            elif sessions is not None:
                ids = set(sessions["session_id"].astype(str))
                events = events[events["session_id"].astype(str).isin(ids)]
            else:
                ids = set(vsegs["session_id"].astype(str))
                events = events[events["session_id"].astype(str).isin(ids)]
        row = self.videos[self.videos["video_id"].astype(str) == vid]
        info = row.iloc[0] if len(row) else pd.Series({"video_id": vid, "title": vid})
        lengths = _durations.by_video(
            self.durations, events=events, segments=vsegs, video_ids=[vid]
        )
        source = str(lengths.attrs["source"].get(vid, "unknown"))
        known = source not in ("furthest watched", "unknown")
        tags = info.get("tags")
        meta = info.get("metadata")
        title = info.get("title")
        return VideoFrames(
            video_id=vid,
            title=str(title) if isinstance(title, str) else vid,
            segments=vsegs,
            sessions=sessions,
            events=events,
            chapters=self.chapters.get(vid),
            duration=float(lengths[vid]) if known else math.nan,
            duration_source=source,
            loaded=self.is_loaded(vid),
            tags=list(tags) if isinstance(tags, list | tuple | np.ndarray) else [],
            metadata=dict(meta) if isinstance(meta, Mapping) else {},
        )

    def is_loaded(self, video_id: str) -> bool:
        """Whether data was given (or asked for) for this video."""
        if self.loaded is not None:
            return str(video_id) in self.loaded
        for frame in (self.sessions, self.segments, self.events):
            if frame is None or "video_id" not in frame.columns:
                continue
            if (frame["video_id"].astype(str) == str(video_id)).any():
                return True
        return False


# ---------------------------------------------------------------------------------------
# Normalising what callers pass in
# ---------------------------------------------------------------------------------------


def videos_frame(videos: Any) -> pd.DataFrame:
    """Videos as a frame with ``video_id`` and ``title`` from a frame or API JSON objects.

    >>> videos_frame([{"videoId": "vi1", "title": "A", "tags": ["x"]}])[["video_id", "tags"]]
      video_id tags
    0      vi1  [x]
    """
    if videos is None:
        return pd.DataFrame({"video_id": pd.Series([], dtype="str"), "title": []})
    if isinstance(videos, pd.DataFrame):
        frame = videos.rename(columns={"videoId": "video_id"})
        if "video_id" not in frame.columns:
            if frame.index.name == "video_id":
                frame = frame.reset_index()
            else:
                err = "videos must have a 'video_id' column, as api.videos() returns"
                raise ValueError(err)
        if "title" not in frame.columns:
            frame = frame.assign(title=frame["video_id"])
        return frame.reset_index(drop=True)
    rows = []
    for item in videos:
        if not isinstance(item, Mapping):
            err = f"videos must be a DataFrame or api.video JSON objects, not {type(item).__name__}"
            raise TypeError(err)
        meta = item.get("metadata") or []
        if isinstance(meta, list):
            meta = {
                _text(m.get("key")): _text(m.get("value")) for m in meta if isinstance(m, Mapping)
            }
        rows.append(
            {
                "video_id": item.get("videoId", item.get("video_id")),
                "title": _text(item.get("title")),
                "description": _text(item.get("description")),
                "tags": [_text(t) for t in item.get("tags") or []],
                "metadata": meta,
                "published_at": item.get("publishedAt", item.get("published_at")),
            }
        )
    return pd.DataFrame(
        rows, columns=["video_id", "title", "description", "tags", "metadata", "published_at"]
    )


def _text(value: Any) -> Any:
    """Text that UTF-8 can hold: a lone surrogate (badly decoded input) becomes "?".

    pandas' string dtype (pyarrow) refuses such text outright, and a page cannot be
    written with it; one broken title must not cost the whole report.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _videos_from(*frames: pd.DataFrame | None) -> pd.DataFrame:
    for frame in frames:
        if frame is not None and "video_id" in frame.columns:
            ids = sorted(frame["video_id"].dropna().astype(str).unique())
            return pd.DataFrame({"video_id": ids, "title": ids})
    err = "pass videos= (api.videos()) or frames that have a video_id column"
    raise ValueError(err)


def _live_streams_frame(streams: Any) -> pd.DataFrame:
    # Only the id and the name: a live stream object also holds its stream key, a secret.
    rows = [
        {
            "live_stream_id": s.get("liveStreamId", s.get("live_stream_id")),
            "name": s.get("name"),
        }
        for s in streams
    ]
    return pd.DataFrame(rows, columns=["live_stream_id", "name"])


def _given_lengths(durations: Any, videos: pd.DataFrame) -> pd.Series:
    """Given lengths by ``video_id`` (NaN: unknown); a number applies to every video."""
    if durations is None and "duration" in videos.columns:
        durations = videos[["video_id", "duration"]]
    found = _durations.given_by_video(durations)
    if found is None and durations is not None:  # one number for every video
        found = _durations.by_video(durations, video_ids=videos["video_id"].astype(str))
    if found is None:
        return pd.Series([], dtype="float64", name="duration").rename_axis("video_id")
    return found.rename("duration").rename_axis("video_id")


def as_frames(source: Any) -> Frames | None:
    """Frames from a Frames, a mapping or any object with frame attributes (a World)."""
    if isinstance(source, Frames):
        return source
    names = {f.name for f in fields(Frames)}
    if isinstance(source, Mapping):
        unknown = set(source) - names
        if unknown:
            err = f"unknown keys {sorted(unknown)} in source; use some of {sorted(names)}"
            raise ValueError(err)
        return Frames(**dict(source))
    if hasattr(source, "sessions") and hasattr(source, "videos") and not callable(source.videos):
        return _from_world(source)
    return None


def _from_world(source: Any) -> Frames:
    """A simulated World, or any object carrying the frames as attributes."""
    everyone = getattr(source, "sessions", None)
    events = getattr(source, "events", None)
    sessions = everyone
    live_sessions = None
    if isinstance(everyone, pd.DataFrame) and "live_stream_id" in everyone.columns:
        is_live = everyone["live_stream_id"].notna()
        sessions = everyone[~is_live].reset_index(drop=True)
        live_sessions = everyone[is_live].reset_index(drop=True)
        if isinstance(events, pd.DataFrame) and is_live.any():
            # Live sessions have no media position to reconstruct.
            live_ids = set(live_sessions["session_id"].astype(str))
            events = events[~events["session_id"].astype(str).isin(live_ids)]
    notes: list[str] = []
    chapters = _world_chapters(getattr(source, "chapter_vtt", None), notes)
    frames = Frames(
        videos=source.videos,
        sessions=sessions,
        events=events,
        durations=getattr(source, "durations", None),
        live_streams=getattr(source, "live_streams", None),
        live_sessions=live_sessions,
        chapters=chapters,
        notes=notes,
    )
    # A world holds every session of every video: each one is loaded, even if unwatched.
    frames.loaded = set(frames.videos["video_id"].astype(str))
    return frames


def _world_chapters(vtts: Any, notes: list[str]) -> dict[str, pd.DataFrame]:
    """``(video_id, language) -> WebVTT`` texts parsed, one language per video."""
    from .chapters import read_chapters

    out: dict[str, pd.DataFrame] = {}
    if isinstance(vtts, Mapping):
        for (video_id, language), text in sorted(vtts.items()):
            if str(video_id) in out:
                continue
            try:
                out[str(video_id)] = read_chapters(text)
            except ValueError as exc:
                notes.append(f"The chapters of {video_id} ({language}) are not shown: {exc}")
    return out


def is_client(source: Any) -> bool:
    """Whether ``source`` loads frames itself (an :class:`~apivideo_insights.Client`)."""
    return all(callable(getattr(source, n, None)) for n in ("videos", "video_sessions", "events"))


# ---------------------------------------------------------------------------------------
# Loading through a client
# ---------------------------------------------------------------------------------------


class _Attempts:
    """Calls whose API errors become notes: one missing piece must not cost a whole report."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def __call__(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except APIError as exc:
            if isinstance(exc, AuthError):
                raise
            self.notes.append(f"{what}: not loaded ({exc})")
            return None


def _concat(parts: Sequence[pd.DataFrame | None]) -> pd.DataFrame | None:
    kept = [p for p in parts if p is not None and len(p)]
    return pd.concat(kept, ignore_index=True) if kept else None


@fill
def load_frames(
    api: Any,
    *,
    videos: Sequence[str] | str | None = None,
    period: str | None = None,
    live: bool = True,
) -> Frames:
    """Load everything a report needs through a client: videos, sessions, events, durations.

    Parameters
    ----------
    api : apivideo_insights.Client
        A connected client (``avi.connect(...)``); its cache and progress settings apply.
    videos : str or list of str, optional
        Only these video ids (default: every video of the project).
    {params[period]}
    live : bool, default True
        Also load live streams and their sessions.

    Returns
    -------
    Frames
    """
    frame = videos_frame(api.videos())
    wanted = [videos] if isinstance(videos, str) else videos
    if wanted is not None:
        unknown = sorted(set(wanted) - set(frame["video_id"].astype(str)))
        if unknown:
            err = f"no video with id {unknown[0]!r} in this project; see api.videos()"
            raise ValueError(err)
        frame = frame[frame["video_id"].isin(list(wanted))].reset_index(drop=True)
    ids = frame["video_id"].astype(str).tolist()
    notes: list[str] = []
    attempt = _Attempts(notes)

    durations = {}
    for vid in ids:
        status = attempt(f"duration of {vid}", partial(api.video_status, vid))
        durations[vid] = math.nan if status is None else _durations.from_status(status)
    loaded: set[str] = set()
    parts = []
    for vid in ids:
        part = attempt(f"sessions of {vid}", partial(api.video_sessions, vid, period=period))
        if part is not None:
            loaded.add(vid)
            parts.append(part)
    sessions = _concat(parts)
    events = None
    if sessions is not None:
        events = attempt("events of the video sessions", lambda: api.events(sessions))
    live_streams = live_sessions = None
    if live and callable(getattr(api, "live_streams", None)):
        streams = attempt("live streams", api.live_streams)
        if streams is not None:
            # Only the id and the name: a live stream also holds its stream key, a secret.
            live_streams = streams[[c for c in ("live_stream_id", "name") if c in streams]]
            live_sessions = _concat(
                [
                    attempt(
                        f"sessions of live stream {lid}",
                        partial(api.live_stream_sessions, lid, period=period),
                    )
                    for lid in live_streams["live_stream_id"].astype(str)
                ]
            )
    return Frames(
        videos=frame,
        sessions=sessions,
        events=events,
        durations=durations,
        live_streams=live_streams,
        live_sessions=live_sessions,
        notes=notes,
        loaded=loaded,
    )


def load_video(
    api: Any,
    video_id: str,
    *,
    period: str | None = None,
    duration: float | None = None,
    title: str | None = None,
) -> VideoFrames:
    """One video through a client: its sessions, events, duration and watched segments.

    ``duration`` (seconds) skips the ``api.video_status`` request when already known.
    """
    from .segments import segments as make_segments

    vid = str(video_id)
    sessions = api.video_sessions(vid, period=period or None)
    events = api.events(sessions)
    if duration is None or not np.isfinite(duration):
        duration = _durations.from_status(api.video_status(vid))
    known = duration if np.isfinite(duration) and duration > 0 else None
    segs = make_segments(events, duration=known, sessions=sessions)
    if "video_id" not in segs.columns:
        segs = segs.assign(video_id=vid)
    frames = Frames(
        videos=pd.DataFrame({"video_id": [vid], "title": [title or vid]}),
        sessions=sessions,
        events=events,
        segments=segs.assign(video_id=segs["video_id"].astype(str)),
        durations={vid: math.nan if known is None else known},
        loaded={vid},
    )
    return frames.video(vid)


# ---------------------------------------------------------------------------------------
# Selecting and preparing
# ---------------------------------------------------------------------------------------


def select(frames: Frames, video_ids: Sequence[str]) -> Frames:
    """Only these videos' rows (``ValueError`` naming the first unknown id)."""
    wanted = [str(v) for v in video_ids]
    ids = set(frames.videos["video_id"].astype(str))
    unknown = sorted(set(wanted) - ids)
    if unknown:
        err = f"no video with id {unknown[0]!r} in the frames given"
        raise ValueError(err)
    keep = frames.videos["video_id"].astype(str).isin(wanted)
    sessions = frames.sessions
    if sessions is not None:
        sessions = sessions[sessions["video_id"].astype(str).isin(wanted)]
    session_ids = set() if sessions is None else set(sessions["session_id"].astype(str))

    def only(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        return frame[frame["session_id"].astype(str).isin(session_ids)]

    loaded = None if frames.loaded is None else frames.loaded & set(wanted)
    return replace(
        frames,
        videos=frames.videos[keep],
        sessions=sessions,
        events=only(frames.events),
        segments=only(frames.segments),
        notes=list(frames.notes),
        loaded=loaded,
    )


def prepare(frames: Frames) -> Frames:
    """Segments of every video once (``avi.segments``), each carrying its ``video_id``.

    Videos watched but not listed are added, named by their id; what reconstruction
    dropped or estimated is added to the notes in plain words (:func:`data_notes`).
    Prepared frames are returned as they are.
    """
    segs = frames.segments
    notes = list(frames.notes)
    if segs is not None and "video_id" in segs.columns and segs.attrs.get("_prepared"):
        return frames
    if segs is None:
        segs = _reconstruct(frames)
        notes.extend(data_notes(segs.attrs))
    segs = _with_video_ids(segs, frames, notes)
    videos = frames.videos
    unlisted = sorted(set(segs["video_id"]) - set(videos["video_id"].astype(str)))
    if unlisted:
        extra = pd.DataFrame({"video_id": unlisted, "title": unlisted})
        videos = pd.concat([videos, extra], ignore_index=True)
    segs.attrs["_prepared"] = True
    return replace(frames, videos=videos, segments=segs, notes=notes)


def _reconstruct(frames: Frames) -> pd.DataFrame:
    from .segments import segments as make_segments

    if frames.events is not None and len(frames.events):
        known = frames.durations if len(frames.durations) else None
        return make_segments(frames.events, duration=known, sessions=frames.sessions)
    from .schema import SEGMENT_COLUMNS, empty_frame

    return empty_frame(SEGMENT_COLUMNS)


def _with_video_ids(segs: pd.DataFrame, frames: Frames, notes: list[str]) -> pd.DataFrame:
    """Segments of videos only, with a string ``video_id``; live ones are counted out.

    Frames that never say which video they belong to are taken as one video: the only one
    in ``videos`` if there is exactly one, else a video called ``"all"``.
    """
    sessions = frames.sessions
    if "video_id" not in segs.columns and sessions is not None and len(sessions):
        owner = sessions.set_index("session_id")["video_id"]
        owner = owner[~owner.index.duplicated()]
        segs = segs.assign(video_id=segs["session_id"].astype(str).map(owner).to_numpy())
    if "video_id" not in segs.columns:
        videos = frames.videos
        if len(segs) and len(videos) <= 1:
            vid = str(videos["video_id"].iloc[0]) if len(videos) else "all"
            notes.append(
                f"The frames never say which video was watched: every segment is taken as "
                f"video {vid}."
            )
            return segs.assign(video_id=vid)
        if len(segs):
            notes.append(
                "The watched segments have no video_id and no sessions map them to videos, "
                "so no video shows them."
            )
        return segs.iloc[0:0].assign(video_id=pd.Series([], dtype="str"))
    missing = segs["video_id"].isna()
    if missing.any():
        notes.append(
            f"{int(missing.sum()):,} watched segments belong to sessions without a video "
            "(live streams, or sessions not given); they are not in the video sections."
        )
        segs = segs[~missing]
    return segs.assign(video_id=segs["video_id"].astype(str))


def _session_counts(sessions: pd.DataFrame | None) -> pd.Series:
    if sessions is None or not len(sessions) or "video_id" not in sessions.columns:
        return pd.Series(dtype="int64")
    return sessions.groupby(sessions["video_id"].astype(str)).size()


def auto_bin_size(duration: float, *, max_bins: int = 100) -> float:
    """A round bin width (1, 2, 5, 10, 15, 30 s ...) giving at most ``max_bins`` bins.

    >>> auto_bin_size(30), auto_bin_size(1800), auto_bin_size(float("nan"))
    (1.0, 30.0, 1.0)
    """
    if not np.isfinite(duration) or duration <= 0:
        return 1.0
    for step in _BIN_STEPS:
        if duration / step <= max_bins:
            return step
    return float(math.ceil(duration / max_bins))
