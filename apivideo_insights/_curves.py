"""Retention curves as step lines: one per curve with its rewatch band, one per cohort of a
``by=`` curve, the small cohorts grouped into one "other" line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ._labels import plain
from ._palette import COHORT_COLORS, OTHER_COLOR, PASSES_LABEL

__all__ = ["cohort_legend", "cohort_sizes", "draw_cohorts", "draw_curve", "group_cohorts"]


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
    labels = {c: f"{plain(c)} (n={sizes[c]:,})" for c in keep_in_order}
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


def draw_cohorts(
    ax: Axes,
    curve: pd.DataFrame,
    *,
    rewatch: bool,
    palette: Any,
    max_cohorts: int,
    min_sessions: int,
    **kwargs: Any,
) -> list[tuple[float, tuple[float, float]]]:
    """Draw one curve per cohort of a ``by=`` curve (small ones grouped, see
    :func:`group_cohorts`) and their legend; returns each curve's top and span."""
    level = curve.index.names[0]
    labels_grouped = {"viewers", "views"} <= set(curve.columns)
    if labels_grouped:
        curve, labels = group_cohorts(curve, max_cohorts=max_cohorts, min_sessions=min_sessions)
    else:
        labels = {c: plain(c) for c in dict.fromkeys(curve.index.get_level_values(0))}
    colors = list(palette) if palette is not None else list(COHORT_COLORS)
    extents = []
    for i, (cohort, text) in enumerate(labels.items()):
        part = curve.xs(cohort, level=0)
        if str(cohort).startswith("other (") and palette is None:
            c = OTHER_COLOR
        else:
            c = colors[i % len(colors)]
        extents.append(
            draw_curve(ax, part, rewatch=rewatch, label=text, color=c, cohort=True, **kwargs)
        )
    note = curve.attrs.get("cohorts_not_drawn") if labels_grouped else ""
    cohort_legend(ax, None if level is None else plain(level), note)
    return extents


def cohort_legend(ax: Axes, title: str | None, note: Any) -> None:
    """The cohorts' legend, with ``note`` (cohorts too small to draw) as a last entry."""
    handles, texts = ax.get_legend_handles_labels()
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


def draw_curve(
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
