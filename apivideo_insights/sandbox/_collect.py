"""The sandbox as a collector: ``POST /vod`` and ``POST /live`` of api.video's analytics SDK 1.x.

api.video's analytics client (1.0.x, ``index.ts``) POSTs one JSON body per ping to its
``pingUrl``::

    {"emitted_at": "...Z",
     "session": {"loaded_at": "...Z", "video_id" | "live_stream_id": "...",
                 "referrer": "...", "metadata": [{"k": "v"}, ...], "session_id"?: "..."},
     "events": [{"type": "play", "emitted_at": "...Z", "at": 1.234}, ...]}

with ``Content-Type: text/plain`` (``fetch`` with a string body: a CORS *simple* request).
The first body of a page has no ``session_id``; the collector answers
``{"session": "<id>"}`` and the client sends that id from then on (and after reloads of the
same tab, from ``sessionStorage``). :class:`Collector` does the same, keeps what it accepted
in memory, and, with ``record=path``, appends every accepted body to an NDJSON file (one body
a line, ``session.session_id`` set to the id it assigned, its own receive time as top-level
``received_at``, the request's ``User-Agent`` as top-level ``user_agent`` when sent), flushed
and fsynced per line. A collector given the same file again replays it first.

What it keeps shows through the legacy analytics endpoints exactly as api.video served
them (:meth:`Collector.tables`): positions **floored** to integer seconds and ``emittedAt``
**floored** to the second (the 2023-09 spec's ``integer`` positions; flooring is what a
collector that stores ``int(at)`` does). The raw floats and milliseconds stay in the file, for
:func:`apivideo_insights.read_pings`.

>>> c = Collector()
>>> sid = c.accept("vod", parse_ping(b'{"emitted_at": "2024-01-01T00:00:01.5Z", '
...     b'"session": {"loaded_at": "2024-01-01T00:00:00Z", "video_id": "vi1", "referrer": ""},'
...     b' "events": [{"type": "ready", "emitted_at": "2024-01-01T00:00:01.5Z", "at": 0.25}]}',
...     "vod"))
>>> sessions, events = c.tables()
>>> events.render(0)
{'type': 'ready', 'emittedAt': '2024-01-01T00:00:01.000Z', 'at': 0}
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import secrets
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..pings import MEDIA_KEY, PingError, check_ping, device_of, metadata_of
from ..schema import EVENT_COLUMNS, SESSION_COLUMNS, conform
from ._json import EventTable, SessionTable
from ._problems import Problem, problem

__all__ = ["MAX_PING_BYTES", "Collector", "check_ping", "cors_headers", "parse_ping"]

#: Largest body accepted (413 beyond): a ping holds at most ~10 s of events, a few KiB.
MAX_PING_BYTES = 256 * 1024
_ALPHABET = string.ascii_letters + string.digits


def cors_headers(
    origin: str | None, *, preflight: bool = False, asked: str | None = None
) -> dict[str, str]:
    """Headers that let a page on any origin post pings and read the answer.

    The SDK posts with ``fetch`` and no credentials, so ``*`` would do; the request's
    ``Origin`` is echoed instead (with ``Vary: Origin``) so that a page that sends
    credentials works too.
    """
    out = {
        "Access-Control-Allow-Origin": origin or "*",
        "Access-Control-Expose-Headers": "Content-Type",
    }
    if origin:
        out["Vary"] = "Origin"
        out["Access-Control-Allow-Credentials"] = "true"
    if preflight:
        out["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        # Whatever headers the page asked for (Access-Control-Request-Headers): none matter.
        out["Access-Control-Allow-Headers"] = asked or "Content-Type"
        out["Access-Control-Max-Age"] = "600"
        # Chrome's Private Network Access: a public page may post to a loopback collector.
        out["Access-Control-Allow-Private-Network"] = "true"
    return out


def parse_ping(raw: bytes, kind: str) -> dict[str, Any]:
    """The JSON body of one ping to ``/vod`` or ``/live``, checked
    (:func:`apivideo_insights.pings.check_ping`); a 400 :class:`Problem` saying what is wrong
    otherwise."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _invalid("The body is not UTF-8 text.") from None
    except ValueError as exc:
        raise _invalid(f"The body is not JSON ({exc}).") from None
    try:
        check_ping(body, kind)
    except PingError as exc:
        raise _invalid(str(exc), exc.name) from None
    assert isinstance(body, dict)
    return body


def _invalid(detail: str, name: str | None = None) -> Problem:
    return problem(400, "invalid-payload", "The payload is invalid.", name=name, detail=detail)


