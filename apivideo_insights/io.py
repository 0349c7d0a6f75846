"""Player events from files, with the same columns as :meth:`Client.events`.

:func:`read_events` reads what teams keep of the legacy analytics: saved API pages (JSON:
one page, a list of pages, or a list of events), NDJSON (one event or one page per line),
CSV or TSV, any of those gzipped, and Parquet (one file or a partitioned directory, as
:func:`write_events_parquet` writes). The format is read from the content, not trusted from
the file name. Rows with bad values are dropped and counted by reason in
``attrs["dropped"]``.

>>> import io, apivideo_insights as avi
>>> page = '''{"data": [{"type": "play", "emittedAt": "2024-01-01T10:00:00Z", "at": 0}],
...   "pagination": {"links": [{"rel": "self",
...     "uri": "/analytics/sessions/psABC/events?currentPage=1&pageSize=25"}]}}'''
>>> avi.read_events(io.StringIO(page))[["session_id", "type", "at"]]
  session_id  type   at
0      psABC  play  0.0
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._wire import clean_events, records_frame, scrub_text
from .exceptions import SchemaError, warn
from .schema import EVENT_COLUMNS

__all__ = ["read_events", "write_events_parquet"]

_SESSION_IN_URI = re.compile(r"/analytics/sessions/([^/?#]+)/events")
#: The API's (and older exports') names -> the toolkit's.
_RENAME = {
    "sessionId": "session_id",
    "session": "session_id",
    "emittedAt": "emitted_at",
    "from": "seek_from",
    "to": "seek_to",
    "videoId": "video_id",
    "liveStreamId": "live_stream_id",
}
_EXPECTED = (
    "session_id (or sessionId), type, emitted_at (or emittedAt), at, seek_from (or from), "
    "seek_to (or to)"
)
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_GZIP = b"\x1f\x8b"
_BLANK = b"\xef\xbb\xbf \t\r\n"
#: Bytes looked at to tell the format (and a CSV's delimiter).
_PEEK = 1 << 16


def read_events(path_or_buffer: Any) -> pd.DataFrame:
    """Read player events from a file, a directory of Parquet files, or a buffer.

    Parameters
    ----------
    path_or_buffer : str, path, bytes or file-like
        * JSON: one saved ``/analytics/sessions/{id}/events`` page, a list of pages, or a
          list of events. The session id comes from the page's ``pagination.links`` or a
          ``session_id`` / ``sessionId`` field (on the event or the page).
        * NDJSON: one event or one page per line.
        * CSV or TSV: columns ``session_id, type, at, seek_from, seek_to, emitted_at`` (or
          the API's ``sessionId, emittedAt, from, to``).
        * Parquet: a file, or a directory of them (partitioned or not).

        Any of the text forms may be gzipped. The format is read from the content
        (``events.txt`` may hold CSV); text must be UTF-8. An empty file has no events.

    Returns
    -------
    pandas.DataFrame
        ``session_id, type, at, seek_from, seek_to, emitted_at`` (the contract dtypes of
        :data:`apivideo_insights.schema.EVENT_COLUMNS`), then any extra columns the source
        had (``video_id``...). ``attrs["dropped"]`` counts rows dropped by reason;
        ``attrs["source"]`` names the source; ``attrs["conflicts"]`` counts rows whose two
        spellings of a field (``sessionId`` and ``session_id``) disagreed (the
        snake_case one is kept).

    Raises
    ------
    SchemaError
        The source is not one of those formats (not UTF-8, not JSON, nested too deeply), or
        has events but no way to tell their session, or lacks ``type`` / ``emittedAt``
        altogether; the message lists the columns found and those expected.

    Examples
    --------
    >>> import apivideo_insights as avi
    >>> csv = '''sessionId,type,emittedAt,at,from,to
    ... ps1,play,2024-05-01T10:00:00Z,0,,
    ... ps1,seek.forward,2024-05-01T10:00:05Z,,5,60
    ... ps1,pause,2024-05-01T10:00:09Z,64,,'''
    >>> events = avi.read_events(csv.encode())
    >>> events[["session_id", "type", "at", "seek_to"]]
      session_id          type    at  seek_to
    0        ps1          play   0.0      NaN
    1        ps1  seek.forward   NaN     60.0
    2        ps1         pause  64.0      NaN
    >>> events.attrs["dropped"]
    {}
    """
    source, kind, data = _open(path_or_buffer)
    dropped_pages = 0
    if kind == "empty":
        raw = pd.DataFrame()
    elif kind == "parquet":
        raw = _read_parquet(data)
    elif kind == "csv":
        raw = _read_csv(data, source)
    else:
        text = _decode(data, source)
        records, dropped_pages = _json_records(text, ndjson=kind == "ndjson", source=source)
        raw = records_frame(records)[0] if records else pd.DataFrame()
    raw, conflicts = _merge_names(raw)
    _check_required(raw, source)
    frame = clean_events(raw)
    if dropped_pages:
        frame.attrs["dropped"]["duplicate page"] = dropped_pages
    if conflicts:
        frame.attrs["conflicts"] = conflicts
        warn(
            f"{source}: {sum(conflicts.values())} row(s) spell a field two ways with "
            f"different values ({', '.join(conflicts)}); kept the snake_case value "
            "(attrs['conflicts'] counts them)."
        )
    frame.attrs["source"] = source
    frame.attrs["endpoint"] = None
    return frame


def _merge_names(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The API's names renamed to the toolkit's; where a source has both spellings (one
    event ``sessionId``, the next ``session_id``), one column, counting disagreements."""
    conflicts: dict[str, int] = {}
    for alias, name in _RENAME.items():
        if alias not in raw.columns:
            continue
        if name not in raw.columns:
            raw = raw.rename(columns={alias: name})
            continue
        ours, theirs = raw[name], raw[alias]
        both = ours.notna() & theirs.notna()
        differ = both & (ours.astype(object).astype(str) != theirs.astype(object).astype(str))
        if differ.any():
            conflicts[name] = conflicts.get(name, 0) + int(differ.sum())
        merged = ours.astype(object).where(ours.notna(), theirs.astype(object))
        raw = raw.drop(columns=[alias]).assign(**{name: merged})
    return raw, conflicts


def _found(raw: pd.DataFrame) -> str:
    names = [str(c) for c in raw.columns[:20]]
    more = f" and {len(raw.columns) - 20} more" if len(raw.columns) > 20 else ""
    return (", ".join(names) or "none") + more


def _check_required(raw: pd.DataFrame, source: str) -> None:
    if len(raw) == 0:
        return
    absent = [name for name in ("type", "emitted_at") if name not in raw.columns]
    absent += [
        name for name in ("type", "emitted_at") if name in raw.columns and raw[name].isna().all()
    ]
    if absent:
        err = (
            f"{source}: the events lack the required field(s) {', '.join(sorted(set(absent)))}. "
            f"Columns found: {_found(raw)}; expected api.video player events with {_EXPECTED}."
        )
        raise SchemaError(err)
    if "session_id" not in raw.columns or raw["session_id"].isna().all():
        err = (
            f"{source}: cannot tell which session the events belong to (columns found: "
            f"{_found(raw)}); save the pages with their pagination links, or add a "
            "session_id field or column"
        )
        raise SchemaError(err)


# --------------------------------------------------------------------------- formats


def _open(path_or_buffer: Any) -> tuple[str, str, Any]:
    """(source name, format, data): a path (Parquet, or a CSV file read in place) or bytes.

    The format is told by the content (``PAR1``, gzip, ``[`` / ``{``, else CSV); a name
    ending in ``.ndjson`` / ``.jsonl`` (before any ``.gz``) settles JSON versus NDJSON.
    """
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer).expanduser()
        if not path.exists():
            err = f"no such file or directory: {str(path)!r}"
            raise FileNotFoundError(err)
        if path.is_dir() or path.name.lower().endswith(_PARQUET_SUFFIXES):
            return str(path), "parquet", path
        with path.open("rb") as f:
            head = f.read(_PEEK)
        source, name = str(path), path.name.lower()
        if head[:2] != _GZIP:
            kind = _sniff(head, name)
            # A plain CSV file is parsed in place: big exports need not fit in memory twice.
            return source, kind, (path if kind in ("csv", "parquet") else path.read_bytes())
        content = path.read_bytes()
    elif isinstance(path_or_buffer, bytes | bytearray | memoryview):
        source, name, content = "<bytes>", "", bytes(path_or_buffer)
    elif hasattr(path_or_buffer, "read"):
        data = path_or_buffer.read()
        source = str(getattr(path_or_buffer, "name", "<buffer>"))
        name = source.lower()
        if isinstance(data, str):
            # Text already decoded: a lone surrogate becomes U+FFFD rather than an error.
            data = scrub_text(data)[0].encode("utf-8")
        if not isinstance(data, bytes | bytearray):
            err = f"{source}: read() gave {type(data).__name__}, not text or bytes"
            raise TypeError(err)
        content = bytes(data)
    else:
        err = (
            "path_or_buffer must be a path, bytes or a file-like object, not "
            f"{type(path_or_buffer).__name__}"
        )
        raise TypeError(err)
    if content[:2] == _GZIP:
        content = _gunzip(content, source)
        name = name.removesuffix(".gz")
    kind = _sniff(content[:_PEEK], name)
    return source, kind, (io.BytesIO(content) if kind == "parquet" else content)


