"""The sandbox server over real sockets: auth, pagination, filters, errors, rate limits,
faults, the request log, saved worlds and the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from apivideo_insights._periods import parse_period
from apivideo_insights.sandbox import World
from apivideo_insights.sandbox.server import Faults, Sandbox, serve

ROOT = Path(__file__).resolve().parents[1]
SAVED_WORLD = ROOT / "data" / "world"


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (sandbox.api_key, "")
        yield session


def follow(
    session: requests.Session, base_url: str, path: str, params: dict[str, Any] | None = None
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Every item of a list by following ``next`` links; also returns each pagination."""
    url: str | None = base_url + path
    items: list[Any] = []
    pages: list[dict[str, Any]] = []
    first = True
    for _ in range(1000):
        if url is None:
            break
        r = session.get(url, params=params if first else None)
        first = False
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["data"]
        pages.append(body["pagination"])
        nxt = [link["uri"] for link in body["pagination"]["links"] if link["rel"] == "next"]
        url = None
        if nxt:
            url = nxt[0] if nxt[0].startswith("http") else base_url + nxt[0]
    return items, pages


# --------------------------------------------------------------------------- auth
def test_api_key_gives_a_bearer_token_that_works(sandbox: Sandbox) -> None:
    r = requests.post(sandbox.url("/auth/api-key"), json={"apiKey": sandbox.api_key})
    assert r.status_code == 200
    token = r.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert token["access_token"] != token["refresh_token"]
    ok = requests.get(
        sandbox.url("/videos"), headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "title"),
    [
        ({}, 'The "Authorization" header is missing.'),
        ({"auth": ("wrong-key", "")}, "The API key is invalid."),
        ({"headers": {"Authorization": "Bearer nope"}}, "The access token is invalid or expired."),
        (
            {"headers": {"Authorization": "Basic %%%"}},
            'The "Authorization" header value is invalid.',
        ),
        (
            {"headers": {"Authorization": "Digest x"}},
            'The "Authorization" header value is invalid.',
        ),
    ],
)
def test_unauthorized_requests_get_api_video_titles(
    sandbox: Sandbox, kwargs: dict[str, Any], title: str
) -> None:
    r = requests.get(sandbox.url("/videos"), **kwargs)
    assert r.status_code == 401
    body = r.json()
    assert body["title"] == title and body["status"] == 401
    assert sandbox.api_key not in r.text
    assert "X-RateLimit-Limit" in r.headers  # a non-auth route: headers even on 401


def test_basic_auth_takes_the_key_as_user_name_with_any_password(sandbox: Sandbox) -> None:
    assert requests.get(sandbox.url("/players"), auth=(sandbox.api_key, "")).status_code == 200
    assert requests.get(sandbox.url("/players"), auth=(sandbox.api_key, "x")).status_code == 200


def test_wrong_api_key_and_bad_payloads_on_auth(sandbox: Sandbox) -> None:
    r = requests.post(sandbox.url("/auth/api-key"), json={"apiKey": "nope"})
    assert r.status_code == 401 and r.json()["title"] == "The API key is invalid."
    assert "X-RateLimit-Limit" not in r.headers
    for payload in ({}, {"apiKey": ""}, {"key": sandbox.api_key}):
        r = requests.post(sandbox.url("/auth/api-key"), json=payload)
        assert r.status_code == 400 and r.json()["name"] == "apiKey"
    r = requests.post(sandbox.url("/auth/api-key"), data=b"{not json")
    assert r.status_code == 400 and r.json()["title"] == "The payload is invalid."
    r = requests.post(sandbox.url("/auth/refresh"), json={})
    assert r.status_code == 400 and r.json()["name"] == "refreshToken"
    assert requests.get(sandbox.url("/auth/api-key")).status_code == 405


def test_refresh_tokens_rotate(sandbox: Sandbox) -> None:
    first = requests.post(sandbox.url("/auth/api-key"), json={"apiKey": sandbox.api_key}).json()
    second = requests.post(
        sandbox.url("/auth/refresh"), json={"refreshToken": first["refresh_token"]}
    )
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert new["access_token"] != first["access_token"]
    again = requests.post(
        sandbox.url("/auth/refresh"), json={"refreshToken": first["refresh_token"]}
    )
    assert again.status_code == 401
    assert again.json()["title"] == "The refresh token is invalid."
    third = requests.post(sandbox.url("/auth/refresh"), json={"refreshToken": new["refresh_token"]})
    assert third.status_code == 200
    headers = {"Authorization": f"Bearer {third.json()['access_token']}"}
    assert requests.get(sandbox.url("/webhooks"), headers=headers).status_code == 200
    # Every pair issued is listed, for tests that look for leaked tokens; never in the repr.
    issued = [t for pair in sandbox.tokens_issued for t in pair]
    for answer in (first, new, third.json()):
        assert answer["access_token"] in issued and answer["refresh_token"] in issued
    assert not any(token in repr(sandbox) for token in issued)


