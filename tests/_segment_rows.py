"""Segments frames written as rows, for the retention and engagement tests."""

from __future__ import annotations

import pandas as pd

from apivideo_insights.schema import SEGMENT_COLUMNS, conform, empty_frame

T0 = pd.Timestamp("2024-09-15 21:35:57", tz="UTC")


def make_segments(rows, *, spacing: float = 100.0, **extra) -> pd.DataFrame:
    """rows: (session_id, start, end[, playback[, wall seconds after T0]]) -> a segments frame.

    Without the wall seconds, row ``i`` starts ``spacing * i`` seconds after :data:`T0`.
    ``extra``: more columns, e.g. ``video_id=[...]``.
    """
    data = []
    for i, row in enumerate(rows):
        sid, start, end = row[:3]
        playback = row[3] if len(row) > 3 else 0
        at = row[4] if len(row) > 4 else spacing * i
        data.append(
            {
                "session_id": sid,
                "playback": playback,
                "start": float(start),
                "end": float(end),
                "started_at": T0 + pd.Timedelta(seconds=at),
                "ended_at": T0 + pd.Timedelta(seconds=at + (end - start)),
                "estimated": False,
            }
        )
    frame = conform(pd.DataFrame(data), SEGMENT_COLUMNS) if data else empty_frame(SEGMENT_COLUMNS)
    for name, values in extra.items():
        frame[name] = values
    return frame
