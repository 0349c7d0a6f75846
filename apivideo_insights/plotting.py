"""Axes-level plots of the toolkit's frames: retention, heatmap, concurrency, engagement.

Each function follows seaborn's axes-level contract: it takes the frame as its only
positional argument, draws into ``ax`` (default: the current Axes), touches nothing outside
that Axes, and returns it. None of them loads or computes data beyond what drawing needs:
pass them the output of :func:`apivideo_insights.retention`, :func:`~apivideo_insights.heatmap`,
:func:`~apivideo_insights.concurrency` or :func:`~apivideo_insights.engagement`.

>>> import apivideo_insights as avi                                  # doctest: +SKIP
>>> curve = avi.retention(segs, duration=120.0, bin_size=5.0)        # doctest: +SKIP
>>> ax = avi.plot_retention(curve, chapters=avi.read_chapters(vtt))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from ._bins import distinct_peaks
from ._docstrings import fill

__all__ = [
    "HEATMAP_COLORS",
    "HEATMAP_LABELS",
    "format_seconds",
    "plot_concurrency",
    "plot_engagement",
    "plot_heatmap",
    "plot_retention",
]

#: Colours of the heatmap's pass counts: skipped, watched once, twice, three times or more
#: (the usual convention of video heatmaps: grey skipped, green watched, warmer = rewatched).
HEATMAP_COLORS: tuple[str, ...] = ("#e4e4e4", "#4c9f70", "#f2a541", "#c8373f")
HEATMAP_LABELS: tuple[str, ...] = ("skipped", "watched", "rewatched (2×)", "rewatched (3×+)")

_HEATMAP_ORDERS = ("first_skip", "watched", "start", None)


def _plain(text: Any) -> str:
    """User text as matplotlib shows it literally: ``$`` would otherwise start mathtext."""
    return str(text).replace("$", r"\$")


def format_seconds(seconds: float, _pos: Any = None) -> str:
    """Media time as ``m:ss`` (or ``h:mm:ss`` past an hour): ``format_seconds(83) == '1:23'``."""
    if not np.isfinite(seconds):
        return ""
    sign = "-" if seconds < 0 else ""
    total = round(abs(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


def _resolve_ax(ax: Axes | None) -> Axes:
    if ax is None:
        return plt.gca()
    if not isinstance(ax, Axes):
        err = f"ax must be a matplotlib Axes (e.g. from plt.subplots()), not {type(ax).__name__}"
        raise TypeError(err)
    return ax


def _require_frame(data: Any, name: str, columns: Iterable[str], producer: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        err = f"{name} must be a DataFrame from {producer}, not {type(data).__name__}"
        raise TypeError(err)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        err = (
            f"{name} has no column {missing[0]!r}: pass the frame {producer} returns "
            f"(its columns: {list(data.columns)})"
        )
        raise ValueError(err)
    return data


def _chapter_marks(chapters: Any) -> list[tuple[float, str]]:
    """Chapter starts and titles from a chapters frame, a mapping or (start, title) pairs."""
    if chapters is None:
        return []
    pairs: Iterable[Any]
    if isinstance(chapters, pd.DataFrame):
        if "start" not in chapters.columns:
            err = "chapters must have a 'start' column (seconds), as avi.read_chapters returns"
            raise ValueError(err)
        label_col = next((c for c in ("chapter", "title", "name") if c in chapters.columns), None)
        labels = chapters[label_col] if label_col else pd.Series([""] * len(chapters))
        pairs = zip(chapters["start"].tolist(), labels.tolist())
    elif isinstance(chapters, pd.Series):
        pairs = zip(chapters.index.tolist(), chapters.tolist())
    elif isinstance(chapters, Mapping):
        pairs = list(chapters.items())
    else:
        pairs = [tuple(c) for c in chapters]
    marks = []
    for start, label in pairs:
        start = float(start)
        if np.isfinite(start):
            marks.append((start, "" if pd.isna(label) else str(label)))
    return sorted(marks)


def _dropoffs(curve: pd.DataFrame, n: int) -> pd.Series:
    """The ``n`` largest falls in retention from one bin to the next, by bin position,
    each a distinct moment (see :func:`_bins.distinct_peaks`), so that the labels of one
    steep stretch do not pile up on each other."""
    drops = -curve["retention"].astype(float).diff()
    values = drops.fillna(0.0).to_numpy()
    positions = np.asarray(curve.index, dtype=float)
    picked = distinct_peaks(values, positions, values > 0, n)
    return drops.loc[picked]


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
    **kwargs: Any,
) -> Axes:
    """Draw a retention curve: share of viewers at each moment, with rewatches on top.

    The solid line is ``retention`` (viewers of the bin over viewers of the video); with
    ``rewatch=True`` a dashed line shows passes over the bin per viewer of the video
    (``retention * rewatch``, YouTube's "absolute" retention, which can exceed 100%) and
    the band between the two is the share that comes from rewatching.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`apivideo_insights.retention`: indexed by ``position`` (bin start,
        seconds) with ``retention`` and ``rewatch`` columns, or by ``(cohort, position)``
        when computed with ``by=``, in which case each cohort gets its own line.
    {params[ax]}
    rewatch : bool, default True
        Draw the passes-per-viewer line and the rewatch band.
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
        Colours of the cohorts, in order (default: the Axes' colour cycle).
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
    ax = _resolve_ax(ax)
    _require_frame(curve, "curve", ["retention"], "avi.retention")
    if rewatch and "rewatch" not in curve.columns:
        err = "curve has no 'rewatch' column: pass rewatch=False or the frame avi.retention returns"
        raise ValueError(err)

    if isinstance(curve.index, pd.MultiIndex):
        level = curve.index.names[0]
        cohorts = list(dict.fromkeys(curve.index.get_level_values(0)))
        colors = list(palette) if palette is not None else None
        for i, cohort in enumerate(cohorts):
            part = curve.xs(cohort, level=0)
            c = colors[i % len(colors)] if colors else f"C{i % 10}"
            _draw_curve(
                ax, part, rewatch=rewatch, label=_plain(cohort), color=c, cohort=True, **kwargs
            )
        ax.legend(title=None if level is None else _plain(level), fontsize="small")
    else:
        _draw_curve(ax, curve, rewatch=rewatch, label=label, color=color, cohort=False, **kwargs)
        if annotate_dropoffs and len(curve) > 1:
            for position, drop in _dropoffs(curve, int(annotate_dropoffs)).items():
                y = float(curve.loc[position, "retention"])
                ax.annotate(
                    f"−{drop:.0%} at {format_seconds(float(position))}",
                    xy=(float(position), y),
                    xytext=(8, -18),
                    textcoords="offset points",
                    fontsize=8,
                    color="0.25",
                    arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.8},
                )
        ax.legend(fontsize="small")

    for start, title in _chapter_marks(chapters):
        ax.axvline(start, color="0.6", lw=0.8, ls=":", zorder=0)
        if title:
            short = title if len(title) <= 24 else title[:23] + "…"
            ax.text(
                start,
                0.98,
                " " + _plain(short),
                transform=ax.get_xaxis_transform(),
                rotation=90,
                va="top",
                ha="left",
                fontsize=7,
                color="0.35",
                clip_on=True,
            )

    ax.set_xlabel("position in video")
    ax.set_ylabel("viewers")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(format_seconds))
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def _draw_curve(
    ax: Axes,
    curve: pd.DataFrame,
    *,
    rewatch: bool,
    label: Any,
    color: Any,
    cohort: bool,
    **kwargs: Any,
) -> None:
    x = np.asarray(curve.index, dtype=float)
    y = curve["retention"].to_numpy(dtype=float)
    ratio = curve["rewatch"].fillna(1.0).to_numpy(dtype=float) if rewatch else y
    if len(x):
        # Steps are drawn from each bin's start: repeat the last value to close the last bin.
        width = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
        x, y, ratio = np.r_[x, x[-1] + width], np.r_[y, y[-1]], np.r_[ratio, ratio[-1]]
    (line,) = ax.plot(
        x, y, drawstyle="steps-post", label=label or "retention", color=color, **kwargs
    )
    if rewatch:
        passes = y * ratio
        c = line.get_color()
        # One legend entry per cohort: the cohort's dashed line shares its colour.
        passes_label = "_passes" if cohort else "passes incl. rewatches"
        ax.plot(
            x,
            passes,
            drawstyle="steps-post",
            ls="--",
            lw=0.9,
            color=c,
            alpha=0.8,
            label=passes_label,
        )
        ax.fill_between(x, y, passes, step="post", color=c, alpha=0.15, lw=0)


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
    ax = _resolve_ax(ax)
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

    ax.xaxis.set_major_formatter(ticker.FuncFormatter(format_seconds))
    ax.set_xlabel("position in video")
    if len(shown) <= 25:
        ax.set_yticks(np.arange(len(shown)) + 0.5)
        ax.set_yticklabels([_plain(s) for s in heatmap.index[rows]], fontsize=7)
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
    ax = _resolve_ax(ax)
    if isinstance(curve, pd.Series):
        curve = curve.rename("viewers").to_frame()
    _require_frame(curve, "curve", ["viewers"], "avi.concurrency")

    if isinstance(curve.index, pd.MultiIndex):
        for i, (key, part) in enumerate(curve.groupby(level=0, sort=False)):
            part = part.droplevel(0)
            ax.step(
                part.index,
                part["viewers"],
                where="post",
                label=_plain(key),
                color=f"C{i % 10}",
                **kwargs,
            )
        ax.legend(fontsize="small", title=_plain(curve.index.names[0] or ""))
    elif len(curve):
        viewers = curve["viewers"].astype(float)
        (line,) = ax.step(
            curve.index, viewers, where="post", label=label or "viewers", color=color, **kwargs
        )
        ax.fill_between(curve.index, 0, viewers, step="post", color=line.get_color(), alpha=0.2)
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
    locator = ax.xaxis.get_major_locator()
    if len(curve) and pd.api.types.is_datetime64_any_dtype(curve.index.get_level_values(-1)):
        ax.xaxis.set_major_formatter(_concise(locator))
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("concurrent viewers")
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def _concise(locator: Any) -> Any:
    import matplotlib.dates as mdates

    return mdates.ConciseDateFormatter(locator)


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
    ax = _resolve_ax(ax)
    _require_frame(table, "table", [], "avi.engagement")
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
        names = pd.Series([" / ".join(map(str, k)) for k in table.index], index=table.index)
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
        [_plain(n if len(n) <= 40 else n[:39] + "…") for n in frame["name"]], fontsize=8
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
    ax.set_xlabel(_plain(metric.replace("_", " ")))
    ax.margins(x=0.15)
    ax.grid(True, axis="x", alpha=0.3)
    return ax
