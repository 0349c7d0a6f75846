"""Real browsers playing a real video through api.video's analytics client, with the truth.

The pieces of the real-browser suite (``tests/test_browser_players.py``) and benchmark
(``benchmarks/bench_browser.py``), in one home:

* :func:`requirements` says what is missing (Chromium, ffmpeg, the npm packages, Playwright);
* :func:`make_video` encodes a test video with ffmpeg (``testsrc``: a visible counter), and
  :func:`make_hls` the same as an HLS rendition, cached under ``players/.cache/``;
* :class:`PageServer` serves the player page, the SDK's and hls.js's browser bundles from
  ``players/node_modules`` and the video (optionally throttled, so that it is still
  downloading while it plays; or in HLS fragments, for real hls.js) on its own origin, and
  collects the page's truth trace on ``POST /truth``: the collector is another origin, as
  on a real site;
* :func:`viewers` makes seeded scripts of viewers (play, pause, scrubs while paused and while
  playing, drags, 2x, reloads, tab closes, watching to the end and replaying), and
  :func:`run_viewers` plays them in headless Chromium, every run bounded in time.

What is measured from a run lives in :mod:`players.measure`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PAGE_DIR = HERE / "page"
SDK_DIR = HERE / "node_modules" / "@api.video" / "player-analytics"
#: The UMD bundle the package ships (``main`` of its package.json): it runs as a plain
#: ``<script>`` and sets ``window.PlayerAnalytics``.
SDK_BUNDLE = SDK_DIR / "dist" / "index.js"
SDK_VERSION = "1.0.9"
#: hls.js as npm ships it (UMD: sets ``window.Hls``), for the ``hlsjs`` integration's page.
HLSJS_BUNDLE = HERE / "node_modules" / "hls.js" / "dist" / "hls.min.js"
CACHE_DIR = HERE / ".cache"
#: Debian's Chromium and its flags, for the recordings and for the browser tests alike (headless
#: comes from Playwright). No background networking: this machine's closed network refuses
#: Chromium's own calls.
CHROMIUM = os.environ.get("AVI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
#: The integrations the page knows (``integration`` and ``unload`` query parameters).
INTEGRATIONS: dict[str, dict[str, str]] = {
    # api.video's hls.js plugin v1: nothing sent when the tab closes or reloads.
    "hls": {"integration": "hls", "unload": "0"},
    # The same with destroy() on beforeunload.
    "hls-destroy": {"integration": "hls", "unload": "1"},
    # api.video's video.js plugin v1 (destroy() on beforeunload).
    "videojs": {"integration": "videojs", "unload": "1"},
    # The hls.js plugin's mapping on real hls.js (an HLS rendition in 2 s fragments, loaded
    # as playback goes), nothing sent on unload: what api.video's own player streams.
    "hlsjs": {"integration": "hlsjs", "unload": "0"},
    # The same with destroy() on beforeunload: what an unload handler would add to it.
    "hlsjs-destroy": {"integration": "hlsjs", "unload": "1"},
}


def requirements() -> list[str]:
    """What the real-browser suite needs and does not have (empty when all is there).

    >>> isinstance(requirements(), list)
    True
    """
    missing = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"no Chromium at {CHROMIUM} (Debian's 'chromium' package)")
    if not shutil.which("ffmpeg"):
        missing.append("no ffmpeg (Debian's 'ffmpeg' package)")
    if not HLSJS_BUNDLE.exists():
        missing.append(f"no hls.js in {HLSJS_BUNDLE.parents[2]} (npm ci in players/)")
    if not SDK_BUNDLE.exists():
        missing.append(
            f"no @api.video/player-analytics in {SDK_DIR.parent.parent} (npm ci in players/)"
        )
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("playwright is not installed (pip install playwright)")
    return missing


def make_video(seconds: int = 90, *, size: str = "320x180", fps: int = 25) -> Path:
    """A WebM (VP8, ~120 kbit/s, a keyframe every second) of ffmpeg's ``testsrc``, cached.

    The picture shows a counter, so a screenshot tells the position; a keyframe per second
    keeps seeks exact and cheap.
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out = CACHE_DIR / f"testsrc-{seconds}s-{size}-{fps}.webm"
    if out.exists() and out.stat().st_size > 0:
        return out
    tmp = out.with_suffix(".part.webm")
    cmd = [
        "ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi",
        "-i", f"testsrc=size={size}:rate={fps}:duration={seconds}",
        "-c:v", "libvpx", "-b:v", "120k", "-g", str(fps), "-deadline", "realtime",
        "-cpu-used", "8", "-an", str(tmp),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=max(60, seconds * 2), capture_output=True)
    tmp.replace(out)
    return out


