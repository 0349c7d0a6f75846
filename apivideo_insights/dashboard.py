"""An ipywidgets dashboard: pick a video, a period, a bin size, a cohort split and a view.

Widgets only. The frames come from :mod:`apivideo_insights._frames` (the one place that
turns a client or frames into one video's frames, as the report uses too), and each view is
drawn by :func:`draw_view`, a pure function of one video's frames and the controls' values
that calls the public functions a notebook user would call
(:func:`~apivideo_insights.retention`, :func:`~apivideo_insights.heatmap`,
:func:`~apivideo_insights.engagement`, the ``plot_*`` functions). The widget's callbacks
only read the controls, call it, and put its outputs in an ``Output`` widget by setting its
``outputs`` (which is also safe when a loader's worker threads are busy, unlike ``with
out:``).

ipywidgets is imported lazily and guarded as seaborn's ``widgets.py`` does: without it,
:func:`dashboard` raises an ImportError that says what to install.

>>> import apivideo_insights as avi                                   # doctest: +SKIP
>>> avi.dashboard(api)                            # through a client  # doctest: +SKIP
>>> avi.dashboard(videos=v, sessions=s, events=e, durations=d)        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import _frames, _html
from ._docstrings import fill

try:  # ipywidgets is optional, like in seaborn.widgets
    import ipywidgets as widgets
except ImportError:  # pragma: no cover - exercised only without ipywidgets
    widgets = None

__all__ = [
    "BIN_SIZES",
    "COHORTS",
    "VIEWS",
    "Dashboard",
    "View",
    "dashboard",
    "draw_view",
    "error_output",
    "period_hint",
]

#: Cohort splits offered besides ``metadata.<key>`` for every key found in sessions.
COHORTS: tuple[str, ...] = ("device_type", "location_country", "referrer_medium", "os_name")
#: Bin sizes offered, in seconds (0 = automatic: a round width giving at most 100 bins).
BIN_SIZES: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0)
VIEWS: tuple[str, ...] = ("retention", "heatmap", "engagement")

_Base: Any = widgets.VBox if widgets is not None else object
#: Output area width the figures are drawn for (JupyterLab's default output is ~1000 px).
_FIG_WIDTH = 9.0


# -- outputs (Jupyter display_data dicts) ----------------------------------------------


def _png_output(fig: Figure) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"image/png": _html.png_base64(fig, dpi=90), "text/plain": "<Figure>"},
        "metadata": {},
    }


def _html_output(html_text: str, plain: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"text/html": html_text, "text/plain": plain},
        "metadata": {},
    }


def _loading_output(text: str) -> dict[str, Any]:
    # Replaces the previous chart at once, so that it never stands for the next video.
    style = "color:#555;padding:1em 0;min-height:4em"
    body = f'<div class="avi-loading" style="{style}"><i>{html.escape(text)}</i></div>'
    return _html_output(body, text)


def error_output(exc: BaseException) -> dict[str, Any]:
    """An exception as one readable box (no traceback): what went wrong and its message.

    >>> out = error_output(ValueError("bad <b>input</b>"))
    >>> "bad &lt;b&gt;input&lt;/b&gt;" in out["data"]["text/html"]
    True
    """
    name = type(exc).__name__
    message = str(exc) or name
    body = (
        '<div class="avi-error" role="alert" style="border-left:4px solid #b00020;'
        'background:#fdecee;color:#5f0010;padding:.6em .9em;margin:.4em 0;white-space:pre-wrap">'
        f"<b>{html.escape(name)}</b>: {html.escape(message)}</div>"
    )
    return _html_output(body, f"{name}: {message}")


def _table_output(table: pd.DataFrame) -> dict[str, Any]:
    # A scrolling box: a wide table must not run past the output area and clip its columns.
    inner = _html.table_html(_without_constant_levels(table))
    body = f'<div class="avi-table" style="overflow-x:auto;max-width:100%">{inner}</div>'
    return _html_output(body, table.to_string())


def _without_constant_levels(table: pd.DataFrame) -> pd.DataFrame:
    """Drop index levels with one value (the video of a by= table): they repeat per row."""
    index = table.index
    if not isinstance(index, pd.MultiIndex) or len(table) < 2:
        return table
    constant = [i for i in range(index.nlevels) if index.get_level_values(i).nunique() <= 1]
    if constant and len(constant) < index.nlevels:
        return table.droplevel(constant)
    return table


def period_hint(today: dt.date | None = None) -> tuple[str, str]:
    """The period box's placeholder and hint: the default (last 30 days) with its dates.

    >>> placeholder, hint = period_hint(dt.date(2026, 12, 1))
    >>> placeholder
    '2026-11-02/2026-12-01'
    >>> hint
    'empty = the last 30 days (2026-11-02/2026-12-01); or e.g. 2026-12, 2026-W49'
    """
    today = today or dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=29)  # the client's default: today and the 29 before
    default = f"{first.isoformat()}/{today.isoformat()}"
    week = f"{today.isocalendar().year}-W{today.isocalendar().week:02d}"
    month = f"{today:%Y-%m}"
    hint = f"empty = the last 30 days ({default}); or e.g. {month}, {week}"
    return default, hint


# -- one view, computed --------------------------------------------------------------------


@dataclass
class View:
    """What :func:`draw_view` returns: the frame behind the view, its outputs and a status."""

    result: pd.DataFrame | None
    outputs: tuple[dict[str, Any], ...]
    status: str


def draw_view(
    video: _frames.VideoFrames,
    *,
    view: str = "retention",
    bin_size: float = 0.0,
    cohort: str | None = None,
) -> View:
    """Compute and draw one view of one video's frames (no widgets involved).

    ``bin_size`` 0 picks a round width giving at most 100 bins; ``cohort`` is a sessions
    column (``device_type``, ``metadata.<key>`` ...) or None.
    """
    from .engagement import engagement
    from .plotting import plot_engagement, plot_heatmap, plot_retention
    from .retention import heatmap, retention

    if view not in VIEWS:
        err = f"view must be one of {VIEWS}, not {view!r}"
        raise ValueError(err)
    segs = video.segments
    if not len(segs):
        why = "no data was loaded for it" if not video.loaded else "nobody watched it"
        text = f"{video.title} ({video.video_id}): {why} in these frames or this period."
        return View(None, (_html_output(f"<p>{html.escape(text)}</p>", text),), html.escape(text))
    duration = video.length
    if not np.isfinite(duration) or duration <= 0:
        duration = 1.0
    width = float(bin_size) or _frames.auto_bin_size(duration)
    note = ""
    if view == "engagement":
        table = engagement(
            segs, by=cohort, duration=duration, sessions=video.sessions, events=video.events
        )
        result: pd.DataFrame = table
        outputs = [_table_output(table)]
        if cohort is not None and "avg_share_watched" in table.columns and len(table):
            fig = Figure(figsize=(7, 0.9 + 0.35 * len(table)), layout="constrained")
            plot_engagement(table, ax=fig.add_subplot(), metric="avg_share_watched")
            outputs.insert(0, _png_output(fig))
    elif view == "heatmap":
        result = heatmap(segs, duration=duration, bin_size=width)
        fig = Figure(figsize=(_FIG_WIDTH, 4.2), layout="constrained")
        plot_heatmap(result, ax=fig.add_subplot())
        outputs = [_png_output(fig)]
        if cohort is not None:
            note = " (the heatmap shows every session; cohorts apply to the other views)"
    else:
        result = retention(
            segs, duration=duration, bin_size=width, by=cohort, sessions=video.sessions
        )
        fig = Figure(figsize=(_FIG_WIDTH, 4.2), layout="constrained")
        plot_retention(
            result, ax=fig.add_subplot(), rewatch=cohort is None, chapters=video.chapters
        )
        outputs = [_png_output(fig)]
    n_sessions = segs["session_id"].nunique()
    status = html.escape(
        f"{view} of {video.video_id}: {n_sessions:,} sessions that played, "
        f"{len(segs):,} watched segments, bins of {width:g} s{note}"
    )
    return View(result, tuple(outputs), status)


# -- the widget ----------------------------------------------------------------------------


class Dashboard(_Base):  # type: ignore[misc]
    """The widget :func:`dashboard` returns (an ``ipywidgets.VBox``).

    Attributes
    ----------
    video, period, bin_size, cohort, view : ipywidgets controls
        Set their ``value`` (in code or by hand) to redraw.
    out : ipywidgets.Output
        Where the plot or table goes (or what went wrong).
    status : ipywidgets.HTML
        What is shown, or what went wrong.
    progress : ipywidgets.IntProgress
        Loading steps through a client (sessions and events, segments).
    result : pandas.DataFrame or None
        The frame behind the current view (retention curve, heatmap or engagement table).
    """

    def __init__(
        self,
        api: Any = None,
        *,
        videos: Any = None,
        sessions: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        segments: pd.DataFrame | None = None,
        durations: Any = None,
        chapters: Mapping[str, pd.DataFrame] | None = None,
        period: str | None = None,
    ) -> None:
        if api is None and segments is None and events is None:
            err = "dashboard needs a client (avi.connect(...)) or frames: events= or segments="
            raise ValueError(err)
        self.api = api
        if api is not None:
            self.frames = _frames.Frames(
                videos=api.videos() if videos is None else videos,
                durations=durations,
                chapters=dict(chapters or {}),
            )
        else:
            self.frames = _frames.Frames.from_arguments(
                videos=videos,
                sessions=sessions,
                events=events,
                segments=segments,
                durations=durations,
                chapters=chapters,
            )
        self.videos = self.frames.videos
        if not len(self.videos):
            err = "no videos to show: pass videos= or frames holding video_id"
            raise ValueError(err)
        self.sessions = sessions
        self._prepared: _frames.Frames | None = None
        self._cache: dict[tuple[str, str], _frames.VideoFrames] = {}
        self.result: pd.DataFrame | None = None
        self._holding = False
        self._build(period)
        self.redraw()

    def _build(self, period: str | None) -> None:
        style = {"description_width": "70px"}
        labels = [
            (f"{title} ({vid})", str(vid))
            for vid, title in zip(self.videos["video_id"], self.videos["title"])
        ]
        # As wide as the output area: long titles must not be cut off.
        self.video = widgets.Dropdown(
            options=labels,
            description="Video",
            style=style,
            layout=widgets.Layout(width="98%", max_width="64em"),
        )
        placeholder, hint = period_hint()
        self.period = widgets.Text(
            value=period or "",
            description="Period",
            placeholder=placeholder if self.api is not None else "(frames given)",
            continuous_update=False,
            disabled=self.api is None,
            style=style,
            layout=widgets.Layout(width="24em"),
        )
        self.period_hint = widgets.HTML(
            f'<span style="color:#666;font-size:90%">{html.escape(hint)}</span>'
            if self.api is not None
            else '<span style="color:#666;font-size:90%">the frames given cover the period</span>'
        )
        self.bin_size = widgets.Dropdown(
            options=[("auto", 0.0)] + [(f"{b:g} s", b) for b in BIN_SIZES[1:]],
            value=0.0,
            description="Bins",
            style=style,
        )
        self.cohort = widgets.Dropdown(
            options=self._cohort_options(), value="none", description="Cohort", style=style
        )
        self.view = widgets.ToggleButtons(options=list(VIEWS), value="retention")
        self.status = widgets.HTML()
        self.progress = widgets.IntProgress(
            value=0, min=0, max=3, description="Loading", layout={"visibility": "hidden"}
        )
        self.out = widgets.Output(layout=widgets.Layout(max_width="100%", overflow="auto"))
        super().__init__(
            children=[
                self.video,
                widgets.HBox([self.period, self.period_hint]),
                widgets.HBox([self.bin_size, self.cohort]),
                self.view,
                self.progress,
                self.status,
                self.out,
            ]
        )
        for control in (self.video, self.period, self.bin_size, self.cohort, self.view):
            control.observe(self._on_change, names="value")

    # -- data ---------------------------------------------------------------------------

    def _cohort_options(self, sessions: pd.DataFrame | None = None) -> list[tuple[str, str]]:
        options = [("none", "none")]
        sessions = self.sessions if sessions is None else sessions
        if sessions is not None or self.api is not None:
            cols = COHORTS if sessions is None else [c for c in COHORTS if c in sessions.columns]
            options += [(c.replace("_", " "), c) for c in cols]
        if sessions is not None and "metadata" in sessions.columns:
            keys: set[str] = set()
            for meta in sessions["metadata"].head(5000):
                if isinstance(meta, Mapping):
                    keys.update(str(k) for k in meta)
            options += [(f"metadata: {k}", f"metadata.{k}") for k in sorted(keys)]
        return options

    def _step(self, n: int, text: str) -> None:
        self.progress.value = n
        self.progress.layout.visibility = "visible" if n < self.progress.max else "hidden"
        self.status.value = f"<i>{html.escape(text)}</i>"

    def _load(self, video_id: str) -> _frames.VideoFrames:
        """One video's frames, from the frames given or through the client (cached)."""
        period = self.period.value.strip()
        key = (video_id, period if self.api is not None else "")
        if key in self._cache:
            return self._cache[key]
        if self.api is None:
            if self._prepared is None:
                self._step(2, "reconstructing watched segments…")
                self._prepared = _frames.prepare(self.frames)
            video = self._prepared.video(video_id)
        else:
            self._step(0, f"loading sessions and events of {video_id}…")
            known = self.frames.durations.get(video_id)
            title = self.videos.loc[self.videos["video_id"].astype(str) == video_id, "title"]
            video = _frames.load_video(
                self.api,
                video_id,
                period=period or None,
                duration=None if known is None or not np.isfinite(known) else float(known),
                title=str(title.iloc[0]) if len(title) else None,
            )
            if video.chapters is None and video_id in self.frames.chapters:
                video.chapters = self.frames.chapters[video_id]
            if math.isfinite(video.duration):
                self.frames.durations.loc[video_id] = video.duration
        self._step(3, "")
        self._cache[key] = video
        if self.api is not None and video.sessions is not None:
            self._offer_cohorts(video.sessions)
        return video

    def _offer_cohorts(self, sessions: pd.DataFrame) -> None:
        """Add the metadata keys of sessions loaded through the client to the cohort list."""
        options = self._cohort_options(sessions)
        current = list(self.cohort.options)
        merged = current + [o for o in options if o not in current]
        if merged != current:
            self._holding = True  # changing options must not trigger a redraw of its own
            try:
                value = self.cohort.value
                self.cohort.options = merged
                self.cohort.value = value
            finally:
                self._holding = False

    # -- drawing ------------------------------------------------------------------------

    def _on_change(self, _change: Any) -> None:
        if not self._holding:
            self.redraw()

    def redraw(self) -> None:
        """Recompute the current view (:func:`draw_view`) and show it."""
        video_id = str(self.video.value)
        self.out.outputs = (_loading_output(f"loading {video_id}…"),)
        try:
            video = self._load(video_id)
            cohort = None if self.cohort.value == "none" else str(self.cohort.value)
            shown = draw_view(
                video, view=self.view.value, bin_size=float(self.bin_size.value), cohort=cohort
            )
        except Exception as exc:  # shown in the widget: a callback's exception is otherwise lost
            self.result = None
            self.out.outputs = (error_output(exc),)
            self.progress.layout.visibility = "hidden"
            self.status.value = (
                '<span style="color:#b00020">'
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>"
            )
            return
        self.result = shown.result
        self.out.outputs = shown.outputs
        self.status.value = shown.status