def _gunzip(content: bytes, source: str) -> bytes:
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as exc:
        err = f"{source}: starts like gzip but does not decompress ({exc}); is it truncated?"
        raise SchemaError(err) from None


def _sniff(head: bytes, name: str = "") -> str:
    """The format of content starting with ``head``: parquet, json, ndjson, csv or empty."""
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.lstrip(_BLANK)
    if not text.strip():
        return "empty"
    if name.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        # One object, maybe spread over lines (JSON), or one object per line (NDJSON).
        first, _, rest = text.partition(b"\n")
        try:
            json.loads(first)
        except ValueError:
            return "json"
        return "ndjson" if rest.strip() else "json"
    return "csv"


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        err = (
            f"{source}: not UTF-8 text (byte {data[exc.start : exc.start + 1]!r} at offset "
            f"{exc.start}); save the file as UTF-8"
        )
        raise SchemaError(err) from None


def _read_csv(data: Path | bytes, source: str) -> pd.DataFrame:
    """A CSV or TSV (the delimiter told by the header line) with every value as text."""
    if isinstance(data, Path):
        with data.open("rb") as f:
            head = f.read(_PEEK)
    else:
        head = data[:_PEEK]
    header = head.lstrip(_BLANK).split(b"\n", 1)[0]
    sep = "\t" if header.count(b"\t") > header.count(b",") else ","
    target = data if isinstance(data, Path) else io.BytesIO(data)
    try:
        return pd.read_csv(target, dtype=object, sep=sep, encoding="utf-8-sig", compression=None)
    except UnicodeDecodeError as exc:
        err = f"{source}: not UTF-8 text (offset {exc.start}); save the file as UTF-8"
        raise SchemaError(err) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        err = (
            f"{source}: not a readable CSV, TSV, JSON or Parquet file ({exc}); expected "
            f"columns {_EXPECTED}"
        )
        raise SchemaError(err) from None


def _read_parquet(data: Any) -> pd.DataFrame:
    if isinstance(data, Path) and data.is_dir() and not any(data.rglob("*")):
        return pd.DataFrame()
    # Hive partition columns come back as categories of strings; that is what we want.
    return pd.read_parquet(data)


# ------------------------------------------------------------------------ JSON pages


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


def _too_deep(source: str, where: str) -> SchemaError:
    return SchemaError(
        f"{source}: {where} nests arrays or objects too deeply to be api.video events "
        "(events are flat objects in a page's data list)"
    )


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
            except RecursionError:
                raise _too_deep(source, f"line {number}") from None
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            err = f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})"
            raise SchemaError(err) from None
        except RecursionError:
            raise _too_deep(source, "the document") from None
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
