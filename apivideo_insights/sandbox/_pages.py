"""api.video's JSON pages: pagination, sessions and events as API JSON, and saved worlds.

One module turns the toolkit's frames back into the JSON api.video sends, so that the
sandbox server and :func:`save_world` write the same objects:

* :func:`pagination` builds the ``pagination`` object (``links`` as a list of
  ``{rel, uri}``, ``previous``/``next`` only when they apply);
* :class:`SessionTable` and :class:`EventTable` index a world's sessions and events once,
  so that one page costs a slice and a few dict builds, whatever the world's size;
* :func:`save_world` writes a world as API pages plus a ``manifest.json``;
  :func:`load_world` rebuilds the :class:`~apivideo_insights.sandbox.World`;
* :func:`write_examples` copies the spec's documented example responses into JSON files.

``data/examples`` and ``data/world`` are written by :func:`regenerate`
(``python -c "from apivideo_insights.sandbox._pages import regenerate; regenerate('data')"``).

>>> pagination(30, current_page=1, page_size=25, path="/webhooks")["links"][2]
{'rel': 'next', 'uri': '/webhooks?currentPage=2&pageSize=25'}
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from .._schema import (
    EVENT_COLUMNS,
    LIVE_SESSION_COLUMNS,
    SEGMENT_COLUMNS,
    SESSION_COLUMNS,
    conform,
    to_utc,
)
from .world import World

__all__ = [
    "SERVED",
    "SHIPPED_WORLD",
    "EventTable",
    "SessionTable",
    "event_json",
    "format_iso_ms",
    "load_spec",
    "load_world",
    "pagination",
    "regenerate",
    "save_world",
    "spec_examples",
    "write_examples",
]

FORMAT = "apivideo-insights-world"
VERSION = 1
_SAVE_PAGE_SIZE = 100
_NAT = np.iinfo(np.int64).min


# --------------------------------------------------------------------------- pagination
def pagination(
    items_total: int,
    *,
    current_page: int,
    page_size: int,
    path: str,
    params: Sequence[tuple[str, str]] = (),
    base_url: str = "",
) -> dict[str, Any]:
    """api.video's ``pagination`` object for one page.

    Parameters
    ----------
    items_total : int
        Items in the whole list (after filters).
    current_page, page_size : int
        The page asked for (1-based) and its size.
    path : str
        The route, e.g. ``/videos``.
    params : sequence of (name, value)
        The request's other query parameters, repeated in every link (filters must stick).
    base_url : str, optional
        Prefix of the link URIs: ``""`` gives relative links (``/live-streams?...``), as
        most spec examples do; a base URL gives absolute ones (``/videos``, ``/players``,
        ``/webhooks``).

    Examples
    --------
    >>> p = pagination(0, current_page=1, page_size=25, path="/players", base_url="http://h")
    >>> p["pagesTotal"], [link["rel"] for link in p["links"]]
    (0, ['self', 'first', 'last'])
    """
    pages_total = math.ceil(items_total / page_size) if items_total else 0
    last = max(pages_total, 1)
    start = (current_page - 1) * page_size
    on_page = max(0, min(page_size, items_total - start))
    kept = [(k, v) for k, v in params if k not in {"currentPage", "pageSize"}]

    def uri(page: int) -> str:
        query = urlencode([*kept, ("currentPage", str(page)), ("pageSize", str(page_size))])
        return f"{base_url}{path}?{query}"

    links = [{"rel": "self", "uri": uri(current_page)}, {"rel": "first", "uri": uri(1)}]
    if current_page > 1:
        links.append({"rel": "previous", "uri": uri(min(current_page - 1, last))})
    if current_page < pages_total:
        links.append({"rel": "next", "uri": uri(current_page + 1)})
    links.append({"rel": "last", "uri": uri(last)})
    return {
        "currentPage": current_page,
        "pageSize": page_size,
        "pagesTotal": pages_total,
        "itemsTotal": items_total,
        "currentPageItems": on_page,
        "links": links,
    }


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
_SESSION_FIELDS: tuple[tuple[str, str, str], ...] = (
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
            for _, _, column in _SESSION_FIELDS
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
        for group, field, column in _SESSION_FIELDS:
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


def event_json(type_: str, emitted_ns: int, at: float, seek_from: float, seek_to: float) -> dict:
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


# --------------------------------------------------------------------------- save / load
def _write_json(path: Path, data: Any, *, compact: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(data, ensure_ascii=False, indent=1)
    )
    path.write_text(text + "\n", encoding="utf-8")


def _write_pages(folder: Path, route: str, items: Sequence[Any], files: list[str]) -> None:
    """``items`` as api.video pages of 100: ``folder/page-001.json``, ..."""
    total = len(items)
    pages = max(1, math.ceil(total / _SAVE_PAGE_SIZE))
    for page in range(1, pages + 1):
        chunk = items[(page - 1) * _SAVE_PAGE_SIZE : page * _SAVE_PAGE_SIZE]
        body = {
            "data": list(chunk),
            "pagination": pagination(
                total, current_page=page, page_size=_SAVE_PAGE_SIZE, path=route
            ),
        }
        target = folder / f"page-{page:03d}.json"
        _write_json(target, body, compact=True)
        files.append(target.as_posix())


def _read_pages(folder: Path) -> list[Any]:
    out: list[Any] = []
    for page in sorted(folder.glob("page-*.json")):
        out.extend(json.loads(page.read_text(encoding="utf-8"))["data"])
    return out


def _safe(name: str) -> str:
    """A file-name-safe id (ids are ``vi...``/``ps...``; anything else is escaped)."""
    return re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"%{ord(m[0]):02X}", name)


def _frame_split(frame: pd.DataFrame) -> dict[str, Any]:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].map(
                lambda t: None if pd.isna(t) else t.isoformat(), na_action=None
            )
    return json.loads(out.to_json(orient="split", index=False, date_format="iso"))


def save_world(world: World, path: str | Path) -> Path:
    """Write ``world`` as api.video JSON pages plus a ``manifest.json``.

    The layout mirrors the routes that serve each item (pages of 100 items)::

        manifest.json                       seed, now, counts, orders, file list
        videos/page-001.json                GET /videos
        videos/{videoId}/status.json        GET /videos/{videoId}/status
        videos/{videoId}/captions/...       GET /videos/{videoId}/captions
        videos/{videoId}/chapters/...       GET /videos/{videoId}/chapters
        videos/{videoId}/chapters/{lang}.vtt   the chapters' WebVTT
        live-streams/, players/, upload-tokens/, webhooks/
        analytics/videos/{videoId}/page-*.json              sessions (every period)
        analytics/live-streams/{liveStreamId}/page-*.json
        analytics/sessions/{sessionId}/events/page-*.json
        truth.json                          the true watched intervals (not an API page)

    Parameters
    ----------
    world : World
        What to save.
    path : str or pathlib.Path
        A directory; created if needed. Files already there are overwritten.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> save_world(simulate(seed=0, n_sessions=100), "data/world")   # doctest: +SKIP
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    def rel(p: Path) -> Path:
        return root / p

    written: list[str] = []
    _write_pages(rel(Path("videos")), "/videos", world.videos, written)
    for name, items in (
        ("live-streams", world.live_streams),
        ("players", world.players),
        ("upload-tokens", world.upload_tokens),
        ("webhooks", world.webhooks),
    ):
        _write_pages(rel(Path(name)), f"/{name}", items, written)
    for vid, status in world.video_status.items():
        target = rel(Path("videos") / _safe(vid) / "status.json")
        _write_json(target, status)
        written.append(target.as_posix())
    for vid, items in world.captions.items():
        _write_pages(
            rel(Path("videos") / _safe(vid) / "captions"), f"/videos/{vid}/captions", items, written
        )
    for vid, items in world.chapters.items():
        _write_pages(
            rel(Path("videos") / _safe(vid) / "chapters"), f"/videos/{vid}/chapters", items, written
        )
    vtt_index = []
    for (vid, lang), text in world.chapter_vtt.items():
        target = rel(Path("videos") / _safe(vid) / "chapters" / f"{_safe(lang)}.vtt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target.as_posix())
        vtt_index.append([vid, lang, target.relative_to(root).as_posix()])

    sessions = world.sessions
    table = SessionTable(sessions)
    media: list[list[str]] = []
    for live, groups in ((False, table.by_video), (True, table.by_live)):
        kind = "live-streams" if live else "videos"
        for media_id, rows in groups.items():
            items = [table.render(int(i), live=live) for i in rows]
            _write_pages(
                rel(Path("analytics") / kind / _safe(media_id)),
                f"/analytics/{kind}/{media_id}",
                items,
                written,
            )
            media.append([kind, media_id])
    events = EventTable(world.events)
    event_sessions = list(events.offsets)
    for sid in event_sessions:
        items = [events.render(int(i)) for i in events.rows(sid)]
        _write_pages(
            rel(Path("analytics") / "sessions" / _safe(sid) / "events"),
            f"/analytics/sessions/{sid}/events",
            items,
            written,
        )

    # Columns the API pages cannot carry (simulator labels such as events' ``quirk``) are
    # kept next to them, in the order the pages list the rows.
    contract = set(SESSION_COLUMNS) | set(LIVE_SESSION_COLUMNS)
    extra = [c for c in sessions.columns if c not in contract]
    extra_path = None
    dtypes: dict[str, dict[str, str]] = {"sessions": {}, "events": {}}
    if extra:
        extra_path = "sessions-extra.json"
        _write_json(
            rel(Path(extra_path)), _frame_split(sessions[["session_id", *extra]]), compact=True
        )
        dtypes["sessions"] = {c: str(sessions[c].dtype) for c in extra}
    event_extra = [c for c in world.events.columns if c not in EVENT_COLUMNS]
    event_extra_path = None
    if event_extra and len(world.events):
        event_extra_path = "events-extra.json"
        listed = np.concatenate([events.rows(sid) for sid in event_sessions])
        _write_json(
            rel(Path(event_extra_path)),
            _frame_split(world.events.iloc[listed][event_extra]),
            compact=True,
        )
        dtypes["events"] = {c: str(world.events[c].dtype) for c in event_extra}
    _write_json(rel(Path("truth.json")), _frame_split(world.truth), compact=True)

    files = [Path(f).relative_to(root).as_posix() for f in written]
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "seed": int(world.seed),
        "now": pd.Timestamp(world.now).isoformat(),
        "meta": json.loads(json.dumps(world.meta, default=str)),
        "counts": {
            "videos": len(world.videos),
            "live_streams": len(world.live_streams),
            "sessions": len(sessions),
            "events": len(world.events),
            "truth": len(world.truth),
        },
        "session_order": table.ids,
        "event_session_order": event_sessions,
        "session_media": media,
        "chapter_vtt": vtt_index,
        "sessions_extra": extra_path,
        "events_extra": event_extra_path,
        "extra_dtypes": dtypes,
        "files": sorted(files),
    }
    _write_json(root / "manifest.json", manifest)
    return root


