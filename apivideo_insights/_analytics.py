"""The legacy session analytics, as :class:`~apivideo_insights.Client` methods.

``GET /analytics/videos/{videoId}`` and ``/analytics/live-streams/{liveStreamId}`` (the
sessions of a period) and ``/analytics/sessions/{sessionId}/events`` (each session's player
events, fetched concurrently for many sessions). api.video removed them from today's API;
archives, the sandbox and collectors of the player SDK's pings still serve them.

A mixin: :class:`~apivideo_insights.Client` brings the HTTP session and the page-load
plumbing (:class:`~apivideo_insights._plumbing.Plumbing`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from . import _params, _wire
from ._http import NEVER_EXPIRE, OPEN_TTL, SETTLE, keep_if_settled
from ._pagination import Job, Listing, read_many
from ._params import check_id
from ._plumbing import Plumbing
from .exceptions import APIError, PartialLoadWarning, warn
from .schema import EVENT_COLUMNS, empty_frame

__all__ = ["AnalyticsLoaders"]

_EVENTS_PATH = "/analytics/sessions/{id}/events"


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


class AnalyticsLoaders(Plumbing):
    """``video_sessions``, ``live_stream_sessions``, ``session_events`` and ``events``."""

    def _period(self, period: Any) -> tuple[str, Any]:
        text, _first, after = _params.parse_period(period, today=_now().date())
        closed_at = pd.Timestamp(after, tz="UTC") + SETTLE
        expire = NEVER_EXPIRE if closed_at < _now() else OPEN_TTL
        return text, expire

    def video_sessions(
        self,
        video_id: str,
        period: Any = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        refresh: bool = False,
    ) -> pd.DataFrame:
        """A video's player sessions (legacy ``GET /analytics/videos/{video_id}``).

        Parameters
        ----------
        video_id : str
        period : str, date or (date, date), optional
            A day ``2024-01-15``, ISO week ``2024-W03``, month ``2024-01``, year ``2024``,
            or range ``2024-01-01/2024-01-15``. Default: the last 30 days.
        metadata : dict, optional
            Only sessions with these metadata values (``metadata[key]=value``).
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            ``session_id, loaded_at, ended_at, video_id, location_*, referrer_*, device_*,
            os_*, client_*, metadata`` (dict): :data:`apivideo_insights.schema.SESSION_COLUMNS`.

        Examples
        --------
        >>> sessions = api.video_sessions("vi4blUQJFrYW", period="2024-01")  # doctest: +SKIP
        """
        vid = check_id(video_id, "video_id")
        text, expire = self._period(period)
        params: list[tuple[str, Any]] = [("period", text)]
        if metadata is not None:
            if not isinstance(metadata, Mapping):
                err = "metadata must be a dict such as {'userName': 'Doug'}"
                raise TypeError(err)
            params.extend((f"metadata[{k}]", str(v)) for k, v in sorted(metadata.items()))
        path = f"/analytics/videos/{quote(vid, safe='')}"
        return self._sessions(path, params, expire, refresh, video_id=vid)

    def live_stream_sessions(
        self, live_stream_id: str, period: Any = None, *, refresh: bool = False
    ) -> pd.DataFrame:
        """A live stream's player sessions (legacy ``GET /analytics/live-streams/{id}``).

        ``period`` as in :meth:`video_sessions`. Columns: see
        :data:`apivideo_insights.schema.LIVE_SESSION_COLUMNS`.
        """
        lid = check_id(live_stream_id, "live_stream_id")
        text, expire = self._period(period)
        params: list[tuple[str, Any]] = [("period", text)]
        path = f"/analytics/live-streams/{quote(lid, safe='')}"
        return self._sessions(path, params, expire, refresh, live_stream_id=lid)

    def _sessions(
        self,
        path: str,
        params: list[tuple[str, Any]],
        expire: Any,
        refresh: bool,
        **owner: str,
    ) -> pd.DataFrame:
        return self._paged(
            "sessions",
            path,
            params,
            key=_session_key,
            expire_after=expire,
            refresh=refresh,
            desc="sessions",
            build=lambda listing: _wire.session_frame(listing.items, url=path, **owner),
            shape=[sorted(owner.items())],
        )

    def session_events(self, session_id: str, *, refresh: bool = False) -> pd.DataFrame:
        """One session's player events (legacy ``GET /analytics/sessions/{id}/events``).

        Columns: ``session_id, type, at, seek_from, seek_to, emitted_at``.
        """
        sid = check_id(session_id, "session_id")
        return self.events([sid], refresh=refresh)

    def events(self, sessions: Any, *, refresh: bool = False) -> pd.DataFrame:
        """The events of many sessions at once, fetched concurrently, as one frame.

        Parameters
        ----------
        sessions : DataFrame, Series, or iterable of str
            A sessions frame (its ``session_id`` column; ``video_id`` /
            ``live_stream_id`` are carried over to the events) or session ids.
        refresh : bool
            Bypass the cache.

        Returns
        -------
        pandas.DataFrame
            ``session_id, type, at, seek_from, seek_to, emitted_at``, then ``video_id`` /
            ``live_stream_id`` when the sessions frame has them. Sessions that failed are
            named in a :class:`~apivideo_insights.PartialLoadWarning` and in
            ``attrs["failed"]``; if all fail, the first error is raised.

        Examples
        --------
        >>> events = api.events(api.video_sessions(video_id))         # doctest: +SKIP
        """
        ids, owners, ended = _session_ids(sessions)
        if not ids:
            frame = empty_frame(EVENT_COLUMNS)
            for name in owners:
                frame[name] = pd.Series([], dtype="category")
            return self._stamp(frame, _EVENTS_PATH, {}, [], sessions=0)

        # The events of the same sessions, with the same owners, make the same frame.
        shape = (ids, sorted((k, [m.get(i) for i in ids]) for k, m in owners.items()))
        return self._memo(
            "events",
            _EVENTS_PATH,
            {},
            refresh,
            lambda: self._load_events(ids, owners, ended, refresh),
            shape,
        )

    def _load_events(
        self,
        ids: list[str],
        owners: Mapping[str, Mapping[str, Any]],
        ended: Mapping[str, pd.Timestamp],
        refresh: bool,
    ) -> tuple[pd.DataFrame, list[Any]]:
        """Every session's events pages, concurrently: the frame and the answers behind it."""
        settled_before = _now() - SETTLE
        jobs = []
        for sid in ids:
            end = ended.get(sid)
            expire = NEVER_EXPIRE if end is not None and end < settled_before else OPEN_TTL
            jobs.append(
                Job(
                    f"/analytics/sessions/{quote(sid, safe='')}/events",
                    (),
                    key=None,
                    expire_after=expire,
                    refresh=refresh,
                    label=sid,
                )
            )
        results = read_many(
            self._http,
            jobs,
            max_workers=self.max_workers,
            progress=self.progress,
            desc="events",
            page_size=self.page_size,
        )
        pages: list[tuple[str, list[Any]]] = []
        failed: dict[str, BaseException] = {}
        responses: list[Any] = []
        quiet_since = _now() - pd.Timedelta(days=1)
        for sid, job, result in zip(ids, jobs, results):
            if isinstance(result, BaseException):
                if not isinstance(result, APIError):
                    raise result
                failed[sid] = result
                continue
            pages.append((sid, result.items))
            responses.extend(result.responses)
            if job.expire_after is not NEVER_EXPIRE:
                keep_if_settled(self._http, result, quiet_since)
        if failed and not pages:
            first = next(iter(failed.values()))
            first.add_note(f"all {len(failed)} session(s) failed to load")
            raise first
        if failed:
            named = ", ".join(list(failed)[:5]) + (" ..." if len(failed) > 5 else "")
            reasons = {type(e).__name__ for e in failed.values()}
            warn(
                f"{len(failed)} of {len(ids)} sessions failed to load "
                f"({', '.join(sorted(reasons))}): {named}; returning the events of the others "
                "(attrs['failed'] lists them).",
                PartialLoadWarning,
            )
        frame = _wire.event_frame(pages)
        for name, mapping in owners.items():
            values = frame["session_id"].astype(object).map(mapping)
            frame[name] = values.astype("category")
        stamped = self._stamp(
            frame,
            _EVENTS_PATH,
            {},
            responses,
            sessions=len(ids),
            failed={sid: str(exc) for sid, exc in failed.items()},
            listings=[r for r in results if isinstance(r, Listing)],
        )
        return stamped, responses


