"""A stand-in api.video that misbehaves on purpose, and a second host that must get nothing.

Not the sandbox: each test scripts what :class:`Hostile` answers (``routes``), and a second
server on another port (another origin: scheme, host and port) records every request and
every ``Authorization`` header that reaches it. Both listen on 127.0.0.1 only and stop
with their ``with`` block; handlers that stall wait on :attr:`Hostile.release`, which the
block sets on its way out, so no thread outlives a test.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEY = "hostileKey0123456789abcdef"

Route = Callable[["_Handler", dict[str, list[str]], bytes], None]


def video(i: int) -> dict[str, Any]:
    return {"videoId": f"vi{i:04d}", "title": f"video {i}", "createdAt": "2024-01-01T00:00:00Z"}


def listing(items: list[Any], **pagination: Any) -> dict[str, Any]:
    return {"data": items, "pagination": pagination}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Hostile


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        owner.log.append((self.command, url.path, dict(self.headers), body))
        route = owner.routes.get((self.command, url.path)) or owner.routes.get((self.command, "*"))
        if route is None:
            route = _token if url.path.startswith("/auth/") else _not_found
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client left
            route(self, parse_qs(url.query), body)

    do_GET = _serve
    do_POST = _serve

    def json(self, status: int, obj: Any, **headers: str) -> None:
        self.raw(status, json.dumps(obj).encode(), **headers)

    def raw(self, status: int, data: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)


def _token(h: _Handler, query: dict[str, list[str]], body: bytes) -> None:
    owner = h.server.owner
    owner.issued += 1
    h.json(
        200,
        {
            "access_token": f"accessTok{owner.issued:06d}xyz",
            "refresh_token": f"refreshTok{owner.issued:06d}xyz",
            "token_type": "Bearer",
            "expires_in": owner.expires_in,
        },
    )


def _not_found(h: _Handler, query: dict[str, list[str]], body: bytes) -> None:
    h.json(404, {"title": "not here", "status": 404})


class Hostile:
    """One server on 127.0.0.1 with scripted routes: ``routes[(method, path)] = fn``."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.log: list[tuple[str, str, dict[str, str], bytes]] = []
        self.issued = 0
        self.expires_in: float = 3600
        self.release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def requests(self, method: str = "GET", path: str | None = None) -> int:
        return sum(1 for m, p, _, _ in self.log if m == method and (path is None or p == path))

    def credentials_seen(self) -> list[str]:
        """Every ``Authorization`` header and every request body that reached this host."""
        seen = [h.get("Authorization", "") for _, _, h, _ in self.log]
        seen += [body.decode("utf-8", "replace") for _, _, _, body in self.log]
        return [s for s in seen if s]

    def stall(self, seconds: float = 30.0) -> None:
        """Hold a handler (never answering) until the test ends or ``seconds`` pass."""
        self.release.wait(seconds)


def trickle(h: _Handler, data: bytes, every: float, release: threading.Event) -> None:
    """Send the headers at once, then the body one byte every ``every`` seconds."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.flush()
    for byte in data:
        if release.wait(every):
            return
        h.wfile.write(bytes([byte]))
        h.wfile.flush()


def flood(h: _Handler, megabytes: int, release: threading.Event) -> None:
    """A chunked body of ``megabytes`` MiB that never says its length up front."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    block = b" " * 2**20
    start = time.monotonic()
    for _ in range(megabytes):
        if release.is_set() or time.monotonic() - start > 20:
            return
        h.wfile.write(f"{len(block):X}\r\n".encode() + block + b"\r\n")
    h.wfile.write(b"0\r\n\r\n")
