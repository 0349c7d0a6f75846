"""One request through the sandbox: read, route, guard, answer, log.

:class:`App` holds what every connection of one server shares (the world's indexes, the
collector, tokens, rate limit, fault draws, the request log) and runs each request through
the same steps: read the body, sleep ``latency``, find the route in
:data:`~apivideo_insights.sandbox._endpoints.ROUTES`, then by the route's access

* ``"api"`` (and unknown routes): rate limit, fault draw, ``Authorization``, handler;
* ``"auth"``, ``"public"``: the handler only (a client can always get a token);
* ``"collect"``: the handler, with CORS headers on every answer (the SDK sends no key);

then log the request and send the answer. Handlers raise
:class:`~apivideo_insights.sandbox._problems.Problem` for error answers; anything else they
raise is a sandbox bug, answered 500 so that a client never hangs.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._auth import Tokens, authorize
from ._collect import Collector, cors_headers
from ._data_metrics import Facts, build_facts
from ._endpoints import Route, match
from ._json import EventTable, SessionTable, encode
from ._limits import FaultDice, Faults, RateLimiter
from ._problems import DOCS, Problem, problem
from .world import World

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

__all__ = ["Answer", "App", "Indexes", "Request", "RequestRecord", "indexes"]

#: Requests kept in the log: bounded for long-lived servers.
LOG_KEPT = 100_000
#: Bodies kept; the rest of a body up to _DRAIN_MAX is read and dropped (so that the client
#: reads the answer, a 413 say, rather than a reset connection); larger ones close it.
MAX_BODY = 1 << 20
_DRAIN_MAX = 16 << 20


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


@dataclass
class Request:
    """What a handler gets: the route's path arguments, the query (every value of each name,
    and the pairs in order), the headers and the body."""

    method: str
    path: str
    args: list[str]
    query: dict[str, list[str]]
    pairs: list[tuple[str, str]]
    headers: Message
    body: bytes = b""
    length: int = 0


@dataclass
class Answer:
    """A handler's answer when it is not a 200 JSON object."""

    payload: Any
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Indexes:
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


_INDEX_CACHE: weakref.WeakKeyDictionary[World, Indexes] = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()


def indexes(world: World) -> Indexes:
    """The :class:`Indexes` of ``world`` (built at the first call, then shared)."""
    with _INDEX_LOCK:
        cached = _INDEX_CACHE.get(world)
        if cached is not None:
            return cached
        sessions = SessionTable(world.sessions)
        events = EventTable(world.events)
        built = Indexes(
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


class App:
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
        self.idx = indexes(world)
        self.collector = Collector(record)
        self.api_key = api_key
        self.latency = latency
        self.limiter = RateLimiter(rate_limit, rate_window)
        self.tokens = Tokens(token_ttl)
        self.faults = faults
        self.dice = FaultDice(faults)
        self.log_lock = threading.Lock()
        self.log: deque[RequestRecord] = deque(maxlen=LOG_KEPT)
        self.refused = 0
        self.base_url = ""

    def _log(self, req: Request, status: int | None, fault: str | None, started: float) -> None:
        record = RequestRecord(
            req.method, req.path, req.query, status, fault, time.monotonic() - started
        )
        with self.log_lock:
            self.log.append(record)
            self.refused += status == 429

    # ------------------------------------------------------------------ the steps
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        """Answer one request of connection ``h``."""
        started = time.monotonic()
        req = _read(h)
        if self.latency > 0:
            time.sleep(self.latency)
        route, args, allowed = match(req.method, req.path)
        req.args = args
        fault: str | None = None
        if route is not None and route.access != "api":
            answer = self._answer(route, req)
            if route.access == "collect":
                cors = cors_headers(
                    req.headers.get("Origin"),
                    preflight=req.method == "OPTIONS",
                    asked=req.headers.get("Access-Control-Request-Headers"),
                )
                answer.headers.update(cors)
        else:
            answer, fault = self._guarded(route, req, allowed)
            if fault == "drop":
                h.close_connection = True
                self._log(req, None, fault, started)
                return
        if fault == "slow":
            # The answer is computed (and the token checked) on arrival, then held back:
            # a token valid when the request came must not expire while it waits.
            time.sleep(self.faults.slow_seconds)
        # Logged before answering: a client that reads the log right after its answer finds
        # its request there, and one that left before the answer (timed out) is logged too.
        self._log(req, answer.status, fault, started)
        try:
            _send(h, answer)
        except OSError:
            h.close_connection = True

    def _guarded(
        self, route: Route | None, req: Request, allowed: set[str]
    ) -> tuple[Answer, str | None]:
        """An API request: rate limit, fault, route, key, then the handler."""
        ok, limit_headers = self.limiter.hit()
        fault = None
        try:
            if not ok:
                raise problem(429, "too-many-requests", "Too many requests.")
            fault = self.dice.draw()
            if fault == "drop":
                return Answer(None), fault
            if fault == "error":
                raise problem(500, "server-error", "Server error", detail="Injected fault.")
            if route is None:
                if allowed:
                    raise problem(
                        405, "method-not-allowed", "Method is not allowed for this route."
                    )
                raise problem(404, "unrecognized-request-url", "Unrecognized request URL.")
            authorize(req.headers.get("Authorization"), api_key=self.api_key, tokens=self.tokens)
        except Problem as exc:
            answer = Answer(exc.body, exc.status)
            if exc.status == 405:
                answer.headers["Allow"] = ", ".join(sorted(allowed))
        else:
            assert route is not None
            answer = self._answer(route, req)
        answer.headers = {**limit_headers, **answer.headers}
        return answer, fault

    def _answer(self, route: Route, req: Request) -> Answer:
        try:
            out = route.handler(self, req)
        except Problem as exc:
            return Answer(exc.body, exc.status)
        except Exception as exc:  # a bug in the sandbox: answer 500, never hang the client
            body = {
                "type": DOCS + "server-error",
                "title": "Server error",
                "status": 500,
                "detail": f"{type(exc).__name__}: {exc}",
            }
            return Answer(body, 500)
        return out if isinstance(out, Answer) else Answer(out)


def _read(h: BaseHTTPRequestHandler) -> Request:
    split = urlsplit(h.path)
    pairs = parse_qsl(split.query, keep_blank_values=True)
    query: dict[str, list[str]] = {}
    for k, v in pairs:
        query.setdefault(k, []).append(v)
    req = Request(h.command, split.path.rstrip("/") or "/", [], query, pairs, h.headers)
    try:
        req.length = int(h.headers.get("Content-Length") or 0)
    except ValueError:
        h.close_connection = True
        return req
    if req.length > 0:
        req.body = h.rfile.read(min(req.length, MAX_BODY))
        if req.length > _DRAIN_MAX:
            h.close_connection = True
        elif req.length > MAX_BODY:
            left = req.length - len(req.body)
            while left > 0 and (chunk := h.rfile.read(min(left, 1 << 16))):
                left -= len(chunk)
    return req


def _send(h: BaseHTTPRequestHandler, answer: Answer) -> None:
    data = encode(answer.payload) if answer.payload is not None else b""
    h.send_response(answer.status)
    if answer.status != 204:  # a 204 has neither body nor Content-Length (RFC 9110)
        h.send_header("Content-Type", answer.content_type)
        h.send_header("Content-Length", str(len(data)))
    for k, v in answer.headers.items():
        h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(data)