def make_hls(seconds: int = 90, *, size: str = "320x180", fps: int = 25) -> Path:
    """The same ``testsrc`` as an HLS rendition (H.264, 2 s fragments, a keyframe every
    second), cached: the folder holding ``index.m3u8`` and its ``.ts`` fragments."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out = CACHE_DIR / f"testsrc-{seconds}s-{size}-{fps}-hls"
    if (out / "index.m3u8").exists():
        return out
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    cmd = [
        "ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi",
        "-i", f"testsrc=size={size}:rate={fps}:duration={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "120k", "-g", str(fps),
        "-keyint_min", str(fps), "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-an",
        "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(tmp / "seg%03d.ts"), str(tmp / "index.m3u8"),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=max(60, seconds * 2), capture_output=True)
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    return out


# --------------------------------------------------------------------------- the page server


@dataclass
class Truth:
    """What the pages posted to ``/truth``: one entry per page load, samples in order."""

    loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, body: dict[str, Any]) -> None:
        load = str(body.get("load", ""))
        with self.lock:
            entry = self.loads.setdefault(
                load,
                {"load": load, "viewer": body.get("viewer"), "video_id": body.get("video_id"),
                 "session_id": None, "duration": None, "final": False, "samples": []},
            )  # fmt: skip
            entry["session_id"] = body.get("session_id") or entry["session_id"]
            entry["duration"] = body.get("duration") or entry["duration"]
            entry["final"] = entry["final"] or bool(body.get("final"))
            entry["samples"].extend(body.get("samples") or [])

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for entry in self.loads.values():
                copy = dict(entry)
                copy["samples"] = sorted(entry["samples"], key=lambda s: s[0])
                out.append(copy)
            return out


class PageServer:
    """The player page's origin: page, SDK bundle, video, and the truth endpoint.

    Parameters
    ----------
    video : pathlib.Path
        The file served at ``/video.webm`` (byte ranges supported, never cached).
    throttle : float, optional
        Bytes per second for the video; None serves it at full speed. A rate a little above
        the video's bitrate keeps it downloading while it plays.
    hls : pathlib.Path, optional
        A folder from :func:`make_hls`, served under ``/hls/`` (the ``hlsjs`` integration);
        its fragments are throttled at the same ratio to their bitrate as the video.
    """

    def __init__(
        self, video: Path, *, throttle: float | None = None, hls: Path | None = None
    ) -> None:
        self.video = Path(video)
        self.throttle = throttle
        self.hls = Path(hls) if hls is not None else None
        # Fragments at the same ratio to their own bitrate as the video to its own.
        self.hls_throttle = throttle
        if throttle and self.hls is not None:
            hls_bytes = sum(f.stat().st_size for f in self.hls.glob("*.ts"))
            self.hls_throttle = throttle * hls_bytes / max(self.video.stat().st_size, 1)
        self.truth = Truth()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                if path == "/video.webm":
                    server._send_media(self, server.video, "video/webm", server.throttle)
                    return
                if path.startswith("/hls/") and server.hls is not None:
                    name = path[len("/hls/") :]
                    part = server.hls / name
                    if "/" in name or not part.is_file():
                        self.send_error(404)
                        return
                    if part.suffix == ".m3u8":
                        _send(self, 200, part.read_bytes(), "application/vnd.apple.mpegurl")
                    else:  # a fragment, throttled as the progressive file is
                        server._send_media(self, part, "video/mp2t", server.hls_throttle)
                    return
                files = {
                    "/page.html": PAGE_DIR / "index.html",
                    "/integrations.js": PAGE_DIR / "integrations.js",
                    "/truth.js": PAGE_DIR / "truth.js",
                    "/page.js": PAGE_DIR / "page.js",
                    "/sdk/index.js": SDK_BUNDLE,
                    "/hlsjs/hls.min.js": HLSJS_BUNDLE,
                }
                file = files.get(path)
                if file is None or not file.exists():
                    self.send_error(404)
                    return
                kind = "text/html" if file.suffix == ".html" else "text/javascript"
                _send(self, 200, file.read_bytes(), f"{kind}; charset=utf-8")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(length, 16 * 1024 * 1024))
                if urllib.parse.urlsplit(self.path).path != "/truth":
                    self.send_error(404)
                    return
                try:
                    server.truth.add(json.loads(raw))
                except (ValueError, AttributeError):
                    _send(self, 400, b"not a truth body", "text/plain")
                    return
                _send(self, 204, b"", "text/plain")

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def page_url(self, *, integration: str, ping_url: str, video_id: str, viewer: str) -> str:
        query = {
            **INTEGRATIONS[integration],
            "ping": ping_url,
            "video_id": video_id,
            "viewer": viewer,
            "src": (
                "/hls/index.m3u8"
                if INTEGRATIONS[integration]["integration"] == "hlsjs"
                else "/video.webm"
            ),
            "truth": "/truth",
        }
        return f"{self.base_url}/page.html?{urllib.parse.urlencode(query)}"

    def _send_media(
        self, handler: BaseHTTPRequestHandler, file: Path, kind: str, throttle: float | None
    ) -> None:
        """Send ``file`` (byte ranges supported, never cached), at ``throttle`` bytes per
        second when given."""
        data = file.read_bytes()
        total = len(data)
        start, end = 0, total - 1
        status = 200
        ranged = handler.headers.get("Range", "")
        if ranged.startswith("bytes="):
            first, _, last = ranged[6:].split(",")[0].partition("-")
            try:
                if first:
                    start = int(first)
                    end = min(int(last), total - 1) if last else total - 1
                else:
                    start = max(total - int(last), 0)
            except ValueError:
                start, end = 0, total - 1
            if start >= total:
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{total}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            status = 206
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{end}/{total}")
        handler.end_headers()
        chunk = 16 * 1024
        pos = start
        t0 = time.monotonic()
        try:
            while pos <= end:
                piece = data[pos : min(pos + chunk, end + 1)]
                handler.wfile.write(piece)
                pos += len(piece)
                if throttle:
                    # Sleep until the bytes sent so far are due at the throttled rate.
                    due = t0 + (pos - start) / throttle
                    time.sleep(max(0.0, min(due - time.monotonic(), 5.0)))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser dropped this range (a seek): normal


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A tab closed or a seek dropped a connection mid-request: normal, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    if body:
        handler.wfile.write(body)


# ------------------------------------------------------------------------------- the viewers

#: A viewer's script: (action, argument) pairs, run in order in one tab.
Step = tuple[str, float | list[float] | None]


@dataclass
class Viewer:
    """One seeded viewer: a name, the integration its page uses, its script, and whether
    its video is still downloading while it plays (a throttled server)."""

    name: str
    integration: str
    steps: list[Step]
    throttled: bool = False

    @property
    def video_id(self) -> str:
        return video_id(self.integration, self.throttled)


def video_id(integration: str, throttled: bool = False) -> str:
    """The video id a page of this integration and download condition reports.

    One id per group, so that the collector's sessions split by group as a user would
    load them (``api.video_sessions(video_id)``).

    >>> video_id("hls"), video_id("videojs", throttled=True)
    ('viHlsLikeFull', 'viVideojsLikeSlow')
    """
    name = {"hls": "HlsLike", "hls-destroy": "HlsDestroy", "videojs": "VideojsLike",
            "hlsjs": "HlsJs", "hlsjs-destroy": "HlsJsDestroy"}[integration]  # fmt: skip
    return f"vi{name}{'Slow' if throttled else 'Full'}"


#: Every kind of viewer :func:`viewers` knows.
KINDS = ("pauser", "scrubber", "reloader", "ender", "wanderer")


def viewers(
    duration: float,
    *,
    integration: str,
    seed: int = 0,
    kinds: Sequence[str] = ("pauser", "scrubber", "reloader"),
    throttled: bool = False,
) -> list[Viewer]:
    """Seeded scripts, one per kind, that together cover what §1.8 measured.

    Kinds: ``pauser`` (pause and resume, a scrub while paused, a drag, closes while
    playing), ``scrubber`` (seeks forward and back while playing, 1x -> 2x -> 1x, closes
    after a pause), ``reloader`` (reloads while playing, jumps near the end, watches to the
    end, replays, closes while playing), ``ender`` (watches to the end from near it, closes
    after it ended), ``wanderer`` (:func:`_wanderer`: the same actions in a seeded random
    order, at positions and for lengths spread over the whole video, so that viewers of
    one kind do not all act at the same second).

    >>> [v.name for v in viewers(24, integration="hls", seed=1)]
    ['hls-1-pauser', 'hls-1-scrubber', 'hls-1-reloader']
    """
    if integration not in INTEGRATIONS:
        raise ValueError(f"integration must be one of {sorted(INTEGRATIONS)}, not {integration!r}")
    d = float(duration)
    out = []
    for kind in kinds:
        rng = random.Random(f"{seed}-{integration}-{kind}")

        def u(a: float, b: float, rng: random.Random = rng) -> float:
            return round(rng.uniform(a, b), 2)

        steps: list[Step]
        if kind == "pauser":
            steps = [
                ("open", None), ("play", None), ("watch", u(0.12 * d, 0.2 * d)),
                ("pause", None), ("watch", u(0.5, 2.0)), ("resume", None),
                ("watch", u(0.08 * d, 0.15 * d)), ("pause", None), ("watch", u(0.3, 1.0)),
                ("seek", u(0.55 * d, 0.65 * d)), ("watch", u(0.5, 1.5)), ("resume", None),
                ("watch", u(0.05 * d, 0.1 * d)), ("pause", None),
                ("drag", [u(0.3 * d, 0.35 * d), u(0.25 * d, 0.3 * d), u(0.2 * d, 0.25 * d)]),
                ("resume", None), ("watch", u(0.05 * d, 0.12 * d)), ("close", None),
            ]  # fmt: skip
        elif kind == "scrubber":
            steps = [
                ("open", None), ("play", None), ("watch", u(0.1 * d, 0.18 * d)),
                ("seek", u(0.45 * d, 0.55 * d)), ("watch", u(0.1 * d, 0.15 * d)),
                ("seek", u(0.15 * d, 0.25 * d)), ("watch", u(0.06 * d, 0.1 * d)),
                ("rate", 2.0), ("watch", u(0.1 * d, 0.15 * d)), ("rate", 1.0),
                ("watch", u(0.05 * d, 0.1 * d)),
                ("drag", [u(0.6 * d, 0.65 * d), u(0.65 * d, 0.7 * d)]),
                ("watch", u(0.05 * d, 0.1 * d)), ("pause", None), ("watch", u(0.5, 1.5)),
                ("close", None),
            ]  # fmt: skip
        elif kind == "reloader":
            steps = [
                ("open", None), ("play", None), ("watch", u(0.1 * d, 0.2 * d)),
                ("reload", None), ("play", None), ("watch", u(0.08 * d, 0.15 * d)),
                ("seek", u(d - 0.15 * d, d - 0.1 * d)), ("until_end", None),
                ("watch", u(0.5, 1.5)), ("replay", None), ("watch", u(0.08 * d, 0.15 * d)),
                ("close", None),
            ]  # fmt: skip
        elif kind == "wanderer":
            steps = _wanderer(d, rng)
        elif kind == "ender":
            steps = [
                ("open", None), ("play", None), ("watch", u(0.05 * d, 0.1 * d)),
                ("seek", u(d - 0.2 * d, d - 0.12 * d)), ("until_end", None),
                ("watch", u(0.5, 1.5)), ("close", None),
            ]  # fmt: skip
        else:
            raise ValueError(f"unknown viewer kind {kind!r}")
        slow = "-slow" if throttled else ""
        out.append(Viewer(f"{integration}{slow}-{seed}-{kind}", integration, steps, throttled))
    return out


def _wanderer(d: float, rng: random.Random) -> list[Step]:
    """A seeded random script over a video of ``d`` seconds: 2 to 5 actions (a pause, a
    seek while playing, a scrub while paused, a drag, a stretch at 1.5x or 2x) with watching
    in between, then one way out (closed while playing, closed after a pause, reloaded and
    watched again, or watched to the end). Positions are tracked so that no watching runs
    into the end unless the script says so.

    >>> steps = _wanderer(90, random.Random(1))
    >>> steps[:2], steps[-1][0]
    ([('open', None), ('play', None)], 'close')
    """

    def u(a: float, b: float) -> float:
        return round(rng.uniform(a, b), 2)

    pos, rate = 0.0, 1.0
    steps: list[Step] = [("open", None), ("play", None)]

    def seek(target: float) -> None:
        nonlocal pos
        steps.append(("seek", target))
        pos = target

    def watch(mean: float) -> None:
        nonlocal pos
        room = (d - 3.0 - pos) / rate
        if room < 2.0:  # too near the end to watch on: jump back first
            seek(u(0.0, 0.6 * d))
            room = (d - 3.0 - pos) / rate
        length = round(min(max(rng.expovariate(1 / mean), 1.0), 0.3 * d, room), 2)
        steps.append(("watch", length))
        pos += length * rate

    watch(0.12 * d)
    for _ in range(rng.randint(2, 5)):
        action = rng.choice(["pause", "seek", "scrub", "drag", "rate"])
        if action == "pause":
            steps += [("pause", None), ("watch", u(0.5, 3.0)), ("resume", None)]
        elif action == "seek":
            seek(u(0.0, 0.9 * d))
        elif action == "scrub":
            steps += [("pause", None), ("watch", u(0.3, 1.0))]
            seek(u(0.0, 0.9 * d))
            steps += [("watch", u(0.3, 1.5)), ("resume", None)]
        elif action == "drag":
            first = u(0.0, 0.85 * d)
            last = round(min(max(first + rng.uniform(-8.0, 8.0), 0.0), 0.9 * d), 2)
            steps.append(("drag", [first, last]))
            pos = last
        else:
            rate = rng.choice([1.5, 2.0])
            steps.append(("rate", rate))
            watch(0.06 * d)
            rate = 1.0
            steps.append(("rate", rate))
        watch(0.1 * d)
    way_out = rng.choice(["close", "pause", "reload", "end"])
    if way_out == "pause":
        steps += [("pause", None), ("watch", u(0.5, 1.5))]
    elif way_out == "reload":
        steps += [("reload", None), ("play", None)]
        pos = 0.0
        watch(0.1 * d)
    elif way_out == "end":
        seek(u(0.75 * d, 0.9 * d))
        steps += [("until_end", None), ("watch", u(0.5, 1.5))]
    steps.append(("close", None))
    return steps


@dataclass
class Run:
    """What a browser run left: the page truth per load, and when each tab was unloaded."""

    truth: list[dict[str, Any]]
    #: Page load id -> epoch milliseconds at which the driver closed or reloaded it.
    unloads: dict[str, float]
    #: Page load id -> the session id the page ended with.
    sessions: dict[str, str | None]
    viewers: list[str]
    errors: list[str]
    seconds: float
    #: The origins the pages came from, and the collector's (never one of them).
    page_origins: list[str] = field(default_factory=list)
    collector: str = ""


_WAIT_READY = "() => window.aviPage && aviPage.video.readyState >= 3"


async def _play_viewer(
    browser: Any,
    viewer: Viewer,
    url: str,
    unloads: dict[str, float],
    sessions: dict[str, str | None],
    errors: list[str],
    time_limit: float,
) -> None:
    context = await browser.new_context(viewport={"width": 400, "height": 260})
    page = await context.new_page()
    page.on("pageerror", lambda e: errors.append(f"{viewer.name}: {e}"))
    deadline = time.monotonic() + time_limit

    def left() -> float:
        return max(deadline - time.monotonic(), 0.5)

    async def mark_unload() -> None:
        load = await page.evaluate("() => aviPage.load")
        sessions[load] = await page.evaluate("() => aviPage.sessionId()")
        unloads[load] = time.time() * 1000

    try:
        for action, arg in viewer.steps:
            if time.monotonic() > deadline:
                errors.append(f"{viewer.name}: out of time at {action}")
                break
            if action == "open":
                await page.goto(url, wait_until="load", timeout=left() * 1000)
                await page.wait_for_function(_WAIT_READY, timeout=left() * 1000)
            elif action in ("play", "resume", "replay"):
                await page.evaluate("() => aviPage.video.play()")
            elif action == "pause":
                await page.evaluate("() => aviPage.video.pause()")
            elif action == "watch":
                await asyncio.sleep(min(float(arg), left()))  # type: ignore[arg-type]
            elif action == "seek":
                await page.evaluate("(t) => { aviPage.video.currentTime = t; }", arg)
            elif action == "drag":
                # A drag on a scrub bar: several seeks, each before the last one settled.
                for target in arg:  # type: ignore[union-attr]
                    await page.evaluate("(t) => { aviPage.video.currentTime = t; }", target)
                    await asyncio.sleep(0.15)
            elif action == "rate":
                await page.evaluate("(r) => { aviPage.video.playbackRate = r; }", arg)
            elif action == "until_end":
                await page.wait_for_function(
                    "() => aviPage.video.ended", timeout=left() * 1000, polling=100
                )
            elif action == "reload":
                await mark_unload()
                await page.reload(wait_until="load", timeout=left() * 1000)
                await page.wait_for_function(_WAIT_READY, timeout=left() * 1000)
            elif action == "close":
                await mark_unload()
                # run_before_unload: a tab closed by a person runs beforeunload and pagehide.
                async with page.expect_event("close", timeout=min(left(), 10) * 1000):
                    await page.close(run_before_unload=True)
                break
            else:
                raise ValueError(f"unknown action {action!r}")
    except Exception as exc:  # one viewer's failure is reported, not fatal to the others
        errors.append(f"{viewer.name}: {type(exc).__name__}: {exc}")
    finally:
        await context.close()


def run_viewers(
    group: Sequence[Viewer],
    *,
    pages: Mapping[bool, PageServer],
    ping_url: str,
    parallel: int = 3,
    time_limit: float = 240.0,
    settle: float = 2.0,
) -> Run:
    """Play every viewer in headless Chromium (``parallel`` tabs at a time) and collect.

    ``pages`` maps ``Viewer.throttled`` to the page server of that condition. Each viewer
    gets its own browser context (fresh storage). Every wait is bounded; a viewer over
    ``time_limit`` seconds is stopped and named in ``Run.errors``. After the last tab,
    ``settle`` seconds at most let the last truth beacons arrive.
    """
    from playwright.async_api import async_playwright

    unloads: dict[str, float] = {}
    sessions: dict[str, str | None] = {}
    errors: list[str] = []
    started = time.monotonic()

    async def one(browser: Any, gate: asyncio.Semaphore, v: Viewer) -> None:
        async with gate:
            url = pages[v.throttled].page_url(
                integration=v.integration, ping_url=ping_url, video_id=v.video_id, viewer=v.name
            )
            play = _play_viewer(browser, v, url, unloads, sessions, errors, time_limit)
            await asyncio.wait_for(play, timeout=time_limit + 30)

    async def main() -> None:
        # launch() starts Chromium on a fresh temporary profile (user-data-dir) every time.
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                gate = asyncio.Semaphore(max(1, parallel))
                results = await asyncio.gather(
                    *(one(browser, gate, v) for v in group), return_exceptions=True
                )
                errors.extend(f"{r!r}" for r in results if isinstance(r, BaseException))
            finally:
                await browser.close()

    _run(main, timeout=time_limit * max(1, -(-len(group) // max(1, parallel))) + 120)

    def snapshot() -> list[dict[str, Any]]:
        return [e for server in pages.values() for e in server.truth.snapshot()]

    _wait(lambda: all(e["final"] for e in snapshot()), settle)
    return Run(
        truth=snapshot(),
        unloads=unloads,
        sessions=sessions,
        viewers=[v.name for v in group],
        errors=errors,
        seconds=time.monotonic() - started,
        page_origins=[server.base_url for server in pages.values()],
        collector=urllib.parse.urlsplit(ping_url)._replace(path="").geturl(),
    )


def _run(main: Callable[[], Any], *, timeout: float) -> None:
    """``asyncio.run(main())``, in a thread of its own when this one already runs an event
    loop (Jupyter's kernel does): Playwright's async API needs a loop it owns."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="avi-browser", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the browser run did not finish in {timeout:.0f} s")
    if failure:
        raise failure[0]


