"""One self-contained HTML report: summary, per-video retention and heatmaps, live viewers.

The report is a single ``.html`` file that needs nothing else: the stylesheet is inline,
every chart is a base64 PNG ``data:`` URI, there is no script, and a Content-Security-Policy
``<meta>`` forbids scripts and remote loads, so opening it makes no request at all. Every
piece of text that came from users or viewers (titles, tags, metadata, referrers, cohort
labels, ids) goes through :func:`html.escape`.

Computation is not done here: the report calls the same public functions a notebook user
calls (:func:`~apivideo_insights.segments`, :func:`~apivideo_insights.retention`,
:func:`~apivideo_insights.heatmap`, :func:`~apivideo_insights.engagement`,
:func:`~apivideo_insights.concurrency` and the ``plot_*`` functions) and lays their
results out.

>>> import apivideo_insights as avi                                   # doctest: +SKIP
>>> with avi.sandbox.serve() as sb:                                   # doctest: +SKIP
...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
...     avi.report(api, "report.html")
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._docstrings import fill
from .exceptions import APIError, AuthError

__all__ = ["ReportData", "load_frames", "main", "render_html", "report"]

#: The policy in every report: no script, nothing fetched except inline styles and data: images.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; "
    "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)

_BIN_STEPS = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass
class ReportData:
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

    def __post_init__(self) -> None:
        self.videos = videos_frame(self.videos)
        self.durations = _durations(self.durations, self.videos)
        if self.live_streams is not None and not isinstance(self.live_streams, pd.DataFrame):
            self.live_streams = _live_streams_frame(self.live_streams)


# ---------------------------------------------------------------------------------------
# Normalising what callers pass in
# ---------------------------------------------------------------------------------------


def videos_frame(videos: Any) -> pd.DataFrame:
    """Videos as a frame with ``video_id`` and ``title`` from a frame or API JSON objects."""
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
            meta = {m.get("key"): m.get("value") for m in meta if isinstance(m, Mapping)}
        rows.append(
            {
                "video_id": item.get("videoId", item.get("video_id")),
                "title": item.get("title"),
                "description": item.get("description"),
                "tags": list(item.get("tags") or []),
                "metadata": meta,
                "published_at": item.get("publishedAt", item.get("published_at")),
            }
        )
    return pd.DataFrame(
        rows, columns=["video_id", "title", "description", "tags", "metadata", "published_at"]
    )


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


def _durations(durations: Any, videos: pd.DataFrame) -> pd.Series:
    if durations is None and "duration" in videos.columns:
        durations = videos.set_index("video_id")["duration"]
    if durations is None:
        return pd.Series([], dtype="float64", name="duration").rename_axis("video_id")
    if isinstance(durations, Mapping):
        durations = pd.Series(dict(durations), dtype="float64")
    if not isinstance(durations, pd.Series):
        err = "durations must be a Series or dict of seconds by video_id"
        raise TypeError(err)
    out = pd.to_numeric(durations, errors="coerce").astype("float64")
    out.index = out.index.astype(str)
    return out.rename("duration").rename_axis("video_id")


def _as_data(source: Any) -> ReportData | None:
    """Frames from a ReportData, a mapping or any object with frame attributes (a World)."""
    if isinstance(source, ReportData):
        return source
    names = {f.name for f in fields(ReportData)}
    if isinstance(source, Mapping):
        unknown = set(source) - names
        if unknown:
            err = f"unknown keys {sorted(unknown)} in source; use some of {sorted(names)}"
            raise ValueError(err)
        return ReportData(**dict(source))
    if hasattr(source, "sessions") and hasattr(source, "videos") and not callable(source.videos):
        # A simulated World, or any object carrying the frames as attributes.
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
        return ReportData(
            videos=source.videos,
            sessions=sessions,
            events=events,
            durations=getattr(source, "durations", None),
            live_streams=getattr(source, "live_streams", None),
            live_sessions=live_sessions,
            chapters=chapters,
            notes=notes,
        )
    return None


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
                notes.append(f"chapters of {video_id} ({language}) not shown: {exc}")
    return out


def _is_client(source: Any) -> bool:
    return all(callable(getattr(source, n, None)) for n in ("videos", "video_sessions", "events"))


def _duration_of(status: Any) -> float:
    """The duration in an ``api.video_status`` answer (dict, Series or one-row frame)."""
    if isinstance(status, pd.DataFrame):
        status = status.iloc[0] if len(status) else pd.Series(dtype=object)
    if isinstance(status, pd.Series):
        status = status.to_dict()
    if isinstance(status, Mapping):
        for key in ("duration", "encoding_metadata_duration"):
            if key in status and status[key] is not None:
                return float(status[key])
        try:
            return float(status["encoding"]["metadata"]["duration"])
        except (KeyError, TypeError, ValueError):
            return math.nan
    if isinstance(status, int | float):
        return float(status)
    return math.nan


@fill
def load_frames(
    api: Any,
    *,
    videos: Sequence[str] | str | None = None,
    period: str | None = None,
    live: bool = True,
) -> ReportData:
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
    ReportData
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

    def attempt(what: str, call: Callable[[], Any]) -> Any:
        # One missing piece (a 404 on a legacy endpoint, a live stream without analytics)
        # must not cost the whole report: say what is missing and go on.
        try:
            return call()
        except APIError as exc:
            if isinstance(exc, AuthError):
                raise
            notes.append(f"{what}: not loaded ({exc})")
            return None

    durations = {}
    for vid in ids:
        status = attempt(f"duration of {vid}", partial(api.video_status, vid))
        durations[vid] = math.nan if status is None else _duration_of(status)
    parts = [
        attempt(f"sessions of {vid}", partial(api.video_sessions, vid, period=period))
        for vid in ids
    ]
    parts = [p for p in parts if p is not None and len(p)]
    sessions = pd.concat(parts, ignore_index=True) if parts else None
    events = None
    if sessions is not None:
        events = attempt("events of the video sessions", lambda: api.events(sessions))
    live_streams = live_sessions = None
    if live and callable(getattr(api, "live_streams", None)):
        streams = attempt("live streams", api.live_streams)
        if streams is not None:
            # Only the id and the name: a live stream also holds its stream key, a secret.
            live_streams = streams[[c for c in ("live_stream_id", "name") if c in streams]]
            lparts = [
                attempt(
                    f"sessions of live stream {lid}",
                    partial(api.live_stream_sessions, lid, period=period),
                )
                for lid in live_streams["live_stream_id"].astype(str)
            ]
            lparts = [p for p in lparts if p is not None and len(p)]
            live_sessions = pd.concat(lparts, ignore_index=True) if lparts else None
    return ReportData(
        videos=frame,
        sessions=sessions,
        events=events,
        durations=durations,
        live_streams=live_streams,
        live_sessions=live_sessions,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------
# Computation: only calls to the public functions
# ---------------------------------------------------------------------------------------


def auto_bin_size(duration: float, *, max_bins: int = 100) -> float:
    """A round bin width (1, 2, 5, 10, 15, 30 s ...) giving at most ``max_bins`` bins."""
    if not np.isfinite(duration) or duration <= 0:
        return 1.0
    for step in _BIN_STEPS:
        if duration / step <= max_bins:
            return step
    return float(math.ceil(duration / max_bins))


def _segments_of(data: ReportData) -> pd.DataFrame:
    from .segments import segments as make_segments

    if data.segments is not None:
        segs = data.segments
    elif data.events is not None and len(data.events):
        known = data.durations if len(data.durations) else None
        segs = make_segments(data.events, duration=known, sessions=data.sessions)
    else:
        from ._schema import SEGMENT_COLUMNS, empty_frame

        segs = empty_frame(SEGMENT_COLUMNS)
    if "video_id" not in segs.columns and data.sessions is not None and len(data.sessions):
        owner = data.sessions.set_index("session_id")["video_id"]
        owner = owner[~owner.index.duplicated()]
        segs = segs.assign(video_id=segs["session_id"].astype(str).map(owner).to_numpy())
    return segs


def _attrs_notes(what: str, attrs: Mapping[str, Any]) -> list[str]:
    """What a frame's ``attrs`` say was dropped or estimated, as short lines.

    Settings (``options``) and zero counts are left out; frames and series in attrs too.
    """
    lines = []
    for key, value in (attrs or {}).items():
        if key == "options" or isinstance(value, pd.DataFrame | pd.Series):
            continue
        if isinstance(value, Mapping):
            parts = [
                f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in value.items() if v
            ]
            if parts:
                lines.append(f"{what}: {key.replace('_', ' ')}: {', '.join(parts)}")
        elif isinstance(value, bool | np.bool_):
            continue
        elif isinstance(value, int | np.integer) and value:
            lines.append(f"{what}: {key.replace('_', ' ')} = {int(value):,}")
    return lines


def _video_segments(segs: pd.DataFrame, videos: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Segments of videos only: live sessions' segments (no ``video_id``) are counted out.

    Frames that never say which video they belong to are taken as one video: the only one
    in ``videos`` if there is exactly one, else a video called ``"all"``.
    """
    if "video_id" not in segs.columns:
        if len(segs) and len(videos) <= 1:
            vid = str(videos["video_id"].iloc[0]) if len(videos) else "all"
            notes.append(f"no video_id in the frames: every segment is taken as video {vid}.")
            return segs.assign(video_id=vid)
        if len(segs):
            notes.append("segments have no video_id and no sessions map them to videos.")
        return segs.iloc[0:0].assign(video_id=pd.Series([], dtype="str"))
    missing = segs["video_id"].isna()
    if missing.any():
        notes.append(
            f"{int(missing.sum()):,} watched segments of sessions without a video "
            "(live streams, or sessions not given) are not in the video sections."
        )
        segs = segs[~missing]
    return segs.assign(video_id=segs["video_id"].astype(str))


