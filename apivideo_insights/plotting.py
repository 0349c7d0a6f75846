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

import glob
from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ._bins import distinct_peaks
from ._docstrings import fill

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

#: Colours of the heatmap's pass counts: skipped, watched once, twice, three times or more
#: (the usual convention of video heatmaps: grey skipped, green watched, warmer = rewatched).
HEATMAP_COLORS: tuple[str, ...] = ("#e4e4e4", "#4c9f70", "#f2a541", "#c8373f")
HEATMAP_LABELS: tuple[str, ...] = ("skipped", "watched", "rewatched (2×)", "rewatched (3×+)")

#: Colours of cohort curves, in order: eleven qualitative colours with no repeats (tab10
#: without its grey, plus indigo and black), so that up to eleven cohorts stay apart; more
#: cohorts than that are grouped into one "other" curve drawn in :data:`OTHER_COLOR`.
COHORT_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#000000",
)
#: Colour of the grouped small cohorts ("other (k cohorts, n sessions)").
OTHER_COLOR = "#8c8c8c"
#: Legend label of the dashed line of :func:`plot_retention` (passes per viewer).
PASSES_LABEL = "views per viewer (rewatches count)"
#: y label of :func:`plot_retention`.
RETENTION_YLABEL = "viewers still watching (%)"
#: Families tried, in order, for every glyph (matplotlib >= 3.6 falls back per glyph):
#: Latin text keeps the default font, CJK titles use Noto Sans CJK (Debian's
#: ``fonts-noto-cjk``) when it is installed.
FONT_FALLBACK: tuple[str, ...] = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK KR",
    "Noto Sans CJK TC",
    "Noto Sans CJK",
    "Droid Sans Fallback",
)

#: Where Linux distributions put Noto Sans CJK (regular weight first).
_CJK_FILES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/*/NotoSansCJK*-Regular.tt[cf]",
    "/usr/share/fonts/*/*/NotoSansCJK*-Regular.tt[cf]",
)

_HEATMAP_ORDERS = ("first_skip", "watched", "start", None)
#: Round steps of media-time ticks, in seconds: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30
#: min, then hours.
_TIME_STEPS: tuple[float, ...] = (
    *(1, 2, 5, 10, 15, 30),
    *(60 * m for m in (1, 2, 5, 10, 15, 30)),
    *(3600 * h for h in (1, 2, 3, 6, 12, 24)),
)


def _use_font_fallback() -> tuple[str, ...]:
    """Append the installed CJK families to ``font.family`` (once), so that titles such as
    "Résumé — 日本語" render instead of boxes; Latin text keeps the user's font."""
    from matplotlib import font_manager, rcParams

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed.intersection(FONT_FALLBACK):
        # matplotlib's font list is cached: a font installed after it was built (Debian's
        # fonts-noto-cjk) is found on disk and added, without rebuilding the whole cache.
        for pattern in _CJK_FILES:
            for path in sorted(glob.glob(pattern))[:4]:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable font: go on without
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
    families = list(rcParams["font.family"])
    extra = [f for f in FONT_FALLBACK if f in installed and f not in families]
    if extra:
        rcParams["font.family"] = families + extra[:1]
    return tuple(extra[:1])


_use_font_fallback()


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


def time_ticks(vmin: float, vmax: float, max_ticks: int = 9) -> np.ndarray:
    """Ticks of a media-time axis on round minutes and seconds (1, 2, 5, 10, 15, 30 s;
    1, 2, 5, 10 min ...): the smallest round step giving at most ``max_ticks`` ticks.

    >>> time_ticks(0, 200).tolist()
    [0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 180.0]
    >>> time_ticks(0, 1500).tolist()[:3]
    [0.0, 300.0, 600.0]
    """
    lo, hi = (float(vmin), float(vmax)) if vmin <= vmax else (float(vmax), float(vmin))
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi == lo:
        return np.array([lo]) if np.isfinite(lo) else np.array([])
    span = hi - lo
    step = next((s for s in _TIME_STEPS if span / s <= max_ticks - 1), None)
    if step is None:  # beyond the table: whole days
        step = 86400.0 * np.ceil(span / 86400.0 / (max_ticks - 1))
    first = np.ceil(lo / step - 1e-9) * step
    return np.arange(first, hi + step * 1e-9, step, dtype=float) + 0.0  # no "-0.0"