def test_access_tokens_expire_after_token_ttl(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(token_ttl=1)
    token = requests.post(sb.url("/auth/api-key"), json={"apiKey": sb.api_key}).json()
    assert token["expires_in"] == 1
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(sb.url("/videos"), headers=headers).status_code == 200
    time.sleep(1.2)
    expired = requests.get(sb.url("/videos"), headers=headers)
    assert expired.status_code == 401
    assert expired.json()["title"] == "The access token is invalid or expired."
    # The refresh token still works after the access token expired.
    fresh = requests.post(sb.url("/auth/refresh"), json={"refreshToken": token["refresh_token"]})
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert requests.get(sb.url("/videos"), headers=headers).status_code == 200


# --------------------------------------------------------------------------- pagination
@pytest.mark.parametrize("page_size", [1, 5, 25, 100])
def test_following_next_on_absolute_links_yields_every_video_once(
    sandbox: Sandbox, http: requests.Session, page_size: int
) -> None:
    items, pages = follow(http, sandbox.base_url, "/videos", {"pageSize": page_size})
    ids = [v["videoId"] for v in items]
    assert len(ids) == len(set(ids)) == pages[0]["itemsTotal"] == len(sandbox.world.videos)
    assert len(pages) == pages[0]["pagesTotal"]
    for n, p in enumerate(pages, start=1):
        assert p["currentPage"] == n and p["pageSize"] == page_size
        assert p["currentPageItems"] == min(page_size, p["itemsTotal"] - (n - 1) * page_size)
        rels = [link["rel"] for link in p["links"]]
        assert rels[:2] == ["self", "first"] and rels[-1] == "last"
        assert ("previous" in rels) == (n > 1)
        assert ("next" in rels) == (n < p["pagesTotal"])
        assert all(link["uri"].startswith(sandbox.base_url + "/videos?") for link in p["links"])


def test_following_next_on_relative_links_yields_every_session_and_event_once(
    sandbox: Sandbox, http: requests.Session
) -> None:
    world = sandbox.world
    vid = world.videos[0]["videoId"]
    period = f"{(world.now - pd.Timedelta(days=29)):%Y-%m-%d}/{world.now:%Y-%m-%d}"
    items, pages = follow(
        http, sandbox.base_url, f"/analytics/videos/{vid}", {"period": period, "pageSize": 7}
    )
    ids = [s["session"]["sessionId"] for s in items]
    start, end = parse_period(period)
    loaded = world.sessions["loaded_at"]
    expected = world.sessions[
        (world.sessions["video_id"] == vid) & (loaded >= start) & (loaded < end)
    ]["session_id"].tolist()
    assert ids == expected  # world order, each once
    assert len(ids) == pages[0]["itemsTotal"] > 7
    for p in pages:
        for link in p["links"]:
            assert link["uri"].startswith(f"/analytics/videos/{vid}?")
            assert "period=" in link["uri"]  # filters stick to every link
    # A long session's events, in the order the world lists them (never re-sorted).
    counts = world.events["session_id"].astype(str).value_counts()
    sid = counts.index[0]
    events, pages = follow(
        http, sandbox.base_url, f"/analytics/sessions/{sid}/events", {"pageSize": 3}
    )
    mine = world.events[world.events["session_id"].astype(str) == sid]
    assert len(events) == pages[0]["itemsTotal"] == len(mine) == counts.iloc[0]
    assert [e["type"] for e in events] == mine["type"].astype(str).tolist()
    emitted = pd.to_datetime([e["emittedAt"] for e in events], utc=True)
    assert (emitted == mine["emitted_at"].dt.floor("ms").to_numpy()).all()
    for e, (_, row) in zip(events, mine.iterrows()):
        if e["type"].startswith("seek"):
            assert "at" not in e and e["from"] == row["seek_from"] and e["to"] == row["seek_to"]
        else:
            assert e["at"] == row["at"] and "from" not in e


def test_a_page_past_the_end_is_empty_with_totals(sandbox: Sandbox, http: requests.Session) -> None:
    r = http.get(sandbox.url("/live-streams"), params={"currentPage": 50, "pageSize": 2})
    body = r.json()
    total = len(sandbox.world.live_streams)
    assert r.status_code == 200 and body["data"] == []
    p = body["pagination"]
    assert p["itemsTotal"] == total and p["currentPageItems"] == 0 and p["currentPage"] == 50
    assert p["pagesTotal"] == -(-total // 2)
    rels = {link["rel"]: link["uri"] for link in p["links"]}
    assert "next" not in rels
    assert rels["previous"] == rels["last"]


def test_empty_lists_have_a_consistent_pagination(sandbox: Sandbox, http: requests.Session) -> None:
    r = http.get(sandbox.url("/videos"), params={"title": "no video is called this"})
    p = r.json()["pagination"]
    assert r.json()["data"] == [] and p["itemsTotal"] == 0 and p["pagesTotal"] == 0
    assert [link["rel"] for link in p["links"]] == ["self", "first", "last"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"currentPage": 0}, "currentPage"),
        ({"currentPage": -3}, "currentPage"),
    ],
)
def test_page_parameters_out_of_range_are_400_naming_the_parameter(
    sandbox: Sandbox, http: requests.Session, params: dict[str, Any], name: str
) -> None:
    for path in ("/videos", "/upload-tokens", "/data/buckets/play/country"):
        r = http.get(sandbox.url(path), params=params)
        assert r.status_code == 400, path
        body = r.json()
        assert body["name"] == name and body["status"] == 400
        assert body["problems"][0]["name"] == name