def _utc(value: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(value)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


# --------------------------------------------------------------------------- state
@dataclass
class _Session:
    session_id: str
    media_key: str
    media_id: str
    loaded_at: dt.datetime
    ended_at: dt.datetime
    referrer: str | None
    metadata: dict[str, str]
    device: dict[str, str] = field(default_factory=dict)


def new_session_id() -> str:
    """A fresh id shaped like api.video's (``ps`` and 22 letters or digits)."""
    return "ps" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def _floor_ms(stamp: dt.datetime) -> pd.Timestamp:
    return pd.Timestamp(stamp).floor("ms")


class Collector:
    """The pings a sandbox accepted, in memory and (with ``record``) in an NDJSON file.

    Parameters
    ----------
    record : str or pathlib.Path, optional
        NDJSON file to append every accepted body to; replayed first when it exists.

    Attributes
    ----------
    replayed : int
        Bodies read back from ``record`` at start.
    skipped : dict
        Lines of ``record`` that could not be replayed, by reason (a line cut by a kill).
    """

    def __init__(self, record: str | Path | None = None) -> None:
        self.record = Path(record) if record is not None else None
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._events: list[tuple[str, str, float, float, float, pd.Timestamp]] = []
        self._version = 0
        self._built: tuple[int, SessionTable, EventTable] | None = None
        self._file: IO[str] | None = None
        self.accepted = 0
        self.replayed = 0
        self.skipped: dict[str, int] = {}
        if self.record is not None and self.record.is_file():
            self._replay(self.record)

    # ------------------------------------------------------------------ replay
    def _replay(self, path: Path) -> None:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    body = json.loads(line)
                    kind = check_ping(body)
                    sid = body["session"].get("session_id")
                    if not sid:
                        raise PingError("no session id", "session.session_id is missing.")
                    received = _utc(body["received_at"])
                except PingError as exc:
                    self.skipped[exc.reason] = self.skipped.get(exc.reason, 0) + 1
                    continue
                except (ValueError, KeyError, TypeError):
                    reason = "not JSON, or no received_at (a line cut short?)"
                    self.skipped[reason] = self.skipped.get(reason, 0) + 1
                    continue
                self._apply(kind, body, sid, received, body.get("user_agent"))
                self.replayed += 1

    # ------------------------------------------------------------------ accept
    def accept(self, kind: str, body: dict[str, Any], user_agent: str | None = None) -> str:
        """Keep one checked body (from :func:`parse_ping`); returns its session id."""
        received = dt.datetime.now(dt.UTC)
        with self._lock:
            session = body["session"]
            sid = session.get("session_id")
            while not sid or (sid in self._sessions and not session.get("session_id")):
                sid = new_session_id()
            session["session_id"] = sid
            if self.record is not None:
                line = dict(body)
                line["received_at"] = received.isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z"
                )
                if user_agent:
                    line["user_agent"] = user_agent
                self._append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
            self._apply(kind, body, sid, received, user_agent)
            self.accepted += 1
        return str(sid)

    def _append(self, line: str) -> None:
        if self._file is None:
            assert self.record is not None
            self.record.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.record, "a+", encoding="utf-8")  # noqa: SIM115 - kept open
            # A server killed mid-line left a partial last line: start on a fresh one.
            self._file.seek(0, os.SEEK_END)
            if self._file.tell() > 0:
                self._file.seek(self._file.tell() - 1)
                if self._file.read(1) != "\n":
                    self._file.write("\n")
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def _apply(
        self, kind: str, body: dict[str, Any], sid: str, received: dt.datetime, ua: Any
    ) -> None:
        session = body["session"]
        key = MEDIA_KEY[kind]
        loaded = _utc(session["loaded_at"])
        referrer = session.get("referrer") or None
        metadata = metadata_of(session.get("metadata"))
        known = self._sessions.get(sid)
        if known is None:
            self._sessions[sid] = _Session(
                sid,
                key,
                str(session[key]),
                loaded,
                received,
                referrer,
                metadata,
                device_of(ua),
            )
        else:
            known.loaded_at = min(known.loaded_at, loaded)
            known.ended_at = max(known.ended_at, received)
            known.referrer = known.referrer or referrer
            known.metadata = {**known.metadata, **metadata}
        for event in body.get("events") or ():
            at, lo, hi = (event.get(k) for k in ("at", "from", "to"))
            self._events.append(
                (
                    sid,
                    event["type"],
                    math.floor(at) if at is not None else math.nan,
                    math.floor(lo) if lo is not None else math.nan,
                    math.floor(hi) if hi is not None else math.nan,
                    pd.Timestamp(_utc(event["emitted_at"])).floor("s"),
                )
            )
        self._version += 1

    def close(self) -> None:
        """Close the record file (reopened by the next accepted body)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # ------------------------------------------------------------------ views
    def media(self, kind: str) -> set[str]:
        """Ids of the videos (``"vod"``) or live streams (``"live"``) pings were sent for."""
        key = MEDIA_KEY[kind]
        with self._lock:
            return {s.media_id for s in self._sessions.values() if s.media_key == key}

    def has_session(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._sessions

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def tables(self) -> tuple[SessionTable, EventTable]:
        """The sessions and events as the legacy API serves them (rebuilt when changed)."""
        with self._lock:
            if self._built is not None and self._built[0] == self._version:
                return self._built[1], self._built[2]
            version = self._version
            sessions = list(self._sessions.values())
            events = list(self._events)
        rows = []
        for s in sessions:
            row: dict[str, Any] = {
                "session_id": s.session_id,
                "loaded_at": _floor_ms(s.loaded_at),
                "ended_at": _floor_ms(s.ended_at),
                s.media_key: s.media_id,
                "referrer_url": s.referrer,
                "metadata": s.metadata or None,
                **s.device,
            }
            rows.append(row)
        columns = {**SESSION_COLUMNS, "live_stream_id": "str"}
        session_frame = conform(pd.DataFrame(rows) if rows else None, columns)
        event_frame = conform(
            pd.DataFrame(
                events, columns=["session_id", "type", "at", "seek_from", "seek_to", "emitted_at"]
            )
            if events
            else None,
            EVENT_COLUMNS,
        )
        built = (version, SessionTable(session_frame), EventTable(event_frame))
        with self._lock:
            self._built = built
        return built[1], built[2]