class TimeLocator(ticker.Locator):
    """A tick locator for media time in seconds, on round steps (see :func:`time_ticks`);
    pair it with :func:`format_seconds` (``m:ss`` / ``h:mm:ss``)."""

    def __init__(self, max_ticks: int = 9) -> None:
        self.max_ticks = max_ticks

    def __call__(self) -> Any:
        vmin, vmax = self.axis.get_view_interval()  # type: ignore[union-attr]
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        return time_ticks(vmin, vmax, self.max_ticks)


def _time_axis(axis: Any) -> None:
    axis.set_major_locator(TimeLocator())
    axis.set_major_formatter(ticker.FuncFormatter(format_seconds))


def spread_labels(
    xs: Iterable[float], widths: Iterable[float], *, rows: int = 2, gap: float = 0.01
) -> list[tuple[float, int]]:
    """Place labels of the given widths near their x (both in axes fractions, 0 to 1) in
    ``rows`` rows so that no two labels of a row overlap; returns (centre, row) per label,
    in the input order.

    Each label takes the first row where it fits centred on its x; when no row has room it
    goes to the row that frees up first, pushed right just past its neighbour.

    >>> spread_labels([0.5, 0.52, 0.54], [0.1, 0.1, 0.1])
    [(0.5, 0), (0.52, 1), (0.61, 0)]
    """
    xs, widths = list(map(float, xs)), list(map(float, widths))
    ends = [-np.inf] * max(1, rows)  # right edge of the last label in each row
    placed: dict[int, tuple[float, int]] = {}
    for i in sorted(range(len(xs)), key=lambda k: xs[k]):
        half = widths[i] / 2
        centre = min(max(xs[i], half), 1.0 - half)
        row = next((r for r, end in enumerate(ends) if end + gap <= centre - half), None)
        if row is None:
            row = int(np.argmin(ends))
            centre = ends[row] + gap + half
        ends[row] = centre + half
        placed[i] = (round(centre, 6), row)
    return [placed[i] for i in range(len(xs))]


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


def cohort_sizes(curve: pd.DataFrame) -> pd.Series:
    """Sessions behind each cohort of a ``by=`` retention curve (its denominator).

    Read from ``curve.attrs["sessions"]`` (set by :func:`apivideo_insights.retention`), else
    from ``viewers / retention`` of each cohort's bins.
    """
    cohorts = list(dict.fromkeys(curve.index.get_level_values(0)))
    known = curve.attrs.get("sessions")
    if isinstance(known, Mapping) and all(c in known for c in cohorts):
        return pd.Series({c: int(known[c]) for c in cohorts}, dtype="int64")
    sizes = {}
    for c in cohorts:
        part = curve.xs(c, level=0)
        ret = part["retention"].astype(float)
        ok = ret > 0
        if "viewers" in part.columns and ok.any():
            sizes[c] = round(float((part["viewers"][ok] / ret[ok]).max()))
        else:
            sizes[c] = 0
    return pd.Series(sizes, dtype="int64")