def test_200_pages_are_cheap(sandbox: Sandbox, http: requests.Session) -> None:
    """Functional half of the speed target (timings live in benchmarks/): 200 event pages
    over one keep-alive connection all succeed and each is one request in the log."""
    sid = str(sandbox.world.events["session_id"].iloc[0])
    sandbox.reset_requests()
    for _ in range(200):
        assert http.get(sandbox.url(f"/analytics/sessions/{sid}/events")).status_code == 200
    assert len(sandbox.requests) == 200


def test_http11_keep_alive(sandbox: Sandbox, http: requests.Session) -> None:
    r1 = http.get(sandbox.url("/players"))
    r2 = http.get(sandbox.url("/players"))
    assert r1.raw.version == 11 and r1.headers.get("Connection", "").lower() != "close"
    assert r2.status_code == 200


# --------------------------------------------------------------------------- filters
def test_video_filters(sandbox: Sandbox, http: requests.Session) -> None:
    videos = sandbox.world.videos

    def ids(**params: Any) -> list[str]:
        items, _ = follow(http, sandbox.base_url, "/videos", params)
        return [v["videoId"] for v in items]

    word = videos[0]["title"].split()[0]
    assert ids(title=word) == [v["videoId"] for v in videos if word in v["title"]]
    tags = videos[0]["tags"]
    assert ids(**{"tags[]": tags}) == [v["videoId"] for v in videos if set(tags) <= set(v["tags"])]
    assert videos[0]["videoId"] in ids(**{"tags[]": tags})
    meta = videos[0]["metadata"][0]
    expected = [
        v["videoId"]
        for v in videos
        if any(m == {"key": meta["key"], "value": meta["value"]} for m in v["metadata"])
    ]
    assert ids(**{f"metadata[{meta['key']}]": meta["value"]}) == expected
    by_title = ids(sortBy="title", sortOrder="desc")
    titles = {v["videoId"]: v["title"] for v in videos}
    assert [titles[i] for i in by_title] == sorted(titles.values(), reverse=True)
    assert ids(sortBy="createdAt") == [
        v["videoId"] for v in sorted(videos, key=lambda v: v["createdAt"])
    ]
    bad = http.get(sandbox.url("/videos"), params={"sortBy": "colour"})
    assert bad.status_code == 400 and bad.json()["name"] == "sortBy"


