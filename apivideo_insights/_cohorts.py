"""Cohorts: which group each watched segment belongs to, for the ``by=`` of the metrics.

A cohort is named by a column of the segments (``"video_id"``, ``"playback"``), a column of
the sessions frame (``"device_type"``, ``"location_country"``...) or a session metadata key
(``"metadata.plan"``), looked up in the sessions frame by ``session_id``. Segments whose
cohort is missing get code ``-1``: left out of every curve and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._bins import Ints, check_frame

__all__ = ["Cohorts", "cohort_values", "cohorts"]


@dataclass
class Cohorts:
    """Group codes per segment (``-1`` = no group: dropped and counted) and their labels."""

    codes: Ints
    labels: pd.Index
    missing: int


def _session_lookup(
    segments: pd.DataFrame, sessions: pd.DataFrame | None, name: str
) -> pd.Series | None:
    """Values of a sessions column (or ``metadata.<key>``) aligned to segments' rows."""
    if sessions is None:
        return None
    check_frame(sessions, "sessions")
    table = sessions.drop_duplicates("session_id")
    if name in table.columns:
        column = table[name]
    else:
        key = None
        for prefix in ("metadata.", "metadata_"):
            if name.startswith(prefix) and "metadata" in table.columns:
                key = name[len(prefix) :]
        if key is None:
            return None
        column = table["metadata"].map(lambda m: _metadata_value(m, key) if m is not None else None)
    lookup = pd.Series(column.to_numpy(), index=table["session_id"].astype(str).to_numpy())
    sid = segments["session_id"].astype(object).astype(str)
    return pd.Series(lookup.reindex(sid.to_numpy()).to_numpy(), index=segments.index, name=name)


def _metadata_value(m: object, key: str) -> object:
    # Legacy sessions carry metadata as a list of {"key": ..., "value": ...} or as a dict.
    if isinstance(m, Mapping):
        return m.get(key)
    if isinstance(m, list):
        for item in m:
            if isinstance(item, Mapping) and item.get("key") == key:
                return item.get("value")
    return None


def cohort_values(
    segments: pd.DataFrame, by: str, sessions: pd.DataFrame | None, *, what: str = "segments"
) -> pd.Series:
    """The ``by`` value of each segment row: a segments column, a sessions column, or a
    metadata key (``"metadata.plan"``) looked up in ``sessions`` by session_id."""
    if not isinstance(by, str):
        raise TypeError(f"by must be a column name (str), not {type(by).__name__}.")
    if by in segments.columns:
        return segments[by]
    found = _session_lookup(segments, sessions, by)
    if found is not None:
        return found
    where = list(segments.columns)
    if sessions is not None:
        where += [c for c in sessions.columns if c not in where]
    raise ValueError(
        f"unknown by={by!r}: it is not a column of {what}"
        + ("" if sessions is None else " or sessions")
        + f" (columns: {where}). Use one of those, 'metadata.<key>' with sessions=, or pass "
        "sessions=api.video_sessions(...) to split by a session column."
    )


def cohorts(segments: pd.DataFrame, by: str | None, sessions: pd.DataFrame | None) -> Cohorts:
    """Factorize the cohort of each segment (sorted labels; missing values get code -1)."""
    n = len(segments)
    if by is None:
        return Cohorts(np.zeros(n, dtype=np.int64), pd.Index([None]), 0)
    values = cohort_values(segments, by, sessions)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    labels = pd.Index(uniques, name=by)
    return Cohorts(codes.astype(np.int64), labels, int((codes < 0).sum()))
