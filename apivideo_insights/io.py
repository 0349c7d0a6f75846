"""Player events from files, with the same columns as :meth:`Client.events`.

:func:`read_events` reads what teams keep of the legacy analytics: saved API pages (JSON:
one page, a list of pages, or a list of events), NDJSON (one event or one page per line),
CSV, and Parquet (one file or a partitioned directory, as :func:`write_events_parquet`
writes). Rows with bad values are dropped and counted by reason in ``attrs["dropped"]``.

>>> import io, apivideo_insights as avi
>>> page = '''{"data": [{"type": "play", "emittedAt": "2024-01-01T10:00:00Z", "at": 0}],
...   "pagination": {"links": [{"rel": "self",
...     "uri": "/analytics/sessions/psABC/events?currentPage=1&pageSize=25"}]}}'''
>>> avi.read_events(io.StringIO(page))[["session_id", "type", "at"]]
  session_id  type   at
0      psABC  play  0.0
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._wire import clean_events
from .exceptions import SchemaError
from .schema import EVENT_COLUMNS

__all__ = ["read_events", "write_events_parquet"]

_SESSION_IN_URI = re.compile(r"/analytics/sessions/([^/?#]+)/events")
_RENAME = {
    "sessionId": "session_id",
    "session": "session_id",
    "emittedAt": "emitted_at",
    "from": "seek_from",
    "to": "seek_to",
    "videoId": "video_id",
    "liveStreamId": "live_stream_id",
}
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def read_events(path_or_buffer: Any) -> pd.DataFrame:
    """Read player events from a file, a directory of Parquet files, or a buffer.

    Parameters
    ----------
    path_or_buffer : str, path, bytes or file-like
        * JSON: one saved ``/analytics/sessions/{id}/events`` page, a list of pages, or a
          list of events. The session id comes from the page's ``pagination.links`` or a
          ``session_id`` / ``sessionId`` field (on the event or the page).
        * NDJSON (``.ndjson``, ``.jsonl``): one event or one page per line.
        * CSV: columns ``session_id, type, at, seek_from, seek_to, emitted_at`` (or the
          API's ``sessionId, emittedAt, from, to``).
        * Parquet: a file, or a directory of them (partitioned or not).

        The format is taken from the suffix, else sniffed from the content.

    Returns
    -------
    pandas.DataFrame
        ``session_id, type, at, seek_from, seek_to, emitted_at`` (the contract dtypes),
        then any extra columns the source had (``video_id``...). ``attrs["dropped"]``
        counts rows dropped by reason; ``attrs["source"]`` names the source.

    Raises
    ------
    SchemaError
        The source has events but no way to tell their session, or lacks ``type`` /
        ``emittedAt`` altogether.

    Examples
    --------
    >>> events = avi.read_events("exports/events.ndjson")               # doctest: +SKIP
    """
    source, kind, data = _open(path_or_buffer)
    if kind == "parquet":
        raw = _read_parquet(data)
        dropped_pages = 0
    elif kind == "csv":
        raw = pd.read_csv(data, dtype=object, keep_default_na=True)
        raw = raw.rename(columns=_RENAME)
        dropped_pages = 0
    else:
        text = data if isinstance(data, str) else data.decode("utf-8-sig")
        records, dropped_pages = _json_records(text, ndjson=kind == "ndjson", source=source)
        raw = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        raw = raw.rename(columns=_RENAME)
    _check_required(raw, source)
    frame = clean_events(raw)
    if dropped_pages:
        frame.attrs["dropped"]["duplicate page"] = dropped_pages
    frame.attrs["source"] = source
    frame.attrs["endpoint"] = None
    return frame


def _check_required(raw: pd.DataFrame, source: str) -> None:
    if len(raw) == 0:
        return
    absent = [name for name in ("type", "emitted_at") if name not in raw.columns]
    absent += [
        name for name in ("type", "emitted_at") if name in raw.columns and raw[name].isna().all()
    ]
    if absent:
        err = (
            f"{source}: the events lack the required field(s) {', '.join(sorted(set(absent)))}; "
            "expected api.video player events (type, emittedAt, at, from, to)"
        )
        raise SchemaError(err)
    if "session_id" not in raw.columns or raw["session_id"].isna().all():
        err = (
            f"{source}: cannot tell which session the events belong to; save the pages with "
            "their pagination links, or add a session_id field or column"
        )
        raise SchemaError(err)


def _open(path_or_buffer: Any) -> tuple[str, str, Any]:
    """(source name, format, data): data is a path for parquet, else text or bytes."""
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer).expanduser()
        if not path.exists():
            err = f"no such file or directory: {str(path)!r}"
            raise FileNotFoundError(err)
        if path.is_dir():
            return str(path), "parquet", path
        suffix = "".join(path.suffixes[-2:]).lower()
        name = path.name.lower()
        if name.endswith(_PARQUET_SUFFIXES):
            return str(path), "parquet", path
        if name.endswith(".csv") or ".csv." in suffix:
            return str(path), "csv", path
        content = path.read_bytes()
        if name.endswith((".ndjson", ".jsonl")):
            return str(path), "ndjson", content
        return str(path), _sniff(content), content if _sniff(content) != "parquet" else path
    if isinstance(path_or_buffer, bytes | bytearray):
        content = bytes(path_or_buffer)
        kind = _sniff(content)
        return "<bytes>", kind, io.BytesIO(content) if kind in ("parquet", "csv") else content
    if hasattr(path_or_buffer, "read"):
        content = path_or_buffer.read()
        name = getattr(path_or_buffer, "name", "<buffer>")
        if isinstance(content, str):
            kind = _sniff(content.encode("utf-8", "replace")[:4096])
            return str(name), kind, io.StringIO(content) if kind == "csv" else content
        kind = _sniff(content)
        return str(name), kind, io.BytesIO(content) if kind in ("parquet", "csv") else content
    err = (
        "path_or_buffer must be a path, bytes or a file-like object, not "
        f"{type(path_or_buffer).__name__}"
    )
    raise TypeError(err)


def _sniff(content: bytes) -> str:
    if content[:4] == b"PAR1":
        return "parquet"
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"[":
        return "json"
    if head == b"{":
        try:
            json.loads(content)
            return "json"
        except ValueError:
            return "ndjson"
    return "csv"


def _read_parquet(data: Any) -> pd.DataFrame:
    if isinstance(data, Path) and data.is_dir() and not any(data.rglob("*")):
        return pd.DataFrame()
    raw = pd.read_parquet(data)
    raw = raw.rename(columns=_RENAME)
    # Hive partition columns come back as categories of strings; that is what we want.
    return raw


def _session_from_page(page: Mapping[str, Any]) -> str | None:
    for key in ("session_id", "sessionId"):
        value = page.get(key)
        if isinstance(value, str) and value:
            return value
    pagination = page.get("pagination")
    if isinstance(pagination, Mapping):
        links = pagination.get("links")
        uris: Iterable[Any] = ()
        if isinstance(links, list):
            uris = (link.get("uri") for link in links if isinstance(link, Mapping))
        elif isinstance(links, Mapping):
            uris = links.values()
        for uri in uris:
            if isinstance(uri, str):
                m = _SESSION_IN_URI.search(uri)
                if m:
                    return m.group(1)
    return None


def _page_number(page: Mapping[str, Any]) -> Any:
    pagination = page.get("pagination")
    if isinstance(pagination, Mapping):
        return pagination.get("currentPage")
    return None


def _json_records(text: str, *, ndjson: bool, source: str) -> tuple[list[dict[str, Any]], int]:
    """Flatten pages / events into event records carrying ``session_id``."""
    if ndjson:
        values = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            try:
                values.append(json.loads(line))
            except ValueError:
                err = f"{source}: line {number} is not JSON"
                raise SchemaError(err) from None
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            err = f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})"
            raise SchemaError(err) from None
        values = value if isinstance(value, list) else [value]
    records: list[dict[str, Any]] = []
    seen_pages: set[tuple[str, Any]] = set()
    duplicates = 0
    for value in values:
        if isinstance(value, Mapping) and isinstance(value.get("data"), list):
            sid = _session_from_page(value)
            number = _page_number(value)
            if sid is not None and number is not None:
                if (sid, number) in seen_pages:
                    # The same page saved twice would double its events.
                    duplicates += len(value["data"])
                    continue
                seen_pages.add((sid, number))
            for item in value["data"]:
                records.append(_record(item, sid))
        elif isinstance(value, Mapping) and isinstance(value.get("events"), list):
            sid = _session_from_page(value)
            for item in value["events"]:
                records.append(_record(item, sid))
        else:
            records.append(_record(value, None))
    return records, duplicates


def _record(item: Any, session_id: str | None) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        # Kept as an all-missing row, so that it is dropped and counted.
        return {"session_id": session_id}
    record = dict(item)
    if session_id is not None and not (record.get("session_id") or record.get("sessionId")):
        record["session_id"] = session_id
    return record


def write_events_parquet(
    events: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    partition_by: str | list[str] | None = "auto",
    overwrite: bool = False,
) -> Path:
    """Write events to a Parquet dataset that :func:`read_events` reads back identically.

    Parameters
    ----------
    events : pandas.DataFrame
        An events frame (``api.events``, ``read_events``).
    path : str or path
        A directory (created).
    partition_by : str, list of str, None or "auto"
        Hive partition columns. ``"auto"``: ``video_id`` (else ``live_stream_id``) when
        the frame has it for every row, else no partitions (one file).
    overwrite : bool
        Replace an existing non-empty directory.

    Returns
    -------
    pathlib.Path
        The dataset directory.

    Examples
    --------
    >>> write_events_parquet(events, "archive/events")                   # doctest: +SKIP
    >>> avi.read_events("archive/events")                                # doctest: +SKIP
    """
    if not isinstance(events, pd.DataFrame):
        err = f"events must be a DataFrame, not {type(events).__name__}"
        raise TypeError(err)
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        err = f"events lacks the column(s) {', '.join(missing)}; pass an events frame"
        raise ValueError(err)
    target = Path(path).expanduser()
    if target.exists() and (target.is_file() or any(target.iterdir())):
        if not overwrite:
            err = f"{str(target)!r} exists and is not empty; pass overwrite=True to replace it"
            raise FileExistsError(err)
        if target.is_file():
            target.unlink()
        else:
            shutil.rmtree(target)
    if partition_by == "auto":
        partition_by = None
        for name in ("video_id", "live_stream_id"):
            if name in events.columns and len(events) and events[name].notna().all():
                partition_by = [name]
                break
    elif isinstance(partition_by, str):
        partition_by = [partition_by]
    frame = events.copy()
    frame.attrs = {}
    target.mkdir(parents=True, exist_ok=True)
    if partition_by:
        for name in partition_by:
            if name not in frame.columns or frame[name].isna().any():
                err = f"cannot partition by {name!r}: the column is missing or has gaps"
                raise ValueError(err)
            frame[name] = frame[name].astype(str)
        frame.to_parquet(target, partition_cols=list(partition_by), index=False)
    else:
        frame.to_parquet(target / "part-0.parquet", index=False)
    return target