def group_cohorts(
    curve: pd.DataFrame, *, max_cohorts: int = len(COHORT_COLORS), min_sessions: int = 5
) -> tuple[pd.DataFrame, dict[Any, str]]:
    """Keep the largest cohorts of a ``by=`` retention curve and merge the rest into one.

    A cohort is kept when it has at least ``min_sessions`` sessions and is among the
    ``max_cohorts - 1`` largest (all ``max_cohorts`` when nothing else would be merged);
    the others become one cohort labelled ``"other (k cohorts, n sessions)"`` whose
    retention is recomputed from their summed viewers and views, or, when they hold fewer
    than ``min_sessions`` sessions even together, are left out and described in
    ``attrs["cohorts_not_drawn"]`` ("not drawn: 1 cohort with 1 session"). Returns the
    curve and the legend label of each cohort ("mobile (n=120)").

    >>> import pandas as pd
    >>> idx = pd.MultiIndex.from_product([["a", "b", "c"], [0.0, 5.0]], names=["k", "position"])
    >>> c = pd.DataFrame({"viewers": [10, 5, 1, 1, 1, 0], "views": [10, 5, 1, 1, 1, 0],
    ...                   "retention": [1, .5, 1, 1, 1, 0], "rewatch": 1.0}, index=idx)
    >>> c.attrs["sessions"] = {"a": 10, "b": 1, "c": 1}
    >>> grouped, labels = group_cohorts(c, min_sessions=2)
    >>> list(labels.values())
    ['a (n=10)', 'other (2 cohorts, 2 sessions)']
    >>> grouped.xs("other (2 cohorts, 2 sessions)")["retention"].tolist()
    [1.0, 0.5]
    """
    sizes = cohort_sizes(curve)
    order = sizes.sort_values(ascending=False, kind="stable")
    big = [c for c, n in order.items() if n >= min_sessions]
    if len(big) == len(order) and len(big) <= max_cohorts:
        keep = big
    else:
        keep = big[: max(max_cohorts - 1, 1)]
    rest = [c for c in sizes.index if c not in keep]
    keep_in_order = [c for c in sizes.index if c in keep]
    labels = {c: f"{_plain(c)} (n={sizes[c]:,})" for c in keep_in_order}
    level = curve.index.names[0]
    parts = [curve[curve.index.get_level_values(0).isin(keep_in_order)]]
    n_rest = int(sizes[rest].sum()) if rest else 0
    if rest and n_rest < min_sessions:
        # Too few sessions even together: a curve of them would run at 100 % then drop to
        # 0 % and look like a finding. Say they exist, do not draw them.
        cohorts = "1 cohort" if len(rest) == 1 else f"{len(rest)} cohorts"
        sessions = "1 session" if n_rest == 1 else f"{n_rest:,} sessions"
        rest_note = f"not drawn: {cohorts} with {sessions}"
        rest = []
    else:
        rest_note = ""
    if rest:
        cohorts = "1 cohort" if len(rest) == 1 else f"{len(rest)} cohorts"
        name = f"other ({cohorts}, {n_rest:,} sessions)"
        merged = curve[curve.index.get_level_values(0).isin(rest)]
        pos_level = curve.index.names[1] or 1
        summed = merged.groupby(level=pos_level, sort=True)[["viewers", "views"]].sum()
        other = pd.DataFrame(
            {
                "viewers": summed["viewers"],
                "views": summed["views"],
                "retention": summed["viewers"] / n_rest if n_rest else np.nan,
                "rewatch": summed["views"] / summed["viewers"].where(summed["viewers"] > 0),
            }
        )
        other.index = pd.MultiIndex.from_product([[name], other.index], names=curve.index.names)
        parts.append(other)
        labels[name] = name
    out = pd.concat(parts)
    out.index.names = [level, *curve.index.names[1:]]
    out.attrs = {**curve.attrs, "cohorts_not_drawn": rest_note}
    return out, labels


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
    ax = _resolve_ax(ax)
    _require_frame(curve, "curve", ["retention"], "avi.retention")
    if rewatch and "rewatch" not in curve.columns:
        err = "curve has no 'rewatch' column: pass rewatch=False or the frame avi.retention returns"
        raise ValueError(err)

    tops: list[float] = []
    spans: list[tuple[float, float]] = []
    if isinstance(curve.index, pd.MultiIndex):
        level = curve.index.names[0]
        labels_grouped = {"viewers", "views"} <= set(curve.columns)
        if labels_grouped:
            curve, labels = group_cohorts(
                curve, max_cohorts=max_cohorts, min_sessions=min_cohort_sessions
            )
        else:
            labels = {c: _plain(c) for c in dict.fromkeys(curve.index.get_level_values(0))}
        colors = list(palette) if palette is not None else list(COHORT_COLORS)
        for i, (cohort, text) in enumerate(labels.items()):
            part = curve.xs(cohort, level=0)
            if str(cohort).startswith("other (") and palette is None:
                c = OTHER_COLOR
            else:
                c = colors[i % len(colors)]
            top, span = _draw_curve(
                ax, part, rewatch=rewatch, label=text, color=c, cohort=True, **kwargs
            )
            tops.append(top)
            spans.append(span)
        title = None if level is None else _plain(level)
        handles, texts = ax.get_legend_handles_labels()
        note = curve.attrs.get("cohorts_not_drawn") if labels_grouped else ""
        if note:  # an entry without a line: the cohorts exist but are too small to draw
            handles.append(Line2D([], [], color="none"))
            texts.append(note)
        if len(texts) > 4:  # a long legend goes beside the Axes, off the curves
            ax.legend(
                handles,
                texts,
                title=title,
                fontsize="small",
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                frameon=False,
                borderaxespad=0.0,
            )
        else:
            ax.legend(handles, texts, title=title, fontsize="small")
    else:
        top, span = _draw_curve(
            ax, curve, rewatch=rewatch, label=label, color=color, cohort=False, **kwargs
        )
        tops.append(top)
        spans.append(span)
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
        _annotate_dropoffs(ax, curve, int(annotate_dropoffs), x0, x1)
    if not isinstance(curve.index, pd.MultiIndex):
        ax.legend(fontsize="small", loc="lower left")
    _mark_chapters(ax, chapters)

    ax.set_xlabel("position in video")
    ax.set_ylabel(RETENTION_YLABEL)
    _time_axis(ax.xaxis)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def _axes_width_points(ax: Axes) -> float:
    fig = ax.get_figure()
    width = fig.get_figwidth() if fig is not None else 6.4  # type: ignore[union-attr]
    return max(float(ax.get_position().width) * float(width) * 72.0, 1.0)


