"""One self-contained HTML report: summary, per-video retention and heatmaps, live viewers.

The report is a single ``.html`` file that needs nothing else: the stylesheet is inline,
every chart is a base64 PNG ``data:`` URI, there is no script, and a Content-Security-Policy
``<meta>`` forbids scripts and remote loads, so opening it makes no request at all. The
page comes from the Jinja2 template ``templates/report.html.j2`` with autoescaping on, so
every text that came from users or viewers (titles, tags, metadata, referrers, cohort
labels, ids) is escaped.

This module is layout only. The frames come from :mod:`apivideo_insights._frames` (the
loading, selecting and per-video slicing the dashboard shares); the numbers come from the
public functions a notebook user calls (:func:`~apivideo_insights.retention`,
:func:`~apivideo_insights.heatmap`, :func:`~apivideo_insights.engagement`,
:func:`~apivideo_insights.concurrency` and the ``plot_*`` functions); small HTML helpers
(the PNG encoder, tables, times) live in :mod:`apivideo_insights._html`.

>>> import apivideo_insights as avi                                   # doctest: +SKIP
>>> with avi.sandbox.serve() as sb:                                   # doctest: +SKIP
...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
...     avi.report(api, "report.html")
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _html
from ._docstrings import fill
from ._durations import by_video
from ._frames import (
    Frames,
    VideoFrames,
    as_frames,
    auto_bin_size,
    is_client,
    load_frames,
    prepare,
    select,
)
from ._html import Chart, Table, seconds_text

__all__ = ["CSP", "ReportData", "auto_bin_size", "load_frames", "render_html", "report"]

#: The policy in every report: no script, nothing fetched except inline styles and data: images.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; "
    "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)

#: The frames a report is built from (the same bundle the dashboard draws).
ReportData = Frames

#: Columns of engagement that only the player events can fill (``ready`` = impressions).
_NEEDS_EVENTS = ("impressions", "play_rate")
#: Columns of engagement the page does not show (see _without_event_columns).
_NOT_SHOWN = ("wall_time",)


@dataclass
class _Section:
    """What one part of the page shows; the template lays it out."""

    table: Table | None = None
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Card:
    video_id: str
    title: str
    meta: list[str]
    chips: list[str]
    message: str = ""
    charts: list[Chart] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------


def _without_event_columns(table: pd.DataFrame, events: pd.DataFrame | None) -> pd.DataFrame:
    """Impressions and play rate are left out, not shown as NaN, when no events were given.

    ``wall_time`` is left out of the page too: beside ``watch_time`` it only differs with the
    playback rate, and the table must fit the page's width.
    """
    table = table.drop(columns=[c for c in _NOT_SHOWN if c in table.columns])
    if events is not None:
        return table
    empty = [c for c in _NEEDS_EVENTS if c in table.columns and table[c].isna().all()]
    return table.drop(columns=empty)


_EVENTS_NOTE = (
    "Impressions and play rate are left out: they count the players that loaded (their "
    "'ready' events), and no player events were given (pass events= to show them)."
)


def _engagement_section(frames: Frames, dpi: int) -> _Section | None:
    from .engagement import engagement
    from .plotting import plot_engagement

    segs = frames.segments
    if segs is None or not len(segs):
        return None
    lengths = _lengths(frames)
    eng = engagement(segs, duration=lengths, sessions=frames.sessions, events=frames.events)
    section = _Section()
    shown = _without_event_columns(eng, frames.events)
    if any(c not in shown.columns for c in _NEEDS_EVENTS if c in eng.columns):
        section.notes.append(_EVENTS_NOTE)
    titles = frames.videos.drop_duplicates("video_id").set_index("video_id")["title"]
    if "title" not in shown.columns and shown.index.name == "video_id":
        shown = shown.copy()
        shown.insert(0, "title", shown.index.map(titles))
    metric = next((c for c in ("avg_share_watched", "completion_rate") if c in eng.columns), None)
    if metric is not None and len(eng):
        section.chart = _html.chart(
            plot_engagement,
            shown.head(25),  # with titles: bars are labelled by them
            metric=metric,
            size=(8.0, 1.2 + 0.32 * min(len(eng), 25)),
            dpi=dpi,
            alt=f"{metric.replace('_', ' ')} per video",
        )
    # Each id small under its title: one column less, so the table fits the page.
    section.table = _html.table(shown.reset_index(), index=False, sub=("title", "video_id"))
    return section


def _lengths(frames: Frames) -> pd.Series:
    """Each watched video's length: its duration, else the furthest position watched."""
    segs = frames.segments
    assert segs is not None
    ids = pd.unique(segs["video_id"].astype(str)) if len(segs) else []
    lengths = by_video(frames.durations, segments=segs, video_ids=ids)
    return lengths.reindex(ids)


def _duration_text(v: VideoFrames) -> str:
    if np.isfinite(v.duration):
        return seconds_text(v.duration)
    if v.duration_source == "furthest watched":
        return f"duration unknown (watched up to {seconds_text(v.length)})"
    return "duration unknown"


