"""Every sandbox answer, success or error, validated against api.video's OpenAPI specs.

The specs' ``servers`` are ws.api.video; requests are validated as if sent to a fixed
``http://sandbox.test`` host (the sandbox's random port is stripped), with openapi-core's
requests wrappers. Legacy analytics are checked against the 2023-09 spec, everything else
against the current one. Error bodies an operation does not declare (401, unknown route)
are checked against the spec's own error schemas.

Known gaps in the current spec (answers api.video documents elsewhere but the response
schemas' enums forgot) are listed in ``SPEC_GAPS`` and are the only errors tolerated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_schema_validator import OAS30Validator

from apivideo_insights.sandbox import World
from apivideo_insights.sandbox._specs import SERVED, load_spec, spec_examples
from apivideo_insights.sandbox.server import Sandbox, serve

SPEC_BASE = "http://sandbox.test"
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"

#: (last two keys of the failing path) -> values the schema's enum lacks but api.video
#: documents: ``peak``/``live`` aggregations of ``ccv``, the ``referrer`` breakdown and the
#: ``play-total`` metric of ``/data/buckets/play-total/media-id``.
SPEC_GAPS: dict[tuple[str, str], set[str]] = {
    ("context", "aggregation"): {"peak", "live"},
    ("context", "breakdown"): {"referrer"},
    ("context", "metric"): {"play-total"},
}


@pytest.fixture(scope="module")
def specs() -> dict[str, tuple[OpenAPI, dict[str, Any]]]:
    out = {}
    for name in SERVED:
        data = load_spec(name)
        data["servers"] = [{"url": SPEC_BASE}]
        out[name] = (OpenAPI.from_dict(data, config=Config(spec_validator_cls=None)), data)
    return out


@pytest.fixture(scope="module")
def sb(sandbox_world: World) -> Iterator[Sandbox]:
    with serve(sandbox_world) as server:
        yield server


@pytest.fixture(scope="module")
def http(sb: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (sb.api_key, "")
        yield session


def _tolerated(error: Any) -> bool:
    path = tuple(str(p) for p in getattr(error, "absolute_path", ()))
    # Pagination links are relative on most routes, as in the spec's own examples; the spec
    # says ``format: uri`` (absolute). Checked only when rfc3986-validator is installed.
    if getattr(error, "validator", None) == "format" and error.schema.get("format") == "uri":
        return isinstance(error.instance, str) and error.instance.startswith("/")
    if getattr(error, "validator", None) != "enum":
        return False
    # OpenAPI 3.0 "nullable: true" with an enum that lacks null (video languageOrigin).
    if error.instance is None and error.schema.get("nullable"):
        return True
    return error.instance in SPEC_GAPS.get(path[-2:], set())


def _schema_errors(exc: BaseException) -> list[Any]:
    cause = exc.__cause__
    errors = list(getattr(cause, "schema_errors", None) or [])
    if not errors and exc.__context__ is not None:
        errors = list(getattr(exc.__context__, "schema_errors", None) or [])
    return errors


def check(spec: OpenAPI, response: requests.Response, base_url: str) -> None:
    """Fail with readable reasons unless ``response`` matches ``spec`` (gaps aside)."""
    prepared = response.request.copy()
    prepared.url = str(prepared.url).replace(base_url, SPEC_BASE, 1)
    problems = []
    for error in spec.iter_response_errors(
        RequestsOpenAPIRequest(prepared), RequestsOpenAPIResponse(response)
    ):
        schema_errors = _schema_errors(error)
        if schema_errors:
            problems += [
                f"{list(e.absolute_path)}: {e.message}" for e in schema_errors if not _tolerated(e)
            ]
        else:
            problems.append(f"{type(error).__name__}: {error}")
    assert not problems, (
        f"{response.request.method} {response.url} -> {response.status_code}:\n"
        + ("\n".join(problems))
    )


def check_component(data: dict[str, Any], schema_name: str, body: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": data["components"]}
    errors = [e.message for e in OAS30Validator(schema).iter_errors(body)]
    assert not errors, errors


# --------------------------------------------------------------------------- 200s
def _cases(world: World) -> list[tuple[str, str, str, dict[str, Any]]]:
    vid = world.videos[0]["videoId"]
    chaptered = next(v for v, _ in world.chapter_vtt)
    captioned = next(v for v, items in world.captions.items() if items)
    caption_lang = world.captions[captioned][0]["srclang"]
    chapter_lang = world.chapters[chaptered][0]["language"]
    lid = world.live_streams[0]["liveStreamId"]
    live_sessions = world.sessions[world.sessions["live_stream_id"] == lid]
    sid = str(world.sessions["session_id"].iloc[0])
    seeky = world.events[world.events["type"].astype(str).str.startswith("seek")]
    seek_sid = str(seeky["session_id"].iloc[0])
    month = world.now.strftime("%Y-%m")
    cur, old, acct = "openapi.yaml", "openapi-2023-09.yaml", "openapi-2021-02.yaml"
    assert len(live_sessions)
    return [
        (acct, "account", "/account", {}),
        (cur, "videos", "/videos", {}),
        (cur, "videos-filtered", "/videos", {"tags[]": world.videos[0]["tags"][:1],
                                             "sortBy": "title", "sortOrder": "desc"}),
        (cur, "videos-page-2", "/videos", {"pageSize": 5, "currentPage": 2}),
        (cur, "video", f"/videos/{vid}", {}),
        (cur, "video-status", f"/videos/{vid}/status", {}),
        (cur, "captions", f"/videos/{captioned}/captions", {}),
        (cur, "caption", f"/videos/{captioned}/captions/{caption_lang}", {}),
        (cur, "chapters", f"/videos/{chaptered}/chapters", {}),
        (cur, "chapter", f"/videos/{chaptered}/chapters/{chapter_lang}", {}),
        (cur, "live-streams", "/live-streams", {"sortBy": "name"}),
        (cur, "live-stream", f"/live-streams/{lid}", {}),
        (cur, "players", "/players", {}),
        (cur, "player", f"/players/{world.players[0]['playerId']}", {}),
        (cur, "upload-tokens", "/upload-tokens", {"sortBy": "ttl"}),
        (cur, "upload-token", f"/upload-tokens/{world.upload_tokens[0]['token']}", {}),
        (cur, "webhooks", "/webhooks", {}),
        (cur, "webhook", f"/webhooks/{world.webhooks[0]['webhookId']}", {}),
        (old, "video-sessions", f"/analytics/videos/{vid}", {"period": month, "pageSize": 100}),
        (old, "video-sessions-range", f"/analytics/videos/{vid}",
         {"period": f"{(world.now - pd.Timedelta(days=40)):%Y-%m-%d}/{month}"}),
        (old, "live-sessions", f"/analytics/live-streams/{lid}", {"period": month}),
        (old, "events", f"/analytics/sessions/{sid}/events", {}),
        (old, "events-seeks", f"/analytics/sessions/{seek_sid}/events", {"pageSize": 100}),
        (cur, "metric-play-count", "/data/metrics/play/count", {}),
        (cur, "metric-play-rate", "/data/metrics/play/rate", {"filterBy[country][]": ["FR", "US"]}),
        (cur, "metric-play-total", "/data/metrics/play/total", {"filterBy[mediaId][]": vid}),
        (cur, "metric-start", "/data/metrics/start/count", {}),
        (cur, "metric-end", "/data/metrics/end/count", {}),
        (cur, "metric-impression", "/data/metrics/impression/count", {}),
        (cur, "metric-impression-time", "/data/metrics/impression-time/average", {}),
        (cur, "metric-watch-time", "/data/metrics/watch-time/sum", {}),
        (cur, "metric-watch-time-avg", "/data/metrics/watch-time/average", {}),
        (cur, "metric-ccv-peak", "/data/metrics/ccv/peak", {}),
        (cur, "metric-ccv-live", "/data/metrics/ccv/live", {"unique": "true"}),
        (cur, "metric-view", "/data/metrics/view/count", {"viewDuration": "30s"}),
        (cur, "metric-unique-view", "/data/metrics/view/count", {"unique": "true"}),
        (cur, "buckets-country", "/data/buckets/play/country", {"sortBy": "dimensionValue"}),
        (cur, "buckets-play-rate", "/data/buckets/play-rate/device-type", {}),
        (cur, "buckets-play-total", "/data/buckets/play-total/media-id", {}),
        (cur, "buckets-referrer", "/data/buckets/impression/referrer", {}),
        (cur, "buckets-ccv", "/data/buckets/ccv-peak/continent", {"unique": "true"}),
        (cur, "buckets-ccv-average", "/data/buckets/ccv-average/browser", {}),
        (cur, "buckets-view", "/data/buckets/view/operating-system", {"viewDuration": "10s"}),
        (cur, "timeseries-play", "/data/timeseries/play", {"pageSize": 100}),
        (cur, "timeseries-day", "/data/timeseries/start",
         {"from": (world.now - pd.Timedelta(days=10)).isoformat()}),
        (cur, "timeseries-minute", "/data/timeseries/impression",
         {"interval": "minute",
          "from": (world.now - pd.Timedelta(minutes=59)).isoformat()}),
        (cur, "timeseries-ccv", "/data/timeseries/ccv-average", {"sortBy": "metricValue"}),
        (cur, "timeseries-view", "/data/timeseries/view", {"unique": "true"}),
        (cur, "timeseries-rate", "/data/timeseries/play-rate", {}),
    ]  # fmt: skip


CASE_IDS = [
    "account", "videos", "videos-filtered", "videos-page-2", "video", "video-status", "captions",
    "caption", "chapters", "chapter", "live-streams", "live-stream", "players", "player",
    "upload-tokens", "upload-token", "webhooks", "webhook", "video-sessions",
    "video-sessions-range", "live-sessions", "events", "events-seeks", "metric-play-count",
    "metric-play-rate", "metric-play-total", "metric-start", "metric-end", "metric-impression",
    "metric-impression-time", "metric-watch-time", "metric-watch-time-avg", "metric-ccv-peak",
    "metric-ccv-live", "metric-view", "metric-unique-view", "buckets-country",
    "buckets-play-rate", "buckets-play-total", "buckets-referrer", "buckets-ccv",
    "buckets-ccv-average", "buckets-view", "timeseries-play", "timeseries-day",
    "timeseries-minute", "timeseries-ccv", "timeseries-view", "timeseries-rate",
]  # fmt: skip


@pytest.mark.parametrize("case", CASE_IDS)
def test_success_answers_match_the_spec(
    case: str, sb: Sandbox, http: requests.Session, specs: dict[str, Any]
) -> None:
    table = {c[1]: c for c in _cases(sb.world)}
    assert set(table) == set(CASE_IDS)
    spec_name, _, path, params = table[case]
    r = http.get(sb.url(path), params=params)
    assert r.status_code == 200, r.text
    check(specs[spec_name][0], r, sb.base_url)
    body = r.json()
    if "pagination" in body:
        assert body["pagination"]["itemsTotal"] >= len(body["data"])
    if path.startswith("/data/") and case not in {"metric-ccv-live"}:
        # Real data behind every /data answer of the default window (not an empty world).
        assert body["data"] not in (0, [], None), body


def test_recorded_pings_are_served_as_the_2023_spec_says(
    sandbox_world: World, specs: dict[str, Any]
) -> None:
    """Sessions and events the collector kept (float positions, millisecond times, a
    browser's user agent) answer in the legacy types: integer positions, date-times."""
    vid = sandbox_world.videos[0]["videoId"]
    lid = sandbox_world.live_streams[0]["liveStreamId"]

    def body(media_key: str, media: str, sid: str | None) -> dict[str, Any]:
        session: dict[str, Any] = {
            "loaded_at": "2024-05-31T10:00:00.123Z",
            "referrer": "",
            "metadata": [{"plan": "pro"}],
            media_key: media,
        }
        if sid:
            session["session_id"] = sid
        events = [
            {"type": "seek.backward", "emitted_at": "2024-05-31T10:00:07.901Z",
             "from": 8.8, "to": 0.01},
            {"type": "pause", "emitted_at": "2024-05-31T10:00:09.999Z", "at": 12.345},
        ]  # fmt: skip
        return {"emitted_at": "2024-05-31T10:00:10.000Z", "session": session, "events": events}

    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36"
    old = specs["openapi-2023-09.yaml"][0]
    with serve(sandbox_world) as server, requests.Session() as http:
        http.auth = (server.api_key, "")
        for kind, key, media, route in (
            ("vod", "video_id", "vi-recorded", "videos"),
            ("vod", "video_id", vid, "videos"),
            ("live", "live_stream_id", lid, "live-streams"),
        ):
            sid = None
            for _ in range(2):
                r = http.post(server.url(f"/{kind}"), data=json.dumps(body(key, media, sid)),
                              headers={"User-Agent": ua, "Content-Type": "text/plain"})  # fmt: skip
                sid = r.json()["session"]
            url = server.url(f"/analytics/{route}/{media}")
            pages = http.get(url, params={"period": "2024-05"}).json()["pagination"]["pagesTotal"]
            # Recorded sessions are listed after the world's: on the last page.
            r = http.get(url, params={"period": "2024-05", "currentPage": pages})
            check(old, r, server.base_url)
            assert r.json()["data"][-1]["session"]["sessionId"] == sid
            r = http.get(server.url(f"/analytics/sessions/{sid}/events"))
            check(old, r, server.base_url)
            assert [e.get("at", e.get("from")) for e in r.json()["data"]] == [8, 12] * 2


def test_auth_answers_match_the_spec(sb: Sandbox, specs: dict[str, Any]) -> None:
    spec, data = specs["openapi.yaml"]
    r = requests.post(sb.url("/auth/api-key"), json={"apiKey": sb.api_key})
    check(spec, r, sb.base_url)
    assert "X-RateLimit-Limit" not in r.headers  # auth answers carry no rate-limit headers
    r2 = requests.post(sb.url("/auth/refresh"), json={"refreshToken": r.json()["refresh_token"]})
    check(spec, r2, sb.base_url)
    missing = requests.post(sb.url("/auth/api-key"), json={})
    assert missing.status_code == 400
    check(spec, missing, sb.base_url)
    for bad in (
        requests.post(sb.url("/auth/api-key"), json={"apiKey": "nope"}),
        requests.post(sb.url("/auth/refresh"), json={"refreshToken": "nope"}),
        requests.get(sb.url("/videos")),
        requests.get(sb.url("/videos"), auth=("nope", "")),
        requests.get(sb.url("/videos"), headers={"Authorization": "Bearer nope"}),
        requests.get(sb.url("/videos"), headers={"Authorization": "Token x"}),
    ):
        assert bad.status_code == 401
        check_component(data, "bad-request", bad.json())
        assert bad.json()["status"] == 401


# --------------------------------------------------------------------------- errors
def _error_cases(world: World) -> list[tuple[str, str, dict[str, Any], int]]:
    vid = world.videos[0]["videoId"]
    return [
        ("openapi.yaml", "/videos", {"pageSize": 0}, 400),
        ("openapi.yaml", "/videos", {"pageSize": 101}, 400),
        ("openapi.yaml", "/videos", {"currentPage": "x"}, 400),
        ("openapi.yaml", "/videos", {"sortBy": "color"}, 400),
        ("openapi.yaml", "/players", {"sortOrder": "up"}, 400),
        ("openapi.yaml", "/videos/vi-nope", {}, 404),
        ("openapi.yaml", "/videos/vi-nope/status", {}, 404),
        ("openapi.yaml", "/players/pl-nope", {}, 404),
        ("openapi.yaml", "/data/metrics/play/peak", {}, 400),
        ("openapi.yaml", "/data/metrics/bogus/count", {}, 400),
        ("openapi.yaml", "/data/buckets/play-total/country", {}, 400),
        ("openapi.yaml", "/data/buckets/play/planet", {}, 400),
        ("openapi.yaml", "/data/timeseries/watch-time", {}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"from": "2000-01-01T00:00:00Z"}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"from": "tomorrow"}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"unique": "true"}, 400),
        ("openapi.yaml", "/data/metrics/view/count", {"viewDuration": "4s"}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"filterBy[mediaId]": vid}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"filterBy[continent]": "XX"}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"filterBy[planet]": "Mars"}, 400),
        ("openapi.yaml", "/data/metrics/play/count", {"pageSize": 10}, 400),
        ("openapi.yaml", "/data/timeseries/play", {"interval": "minute"}, 400),
        ("openapi.yaml", "/data/timeseries/play", {"interval": "week"}, 400),
        ("openapi.yaml", "/data/buckets/play/country", {"pageSize": 500}, 400),
        ("openapi.yaml", "/data/buckets/play/country", {"filterBy[referrer]": "x" * 2049}, 400),
        ("openapi-2023-09.yaml", f"/analytics/videos/{vid}", {"period": "2024"}, 200),
        ("openapi-2023-09.yaml", "/analytics/videos/vi-nope", {"period": "2024"}, 404),
        ("openapi-2023-09.yaml", "/analytics/live-streams/li-nope", {"period": "2024"}, 404),
        ("openapi-2023-09.yaml", "/analytics/sessions/ps-nope/events", {}, 404),
    ]


