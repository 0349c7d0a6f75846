"""The world's frames as api.video's JSON objects, and answers as bytes.

One module turns the toolkit's frames back into the JSON api.video sends, so that the
sandbox server and :func:`~apivideo_insights.sandbox._saved.save_world` write the same
objects:

* :func:`format_iso_ms` writes timestamps as the legacy analytics did;
* :class:`SessionTable` and :class:`EventTable` index sessions and events once, so that one
  page costs a slice and a few dict builds, whatever the world's size;
* :func:`encode` is the one JSON encoder of every answer (compact, UTF-8).

>>> format_iso_ms(1_561_376_701_109_000_000)
'2019-06-24T11:45:01.109Z'
>>> encode({"session": "ps1"})
b'{"session":"ps1"}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..schema import to_utc

__all__ = [
    "SESSION_FIELDS",
    "EventTable",
    "SessionTable",
    "encode",
    "event_json",
    "format_iso_ms",
    "metadata_dict",
    "metadata_pairs",
    "write_json",
]

_NAT = np.iinfo(np.int64).min


def write_json(path: Path, data: Any, *, compact: bool = False) -> None:
    """``data`` as a UTF-8 JSON file (compact, or indented by one), parents created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(data, ensure_ascii=False, indent=1)
    )
    path.write_text(text + "\n", encoding="utf-8")


def encode(payload: Any) -> bytes:
    """An answer's body: bytes as they are, anything else as compact UTF-8 JSON."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- timestamps
def format_iso_ms(ns: int) -> str | None:
    """``2019-06-24T11:45:01.109Z`` (the legacy analytics form) from epoch nanoseconds."""
    if ns == _NAT:
        return None
    seconds, rest = divmod(int(ns), 1_000_000_000)
    stamp = pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest // 1_000_000:03d}Z"


def _ns(values: Any) -> np.ndarray:
    """Epoch nanoseconds (NaT as int64 min) of a datetime-like column."""
    utc = to_utc(values)
    return utc.array.asi8.copy() if len(utc) else np.zeros(0, dtype=np.int64)


def _number(value: float) -> int | float:
    """The legacy API sends integer positions; fractions (if any) are kept, not hidden."""
    return int(value) if float(value).is_integer() else round(float(value), 3)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def metadata_pairs(value: Any) -> list[dict[str, str]]:
    """A session's or video's metadata as api.video's ``[{key, value}]`` list."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, Mapping):
        return [{"key": str(k), "value": str(v)} for k, v in value.items()]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
        return metadata_pairs(value)
    if isinstance(value, Iterable):
        out = []
        for item in value:
            if isinstance(item, Mapping) and "key" in item:
                out.append({"key": str(item["key"]), "value": str(item.get("value", ""))})
        return out
    return []


def metadata_dict(value: Any) -> dict[str, str]:
    """A session's or video's metadata as a plain ``{key: value}`` dict."""
    return {pair["key"]: pair["value"] for pair in metadata_pairs(value)}


# --------------------------------------------------------------------------- sessions
# (JSON group, JSON field, frame column)
SESSION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("location", "country", "location_country"),
    ("location", "city", "location_city"),
    ("referrer", "url", "referrer_url"),
    ("referrer", "medium", "referrer_medium"),
    ("referrer", "source", "referrer_source"),
    ("referrer", "searchTerm", "referrer_search_term"),
    ("device", "type", "device_type"),
    ("device", "vendor", "device_vendor"),
    ("device", "model", "device_model"),
    ("os", "name", "os_name"),
    ("os", "shortname", "os_shortname"),
    ("os", "version", "os_version"),
    ("client", "type", "client_type"),
    ("client", "name", "client_name"),
    ("client", "version", "client_version"),
)
# Fields the spec marks nullable (video sessions only: the live-stream schemas say a plain
# string): a missing value is sent as null; others are left out.
_NULLABLE = {("location", "city"), ("referrer", "url")}