def test_video_sessions_filter_by_period_and_metadata(
    sandbox: Sandbox, http: requests.Session
) -> None:
    world = sandbox.world
    s = world.sessions
    with_meta = s[s["metadata"].map(lambda m: bool(m))]
    row = with_meta.iloc[0]
    key, value = next(iter(row["metadata"].items()))
    vid = row["video_id"]
    period = str(world.now.year)
    items, _ = follow(
        http,
        sandbox.base_url,
        f"/analytics/videos/{vid}",
        {"period": period, f"metadata[{key}]": value, "pageSize": 100},
    )
    start, end = parse_period(period)
    expected = s[
        (s["video_id"] == vid)
        & (s["loaded_at"] >= start)
        & (s["loaded_at"] < end)
        & s["metadata"].map(lambda m: bool(m) and m.get(key) == value)
    ]
    assert [i["session"]["sessionId"] for i in items] == expected["session_id"].tolist()
    assert all({"key": key, "value": value} in i["session"]["metadata"] for i in items)
    # A period outside the world: no sessions, not an error.
    r = http.get(sandbox.url(f"/analytics/videos/{vid}"), params={"period": "2001-W05"})
    assert r.status_code == 200 and r.json()["data"] == []


def test_live_stream_sessions_have_no_metadata(sandbox: Sandbox, http: requests.Session) -> None:
    lid = sandbox.world.live_streams[0]["liveStreamId"]
    items, _ = follow(http, sandbox.base_url, f"/analytics/live-streams/{lid}", {"period": "2024"})
    s = sandbox.world.sessions
    assert len(items) == int((s["live_stream_id"] == lid).sum()) > 0
    assert all("metadata" not in i["session"] for i in items)


def test_chapters_point_at_the_sandbox_which_serves_their_vtt(
    sandbox: Sandbox, http: requests.Session
) -> None:
    (vid, lang), text = next(iter(sandbox.world.chapter_vtt.items()))
    chapters = http.get(sandbox.url(f"/videos/{vid}/chapters")).json()["data"]
    src = next(c["src"] for c in chapters if c["language"] == lang)
    assert src.startswith(sandbox.base_url + "/")
    vtt = requests.get(src)  # no auth needed, like a CDN
    assert vtt.status_code == 200 and vtt.text == text
    assert vtt.headers["Content-Type"].startswith("text/vtt")
    assert requests.get(sandbox.url(f"/vod/{vid}/chapters/xx.vtt")).status_code == 404


def test_account_as_the_2021_spec_served_it(sandbox: Sandbox, http: requests.Session) -> None:
    body = http.get(sandbox.url("/account")).json()
    assert body["environment"] == "sandbox"
    assert "stats.player_events" in body["features"]
    quota = body["quota"]
    assert quota["quotaUsed"] == len(sandbox.world.videos)
    assert quota["quotaUsed"] + quota["quotaRemaining"] == quota["quotaTotal"]
    assert requests.get(sandbox.url("/account")).status_code == 401  # needs a key


def test_unknown_routes_ids_and_methods(sandbox: Sandbox, http: requests.Session) -> None:
    # (/account, unknown here before, is served now: as the 2021 spec did.)
    r = http.get(sandbox.url("/analytics/players"))
    assert r.status_code == 404 and r.json()["title"] == "Unrecognized request URL."
    r = http.get(sandbox.url("/videos/vi-nope"))
    assert r.status_code == 404
    assert r.json()["title"] == "The requested resource was not found."
    assert r.json()["name"] == "videoId"
    r = http.get(sandbox.url("/analytics/sessions/ps-nope/events"))
    assert r.status_code == 404 and r.json()["name"] == "sessionId"
    r = http.post(sandbox.url("/videos"), json={"title": "x"})
    assert r.status_code == 405 and r.json()["title"] == "Method is not allowed for this route."
    assert r.headers["Allow"] == "GET"
    # Route errors come before auth errors.
    assert requests.get(sandbox.url("/analytics/players")).status_code == 404


# --------------------------------------------------------------------------- rate limit
def test_rate_limit_headers_and_429(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(rate_limit=3)
    with requests.Session() as http:
        http.auth = (sb.api_key, "")
        answers = [http.get(sb.url("/videos")) for _ in range(3)]
        # Auth requests are not counted and carry no headers.
        token = requests.post(sb.url("/auth/api-key"), json={"apiKey": sb.api_key})
        limited = http.get(sb.url("/players"))
        unknown = http.get(sb.url("/nope"))
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in answers] == [2, 1, 0]
    assert all(r.headers["X-RateLimit-Limit"] == "3" for r in answers)
    assert token.status_code == 200 and "X-RateLimit-Remaining" not in token.headers
    for r in (limited, unknown):
        assert r.status_code == 429
        assert r.json()["title"] == "Too many requests."
        assert r.headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(r.headers["X-RateLimit-Retry-After"]) <= 60
        assert "Retry-After" not in r.headers  # only api.video's own header is documented
    assert sb.rate_limited == 2
    sb.reset_requests()
    assert sb.rate_limited == 0