def _card(v: VideoFrames, bin_size: float | None, dpi: int, notes: list[str]) -> _Card:
    from .plotting import (
        HEATMAP_COLORS,
        HEATMAP_LABELS,
        PASSES_LABEL,
        plot_heatmap,
        plot_retention,
    )
    from .retention import heatmap, retention

    chips = [str(t) for t in v.tags] + [f"{k}: {val}" for k, val in v.metadata.items()]
    card = _Card(v.video_id, v.title, [_duration_text(v)], chips)
    if not v.loaded:
        card.meta.append("not loaded")
        card.message = "Not loaded: no sessions were given or loaded for this video."
        return card
    card.meta += [f"{v.n_sessions:,} sessions", f"{v.n_segments:,} watched segments"]
    if not v.n_segments:
        card.message = (
            "Nobody watched this video in the period."
            if not v.n_sessions
            else "Its sessions loaded the player, but none of them played the video."
        )
        return card
    if not np.isfinite(v.duration):
        notes.append(
            f"{v.title} ({v.video_id}): no duration known, so its charts end at the furthest "
            f"position anybody watched ({seconds_text(v.length)})."
        )
    length = v.length
    width = bin_size or auto_bin_size(length)
    card.meta.append(f"bins of {seconds_text(width) if width >= 60 else f'{width:g} s'}")
    curve = retention(v.segments, duration=length, bin_size=width)
    card.charts.append(
        _html.chart(
            plot_retention,
            curve,
            chapters=v.chapters,
            size=(6.4, 3.4),
            dpi=dpi,
            alt=f"retention of {v.title}",
            caption="Solid: share of the viewers who played the video that watched each "
            f"moment; dashed: {PASSES_LABEL}.",
        )
    )
    card.charts.append(
        _html.chart(
            plot_heatmap,
            heatmap(v.segments, duration=length, bin_size=width),
            max_sessions=200,
            size=(6.4, 3.4),
            dpi=dpi,
            alt=f"heatmap of {v.title}",
            caption="One row per session:",
            key=list(zip(HEATMAP_COLORS, HEATMAP_LABELS, strict=False)),
        )
    )
    return card


def _not_loaded(videos: pd.DataFrame) -> dict[str, Any] | None:
    """Videos for which no sessions were given: one list, not a card each."""
    if not len(videos):
        return None
    frame = videos[["title", "video_id"]].assign(video_id=videos["video_id"].astype(str))
    return {
        "count": len(frame),
        "table": _html.table(frame, index=False, max_rows=100, sub=("title", "video_id")),
    }


def _cohort_section(
    top: VideoFrames, cohort: str, bin_size: float | None, dpi: int
) -> dict[str, Any]:
    """Retention and engagement of the most watched video, one curve and row per cohort."""
    from .engagement import engagement
    from .plotting import plot_retention
    from .retention import retention

    length = top.length
    width = bin_size or auto_bin_size(length, max_bins=60)
    curves = retention(
        top.segments, duration=length, bin_size=width, by=cohort, sessions=top.sessions
    )
    by = engagement(
        top.segments, by=cohort, duration=length, sessions=top.sessions, events=top.events
    )
    if isinstance(by.index, pd.MultiIndex) and by.index.nlevels > 1:
        by = by.droplevel(0)  # one video: its id is in the heading, not on every row
    shown = _without_event_columns(by, top.events)
    chart = _html.chart(
        plot_retention,
        curves,
        rewatch=False,
        size=(8.0, 3.6),
        dpi=dpi,
        alt=f"retention by {cohort}",
    )
    return {
        "name": cohort,
        "title": top.title,
        "video_id": top.video_id,
        "chart": chart,
        "table": _html.table(shown),
        "notes": [_EVENTS_NOTE]
        if any(c not in shown.columns for c in _NEEDS_EVENTS if c in by.columns)
        else [],
    }