def _session_rows(items: list[dict[str, Any]], media_column: str, media_id: str) -> list[dict]:
    rows = []
    for item in items:
        session = item.get("session", {})
        row: dict[str, Any] = {
            "session_id": session.get("sessionId"),
            "loaded_at": session.get("loadedAt"),
            "ended_at": session.get("endedAt"),
            media_column: media_id,
        }
        for group, field, column in _SESSION_FIELDS:
            row[column] = item.get(group, {}).get(field)
        # api.video sends [] for a session without metadata; the frames hold None.
        row["metadata"] = metadata_dict(session.get("metadata")) or None
        rows.append(row)
    return rows


def _restore_dtypes(frame: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    for column, dtype in dtypes.items():
        if column not in frame:
            continue
        if dtype.startswith("datetime64"):
            frame[column] = to_utc(frame[column])
        elif dtype == "category":
            frame[column] = frame[column].astype("category")
        else:
            # Keep what JSON gave (object) rather than fail on a rare dtype.
            with contextlib.suppress(TypeError, ValueError):
                frame[column] = frame[column].astype(dtype)
    return frame


def _read_split(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame(data["data"], columns=data["columns"])


def load_world(path: str | Path) -> World:
    """Rebuild a :class:`~apivideo_insights.sandbox.World` saved by :func:`save_world`.

    Parameters
    ----------
    path : str or pathlib.Path
        The directory holding ``manifest.json``.

    Returns
    -------
    World

    Raises
    ------
    FileNotFoundError
        When there is no ``manifest.json`` under ``path``.
    ValueError
        When the manifest is not a saved world of a version this package reads.

    Examples
    --------
    >>> world = load_world("data/world")                       # doctest: +SKIP
    """
    root = Path(path)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{manifest_path} does not exist: pass the directory written by save_world()."
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(
            f"{root} holds no saved world of format {FORMAT!r} version {VERSION}; "
            "save it again with save_world()."
        )

    videos = _read_pages(root / "videos")
    statuses = {}
    captions: dict[str, list[dict[str, Any]]] = {}
    chapters: dict[str, list[dict[str, Any]]] = {}
    for video in videos:
        vid = video["videoId"]
        folder = root / "videos" / _safe(vid)
        if (folder / "status.json").is_file():
            statuses[vid] = json.loads((folder / "status.json").read_text(encoding="utf-8"))
        if (folder / "captions").is_dir():
            captions[vid] = _read_pages(folder / "captions")
        if (folder / "chapters").is_dir():
            chapters[vid] = _read_pages(folder / "chapters")
    chapter_vtt = {
        (vid, lang): (root / file).read_text(encoding="utf-8")
        for vid, lang, file in manifest.get("chapter_vtt", [])
    }

    rows: list[dict[str, Any]] = []
    for kind, media_id in manifest.get("session_media", []):
        column = "live_stream_id" if kind == "live-streams" else "video_id"
        items = _read_pages(root / "analytics" / kind / _safe(media_id))
        rows.extend(_session_rows(items, column, media_id))
    columns = {**SESSION_COLUMNS, "live_stream_id": "str"}
    order = list(SESSION_COLUMNS)
    order.insert(order.index("video_id") + 1, "live_stream_id")
    sessions = conform(pd.DataFrame(rows), {k: columns[k] for k in order})
    if len(sessions):
        rank = {sid: i for i, sid in enumerate(manifest.get("session_order", []))}
        sessions = sessions.iloc[
            np.argsort([rank.get(s, len(rank)) for s in sessions["session_id"]], kind="stable")
        ].reset_index(drop=True)
    if manifest.get("sessions_extra"):
        extra = _read_split(root / manifest["sessions_extra"])
        sessions = sessions.merge(extra, on="session_id", how="left", sort=False)
        sessions = _restore_dtypes(sessions, manifest["extra_dtypes"]["sessions"])

    event_parts = []
    for sid in manifest.get("event_session_order", []):
        items = _read_pages(root / "analytics" / "sessions" / _safe(sid) / "events")
        event_parts.append(
            pd.DataFrame(
                {
                    "session_id": sid,
                    "type": [e.get("type") for e in items],
                    "at": [e.get("at") for e in items],
                    "seek_from": [e.get("from") for e in items],
                    "seek_to": [e.get("to") for e in items],
                    "emitted_at": [e.get("emittedAt") for e in items],
                }
            )
        )

    events = conform(
        pd.concat(event_parts, ignore_index=True) if event_parts else None, EVENT_COLUMNS
    )
    if manifest.get("events_extra"):
        extra_events = _read_split(root / manifest["events_extra"])
        for column in extra_events.columns:
            events[column] = extra_events[column].to_numpy()
        events = _restore_dtypes(events, manifest["extra_dtypes"]["events"])
    truth_frame = _read_split(root / "truth.json")
    truth_columns = {k: v for k, v in SEGMENT_COLUMNS.items() if k != "estimated"}
    truth = conform(truth_frame, truth_columns)
    for column in truth.columns:
        if column not in truth_columns and column.endswith("_at"):
            truth[column] = to_utc(truth[column])

    def pages(name: str) -> list[dict[str, Any]]:
        folder = root / name
        return _read_pages(folder) if folder.is_dir() else []

    return World(
        seed=int(manifest["seed"]),
        now=pd.Timestamp(manifest["now"]).tz_convert("UTC")
        if pd.Timestamp(manifest["now"]).tzinfo
        else pd.Timestamp(manifest["now"], tz="UTC"),
        videos=videos,
        video_status=statuses,
        live_streams=pages("live-streams"),
        players=pages("players"),
        upload_tokens=pages("upload-tokens"),
        webhooks=pages("webhooks"),
        captions=captions,
        chapters=chapters,
        chapter_vtt=chapter_vtt,
        sessions=sessions,
        events=events,
        truth=truth,
        meta=dict(manifest.get("meta") or {}),
    )


# --------------------------------------------------------------------------- examples
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "example"


#: The operations the sandbox serves, by spec file (``sandbox/specs``): each from its era.
SERVED: dict[str, tuple[tuple[str, str], ...]] = {
    "openapi.yaml": (
        ("POST", "/auth/api-key"),
        ("POST", "/auth/refresh"),
        ("GET", "/videos"),
        ("GET", "/videos/{videoId}"),
        ("GET", "/videos/{videoId}/status"),
        ("GET", "/videos/{videoId}/captions"),
        ("GET", "/videos/{videoId}/captions/{language}"),
        ("GET", "/videos/{videoId}/chapters"),
        ("GET", "/videos/{videoId}/chapters/{language}"),
        ("GET", "/live-streams"),
        ("GET", "/live-streams/{liveStreamId}"),
        ("GET", "/players"),
        ("GET", "/players/{playerId}"),
        ("GET", "/upload-tokens"),
        ("GET", "/upload-tokens/{uploadToken}"),
        ("GET", "/webhooks"),
        ("GET", "/webhooks/{webhookId}"),
        ("GET", "/data/metrics/{metric}/{aggregation}"),
        ("GET", "/data/buckets/{metric}/{breakdown}"),
        ("GET", "/data/timeseries/{metric}"),
    ),
    "openapi-2023-09.yaml": (
        ("GET", "/analytics/videos/{videoId}"),
        ("GET", "/analytics/live-streams/{liveStreamId}"),
        ("GET", "/analytics/sessions/{sessionId}/events"),
    ),
    # The first spec with /account (deprecated since, and gone from today's spec).
    "openapi-2021-02.yaml": (("GET", "/account"),),
}
SPECS_DIR = Path(__file__).parent / "specs"


def load_spec(name: str) -> dict[str, Any]:
    """A spec of ``sandbox/specs`` as a dict (needs PyYAML, a test dependency)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPECS_DIR / name, encoding="utf-8") as f:
        return dict(yaml.load(f, Loader=loader))  # noqa: S506 - a safe loader


def _json_safe(value: Any) -> Any:
    """YAML reads unquoted timestamps as datetimes; JSON wants the text back."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def spec_examples(
    spec: Mapping[str, Any], operations: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every documented example response of ``operations`` (``(METHOD, route)`` pairs).

    Returns a list of ``{"method", "path", "operationId", "status", "name", "value"}``.
    """
    out = []
    for method, route in operations:
        op = spec.get("paths", {}).get(route, {}).get(method.lower())
        if not op:
            continue
        for status, response in op.get("responses", {}).items():
            for media in (response.get("content") or {}).values():
                examples = dict(media.get("examples") or {})
                if "example" in media:
                    examples = {"example": {"value": media["example"]}, **examples}
                for name, example in examples.items():
                    if isinstance(example, Mapping) and "value" in example:
                        out.append(
                            {
                                "method": method.upper(),
                                "path": route,
                                "operationId": op.get("operationId", ""),
                                "status": str(status),
                                "name": str(name),
                                "value": _json_safe(example["value"]),
                            }
                        )
    return out


def write_examples(out_dir: str | Path) -> list[Path]:
    """Write api.video's documented example responses (:data:`SERVED`), plus index.json.

    One JSON file per example, named ``{operationId}.{status}.{example}.json``, taken
    from the spec of the operation's era; ``index.json`` lists them with their method,
    route, status and spec file.

    Examples
    --------
    >>> write_examples("data/examples")                         # doctest: +SKIP
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    index = []
    written = []
    seen: set[str] = set()
    for spec_name, operations in SERVED.items():
        for ex in spec_examples(load_spec(spec_name), operations):
            base = f"{_slug(ex['operationId'] or ex['path'])}.{ex['status']}.{_slug(ex['name'])}"
            name, k = base, 2
            while name in seen:
                name, k = f"{base}-{k}", k + 1
            seen.add(name)
            target = root / f"{name}.json"
            _write_json(target, ex["value"])
            written.append(target)
            index.append(
                {
                    "file": target.name,
                    "spec": spec_name,
                    "method": ex["method"],
                    "path": ex["path"],
                    "operationId": ex["operationId"],
                    "status": ex["status"],
                    "example": ex["name"],
                }
            )
    _write_json(root / "index.json", index)
    return written


#: The arguments of the small world shipped in ``data/world`` (about 100 sessions).
SHIPPED_WORLD: dict[str, Any] = {
    "seed": 0,
    "now": "2024-06-01T12:00:00+00:00",
    "videos": 3,
    "live_streams": 1,
    "sessions": 100,
}


def regenerate(data_dir: str | Path) -> None:
    """Rewrite ``data_dir/examples`` and ``data_dir/world`` (after a spec or simulator change).

    Examples
    --------
    >>> regenerate("data")                                      # doctest: +SKIP
    """
    import shutil

    from .simulate import simulate

    root = Path(data_dir)
    for name in ("examples", "world"):
        shutil.rmtree(root / name, ignore_errors=True)
    write_examples(root / "examples")
    save_world(simulate(**SHIPPED_WORLD), root / "world")