def _annotate_dropoffs(ax: Axes, curve: pd.DataFrame, n: int, x0: float, x1: float) -> None:
    """Label the largest falls in a two-row band at the top of the Axes, never on the curve
    or on each other, each joined to its point on the curve by a thin leader."""
    drops = _dropoffs(curve, n)
    if not len(drops) or x1 <= x0:
        return
    texts = [f"−{d:.0%} at {format_seconds(float(p))}" for p, d in drops.items()]
    fontsize = 8.0
    widths = [len(t) * fontsize * 0.6 / _axes_width_points(ax) for t in texts]
    xs = [(float(p) - x0) / (x1 - x0) for p in drops.index]
    for (position, _drop), text, (centre, row) in zip(
        drops.items(), texts, spread_labels(xs, widths, rows=2)
    ):
        y = float(curve.loc[position, "retention"])
        ax.annotate(
            text,
            xy=(float(position), y),
            xycoords="data",
            xytext=(centre, 0.955 - 0.075 * row),
            textcoords="axes fraction",
            ha="center",
            va="center",
            fontsize=fontsize,
            color="0.2",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.75", "lw": 0.6},
            arrowprops={"arrowstyle": "-", "color": "0.55", "lw": 0.7, "shrinkA": 0},
            annotation_clip=False,
        )


def _mark_chapters(ax: Axes, chapters: Any) -> None:
    """Chapter starts as dotted lines; their titles above the Axes (a top axis of ticks),
    where they cannot cover the curve."""
    marks = _chapter_marks(chapters)
    if not marks:
        return
    for start, _title in marks:
        ax.axvline(start, color="0.6", lw=0.8, ls=":", zorder=0)
    top = ax.secondary_xaxis("top")
    top.set_xticks(
        [s for s, _ in marks],
        labels=[_plain(t if len(t) <= 24 else t[:23] + "…") for _, t in marks],
    )
    top.tick_params(axis="x", labelsize=7, labelcolor="0.3", length=3, color="0.6")
    for text in top.get_xticklabels():
        text.set_rotation(30)
        text.set_horizontalalignment("left")
        text.set_rotation_mode("anchor")


def _draw_curve(
    ax: Axes,
    curve: pd.DataFrame,
    *,
    rewatch: bool,
    label: Any,
    color: Any,
    cohort: bool,
    **kwargs: Any,
) -> tuple[float, tuple[float, float]]:
    """Draw one curve; returns its highest value and the media-time span it covers."""
    x = np.asarray(curve.index, dtype=float)
    y = curve["retention"].to_numpy(dtype=float)
    ratio = curve["rewatch"].fillna(1.0).to_numpy(dtype=float) if rewatch else np.ones_like(y)
    if len(x):
        # Steps are drawn from each bin's start: repeat the last value to close the last bin.
        width = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
        x, y, ratio = np.r_[x, x[-1] + width], np.r_[y, y[-1]], np.r_[ratio, ratio[-1]]
    (line,) = ax.plot(
        x, y, drawstyle="steps-post", label=label or "retention", color=color, **kwargs
    )
    passes = y * ratio
    if rewatch:
        c = line.get_color()
        # One legend entry per cohort: the cohort's dashed line shares its colour.
        passes_label = "_passes" if cohort else PASSES_LABEL
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
    finite = passes[np.isfinite(passes)] if len(passes) else passes
    top = float(finite.max()) if len(finite) else float("nan")
    span = (float(x[0]), float(x[-1])) if len(x) else (0.0, 1.0)
    return top, span


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

    _time_axis(ax.xaxis)
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
            x, y = closed_steps(part.index, part["viewers"].to_numpy(dtype=float))
            ax.plot(
                x,
                y,
                drawstyle="steps-post",
                label=_plain(key),
                color=COHORT_COLORS[i % len(COHORT_COLORS)],
                **kwargs,
            )
        ax.legend(fontsize="small", title=_plain(curve.index.names[0] or ""))
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
        _date_axis(ax.xaxis)
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