def test_a_short_rate_window_resets_within_seconds(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(rate_limit=2, rate_window=0.5)
    with requests.Session() as http:
        http.auth = (sb.api_key, "")
        statuses = [http.get(sb.url("/players")).status_code for _ in range(3)]
        retry = int(http.get(sb.url("/players")).headers["X-RateLimit-Retry-After"])
        time.sleep(0.6)
        after = http.get(sb.url("/players"))
    assert statuses == [200, 200, 429]
    assert retry == 1  # whole seconds, rounded up, as api.video sends them
    assert after.status_code == 200
    assert after.headers["X-RateLimit-Remaining"] == "1"
    assert sb.rate_limited == 2


def test_unlimited_still_sends_rate_limit_headers(sandbox: Sandbox, http: requests.Session) -> None:
    r = http.get(sandbox.url("/videos"))
    assert int(r.headers["X-RateLimit-Limit"]) >= 1_000_000
    assert int(r.headers["X-RateLimit-Remaining"]) < int(r.headers["X-RateLimit-Limit"])
    assert 1 <= int(r.headers["X-RateLimit-Retry-After"]) <= 60


# --------------------------------------------------------------------------- faults
def test_error_faults_answer_500(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(faults={"error_rate": 1.0})
    r = requests.get(sb.url("/videos"), auth=(sb.api_key, ""))
    assert r.status_code == 500 and r.json()["status"] == 500
    assert sb.faults_injected == {"error": 1, "drop": 0, "slow": 0}
    assert sb.requests[-1].fault == "error" and sb.requests[-1].status == 500
    # Auth is never faulted: a client can always get a token.
    assert requests.post(sb.url("/auth/api-key"), json={"apiKey": sb.api_key}).ok


def test_drop_faults_close_the_connection(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(faults={"drop_rate": 1.0})
    with pytest.raises(requests.ConnectionError):
        requests.get(sb.url("/videos"), auth=(sb.api_key, ""), timeout=5)
    assert sb.faults_injected["drop"] == 1
    assert sb.requests[-1].status is None and sb.requests[-1].fault == "drop"


def test_slow_faults_outlast_a_client_timeout(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(faults=Faults(slow_rate=1.0, slow_seconds=0.6))
    with pytest.raises(requests.ReadTimeout):
        requests.get(sb.url("/videos"), auth=(sb.api_key, ""), timeout=0.2)
    assert sb.faults_injected["slow"] == 1
    # With a patient client the slow answer is a normal answer.
    r = requests.get(sb.url("/videos"), auth=(sb.api_key, ""), timeout=10)
    assert r.status_code == 200


def test_fault_draws_are_seeded(sandbox_server: Callable[..., Sandbox]) -> None:
    knobs = {"error_rate": 0.3, "slow_rate": 0.2, "slow_seconds": 0.0, "seed": 7}
    runs = []
    for _ in range(2):
        sb = sandbox_server(faults=knobs)
        with requests.Session() as http:
            http.auth = (sb.api_key, "")
            for _ in range(40):
                http.get(sb.url("/players"))
        runs.append([rec.fault for rec in sb.requests])
    assert runs[0] == runs[1]
    assert 3 <= runs[0].count("error") <= 25 and runs[0].count("slow") >= 1
    other = sandbox_server(faults={**knobs, "seed": 8})
    with requests.Session() as http:
        http.auth = (other.api_key, "")
        for _ in range(40):
            http.get(other.url("/players"))
    assert [rec.fault for rec in other.requests] != runs[0]


@pytest.mark.parametrize(
    "faults",
    [{"error_rate": 1.5}, {"error_rate": 0.6, "drop_rate": 0.6}, {"slow_seconds": -1}],
)
def test_fault_knobs_are_checked(faults: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Faults.coerce(faults)


def test_faults_accept_any_object_with_the_attributes() -> None:
    class Knobs:
        error_rate = 0.25
        seed = 3

    assert Faults.coerce(Knobs()) == Faults(error_rate=0.25, seed=3)
    with pytest.raises(TypeError, match="unknown faults keys"):
        Faults.coerce({"eror_rate": 0.1})


def test_latency_delays_every_request(sandbox_server: Callable[..., Sandbox]) -> None:
    sb = sandbox_server(latency=0.05)
    requests.get(sb.url("/videos"), auth=(sb.api_key, ""))
    requests.post(sb.url("/auth/api-key"), json={"apiKey": sb.api_key})
    assert all(rec.seconds >= 0.05 for rec in sb.requests)


# --------------------------------------------------------------------------- the object
def test_request_log_and_reset(sandbox: Sandbox, http: requests.Session) -> None:
    sandbox.reset_requests()
    http.get(sandbox.url("/videos"), params={"tags[]": ["a", "b"], "pageSize": 2})
    http.get(sandbox.url("/nope"))
    log = sandbox.requests
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/videos", 200),
        ("GET", "/nope", 404),
    ]
    assert log[0].query == {"tags[]": ["a", "b"], "pageSize": ["2"]}
    assert all(r.fault is None for r in log)
    sandbox.reset_requests()
    assert sandbox.requests == []


def test_the_key_never_shows(sandbox: Sandbox, http: requests.Session) -> None:
    assert sandbox.api_key not in repr(sandbox) and "***" in repr(sandbox)
    http.get(sandbox.url("/videos"))
    assert sandbox.api_key not in repr(sandbox.requests)


def test_serve_checks_its_arguments(sandbox_world: World) -> None:
    with pytest.raises(ValueError, match="latency"):
        serve(sandbox_world, latency=-1)
    with pytest.raises(ValueError, match="rate_limit"):
        serve(sandbox_world, rate_limit=0)
    with pytest.raises(ValueError, match="token_ttl"):
        serve(sandbox_world, token_ttl=0)
    with pytest.raises(ValueError, match="rate_window"):
        serve(sandbox_world, rate_window=0)
    with pytest.raises(TypeError, match="World"):
        serve(42)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not started"):
        _ = serve(sandbox_world).base_url


def test_given_key_and_stop_closes_the_port(sandbox_world: World) -> None:
    with serve(sandbox_world, api_key="my-test-key") as sb:
        assert sb.api_key == "my-test-key"
        assert requests.get(sb.url("/videos"), auth=("my-test-key", "")).ok
        url = sb.url("/videos")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, auth=("my-test-key", ""), timeout=2)


def test_serves_a_saved_world_directory() -> None:
    with serve(SAVED_WORLD) as sb:
        assert sb.world.now == pd.Timestamp("2024-06-01T12:00:00Z")
        with requests.Session() as http:
            http.auth = (sb.api_key, "")
            items, _ = follow(http, sb.base_url, "/videos")
            assert len(items) == len(sb.world.videos) >= 1
            sid = str(sb.world.sessions["session_id"].iloc[0])
            events, _ = follow(http, sb.base_url, f"/analytics/sessions/{sid}/events")
            saved = json.loads(
                (
                    SAVED_WORLD / "analytics" / "sessions" / sid / "events" / "page-001.json"
                ).read_text(encoding="utf-8")
            )
            assert events[: len(saved["data"])] == saved["data"]


# --------------------------------------------------------------------------- CLI
def test_command_line_prints_url_and_key_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "apivideo_insights.sandbox", "--world", str(SAVED_WORLD),
         "--rate-limit", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("API_KEY=" in ln for ln in lines):
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                break
            lines.append(line)
        text = "".join(lines)
        url = re.search(r"APIVIDEO_BASE_URL=(\S+)", text)
        key = re.search(r"APIVIDEO_API_KEY=(\S+)", text)
        assert url and key, text
        assert url[1].startswith("http://127.0.0.1:")
        r = requests.get(url[1] + "/videos", auth=(key[1], ""), timeout=10)
        assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "50"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_account_is_served_as_the_2021_spec_did(sandbox: Sandbox) -> None:
    assert requests.get(sandbox.url("/account"), timeout=10).status_code == 401
    r = requests.get(sandbox.url("/account"), auth=(sandbox.api_key, ""), timeout=10)
    assert r.status_code == 200
    account = r.json()
    quota = account["quota"]
    assert quota["quotaUsed"] == len(sandbox.world.videos)
    assert quota["quotaUsed"] + quota["quotaRemaining"] == quota["quotaTotal"]
    assert account["environment"] == "sandbox"
    assert "stats.player_events" in account["features"]
