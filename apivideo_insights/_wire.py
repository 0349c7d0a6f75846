"""From api.video JSON to tidy frames: the wire format, read.

Pure functions only (no HTTP): the loaders in :mod:`apivideo_insights.client` and the file
reader :func:`apivideo_insights.read_events` share them. Arguments going the other way (user
arguments to query parameters) live in :mod:`apivideo_insights._params`; the columns each
frame ends with, in :mod:`apivideo_insights.schema`.

* Items are flattened (``location.country`` -> ``location_country``), names become
  snake_case, ``metadata`` lists of ``{key, value}`` become dicts, timestamps become UTC.
* Each resource has a column spec, so an empty answer has the same columns and dtypes.
* Rows that lack a required field or carry a value of the wrong type are dropped and
  counted by reason in ``df.attrs["dropped"]``; a required field missing from *every* item
  is a :class:`~apivideo_insights.SchemaError` naming it.
* Text that cannot be encoded (a lone UTF-16 surrogate such as ``"\\ud800"``, which JSON
  allows) is replaced by U+FFFD and counted by column in ``df.attrs["replaced_text"]``:
  one bad title must not fail a whole load, nor a later Parquet or HTML write.

>>> from apivideo_insights._wire import snake, flatten
>>> snake("referrer.searchTerm")
'referrer_search_term'
>>> flatten({"location": {"country": "FR"}, "metadata": [{"key": "a", "value": "1"}]})
{'location_country': 'FR', 'metadata': {'a': '1'}}
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SchemaError
from .schema import (
    ACCOUNT_COLUMNS,
    DATETIME,
    EVENT_COLUMNS,
    EVENT_TYPES,
    LIVE_SESSION_COLUMNS,
    METRIC_COLUMNS,
    SESSION_COLUMNS,
    VIDEO_STATUS_COLUMNS,
    conform,
    empty_frame,
    to_utc,
)

__all__ = [
    "account_frame",
    "camel",
    "clean_events",
    "conform_text",
    "event_frame",
    "flatten",
    "item_frame",
    "metadata_dict",
    "metric_frame",
    "records_frame",
    "resource_frame",
    "scrub_text",
    "session_frame",
    "snake",
    "video_status_frame",
]

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


# ------------------------------------------------------------------------------- text

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\ud[89a-f][0-9a-f]{2}")
REPLACEMENT = "\ufffd"


def scrub_text(value: Any) -> tuple[Any, int]:
    """``value`` with lone surrogates replaced by U+FFFD, in strings, lists and dict keys
    and values; and how many strings changed.

    >>> scrub_text({"title": "a\\ud800b", "tags": ["ok", "\\udc00"]})
    ({'title': 'a\ufffdb', 'tags': ['ok', '\ufffd']}, 2)
    """
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return value, 0
        return _SURROGATE.sub(REPLACEMENT, value), 1
    if isinstance(value, list | tuple):
        out, total = [], 0
        for v in value:
            clean, n = scrub_text(v)
            out.append(clean)
            total += n
        return (out if total else value), total
    if isinstance(value, Mapping):
        pairs, total = [], 0
        for k, v in value.items():
            ck, nk = scrub_text(k)
            cv, nv = scrub_text(v)
            pairs.append((ck, cv))
            total += nk + nv
        return (dict(pairs) if total else value), total
    return value, 0


def _scrub_columns(raw: pd.DataFrame, names: Iterable[str], counts: dict[str, int]) -> pd.DataFrame:
    """Scrub the object columns ``names`` of ``raw`` in place, counting changed values."""
    for name in names:
        if name not in raw.columns or raw[name].dtype != object:
            continue
        values = raw[name].tolist()
        # repr() shows a lone surrogate as its escape, and is fast (C) on lists of dicts:
        # most columns are ruled out without looking at each value.
        if not _ESCAPED_SURROGATE.search(repr(values)):
            continue
        pairs = [scrub_text(v) for v in values]
        changed = sum(n > 0 for _, n in pairs)
        if changed:
            raw[name] = pd.Series([v for v, _ in pairs], index=raw.index, dtype=object)
            counts[name] = counts.get(name, 0) + changed
    return raw


def records_frame(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, dict[str, int]]:
    """``DataFrame.from_records`` that survives unencodable text (pandas infers its string
    dtype, which refuses lone surrogates): the frame, and replaced values by column."""
    try:
        return pd.DataFrame.from_records(rows), {}
    except UnicodeEncodeError:
        pass
    counts: dict[str, int] = {}
    clean_rows = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            clean[key], n = scrub_text(value)
            if n:
                counts[key] = counts.get(key, 0) + 1
        clean_rows.append(clean)
    return pd.DataFrame.from_records(clean_rows), counts


def conform_text(
    raw: pd.DataFrame, columns: Mapping[str, Any], *, check_loose: bool = True
) -> tuple[pd.DataFrame, dict[str, int]]:
    """:func:`~apivideo_insights.schema.conform` that survives unencodable text.

    Text columns are scrubbed only when pandas' string dtype refuses them (free in the
    common case); object columns (lists, dicts, extras) are always checked, since they
    would only fail later, in a Parquet or HTML write (``check_loose=False`` skips that:
    events frames are large and carry no free text). Returns the frame and the count of
    replaced values by column.
    """
    counts: dict[str, int] = {}
    loose = [c for c in raw.columns if columns.get(c, object) is object] if check_loose else []
    _scrub_columns(raw, loose, counts)
    try:
        return conform(raw, columns), counts
    except UnicodeEncodeError:
        _scrub_columns(raw, [c for c in raw.columns if c not in loose], counts)
        return conform(raw, columns), counts


def _typed_frame(
    rows: list[dict[str, Any]], columns: Mapping[str, Any], dropped: dict[str, int]
) -> pd.DataFrame:
    """Flat rows -> a conformed frame; rows with unreadable timestamps dropped and counted,
    other unreadable values blanked and counted in ``attrs["invalid_values"]``, unencodable
    text replaced and counted in ``attrs["replaced_text"]``."""
    if not rows:
        return _attach(empty_frame(columns), dropped)
    raw, replaced = records_frame(rows)
    frame, more = conform_text(raw, columns)
    for name, n in more.items():
        replaced[name] = replaced.get(name, 0) + n
    invalid = _invalid_values(frame, columns, raw)
    ok = _timestamps_ok(frame, columns, raw)
    if not ok.all():
        dropped["unparseable timestamp"] = int((~ok).sum())
        frame = frame.loc[ok].reset_index(drop=True)
    frame = _attach(frame, dropped)
    if invalid:
        frame.attrs["invalid_values"] = invalid
    if replaced:
        frame.attrs["replaced_text"] = replaced
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


def item_frame(
    body: Any,
    columns: Mapping[str, Any],
    *,
    required: Sequence[str],
    what: str,
    extra: Mapping[str, Any] | None = None,
    url: str | None = None,
) -> pd.DataFrame:
    """One item (``GET /videos/{id}``...) -> a one-row frame with the list's columns.

    An answer that is not an object, or lacks a required field, is a SchemaError.

    >>> from apivideo_insights.schema import WEBHOOK_COLUMNS
    >>> item_frame({"webhookId": "wh1", "url": "https://x.test"}, WEBHOOK_COLUMNS,
    ...            required=["webhook_id"], what="webhook")[["webhook_id", "url"]]
      webhook_id             url
    0        wh1  https://x.test
    """
    if not isinstance(body, Mapping):
        err = f"{what} answer is not a JSON object ({type(body).__name__})"
        raise SchemaError(err, url=url)
    return resource_frame([body], columns, required=required, what=what, extra=extra, url=url)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def account_frame(body: Any, url: str | None = None) -> pd.DataFrame:
    """``GET /account`` (2021 spec) -> one row (``schema.ACCOUNT_COLUMNS``)."""
    if not isinstance(body, Mapping):
        err = f"account answer is not a JSON object ({type(body).__name__})"
        raise SchemaError(err, url=url)
    quota = _mapping(body.get("quota"))
    row = {
        "environment": body.get("environment"),
        "features": body.get("features"),
        "quota_used": quota.get("quotaUsed"),
        "quota_remaining": quota.get("quotaRemaining"),
        "quota_total": quota.get("quotaTotal"),
    }
    return _typed_frame([row], ACCOUNT_COLUMNS, {})


def video_status_frame(video_id: str, body: Mapping[str, Any], url: str | None = None) -> Any:
    """``GET /videos/{id}/status`` -> one row."""
    if not isinstance(body, Mapping) or "encoding" not in body:
        err = f"video status answer for {video_id} lacks the 'encoding' object"
        raise SchemaError(err, url=url)
    encoding = _mapping(body.get("encoding"))
    meta = _mapping(encoding.get("metadata"))
    ingest = _mapping(body.get("ingest"))
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
    return _typed_frame([row], VIDEO_STATUS_COLUMNS, {})


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
    out, replaced = conform_text(frame, EVENT_COLUMNS, check_loose=False)
    # Only the sessions present remain as categories.
    out["session_id"] = out["session_id"].cat.remove_unused_categories()
    if replaced:
        out.attrs["replaced_text"] = replaced
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
