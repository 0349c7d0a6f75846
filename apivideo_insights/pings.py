"""Raw pings of api.video's analytics SDK 1.x, as events and sessions frames.

``@api.video/player-analytics`` 1.x (``index.ts``) POSTs one JSON body per *ping* to its
``pingUrl``: the events queued since the last ping (float positions, millisecond
``emitted_at``) and the session they belong to. A collector that keeps those bodies, such as
the sandbox with ``serve(record=path)``, writes one body a line (NDJSON) with the session id
it assigned in ``session.session_id`` and its own receive time as top-level ``received_at``.
:func:`read_pings` reads such a file; :func:`check_ping` is the one definition of a valid
body, which the sandbox's collector uses too.

When the SDK sends a ping (``index.ts``): ``ready()``, ``pause()`` and ``end()`` send one at
once; every other ping comes from its 10-second timer, which runs only while playing (after
``play``/``resume``, until ``pause``/``end``). A ping whose events include no ``ready``,
``pause`` or ``end`` is therefore a timer ping: a *heartbeat* of a page that was alive and
playing at its ``emitted_at``, even when it carries no event at all.

>>> import io, apivideo_insights as avi
>>> line = ('{"emitted_at": "2024-01-01T10:00:10.000Z", "received_at": "2024-01-01T10:00:10.050Z",'
...   ' "session": {"session_id": "psA", "loaded_at": "2024-01-01T10:00:00.000Z",'
...   ' "video_id": "vi1", "referrer": "", "metadata": [{"plan": "pro"}]},'
...   ' "events": [{"type": "play", "emitted_at": "2024-01-01T10:00:01.250Z", "at": 0.5}]}')
>>> events, sessions = avi.read_pings(io.StringIO(line))
>>> events[["session_id", "type", "at", "video_id"]]
  session_id  type   at video_id
0        psA  play  0.5      vi1
>>> sessions[["pings", "page_loads", "metadata"]].to_dict("records")
[{'pings': 1, 'page_loads': 1, 'metadata': {'plan': 'pro'}}]
>>> sessions.loc[0, "heartbeats"]
[Timestamp('2024-01-01 10:00:10+0000', tz='UTC')]
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .exceptions import SchemaError
from .schema import DATETIME, EVENT_COLUMNS, EVENT_TYPES, SESSION_COLUMNS, conform, to_utc

__all__ = ["PingError", "check_ping", "device_of", "metadata_of", "read_pings"]

#: Which session key names the media, by collector route (``/vod``, ``/live``).
MEDIA_KEY = {"vod": "video_id", "live": "live_stream_id"}
#: Events after which the SDK sends a ping at once; any other ping is its 10-s timer's.
IMMEDIATE = frozenset({"ready", "pause", "end"})
_TYPES = frozenset(EVENT_TYPES)

#: Columns of the sessions frame of :func:`read_pings`, after the sessions contract.
PING_SESSION_COLUMNS: dict[str, Any] = {
    "page_loads": "int64",
    "pings": "int64",
    "heartbeats": object,
    "last_heartbeat_at": DATETIME,
}


class PingError(ValueError):
    """A body that is not a ping of the SDK: ``reason`` is short (for counts), the message
    says what is wrong and where."""

    def __init__(self, reason: str, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.name = name


# --------------------------------------------------------------------------- one body
def _timestamp(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise PingError("bad timestamp", f"{name} must be an ISO 8601 timestamp string.", name)
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = f"{name} is not an ISO 8601 timestamp: {value[:40]!r}."
        raise PingError("bad timestamp", msg, name) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


def _position(value: Any, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        msg = f"{name} must be a finite number of seconds, got {value!r}."
        raise PingError("bad position", msg, name)


def _check_event(i: int, event: Any) -> None:
    where = f"events[{i}]"
    if not isinstance(event, Mapping):
        raise PingError("bad event", f"{where} must be an object.", where)
    kind = event.get("type")
    if kind not in _TYPES:
        msg = f"{where}.type must be one of {', '.join(EVENT_TYPES)}; got {kind!r}."
        raise PingError("bad event type", msg, f"{where}.type")
    _timestamp(event.get("emitted_at"), f"{where}.emitted_at")
    for key in ("at", "from", "to"):
        _position(event.get(key), f"{where}.{key}")


def _media_kind(session: Mapping[str, Any], kind: str | None) -> str:
    if kind is None:
        present = [k for k, key in MEDIA_KEY.items() if session.get(key) is not None]
        if len(present) != 1:
            msg = "session must name exactly one of video_id and live_stream_id."
            raise PingError("no media id", msg, "session.video_id")
        kind = present[0]
    key = MEDIA_KEY[kind]
    media = session.get(key)
    if not isinstance(media, str) or not media:
        msg = f"a ping to /{kind} needs session.{key} (a non-empty string)."
        raise PingError("no media id", msg, f"session.{key}")
    return kind


def check_ping(body: Any, kind: str | None = None) -> str:
    """Check that ``body`` is a ping of the SDK 1.x and return its kind (``"vod"``/``"live"``).

    Parameters
    ----------
    body : object
        A parsed JSON body.
    kind : {"vod", "live"}, optional
        The route it was posted to; by default, taken from the media id it names.

    Raises
    ------
    PingError
        Saying what is wrong and where (``reason`` is a short label for counts).

    Examples
    --------
    >>> check_ping({"emitted_at": "2024-01-01T00:00:00Z", "events": [],
    ...             "session": {"loaded_at": "2024-01-01T00:00:00Z", "live_stream_id": "li1"}})
    'live'
    """
    if not isinstance(body, dict):
        msg = "a ping must be a JSON object with emitted_at, session and events."
        raise PingError("not a ping", msg)
    session = body.get("session")
    if not isinstance(session, dict):
        raise PingError("not a ping", "session must be an object.", "session")
    _timestamp(body.get("emitted_at"), "emitted_at")
    _timestamp(session.get("loaded_at"), "session.loaded_at")
    kind = _media_kind(session, kind)
    sid = session.get("session_id")
    if sid is not None and (not isinstance(sid, str) or not sid or len(sid) > 200):
        msg = "session.session_id, when sent, must be a non-empty string (200 at most)."
        raise PingError("bad session id", msg, "session.session_id")
    if session.get("referrer") is not None and not isinstance(session["referrer"], str):
        raise PingError("bad referrer", "session.referrer must be a string.", "session.referrer")
    if session.get("metadata") is not None and not isinstance(session["metadata"], list | dict):
        msg = "session.metadata must be a list of {name: value} objects."
        raise PingError("bad metadata", msg, "session.metadata")
    events = body.get("events", [])
    if not isinstance(events, list):
        raise PingError("bad event", "events must be a list.", "events")
    for i, event in enumerate(events):
        _check_event(i, event)
    return kind


def metadata_of(value: Any) -> dict[str, str]:
    """The SDK's ``[{name: value}, ...]`` metadata (or a dict, or ``[{key, value}]``) as a
    dict.

    >>> metadata_of([{"plan": "pro"}, {"user": "42"}])
    {'plan': 'pro', 'user': '42'}
    """
    items = [value] if isinstance(value, Mapping) else value if isinstance(value, list) else []
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if set(item) == {"key", "value"}:
            out[str(item["key"])] = str(item["value"])
        else:
            out.update({str(k): str(v) for k, v in item.items()})
    return out


_CLIENTS = (
    ("Edge", r"Edg(?:e|A|iOS)?/([\d.]+)"),
    ("Firefox", r"Firefox/([\d.]+)"),
    ("Chrome Headless", r"HeadlessChrome/([\d.]+)"),
    ("Chrome", r"(?:Chrome|CriOS|Chromium)/([\d.]+)"),
    ("Safari", r"Version/([\d.]+).*Safari/"),
)
_OSES = (
    ("Android", "AND", r"Android ([\d.]+)"),
    ("iOS", "IOS", r"(?:iPhone|iPad|iPod).*? OS ([\d_]+)"),
    ("Windows", "WIN", r"Windows NT ([\d.]+)"),
    ("Mac OS X", "MAC", r"Mac OS X ([\d_.]+)"),
    ("GNU/Linux", "LIN", r"(Linux)"),
)


def device_of(user_agent: Any) -> dict[str, str]:
    """What a ``User-Agent`` tells of the browser, os and device, in the sessions' columns.

    A small parser: only what it recognises is set (the SDK 1.x sends no device itself).

    >>> ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0.0.0"
    >>> device_of(ua)["client_name"], device_of(ua)["device_type"]
    ('Chrome Headless', 'desktop')
    """
    if not isinstance(user_agent, str) or not user_agent:
        return {}
    out: dict[str, str] = {}
    for name, pattern in _CLIENTS:
        if m := re.search(pattern, user_agent):
            out.update(client_type="browser", client_name=name, client_version=m[1])
            break
    for name, short, pattern in _OSES:
        if m := re.search(pattern, user_agent):
            out.update(os_name=name, os_shortname=short)
            if m[1] != "Linux":
                out["os_version"] = m[1].replace("_", ".")
            break
    if re.search(r"iPad|Tablet", user_agent):
        out["device_type"] = "tablet"
    elif re.search(r"Mobi|iPhone|Android", user_agent):
        out["device_type"] = "mobile"
    elif out:
        out["device_type"] = "desktop"
    return out


# --------------------------------------------------------------------------- a file
def _text_of(path_or_buffer: Any) -> tuple[str, str]:
    """(source name, text) of a path, bytes or buffer, gunzipped when gzip."""
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {str(path)!r}")
        source, content = str(path), path.read_bytes()
    elif isinstance(path_or_buffer, bytes | bytearray):
        source, content = "<bytes>", bytes(path_or_buffer)
    elif hasattr(path_or_buffer, "read"):
        source, content = str(getattr(path_or_buffer, "name", "<buffer>")), path_or_buffer.read()
        if isinstance(content, str):
            return source, content
    else:
        msg = (
            "path_or_buffer must be a path, bytes or a file-like object, not "
            f"{type(path_or_buffer).__name__}"
        )
        raise TypeError(msg)
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            raise SchemaError(f"{source}: a gzip file that cannot be read ({exc})") from None
    return source, content.decode("utf-8-sig", errors="replace")


@dataclass
class _Pings:
    """What the lines of a file gave, column by column."""

    events: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: []
            for k in (
                "session_id",
                "type",
                "at",
                "seek_from",
                "seek_to",
                "emitted_at",
                "video_id",
                "live_stream_id",
                "received_at",
            )
        }
    )
    pings: list[dict[str, Any]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    def add(self, body: dict[str, Any], kind: str) -> None:
        session = body["session"]
        sid = session.get("session_id")
        media = session[MEDIA_KEY[kind]]
        video, live = (media, None) if kind == "vod" else (None, media)
        received = body.get("received_at") if isinstance(body.get("received_at"), str) else None
        types = []
        e = self.events
        for event in body.get("events") or ():
            types.append(event["type"])
            e["session_id"].append(sid)
            e["type"].append(event["type"])
            e["at"].append(event.get("at"))
            e["seek_from"].append(event.get("from"))
            e["seek_to"].append(event.get("to"))
            e["emitted_at"].append(event["emitted_at"])
            e["video_id"].append(video)
            e["live_stream_id"].append(live)
            e["received_at"].append(received)
        self.pings.append(
            {
                "session_id": sid,
                "video_id": video,
                "live_stream_id": live,
                "loaded_at": session["loaded_at"],
                "emitted_at": body["emitted_at"],
                "ended_at": received or body["emitted_at"],
                "referrer_url": session.get("referrer") or None,
                "metadata": metadata_of(session.get("metadata")),
                "heartbeat": not IMMEDIATE.intersection(types),
                "user_agent": body.get("user_agent"),
            }
        )


def _read_lines(text: str) -> _Pings:
    out = _Pings()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except ValueError:
            out.dropped["not JSON (a line cut short?)"] += 1
            out.first_error = out.first_error or f"line {number} is not JSON"
            continue
        try:
            kind = check_ping(body, None)
            if not body["session"].get("session_id"):
                raise PingError("no session id", "session.session_id is missing.")
            if body.get("received_at") is not None:
                _timestamp(body["received_at"], "received_at")
        except PingError as exc:
            out.dropped[exc.reason] += 1
            out.first_error = out.first_error or f"line {number}: {exc}"
            continue
        out.add(body, kind)
    return out


def _events_frame(pings: _Pings) -> pd.DataFrame:
    raw = pd.DataFrame(pings.events)
    for column in ("at", "seek_from", "seek_to"):
        raw[column] = pd.to_numeric(raw[column], errors="coerce")
    frame = conform(raw, {**EVENT_COLUMNS, "video_id": "str", "live_stream_id": "str"})
    frame["received_at"] = to_utc(frame["received_at"])
    return frame


def _sessions_frame(pings: _Pings) -> pd.DataFrame:
    columns = {**SESSION_COLUMNS, "live_stream_id": "str"}
    order = list(SESSION_COLUMNS)
    order.insert(order.index("video_id") + 1, "live_stream_id")
    contract = {k: columns[k] for k in order}
    if not pings.pings:
        return conform(None, {**contract, **PING_SESSION_COLUMNS})
    raw = pd.DataFrame(pings.pings)
    for column in ("loaded_at", "emitted_at", "ended_at"):
        raw[column] = to_utc(raw[column])
    # One pass per column (groupby aggregations), not one per session: files hold many.
    g = raw.groupby("session_id", sort=False)
    out = pd.DataFrame(
        {
            "loaded_at": g["loaded_at"].min(),
            "ended_at": g["ended_at"].max(),
            "video_id": g["video_id"].first(),
            "live_stream_id": g["live_stream_id"].first(),
            "referrer_url": g["referrer_url"].first(),
            "page_loads": g["loaded_at"].nunique(),
            "pings": g.size(),
        }
    )
    metadata: dict[str, dict[str, str]] = {}
    for sid, item in zip(raw["session_id"], raw["metadata"], strict=True):
        metadata.setdefault(sid, {}).update(item)
    out["metadata"] = [metadata.get(sid) or None for sid in out.index]
    beats = raw.loc[raw["heartbeat"], ["session_id", "emitted_at"]].dropna()
    beats = beats.sort_values(["session_id", "emitted_at"], kind="stable")
    by_session: dict[str, list[pd.Timestamp]] = {sid: [] for sid in out.index}
    for sid, stamp in zip(beats["session_id"], beats["emitted_at"], strict=True):
        by_session[sid].append(stamp)
    out["heartbeats"] = [by_session[sid] for sid in out.index]
    out["last_heartbeat_at"] = [b[-1] if b else pd.NaT for b in out["heartbeats"]]
    agents = g["user_agent"].first()
    devices = pd.DataFrame([device_of(ua) for ua in agents], index=out.index)
    out = pd.concat([out, devices], axis=1).rename_axis("session_id").reset_index()
    return conform(out, {**contract, **PING_SESSION_COLUMNS})


def read_pings(path_or_buffer: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the raw pings a collector kept (NDJSON, plain or gzip) as events and sessions.

    Parameters
    ----------
    path_or_buffer : str, path, bytes or file-like
        One ping body a line, as ``serve(record=path)`` writes: ``emitted_at``,
        ``session`` (with ``session_id``), ``events``, and optionally ``received_at`` (the
        collector's receive time) and ``user_agent``. Gzip is recognised by its content.

    Returns
    -------
    events : pandas.DataFrame
        ``session_id, type, at, seek_from, seek_to, emitted_at`` (the dtypes of
        :func:`read_events`) with the SDK's float positions and millisecond times, then
        ``video_id``, ``live_stream_id`` (one set per row) and ``received_at`` (when the
        ping that carried the event arrived). In file order: pings as received, events as
        the SDK queued them.
    sessions : pandas.DataFrame
        One row per session id, in the columns of ``api.video_sessions`` (plus
        ``live_stream_id``): ``loaded_at`` is the first page load, ``ended_at`` the last
        ping received (``received_at``, or the ping's ``emitted_at`` when absent),
        ``referrer_url``, ``metadata`` (a dict, or None), browser/os/device from the
        ``user_agent`` when recorded; then ``page_loads`` (distinct ``loaded_at``),
        ``pings``, ``heartbeats`` (a sorted list of UTC timestamps: the ``emitted_at`` of
        every ping the SDK's 10-s timer sent, that is one whose events include no
        ``ready``, ``pause`` or ``end``; the page was alive and playing then) and
        ``last_heartbeat_at``.

        Both frames carry ``attrs["dropped"]`` (lines dropped, by reason),
        ``attrs["pings"]`` (lines read) and ``attrs["source"]``.

    Raises
    ------
    SchemaError
        When no line of a non-empty file is a ping (another kind of file).
    FileNotFoundError, TypeError
        For a path that does not exist, or an argument that is no path, bytes or buffer.

    Examples
    --------
    >>> import apivideo_insights as avi
    >>> ping = (b'{"emitted_at": "2024-01-01T10:00:05Z", "received_at": "2024-01-01T10:00:05Z",'
    ...   b' "session": {"session_id": "psA", "loaded_at": "2024-01-01T10:00:00Z",'
    ...   b' "video_id": "vi1"}, "events": [{"type": "pause",'
    ...   b' "emitted_at": "2024-01-01T10:00:05Z", "at": 4.75}]}\\nnot json\\n')
    >>> events, sessions = avi.read_pings(ping)
    >>> events["at"].tolist(), sessions["heartbeats"].tolist(), events.attrs["dropped"]
    ([4.75], [[]], {'not JSON (a line cut short?)': 1})
    """
    source, text = _text_of(path_or_buffer)
    pings = _read_lines(text)
    if not pings.pings and pings.dropped:
        reasons = ", ".join(f"{n} {r}" for r, n in pings.dropped.most_common())
        msg = (
            f"{source} is not a file of api.video SDK pings (one JSON body a line with "
            f"emitted_at, session and events, as serve(record=...) writes): {reasons}; "
            f"first: {pings.first_error}"
        )
        raise SchemaError(msg)
    events, sessions = _events_frame(pings), _sessions_frame(pings)
    attrs = {"dropped": dict(pings.dropped), "pings": len(pings.pings), "source": source}
    events.attrs = dict(attrs)
    sessions.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in attrs.items()}
    return events, sessions
