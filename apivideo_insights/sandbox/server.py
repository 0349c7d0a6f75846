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
  connections, answers slower than a client timeout);
* ``GET /account`` as the 2021 spec served it, and the collector of api.video's analytics SDK
  1.x (``POST /vod``, ``POST /live``; ``record=`` keeps every ping in an NDJSON file).

Where things are: the route table and one handler per endpoint in
:mod:`~apivideo_insights.sandbox._endpoints`; one request's steps (guards, log, answer) in
:mod:`~apivideo_insights.sandbox._app`; auth in ``_auth``, rate limit and faults in
``_limits``, errors in ``_problems``, pages in ``_pages``, JSON in ``_json``, the collector in
``_collect``, saved worlds in ``_saved``, the specs in ``_specs``; this module is the HTTP
server, :class:`Sandbox`, :func:`serve` and the command line.

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
import contextlib
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import _stopped
from ._app import App, RequestRecord
from ._collect import Collector
from ._limits import Faults
from ._saved import load_world
from .world import World

__all__ = ["Faults", "RequestRecord", "Sandbox", "main", "serve"]


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

    def __init__(self, address: tuple[str, int], app: App) -> None:
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
    collector : Collector
        The pings accepted on ``POST /vod`` and ``/live`` (``replayed`` and ``skipped``
        count what came back from ``record``).
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
        self._app = App(
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
        with self._app.log_lock:
            return list(self._app.log)

    def reset_requests(self) -> None:
        """Forget the request log, the fault counters and the rate-limit window."""
        with self._app.log_lock:
            self._app.log.clear()
            self._app.refused = 0
        self._app.dice.reset()
        self._app.limiter.reset()

    @property
    def rate_limited(self) -> int:
        """Requests answered 429 since start (or :meth:`reset_requests`)."""
        with self._app.log_lock:
            return self._app.refused

    @property
    def tokens_issued(self) -> list[tuple[str, str]]:
        """Every ``(access_token, refresh_token)`` pair issued (the last 10,000): for tests
        that search files, logs and errors for leaked tokens. Never shown in a repr."""
        return self._app.tokens.issued_pairs()

    @property
    def faults_injected(self) -> dict[str, int]:
        with self._app.dice.lock:
            return dict(self._app.dice.counts)

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
        The sandbox is always a collector for api.video's analytics SDK 1.x (``POST /vod``,
        ``POST /live``, no key needed, CORS for any origin). With ``record``, every accepted
        ping is also appended to this NDJSON file (one body a line, with the assigned
        ``session.session_id`` and a top-level ``received_at``), fsynced per line; a file
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
