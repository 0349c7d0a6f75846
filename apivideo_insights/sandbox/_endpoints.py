"""Every endpoint the sandbox serves: the route table and one handler per endpoint.

To change what an endpoint answers, find its row in :data:`ROUTES` and edit its handler
(a function of the server's :class:`~apivideo_insights.sandbox._app.App` and the
:class:`~apivideo_insights.sandbox._app.Request`, returning the JSON object of a 200 or an
:class:`~apivideo_insights.sandbox._app.Answer`; errors are raised as
:class:`~apivideo_insights.sandbox._problems.Problem`). A route's ``access`` says what guards
it: ``"api"`` (API key, rate limit, faults), ``"auth"`` and ``"public"`` (none),
``"collect"`` (none, plus CORS headers).

>>> [(r.method, r.path) for r in ROUTES if r.access == "collect"]
[('POST', '/vod'), ('POST', '/live'), ('OPTIONS', '/vod'), ('OPTIONS', '/live')]
>>> match("GET", "/videos/vi1/status")[0].handler.__name__, match("DELETE", "/videos")[2]
('video_status', {'GET'})
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import pandas as pd

from .._periods import PeriodError, parse_period
from ._auth import token_answer
from ._collect import MAX_PING_BYTES, parse_ping
from ._data_metrics import QueryError, compute, parse_query
from ._pages import one, page, page_params, sort_items
from ._problems import Problem, bad_query, not_found, problem, required

if TYPE_CHECKING:
    from ._app import Answer, App, Request

__all__ = ["ACCOUNT_FEATURES", "ROUTES", "Route", "match"]

Handler = Callable[["App", "Request"], Any]

#: ``GET /account`` features, as in the 2021 spec's example.
ACCOUNT_FEATURES = (
    "app.dynamic_metadata",
    "app.event_log",
    "player.white_label",
    "stats.player_events",
    "transcode.mp4_support",
)


def _answer(payload: Any, **kw: Any) -> Answer:
    from ._app import Answer

    return Answer(payload, **kw)


# --------------------------------------------------------------------------- auth
def auth_api_key(app: App, req: Request) -> dict[str, Any]:
    return token_answer(req.body, refresh=False, api_key=app.api_key, tokens=app.tokens)


def auth_refresh(app: App, req: Request) -> dict[str, Any]:
    return token_answer(req.body, refresh=True, api_key=app.api_key, tokens=app.tokens)


def account(app: App, req: Request) -> dict[str, Any]:
    # As the 2021 spec's example: a quota of videos (used = the world's videos) and the
    # features of a full account; the sandbox's key is a sandbox key.
    used = len(app.world.videos)
    total = max(60, used)
    return {
        "quota": {"quotaUsed": used, "quotaRemaining": total - used, "quotaTotal": total},
        "environment": "sandbox",
        "features": list(ACCOUNT_FEATURES),
    }


# --------------------------------------------------------------------------- videos
def _metadata_filter(query: dict[str, list[str]]) -> dict[str, str]:
    return {
        m[1]: values[-1]
        for name, values in query.items()
        if (m := re.match(r"^metadata\[([^\]]*)\]$", name))
    }


def videos(app: App, req: Request) -> dict[str, Any]:
    # api.video: the title "will match exactly to what term you provide" as part of the
    # title, so a case-sensitive substring; tags[] must all be present.
    q = req.query
    items = list(app.world.videos)
    if title := one(q, "title"):
        items = [v for v in items if title in (v.get("title") or "")]
    if description := one(q, "description"):
        items = [v for v in items if description in (v.get("description") or "")]
    if tags := [*q.get("tags[]", []), *q.get("tags", [])]:
        items = [v for v in items if set(tags) <= set(v.get("tags") or ())]
    if metadata := _metadata_filter(q):

        def matches(video: dict[str, Any]) -> bool:
            have = {p.get("key"): p.get("value") for p in video.get("metadata") or ()}
            return all(have.get(k) == v for k, v in metadata.items())

        items = [v for v in items if matches(v)]
    if live := one(q, "liveStreamId"):
        items = [
            v
            for v in items
            if ((v.get("source") or {}).get("liveStream") or {}).get("liveStreamId") == live
        ]
    items = sort_items(items, q, ("title", "createdAt", "publishedAt", "updatedAt"))
    return page(items, "/videos", q, req.pairs, base_url=app.base_url)


def _video_id(app: App, req: Request) -> str:
    if req.args[0] not in app.idx.videos:
        raise not_found("videoId")
    return req.args[0]


def video(app: App, req: Request) -> dict[str, Any]:
    return app.idx.videos[_video_id(app, req)]


def video_status(app: App, req: Request) -> dict[str, Any]:
    status = app.world.video_status.get(_video_id(app, req))
    if status is None:
        raise not_found("videoId")
    return status


def captions(app: App, req: Request) -> dict[str, Any]:
    vid = _video_id(app, req)
    items = app.world.captions.get(vid, [])
    return page(items, f"/videos/{vid}/captions", req.query, req.pairs)


def caption(app: App, req: Request) -> dict[str, Any]:
    for item in app.world.captions.get(_video_id(app, req), []):
        if item.get("srclang") == req.args[1]:
            return item
    raise not_found("language")


def _chapter(app: App, video_id: str, item: dict[str, Any]) -> dict[str, Any]:
    language = item.get("language")
    if (video_id, language) in app.world.chapter_vtt:
        # The chapters' WebVTT is served by this server, so the src must point here.
        return {**item, "src": f"{app.base_url}/vod/{video_id}/chapters/{language}.vtt"}
    return item


def chapters(app: App, req: Request) -> dict[str, Any]:
    vid = _video_id(app, req)
    items = [_chapter(app, vid, c) for c in app.world.chapters.get(vid, [])]
    return page(items, f"/videos/{vid}/chapters", req.query, req.pairs)


def chapter(app: App, req: Request) -> dict[str, Any]:
    vid = _video_id(app, req)
    for item in app.world.chapters.get(vid, []):
        if item.get("language") == req.args[1]:
            return _chapter(app, vid, item)
    raise not_found("language")


def chapter_vtt(app: App, req: Request) -> Answer:
    text = app.world.chapter_vtt.get((req.args[0], req.args[1]))
    if text is None:
        raise not_found("language")
    return _answer(text.encode("utf-8"), content_type="text/vtt; charset=utf-8")


# --------------------------------------------------------------------------- other resources
def live_streams(app: App, req: Request) -> dict[str, Any]:
    items = list(app.world.live_streams)
    if key := one(req.query, "streamKey"):
        items = [v for v in items if v.get("streamKey") == key]
    if name := one(req.query, "name"):
        items = [v for v in items if name in (v.get("name") or "")]
    items = sort_items(items, req.query, ("name", "createdAt", "updatedAt"))
    return page(items, "/live-streams", req.query, req.pairs)


def _item(table: dict[str, dict[str, Any]], key: str, name: str) -> dict[str, Any]:
    item = table.get(key)
    if item is None:
        raise not_found(name)
    return item


def live_stream(app: App, req: Request) -> dict[str, Any]:
    return _item(app.idx.live_streams, req.args[0], "liveStreamId")


def players(app: App, req: Request) -> dict[str, Any]:
    items = sort_items(list(app.world.players), req.query, ("name", "createdAt", "updatedAt"))
    return page(items, "/players", req.query, req.pairs, base_url=app.base_url)


def player(app: App, req: Request) -> dict[str, Any]:
    return _item(app.idx.players, req.args[0], "playerId")


def upload_tokens(app: App, req: Request) -> dict[str, Any]:
    items = sort_items(list(app.world.upload_tokens), req.query, ("createdAt", "ttl"))
    return page(items, "/upload-tokens", req.query, req.pairs)


def upload_token(app: App, req: Request) -> dict[str, Any]:
    return _item(app.idx.upload_tokens, req.args[0], "uploadToken")


def webhooks(app: App, req: Request) -> dict[str, Any]:
    items = list(app.world.webhooks)
    if events := one(req.query, "events"):
        items = [w for w in items if events in (w.get("events") or ())]
    return page(items, "/webhooks", req.query, req.pairs, base_url=app.base_url)


def webhook(app: App, req: Request) -> dict[str, Any]:
    return _item(app.idx.webhooks, req.args[0], "webhookId")


# --------------------------------------------------------------------------- legacy analytics
def _period(query: dict[str, list[str]]) -> tuple[pd.Timestamp, pd.Timestamp]:
    raw = one(query, "period")
    if raw is None or raw == "":
        raise required(
            "period",
            "Send a period such as 2018-01-01, 2018-W01, 2018-01, 2018 or 2018-01-01/2018-01-15.",
        )
    try:
        return parse_period(raw)
    except PeriodError as exc:
        raise bad_query("period", str(exc)) from None


def _sessions_page(app: App, req: Request, live: bool) -> dict[str, Any]:
    media_id = req.args[0]
    start, end = _period(req.query)
    metadata = None if live else _metadata_filter(req.query)
    # The world's sessions, then those the collector recorded (in arrival order).
    world, recorded = app.idx.sessions, app.collector.tables()[0]
    rows = world.select(media_id, live=live, start=start, end=end, metadata=metadata)
    more = recorded.select(media_id, live=live, start=start, end=end, metadata=metadata)
    n = len(rows)

    def render(i: int) -> dict[str, Any]:
        if i < n:
            return world.render(int(rows[i]), live=live)
        return recorded.render(int(more[i - n]), live=live)

    kind = "live-streams" if live else "videos"
    path = f"/analytics/{kind}/{media_id}"
    return page(n + len(more), path, req.query, req.pairs, render=render)


def video_sessions(app: App, req: Request) -> dict[str, Any]:
    if req.args[0] not in app.idx.videos and req.args[0] not in app.collector.media("vod"):
        raise not_found("videoId")
    return _sessions_page(app, req, live=False)


def live_stream_sessions(app: App, req: Request) -> dict[str, Any]:
    known = app.idx.live_streams
    if req.args[0] not in known and req.args[0] not in app.collector.media("live"):
        raise not_found("liveStreamId")
    return _sessions_page(app, req, live=True)


def session_events(app: App, req: Request) -> dict[str, Any]:
    sid = req.args[0]
    has_recorded = app.collector.has_session(sid)
    if sid not in app.idx.known_sessions and not has_recorded:
        raise not_found("sessionId")
    world = app.idx.events
    rows = world.rows(sid)
    recorded = app.collector.tables()[1]
    more = recorded.rows(sid) if has_recorded else rows[:0]
    n = len(rows)

    def render(i: int) -> dict[str, Any]:
        return world.render(int(rows[i])) if i < n else recorded.render(int(more[i - n]))

    path = f"/analytics/sessions/{quote(sid, safe='')}/events"
    return page(n + len(more), path, req.query, req.pairs, render=render)


# --------------------------------------------------------------------------- /data
def _data(app: App, req: Request, endpoint: str) -> dict[str, Any]:
    args = req.args
    second = args[1] if len(args) > 1 else None
    try:
        q = parse_query(endpoint, args[0], second, req.query, now=app.world.now)
    except QueryError as exc:
        raise Problem(400, exc.problem()) from None
    if endpoint != "metrics":
        page_params(req.query)  # validate before computing
    answer = compute(app.idx.facts, q)
    if endpoint == "metrics":
        return answer
    path = f"/data/{endpoint}/" + "/".join(args)
    return {"context": answer["context"], **page(answer["data"], path, req.query, req.pairs)}


def data_metrics(app: App, req: Request) -> dict[str, Any]:
    return _data(app, req, "metrics")


def data_buckets(app: App, req: Request) -> dict[str, Any]:
    return _data(app, req, "buckets")


def data_timeseries(app: App, req: Request) -> dict[str, Any]:
    return _data(app, req, "timeseries")


# --------------------------------------------------------------------------- collector
def collect(app: App, req: Request) -> dict[str, Any] | Answer:
    """A ping of api.video's analytics SDK 1.x (:mod:`~apivideo_insights.sandbox._collect`)."""
    kind = req.path.lstrip("/")
    if req.length > MAX_PING_BYTES:
        raise problem(
            413,
            "payload-too-large",
            "The payload is too large.",
            detail=f"A ping must be at most {MAX_PING_BYTES} bytes; this one has {req.length}.",
        )
    ping = parse_ping(req.body, kind)
    try:
        sid = app.collector.accept(kind, ping, req.headers.get("User-Agent"))
    except OSError as exc:  # the record file could not be written: say so
        detail = f"Recording failed: {exc}"
        raise problem(500, "server-error", "Server error", detail=detail) from None
    return {"session": sid}