@pytest.mark.parametrize("k", range(29))
def test_error_answers_match_the_spec(
    k: int, sb: Sandbox, http: requests.Session, specs: dict[str, Any]
) -> None:
    cases = _error_cases(sb.world)
    assert len(cases) == 29
    spec_name, path, params, status = cases[k]
    r = http.get(sb.url(path), params=params)
    assert r.status_code == status, r.text
    check(specs[spec_name][0], r, sb.base_url)
    body = r.json()
    if status >= 400:
        assert body["status"] == status
        assert body["title"]
        assert body["type"].startswith("https://docs.api.video/reference/")
    if status == 400:
        assert body["name"]  # names the parameter at fault
    if status == 400 and path.startswith("/data/"):
        assert body["detail"]


def test_undeclared_errors_match_the_spec_error_schemas(
    sb: Sandbox, http: requests.Session, specs: dict[str, Any]
) -> None:
    _, current = specs["openapi.yaml"]
    _, legacy = specs["openapi-2023-09.yaml"]
    unknown = http.get(sb.url("/no/such/route"))
    assert unknown.status_code == 404
    assert unknown.json() == {
        "type": "https://docs.api.video/reference/unrecognized-request-url",
        "title": "Unrecognized request URL.",
        "status": 404,
    }
    check_component(current, "unrecognized-request-url", unknown.json())
    wrong_method = http.delete(sb.url("/videos"))
    assert wrong_method.status_code == 405
    check_component(current, "bad-request", wrong_method.json())
    no_period = http.get(sb.url(f"/analytics/videos/{sb.world.videos[0]['videoId']}"))
    assert no_period.status_code == 400
    check_component(legacy, "bad-request", no_period.json())
    bad_period = http.get(
        sb.url(f"/analytics/videos/{sb.world.videos[0]['videoId']}"), params={"period": "2018-13"}
    )
    assert bad_period.status_code == 400
    assert bad_period.json()["name"] == "period"
    check_component(legacy, "bad-request", bad_period.json())


