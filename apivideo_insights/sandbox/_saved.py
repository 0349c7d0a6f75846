"""Worlds saved as api.video pages, and loaded back; the shipped data, regenerated.

:func:`save_world` writes a :class:`~apivideo_insights.sandbox.World` as the JSON pages the
sandbox serves (pages of 100, one folder per route) plus a ``manifest.json``;
:func:`load_world` rebuilds it. ``data/examples`` and ``data/world`` are written by
:func:`regenerate` (``python -c "from apivideo_insights.sandbox._saved import regenerate;
regenerate('data')"``).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from ..schema import (
    EVENT_COLUMNS,
    LIVE_SESSION_COLUMNS,
    SEGMENT_COLUMNS,
    SESSION_COLUMNS,
    conform,
    to_utc,
)
from ._json import SESSION_FIELDS, EventTable, SessionTable, metadata_dict, write_json
from ._pages import pagination
from ._specs import write_examples
from .world import World

__all__ = ["SHIPPED_WORLD", "load_world", "regenerate", "save_world"]

FORMAT = "apivideo-insights-world"
VERSION = 1
_SAVE_PAGE_SIZE = 100


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
        write_json(target, body, compact=True)
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
    return cast(
        dict[str, Any], json.loads(out.to_json(orient="split", index=False, date_format="iso"))
    )


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
    written: list[str] = []
    vtt_index = _save_resources(world, root, written)
    media, event_sessions = _save_analytics(world, root, written)
    extras = _save_extras(world, root, event_sessions)
    write_json(root / "truth.json", _frame_split(world.truth), compact=True)
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
            "sessions": len(world.sessions),
            "events": len(world.events),
            "truth": len(world.truth),
        },
        "session_order": [str(s) for s in world.sessions["session_id"]]
        if len(world.sessions)
        else [],
        "event_session_order": event_sessions,
        "session_media": media,
        "chapter_vtt": vtt_index,
        **extras,
        "files": sorted(files),
    }
    write_json(root / "manifest.json", manifest)
    return root


def _save_resources(world: World, root: Path, written: list[str]) -> list[list[str]]:
    """The small resources' pages, statuses and WebVTT files; returns the WebVTT index."""
    _write_pages(root / "videos", "/videos", world.videos, written)
    for name, items in (
        ("live-streams", world.live_streams),
        ("players", world.players),
        ("upload-tokens", world.upload_tokens),
        ("webhooks", world.webhooks),
    ):
        _write_pages(root / name, f"/{name}", items, written)
    for vid, status in world.video_status.items():
        target = root / "videos" / _safe(vid) / "status.json"
        write_json(target, status)
        written.append(target.as_posix())
    for kind, groups in (("captions", world.captions), ("chapters", world.chapters)):
        for vid, items in groups.items():
            folder = root / "videos" / _safe(vid) / kind
            _write_pages(folder, f"/videos/{vid}/{kind}", items, written)
    vtt_index = []
    for (vid, lang), text in world.chapter_vtt.items():
        target = root / "videos" / _safe(vid) / "chapters" / f"{_safe(lang)}.vtt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target.as_posix())
        vtt_index.append([vid, lang, target.relative_to(root).as_posix()])
    return vtt_index


def _save_analytics(
    world: World, root: Path, written: list[str]
) -> tuple[list[list[str]], list[str]]:
    """Sessions pages by media and events pages by session; returns both orders."""
    table = SessionTable(world.sessions)
    media: list[list[str]] = []
    for live, groups in ((False, table.by_video), (True, table.by_live)):
        kind = "live-streams" if live else "videos"
        for media_id, rows in groups.items():
            items = [table.render(int(i), live=live) for i in rows]
            folder = root / "analytics" / kind / _safe(media_id)
            _write_pages(folder, f"/analytics/{kind}/{media_id}", items, written)
            media.append([kind, media_id])
    events = EventTable(world.events)
    event_sessions = list(events.offsets)
    for sid in event_sessions:
        items = [events.render(int(i)) for i in events.rows(sid)]
        folder = root / "analytics" / "sessions" / _safe(sid) / "events"
        _write_pages(folder, f"/analytics/sessions/{sid}/events", items, written)
    return media, event_sessions


