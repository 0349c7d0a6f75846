"""Text on the plots, placed where it covers neither the curves nor each other: drop-off
labels in a band above the curves, chapter titles above the Axes, user text shown literally."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._bins import distinct_peaks
from ._ticks import format_seconds

__all__ = [
    "chapter_marks",
    "dropoffs",
    "label_dropoffs",
    "mark_chapters",
    "plain",
    "spread_labels",
]


def plain(text: Any) -> str:
    """User text as matplotlib shows it literally: ``$`` would otherwise start mathtext."""
    return str(text).replace("$", r"\$")


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


def chapter_marks(chapters: Any) -> list[tuple[float, str]]:
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


def dropoffs(curve: pd.DataFrame, n: int) -> pd.Series:
    """The ``n`` largest falls in retention from one bin to the next, by bin position,
    each a distinct moment (see :func:`_bins.distinct_peaks`), so that the labels of one
    steep stretch do not pile up on each other."""
    drops = -curve["retention"].astype(float).diff()
    values = drops.fillna(0.0).to_numpy()
    positions = np.asarray(curve.index, dtype=float)
    picked = distinct_peaks(values, positions, values > 0, n)
    return drops.loc[picked]


def _axes_width_points(ax: Axes) -> float:
    fig = ax.get_figure()
    width = fig.get_figwidth() if fig is not None else 6.4  # type: ignore[union-attr]
    return max(float(ax.get_position().width) * float(width) * 72.0, 1.0)


def label_dropoffs(ax: Axes, curve: pd.DataFrame, n: int, x0: float, x1: float) -> None:
    """Label the largest falls in a two-row band at the top of the Axes, never on the curve
    or on each other, each joined to its point on the curve by a thin leader."""
    drops = dropoffs(curve, n)
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


def mark_chapters(ax: Axes, chapters: Any) -> None:
    """Chapter starts as dotted lines; their titles above the Axes (a top axis of ticks),
    where they cannot cover the curve."""
    marks = chapter_marks(chapters)
    if not marks:
        return
    for start, _title in marks:
        ax.axvline(start, color="0.6", lw=0.8, ls=":", zorder=0)
    top = ax.secondary_xaxis("top")
    top.set_xticks(
        [s for s, _ in marks],
        labels=[plain(t if len(t) <= 24 else t[:23] + "…") for _, t in marks],
    )
    top.tick_params(axis="x", labelsize=7, labelcolor="0.3", length=3, color="0.6")
    for text in top.get_xticklabels():
        text.set_rotation(30)
        text.set_horizontalalignment("left")
        text.set_rotation_mode("anchor")