def test_rate_limited_answers_match_the_spec(
    sandbox_server: Callable[..., Sandbox], specs: dict[str, Any]
) -> None:
    sb = sandbox_server(rate_limit=2)
    with requests.Session() as http:
        http.auth = (sb.api_key, "")
        ok = [http.get(sb.url("/videos")) for _ in range(2)]
        limited = http.get(sb.url("/videos"))
        limited_data = http.get(sb.url("/data/metrics/play/count"))
    assert [r.status_code for r in ok] == [200, 200]
    for r in (*ok, limited, limited_data):
        check(specs["openapi.yaml"][0], r, sb.base_url)
    assert limited.status_code == limited_data.status_code == 429
    assert limited.json() == {
        "type": "https://docs.api.video/reference/too-many-requests",
        "title": "Too many requests.",
        "status": 429,
    }


# --------------------------------------------------------------------------- examples
def test_data_examples_are_the_specs_documented_examples() -> None:
    index = json.loads((EXAMPLES / "index.json").read_text(encoding="utf-8"))
    expected = []
    for spec_name, operations in SERVED.items():
        for ex in spec_examples(load_spec(spec_name), operations):
            expected.append((spec_name, ex["method"], ex["path"], ex["status"], ex["name"], ex))
    assert [(e["spec"], e["method"], e["path"], e["status"], e["example"]) for e in index] == [
        x[:5] for x in expected
    ]
    for entry, (*_, ex) in zip(index, expected):
        on_disk = json.loads((EXAMPLES / entry["file"]).read_text(encoding="utf-8"))
        assert on_disk == ex["value"], entry["file"]
    files = {p.name for p in EXAMPLES.glob("*.json")} - {"index.json"}
    assert files == {e["file"] for e in index}
    # The documented quirks the toolkit must survive are in there.
    timeseries = json.loads(
        (
            EXAMPLES / "get-metrics-over-time.200.impression-time-from-a-certain-date.json"
        ).read_text()
    )
    assert timeseries["data"][0]["emittedAt"] == "2024-05-29T07+00:00:00:00"
    videos = json.loads((EXAMPLES / "list-videos.200.response.json").read_text())
    assert videos["pagination"]["links"][0]["uri"].startswith("https://ws.api.video/videos")


