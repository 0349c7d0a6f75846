"""A local api.video-compatible HTTP server over a simulated :class:`World`.

:func:`serve` starts a real HTTP/1.1 server (the standard library's
``ThreadingHTTPServer``, keep-alive, one daemon thread per connection) on 127.0.0.1 and
answers the way api.video does:

* auth: ``POST /auth/api-key`` and ``POST /auth/refresh`` (refresh tokens rotate: the old
  one stops working), bearer tokens that expire after ``token_ttl`` seconds, and Basic auth
  with the key as user name; 401 problem JSON with api.video's titles;
* the list endpoints (``/videos`` with its filters, ``/live-streams``, ``/players``,
  ``/upload-tokens``, ``/webhooks``, captions, chapters) and single items, paginated
  exactly as api.video does (absolute links on ``/videos``, ``/players`` and
  ``/webhooks``, relative ones elsewhere, as in the spec examples);
* the legacy session analytics of the 2023 spec (``/analytics/videos/{videoId}``,
  ``/analytics/live-streams/{liveStreamId}``, ``/analytics/sessions/{sessionId}/events``)
  and today's ``/data`` aggregates, both computed from the same world
  (:mod:`apivideo_insights.sandbox._data_metrics`);
* problem JSON errors (400, 401, 404, 405, 429), ``X-RateLimit-*`` headers on every
  non-auth answer and a fixed window (one minute, or ``rate_window``) when ``rate_limit``
  is set;
* knobs for the bad days: ``latency`` per request and seeded ``faults`` (500s, dropped
  connections, answers slower than a client timeout).

Every request is logged (:attr:`Sandbox.requests`) so that tests can count what a client
sent.

>>> import apivideo_insights as avi
>>> import requests
>>> with avi.sandbox.serve(rate_limit=100) as sb:                  # doctest: +SKIP
...     r = requests.get(f"{sb.base_url}/videos", auth=(sb.api_key, ""))
...     r.json()["pagination"]["itemsTotal"], r.headers["X-RateLimit-Limit"]
(12, '100')
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import math
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .._periods import PeriodError, parse_period
from . import _stopped
from ._collect import MAX_PING_BYTES, Collector, cors_headers, parse_ping
from ._data_metrics import Facts, QueryError, build_facts, compute, parse_query
from ._pages import EventTable, SessionTable, load_world, pagination
from ._problems import DOCS as _DOCS
from ._problems import Problem as _Problem
from ._problems import bad_query as _bad_query
from ._problems import not_found as _not_found
from ._problems import problem as _problem
from .world import World

__all__ = ["Faults", "RequestRecord", "Sandbox", "main", "serve"]

#: A limit large enough to mean "unlimited" while still sending the headers.
UNLIMITED = 1_000_000
#: Requests kept in the log, and tokens in the issued list: bounded for long-lived servers.
_LOG_KEPT = 100_000
_ISSUED_KEPT = 10_000
_MAX_BODY = 1 << 20


# --------------------------------------------------------------------------- knobs & log
@dataclass(frozen=True)
class Faults:
    """Seeded fault injection: each API request draws once and may get one fault.

    Auth requests and the chapters' WebVTT files are never faulted (nor rate limited):
    a client can always get a token. A rate-limited request (429) draws no fault.

    Parameters
    ----------
    error_rate : float
        Share of requests answered ``500`` (problem JSON, ``"Server error"``).
    drop_rate : float
        Share of requests whose connection is closed without an answer.
    slow_rate : float
        Share of requests answered only after ``slow_seconds`` (longer than a client
        timeout, so that the client sees a read timeout).
    slow_seconds : float
        Delay of a slow answer.
    seed : int
        Seed of the draws: the same requests in the same order get the same faults.

    Examples
    --------
    >>> Faults(error_rate=0.1, seed=1)
    Faults(error_rate=0.1, drop_rate=0.0, slow_rate=0.0, slow_seconds=2.0, seed=1)
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "slow_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"faults {name} must be between 0 and 1, got {value!r}.")
        if self.error_rate + self.drop_rate + self.slow_rate > 1.0:
            raise ValueError("faults error_rate + drop_rate + slow_rate must not exceed 1.")
        if self.slow_seconds < 0:
            raise ValueError("faults slow_seconds must be >= 0.")

    @classmethod
    def coerce(cls, value: Faults | Mapping[str, Any] | None) -> Faults:
        """A :class:`Faults` from ``None``, a dict, or any object with those attributes."""
        if value is None:
            return cls()
        if isinstance(value, Faults):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise TypeError(
                    f"unknown faults keys {sorted(unknown)}: use error_rate, drop_rate, "
                    "slow_rate, slow_seconds and seed."
                )
            return cls(**value)
        return cls(
            **{
                name: getattr(value, name)
                for name in cls.__dataclass_fields__
                if hasattr(value, name)
            }
        )


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sandbox saw it (never holds the Authorization header).

    ``status`` is ``None`` when the connection was dropped on purpose; ``fault`` is
    ``"error"``, ``"drop"``, ``"slow"`` or ``None``.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None
    fault: str | None = None
    seconds: float = 0.0