class SessionTable:
    """A world's sessions, indexed once by video and live stream, rendered per page.

    Parameters
    ----------
    sessions : pandas.DataFrame
        ``World.sessions``.

    Examples
    --------
    >>> table = SessionTable(world.sessions)                    # doctest: +SKIP
    >>> rows = table.select("vi123", live=False, start=a, end=b)  # doctest: +SKIP
    >>> table.render(int(rows[0]), live=False)["session"]["sessionId"]  # doctest: +SKIP
    """

    def __init__(self, sessions: pd.DataFrame) -> None:
        n = len(sessions)
        self.n = n
        col = sessions.get
        self.ids: list[str] = [str(s) for s in sessions["session_id"]] if n else []
        self.loaded_ns = _ns(sessions["loaded_at"]) if n else np.zeros(0, dtype=np.int64)
        ended = sessions["ended_at"] if "ended_at" in sessions else pd.Series([pd.NaT] * n)
        self.ended_ns = _ns(ended) if n else np.zeros(0, dtype=np.int64)
        self.fields = {
            column: [_text(v) for v in col(column)] if column in sessions else [None] * n
            for _, _, column in SESSION_FIELDS
        }
        self.metadata: list[list[dict[str, str]]] = (
            [metadata_pairs(v) for v in sessions["metadata"]]
            if "metadata" in sessions
            else [[] for _ in range(n)]
        )
        self.metadata_dicts = [{p["key"]: p["value"] for p in pairs} for pairs in self.metadata]
        self.position = {sid: i for i, sid in enumerate(self.ids)}
        self.by_video = self._group(sessions, "video_id")
        self.by_live = self._group(sessions, "live_stream_id")

    @staticmethod
    def _group(sessions: pd.DataFrame, column: str) -> dict[str, np.ndarray]:
        if column not in sessions or not len(sessions):
            return {}
        keys = sessions[column].astype(object).where(sessions[column].notna(), None)
        out: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key is not None:
                out.setdefault(str(key), []).append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}

    def select(
        self,
        media_id: str,
        *,
        live: bool,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> np.ndarray:
        """Row positions of one media's sessions loaded in ``[start, end)``, world order."""
        rows = (self.by_live if live else self.by_video).get(media_id)
        if rows is None:
            return np.zeros(0, dtype=np.int64)
        if start is not None and end is not None:
            loaded = self.loaded_ns[rows]
            rows = rows[(loaded >= start.value) & (loaded < end.value)]
        if metadata:
            wanted = dict(metadata)
            rows = np.asarray(
                [
                    i
                    for i in rows
                    if all(self.metadata_dicts[i].get(k) == v for k, v in wanted.items())
                ],
                dtype=np.int64,
            )
        return rows

    def render(self, i: int, *, live: bool) -> dict[str, Any]:
        """Session ``i`` as a ``video-session`` (or ``live-stream-session``) object."""
        session: dict[str, Any] = {
            "sessionId": self.ids[i],
            "loadedAt": format_iso_ms(int(self.loaded_ns[i])),
        }
        ended = format_iso_ms(int(self.ended_ns[i]))
        if ended is not None:
            session["endedAt"] = ended
        if not live:
            session["metadata"] = [dict(pair) for pair in self.metadata[i]]
        out: dict[str, Any] = {"session": session}
        for group, field, column in SESSION_FIELDS:
            value = self.fields[column][i]
            if value is None and (live or (group, field) not in _NULLABLE):
                continue
            out.setdefault(group, {})[field] = value
        return out


# --------------------------------------------------------------------------- events
_SEEKS = frozenset({"seek.forward", "seek.backward"})


class EventTable:
    """A world's events, indexed once by session (offsets), rendered per page.

    Events keep ``World.events`` order within each session: that order is the collector's
    (a seek listed after the resume it caused, and so on), which readers must undo
    themselves, so the sandbox never re-sorts it.
    """

    def __init__(self, events: pd.DataFrame) -> None:
        n = len(events)
        self.n = n
        if n:
            codes, uniques = pd.factorize(events["session_id"].astype(object), sort=False)
            self.types: list[str] = [str(t) for t in events["type"].astype(object)]
            self.at = events["at"].to_numpy(dtype="float64", na_value=np.nan)
            self.seek_from = events["seek_from"].to_numpy(dtype="float64", na_value=np.nan)
            self.seek_to = events["seek_to"].to_numpy(dtype="float64", na_value=np.nan)
            self.emitted_ns = _ns(events["emitted_at"])
        else:
            codes, uniques = np.zeros(0, dtype=np.int64), []
            self.types = []
            self.at = self.seek_from = self.seek_to = np.zeros(0)
            self.emitted_ns = np.zeros(0, dtype=np.int64)
        # Stable sort keeps each session's listed order.
        self.order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques)) if n else np.zeros(0)
        bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.offsets: dict[str, tuple[int, int]] = {
            str(sid): (int(bounds[k]), int(bounds[k + 1])) for k, sid in enumerate(uniques)
        }

    def rows(self, session_id: str) -> np.ndarray:
        """Positions (in ``World.events``) of one session's events, in listed order."""
        lo, hi = self.offsets.get(session_id, (0, 0))
        return self.order[lo:hi]

    def count(self, session_id: str) -> int:
        lo, hi = self.offsets.get(session_id, (0, 0))
        return hi - lo

    def render(self, i: int) -> dict[str, Any]:
        return event_json(
            self.types[i],
            int(self.emitted_ns[i]),
            self.at[i],
            self.seek_from[i],
            self.seek_to[i],
        )


def event_json(
    type_: str, emitted_ns: int, at: float, seek_from: float, seek_to: float
) -> dict[str, Any]:
    """One ``player-session-event``: seeks carry ``from``/``to``, the others ``at``."""
    out: dict[str, Any] = {"type": type_, "emittedAt": format_iso_ms(emitted_ns)}
    if type_ in _SEEKS:
        if not math.isnan(seek_from):
            out["from"] = _number(seek_from)
        if not math.isnan(seek_to):
            out["to"] = _number(seek_to)
    elif not math.isnan(at):
        out["at"] = _number(at)
    return out
