"""What every axes-level plot does first: find its Axes and check the frame it was given."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["require_frame", "resolve_ax"]


def resolve_ax(ax: Axes | None) -> Axes:
    if ax is None:
        return plt.gca()
    if not isinstance(ax, Axes):
        err = f"ax must be a matplotlib Axes (e.g. from plt.subplots()), not {type(ax).__name__}"
        raise TypeError(err)
    return ax


def require_frame(data: Any, name: str, columns: Iterable[str], producer: str) -> pd.DataFrame:
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
