"""Small HTML helpers for display: the one PNG encoder, figures, tables, times, templates.

Every page is rendered by Jinja2 from ``apivideo_insights/templates/`` with autoescaping
on, so that any text put into a template (titles, tags, metadata, referrers, cohort
labels, ids) is escaped; nothing here builds HTML from strings except through a template.

>>> t = table(pd.DataFrame({"video_id": ["vi<1>"], "duration": [83.0]}), index=False)
>>> [c.text for c in t.rows[0]]
['vi<1>', '1:23']
>>> "vi&lt;1&gt;" in table_html(pd.DataFrame({"video_id": ["vi<1>"]}))
True
>>> seconds_text(float("nan")), seconds_text(3725)
('unknown', '1:02:05')
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "Cell",
    "Chart",
    "Table",
    "cell",
    "chart",
    "data_uri",
    "environment",
    "png",
    "png_base64",
    "seconds_text",
    "table",
    "table_html",
]

#: Columns whose values are moments of the media (lists of them, or one), shown as m:ss.
_MOMENTS = ("drop_offs", "skip_zones", "rewatch_hot_spots", "duration", "position")
#: Columns holding ids: monospace, never wrapped, full value in the title attribute.
_IDS = ("video_id", "session_id", "live_stream_id")
_SHARES = ("completion", "rate", "retention", "share")


@cache
def environment() -> Any:
    """The Jinja2 environment of the package's templates (autoescape on, strict names)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("apivideo_insights", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def png(fig: Figure, *, dpi: int = 90) -> bytes:
    """``fig`` as PNG bytes (tight bounding box, no "Software" metadata: same data, same
    bytes)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # A glyph missing from every installed font shows as a box in the PNG; the HTML
        # text around each chart has it right, so the warning is noise here.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def png_base64(fig: Figure, *, dpi: int = 90) -> str:
    """``fig`` as base64 PNG text (what a Jupyter ``image/png`` output holds)."""
    return base64.b64encode(png(fig, dpi=dpi)).decode("ascii")


def data_uri(fig: Figure, *, dpi: int = 90) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI (what a self-contained page embeds)."""
    return "data:image/png;base64," + png_base64(fig, dpi=dpi)


@dataclass
class Chart:
    """A chart ready for a template: its data URI, alt text, caption and colour key."""

    src: str
    alt: str
    caption: str = ""
    #: ``(colour, label)`` pairs drawn as swatches after the caption.
    key: list[tuple[str, str]] = field(default_factory=list)


def chart(
    plot: Callable[..., Any],
    frame: pd.DataFrame,
    *,
    size: tuple[float, float],
    dpi: int,
    alt: str,
    caption: str = "",
    key: Iterable[tuple[str, str]] = (),
    **kwargs: Any,
) -> Chart:
    """``plot(frame, ax=..., **kwargs)`` drawn on its own Figure (never pyplot's state)."""
    fig = Figure(figsize=size, layout="constrained")
    plot(frame, ax=fig.add_subplot(), **kwargs)
    return Chart(src=data_uri(fig, dpi=dpi), alt=alt, caption=caption, key=list(key))


# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One table cell's text; ``kind`` (its CSS class) is ``"num"`` (right-aligned),
    ``"id"``, ``"moments"`` (a list of m:ss) or ``""``."""

    text: str
    kind: str = ""
    header: bool = False
    #: An id shown small under the text (a title's video id), in full as its tooltip.
    sub: str = ""

    @property
    def title(self) -> str:
        """The full text as a tooltip where it may be cut (ids)."""
        return self.text if self.kind == "id" else ""


@dataclass
class Table:
    head: list[Cell]
    rows: list[list[Cell]]
    more: str = ""


def seconds_text(seconds: Any) -> str:
    """Media time as ``m:ss`` (``h:mm:ss`` past an hour); ``"unknown"`` when not known."""
    from .plotting import format_seconds

    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return "unknown"
    return format_seconds(value) if math.isfinite(value) else "unknown"


def _plain(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, tuple | list) and all(isinstance(x, int | float) for x in value):
        return "–".join(f"{x:g}" for x in value)
    return str(value)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and not np.isfinite(value)


def cell(value: Any, column: str) -> Cell:
    """A value shown the way a reader expects for its column (times, shares, counts)."""
    low = column.lower()
    if low in _IDS:
        return Cell("" if _missing(value) else str(value), "id")
    if isinstance(value, Mapping):
        return Cell(", ".join(f"{k}={v}" for k, v in value.items()))
    if isinstance(value, list | tuple | np.ndarray):
        if low in _MOMENTS:
            return Cell(", ".join(seconds_text(v) for v in value), "moments")
        return Cell(", ".join(_plain(v) for v in value))
    if isinstance(value, bool | np.bool_):
        return Cell(str(bool(value)))
    if low in _MOMENTS and isinstance(value, int | float | np.number):
        return Cell(seconds_text(value), "num")
    if isinstance(value, int | np.integer):
        return Cell(f"{int(value):,}", "num")
    if isinstance(value, float | np.floating):
        v = float(value)
        if not np.isfinite(v):
            return Cell("", "num")
        if any(h in low for h in _SHARES) and 0 <= v <= 1:
            return Cell(f"{v:.1%}", "num")
        if "time" in low and "seconds" not in low and v >= 60:
            return Cell(seconds_text(v), "num")
        return Cell(f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}", "num")
    if isinstance(value, pd.Timedelta):
        return Cell(seconds_text(value.total_seconds()), "num")
    if isinstance(value, pd.Timestamp):
        return Cell(value.strftime("%Y-%m-%d %H:%M"))
    if _missing(value):
        return Cell("")
    return Cell(str(value))


def _heading(name: Any) -> str:
    return "" if name is None else str(name).replace("_", " ")


def table(
    frame: pd.DataFrame,
    *,
    index: bool = True,
    max_rows: int = 50,
    sub: tuple[str, str] | None = None,
) -> Table:
    """``frame``'s first ``max_rows`` rows as cells (escaped when a template renders them).

    ``sub=("title", "video_id")`` shows each row's ``video_id`` small under its ``title``
    instead of in a column of its own (a narrower table).
    """
    shown = frame.head(max_rows)
    under = None
    if sub is not None and sub[0] in shown.columns and sub[1] in shown.columns:
        under = shown[sub[1]].tolist()
        shown = shown.drop(columns=sub[1])
    cols = [str(c) for c in shown.columns]
    names = list(shown.index.names or [None]) if index else []
    head = [Cell(_heading(n), header=True) for n in names]
    head += [Cell(_heading(c), header=True) for c in cols]
    rows = []
    for i, (key, values) in enumerate(zip(shown.index, shown.itertuples(index=False), strict=True)):
        row = []
        if index:
            keys = key if isinstance(key, tuple) else (key,)
            for name, k in zip(names, keys, strict=False):
                c = cell(k, str(name or ""))
                row.append(Cell(c.text, c.kind, header=True))
        for col, v in zip(cols, values, strict=True):
            c = cell(v, col)
            if under is not None and sub is not None and col == sub[0]:
                c.sub = cell(under[i], sub[1]).text
            row.append(c)
        rows.append(row)
    more = f"First {max_rows} of {len(frame):,} rows." if len(frame) > max_rows else ""
    return Table(head=head, rows=rows, more=more)


def table_html(frame: pd.DataFrame, *, index: bool = True, max_rows: int = 50) -> str:
    """``frame`` as an escaped HTML ``<table>`` (the report's look; the dashboard shows it)."""
    macros = environment().get_template("macros.html.j2").module
    return str(macros.table(table(frame, index=index, max_rows=max_rows)))
