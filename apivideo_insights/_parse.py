"""From api.video JSON to tidy frames, and from user arguments to query parameters.

Pure functions only (no HTTP): the loaders in :mod:`apivideo_insights.client` and the file
reader :func:`apivideo_insights.read_events` share them.

* Items are flattened (``location.country`` -> ``location_country``), names become
  snake_case, ``metadata`` lists of ``{key, value}`` become dicts, timestamps become UTC.
* Each resource has a column spec, so an empty answer has the same columns and dtypes.
* Rows that lack a required field or carry a value of the wrong type are dropped and
  counted by reason in ``df.attrs["dropped"]``; a required field missing from *every* item
  is a :class:`~apivideo_insights.SchemaError` naming it.

>>> from apivideo_insights._parse import snake, parse_period
>>> snake("referrer.searchTerm")
'referrer_search_term'
>>> import datetime as dt
>>> parse_period("2024-W03", today=dt.date(2024, 3, 1))[1:]
(datetime.date(2024, 1, 15), datetime.date(2024, 1, 22))
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _periods
from ._schema import (
    DATETIME,
    EVENT_COLUMNS,
    EVENT_TYPES,
    LIVE_SESSION_COLUMNS,
    SESSION_COLUMNS,
    conform,
    empty_frame,
    to_utc,
)
from ._spec import (
    AGGREGATIONS,
    BREAKDOWNS,
    BUCKET_METRICS,
    INTERVALS,
    METRIC_AGGREGATIONS,
    METRICS,
    TIMESERIES_METRICS,
    VIEW_DURATIONS,
)
from .exceptions import SchemaError

__all__ = [
    "AGGREGATIONS",
    "BREAKDOWNS",
    "BREAKDOWN_COLUMNS",
    "BREAKDOWN_METRICS",
    "CAPTION_COLUMNS",
    "CHAPTER_LIST_COLUMNS",
    "INTERVALS",
    "LIVE_STREAM_COLUMNS",
    "METRICS",
    "METRIC_AGGREGATIONS",
    "METRIC_COLUMNS",
    "PLAYER_COLUMNS",
    "TIMESERIES_COLUMNS",
    "TIMESERIES_METRICS",
    "UPLOAD_TOKEN_COLUMNS",
    "VIDEO_COLUMNS",
    "VIDEO_STATUS_COLUMNS",
    "WEBHOOK_COLUMNS",
    "clean_events",
    "data_params",
    "event_frame",
    "flatten",
    "list_params",
    "metric_frame",
    "parse_period",
    "period_bounds",
    "resource_frame",
    "session_frame",
    "snake",
    "to_timestamp",
]

STR = "str"

# ------------------------------------------------------------------------ column specs

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

UPLOAD_TOKEN_COLUMNS: dict[str, Any] = {
    "token": STR,
    "ttl": "float64",
    "created_at": DATETIME,
    "expires_at": DATETIME,
}

WEBHOOK_COLUMNS: dict[str, Any] = {
    "webhook_id": STR,
    "created_at": DATETIME,
    "events": object,
    "url": STR,
    "signature_secret": STR,
}

CAPTION_COLUMNS: dict[str, Any] = {
    "video_id": STR,
    "srclang": STR,
    "language_name": STR,
    "default": "boolean",
    "uri": STR,
    "src": STR,
}

CHAPTER_LIST_COLUMNS: dict[str, Any] = {
    "video_id": STR,
    "language": STR,
    "uri": STR,
    "src": STR,
}

METRIC_COLUMNS: dict[str, Any] = {
    "metric": STR,
    "aggregation": STR,
    "start": DATETIME,
    "end": DATETIME,
    "value": "float64",
}

BREAKDOWN_COLUMNS: dict[str, Any] = {
    "dimension_value": STR,
    "metric_value": "float64",
}

TIMESERIES_COLUMNS: dict[str, Any] = {
    "emitted_at": DATETIME,
    "metric_value": "float64",
}

# --------------------------------------------------------------------- the spec's enums

#: The spec's ``/data`` enums live in ``_spec`` (shared with the sandbox server).
BREAKDOWN_METRICS = BUCKET_METRICS
_FILTERS = (
    "mediaId",
    "mediaType",
    "continent",
    "country",
    "deviceType",
    "operatingSystem",
    "browser",
    "tag",
    "referrer",
)
_SORT_BY = {
    "metrics": (),
    "buckets": ("metricValue", "dimensionValue"),
    "timeseries": ("metricValue", "emittedAt"),
}

# ----------------------------------------------------------------------------- naming

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """``camelCase.path`` -> ``camel_case_path``."""
    return _CAMEL.sub("_", name).replace(".", "_").replace("-", "_").lower()


def camel(name: str) -> str:
    """``snake_case`` -> ``snakeCase`` (camelCase names pass through)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def metadata_dict(value: Any) -> Any:
    """api.video's ``[{key, value}]`` metadata as a dict (dicts pass through)."""
    if isinstance(value, list):
        out = {}
        for pair in value:
            if isinstance(pair, Mapping) and "key" in pair:
                out[str(pair["key"])] = pair.get("value")
        return out
    if isinstance(value, Mapping):
        return dict(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return {}
    return value


def flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts with ``_`` in snake_case; lists stay as values."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        name = snake(f"{prefix}{key}")
        if key == "metadata":
            out[name] = metadata_dict(value)
        elif isinstance(value, Mapping) and value:
            out.update(flatten(value, prefix=f"{prefix}{key}."))
        elif isinstance(value, Mapping):
            continue
        else:
            out[name] = value
    return out


# ------------------------------------------------------------------------- row checks


def _require(
    rows: list[dict[str, Any]],
    required: Sequence[str],
    *,
    what: str,
    url: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Drop rows lacking a required (flattened) field; SchemaError if no row has it."""
    dropped: dict[str, int] = {}
    if not rows:
        return rows, dropped
    absent = [f for f in required if all(r.get(f) is None for r in rows)]
    if absent:
        names = ", ".join(f"{camel(f)} ({f})" for f in absent)
        err = (
            f"{what} answer lacks required field(s) {names} in all "
            f"{len(rows)} item(s); is this an api.video server of the expected version?"
        )
        raise SchemaError(err, url=url)
    kept = []
    for row in rows:
        missing = [f for f in required if row.get(f) is None]
        if missing:
            reason = f"missing {missing[0]}"
            dropped[reason] = dropped.get(reason, 0) + 1
        else:
            kept.append(row)
    return kept, dropped


def _attach(frame: pd.DataFrame, dropped: Mapping[str, int]) -> pd.DataFrame:
    frame.attrs["dropped"] = dict(dropped)
    return frame


def _invalid_values(
    frame: pd.DataFrame, columns: Mapping[str, Any], raw: pd.DataFrame
) -> dict[str, int]:
    """Per typed column (booleans, numbers), how many present values did not convert.

    Those rows are kept with the value missing; the counts go to ``attrs["invalid_values"]``
    so that nothing is blanked silently.
    """
    counts: dict[str, int] = {}
    for name, dtype in columns.items():
        if dtype == DATETIME or dtype is object or name not in raw.columns:
            continue
        if isinstance(dtype, str) and (dtype == "boolean" or dtype.startswith(("float", "Int"))):
            present = raw[name].map(lambda v: v is not None and v == v, na_action="ignore")
            bad = present.fillna(False).to_numpy(dtype=bool) & frame[name].isna().to_numpy()
            if bad.any():
                counts[name] = int(bad.sum())
    return counts


def _timestamps_ok(frame: pd.DataFrame, columns: Mapping[str, Any], raw: pd.DataFrame) -> Any:
    """Boolean mask of rows whose present timestamps all parsed."""
    ok = np.ones(len(frame), dtype=bool)
    for name, dtype in columns.items():
        if dtype == DATETIME and name in raw.columns:
            bad = raw[name].notna().to_numpy() & frame[name].isna().to_numpy()
            ok &= ~bad
    return ok


def _typed_frame(
    rows: list[dict[str, Any]], columns: Mapping[str, Any], dropped: dict[str, int]
) -> pd.DataFrame:
    """Flat rows -> a conformed frame; rows with unreadable timestamps dropped and counted,
    other unreadable values blanked and counted in ``attrs["invalid_values"]``."""
    if not rows:
        return _attach(empty_frame(columns), dropped)
    raw = pd.DataFrame.from_records(rows)
    frame = conform(raw, columns)
    invalid = _invalid_values(frame, columns, raw)
    ok = _timestamps_ok(frame, columns, raw)
    if not ok.all():
        dropped["unparseable timestamp"] = int((~ok).sum())
        frame = frame.loc[ok].reset_index(drop=True)
    frame = _attach(frame, dropped)
    if invalid:
        frame.attrs["invalid_values"] = invalid
    return frame


def resource_frame(
    items: Iterable[Mapping[str, Any]],
    columns: Mapping[str, Any],
    *,
    required: Sequence[str],
    what: str,
    extra: Mapping[str, Any] | None = None,
    url: str | None = None,
) -> pd.DataFrame:
    """Items of a list endpoint -> a frame with ``columns`` first (extras after).

    ``extra`` adds constant columns (e.g. the ``video_id`` of captions).
    """
    rows = []
    for item in items:
        if not isinstance(item, Mapping):
            rows.append({})
            continue
        row = flatten(item)
        if extra:
            row.update(extra)
        rows.append(row)
    n_bad_items = sum(1 for r in rows if not r)
    rows = [r for r in rows if r]
    rows, dropped = _require(rows, required, what=what, url=url)
    if n_bad_items:
        dropped["not an object"] = n_bad_items
    return _typed_frame(rows, columns, dropped)


def video_status_frame(video_id: str, body: Mapping[str, Any], url: str | None = None) -> Any:
    """``GET /videos/{id}/status`` -> one row."""
    if not isinstance(body, Mapping) or "encoding" not in body:
        err = f"video status answer for {video_id} lacks the 'encoding' object"
        raise SchemaError(err, url=url)
    encoding = body.get("encoding") or {}
    meta = encoding.get("metadata") or {}
    ingest = body.get("ingest") or {}
    row = {
        "video_id": video_id,
        "duration": meta.get("duration"),
        "playable": encoding.get("playable"),
        "width": meta.get("width"),
        "height": meta.get("height"),
        "bitrate": meta.get("bitrate"),
        "framerate": meta.get("framerate"),
        "samplerate": meta.get("samplerate"),
        "video_codec": meta.get("videoCodec"),
        "audio_codec": meta.get("audioCodec"),
        "aspect_ratio": meta.get("aspectRatio"),
        "qualities": encoding.get("qualities"),
        "ingest_status": ingest.get("status"),
        "ingest_filesize": ingest.get("filesize"),
    }
    return conform(pd.DataFrame([row]), VIDEO_STATUS_COLUMNS)


# ---------------------------------------------------------------------------- sessions


def _session_row(item: Mapping[str, Any]) -> dict[str, Any]:
    item = dict(item)
    session = item.pop("session", None)
    row: dict[str, Any] = {}
    if isinstance(session, Mapping):
        for key, value in session.items():
            if key == "metadata":
                row["metadata"] = metadata_dict(value)
            else:
                row[snake(key)] = value
    row.update(flatten(item))
    return row


def session_frame(
    items: Iterable[Mapping[str, Any]],
    *,
    video_id: str | None = None,
    live_stream_id: str | None = None,
    url: str | None = None,
) -> pd.DataFrame:
    """Legacy ``/analytics/videos|live-streams/{id}`` items -> sessions frame."""
    live = live_stream_id is not None
    columns = LIVE_SESSION_COLUMNS if live else SESSION_COLUMNS
    rows = []
    bad = 0
    for item in items:
        if not isinstance(item, Mapping):
            bad += 1
            continue
        row = _session_row(item)
        if live:
            row["live_stream_id"] = live_stream_id
        else:
            row["video_id"] = video_id
            if not isinstance(row.get("metadata"), dict):
                row["metadata"] = metadata_dict(row.get("metadata"))
        rows.append(row)
    rows, dropped = _require(rows, ["session_id"], what="sessions", url=url)
    if bad:
        dropped["not an object"] = bad
    return _typed_frame(rows, columns, dropped)


# ------------------------------------------------------------------------------ events


def _position(value: Any) -> float | None:
    """A JSON position as a float; None when absent; NaN-free ValueError when not a number."""
    if value is None:
        return None
    if type(value) is int or type(value) is float:
        return float(value)
    raise ValueError(value)


def event_frame(
    pages: Iterable[tuple[str, Sequence[Any]]],
    *,
    url: str | None = None,
) -> pd.DataFrame:
    """``(session_id, items)`` pairs of ``/analytics/sessions/{id}/events`` -> events frame."""
    nan = float("nan")
    sid: list[Any] = []
    kind: list[Any] = []
    emitted: list[Any] = []
    positions: dict[str, list[Any]] = {"at": [], "seek_from": [], "seek_to": []}
    odd: dict[int, dict[str, Any]] = {}  # rows with non-numeric positions, kept raw
    bad = 0
    for session_id, items in pages:
        for item in items:
            if not isinstance(item, Mapping):
                bad += 1
                continue
            sid.append(item.get("sessionId", session_id))
            kind.append(item.get("type"))
            emitted.append(item.get("emittedAt"))
            for name, api in (("at", "at"), ("seek_from", "from"), ("seek_to", "to")):
                value = item.get(api)
                try:
                    number = _position(value)
                except ValueError:
                    odd.setdefault(len(sid) - 1, {})[name] = value
                    number = None
                positions[name].append(nan if number is None else number)
    raw = pd.DataFrame(
        {
            "session_id": pd.Series(sid, dtype=object),
            "type": pd.Series(kind, dtype=object),
            **{name: pd.Series(values, dtype="float64") for name, values in positions.items()},
            "emitted_at": pd.Series(emitted, dtype=object),
        }
    )
    if odd:
        # Rare: let clean_events judge (and count) the values that are not plain numbers.
        for name in positions:
            raw[name] = raw[name].astype(object)
        for row, values in odd.items():
            for name, value in values.items():
                raw.at[row, name] = value
    if len(raw):
        absent = [
            api
            for api, col in (("type", "type"), ("emittedAt", "emitted_at"))
            if raw[col].isna().all()
        ]
        if absent:
            err = (
                f"events answer lacks required field(s) {', '.join(absent)} in all "
                f"{len(raw)} item(s); is this the legacy /analytics events format?"
            )
            raise SchemaError(err, url=url)
    frame = clean_events(raw)
    if bad:
        frame.attrs["dropped"]["not an object"] = bad
    return frame


def clean_events(raw: pd.DataFrame) -> pd.DataFrame:
    """Validate and conform raw event columns; drop and count rows with bad values.

    ``raw`` has (some of) the events columns with any dtypes. Rows are dropped when the
    session id is missing, the type is not one of the legacy collector's, the timestamp
    does not parse, or a position is present but not a number.
    """
    dropped: dict[str, int] = {}
    n = len(raw)
    if n == 0:
        return _attach(conform(raw if len(raw.columns) else None, EVENT_COLUMNS), dropped)
    keep = np.ones(n, dtype=bool)

    def drop(mask: Any, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool) & keep
        count = int(mask.sum())
        if count:
            dropped[reason] = dropped.get(reason, 0) + count
            keep[mask] = False

    def col(name: str) -> pd.Series:
        if name in raw.columns:
            return raw[name].reset_index(drop=True)
        return pd.Series(np.full(n, None, dtype=object))

    session_id = col("session_id")
    drop(session_id.isna().to_numpy(), "missing session_id")
    kind = col("type")
    kind_text = kind.astype(object)
    drop(~kind_text.isin(list(EVENT_TYPES)).to_numpy(), "unknown type")
    positions = {}
    for name in ("at", "seek_from", "seek_to"):
        values = col(name)
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if pd.api.types.is_bool_dtype(values.dtype):
            numbers = pd.Series(np.full(n, np.nan))
            drop(values.notna().to_numpy(), f"non-numeric {name}")
        else:
            obj = values.astype(object) if values.dtype == object else values
            if values.dtype == object:
                is_bool = obj.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(bool)
                drop(is_bool, f"non-numeric {name}")
            numbers = pd.to_numeric(obj, errors="coerce")
            drop((values.notna() & numbers.isna()).to_numpy(), f"non-numeric {name}")
            finite = numbers.isna() | np.isfinite(numbers.astype("float64"))
            drop(~finite.to_numpy(), f"non-numeric {name}")
        positions[name] = numbers
    emitted_raw = col("emitted_at")
    emitted = to_utc(emitted_raw)
    drop(emitted.isna().to_numpy(), "bad emitted_at")
    data = {
        "session_id": session_id,
        "type": kind_text,
        **positions,
        "emitted_at": emitted,
    }
    extras = [c for c in raw.columns if c not in EVENT_COLUMNS]
    frame = pd.DataFrame(data)
    for name in extras:
        frame[name] = raw[name].reset_index(drop=True)
    frame = frame.loc[keep].reset_index(drop=True)
    out = conform(frame, EVENT_COLUMNS)
    # Only the sessions present remain as categories.
    out["session_id"] = out["session_id"].cat.remove_unused_categories()
    return _attach(out, dropped)


# ----------------------------------------------------------------------------- /data


def metric_frame(body: Any, *, metric: str, aggregation: str, url: str | None = None) -> Any:
    """``/data/metrics/{metric}/{aggregation}`` -> one row."""
    if not isinstance(body, Mapping) or "data" not in body:
        err = f"metrics answer for {metric}/{aggregation} lacks the required field data"
        raise SchemaError(err, url=url)
    context = body.get("context") or {}
    timeframe = context.get("timeframe") or {}
    value = body["data"]
    if isinstance(value, bool) or not isinstance(value, int | float | type(None)):
        err = f"metrics answer for {metric}/{aggregation}: data is not a number ({value!r})"
        raise SchemaError(err, url=url)
    row = {
        "metric": context.get("metric", metric),
        "aggregation": context.get("aggregation", aggregation),
        "start": timeframe.get("from"),
        "end": timeframe.get("to"),
        "value": value,
    }
    frame = conform(pd.DataFrame([row]), METRIC_COLUMNS)
    frame.attrs["context"] = dict(context)
    return frame


# --------------------------------------------------------------------------- arguments

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)

PERIOD_FORMS = (
    "a day '2024-01-15', an ISO week '2024-W03', a month '2024-01', a year '2024', "
    "or a range of two of those '2024-01-01/2024-01-15'"
)


def _period_error(period: Any, why: str = "") -> ValueError:
    extra = f" ({why})" if why else ""
    return ValueError(f"period {period!r} is not valid{extra}; use {PERIOD_FORMS}")


def _day(text: str, period: Any) -> dt.date:
    m = _DAY.match(text)
    if not m:
        raise _period_error(period)
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise _period_error(period, f"{text} is not a date") from None


def period_bounds(text: str) -> tuple[dt.date, dt.date]:
    """The first day and the day after the last of a valid period string.

    The sandbox server parses periods with the same function, so the two always agree.
    """
    try:
        start, end = _periods.parse_period(text)
    except _periods.PeriodError as exc:
        raise _period_error(text, str(exc).split(". Use ")[0]) from None
    return start.date(), end.date()


def _as_date(value: Any, period: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _day(value, period)
    raise _period_error(period)


def parse_period(period: Any, *, today: dt.date) -> tuple[str, dt.date, dt.date]:
    """Validate a legacy ``period`` locally: ``(text, first_day, day_after_last)``.

    ``None`` is the last 30 days (today included). Dates and ``(start, end)`` pairs of
    dates are accepted too.
    """
    if period is None:
        first = today - dt.timedelta(days=29)
        text = f"{first.isoformat()}/{today.isoformat()}"
    elif isinstance(period, str):
        text = period.strip()
    elif isinstance(period, dt.date):
        text = _as_date(period, period).isoformat()
    elif isinstance(period, tuple | list) and len(period) == 2:
        a, b = (_as_date(v, period) for v in period)
        text = f"{a.isoformat()}/{b.isoformat()}"
    else:
        raise _period_error(period)
    first, after = period_bounds(text)
    return text, first, after


def to_timestamp(value: Any, name: str) -> pd.Timestamp:
    """A user's start/end (str, date, datetime, Timestamp) as a UTC Timestamp."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        err = f"{name}={value!r} is not a date or time; pass e.g. '2024-05-01T00:00:00Z'"
        raise ValueError(err) from None
    if ts is pd.NaT:
        err = f"{name} must not be missing"
        raise ValueError(err)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _choice(value: Any, valid: Sequence[str], name: str) -> str:
    if value not in valid:
        err = f"{name}={value!r} is not one of {', '.join(map(repr, valid))}"
        raise ValueError(err)
    return str(value)


def data_params(
    kind: str,
    *,
    start: Any = None,
    end: Any = None,
    filters: Mapping[str, Any],
) -> tuple[list[tuple[str, str]], pd.Timestamp | None]:
    """Query parameters of a ``/data`` call, validated: ``(params, end_timestamp)``.

    ``filters`` take ``filterBy`` names (snake_case or camelCase: ``country="FR"``,
    ``device_type=["phone", "tablet"]``) and the options ``unique``, ``view_duration``,
    ``sort_by``, ``sort_order``.
    """
    params: list[tuple[str, str]] = []
    t0 = to_timestamp(start, "start") if start is not None else None
    t1 = to_timestamp(end, "end") if end is not None else None
    if t0 is not None and t1 is not None and t0 >= t1:
        err = f"start ({t0.isoformat()}) must be before end ({t1.isoformat()})"
        raise ValueError(err)
    if t0 is not None:
        params.append(("from", t0.isoformat(timespec="seconds")))
    if t1 is not None:
        params.append(("to", t1.isoformat(timespec="seconds")))
    sort_by = _SORT_BY[kind]
    options = ["unique", "viewDuration", *(["sortBy", "sortOrder"] if sort_by else [])]
    for key in sorted(filters):
        value = filters[key]
        if value is None:
            continue
        name = camel(key)
        if name == "filterBy" and isinstance(value, Mapping):
            nested, _ = data_params(kind, filters=value)
            params.extend(nested)
            continue
        if name in _FILTERS:
            if isinstance(value, str | int | float):
                params.append((f"filterBy[{name}]", str(value)))
            else:
                values = list(value)
                if name in ("tag", "mediaType") and len(values) == 1:
                    params.append((f"filterBy[{name}]", str(values[0])))
                else:
                    params.extend((f"filterBy[{name}][]", str(v)) for v in values)
        elif name == "unique":
            params.append(("unique", "true" if value else "false"))
        elif name == "viewDuration":
            params.append(("viewDuration", _choice(value, VIEW_DURATIONS, "view_duration")))
        elif name == "sortBy" and sort_by:
            params.append(("sortBy", _choice(camel(str(value)), sort_by, "sort_by")))
        elif name == "sortOrder" and sort_by:
            params.append(("sortOrder", _choice(value, ("asc", "desc"), "sort_order")))
        else:
            valid = ", ".join(snake(f) for f in (*_FILTERS, *options))
            err = f"unknown filter {key!r}; valid filters are {valid}"
            raise ValueError(err)
    return params, t1


#: Query options of the list endpoints (besides pagination).
LIST_FILTERS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "videos": {
        "title": None,
        "tags": None,
        "metadata": None,
        "description": None,
        "liveStreamId": None,
        "sortBy": ("title", "createdAt", "publishedAt", "updatedAt"),
        "sortOrder": ("asc", "desc"),
    },
    "live_streams": {
        "streamKey": None,
        "name": None,
        "sortBy": ("name", "createdAt", "updatedAt"),
        "sortOrder": ("asc", "desc"),
    },
    "players": {
        "sortBy": ("name", "createdAt", "updatedAt"),
        "sortOrder": ("asc", "desc"),
    },
    "upload_tokens": {
        "sortBy": ("createdAt", "ttl"),
        "sortOrder": ("asc", "desc"),
    },
    "webhooks": {"events": None},
}


def list_params(resource: str, filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Validate list filters (snake_case or camelCase) into query parameters."""
    valid = LIST_FILTERS[resource]
    params: list[tuple[str, str]] = []
    for key in sorted(filters):
        value = filters[key]
        if value is None:
            continue
        name = camel(key)
        if name not in valid:
            names = ", ".join(snake(v) for v in valid) or "none"
            err = f"unknown filter {key!r} for {resource}; valid filters are {names}"
            raise ValueError(err)
        choices = valid[name]
        if name == "metadata":
            if not isinstance(value, Mapping):
                err = "metadata must be a dict such as {'Author': 'John Doe'}"
                raise TypeError(err)
            params.extend((f"metadata[{k}]", str(v)) for k, v in sorted(value.items()))
        elif name == "tags":
            tags = [value] if isinstance(value, str) else list(value)
            params.extend(("tags[]", str(t)) for t in tags)
        elif choices is not None:
            text = camel(str(value)) if name == "sortBy" else str(value)
            params.append((name, _choice(text, choices, snake(name))))
        else:
            params.append((name, str(value)))
    return params
