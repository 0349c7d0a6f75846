"""An ipywidgets dashboard: pick a video, a period, a bin size, a cohort split and a view.

Thin glue only: every redraw calls the public functions a notebook user would call
(:func:`~apivideo_insights.segments`, :func:`~apivideo_insights.retention`,
:func:`~apivideo_insights.heatmap`, :func:`~apivideo_insights.engagement`, the ``plot_*``
functions) and puts the result in an ``Output`` widget by setting its ``outputs`` (which is
also safe when a loader's worker threads are busy, unlike ``with out:``).

ipywidgets is imported lazily and guarded as seaborn's ``widgets.py`` does: without it,
:func:`dashboard` raises an ImportError that says what to install.

>>> import apivideo_insights as avi                                   # doctest: +SKIP
>>> avi.dashboard(api)                            # through a client  # doctest: +SKIP
>>> avi.dashboard(videos=v, sessions=s, events=e, durations=d)        # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._docstrings import fill

try:  # ipywidgets is optional, like in seaborn.widgets
    import ipywidgets as widgets
except ImportError:  # pragma: no cover - exercised only without ipywidgets
    widgets = None

__all__ = ["BIN_SIZES", "COHORTS", "VIEWS", "Dashboard", "dashboard"]

#: Cohort splits offered besides ``metadata.<key>`` for every key found in sessions.
COHORTS: tuple[str, ...] = ("device_type", "location_country", "referrer_medium", "os_name")
#: Bin sizes offered, in seconds (0 = automatic: a round width giving at most 100 bins).
BIN_SIZES: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0)
VIEWS: tuple[str, ...] = ("retention", "heatmap", "engagement")

_Base: Any = widgets.VBox if widgets is not None else object
#: One video's watched segments, sessions and events.
_Loaded = tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]


def _png_output(fig: Figure) -> dict[str, Any]:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
            "text/plain": "<Figure>",
        },
        "metadata": {},
    }


def _html_output(html_text: str, plain: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"text/html": html_text, "text/plain": plain},
        "metadata": {},
    }


class Dashboard(_Base):  # type: ignore[misc]
    """The widget :func:`dashboard` returns (an ``ipywidgets.VBox``).

    Attributes
    ----------
    video, period, bin_size, cohort, view : ipywidgets controls
        Set their ``value`` (in code or by hand) to redraw.
    out : ipywidgets.Output
        Where the plot or table goes.
    status : ipywidgets.HTML
        What is shown, or what went wrong.
    progress : ipywidgets.IntProgress
        Loading steps through a client (sessions, events, segments).
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
        from .report import _durations, videos_frame

        if api is None and segments is None and events is None:
            err = "dashboard needs a client (avi.connect(...)) or frames: events= or segments="
            raise ValueError(err)
        self.api = api
        if videos is None and api is not None:
            videos = api.videos()
        if videos is None:
            videos = _videos_from(sessions, segments, events)
        self.videos = videos_frame(videos)
        if not len(self.videos):
            err = "no videos to show: pass videos= or frames holding video_id"
            raise ValueError(err)
        self.sessions = sessions
        self.events = events
        self.segments_all = segments
        self.durations = _durations(durations, self.videos)
        self.chapters = dict(chapters or {})
        self._cache: dict[tuple[str, str], _Loaded] = {}
        self.result: pd.DataFrame | None = None
        self._holding = False

        labels = [
            (f"{title} ({vid})", str(vid))
            for vid, title in zip(self.videos["video_id"], self.videos["title"])
        ]
        style = {"description_width": "70px"}
        self.video = widgets.Dropdown(options=labels, description="Video", style=style)
        self.period = widgets.Text(
            value=period or "",
            description="Period",
            placeholder="2024-01-01/2024-01-31" if api is not None else "(frames given)",
            continuous_update=False,
            disabled=api is None,
            style=style,
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
        self.out = widgets.Output()
        super().__init__(
            children=[
                widgets.HBox([self.video, self.period]),
                widgets.HBox([self.bin_size, self.cohort]),
                self.view,
                self.progress,
                self.status,
                self.out,
            ]
        )
        for control in (self.video, self.period, self.bin_size, self.cohort, self.view):
            control.observe(self._on_change, names="value")
        self.redraw()

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

    def _load(self, video_id: str) -> _Loaded:
        """Segments, sessions and events of one video, from the frames or the client."""
        from .segments import segments as make_segments

        period = self.period.value.strip()
        key = (video_id, period if self.api is not None else "")
        if key in self._cache:
            return self._cache[key]
        if self.api is None:
            sessions = self.sessions
            if sessions is not None and "video_id" in sessions.columns:
                sessions = sessions[sessions["video_id"].astype(str) == video_id]
            events = self.events
            if events is not None and "video_id" in events.columns:
                events = events[events["video_id"].astype(str) == video_id]
            elif events is not None and sessions is not None:
                ids = set(sessions["session_id"].astype(str))
                events = events[events["session_id"].astype(str).isin(ids)]
            segs = self.segments_all
            if segs is None:
                self._step(2, "reconstructing watched segments…")
                known = self.durations if len(self.durations) else None
                segs = make_segments(events, duration=known, sessions=sessions)
            segs = _only_video(segs, video_id, sessions)
        else:
            self._step(0, f"loading sessions of {video_id}…")
            sessions = self.api.video_sessions(video_id, period=period or None)
            self._step(1, f"loading events of {len(sessions):,} sessions…")
            events = self.api.events(sessions)
            if video_id not in self.durations.index:
                from .report import _duration_of

                self.durations.loc[video_id] = _duration_of(self.api.video_status(video_id))
            self._step(2, "reconstructing watched segments…")
            duration = self.durations.get(video_id)
            known = duration if duration is not None and np.isfinite(duration) else None
            segs = make_segments(events, duration=known, sessions=sessions)
        self._step(3, "")
        loaded = (segs, sessions, events)
        self._cache[key] = loaded
        if self.api is not None and sessions is not None:
            self._offer_cohorts(sessions)
        return loaded

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

    def _duration(self, video_id: str, segs: pd.DataFrame) -> float:
        d = self.durations.get(video_id, math.nan)
        if d is not None and np.isfinite(d) and d > 0:
            return float(d)
        furthest = float(segs["end"].max()) if len(segs) else math.nan
        return furthest if np.isfinite(furthest) and furthest > 0 else 1.0

    # -- drawing ------------------------------------------------------------------------

    def _on_change(self, _change: Any) -> None:
        if not self._holding:
            self.redraw()

    def redraw(self) -> None:
        """Recompute the current view with the public functions and show it."""
        from .engagement import engagement
        from .plotting import plot_engagement, plot_heatmap, plot_retention
        from .report import _table, auto_bin_size
        from .retention import heatmap, retention

        video_id = str(self.video.value)
        try:
            segs, sessions, events = self._load(video_id)
            duration = self._duration(video_id, segs)
            width = float(self.bin_size.value) or auto_bin_size(duration)
            cohort = None if self.cohort.value == "none" else str(self.cohort.value)
            view = self.view.value
            note = ""
            if not len(segs):
                self.result = None
                self.out.outputs = ()
                self.status.value = "Nobody watched this video in these frames or this period."
                return
            if view == "engagement":
                table = engagement(
                    segs, by=cohort, duration=duration, sessions=sessions, events=events
                )
                self.result = table
                outputs = [_html_output(_table(table), table.to_string())]
                if cohort is not None and "avg_share_watched" in table.columns and len(table):
                    fig = Figure(figsize=(7, 0.9 + 0.35 * len(table)), layout="constrained")
                    plot_engagement(table, ax=fig.add_subplot(), metric="avg_share_watched")
                    outputs.insert(0, _png_output(fig))
                self.out.outputs = tuple(outputs)
            elif view == "heatmap":
                hm = heatmap(segs, duration=duration, bin_size=width)
                self.result = hm
                fig = Figure(figsize=(9, 4.2), layout="constrained")
                plot_heatmap(hm, ax=fig.add_subplot())
                self.out.outputs = (_png_output(fig),)
                if cohort is not None:
                    note = " (the heatmap shows every session; cohorts apply to the other views)"
            else:
                curve = retention(
                    segs, duration=duration, bin_size=width, by=cohort, sessions=sessions
                )
                self.result = curve
                fig = Figure(figsize=(9, 4.2), layout="constrained")
                plot_retention(
                    curve,
                    ax=fig.add_subplot(),
                    rewatch=cohort is None,
                    chapters=self.chapters.get(video_id),
                )
                self.out.outputs = (_png_output(fig),)
            n_sessions = segs["session_id"].nunique()
            self.status.value = html.escape(
                f"{view} of {video_id}: {n_sessions:,} sessions that played, "
                f"{len(segs):,} watched segments, bins of {width:g} s{note}"
            )
        except Exception as exc:  # shown in the widget: a callback's exception is otherwise lost
            self.result = None
            self.out.outputs = ()
            self.progress.layout.visibility = "hidden"
            self.status.value = (
                '<span style="color:#b00020">'
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>"
            )


def _videos_from(*frames: pd.DataFrame | None) -> pd.DataFrame:
    for frame in frames:
        if frame is not None and "video_id" in frame.columns:
            ids = sorted(frame["video_id"].dropna().astype(str).unique())
            return pd.DataFrame({"video_id": ids, "title": ids})
    err = "pass videos= (api.videos()) or frames that have a video_id column"
    raise ValueError(err)


def _only_video(segs: pd.DataFrame, video_id: str, sessions: pd.DataFrame | None) -> pd.DataFrame:
    if "video_id" in segs.columns:
        return segs[segs["video_id"].astype(str) == video_id]
    if sessions is not None:
        ids = set(sessions["session_id"].astype(str))
        return segs[segs["session_id"].astype(str).isin(ids)]
    return segs


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

    Pick a video (shown as "title (id)"), a period (through a client), a bin size, a cohort
    split (none, device, country, referrer medium, OS, or any session metadata key) and a
    view (retention curve, per-session heatmap, engagement table); the plot redraws below.

    Parameters
    ----------
    api : apivideo_insights.Client, optional
        Load videos, sessions, events and durations through this client, one video at a
        time (cached per video and period). Loading steps show in a progress bar.
    {params[frames]}
    chapters : dict, optional
        ``video_id`` -> chapters frame, marked on retention curves.
    period : str, optional
        Initial period (with a client).

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