def _audience(sessions: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Where sessions came from (referrers and countries are viewer-controlled text)."""
    if sessions is None or not len(sessions):
        return []
    blocks = []
    for column, label in (("referrer_url", "Top referrers"), ("location_country", "Countries")):
        if column in sessions.columns:
            counts = sessions[column].astype(object).fillna("(none)").value_counts()
            frame = counts.head(10).rename("sessions").rename_axis(label.lower()).to_frame()
            frame["share"] = frame["sessions"] / len(sessions)
            blocks.append({"label": label, "table": _html.table(frame)})
    return blocks


def _live(frames: Frames, dpi: int) -> tuple[list[dict[str, Any]], int]:
    """One chart of concurrent viewers per live stream, and the highest peak."""
    from .concurrency import concurrency
    from .plotting import plot_concurrency

    live = frames.live_sessions
    if live is None or not len(live):
        return [], 0
    names: dict[str, Any] = {}
    if isinstance(frames.live_streams, pd.DataFrame) and len(frames.live_streams):
        streams = frames.live_streams
        names = dict(zip(streams["live_stream_id"].astype(str), streams["name"], strict=False))
    parts, peak_all = [], 0
    for lid, lsess in live.groupby("live_stream_id", sort=True):
        curve = concurrency(lsess, freq="1min")
        peak = curve.attrs.get("peak")
        if not isinstance(peak, int | float):
            peak = float(curve["viewers"].max() if len(curve) else 0)
        peak_all = max(peak_all, int(peak))
        caption = ""
        if len(curve) > 6 * 60:
            # Minutes over weeks are unreadable: show the six hours around the peak.
            at = curve["viewers"].idxmax()
            window = pd.Timedelta(hours=3)
            curve = curve[(curve.index >= at - window) & (curve.index < at + window)]
            caption = "The six hours around the peak, minute by minute."
        name = str(names.get(str(lid), lid))
        parts.append(
            {
                "name": name,
                "live_stream_id": str(lid),
                "sessions": f"{len(lsess):,}",
                "peak": f"{peak:,.0f}",
                "chart": _html.chart(
                    plot_concurrency,
                    curve,
                    size=(8.0, 3.0),
                    dpi=dpi,
                    alt=f"concurrent viewers of {name}",
                    caption=caption,
                ),
            }
        )
    return parts, peak_all


def _counters(attrs: Mapping[str, Any]) -> Table | None:
    """The reconstruction's raw counters (``segments.attrs``), for the curious."""
    rows = []
    for key, value in attrs.items():
        if key.startswith("_") or key == "options" or isinstance(value, pd.DataFrame | pd.Series):
            continue
        if isinstance(value, Mapping):
            rows += [
                (f"{key}: {k}", v) for k, v in value.items() if isinstance(v, int | np.integer)
            ]
        elif isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            rows.append((key, value))
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["counter", "count"]).set_index("counter")
    return _html.table(frame, max_rows=len(frame))


# ---------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------


def render_html(
    data: Frames,
    *,
    title: str = "Video analytics report",
    period: str | None = None,
    bin_size: float | None = None,
    cohort: str | None = "device_type",
    max_videos: int = 10,
    dpi: int = 90,
) -> str:
    """The report for ``data`` as one HTML string (see :func:`report`)."""
    frames = prepare(data)
    segs = frames.segments
    assert segs is not None
    notes = list(frames.notes)
    order = frames.order()
    ids = [str(v) for v in order["video_id"]]
    loaded = [v for v in ids if frames.is_loaded(v)]
    shown = [frames.video(vid) for vid in loaded[:max_videos]]
    if len(loaded) > len(shown):
        notes.append(
            f"{len(loaded) - len(shown)} of {len(loaded)} videos have no section "
            f"(max_videos={max_videos} shows those with most sessions); every watched video "
            "is in the engagement table."
        )
    unloaded = order[~order["video_id"].astype(str).isin(loaded)]
    n_sessions = 0 if frames.sessions is None else len(frames.sessions)
    hours = float((segs["end"] - segs["start"]).sum()) / 3600 if len(segs) else 0.0
    tiles = [
        (f"{len(frames.videos):,}", "videos"),
        (f"{n_sessions:,}", "video sessions"),
        (f"{segs['session_id'].nunique() if len(segs) else 0:,}", "sessions that played"),
        (f"{hours:,.1f} h", "watched"),
    ]
    engagement = _engagement_section(frames, dpi)
    cards = [_card(v, bin_size, dpi, notes) for v in shown]
    cohort_part = None
    watched = [v for v in shown if v.n_segments and v.sessions is not None and len(v.sessions)]
    if cohort and watched:
        try:
            cohort_part = _cohort_section(watched[0], cohort, bin_size, dpi)
        except (KeyError, ValueError) as exc:
            notes.append(f"No cohort comparison by {cohort!r}: {exc}")
    live, peak = _live(frames, dpi)
    if live:
        tiles.append((f"{peak:,}", "peak live viewers"))
    css = resources.files("apivideo_insights").joinpath("templates/report.css").read_text("utf-8")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(
        _html.environment()
        .get_template("report.html.j2")
        .render(
            csp=CSP,
            css=css,
            title=title,
            subtitle=f"Generated {stamp}" + (f" · period {period}" if period else ""),
            tiles=tiles,
            engagement=engagement,
            videos=cards,
            not_loaded=_not_loaded(unloaded),
            cohort=cohort_part,
            audience=_audience(frames.sessions),
            live=live,
            notes=notes,
            counters=_counters(segs.attrs),
        )
    )


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
    escapes every user-controlled text. A video for which no sessions were given says "not
    loaded"; a duration that is not known says "unknown".

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
    if not isinstance(path, str | os.PathLike):
        err = f"path must be a file path (str or Path), not {type(path).__name__}"
        raise TypeError(err)
    out = Path(path)
    wanted = [videos] if isinstance(videos, str) else (list(videos) if videos else None)

    data = as_frames(source)
    if data is None:
        if not is_client(source):
            err = (
                "source must be a Client (avi.connect(...)), a ReportData, a dict of frames "
                f"or a simulated World, not {type(source).__name__}"
            )
            raise TypeError(err)
        data = load_frames(source, videos=wanted, period=period, live=live)
    elif wanted is not None:
        data = select(data, wanted)
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
    # A lone surrogate (text decoded with errors="surrogateescape", say) cannot be encoded:
    # it is written as "?" rather than losing the whole report.
    out.write_text(page, encoding="utf-8", errors="replace")
    return out