def _save_extras(world: World, root: Path, event_sessions: list[str]) -> dict[str, Any]:
    """Columns the API pages cannot carry (simulator labels such as events' ``quirk``),
    kept next to them in the order the pages list the rows; returns the manifest keys."""
    sessions = world.sessions
    contract = set(SESSION_COLUMNS) | set(LIVE_SESSION_COLUMNS)
    extra = [c for c in sessions.columns if c not in contract]
    extra_path = None
    dtypes: dict[str, dict[str, str]] = {"sessions": {}, "events": {}}
    if extra:
        extra_path = "sessions-extra.json"
        split = _frame_split(sessions[["session_id", *extra]])
        write_json(root / extra_path, split, compact=True)
        dtypes["sessions"] = {c: str(sessions[c].dtype) for c in extra}
    event_extra = [c for c in world.events.columns if c not in EVENT_COLUMNS]
    event_extra_path = None
    if event_extra and len(world.events):
        event_extra_path = "events-extra.json"
        events = EventTable(world.events)
        listed = np.concatenate([events.rows(sid) for sid in event_sessions])
        split = _frame_split(world.events.iloc[listed][event_extra])
        write_json(root / event_extra_path, split, compact=True)
        dtypes["events"] = {c: str(world.events[c].dtype) for c in event_extra}
    return {
        "sessions_extra": extra_path,
        "events_extra": event_extra_path,
        "extra_dtypes": dtypes,
    }


def _session_rows(
    items: list[dict[str, Any]], media_column: str, media_id: str
) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        session = item.get("session", {})
        row: dict[str, Any] = {
            "session_id": session.get("sessionId"),
            "loaded_at": session.get("loadedAt"),
            "ended_at": session.get("endedAt"),
            media_column: media_id,
        }
        for group, field, column in SESSION_FIELDS:
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
    manifest = _manifest(root)
    videos = _read_pages(root / "videos")
    statuses, captions, chapters = _video_children(root, videos)
    chapter_vtt = {
        (vid, lang): (root / file).read_text(encoding="utf-8")
        for vid, lang, file in manifest.get("chapter_vtt", [])
    }

    def pages(name: str) -> list[dict[str, Any]]:
        folder = root / name
        return _read_pages(folder) if folder.is_dir() else []

    now = pd.Timestamp(manifest["now"])
    return World(
        seed=int(manifest["seed"]),
        now=now.tz_convert("UTC") if now.tzinfo else now.tz_localize("UTC"),
        videos=videos,
        video_status=statuses,
        live_streams=pages("live-streams"),
        players=pages("players"),
        upload_tokens=pages("upload-tokens"),
        webhooks=pages("webhooks"),
        captions=captions,
        chapters=chapters,
        chapter_vtt=chapter_vtt,
        sessions=_load_sessions(root, manifest),
        events=_load_events(root, manifest),
        truth=_load_truth(root),
        meta=dict(manifest.get("meta") or {}),
    )


def _manifest(root: Path) -> dict[str, Any]:
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
    return dict(manifest)


def _video_children(
    root: Path, videos: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, list[Any]], dict[str, list[Any]]]:
    """Each video's status, captions and chapters, from its folder."""
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
    return statuses, captions, chapters


def _load_sessions(root: Path, manifest: Mapping[str, Any]) -> pd.DataFrame:
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
    return sessions


def _load_events(root: Path, manifest: Mapping[str, Any]) -> pd.DataFrame:
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
    return events


def _load_truth(root: Path) -> pd.DataFrame:
    truth_columns = {k: v for k, v in SEGMENT_COLUMNS.items() if k != "estimated"}
    truth = conform(_read_split(root / "truth.json"), truth_columns)
    for column in truth.columns:
        if column not in truth_columns and column.endswith("_at"):
            truth[column] = to_utc(truth[column])
    return truth


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
