"""The column contract: the names, order and dtypes of every frame the toolkit returns.

``avi.schema`` is public because it *is* the contract: each ``*_COLUMNS`` mapping lists a
frame's columns in order with their dtypes, and every loader, reader and stage goes through
:func:`conform` (or :func:`empty_frame`), so an empty answer has exactly the same columns and
dtypes as a full one. Code that consumes the toolkit's frames may rely on these names.

Conventions
-----------
* Column names are snake_case; nested JSON is flattened (``location.country`` becomes
  ``location_country``); api.video's ``[{key, value}]`` metadata becomes a dict.
* Timestamps are timezone-aware UTC (``datetime64[ns, UTC]``).
* Ids and free text use pandas' default string dtype (``str``); missing values stay missing.
* Low-cardinality text (event type, device type, os, browser, ...) is ``category``.
* The events frame is compact (about 30 bytes per event): ``session_id`` is categorical (a
  session id repeats on every event), positions are ``float32`` (the API sends integer
  seconds, which float32 holds exactly up to 16.7 million seconds), ``emitted_at`` is the
  int64-backed datetime.

The frames
----------
events (:data:`EVENT_COLUMNS`; ``api.events``, ``avi.read_events``)
    ``session_id``, ``type`` (one of :data:`EVENT_TYPES`), ``at``, ``seek_from``,
    ``seek_to`` (float positions in media seconds; NaN where the API sent none),
    ``emitted_at`` (wall clock).
sessions (:data:`SESSION_COLUMNS`, :data:`LIVE_SESSION_COLUMNS`)
    ``session_id``, ``loaded_at``, ``ended_at``, ``video_id`` or ``live_stream_id``, then
    the flattened ``location_*``, ``referrer_*``, ``device_*``, ``os_*``, ``client_*``, and
    ``metadata`` (dict; video sessions only).
segments (:data:`SEGMENT_COLUMNS`; ``avi.segments``)
    ``session_id``, ``playback`` (0, 1, ...: a new playback starts at each ``ready``),
    ``start``, ``end`` (media seconds, ``start < end``), ``started_at``, ``ended_at`` (wall
    clock), and ``estimated`` (True where a bound came from the wall clock rather than a
    player position).
retention (``avi.retention``)
    One row per bin, indexed by ``position`` (bin start, media seconds), with ``viewers``
    (sessions that watched any part of the bin), ``views`` (passes over the bin, rewatches
    included), ``retention`` (= viewers / sessions that watched anything) and ``rewatch``
    (= views / viewers).
heatmap (``avi.heatmap``)
    One row per session (indexed by ``session_id``), one column per bin (labelled by the bin
    start), values = passes over that bin (0 skipped, 1 watched, 2+ rewatched).
resources (:data:`VIDEO_COLUMNS`, :data:`LIVE_STREAM_COLUMNS`, :data:`PLAYER_COLUMNS`, ...)
    One row per item of ``api.videos()``, ``api.live_streams()``... and the same columns
    for the single-item loaders (``api.video(video_id)``...), which return one row.

Examples
--------
>>> import apivideo_insights as avi
>>> list(avi.schema.EVENT_COLUMNS)
['session_id', 'type', 'at', 'seek_from', 'seek_to', 'emitted_at']
>>> avi.schema.empty_frame(avi.schema.EVENT_COLUMNS).dtypes["emitted_at"]
datetime64[ns, UTC]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ACCOUNT_COLUMNS",
    "BREAKDOWN_COLUMNS",
    "CAPTION_COLUMNS",
    "CHAPTER_COLUMNS",
    "CHAPTER_LIST_COLUMNS",
    "DATETIME",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "EVENT_TYPE_DTYPE",
    "LIVE_SESSION_COLUMNS",
    "LIVE_STREAM_COLUMNS",
    "METRIC_COLUMNS",
    "PLAYER_COLUMNS",
    "SEGMENT_COLUMNS",
    "SESSION_COLUMNS",
    "STR",
    "TIMESERIES_COLUMNS",
    "UPLOAD_TOKEN_COLUMNS",
    "VIDEO_COLUMNS",
    "VIDEO_STATUS_COLUMNS",
    "WEBHOOK_COLUMNS",
    "conform",
    "empty_frame",
    "to_str",
    "to_utc",
]

DATETIME = "datetime64[ns, UTC]"
#: pandas' default string dtype: object on pandas 2, a StringDtype with NaN on pandas 3.
STR = "str"

#: The legacy collector's event types, in the canonical within-a-second order used by
#: :func:`apivideo_insights.segments` (closing, seeking, then opening events).
EVENT_TYPES: tuple[str, ...] = (
    "ready",
    "play",
    "pause",
    "resume",
    "seek.forward",
    "seek.backward",
    "end",
)
EVENT_TYPE_DTYPE = pd.CategoricalDtype(list(EVENT_TYPES), ordered=False)

#: ``api.events`` / ``avi.read_events``: one row per player event.
EVENT_COLUMNS: dict[str, Any] = {
    "session_id": "category",
    "type": EVENT_TYPE_DTYPE,
    "at": "float32",
    "seek_from": "float32",
    "seek_to": "float32",
    "emitted_at": DATETIME,
}

_SESSION_COMMON: dict[str, Any] = {
    "session_id": STR,
    "loaded_at": DATETIME,
    "ended_at": DATETIME,
}
_SESSION_FLAT: dict[str, Any] = {
    "location_country": "category",
    "location_city": STR,
    "referrer_url": STR,
    "referrer_medium": "category",
    "referrer_source": STR,
    "referrer_search_term": STR,
    "device_type": "category",
    "device_vendor": "category",
    "device_model": STR,
    "os_name": "category",
    "os_shortname": "category",
    "os_version": STR,
    "client_type": "category",
    "client_name": "category",
    "client_version": STR,
}

#: ``api.video_sessions``: the legacy ``/analytics/videos/{id}`` sessions, flattened.
SESSION_COLUMNS: dict[str, Any] = {
    **_SESSION_COMMON,
    "video_id": STR,
    **_SESSION_FLAT,
    "metadata": object,
}

#: ``api.live_stream_sessions``: same as video sessions, keyed by live stream, no metadata.
LIVE_SESSION_COLUMNS: dict[str, Any] = {
    **_SESSION_COMMON,
    "live_stream_id": STR,
    **_SESSION_FLAT,
}

#: ``avi.segments``: one row per continuous stretch of media watched.
SEGMENT_COLUMNS: dict[str, Any] = {
    "session_id": "category",
    "playback": "int64",
    "start": "float64",
    "end": "float64",
    "started_at": DATETIME,
    "ended_at": DATETIME,
    "estimated": "bool",
}

#: Chapters of a video, parsed from WebVTT or given by hand.
CHAPTER_COLUMNS: dict[str, Any] = {
    "chapter": STR,
    "start": "float64",
    "end": "float64",
}


# ------------------------------------------------------------------ API resources

#: ``api.videos()`` / ``api.video(video_id)``: one row per video.
VIDEO_COLUMNS: dict[str, Any] = {
    "video_id": STR,
    "title": STR,
    "description": STR,
    "created_at": DATETIME,
    "published_at": DATETIME,
    "updated_at": DATETIME,
    "tags": object,
    "metadata": object,
    "public": "boolean",
    "panoramic": "boolean",
    "mp4_support": "boolean",
    "player_id": STR,
    "language": "category",
    "language_origin": "category",
    "discarded": "boolean",
    "discarded_at": DATETIME,
    "deletes_at": DATETIME,
    "source_uri": STR,
    "source_type": "category",
    "source_live_stream_live_stream_id": STR,
    "assets_hls": STR,
    "assets_iframe": STR,
    "assets_player": STR,
    "assets_thumbnail": STR,
    "assets_mp4": STR,
}

#: ``api.video_status(video_id)``: one row, ``duration`` in seconds.
VIDEO_STATUS_COLUMNS: dict[str, Any] = {
    "video_id": STR,
    "duration": "float64",
    "playable": "boolean",
    "width": "float64",
    "height": "float64",
    "bitrate": "float64",
    "framerate": "float64",
    "samplerate": "float64",
    "video_codec": "category",
    "audio_codec": "category",
    "aspect_ratio": STR,
    "qualities": object,
    "ingest_status": "category",
    "ingest_filesize": "float64",
}

#: ``api.live_streams()`` / ``api.live_stream(live_stream_id)``.
LIVE_STREAM_COLUMNS: dict[str, Any] = {
    "live_stream_id": STR,
    "name": STR,
    "stream_key": STR,
    "public": "boolean",
    "broadcasting": "boolean",
    "player_id": STR,
    "restreams": object,
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "assets_hls": STR,
    "assets_iframe": STR,
    "assets_player": STR,
    "assets_thumbnail": STR,
}

#: ``api.players()`` / ``api.player(player_id)``: player themes.
PLAYER_COLUMNS: dict[str, Any] = {
    "player_id": STR,
    "name": STR,
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "text": STR,
    "link": STR,
    "link_hover": STR,
    "link_active": STR,
    "track_played": STR,
    "track_unplayed": STR,
    "track_background": STR,
    "background_top": STR,
    "background_bottom": STR,
    "background_text": STR,
    "enable_api": "boolean",
    "enable_controls": "boolean",
    "force_autoplay": "boolean",
    "hide_title": "boolean",
    "force_loop": "boolean",
    "assets_logo": STR,
    "assets_link": STR,
}

#: ``api.upload_tokens()`` / ``api.upload_token(token)``; ``ttl`` in seconds.
UPLOAD_TOKEN_COLUMNS: dict[str, Any] = {
    "token": STR,
    "ttl": "float64",
    "created_at": DATETIME,
    "expires_at": DATETIME,
}

#: ``api.webhooks()`` / ``api.webhook(webhook_id)``.
WEBHOOK_COLUMNS: dict[str, Any] = {
    "webhook_id": STR,
    "created_at": DATETIME,
    "events": object,
    "url": STR,
    "signature_secret": STR,
}

#: ``api.captions(video_id)`` / ``api.caption(video_id, language)``.
CAPTION_COLUMNS: dict[str, Any] = {
    "video_id": STR,
    "srclang": STR,
    "language_name": STR,
    "default": "boolean",
    "uri": STR,
    "src": STR,
}

#: ``api.chapters(video_id)`` / ``api.chapter(video_id, language)``: the WebVTT
#: files (read them with ``avi.read_chapters``; their rows follow :data:`CHAPTER_COLUMNS`).
CHAPTER_LIST_COLUMNS: dict[str, Any] = {
    "video_id": STR,
    "language": STR,
    "uri": STR,
    "src": STR,
}

#: ``api.account()``: one row (the deprecated ``GET /account`` of the 2021 spec).
ACCOUNT_COLUMNS: dict[str, Any] = {
    "environment": "category",
    "features": object,
    "quota_used": "float64",
    "quota_remaining": "float64",
    "quota_total": "float64",
}

#: ``api.metrics(...)``: one aggregated number over ``[start, end)``.
METRIC_COLUMNS: dict[str, Any] = {
    "metric": STR,
    "aggregation": STR,
    "start": DATETIME,
    "end": DATETIME,
    "value": "float64",
}

#: ``api.breakdown(...)``: one row per bucket of the dimension.
BREAKDOWN_COLUMNS: dict[str, Any] = {
    "dimension_value": STR,
    "metric_value": "float64",
}

#: ``api.timeseries(...)``: one row per interval, ``emitted_at`` its start.
TIMESERIES_COLUMNS: dict[str, Any] = {
    "emitted_at": DATETIME,
    "metric_value": "float64",
}


def to_utc(values: Any) -> pd.Series:
    """Parse timestamps in any form api.video sends into ``datetime64[ns, UTC]``.

    Handles ``Z`` and ``+00:00`` suffixes, fractional seconds, naive strings (taken as UTC)
    and the malformed ``2024-05-29T07+00:00:00:00`` of the timeseries spec example.
    Unparseable values become ``NaT``; callers count them.
    """
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        out = pd.to_datetime(s, utc=True)
        return out.astype(DATETIME)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        # Epoch seconds; values past the datetime range become NaT for callers to count.
        return pd.to_datetime(s, unit="s", utc=True, errors="coerce").astype(DATETIME)
    text = s.astype(object).where(s.notna(), None)
    # Only text and datetimes are timestamps: anything else from malformed JSON (false, a
    # list, a number among strings) becomes missing, which callers count.
    text = text.map(_timestamp_like, na_action="ignore")
    # The spec's timeseries example: "2024-05-29T07+00:00:00:00" means 07:00:00+00:00.
    text = text.map(_repair_timestamp, na_action="ignore")
    out = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    return out.astype(DATETIME)


def _timestamp_like(value: Any) -> Any:
    if isinstance(value, str | dt.datetime | np.datetime64):
        return value
    return None


def _repair_timestamp(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    head, sep, tail = value.partition("T")
    if sep and len(tail) >= 3 and tail[2] in "+-" and tail.count(":") >= 3:
        hour, offset = tail[:2], tail[2:]
        sign, rest = offset[0], offset[1:]
        parts = rest.split(":")
        return f"{head}T{hour}:00:00{sign}{parts[0]}:{parts[1]}"
    return value


def to_str(values: Any) -> pd.Series:
    """Cast to the default string dtype, keeping missing values missing (not ``"nan"``)."""
    s = pd.Series(values, copy=False)
    if s.dtype == STR and not isinstance(s.dtype, pd.CategoricalDtype):
        return s
    obj = s.astype(object)
    mask = obj.isna()
    obj = obj.where(mask, obj.astype(str)) if len(obj) else obj
    return obj.astype(STR)


def _cast(s: pd.Series, dtype: Any) -> pd.Series:
    if isinstance(dtype, str) and dtype == DATETIME:
        return to_utc(s)
    if isinstance(dtype, str) and dtype == STR:
        return to_str(s)
    if isinstance(dtype, pd.CategoricalDtype):
        # A fixed set of categories (event types): values outside it become missing, and
        # callers that care (segments, read_events) count them.
        if isinstance(s.dtype, pd.CategoricalDtype) and s.dtype == dtype:
            return s
        values = s.astype(object)
        values = values.where(values.isin(dtype.categories), None)
        return values.astype(dtype)
    if isinstance(dtype, str) and dtype == "category":
        if isinstance(s.dtype, pd.CategoricalDtype):
            return s
        # Categories are strings; keep missing values missing.
        return to_str(s).astype("category")
    if dtype is object:
        return s.astype(object)
    if isinstance(dtype, str) and dtype == "boolean":
        # Nullable booleans: anything but a real boolean (-1, "yes", a list) is missing.
        values = s.astype(object)
        ok = values.map(lambda v: isinstance(v, bool | np.bool_), na_action="ignore")
        return values.where(ok.fillna(False).astype(bool), None).astype("boolean")
    if dtype == "bool":
        return s.fillna(False).astype(bool) if s.dtype == object else s.astype(bool)
    if isinstance(dtype, str) and dtype.startswith("float"):
        return pd.to_numeric(s, errors="coerce").astype(dtype)
    if isinstance(dtype, str) and dtype.startswith("int"):
        numbers = pd.to_numeric(s, errors="coerce")
        if numbers.isna().any():
            err = f"column {s.name!r} must be whole numbers with no missing values"
            raise ValueError(err)
        return numbers.astype(dtype)
    return s.astype(dtype)


def empty_frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """An empty frame with exactly these columns and dtypes."""
    data = {name: _cast(pd.Series([], dtype=object), dtype) for name, dtype in columns.items()}
    return pd.DataFrame(data, index=pd.RangeIndex(0))


def conform(
    frame: pd.DataFrame | None,
    columns: Mapping[str, Any],
    *,
    keep_extra: bool = True,
) -> pd.DataFrame:
    """Return ``frame`` with ``columns`` first, in order, cast to their dtypes.

    Missing contract columns are added, full of missing values. Extra columns are kept
    after the contract ones (``keep_extra=True``) or dropped.
    """
    if frame is None or (len(frame) == 0 and len(frame.columns) == 0):
        return empty_frame(columns)
    out = {}
    n = len(frame)
    for name, dtype in columns.items():
        if name in frame.columns:
            col = frame[name]
        else:
            col = pd.Series(np.full(n, None, dtype=object), index=frame.index)
        out[name] = _cast(col, dtype)
    result = pd.DataFrame(out, index=frame.index)
    if keep_extra:
        extra = [c for c in frame.columns if c not in columns]
        for name in extra:
            result[name] = frame[name]
    return result