@fill
def dashboard(
    api: Any = None,
    *,
    videos: Any = None,
    sessions: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    durations: Any = None,
    chapters: Mapping[str, pd.DataFrame] | None = None,
    period: str | None = None,
) -> Dashboard:
    """An interactive dashboard (an ``ipywidgets.VBox``) of retention, heatmaps and engagement.

    Pick a video (shown as "title (id)"), a period (through a client; empty means the last
    30 days), a bin size, a cohort split (none, device, country, referrer medium, OS, or
    any session metadata key) and a view (retention curve, per-session heatmap, engagement
    table); the plot redraws below. Errors (a stopped sandbox, a bad period) are shown in
    the widget, not raised.

    Parameters
    ----------
    api : apivideo_insights.Client, optional
        Load videos, sessions, events and durations through this client, one video at a
        time (cached per video and period). Loading steps show in a progress bar.
    {params[frames]}
    chapters : dict, optional
        ``video_id`` -> chapters frame, marked on retention curves.
    period : str, optional
        Initial period (with a client); default the last 30 days.

    Returns
    -------
    Dashboard
        The widget; display it as the last expression of a cell.

    Examples
    --------
    >>> import apivideo_insights as avi                                  # doctest: +SKIP
    >>> world = avi.sandbox.simulate(seed=0)                             # doctest: +SKIP
    >>> ui = avi.dashboard(videos=world.videos, sessions=world.sessions,
    ...                    events=world.events, durations=world.durations)  # doctest: +SKIP
    >>> ui.view.value = "heatmap"                                        # doctest: +SKIP
    """
    if widgets is None:  # pragma: no cover
        err = "avi.dashboard requires ipywidgets, which is not installed (pip install ipywidgets)"
        raise ImportError(err)
    return Dashboard(
        api,
        videos=videos,
        sessions=sessions,
        events=events,
        segments=segments,
        durations=durations,
        chapters=chapters,
        period=period,
    )
