"""Time axes of the plots: media time on round minutes and seconds (``m:ss``), dates named
day by day, and steps drawn as wide as the period each row lasts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker

__all__ = [
    "TIME_STEPS",
    "TimeLocator",
    "closed_steps",
    "date_axis",
    "date_span",
    "format_seconds",
    "period_of",
    "time_axis",
    "time_ticks",
]

#: Round steps of media-time ticks, in seconds: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30
#: min, then hours.
TIME_STEPS: tuple[float, ...] = (
    *(1, 2, 5, 10, 15, 30),
    *(60 * m for m in (1, 2, 5, 10, 15, 30)),
    *(3600 * h for h in (1, 2, 3, 6, 12, 24)),
)


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
    step = next((s for s in TIME_STEPS if span / s <= max_ticks - 1), None)
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


def time_axis(axis: Any) -> None:
    axis.set_major_locator(TimeLocator())
    axis.set_major_formatter(ticker.FuncFormatter(format_seconds))


def date_axis(axis: Any) -> None:
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
