"""The simulated world: everything the sandbox server serves, and the truth behind it.

:func:`apivideo_insights.sandbox.simulate` builds a :class:`World`;
:func:`apivideo_insights.sandbox.serve` serves one over HTTP with api.video's shapes.
The small resources are kept exactly as api.video's JSON objects (camelCase, as in
``shared/apivideo/openapi.yaml``); the large ones (sessions, events, truth) are tidy frames
in the toolkit's own schema (:mod:`apivideo_insights._schema`), which the server turns back
into API JSON page by page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["World"]


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