# ------------------------------------------------------------------------- helpers


def _session_key(item: Mapping[str, Any]) -> Any:
    session = item.get("session") if isinstance(item, Mapping) else None
    if isinstance(session, Mapping):
        return session.get("sessionId")
    return None


def _session_ids(
    sessions: Any,
) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, pd.Timestamp]]:
    """Session ids (unique, in order), owner columns to carry over, and end times."""
    owners: dict[str, dict[str, Any]] = {}
    ended: dict[str, pd.Timestamp] = {}
    if isinstance(sessions, pd.DataFrame):
        if "session_id" not in sessions.columns:
            err = "the sessions frame needs a session_id column (as from api.video_sessions)"
            raise ValueError(err)
        values = sessions["session_id"]
        for name in ("video_id", "live_stream_id"):
            if name in sessions.columns:
                col = sessions[name]
                # An empty sessions frame still announces the column (same columns on empty).
                if col.notna().any() or len(sessions) == 0:
                    owners[name] = dict(
                        zip(values.astype(object), col.astype(object), strict=False)
                    )
        if "ended_at" in sessions.columns:
            end = pd.to_datetime(sessions["ended_at"], utc=True, errors="coerce")
            for sid, ts in zip(values.astype(object), end, strict=False):
                if isinstance(ts, pd.Timestamp) and ts is not pd.NaT:
                    ended[str(sid)] = ts
    elif isinstance(sessions, str):
        values = pd.Series([sessions])
    elif isinstance(sessions, Iterable):
        values = pd.Series(list(sessions), dtype=object)
    else:
        err = f"sessions must be a sessions frame or session ids, not {type(sessions).__name__}"
        raise TypeError(err)
    ids: list[str] = []
    seen: set[str] = set()
    for v in values.astype(object):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        sid = check_id(str(v), "session_id")
        if sid not in seen:
            seen.add(sid)
            ids.append(sid)
    return ids, owners, ended