def _duration_for(data: ReportData, video_id: str, segs: pd.DataFrame) -> tuple[float, bool]:
    d = data.durations.get(video_id, math.nan)
    if d is not None and np.isfinite(d) and d > 0:
        return float(d), False
    furthest = float(segs["end"].max()) if len(segs) else math.nan
    return (furthest if np.isfinite(furthest) and furthest > 0 else 1.0), True


# ---------------------------------------------------------------------------------------
# HTML pieces
# ---------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Text for HTML: ``html.escape`` with quotes, missing values as an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _png(fig: Figure, dpi: int) -> str:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Titles in scripts DejaVu lacks (CJK ...) show as boxes in the PNG; the HTML text
        # around each chart has them right, so the warning is noise here.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        # No "Software" metadata: the same data gives the same bytes.
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(
    plot: Callable[..., Any],
    frame: pd.DataFrame,
    *,
    size: tuple[float, float],
    dpi: int,
    alt: str,
    caption: str = "",
    **kwargs: Any,
) -> str:
    """``plot(frame, ax=..., **kwargs)`` drawn on its own Figure, as an ``<img>`` data URI."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    plot(frame, ax=ax, **kwargs)
    uri = _png(fig, dpi)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{esc(alt)}" src="{uri}">{cap}</figure>'


def _cell(value: Any, column: str) -> tuple[str, bool]:
    """A table cell's escaped text and whether it is numeric (right-aligned)."""
    if isinstance(value, Mapping):
        return esc(", ".join(f"{k}={v}" for k, v in value.items())), False
    if isinstance(value, list | tuple | np.ndarray):
        return esc(", ".join(_short(v) for v in value)), False
    if isinstance(value, bool | np.bool_):
        return esc(str(bool(value))), False
    if isinstance(value, int | np.integer):
        return f"{int(value):,}", True
    if isinstance(value, float | np.floating):
        v = float(value)
        if not np.isfinite(v):
            return "", True
        low = column.lower()
        if any(h in low for h in ("completion", "rate", "retention", "share")) and 0 <= v <= 1:
            return f"{v:.1%}", True
        if "time" in low and "seconds" not in low and v >= 60:
            return _hms(v), True
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}", True
    if isinstance(value, pd.Timedelta):
        return esc(_hms(value.total_seconds())), True
    if isinstance(value, pd.Timestamp):
        return esc(value.strftime("%Y-%m-%d %H:%M")), False
    if value is None or value is pd.NA or value is pd.NaT:
        return "", False
    return esc(value), False


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple | list) and all(isinstance(x, int | float) for x in v):
        return "–".join(f"{x:g}" for x in v)
    return str(v)