class _RateLimiter:
    """A fixed window (api.video: one minute), started by the first request after the last
    one ended."""

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._start = 0.0
        self._count = 0

    def hit(self) -> tuple[bool, dict[str, str]]:
        limit = UNLIMITED if self.limit is None else self.limit
        with self._lock:
            now = time.monotonic()
            if self._count == 0 or now - self._start >= self.window:
                self._start, self._count = now, 0
            allowed = self._count < limit
            if allowed:
                self._count += 1
            remaining = max(0, limit - self._count)
            retry = max(1, math.ceil(self._start + self.window - now))
        return allowed, {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Retry-After": str(retry),
        }


class _Tokens:
    """Access tokens with an expiry, and refresh tokens that rotate."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        #: Every (access, refresh) pair issued, for tests that look for leaked tokens.
        self.issued: deque[tuple[str, str]] = deque(maxlen=_ISSUED_KEPT)

    def issue(self, old_refresh: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            if old_refresh is not None:
                if old_refresh not in self._refresh:
                    return None
                self._refresh.discard(old_refresh)
            access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
            now = time.monotonic()
            # Forget expired tokens so that a long-lived server does not grow.
            self._access = {k: v for k, v in self._access.items() if v > now}
            self._access[access] = now + self.ttl
            self._refresh.add(refresh)
            self.issued.append((access, refresh))
        return {
            "token_type": "Bearer",
            "expires_in": max(1, math.ceil(self.ttl)),
            "access_token": access,
            "refresh_token": refresh,
        }

    def valid(self, access: str) -> bool:
        with self._lock:
            expiry = self._access.get(access)
            return expiry is not None and time.monotonic() < expiry


# --------------------------------------------------------------------------- indexes
@dataclass
class _Indexes:
    """What a world needs for cheap pages: built once per world, shared by servers."""

    videos: dict[str, dict[str, Any]]
    live_streams: dict[str, dict[str, Any]]
    players: dict[str, dict[str, Any]]
    upload_tokens: dict[str, dict[str, Any]]
    webhooks: dict[str, dict[str, Any]]
    sessions: SessionTable
    events: EventTable
    facts: Facts
    known_sessions: set[str] = field(default_factory=set)


_INDEX_CACHE: weakref.WeakKeyDictionary[World, _Indexes] = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def _indexes(world: World) -> _Indexes:
    with _INDEX_LOCK:
        cached = _INDEX_CACHE.get(world)
        if cached is not None:
            return cached
        sessions = SessionTable(world.sessions)
        events = EventTable(world.events)
        built = _Indexes(
            videos={v["videoId"]: v for v in world.videos},
            live_streams={v["liveStreamId"]: v for v in world.live_streams},
            players={v["playerId"]: v for v in world.players},
            upload_tokens={v["token"]: v for v in world.upload_tokens},
            webhooks={v["webhookId"]: v for v in world.webhooks},
            sessions=sessions,
            events=events,
            facts=build_facts(world),
            known_sessions=set(sessions.ids) | set(events.offsets),
        )
        _INDEX_CACHE[world] = built
        return built


def _coerce_world(world: World | str | Path | None) -> World:
    if world is None:
        from .simulate import simulate

        return simulate(seed=0)
    if isinstance(world, World):
        return world
    if isinstance(world, (str, Path)):
        return load_world(world)
    raise TypeError(
        f"world must be a World, a directory saved by save_world(), or None, "
        f"not {type(world).__name__}."
    )


# --------------------------------------------------------------------------- routes
_ID = r"([^/]+)"
_ROUTES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p), method, name)
    for p, method, name in (
        (r"^/auth/api-key$", "POST", "auth_api_key"),
        (r"^/auth/refresh$", "POST", "auth_refresh"),
        (r"^/account$", "GET", "account"),
        (r"^/videos$", "GET", "videos"),
        (rf"^/videos/{_ID}$", "GET", "video"),
        (rf"^/videos/{_ID}/status$", "GET", "video_status"),
        (rf"^/videos/{_ID}/captions$", "GET", "captions"),
        (rf"^/videos/{_ID}/captions/{_ID}$", "GET", "caption"),
        (rf"^/videos/{_ID}/chapters$", "GET", "chapters"),
        (rf"^/videos/{_ID}/chapters/{_ID}$", "GET", "chapter"),
        (r"^/live-streams$", "GET", "live_streams"),
        (rf"^/live-streams/{_ID}$", "GET", "live_stream"),
        (r"^/players$", "GET", "players"),
        (rf"^/players/{_ID}$", "GET", "player"),
        (r"^/upload-tokens$", "GET", "upload_tokens"),
        (rf"^/upload-tokens/{_ID}$", "GET", "upload_token"),
        (r"^/webhooks$", "GET", "webhooks"),
        (rf"^/webhooks/{_ID}$", "GET", "webhook"),
        (rf"^/analytics/videos/{_ID}$", "GET", "video_sessions"),
        (rf"^/analytics/live-streams/{_ID}$", "GET", "live_stream_sessions"),
        (rf"^/analytics/sessions/{_ID}/events$", "GET", "session_events"),
        (rf"^/data/metrics/{_ID}/{_ID}$", "GET", "data_metrics"),
        (rf"^/data/buckets/{_ID}/{_ID}$", "GET", "data_buckets"),
        (rf"^/data/timeseries/{_ID}$", "GET", "data_timeseries"),
        (rf"^/vod/{_ID}/chapters/([^/]+)\.vtt$", "GET", "chapter_vtt"),
        (r"^/(vod)$", "POST", "collect"),
        (r"^/(live)$", "POST", "collect"),
        (r"^/(vod|live)$", "OPTIONS", "collect_preflight"),
    )
]
_PUBLIC = {"chapter_vtt"}
_AUTH = {"auth_api_key", "auth_refresh"}
_COLLECT = {"collect", "collect_preflight"}
#: Bodies up to this size are read (and discarded past _MAX_BODY) so that the client reads a
#: 413 rather than a reset connection; larger ones close the connection.
_DRAIN_MAX = 16 << 20
_PAGE_RANGE = {"min": 1, "max": 100}
#: ``GET /account`` features, as in the 2021 spec's example.
ACCOUNT_FEATURES = (
    "app.dynamic_metadata",
    "app.event_log",
    "player.white_label",
    "stats.player_events",
    "transcode.mp4_support",
)


class _App:
    """Request handling shared by every connection of one server."""

    def __init__(
        self,
        world: World,
        *,
        api_key: str,
        latency: float,
        rate_limit: int | None,
        rate_window: float,
        token_ttl: float,
        faults: Faults,
        record: str | Path | None = None,
    ) -> None:
        self.world = world
        self.collector = Collector(record)
        self.idx = _indexes(world)
        self.api_key = api_key
        self.latency = latency
        self.limiter = _RateLimiter(rate_limit, rate_window)
        self.tokens = _Tokens(token_ttl)
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._rng_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self.log: deque[RequestRecord] = deque(maxlen=_LOG_KEPT)
        self.refused = 0
        self.fault_counts = {"error": 0, "drop": 0, "slow": 0}
        self.base_url = ""

    # ------------------------------------------------------------------ plumbing
    def _draw_fault(self) -> str | None:
        f = self.faults
        if not (f.error_rate or f.drop_rate or f.slow_rate):
            return None
        with self._rng_lock:
            x = self._rng.random()
            kind = None
            if x < f.error_rate:
                kind = "error"
            elif x < f.error_rate + f.drop_rate:
                kind = "drop"
            elif x < f.error_rate + f.drop_rate + f.slow_rate:
                kind = "slow"
            if kind:
                self.fault_counts[kind] += 1
        return kind

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self.log.append(record)
            self.refused += record.status == 429

    def handle(self, h: _Handler) -> None:
        started = time.monotonic()
        method = h.command
        split = urlsplit(h.path)
        path = split.path.rstrip("/") or "/"
        pairs = parse_qsl(split.query, keep_blank_values=True)
        query: dict[str, list[str]] = {}
        for k, v in pairs:
            query.setdefault(k, []).append(v)
        length, body = self._read_body(h)

        if self.latency > 0:
            time.sleep(self.latency)

        name, args, allowed = self._route(method, path)
        if name in _COLLECT:
            self._collect(h, name, args, body, length, query, started)
            return
        fault: str | None = None
        headers: dict[str, str] = {}
        content_type = "application/json"
        status: int
        payload: Any
        try:
            if name in _AUTH:
                status, payload = 200, self._auth(name, body)
            elif name in _PUBLIC:
                status, payload = 200, self._public(args)
                content_type = "text/vtt; charset=utf-8"
            else:
                ok, headers = self.limiter.hit()
                if not ok:
                    raise _problem(429, "too-many-requests", "Too many requests.")
                fault = self._draw_fault()
                if fault == "drop":
                    h.close_connection = True
                    self._record(
                        RequestRecord(method, path, query, None, fault, time.monotonic() - started)
                    )
                    return
                if fault == "error":
                    raise _problem(500, "server-error", "Server error", detail="Injected fault.")
                if name is None:
                    if allowed:
                        raise _problem(
                            405, "method-not-allowed", "Method is not allowed for this route."
                        )
                    raise _problem(404, "unrecognized-request-url", "Unrecognized request URL.")
                self._authorize(h)
                status, payload = 200, getattr(self, f"_get_{name}")(args, query, pairs)
        except _Problem as problem:
            status, payload = problem.status, problem.body
            content_type = "application/json"
            if problem.status == 405 and allowed:
                headers = {**headers, "Allow": ", ".join(sorted(allowed))}
        except Exception as exc:  # a bug in the sandbox: answer 500, never hang the client
            status, content_type = 500, "application/json"
            payload = {
                "type": _DOCS + "server-error",
                "title": "Server error",
                "status": 500,
                "detail": f"{type(exc).__name__}: {exc}",
            }
        if fault == "slow":
            # The answer is computed (and the token checked) on arrival, then held back:
            # a token valid when the request came must not expire while it waits.
            time.sleep(self.faults.slow_seconds)
        # Logged before answering: a client that reads the log right after its answer finds
        # its request there, and one that left before the answer (timed out) is logged too.
        self._record(RequestRecord(method, path, query, status, fault, time.monotonic() - started))
        try:
            self._send(h, status, payload, content_type, headers)
        except OSError:
            h.close_connection = True

    @staticmethod
    def _read_body(h: _Handler) -> tuple[int, bytes]:
        """``(Content-Length, body)``: at most ``_MAX_BODY`` bytes kept, the rest of a body up
        to ``_DRAIN_MAX`` read and dropped (so the answer reaches the client)."""
        try:
            length = int(h.headers.get("Content-Length") or 0)
        except ValueError:
            h.close_connection = True
            return 0, b""
        if length <= 0:
            return length, b""
        body = h.rfile.read(min(length, _MAX_BODY))
        if length > _MAX_BODY:
            if length > _DRAIN_MAX:
                h.close_connection = True
            else:
                left = length - len(body)
                while left > 0 and (chunk := h.rfile.read(min(left, 1 << 16))):
                    left -= len(chunk)
        return length, body

    def _collect(
        self,
        h: _Handler,
        name: str,
        args: list[str],
        body: bytes,
        length: int,
        query: dict[str, list[str]],
        started: float,
    ) -> None:
        """``POST /vod|/live`` (a ping) and its CORS preflight: no key, no rate limit, no
        faults (the SDK sends no credentials and never retries)."""
        origin = h.headers.get("Origin")
        headers = cors_headers(origin, preflight=name == "collect_preflight")
        status: int
        payload: Any
        if name == "collect_preflight":
            status, payload = 204, b""
        elif length > MAX_PING_BYTES:
            status, payload = (
                413,
                _problem(
                    413,
                    "payload-too-large",
                    "The payload is too large.",
                    detail=f"A ping must be at most {MAX_PING_BYTES} bytes; this one has {length}.",
                ).body,
            )
        else:
            try:
                ping = parse_ping(body, args[0])
                sid = self.collector.accept(args[0], ping, h.headers.get("User-Agent"))
                status, payload = 200, {"session": sid}
            except _Problem as problem:
                status, payload = problem.status, problem.body
            except OSError as exc:  # the record file could not be written: say so
                status, payload = (
                    500,
                    _problem(
                        500, "server-error", "Server error", detail=f"Recording failed: {exc}"
                    ).body,
                )
        path = f"/{args[0]}"
        self._record(
            RequestRecord(h.command, path, query, status, None, time.monotonic() - started)
        )
        try:
            self._send(h, status, payload, "application/json", headers)
        except OSError:
            h.close_connection = True

    def _route(self, method: str, path: str) -> tuple[str | None, list[str], set[str]]:
        allowed: set[str] = set()
        for pattern, route_method, name in _ROUTES:
            m = pattern.match(path)
            if m:
                allowed.add(route_method)
                if route_method == method:
                    return name, list(m.groups()), allowed
        return None, [], allowed

    @staticmethod
    def _send(
        h: _Handler, status: int, payload: Any, content_type: str, headers: Mapping[str, str]
    ) -> None:
        if isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        h.send_response(status)
        if status != 204:  # a 204 has neither body nor Content-Length (RFC 9110)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    # ------------------------------------------------------------------ auth
    def _auth(self, name: str, body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise _problem(400, "invalid-payload", "The payload is invalid.") from None
        field_name = "apiKey" if name == "auth_api_key" else "refreshToken"
        value = payload.get(field_name) if isinstance(payload, dict) else None
        if not isinstance(value, str) or not value:
            problem = {
                "type": _DOCS + "attribute-required",
                "title": "This attribute is required.",
                "name": field_name,
            }
            raise _Problem(400, {**problem, "status": 400, "problems": [problem]})
        if name == "auth_api_key":
            if not secrets.compare_digest(value.encode(), self.api_key.encode()):
                raise _problem(401, "authentication-invalid-api-key", "The API key is invalid.")
            issued = self.tokens.issue()
        else:
            issued = self.tokens.issue(old_refresh=value)
            if issued is None:
                raise _problem(
                    401, "authentication-invalid-refresh-token", "The refresh token is invalid."
                )
        assert issued is not None
        return issued

    def _authorize(self, h: _Handler) -> None:
        header = h.headers.get("Authorization")
        if not header:
            raise _problem(
                401,
                "authentication-missing-authorization-header",
                'The "Authorization" header is missing.',
            )
        scheme, _, credentials = header.strip().partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        if scheme == "basic" and credentials:
            try:
                user = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                user = None
            if user is not None:
                key = user.partition(":")[0]
                if secrets.compare_digest(key.encode(), self.api_key.encode()):
                    return
                raise _problem(401, "authentication-invalid-api-key", "The API key is invalid.")
        elif scheme == "bearer" and credentials:
            if self.tokens.valid(credentials):
                return
            raise _problem(
                401,
                "authentication-invalid-access-token",
                "The access token is invalid or expired.",
            )
        raise _problem(
            401,
            "authentication-invalid-authorization-header",
            'The "Authorization" header value is invalid.',
        )

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _page_params(query: Mapping[str, list[str]]) -> tuple[int, int]:
        out = []
        problems = []
        for name, default, rng in (
            ("currentPage", 1, {"min": 1}),
            ("pageSize", 25, _PAGE_RANGE),
        ):
            raw = _App._one(query, name)
            value = default
            if raw is not None and raw != "":
                try:
                    value = int(raw)
                except ValueError:
                    problems.append((name, rng, "This parameter must be an integer."))
                    out.append(default)
                    continue
            if value < rng["min"] or value > rng.get("max", value):
                problems.append(
                    (name, rng, "This parameter is out of the allowed range of values.")
                )
            out.append(value)
        if problems:
            name, rng, title = problems[0]
            allowed = f"{rng['min']} to {rng['max']}" if "max" in rng else f"{rng['min']} or more"
            raise _Problem(
                400,
                {
                    "type": _DOCS + "request-invalid-query-parameter",
                    "title": title,
                    "name": name,
                    "status": 400,
                    "detail": f"Use an integer from {allowed} for {name}.",
                    "range": rng,
                    "problems": [
                        {
                            "type": _DOCS + "request-invalid-query-parameter",
                            "title": t,
                            "name": n,
                            "range": r,
                        }
                        for n, r, t in problems
                    ],
                },
            )
        return out[0], out[1]

    def _page(
        self,
        items: Sequence[Any] | int,
        path: str,
        query: Mapping[str, list[str]],
        pairs: Sequence[tuple[str, str]],
        *,
        absolute: bool = False,
        render: Callable[[int], Any] | None = None,
    ) -> dict[str, Any]:
        """One page of ``items`` (or of ``render(i)`` for positions ``i`` < ``items``)."""
        current, size = self._page_params(query)
        total = items if isinstance(items, int) else len(items)
        lo, hi = (current - 1) * size, min(current * size, total)
        if render is not None:
            data = [render(i) for i in range(lo, hi)]
        else:
            assert not isinstance(items, int)
            data = list(items[lo:hi]) if lo < hi else []
        return {
            "data": data,
            "pagination": pagination(
                total,
                current_page=current,
                page_size=size,
                path=path,
                params=pairs,
                base_url=self.base_url if absolute else "",
            ),
        }

    @staticmethod
    def _sorted(
        items: list[dict[str, Any]],
        query: Mapping[str, list[str]],
        fields: Sequence[str],
    ) -> list[dict[str, Any]]:
        sort_by = _App._one(query, "sortBy")
        order = _App._one(query, "sortOrder")
        if order is not None and order not in ("asc", "desc"):
            raise _bad_query("sortOrder", 'Use "asc" or "desc".', "This parameter is invalid.")
        if sort_by is None:
            return list(reversed(items)) if order == "desc" else items
        if sort_by not in fields:
            raise _bad_query(
                "sortBy", f"Use one of {', '.join(fields)}.", "This parameter is invalid."
            )
        present = [i for i in items if i.get(sort_by) is not None]
        missing = [i for i in items if i.get(sort_by) is None]
        present.sort(key=lambda i: i[sort_by], reverse=order == "desc")
        return present + missing

    @staticmethod
    def _one(query: Mapping[str, list[str]], name: str) -> str | None:
        values = query.get(name)
        return values[-1] if values else None

    # ------------------------------------------------------------------ resources
    def _get_account(self, args: list[str], query: Any, pairs: Any) -> dict:
        # As the 2021 spec's example: a quota of videos (used = the world's videos) and the
        # features of a full account; the sandbox's key is a sandbox key.
        used = len(self.world.videos)
        total = max(60, used)
        return {
            "quota": {"quotaUsed": used, "quotaRemaining": total - used, "quotaTotal": total},
            "environment": "sandbox",
            "features": list(ACCOUNT_FEATURES),
        }

    def _get_videos(self, args: list[str], query: Mapping[str, list[str]], pairs: Any) -> dict:
        # api.video: the title "will match exactly to what term you provide" as part of the
        # title, so a case-sensitive substring; tags[] must all be present.
        items = list(self.world.videos)
        title = self._one(query, "title")
        if title:
            items = [v for v in items if title in (v.get("title") or "")]
        description = self._one(query, "description")
        if description:
            items = [v for v in items if description in (v.get("description") or "")]
        tags = [*query.get("tags[]", []), *query.get("tags", [])]
        if tags:
            items = [v for v in items if set(tags) <= set(v.get("tags") or ())]
        metadata = {
            m[1]: values[-1]
            for name, values in query.items()
            if (m := re.match(r"^metadata\[([^\]]*)\]$", name))
        }
        if metadata:

            def matches(video: dict[str, Any]) -> bool:
                have = {p.get("key"): p.get("value") for p in video.get("metadata") or ()}
                return all(have.get(k) == v for k, v in metadata.items())

            items = [v for v in items if matches(v)]
        live = self._one(query, "liveStreamId")
        if live:
            items = [
                v
                for v in items
                if ((v.get("source") or {}).get("liveStream") or {}).get("liveStreamId") == live
            ]
        items = self._sorted(items, query, ("title", "createdAt", "publishedAt", "updatedAt"))
        return self._page(items, "/videos", query, pairs, absolute=True)

    def _get_video(self, args: list[str], query: Any, pairs: Any) -> dict:
        video = self.idx.videos.get(args[0])
        if video is None:
            raise _not_found("videoId")
        return video

    def _get_video_status(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.videos:
            raise _not_found("videoId")
        status = self.world.video_status.get(args[0])
        if status is None:
            raise _not_found("videoId")
        return status

    def _get_captions(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.videos:
            raise _not_found("videoId")
        items = self.world.captions.get(args[0], [])
        return self._page(items, f"/videos/{args[0]}/captions", query, pairs)

    def _get_caption(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.videos:
            raise _not_found("videoId")
        for item in self.world.captions.get(args[0], []):
            if item.get("srclang") == args[1]:
                return item
        raise _not_found("language")

    def _chapter(self, video_id: str, item: dict[str, Any]) -> dict[str, Any]:
        language = item.get("language")
        if (video_id, language) in self.world.chapter_vtt:
            # The chapters' WebVTT is served by this server, so the src must point here.
            return {**item, "src": f"{self.base_url}/vod/{video_id}/chapters/{language}.vtt"}
        return item

    def _get_chapters(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.videos:
            raise _not_found("videoId")
        items = [self._chapter(args[0], c) for c in self.world.chapters.get(args[0], [])]
        return self._page(items, f"/videos/{args[0]}/chapters", query, pairs)

    def _get_chapter(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.videos:
            raise _not_found("videoId")
        for item in self.world.chapters.get(args[0], []):
            if item.get("language") == args[1]:
                return self._chapter(args[0], item)
        raise _not_found("language")

    def _public(self, args: list[str]) -> bytes:
        text = self.world.chapter_vtt.get((args[0], args[1]))
        if text is None:
            raise _not_found("language")
        return text.encode("utf-8")

    def _get_live_streams(self, args: list[str], query: Any, pairs: Any) -> dict:
        items = list(self.world.live_streams)
        key = self._one(query, "streamKey")
        if key:
            items = [v for v in items if v.get("streamKey") == key]
        name = self._one(query, "name")
        if name:
            items = [v for v in items if name in (v.get("name") or "")]
        items = self._sorted(items, query, ("name", "createdAt", "updatedAt"))
        return self._page(items, "/live-streams", query, pairs)

    def _get_live_stream(self, args: list[str], query: Any, pairs: Any) -> dict:
        item = self.idx.live_streams.get(args[0])
        if item is None:
            raise _not_found("liveStreamId")
        return item

    def _get_players(self, args: list[str], query: Any, pairs: Any) -> dict:
        items = self._sorted(list(self.world.players), query, ("name", "createdAt", "updatedAt"))
        return self._page(items, "/players", query, pairs, absolute=True)

    def _get_player(self, args: list[str], query: Any, pairs: Any) -> dict:
        item = self.idx.players.get(args[0])
        if item is None:
            raise _not_found("playerId")
        return item

    def _get_upload_tokens(self, args: list[str], query: Any, pairs: Any) -> dict:
        items = self._sorted(list(self.world.upload_tokens), query, ("createdAt", "ttl"))
        return self._page(items, "/upload-tokens", query, pairs)

    def _get_upload_token(self, args: list[str], query: Any, pairs: Any) -> dict:
        item = self.idx.upload_tokens.get(args[0])
        if item is None:
            raise _not_found("uploadToken")
        return item

    def _get_webhooks(self, args: list[str], query: Any, pairs: Any) -> dict:
        items = list(self.world.webhooks)
        events = self._one(query, "events")
        if events:
            items = [w for w in items if events in (w.get("events") or ())]
        return self._page(items, "/webhooks", query, pairs, absolute=True)

    def _get_webhook(self, args: list[str], query: Any, pairs: Any) -> dict:
        item = self.idx.webhooks.get(args[0])
        if item is None:
            raise _not_found("webhookId")
        return item

    # ------------------------------------------------------------------ analytics
    def _period(self, query: Mapping[str, list[str]]) -> tuple[Any, Any]:
        raw = self._one(query, "period")
        if raw is None or raw == "":
            problem = {
                "type": _DOCS + "attribute-required",
                "title": "This attribute is required.",
                "name": "period",
            }
            raise _Problem(
                400,
                {
                    **problem,
                    "status": 400,
                    "detail": "Send a period such as 2018-01-01, 2018-W01, 2018-01, 2018 or "
                    "2018-01-01/2018-01-15.",
                    "problems": [problem],
                },
            )
        try:
            return parse_period(raw)
        except PeriodError as exc:
            raise _bad_query("period", str(exc)) from None

    def _sessions_page(self, media_id: str, live: bool, query: Any, pairs: Any) -> dict:
        start, end = self._period(query)
        metadata = None
        if not live:
            metadata = {
                m[1]: values[-1]
                for name, values in query.items()
                if (m := re.match(r"^metadata\[([^\]]*)\]$", name))
            }
        # The world's sessions, then those the collector recorded (in arrival order).
        world, recorded = self.idx.sessions, self.collector.tables()[0]
        rows = world.select(media_id, live=live, start=start, end=end, metadata=metadata)
        more = recorded.select(media_id, live=live, start=start, end=end, metadata=metadata)
        n = len(rows)

        def render(i: int) -> dict[str, Any]:
            if i < n:
                return world.render(int(rows[i]), live=live)
            return recorded.render(int(more[i - n]), live=live)

        kind = "live-streams" if live else "videos"
        return self._page(
            n + len(more), f"/analytics/{kind}/{media_id}", query, pairs, render=render
        )

    def _get_video_sessions(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.videos and args[0] not in self.collector.media("vod"):
            raise _not_found("videoId")
        return self._sessions_page(args[0], False, query, pairs)

    def _get_live_stream_sessions(self, args: list[str], query: Any, pairs: Any) -> dict:
        if args[0] not in self.idx.live_streams and args[0] not in self.collector.media("live"):
            raise _not_found("liveStreamId")
        return self._sessions_page(args[0], True, query, pairs)

    def _get_session_events(self, args: list[str], query: Any, pairs: Any) -> dict:
        sid = args[0]
        has_recorded = self.collector.has_session(sid)
        if sid not in self.idx.known_sessions and not has_recorded:
            raise _not_found("sessionId")
        world = self.idx.events
        rows = world.rows(sid)
        recorded = self.collector.tables()[1]
        more = recorded.rows(sid) if has_recorded else rows[:0]
        n = len(rows)

        def render(i: int) -> dict[str, Any]:
            return world.render(int(rows[i])) if i < n else recorded.render(int(more[i - n]))

        return self._page(
            n + len(more), f"/analytics/sessions/{sid}/events", query, pairs, render=render
        )

    def _data(self, endpoint: str, args: list[str], query: Any, pairs: Any) -> dict:
        second = args[1] if len(args) > 1 else None
        try:
            q = parse_query(endpoint, args[0], second, query, now=self.world.now)
        except QueryError as exc:
            raise _Problem(400, exc.problem()) from None
        if endpoint != "metrics":
            self._page_params(query)  # validate before computing
        answer = compute(self.idx.facts, q)
        if endpoint == "metrics":
            return answer
        path = f"/data/{endpoint}/" + "/".join(args)
        page = self._page(answer["data"], path, query, pairs)
        return {"context": answer["context"], **page}

    def _get_data_metrics(self, args: list[str], query: Any, pairs: Any) -> dict:
        return self._data("metrics", args, query, pairs)

    def _get_data_buckets(self, args: list[str], query: Any, pairs: Any) -> dict:
        return self._data("buckets", args, query, pairs)

    def _get_data_timeseries(self, args: list[str], query: Any, pairs: Any) -> dict:
        return self._data("timeseries", args, query, pairs)


# --------------------------------------------------------------------------- HTTP server
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this many seconds.
    timeout = 120
    server: _Server

    def version_string(self) -> str:
        return "apivideo-insights-sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr lines (which could leak nothing, but clutter)

    def _dispatch(self) -> None:
        self.server.app.handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default backlog (5) makes a burst of parallel clients wait for a SYN
    # retry (a full second) instead of being accepted.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: _App) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """A running (or ready to run) sandbox server; made by :func:`serve`.

    Attributes
    ----------
    base_url : str
        ``http://127.0.0.1:PORT`` once started.
    api_key : str
        The key the server accepts (random unless given); never shown by ``repr``.
    world : World
        What it serves.
    requests : list of RequestRecord
        A copy of the request log, oldest first.
    faults_injected : dict
        How many ``error``, ``drop`` and ``slow`` faults were injected so far.
    """

    def __init__(
        self,
        world: World | str | Path | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        latency: float = 0.0,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        token_ttl: float = 3600,
        faults: Faults | Mapping[str, Any] | None = None,
        api_key: str | None = None,
        record: str | Path | None = None,
    ) -> None:
        if latency < 0:
            raise ValueError("latency must be >= 0 seconds.")
        if rate_limit is not None and (not isinstance(rate_limit, int) or rate_limit < 1):
            raise ValueError(
                "rate_limit must be a positive number of requests per window (a minute by "
                "default), or None for no limit."
            )
        if not 0 < rate_window <= 3600:
            raise ValueError(
                "rate_window must be a number of seconds in (0, 3600]; api.video's is 60."
            )
        if token_ttl <= 0:
            raise ValueError("token_ttl must be a positive number of seconds.")
        if not 0 <= int(port) <= 65535:
            raise ValueError("port must be between 0 (any free port) and 65535.")
        self.world = _coerce_world(world)
        self.host = host
        self._port = int(port)
        self.api_key = api_key if api_key is not None else "sb_" + secrets.token_urlsafe(24)
        self._app = _App(
            self.world,
            api_key=self.api_key,
            latency=float(latency),
            rate_limit=rate_limit,
            rate_window=float(rate_window),
            token_ttl=float(token_ttl),
            faults=Faults.coerce(faults),
            record=record,
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        """Bind and serve in a background daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        server = _Server((self.host, self._port), self._app)
        self._server = server
        host, port = server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        self._app.base_url = f"http://{shown}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"avi-sandbox-{port}",
            daemon=True,
        )
        self._thread.start()
        _stopped.mark_started(self._app.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self._app.collector.close()
        _stopped.mark_stopped(self._app.base_url)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ views
    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        if not self._app.base_url:
            raise RuntimeError("the sandbox is not started: use `with serve(...) as sb:`.")
        return self._app.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def requests(self) -> list[RequestRecord]:
        """The requests answered, oldest first (the last 100,000: a long-lived sandbox
        does not grow)."""
        with self._app._log_lock:
            return list(self._app.log)

    def reset_requests(self) -> None:
        """Forget the request log, the fault counters and the rate-limit window."""
        with self._app._log_lock:
            self._app.log.clear()
            self._app.refused = 0
        with self._app._rng_lock:
            for k in self._app.fault_counts:
                self._app.fault_counts[k] = 0
        limiter = self._app.limiter
        with limiter._lock:
            limiter._count = 0

    @property
    def rate_limited(self) -> int:
        """Requests answered 429 since start (or :meth:`reset_requests`)."""
        with self._app._log_lock:
            return self._app.refused

    @property
    def tokens_issued(self) -> list[tuple[str, str]]:
        """Every ``(access_token, refresh_token)`` pair issued (the last 10,000): for tests
        that search files, logs and errors for leaked tokens. Never shown in a repr."""
        with self._app.tokens._lock:
            return list(self._app.tokens.issued)

    @property
    def faults_injected(self) -> dict[str, int]:
        with self._app._rng_lock:
            return dict(self._app.fault_counts)

    @property
    def faults(self) -> Faults:
        return self._app.faults

    @property
    def collector(self) -> Collector:
        """The pings accepted on ``POST /vod`` and ``/live`` (and replayed from ``record``)."""
        return self._app.collector

    def url(self, path: str) -> str:
        """``base_url + path``."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def __repr__(self) -> str:
        where = self._app.base_url or "not started"
        return f"Sandbox({where}, api_key='***', world={self.world!r})"


def serve(
    world: World | str | Path | None = None,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    latency: float = 0.0,
    rate_limit: int | None = None,
    rate_window: float = 60.0,
    token_ttl: float = 3600,
    faults: Faults | Mapping[str, Any] | None = None,
    api_key: str | None = None,
    record: str | Path | None = None,
) -> Sandbox:
    """A local api.video-compatible server; use it as a context manager.

    Parameters
    ----------
    world : World, str, pathlib.Path or None
        What to serve: a :class:`World`, a directory written by ``save_world``
        (``data/world``), or ``None`` for ``simulate(seed=0)``.
    port : int, default 0
        TCP port; 0 picks a free one (read it from ``base_url``).
    host : str, default "127.0.0.1"
        Interface to bind. The default serves this machine only; change it explicitly to
        expose the sandbox.
    latency : float, default 0.0
        Seconds slept before answering each request.
    rate_limit : int, optional
        Requests per minute (api.video's sandbox allows 100 reads); beyond it, ``429``
        until the one-minute window resets. ``None``: no limit, but the
        ``X-RateLimit-*`` headers are still sent, with a limit of 1,000,000.
    rate_window : float, default 60.0
        Seconds per rate-limit window. api.video counts per minute; a shorter window lets a
        test live through many windows in seconds (``rate_limit`` is then per window).
    token_ttl : float, default 3600
        Lifetime of access tokens in seconds (api.video: one hour).
    faults : Faults or dict, optional
        Seeded fault injection: ``error_rate``, ``drop_rate``, ``slow_rate``,
        ``slow_seconds``, ``seed`` (see :class:`Faults`).
    api_key : str, optional
        The key to accept; random by default (read it from ``.api_key``).
    record : str or pathlib.Path, optional
        Also a collector for ``@api.video/player-analytics`` 1.x (``POST /vod``,
        ``POST /live``, no key needed) is always on; with ``record`` every accepted ping is
        appended to this NDJSON file (one body a line, with the assigned
        ``session.session_id`` and a top-level ``received_at``), fsynced per line. A file
        that exists is replayed first, so a restarted server serves what it recorded. Read
        it with :func:`apivideo_insights.read_pings`.

    Returns
    -------
    Sandbox
        Not started yet: ``with serve(...) as sb`` starts it and stops it on exit (or
        call ``.start()`` / ``.stop()``).

    Notes
    -----
    The world is indexed once (sessions by media, events by session, the ``/data``
    facts) and the index is shared by every server of the same ``World`` object: do not
    mutate a world while it is served. Rate limits, tokens, faults and the request log
    belong to each server.

    Examples
    --------
    >>> with serve(world, latency=0.01, faults={"error_rate": 0.1}) as sb:   # doctest: +SKIP
    ...     api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None)
    ...     videos = api.videos()
    """
    return Sandbox(
        world,
        port=port,
        host=host,
        latency=latency,
        rate_limit=rate_limit,
        rate_window=rate_window,
        token_ttl=token_ttl,
        faults=faults,
        api_key=api_key,
        record=record,
    )


# --------------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="avi sandbox",
        description="Serve a simulated api.video on this machine until Ctrl-C. Prints the "
        "base URL and the API key to use.",
    )
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated world")
    p.add_argument(
        "--world",
        type=Path,
        default=None,
        help="serve a world saved by save_world() instead of simulating one",
    )
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    p.add_argument("--rate-limit", type=int, default=None, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="window in seconds (60)")
    p.add_argument("--token-ttl", type=float, default=3600, help="access token lifetime (s)")
    p.add_argument("--api-key", default=None, help="key to accept (default: random)")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of 500 answers")
    p.add_argument("--drop-rate", type=float, default=0.0, help="share of dropped connections")
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of slow answers")
    p.add_argument("--slow-seconds", type=float, default=2.0, help="delay of a slow answer")
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="PATH",
        help="append every ping posted to /vod or /live to this NDJSON file (replayed at start)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``avi sandbox`` / ``python -m apivideo_insights.sandbox``: serve until stopped."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.world is not None:
        world: World = load_world(args.world)
    else:
        from .simulate import simulate

        world = simulate(seed=args.seed)
    faults = Faults(
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        slow_rate=args.slow_rate,
        slow_seconds=args.slow_seconds,
        seed=args.seed,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    in_main_thread = threading.current_thread() is threading.main_thread()
    # Only the main thread may install signal handlers; elsewhere Ctrl-C/stop is the caller's.
    previous = signal.signal(signal.SIGTERM, on_signal) if in_main_thread else None
    try:
        with serve(
            world,
            port=args.port,
            host=args.host,
            latency=args.latency,
            rate_limit=args.rate_limit,
            rate_window=args.rate_window,
            token_ttl=args.token_ttl,
            faults=faults,
            api_key=args.api_key,
            record=args.record,
        ) as sb:
            # Printing the key is the point of this command: it is the sandbox's own,
            # random, local key, and the user needs it to connect.
            print(f"api.video sandbox serving {world!r}", flush=True)
            print(f"APIVIDEO_BASE_URL={sb.base_url}", flush=True)
            print(f"APIVIDEO_API_KEY={sb.api_key}", flush=True)
            if args.record is not None:
                print(f"recording pings (POST /vod, /live) to {args.record}", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while not stop.wait(0.5):
                    pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0