def collect_preflight(app: App, req: Request) -> Answer:
    """The CORS preflight of a ping (the headers are the App's, as on every ping)."""
    return _answer(None, status=204)


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Route:
    """One endpoint: ``method`` and ``path`` (``{name}`` matches one path segment)."""

    method: str
    path: str
    handler: Handler
    access: str = "api"

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.path)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(path: str) -> re.Pattern[str]:
    if path not in _PATTERNS:
        parts = re.split(r"(\{[^}]+\})", path)
        regex = "".join("([^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
        _PATTERNS[path] = re.compile(f"^{regex}$")
    return _PATTERNS[path]


R = Route
ROUTES: tuple[Route, ...] = (
    R("POST", "/auth/api-key", auth_api_key, "auth"),
    R("POST", "/auth/refresh", auth_refresh, "auth"),
    R("GET", "/account", account),
    R("GET", "/videos", videos),
    R("GET", "/videos/{videoId}", video),
    R("GET", "/videos/{videoId}/status", video_status),
    R("GET", "/videos/{videoId}/captions", captions),
    R("GET", "/videos/{videoId}/captions/{language}", caption),
    R("GET", "/videos/{videoId}/chapters", chapters),
    R("GET", "/videos/{videoId}/chapters/{language}", chapter),
    R("GET", "/live-streams", live_streams),
    R("GET", "/live-streams/{liveStreamId}", live_stream),
    R("GET", "/players", players),
    R("GET", "/players/{playerId}", player),
    R("GET", "/upload-tokens", upload_tokens),
    R("GET", "/upload-tokens/{uploadToken}", upload_token),
    R("GET", "/webhooks", webhooks),
    R("GET", "/webhooks/{webhookId}", webhook),
    R("GET", "/analytics/videos/{videoId}", video_sessions),
    R("GET", "/analytics/live-streams/{liveStreamId}", live_stream_sessions),
    R("GET", "/analytics/sessions/{sessionId}/events", session_events),
    R("GET", "/data/metrics/{metric}/{aggregation}", data_metrics),
    R("GET", "/data/buckets/{metric}/{breakdown}", data_buckets),
    R("GET", "/data/timeseries/{metric}", data_timeseries),
    R("GET", "/vod/{videoId}/chapters/{language}.vtt", chapter_vtt, "public"),
    R("POST", "/vod", collect, "collect"),
    R("POST", "/live", collect, "collect"),
    R("OPTIONS", "/vod", collect_preflight, "collect"),
    R("OPTIONS", "/live", collect_preflight, "collect"),
)
del R


def match(method: str, path: str) -> tuple[Route | None, list[str], set[str]]:
    """``(route, path arguments, methods allowed on path)``: route is None when no row has
    both the path and the method (then the methods say 404 or 405)."""
    allowed: set[str] = set()
    for route in ROUTES:
        m = route.pattern.match(path)
        if m:
            allowed.add(route.method)
            if route.method == method:
                # Path arguments arrive percent-encoded (a session id may hold '/').
                return route, [unquote(g) for g in m.groups()], allowed
    return None, [], allowed
