"""The simulated world: everything the sandbox server serves, and the truth behind it.

:func:`apivideo_insights.sandbox.simulate` builds a :class:`World`;
:func:`apivideo_insights.sandbox.serve` serves one over HTTP with api.video's shapes.
The small resources are kept exactly as api.video's JSON objects (camelCase, as in
``shared/apivideo/openapi.yaml``); the large ones (sessions, events, truth) are tidy frames
in the toolkit's own schema (:mod:`apivideo_insights.schema`), which the server turns back
into API JSON page by page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["World", "pass_difference"]


def pass_difference(a: pd.DataFrame, b: pd.DataFrame, *, by: str = "session_id") -> float:
    """How far two sets of watched segments are apart: the integral over media time of
    ``|passes_a - passes_b|``, summed over the groups of ``by`` (seconds).

    The measure of a reconstruction against :attr:`World.truth`: divided by the true
    watched time, it is the share of watched time whose pass counts are wrong.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"session_id": ["s"], "start": [0.0], "end": [10.0]})
    >>> b = pd.DataFrame({"session_id": ["s", "s"], "start": [0.0, 5.0], "end": [10.0, 8.0]})
    >>> pass_difference(a, b)
    3.0
    """
    parts = []
    for frame, sign in ((a, 1), (b, -1)):
        group = frame[by].astype(str).to_numpy()
        for column, step in (("start", sign), ("end", -sign)):
            x = frame[column].to_numpy(float)
            parts.append(pd.DataFrame({"s": group, "x": x, "d": step}))
    steps = pd.concat(parts).sort_values(["s", "x"], kind="stable")
    passes = steps.groupby("s")["d"].cumsum().to_numpy()
    x, s = steps["x"].to_numpy(), steps["s"].to_numpy()
    same = s[1:] == s[:-1]
    return float(np.abs(passes[:-1][same] * np.diff(x)[same]).sum())


@dataclass(eq=False)
class World:
    """A simulated api.video project.

    Attributes
    ----------
    seed : int
        The seed it was built from: the same seed gives the same world.
    now : pandas.Timestamp
        The end of the simulated timeline (UTC). ``/data`` windows default to the day
        before it; legacy periods cover the days before it.
    videos : list of dict
        ``GET /videos`` items (schema ``video``), in creation order.
    video_status : dict
        ``videoId`` -> ``GET /videos/{videoId}/status`` object (``encoding.metadata.duration``).
    live_streams, players, upload_tokens, webhooks : list of dict
        The items of those list endpoints.
    captions, chapters : dict
        ``videoId`` -> list of ``caption`` / ``chapter`` items.
    chapter_vtt : dict
        ``(videoId, language)`` -> WebVTT text that the chapter's ``src`` points to.
    sessions : pandas.DataFrame
        One row per player session, columns of ``avi`` sessions frames
        (``session_id, loaded_at, ended_at, video_id, live_stream_id, location_*, referrer_*,
        device_*, os_*, client_*, metadata``). Exactly one of ``video_id`` and
        ``live_stream_id`` is set per row.
    events : pandas.DataFrame
        One row per player event, ``avi`` events columns, grouped by session and in the
        order the legacy API lists them (which, within one second, is not causal order:
        the collector's quirks are in here on purpose).
    truth : pandas.DataFrame
        The true watched intervals: ``session_id, playback, start, end, started_at,
        ended_at`` (float media seconds, exact wall-clock times), what a perfect
        reconstruction of ``events`` would give.
    """

    seed: int
    now: pd.Timestamp
    videos: list[dict[str, Any]]
    video_status: dict[str, dict[str, Any]]
    live_streams: list[dict[str, Any]]
    players: list[dict[str, Any]]
    upload_tokens: list[dict[str, Any]]
    webhooks: list[dict[str, Any]]
    captions: dict[str, list[dict[str, Any]]]
    chapters: dict[str, list[dict[str, Any]]]
    chapter_vtt: dict[tuple[str, str], str]
    sessions: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def durations(self) -> pd.Series:
        """Video duration in seconds, indexed by ``video_id``."""
        return pd.Series(
            {
                vid: status["encoding"]["metadata"]["duration"]
                for vid, status in self.video_status.items()
            },
            name="duration",
            dtype="float64",
        ).rename_axis("video_id")

    def __repr__(self) -> str:
        return (
            f"World(seed={self.seed}, now={self.now.isoformat()}, videos={len(self.videos)}, "
            f"live_streams={len(self.live_streams)}, sessions={len(self.sessions)}, "
            f"events={len(self.events)})"
        )
