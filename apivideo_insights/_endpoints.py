"""The resource endpoints the client reads, as one table.

Each row says where a resource lives (its list and its single-item path templates), how its
items look on the wire (the id field that keys them across pages, the fields an item cannot
lack), which columns its frames have (:mod:`apivideo_insights.schema`), which list filters
the API takes, and which cache policy applies. :class:`~apivideo_insights.Client`'s
``videos()``, ``video(video_id)``, ``captions(video_id)``... are thin documented methods over
these rows; adding an endpoint is adding a row (and its method).

Path templates name their parameters (``{video_id}``); :func:`fill` quotes each value as one
path segment (``urllib.parse.quote(value, safe="")``), so an id containing ``/`` or ``?``
reaches the server as itself.

>>> ENDPOINTS["captions"].item
'/videos/{video_id}/captions/{language}'
>>> fill(ENDPOINTS["captions"].item, video_id="vi1", language="pt/BR")
'/videos/vi1/captions/pt%2FBR'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from . import schema

__all__ = ["ENDPOINTS", "Endpoint", "fill"]

_SORT_ORDER = ("asc", "desc")


@dataclass(frozen=True)
class Endpoint:
    """One resource of the API: its paths, wire keys, columns, filters and cache policy."""

    #: The loader's name: ``api.<name>(...)`` lists, and the memo's label.
    name: str
    #: The list path template (``/videos/{video_id}/captions``).
    path: str
    #: The single-item path template, or None when the API has no such GET.
    item: str | None
    #: The frame's columns and dtypes (one of :mod:`~apivideo_insights.schema`'s specs).
    columns: Mapping[str, Any]
    #: The API field that identifies an item (repeats across pages are kept once).
    key: str
    #: Flattened fields an item cannot lack (rows without them are dropped and counted).
    required: tuple[str, ...]
    #: List filters: API name -> allowed values (None: any value).
    filters: Mapping[str, Sequence[str] | None] = field(default_factory=dict)
    #: Path parameters also written as constant columns (``video_id`` of captions).
    carried: tuple[str, ...] = ()
    #: Cache policy kind: "list" answers expire after ``LIST_TTL`` (minutes: lists change);
    #: the client maps each kind to its expiry (``client._EXPIRE``).
    cache: str = "list"


def fill(template: str, **values: str) -> str:
    """``template`` with each ``{name}`` replaced by its value, quoted as one path segment."""
    return template.format(**{k: quote(v, safe="") for k, v in values.items()})


def _rows(*endpoints: Endpoint) -> dict[str, Endpoint]:
    return {e.name: e for e in endpoints}


#: Every resource endpoint, by loader name.
ENDPOINTS: dict[str, Endpoint] = _rows(
    Endpoint(
        "videos",
        "/videos",
        "/videos/{video_id}",
        schema.VIDEO_COLUMNS,
        key="videoId",
        required=("video_id",),
        filters={
            "title": None,
            "tags": None,
            "metadata": None,
            "description": None,
            "liveStreamId": None,
            "sortBy": ("title", "createdAt", "publishedAt", "updatedAt"),
            "sortOrder": _SORT_ORDER,
        },
    ),
    Endpoint(
        "live_streams",
        "/live-streams",
        "/live-streams/{live_stream_id}",
        schema.LIVE_STREAM_COLUMNS,
        key="liveStreamId",
        required=("live_stream_id",),
        filters={
            "streamKey": None,
            "name": None,
            "sortBy": ("name", "createdAt", "updatedAt"),
            "sortOrder": _SORT_ORDER,
        },
    ),
    Endpoint(
        "players",
        "/players",
        "/players/{player_id}",
        schema.PLAYER_COLUMNS,
        key="playerId",
        required=("player_id",),
        filters={"sortBy": ("name", "createdAt", "updatedAt"), "sortOrder": _SORT_ORDER},
    ),
    Endpoint(
        "upload_tokens",
        "/upload-tokens",
        "/upload-tokens/{token}",
        schema.UPLOAD_TOKEN_COLUMNS,
        key="token",
        required=("token",),
        filters={"sortBy": ("createdAt", "ttl"), "sortOrder": _SORT_ORDER},
    ),
    Endpoint(
        "webhooks",
        "/webhooks",
        "/webhooks/{webhook_id}",
        schema.WEBHOOK_COLUMNS,
        key="webhookId",
        required=("webhook_id",),
        filters={"events": None},
    ),
    Endpoint(
        "captions",
        "/videos/{video_id}/captions",
        "/videos/{video_id}/captions/{language}",
        schema.CAPTION_COLUMNS,
        key="uri",
        required=("srclang",),
        carried=("video_id",),
    ),
    Endpoint(
        "chapters",
        "/videos/{video_id}/chapters",
        "/videos/{video_id}/chapters/{language}",
        schema.CHAPTER_LIST_COLUMNS,
        key="uri",
        required=("language",),
        carried=("video_id",),
    ),
)