def _wait(done: Callable[[], bool], seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not done():
        time.sleep(0.05)


@dataclass
class Recording:
    """A recorded run on disk: ``pings.ndjson`` (the sandbox's ``record=`` file) and
    ``truth.json`` (the pages' traces, the unload times, the true segments)."""

    directory: Path
    duration: float
    run: Run

    @property
    def pings(self) -> Path:
        return self.directory / "pings.ndjson"

    @property
    def truth(self) -> Path:
        return self.directory / "truth.json"


def record(
    directory: Path,
    group: Sequence[Viewer],
    *,
    seconds: int,
    parallel: int = 3,
    time_limit: float = 240.0,
    throttle_ratio: float = 1.3,
) -> Recording:
    """Record ``group`` into a sandbox collector: pings and truth land in ``directory``.

    The sandbox (``avi.sandbox.serve(record=directory / "pings.ndjson")``, on the saved
    world) is the collector, on its own origin; the page and the video come from one page
    server per download condition. A throttled server sends the video at
    ``throttle_ratio`` times its bitrate, so that it is still downloading while it plays.
    """
    import apivideo_insights as avi

    from .measure import WORLD, true_segments, write_truth

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    video = make_video(seconds)
    hls = make_hls(seconds)
    rate = video.stat().st_size / seconds * throttle_ratio
    pings = directory / "pings.ndjson"
    pings.unlink(missing_ok=True)
    with (
        avi.sandbox.serve(WORLD, record=pings) as sandbox,
        PageServer(video, hls=hls) as full,
        PageServer(video, throttle=rate, hls=hls) as slow,
    ):
        run = run_viewers(
            group,
            pages={False: full, True: slow},
            ping_url=f"{sandbox.base_url}/vod",
            parallel=parallel,
            time_limit=time_limit,
        )
    truth = true_segments(run.truth)
    write_truth(
        run.truth,
        directory / "truth.json",
        duration=float(seconds),
        sdk=f"@api.video/player-analytics {SDK_VERSION}",
        viewers={v.name: {"integration": v.integration, "throttled": v.throttled,
                          "video_id": v.video_id, "steps": v.steps} for v in group},
        unloads=run.unloads,
        errors=run.errors,
        segments=truth.assign(
            started_at=truth["started_at"].astype(str), ended_at=truth["ended_at"].astype(str)
        ).to_dict(orient="records"),
    )  # fmt: skip
    return Recording(directory, float(seconds), run)