def _hms(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _table(frame: pd.DataFrame, *, index: bool = True, max_rows: int = 50) -> str:
    """An HTML table of ``frame`` with every header and cell escaped."""
    shown = frame.head(max_rows)
    cols = [str(c) for c in shown.columns]
    head = ""
    if index:
        names = [n for n in (shown.index.names or [None])]
        head = "".join(f"<th>{esc(n if n is not None else '')}</th>" for n in names)
    head += "".join(f"<th>{esc(c.replace('_', ' '))}</th>" for c in cols)
    body = []
    for key, row in zip(shown.index, shown.itertuples(index=False)):
        cells = []
        if index:
            keys = key if isinstance(key, tuple) else (key,)
            cells += [f"<th>{esc(k)}</th>" for k in keys]
        for col, value in zip(cols, row):
            text, num = _cell(value, col)
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > max_rows:
        more = f'<p class="note">First {max_rows} of {len(frame):,} rows.</p>'
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def _tile(value: str, label: str) -> str:
    return (
        f'<div class="tile"><div class="value">{esc(value)}</div>'
        f'<div class="label">{esc(label)}</div></div>'
    )


def _chips(values: Iterable[Any]) -> str:
    return "".join(f'<span class="chip">{esc(v)}</span>' for v in values)


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def render_html(
    data: ReportData,
    *,
    title: str = "Video analytics report",
    period: str | None = None,
    bin_size: float | None = None,
    cohort: str | None = "device_type",
    max_videos: int = 10,
    dpi: int = 90,
) -> str:
    """The report for ``data`` as one HTML string (see :func:`report`)."""
    from .concurrency import concurrency
    from .engagement import engagement
    from .plotting import plot_concurrency, plot_engagement, plot_heatmap, plot_retention
    from .retention import heatmap, retention

    notes = list(data.notes)
    sessions = data.sessions
    segs = _video_segments(_segments_of(data), data.videos, notes)
    notes.extend(_attrs_notes("segments", segs.attrs))
    videos = data.videos
    unlisted = sorted(set(segs["video_id"]) - set(videos["video_id"].astype(str)))
    if unlisted:
        # Videos watched but not listed (no videos frame, or a partial one): named by id.
        extra = pd.DataFrame({"video_id": unlisted, "title": unlisted})
        videos = pd.concat([videos, extra], ignore_index=True)

    seg_counts = segs.groupby("video_id", observed=True).size() if len(segs) else pd.Series()
    sess_counts = (
        sessions.groupby("video_id").size()
        if sessions is not None and len(sessions)
        else pd.Series(dtype="int64")
    )
    order = (
        videos.assign(_n=videos["video_id"].map(sess_counts).fillna(0))
        .sort_values("_n", ascending=False, kind="stable")
        .drop(columns="_n")
    )
    shown = order.head(max_videos)
    if len(order) > len(shown):
        notes.append(
            f"{len(order) - len(shown)} of {len(order)} videos have no section "
            f"(max_videos={max_videos}; the ones with fewest sessions); all are in the table."
        )

    # Summary tiles.
    n_sessions = 0 if sessions is None else len(sessions)
    viewers = segs["session_id"].nunique() if len(segs) else 0
    hours = float((segs["end"] - segs["start"]).sum()) / 3600 if len(segs) else 0.0
    tiles = [
        _tile(f"{len(videos):,}", "videos"),
        _tile(f"{n_sessions:,}", "video sessions"),
        _tile(f"{viewers:,}", "sessions that played"),
        _tile(f"{hours:,.1f} h", "watched"),
    ]

    # Engagement per video.
    eng_html = ""
    durations = data.durations
    if len(segs):
        known = {
            vid: _duration_for(data, vid, segs[segs["video_id"] == vid])[0]
            for vid in videos["video_id"].astype(str)
        }
        durations = pd.Series(known, dtype="float64").rename_axis("video_id")
        eng = engagement(segs, duration=durations, sessions=sessions, events=data.events)
        titles = videos.set_index("video_id")["title"]
        titles = titles[~titles.index.duplicated()]
        if "title" not in eng.columns and eng.index.name == "video_id":
            eng.insert(0, "title", eng.index.map(titles))
        metric = next(
            (c for c in ("avg_share_watched", "completion_rate", "completion") if c in eng.columns),
            None,
        )
        if metric is None:
            metric = next((c for c in eng.columns if pd.api.types.is_numeric_dtype(eng[c])), None)
        fig_html = ""
        if metric is not None and len(eng):
            height = 1.2 + 0.32 * min(len(eng), 25)
            fig_html = _figure(
                plot_engagement,
                eng.head(25),
                metric=metric,
                size=(8.0, height),
                dpi=dpi,
                alt=f"{metric} per video",
            )
        eng_html = (
            f'<section class="card"><h3>Engagement per video</h3>{fig_html}{_table(eng)}</section>'
        )

    # Per-video sections.
    video_html = []
    for _, video in shown.iterrows():
        vid = str(video["video_id"])
        vsegs = segs[segs["video_id"] == vid] if len(segs) else segs
        duration, guessed = _duration_for(data, vid, vsegs)
        if guessed:
            notes.append(f"video {vid}: no duration known; used the furthest position watched.")
        width = bin_size or auto_bin_size(duration)
        chips = ""
        tags = video.get("tags")
        if isinstance(tags, list | tuple | np.ndarray) and len(tags):
            chips += _chips(tags)
        meta = video.get("metadata")
        if isinstance(meta, Mapping) and meta:
            chips += _chips(f"{k}: {v}" for k, v in meta.items())
        n_sess = int(sess_counts.get(vid, 0))
        n_segs = int(seg_counts.get(vid, 0)) if len(seg_counts) else 0
        head = (
            f"<h3>{esc(video.get('title'))}</h3>"
            f'<div class="meta">{esc(vid)} · {_hms(duration)} · {n_sess:,} sessions · '
            f"{n_segs:,} watched segments · bins of {width:g} s</div>"
        )
        if chips:
            head += f"<div>{chips}</div>"
        if not n_segs:
            video_html.append(
                f'<section class="card">{head}<p class="note">Nobody watched this video '
                "in the period.</p></section>"
            )
            continue
        curve = retention(vsegs, duration=duration, bin_size=width)
        hm = heatmap(vsegs, duration=duration, bin_size=width)
        chapters = data.chapters.get(vid)
        ret_fig = _figure(
            plot_retention,
            curve,
            chapters=chapters,
            size=(6.4, 3.4),
            dpi=dpi,
            alt=f"retention of {video.get('title')}",
            caption="Share of viewers at each moment; dashed: passes including rewatches.",
        )
        hm_fig = _figure(
            plot_heatmap,
            hm,
            max_sessions=200,
            size=(6.4, 3.4),
            dpi=dpi,
            alt=f"heatmap of {video.get('title')}",
            caption="One row per session: grey skipped, green watched, orange/red rewatched.",
        )
        video_html.append(
            f'<section class="card">{head}<div class="figs">{ret_fig}{hm_fig}</div></section>'
        )

    # Cohort comparison on the most watched video.
    cohort_html = ""
    if cohort and len(segs) and len(shown) and sessions is not None and len(sessions):
        top = str(shown.iloc[0]["video_id"])
        vsegs = segs[segs["video_id"] == top]
        duration, _ = _duration_for(data, top, vsegs)
        width = bin_size or auto_bin_size(duration, max_bins=60)
        # This video's sessions and events only: engagement reports every video found in
        # the events (impressions), and a single duration applies to one video.
        vsess = sessions[sessions["video_id"].astype(str) == top]
        vevents = data.events
        if vevents is not None:
            ids = set(vsess["session_id"].astype(str))
            vevents = vevents[vevents["session_id"].astype(str).isin(ids)]
        try:
            curves = retention(vsegs, duration=duration, bin_size=width, by=cohort, sessions=vsess)
            by_eng = engagement(vsegs, by=cohort, duration=duration, sessions=vsess, events=vevents)
            if isinstance(by_eng.index, pd.MultiIndex) and by_eng.index.nlevels > 1:
                # One video: its id is in the heading, not on every row.
                by_eng = by_eng.droplevel(0)
        except (KeyError, ValueError) as exc:
            notes.append(f"no cohort comparison by {cohort!r}: {exc}")
        else:
            fig = _figure(
                plot_retention,
                curves,
                rewatch=False,
                size=(8.0, 3.6),
                dpi=dpi,
                alt=f"retention by {cohort}",
            )
            cohort_html = (
                f"<h2>Cohorts: {esc(cohort)}</h2>"
                f'<section class="card"><h3>{esc(shown.iloc[0].get("title"))}</h3>'
                f'<div class="meta">{esc(top)}</div>{fig}{_table(by_eng)}</section>'
            )

    # Audience: where sessions came from (referrers and countries are viewer-controlled text).
    audience_html = ""
    if sessions is not None and len(sessions):
        blocks = []
        for column, label in (("referrer_url", "Top referrers"), ("location_country", "Countries")):
            if column in sessions.columns:
                counts = sessions[column].astype(object).fillna("(none)").value_counts()
                frame = counts.head(10).rename("sessions").rename_axis(label.lower()).to_frame()
                frame["share"] = frame["sessions"] / len(sessions)
                blocks.append(f"<div><h3>{esc(label)}</h3>{_table(frame)}</div>")
        if blocks:
            audience_html = (
                f'<h2>Audience</h2><section class="card"><div class="figs">{"".join(blocks)}'
                "</div></section>"
            )

    # Live streams.
    live_html = ""
    live = data.live_sessions
    if live is not None and len(live):
        names = {}
        if isinstance(data.live_streams, pd.DataFrame) and len(data.live_streams):
            names = dict(
                zip(data.live_streams["live_stream_id"].astype(str), data.live_streams["name"])
            )
        parts = []
        peak_all = 0
        for lid, lsess in live.groupby("live_stream_id", sort=True):
            curve = concurrency(lsess, freq="1min")
            peak = curve.attrs.get("peak")
            peak_n = (
                float(peak)
                if isinstance(peak, int | float)
                else float(curve["viewers"].max() if len(curve) else 0)
            )
            peak_all = max(peak_all, int(peak_n))
            caption = ""
            if len(curve) > 6 * 60:
                # Minutes over weeks are unreadable: show the six hours around the peak.
                at = curve["viewers"].idxmax()
                window = pd.Timedelta(hours=3)
                curve = curve[(curve.index >= at - window) & (curve.index < at + window)]
                caption = "The six hours around the peak, minute by minute."
            name = names.get(str(lid), str(lid))
            fig = _figure(
                plot_concurrency,
                curve,
                size=(8.0, 3.0),
                dpi=dpi,
                alt=f"concurrent viewers of {name}",
                caption=caption,
            )
            parts.append(
                f'<section class="card"><h3>{esc(name)}</h3><div class="meta">{esc(lid)} · '
                f"{len(lsess):,} sessions · peak {peak_n:,.0f} concurrent viewers</div>{fig}"
                "</section>"
            )
        tiles.append(_tile(f"{peak_all:,}", "peak live viewers"))
        live_html = "<h2>Live streams</h2>" + "".join(parts)

    notes_html = ""
    if notes:
        items = "".join(f"<li>{esc(n)}</li>" for n in notes)
        notes_html = f'<h2>Data notes</h2><section class="card"><ul>{items}</ul></section>'

    css = resources.files("apivideo_insights").joinpath("templates/report.css").read_text("utf-8")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"Generated {stamp}" + (f" · period {period}" if period else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>
{css}</style>
</head>
<body>
<main>
<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>
<div class="tiles">{"".join(tiles)}</div>
<h2>Videos</h2>
{eng_html}
{"".join(video_html)}
{cohort_html}
{audience_html}
{live_html}
{notes_html}
<footer>Made with apivideo_insights. This file is self-contained: it loads nothing and runs
no script.</footer>
</main>
</body>
</html>
"""


@fill
def report(
    source: Any,
    path: str | os.PathLike[str],
    *,
    videos: Sequence[str] | str | None = None,
    period: str | None = None,
    bin_size: float | None = None,
    title: str = "Video analytics report",
    cohort: str | None = "device_type",
    live: bool = True,
    max_videos: int = 10,
    dpi: int = 90,
) -> Path:
    """Write one self-contained HTML report and return its path.

    The file holds summary tiles, an engagement table and chart, one section per video
    (retention curve with rewatches, per-session heatmap), a cohort comparison of the most
    watched video, and concurrent viewers of each live stream. It loads nothing (inline
    CSS, ``data:`` PNG images, no script; a Content-Security-Policy forbids the rest) and
    escapes every user-controlled text.

    Parameters
    ----------
    source : Client, ReportData, dict or World
        Where the data comes from: a connected :class:`~apivideo_insights.Client` (loads
        videos, durations, sessions, events and live sessions, see :func:`load_frames`);
        frames already loaded, as a :class:`ReportData` or a dict of its fields
        (``videos``, ``sessions``, ``events`` or ``segments``, ``durations``,
        ``live_streams``, ``live_sessions``, ``chapters``); or a simulated
        :class:`~apivideo_insights.sandbox.World`.
    path : str or PathLike
        The HTML file to write (parent folders are created).
    videos : str or list of str, optional
        Only these video ids.
    {params[period]}
    bin_size : float, optional
        Bin width in seconds for retention and heatmaps; default: a round width giving at
        most 100 bins per video.
    title : str
        The report's title.
    cohort : str or None, default "device_type"
        Session column (or ``"metadata.<key>"``) to compare cohorts by; ``None`` for none.
    live : bool, default True
        Include live streams.
    max_videos : int, default 10
        Sections for at most this many videos (those with most sessions); the engagement
        table lists all.
    dpi : int, default 90
        Resolution of the charts.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import apivideo_insights as avi                            # doctest: +SKIP
    >>> world = avi.sandbox.simulate(seed=0)                       # doctest: +SKIP
    >>> avi.report(world, "report.html")                           # doctest: +SKIP
    PosixPath('report.html')
    """
    if bin_size is not None and not (isinstance(bin_size, int | float) and bin_size > 0):
        err = f"bin_size must be a positive number of seconds or None, not {bin_size!r}"
        raise ValueError(err)
    if not isinstance(max_videos, int) or max_videos < 1:
        err = f"max_videos must be a positive integer, not {max_videos!r}"
        raise ValueError(err)
    if isinstance(path, str | os.PathLike):
        out = Path(path)
    else:
        err = f"path must be a file path (str or Path), not {type(path).__name__}"
        raise TypeError(err)
    wanted = [videos] if isinstance(videos, str) else (list(videos) if videos else None)

    data = _as_data(source)
    if data is None:
        if not _is_client(source):
            err = (
                "source must be a Client (avi.connect(...)), a ReportData, a dict of frames "
                f"or a simulated World, not {type(source).__name__}"
            )
            raise TypeError(err)
        data = load_frames(source, videos=wanted, period=period, live=live)
    elif wanted is not None:
        data = _select(data, wanted)
    if not live:
        data.live_sessions = None

    page = render_html(
        data,
        title=title,
        period=period,
        bin_size=bin_size,
        cohort=cohort,
        max_videos=max_videos,
        dpi=dpi,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def _select(data: ReportData, wanted: list[str]) -> ReportData:
    ids = set(data.videos["video_id"].astype(str))
    unknown = sorted(set(wanted) - ids)
    if unknown:
        err = f"no video with id {unknown[0]!r} in the frames given"
        raise ValueError(err)
    keep = data.videos["video_id"].astype(str).isin(wanted)
    sessions = data.sessions
    if sessions is not None:
        sessions = sessions[sessions["video_id"].astype(str).isin(wanted)]
    session_ids = set() if sessions is None else set(sessions["session_id"].astype(str))

    def only(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        return frame[frame["session_id"].astype(str).isin(session_ids)]

    return ReportData(
        videos=data.videos[keep],
        sessions=sessions,
        events=only(data.events),
        segments=only(data.segments),
        durations=data.durations,
        live_streams=data.live_streams,
        live_sessions=data.live_sessions,
        chapters=data.chapters,
        notes=list(data.notes),
    )


# ---------------------------------------------------------------------------------------
# avi report
# ---------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="avi report",
        description=(
            "Write one self-contained HTML report. The API key is read from "
            "$APIVIDEO_API_KEY (never from the command line). With no key and no base URL, "
            "a local sandbox is started and reported on."
        ),
    )
    p.add_argument("--out", default="report.html", help="HTML file to write (report.html)")
    p.add_argument("--base-url", default=None, help="API base URL (default $APIVIDEO_BASE_URL)")
    p.add_argument(
        "--sandbox-local",
        action="store_true",
        help="report on a local simulated sandbox (ignores the key and base URL)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the local sandbox's world")
    p.add_argument("--period", default=None, help="analytics period, e.g. 2024-01-01/2024-01-31")
    p.add_argument(
        "--video", action="append", default=None, metavar="ID", help="only this video (repeatable)"
    )
    p.add_argument("--bin-size", type=float, default=None, help="bin width in seconds")
    p.add_argument("--title", default="Video analytics report")
    p.add_argument(
        "--cohort",
        default="device_type",
        help="session column to compare cohorts by ('none' for none)",
    )
    p.add_argument("--max-videos", type=int, default=10)
    p.add_argument("--no-live", action="store_true", help="leave live streams out")
    p.add_argument("--no-cache", action="store_true", help="do not use the HTTP cache")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``avi report``: write a report from api.video, a sandbox, or a local simulated one."""
    from .client import connect
    from .sandbox import serve, simulate

    args = _parser().parse_args(argv)
    key = os.environ.get("APIVIDEO_API_KEY") or None
    base_url = args.base_url or os.environ.get("APIVIDEO_BASE_URL") or None
    local = args.sandbox_local or (key is None and base_url is None)
    options: dict[str, Any] = {
        "videos": args.video,
        "period": args.period,
        "bin_size": args.bin_size,
        "title": args.title,
        "cohort": None if args.cohort.lower() == "none" else args.cohort,
        "live": not args.no_live,
        "max_videos": args.max_videos,
    }
    cache: Any = None if args.no_cache or local else ...
    try:
        if local:
            print("No API key or base URL: reporting on a local sandbox.", file=sys.stderr)
            with serve(simulate(seed=args.seed)) as sb:
                api = connect(sb.api_key, base_url=sb.base_url, cache=None, progress=args.progress)
                path = report(api, args.out, **options)
        else:
            kwargs: dict[str, Any] = {"base_url": base_url, "progress": args.progress}
            if cache is None:
                kwargs["cache"] = None
            api = connect(key, **kwargs)
            path = report(api, args.out, **options)
    except (ValueError, TypeError) as exc:
        print(f"avi report: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from .exceptions import InsightsError

        if isinstance(exc, InsightsError):
            print(f"avi report: {exc}", file=sys.stderr)
            return 1
        raise
    print(path)
    return 0
