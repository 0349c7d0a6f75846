"""Axes-level plots of the toolkit's frames: retention, heatmap, concurrency, engagement.

Each function follows seaborn's axes-level contract: it takes the frame as its only
positional argument, draws into ``ax`` (default: the current Axes), touches nothing outside
that Axes, and returns it. None of them loads or computes data beyond what drawing needs:
pass them the output of :func:`apivideo_insights.retention`, :func:`~apivideo_insights.heatmap`,
:func:`~apivideo_insights.concurrency` or :func:`~apivideo_insights.engagement`.

The public names of the plots live here; the parts behind them are private modules whose
public helpers are re-exported here: the palette and legend words in ``_palette``, retention
step lines and cohort grouping in ``_curves``, time and date axes in ``_ticks``, text
placement in ``_labels``, the CJK font fallback in ``_fonts``, argument checks in ``_axes``.

>>> import apivideo_insights as avi                                  # doctest: +SKIP
>>> curve = avi.retention(segs, duration=120.0, bin_size=5.0)        # doctest: +SKIP
>>> ax = avi.plot_retention(curve, chapters=avi.read_chapters(vtt))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from ._axes import require_frame, resolve_ax
from ._curves import cohort_sizes, draw_cohorts, draw_curve, group_cohorts
from ._docstrings import fill
from ._fonts import FONT_FALLBACK, use_font_fallback
from ._labels import label_dropoffs, mark_chapters, plain, spread_labels
from ._palette import (
    COHORT_COLORS,
    HEATMAP_COLORS,
    HEATMAP_LABELS,
    OTHER_COLOR,
    PASSES_LABEL,
    RETENTION_YLABEL,
)
from ._ticks import (
    TimeLocator,
    closed_steps,
    date_axis,
    date_span,
    format_seconds,
    period_of,
    time_axis,
    time_ticks,
)

__all__ = [
    "COHORT_COLORS",
    "FONT_FALLBACK",
    "HEATMAP_COLORS",
    "HEATMAP_LABELS",
    "OTHER_COLOR",
    "PASSES_LABEL",
    "RETENTION_YLABEL",
    "TimeLocator",
    "closed_steps",
    "cohort_sizes",
    "date_span",
    "format_seconds",
    "group_cohorts",
    "period_of",
    "plot_concurrency",
    "plot_engagement",
    "plot_heatmap",
    "plot_retention",
    "plot_steps",
    "spread_labels",
    "time_ticks",
]

_HEATMAP_ORDERS = ("first_skip", "watched", "start", None)

# Once, on import: every plot of the session then finds the CJK glyphs of its titles.
use_font_fallback()


@fill
def plot_retention(
    curve: pd.DataFrame,
    *,
    ax: Axes | None = None,
    rewatch: bool = True,
    chapters: Any = None,
    annotate_dropoffs: int = 3,
    label: str | None = None,
    color: Any = None,
    palette: Any = None,
    max_cohorts: int = len(COHORT_COLORS),
    min_cohort_sessions: int = 5,
    **kwargs: Any,
) -> Axes:
    """Draw a retention curve: share of viewers still watching at each moment, with rewatches.

    The solid line is ``retention`` (viewers of the bin over viewers of the video); with
    ``rewatch=True`` a dashed line shows views of the bin per viewer of the video
    (``retention * rewatch``, YouTube's "absolute" retention, which exceeds 100% when
    viewers rewatch) and the band between the two is the share that comes from rewatching.
    Drop-off labels sit in a band above the curves, chapter titles above the Axes, and time
    ticks fall on round minutes and seconds.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`apivideo_insights.retention`: indexed by ``position`` (bin start,
        seconds) with ``retention`` and ``rewatch`` columns, or by ``(cohort, position)``
        when computed with ``by=``, in which case each cohort gets its own line, labelled
        with its number of sessions.
    {params[ax]}
    rewatch : bool, default True
        Draw the views-per-viewer line and the rewatch band.
    chapters : DataFrame, mapping or sequence of (start, title), optional
        Chapter starts to mark with vertical lines and their titles
        (e.g. :func:`apivideo_insights.read_chapters`).
    annotate_dropoffs : int, default 3
        Annotate this many of the largest falls in retention (single curves only; 0 for none).
    label : str, optional
        Legend label of a single curve (default ``"retention"``).
    color : matplotlib color, optional
        Colour of a single curve.
    palette : sequence of colors, optional
        Colours of the cohorts, in order (default :data:`COHORT_COLORS`).
    max_cohorts : int, default len(COHORT_COLORS)
        Draw at most this many cohort lines; smaller cohorts are merged into one
        "other (k cohorts, n sessions)" line (see :func:`group_cohorts`).
    min_cohort_sessions : int, default 5
        Cohorts with fewer sessions are merged into "other" (a one-session cohort would run
        at 100 % then drop to 0 %); when "other" itself is that small, it is not drawn and
        the legend says so.
    {params[kwargs]}

    Returns
    -------
    {returns[ax]}

    See Also
    --------
    {see_also[retention]}

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> curve = pd.DataFrame(
    ...     {{"viewers": [10, 8, 5], "views": [10, 9, 5], "retention": [1.0, 0.8, 0.5],
    ...      "rewatch": [1.0, 1.125, 1.0]}},
    ...     index=pd.Index([0.0, 10.0, 20.0], name="position"))
    >>> ax = avi.plot_retention(curve)
    """
    ax = resolve_ax(ax)
    require_frame(curve, "curve", ["retention"], "avi.retention")
    if rewatch and "rewatch" not in curve.columns:
        err = "curve has no 'rewatch' column: pass rewatch=False or the frame avi.retention returns"
        raise ValueError(err)

    if isinstance(curve.index, pd.MultiIndex):
        extents = draw_cohorts(
            ax,
            curve,
            rewatch=rewatch,
            palette=palette,
            max_cohorts=max_cohorts,
            min_sessions=min_cohort_sessions,
            **kwargs,
        )
    else:
        extents = [
            draw_curve(ax, curve, rewatch=rewatch, label=label, color=color, cohort=False, **kwargs)
        ]
    _frame_retention(ax, curve, extents, annotate_dropoffs=annotate_dropoffs, chapters=chapters)
    return ax


def _frame_retention(
    ax: Axes,
    curve: pd.DataFrame,
    extents: list[tuple[float, tuple[float, float]]],
    *,
    annotate_dropoffs: int,
    chapters: Any,
) -> None:
    """Limits, drop-off labels, chapter marks, axis labels and ticks of a retention plot
    whose curves (their tops and spans: ``extents``) are drawn."""
    tops = [t for t, _ in extents]
    spans = [s for _, s in extents]
    x0 = min((s[0] for s in spans), default=0.0)
    x1 = max((s[1] for s in spans), default=1.0)
    if x1 > x0:
        ax.set_xlim(x0, x1)
    top = max([t for t in tops if np.isfinite(t)], default=1.0)
    annotate = (
        bool(annotate_dropoffs) and not isinstance(curve.index, pd.MultiIndex) and len(curve) > 1
    )
    # Headroom: the drop-off labels get a band of their own above the curves.
    ax.set_ylim(0, max(top, 1.0) * (1.32 if annotate else 1.05))
    if annotate:
        label_dropoffs(ax, curve, int(annotate_dropoffs), x0, x1)
    if not isinstance(curve.index, pd.MultiIndex):
        ax.legend(fontsize="small", loc="lower left")
    mark_chapters(ax, chapters)

    ax.set_xlabel("position in video")
    ax.set_ylabel(RETENTION_YLABEL)
    time_axis(ax.xaxis)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.grid(True, axis="y", alpha=0.3)


def _order_sessions(values: np.ndarray, order: str | None) -> np.ndarray:
    if order is None or len(values) == 0:
        return np.arange(len(values))
    watched = values > 0
    n_bins = values.shape[1]
    total = watched.sum(axis=1)
    if order == "watched":
        return np.lexsort((np.arange(len(values)), -total))
    if order == "start":
        first = np.where(watched.any(axis=1), watched.argmax(axis=1), n_bins)
        return np.lexsort((-total, first))
    # first_skip: how far each session got before its first unwatched bin; sessions that
    # skip the opening sort last. Ties: more watched first.
    unwatched = ~watched
    first_gap = np.where(unwatched.any(axis=1), unwatched.argmax(axis=1), n_bins)
    return np.lexsort((-total, -first_gap))


@fill
def plot_heatmap(
    heatmap: pd.DataFrame,
    *,
    ax: Axes | None = None,
    order: str | None = "first_skip",
    max_sessions: int | None = 300,
    legend: bool = True,
    **kwargs: Any,
) -> Axes:
    """Draw one row per session, one cell per bin: skipped, watched, rewatched.

    Parameters
    ----------
    heatmap : pandas.DataFrame
        Output of :func:`apivideo_insights.heatmap`: indexed by ``session_id``, one column
        per bin (labelled by its start in seconds), values the passes over the bin.
    {params[ax]}
    order : {{"first_skip", "watched", "start"}} or None, default "first_skip"
        Row order that makes patterns show: ``"first_skip"`` puts sessions that watched
        longest without a gap on top (a survival staircase, with skippers below);
        ``"watched"`` sorts by bins watched; ``"start"`` by the first bin watched;
        ``None`` keeps the frame's order.
    max_sessions : int or None, default 300
        Draw at most this many rows, evenly spaced through the ordered sessions (the
        y label says how many are shown out of how many). ``None`` draws all.
    legend : bool, default True
        Add a legend of the four colours beside the Axes.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    {returns[ax]}

    See Also
    --------
    {see_also[heatmap]}

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> hm = pd.DataFrame([[1, 1, 0], [1, 2, 1]], columns=[0.0, 10.0, 20.0],
    ...                   index=pd.Index(["ps1", "ps2"], name="session_id"))
    >>> ax = avi.plot_heatmap(hm)
    """
    ax = resolve_ax(ax)
    if not isinstance(heatmap, pd.DataFrame):
        err = f"heatmap must be the DataFrame avi.heatmap returns, not {type(heatmap).__name__}"
        raise TypeError(err)
    if order not in _HEATMAP_ORDERS:
        err = f"order must be one of {_HEATMAP_ORDERS}, not {order!r}"
        raise ValueError(err)
    if max_sessions is not None and max_sessions < 1:
        err = f"max_sessions must be a positive number of rows or None, not {max_sessions!r}"
        raise ValueError(err)

    values = heatmap.to_numpy(dtype=float, na_value=0.0)
    positions = pd.to_numeric(pd.Index(heatmap.columns), errors="coerce").to_numpy(dtype=float)
    if len(positions) and np.isnan(positions).any():
        err = "heatmap columns must be bin starts in seconds, as avi.heatmap returns"
        raise ValueError(err)
    rows = _order_sessions(values, order)
    n_total = len(rows)
    if max_sessions is not None and n_total > max_sessions:
        rows = rows[np.linspace(0, n_total - 1, max_sessions).round().astype(int)]
    shown = values[rows] if n_total else np.zeros((0, len(positions)))

    width = float(np.median(np.diff(positions))) if len(positions) > 1 else 1.0
    x0 = float(positions[0]) if len(positions) else 0.0
    x1 = float(positions[-1]) + width if len(positions) else 1.0
    cmap = mcolors.ListedColormap(list(HEATMAP_COLORS))
    norm = mcolors.BoundaryNorm([-0.5, 0.5, 1.5, 2.5, np.inf], cmap.N)
    image_kws: dict[str, Any] = {
        "aspect": "auto",
        "interpolation": "nearest",
        "cmap": cmap,
        "norm": norm,
    }
    image_kws.update(kwargs)
    if len(shown):
        ax.imshow(np.clip(shown, 0, 3), extent=(x0, x1, len(shown), 0), **image_kws)
    ax.set_xlim(x0, x1)
    ax.set_ylim(max(len(shown), 1), 0)

    time_axis(ax.xaxis)
    ax.set_xlabel("position in video")
    if len(shown) <= 25:
        ax.set_yticks(np.arange(len(shown)) + 0.5)
        ax.set_yticklabels([plain(s) for s in heatmap.index[rows]], fontsize=7)
    else:
        ax.set_yticks([])
    ylabel = "sessions" if len(shown) == n_total else f"sessions ({len(shown)} of {n_total:,})"
    ax.set_ylabel(ylabel)
    if legend:
        handles = [
            Patch(facecolor=c, edgecolor="0.6", label=lab)
            for c, lab in zip(HEATMAP_COLORS, HEATMAP_LABELS)
        ]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize="small",
            frameon=False,
            borderaxespad=0.0,
        )
    return ax


@fill
def plot_concurrency(
    curve: pd.DataFrame,
    *,
    ax: Axes | None = None,
    annotate_peak: bool = True,
    average: bool = True,
    label: str | None = None,
    color: Any = None,
    **kwargs: Any,
) -> Axes:
    """Draw concurrent live viewers over time, with the peak and the average marked.

    Parameters
    ----------
    curve : pandas.DataFrame or pandas.Series
        Output of :func:`apivideo_insights.concurrency`: indexed by ``time`` (UTC) with a
        ``viewers`` column. With a ``(stream, time)`` MultiIndex, one line per stream.
    {params[ax]}
    annotate_peak : bool, default True
        Mark and label the peak (single curves only).
    average : bool, default True
        Draw the mean of the ``viewers`` drawn as a dashed horizontal line (single curves
        only).
    label : str, optional
        Legend label of a single curve.
    color : matplotlib color, optional
        Colour of a single curve.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.step`.

    Returns
    -------
    {returns[ax]}

    See Also
    --------
    {see_also[concurrency]}

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> t = pd.date_range("2024-01-01 20:00", periods=4, freq="1min", tz="UTC", name="time")
    >>> ax = avi.plot_concurrency(pd.DataFrame({{"viewers": [1, 4, 3, 0]}}, index=t))
    """
    ax = resolve_ax(ax)
    if isinstance(curve, pd.Series):
        curve = curve.rename("viewers").to_frame()
    require_frame(curve, "curve", ["viewers"], "avi.concurrency")

    if isinstance(curve.index, pd.MultiIndex):
        for i, (key, part) in enumerate(curve.groupby(level=0, sort=False)):
            part = part.droplevel(0)
            x, y = closed_steps(part.index, part["viewers"].to_numpy(dtype=float))
            ax.plot(
                x,
                y,
                drawstyle="steps-post",
                label=plain(key),
                color=COHORT_COLORS[i % len(COHORT_COLORS)],
                **kwargs,
            )
        ax.legend(fontsize="small", title=plain(curve.index.names[0] or ""))
    elif len(curve):
        viewers = curve["viewers"].astype(float)
        # The last minute is drawn as wide as the others, not as a line at the right edge.
        x, y = closed_steps(curve.index, viewers.to_numpy())
        (line,) = ax.plot(
            x, y, drawstyle="steps-post", label=label or "viewers", color=color, **kwargs
        )
        ax.fill_between(x, 0, y, step="post", color=line.get_color(), alpha=0.2)
        if average:
            # The mean of what is drawn: attrs["average"] would describe the whole curve even
            # after the caller sliced a window out of it.
            avg = float(viewers.mean())
            ax.axhline(avg, ls="--", lw=0.9, color="0.4", label=f"average {avg:,.1f}")
        if annotate_peak:
            when = viewers.idxmax()
            peak = float(viewers.max())
            ax.plot([when], [peak], "o", color=line.get_color(), ms=4)
            # Label on the side with room: right of a peak in the first half, else left.
            span = curve.index[-1] - curve.index[0]
            late = len(curve) > 1 and (when - curve.index[0]) > span * 0.5
            ax.annotate(
                f"peak {peak:,.0f} at {pd.Timestamp(when):%H:%M}",
                xy=(when, peak),  # type: ignore[arg-type]
                xytext=(-6 if late else 6, 4),
                textcoords="offset points",
                ha="right" if late else "left",
                fontsize=8,
            )
        ax.legend(fontsize="small", loc="upper right")
    times = curve.index.get_level_values(-1)
    if len(curve) and pd.api.types.is_datetime64_any_dtype(times):
        date_axis(ax.xaxis)
        ax.set_xlabel(f"time (UTC), {date_span(times.min(), times.max())}")
    else:
        ax.set_xlabel("time (UTC)")
    ax.set_ylabel("concurrent viewers")
    ax.set_ylim(bottom=0)
    if annotate_peak and not isinstance(curve.index, pd.MultiIndex) and len(curve):
        # Room above the peak for its label, which would otherwise sit on the frame.
        ax.set_ylim(top=max(float(curve["viewers"].max()) * 1.15, ax.get_ylim()[1]))
    ax.grid(True, axis="y", alpha=0.3)
    return ax


@fill
def plot_steps(
    data: pd.Series | pd.DataFrame,
    *,
    ax: Axes | None = None,
    freq: Any = None,
    label: str | None = None,
    color: Any = None,
    palette: Any = None,
    ylabel: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw counts per period (plays per hour, daily peaks) as steps, each period drawn as
    wide as it lasts, the last one included, on a date axis that names each tick's day.

    Parameters
    ----------
    data : pandas.Series or pandas.DataFrame
        Values indexed by period start (a DatetimeIndex, or numbers); a DataFrame draws one
        line per numeric column, labelled by the column.
    {params[ax]}
    freq : str or pandas offset, optional
        Length of each period (``"1h"``, ``"1D"``); default: inferred from the index.
    label : str, optional
        Legend label of a Series (default its name; no legend without one).
    color : matplotlib color, optional
        Colour of a Series' line.
    palette : sequence of colors, optional
        Colours of a DataFrame's lines (default :data:`COHORT_COLORS`).
    ylabel : str, optional
        Label of the y axis.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    {returns[ax]}

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> t = pd.date_range("2026-11-01", periods=4, freq="h", tz="UTC")
    >>> ax = avi.plot_steps(pd.Series([3, 5, 2, 8], index=t), ylabel="plays per hour")
    >>> bool(ax.get_lines()[0].get_xdata()[-1] == t[-1] + pd.Timedelta("1h"))
    True
    """
    ax = resolve_ax(ax)
    if isinstance(data, pd.Series):
        frame = data.to_frame(name=label or data.name or "_value")
        colors = [color]
    elif isinstance(data, pd.DataFrame):
        frame = data.select_dtypes("number")
        colors = list(palette) if palette is not None else list(COHORT_COLORS)
    else:
        err = (
            f"data must be a pandas Series or DataFrame indexed by time, not {type(data).__name__}"
        )
        raise TypeError(err)
    if isinstance(frame.index, pd.MultiIndex):
        err = "data must have one index level (period starts): unstack other levels into columns"
        raise ValueError(err)
    frame = frame.sort_index()
    for i, (name, column) in enumerate(frame.items()):
        x, y = closed_steps(frame.index, column.to_numpy(dtype=float), freq)
        c = colors[i % len(colors)] if colors else None
        ax.plot(x, y, drawstyle="steps-post", label=plain(name), color=c, **kwargs)
    if any(not str(n).startswith("_") for n in frame.columns):
        ax.legend(fontsize="small")
    if isinstance(frame.index, pd.DatetimeIndex) and len(frame):
        date_axis(ax.xaxis)
        zone = " (UTC)" if frame.index.tz is not None else ""
        ax.set_xlabel(f"time{zone}, {date_span(frame.index[0], frame.index[-1])}")
    if len(frame):
        first, last = closed_steps(frame.index, np.zeros(len(frame)), freq)[0][[0, -1]]
        ax.set_xlim(first, last)  # type: ignore[arg-type]
    if ylabel is not None:
        ax.set_ylabel(plain(ylabel))
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", alpha=0.3)
    return ax


_PERCENT_HINTS = ("completion", "rate", "retention", "share", "ratio", "percent")


@fill
def plot_engagement(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    metric: str = "avg_share_watched",
    labels: str | None = None,
    sort: bool = True,
    percent: bool | None = None,
    color: Any = None,
    **kwargs: Any,
) -> Axes:
    """Draw one metric of an engagement table as horizontal bars, one per video or cohort.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`apivideo_insights.engagement` (one row per video or cohort).
    {params[ax]}
    metric : str, default "avg_share_watched"
        The numeric column to draw (``completion_rate``, ``views``, ``watch_time`` ...).
    labels : str, optional
        Column holding the bar labels (e.g. ``"title"``); default: a ``title`` column if the
        table has one, else the index.
    sort : bool, default True
        Largest bar on top.
    percent : bool, optional
        Format values as percentages; default: when the metric's name says it is a share
        (completion, rate, retention, ratio) and every value lies in [0, 1].
    color : matplotlib color, optional
        Bar colour.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    {returns[ax]}

    See Also
    --------
    {see_also[engagement]}

    Examples
    --------
    >>> import pandas as pd, apivideo_insights as avi
    >>> t = pd.DataFrame({{"views": [12, 30], "completion_rate": [0.4, 0.7]}},
    ...                  index=pd.Index(["viA", "viB"], name="video_id"))
    >>> ax = avi.plot_engagement(t, metric="completion_rate")
    """
    ax = resolve_ax(ax)
    require_frame(table, "table", [], "avi.engagement")
    if metric not in table.columns or not pd.api.types.is_numeric_dtype(table[metric]):
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
        err = f"metric must be one of the table's numeric columns {numeric}, not {metric!r}"
        raise ValueError(err)
    if labels is not None and labels not in table.columns:
        err = f"labels must be a column of the table, not {labels!r}"
        raise ValueError(err)
    label_col = labels or ("title" if "title" in table.columns else None)
    if label_col:
        names = table[label_col]
    elif isinstance(table.index, pd.MultiIndex):
        # Levels with one value (the video of a by= table) would repeat in every label.
        varying = [
            i for i in range(table.index.nlevels) if table.index.get_level_values(i).nunique() > 1
        ] or [table.index.nlevels - 1]
        names = pd.Series(
            [" / ".join(str(k[i]) for i in varying) for k in table.index], index=table.index
        )
    else:
        names = pd.Series(table.index.to_numpy(), index=table.index)
    values = table[metric].astype(float)
    frame = pd.DataFrame({"name": names.astype(str).to_numpy(), "value": values.to_numpy()})
    if sort:
        frame = frame.sort_values("value", ascending=True, kind="stable")
    if percent is None:
        finite = frame["value"].dropna()
        percent = any(h in metric.lower() for h in _PERCENT_HINTS) and bool(
            ((finite >= 0) & (finite <= 1)).all()
        )
    y = np.arange(len(frame))
    bars = ax.barh(y, frame["value"].fillna(0.0), color=color or "C0", **kwargs)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [plain(n if len(n) <= 40 else n[:39] + "…") for n in frame["name"]], fontsize=8
    )
    fmt = "{:.0%}" if percent else "{:,.3g}"
    ax.bar_label(
        bars,
        labels=[fmt.format(v) if np.isfinite(v) else "n/a" for v in frame["value"]],
        padding=3,
        fontsize=8,
    )
    if percent:
        ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.set_xlabel(plain(metric.replace("_", " ")))
    ax.margins(x=0.15)
    ax.grid(True, axis="x", alpha=0.3)
    return ax