def _date_axis(axis: Any) -> None:
    """matplotlib's own date ticks and labels: each tick names its own day or month. The
    offset ConciseDateFormatter would add names the month of the last tick, which for a
    month of days is the next month ("Dec" under November): the x label names the span
    instead (:func:`date_span`)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def date_span(first: Any, last: Any) -> str:
    """The days from ``first`` to ``last`` in words, for a date axis' label.

    >>> import pandas as pd
    >>> date_span(pd.Timestamp("2026-11-01"), pd.Timestamp("2026-11-30 23:00"))
    '1 Nov – 30 Nov 2026'
    >>> date_span(pd.Timestamp("2025-12-28"), pd.Timestamp("2026-01-03"))
    '28 Dec 2025 – 3 Jan 2026'
    >>> date_span(pd.Timestamp("2026-11-30 19:00"), pd.Timestamp("2026-11-30 23:00"))
    '30 Nov 2026'
    """
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    if a.date() == b.date():
        return f"{a.day} {a:%b %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
    return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"


def period_of(index: pd.Index, freq: Any = None) -> Any:
    """How long each row of a regular series lasts: ``freq`` if given, else the index's
    frequency (``pd.infer_freq``), else its median step; ``None`` for fewer than two rows.

    >>> import pandas as pd
    >>> period_of(pd.date_range("2026-11-01", periods=3, freq="D"))
    Timedelta('1 days 00:00:00')
    >>> period_of(pd.Index([0.0, 5.0, 10.0]))
    5.0
    """
    if isinstance(index, pd.DatetimeIndex):
        if freq is not None:
            return pd.Timedelta(pd.tseries.frequencies.to_offset(freq).nanos, unit="ns")
        if index.freq is not None and hasattr(index.freq, "nanos"):
            return pd.Timedelta(index.freq.nanos, unit="ns")
        if len(index) < 2:
            return None
        return pd.Series(index).diff().median()
    if freq is not None:
        return float(freq)
    if len(index) < 2:
        return None
    return float(np.median(np.diff(np.asarray(index, dtype=float))))


def closed_steps(index: Any, values: Any, freq: Any = None) -> tuple[Any, np.ndarray]:
    """x and y of a ``steps-post`` line whose last step is as wide as its period.

    A step plot draws each value from its row's start to the next row's start, so the
    last row (often the busiest, still running) would be zero wide; this repeats the last
    value one period (see :func:`period_of`) later.

    >>> import pandas as pd
    >>> x, y = closed_steps(pd.Index([0.0, 5.0]), [3, 1])
    >>> x.tolist(), y.tolist()
    ([0.0, 5.0, 10.0], [3.0, 1.0, 1.0])
    """
    index = pd.Index(index)
    y = np.asarray(values, dtype=float)
    step = period_of(index, freq)
    if step is None or not len(index):
        return index, y
    end = index[-1] + step
    return index.append(pd.Index([end])), np.r_[y, y[-1:]]


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
    ax = _resolve_ax(ax)
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
        ax.plot(x, y, drawstyle="steps-post", label=_plain(name), color=c, **kwargs)
    if any(not str(n).startswith("_") for n in frame.columns):
        ax.legend(fontsize="small")
    if isinstance(frame.index, pd.DatetimeIndex) and len(frame):
        _date_axis(ax.xaxis)
        zone = " (UTC)" if frame.index.tz is not None else ""
        ax.set_xlabel(f"time{zone}, {date_span(frame.index[0], frame.index[-1])}")
    if len(frame):
        first, last = closed_steps(frame.index, np.zeros(len(frame)), freq)[0][[0, -1]]
        ax.set_xlim(first, last)  # type: ignore[arg-type]
    if ylabel is not None:
        ax.set_ylabel(_plain(ylabel))
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