def test_sandbox_answers_have_the_documented_fields(sb: Sandbox, http: requests.Session) -> None:
    """Our items carry at least the keys of the documented example items."""
    vid = sb.world.videos[0]["videoId"]
    pairs = [
        ("list-videos.200.response.json", "/videos", {}),
        ("get-live-streams.200.response.json", "/live-streams", {}),
        ("get-upload-tokens.200.response.json", "/upload-tokens", {}),
        ("list-webhooks.200.response.json", "/webhooks", {}),
        ("get-analytics-videos-videoid.200.response.json", f"/analytics/videos/{vid}",
         {"period": sb.world.now.strftime("%Y")}),
    ]  # fmt: skip
    for name, path, params in pairs:
        example = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        ours = http.get(sb.url(path), params=params).json()
        assert set(ours) == set(example)
        assert set(ours["pagination"]) == set(example["pagination"])
        keys = set().union(*(set(item) for item in ours["data"]))
        missing = set(example["data"][0]) - keys
        # expiresAt is absent on purpose when ttl is 0; the rest must be there.
        assert missing <= {"expiresAt"}, (name, missing)


def test_the_check_catches_a_wrong_answer(
    sb: Sandbox, http: requests.Session, specs: dict[str, Any]
) -> None:
    r = http.get(sb.url("/videos"))
    body = r.json()
    body["data"][0]["videoId"] = 42
    body["pagination"]["links"] = {"self": "/videos"}
    r._content = json.dumps(body).encode()
    with pytest.raises(AssertionError, match=r"videoId|links"):
        check(specs["openapi.yaml"][0], r, sb.base_url)
    r.headers["X-RateLimit-Limit"] = "many"
    r._content = json.dumps(http.get(sb.url("/videos")).json()).encode()
    with pytest.raises(AssertionError, match=r"X-RateLimit-Limit|Header"):
        check(specs["openapi.yaml"][0], r, sb.base_url)
