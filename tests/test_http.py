"""The HTTP layer: cache, auth and token refresh, retries, 429s, pacing, secrets."""

from __future__ import annotations

import json
import socket
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights._http import (
    Http,
    Pacer,
    RateLimitRetry,
    account_fingerprint,
    error_from_response,
    mask_key,
)
from apivideo_insights.client import Client
from apivideo_insights.sandbox import serve

PERIOD = "2024-05-01/2024-06-01"


def _connect(sb, **kwargs):
    kwargs.setdefault("progress", False)
    return avi.connect(sb.api_key, base_url=sb.base_url, **kwargs)


def _sessions_of(world, n):
    counts = world.sessions["video_id"].value_counts()
    return str(counts.index[0]), world.events["session_id"].astype(str).unique()[:n].tolist()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestCache:
    def test_warm_cache_sends_no_request_not_even_auth(self, sandbox, tmp_path):
        cache = tmp_path / "c.sqlite"
        video, _ = _sessions_of(sandbox.world, 0)
        cold = _connect(sandbox, cache=cache, page_size=10)
        frames = [cold.videos(), cold.video_sessions(video, period=PERIOD)]
        frames.append(cold.events(frames[1].iloc[:40]))
        frames.append(cold.breakdown("play", "country", end="2024-06-01T00:00:00Z"))
        cold.close()
        assert any(r.path.startswith("/auth") for r in sandbox.requests)
        sandbox.reset_requests()
        warm = _connect(sandbox, cache=cache, page_size=10)
        again = [warm.videos(), warm.video_sessions(video, period=PERIOD)]
        again.append(warm.events(again[1].iloc[:40]))
        again.append(warm.breakdown("play", "country", end="2024-06-01T00:00:00Z"))
        assert sandbox.requests == []
        for before, after in zip(frames, again):
            pd.testing.assert_frame_equal(before, after)
            assert after.attrs["requests"] == 0
            assert after.attrs["from_cache"] >= 1

    def test_expiry_follows_the_data(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        video, ids = _sessions_of(sandbox.world, 2)
        sessions = api.video_sessions(video, period=PERIOD)  # closed long ago
        api.events(sessions.iloc[:2])  # ended sessions
        api.events(ids)  # ids only: promoted once seen to be long quiet
        api.videos()  # a list: minutes
        api.metrics("play", "count")  # an open window: minutes
        expiry: dict[str, list] = {}
        for response in api._http.session.cache.responses.values():
            path = response.request.path_url.split("?")[0]
            kind = "events" if path.endswith("/events") else path.split("/")[1]
            expiry.setdefault(kind, []).append(response.expires)
        assert len(expiry["events"]) == 4
        assert expiry["events"] == [None] * 4
        assert set(expiry["analytics"]) == {None}
        now = pd.Timestamp.now(tz="UTC").to_pydatetime()
        for kind in ("videos", "data"):
            (expires,) = expiry[kind]
            assert 0 < (expires - now).total_seconds() <= 300

    def test_refresh_bypasses_the_cache(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        api.players()
        sandbox.reset_requests()
        api.players(refresh=True)
        assert [r.path for r in sandbox.requests] == ["/players"]

    def test_accounts_do_not_share_entries(self, sandbox_world, tmp_path):
        cache = tmp_path / "shared.sqlite"
        port = _free_port()
        with serve(sandbox_world, port=port, api_key="key-number-one") as sb:
            avi.connect("key-number-one", base_url=sb.base_url, cache=cache).players()
        with serve(sandbox_world, port=port, api_key="key-number-two") as sb:
            avi.connect("key-number-two", base_url=sb.base_url, cache=cache).players()
            assert [r.path for r in sb.requests if r.path == "/players"] == ["/players"]
        assert account_fingerprint("key-number-one") != account_fingerprint("key-number-two")

    def test_no_secret_in_the_cache_file(self, sandbox_server, tmp_path):
        sb = sandbox_server(token_ttl=1)
        cache = tmp_path / "secret.sqlite"
        api = _connect(sb, cache=cache, page_size=3)
        auth = api._http.auth
        seen = set()
        api.videos()
        seen.add(auth._access)
        seen.add(auth._refresh)
        time.sleep(1.05)  # the next load refreshes the token
        api.players()
        api.video_status(sb.world.videos[0]["videoId"])
        seen.add(auth._access)
        seen.add(auth._refresh)
        api.close()
        blob = b"".join(p.read_bytes() for p in tmp_path.glob("secret.sqlite*"))
        assert b"/players" in blob  # the file does hold the answers
        secrets = {sb.api_key, *seen} - {None}
        assert len(secrets) >= 3
        for secret in secrets:
            assert secret.encode() not in blob
        assert b"Bearer" not in blob

    def test_non_200_answers_are_not_cached(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        for _ in range(2):
            with pytest.raises(avi.NotFoundError):
                api.video_status("viMissing")
        assert [r.status for r in sandbox.requests if "viMissing" in r.path] == [404, 404]

    def test_interrupted_load_resumes_from_the_cache(self, sandbox_world, tmp_path):
        cache = tmp_path / "resume.sqlite"
        port = _free_port()
        _, ids = _sessions_of(sandbox_world, 30)
        faults = {"error_rate": 0.4, "seed": 3}
        with serve(sandbox_world, port=port, api_key="resume-key", faults=faults) as sb:
            # No retries: the faults interrupt part of the load for real.
            http = Http("resume-key", sb.base_url, cache=cache, retries=0)
            flaky = Client(http, progress=False)
            with pytest.warns(avi.PartialLoadWarning):
                partial = flaky.events(ids)
            failed = set(partial.attrs["failed"])
            assert 0 < len(failed) < len(ids)
            flaky.close()
        with serve(sandbox_world, port=port, api_key="resume-key") as sb:
            api = avi.connect("resume-key", base_url=sb.base_url, cache=cache, progress=False)
            full = api.events(ids)
            fetched = {r.path.split("/")[3] for r in sb.requests if r.path.endswith("/events")}
        assert fetched == failed
        assert set(full["session_id"].astype(str)) == set(ids)
        want = sandbox_world.events[sandbox_world.events["session_id"].astype(str).isin(ids)]
        assert len(full) == len(want)


class TestKeptFrames:
    """A finished frame is kept beside the answers it was built from, and never outlives
    them: a re-run reads one frame per loader instead of every page."""

    @staticmethod
    def _frames(api):
        table = api._http.session.cache.frames
        with table.connection() as con:
            return con.execute("SELECT key, expires FROM frames").fetchall()

    @staticmethod
    def _sql(api, statement, *args):
        table = api._http.session.cache.frames
        with table.connection(commit=True) as con:
            con.execute(statement, args)

    def test_a_rerun_reads_one_frame_per_load_and_the_pages_still_serve(self, sandbox, tmp_path):
        cache = tmp_path / "c.sqlite"
        video, ids = _sessions_of(sandbox.world, 20)
        cold = _connect(sandbox, cache=cache, page_size=10)
        frames = [cold.videos(), cold.video_sessions(video, period=PERIOD), cold.events(ids)]
        assert len(self._frames(cold)) == 3
        cold.close()
        sandbox.reset_requests()
        warm = _connect(sandbox, cache=cache, page_size=10)
        again = [warm.videos(), warm.video_sessions(video, period=PERIOD), warm.events(ids)]
        assert sandbox.requests == []
        for before, after in zip(frames, again):
            pd.testing.assert_frame_equal(before, after)
            assert after.attrs["requests"] == 0
            assert after.attrs["from_cache"] == before.attrs["requests"] >= 1
            assert after.attrs["loaded_at"] >= before.attrs["loaded_at"]
        # Without the kept frames every page is read and parsed again: same frames, no request.
        warm._http.session.cache.frames.clear()
        rebuilt = [warm.videos(), warm.video_sessions(video, period=PERIOD), warm.events(ids)]
        assert sandbox.requests == []
        for before, after in zip(frames, rebuilt):
            pd.testing.assert_frame_equal(before, after)
        assert len(self._frames(warm)) == 3

    def test_a_kept_frame_expires_with_its_earliest_answer(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite", page_size=3)
        video, _ = _sessions_of(sandbox.world, 0)
        api.videos()  # several pages, each kept for minutes
        pages = [r.expires for r in api._http.session.cache.responses.values()]
        assert len(pages) >= 2
        api.events(api.video_sessions(video, period=PERIOD).iloc[:3])  # ended: never expire
        expiries = sorted((e for _, e in self._frames(api)), key=lambda e: (e is not None, e))
        assert expiries[:2] == [None, None]
        assert expiries[2] == int(min(pages).timestamp())

    def test_an_expired_kept_frame_is_rebuilt(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        first = api.players()
        self._sql(api, "UPDATE frames SET expires = 1")
        sandbox.reset_requests()
        again = api.players()  # the pages are still fresh: rebuilt without a request
        assert sandbox.requests == []
        pd.testing.assert_frame_equal(first, again)
        ((_, expires),) = self._frames(api)
        assert expires > time.time()
        # Once the answers expire too, the frame goes with them and the API is asked again.
        api._http.session.cache.reset_expiration(0)  # 0: expire now
        self._sql(api, "UPDATE frames SET expires = 1")
        api.players()
        assert [r.path for r in sandbox.requests] == ["/players"]

    def test_a_damaged_kept_frame_is_a_miss(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        first = api.videos()
        self._sql(api, "UPDATE frames SET value = ?", b"\x80\x05not a pickle")
        sandbox.reset_requests()
        pd.testing.assert_frame_equal(first, api.videos())
        assert sandbox.requests == []

    def test_refresh_replaces_and_clear_cache_drops_kept_frames(self, tmp_path):
        from apivideo_insights.sandbox import simulate

        cache = tmp_path / "c.sqlite"
        port = _free_port()
        old, new = (simulate(seed=s, now="2024-06-01T12:00Z", sessions=20) for s in (1, 2))
        assert {v["videoId"] for v in old.videos} != {v["videoId"] for v in new.videos}
        with serve(old, port=port, api_key="replace-key") as sb:
            _connect(sb, cache=cache).videos()
        with serve(new, port=port, api_key="replace-key") as sb:
            api = _connect(sb, cache=cache)
            ids = lambda frame: set(frame["video_id"])  # noqa: E731
            assert ids(api.videos()) == {v["videoId"] for v in old.videos}  # still fresh
            assert ids(api.videos(refresh=True)) == {v["videoId"] for v in new.videos}
            assert ids(api.videos()) == {v["videoId"] for v in new.videos}
            sb.reset_requests()
            api.clear_cache()
            assert self._frames(api) == []
            api.videos()
            assert "/videos" in [r.path for r in sb.requests]

    def test_frames_over_the_size_limit_are_not_kept(self, sandbox, tmp_path, monkeypatch):
        from apivideo_insights import _cache

        monkeypatch.setattr(_cache, "MAX_FRAME_BYTES", 100)
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        first = api.videos()
        assert self._frames(api) == []
        sandbox.reset_requests()
        pd.testing.assert_frame_equal(first, api.videos())
        assert sandbox.requests == []

    def test_the_oldest_frames_go_first_past_the_total_limit(self, sandbox, tmp_path, monkeypatch):
        from apivideo_insights import _cache

        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        api.players()
        first = api.cache_info().loc["frames", "bytes"]
        # Room for about one and a half frames of players: a second frame evicts the first.
        monkeypatch.setattr(_cache, "MAX_FRAMES_TOTAL", int(first * 1.5))
        api.players(refresh=True)  # replaced: new, so kept
        assert api.cache_info().loc["frames", "entries"] == 1
        api.players(sort_order="desc")  # the same size: the older one goes
        info = api.cache_info()
        assert info.loc["frames", "bytes"] <= int(first * 1.5)
        assert info.loc["frames", "entries"] == 1
        kept = self._frames(api)
        sandbox.reset_requests()
        api.players()  # its frame is gone (so it is built and kept again); its page serves
        assert sandbox.requests == []
        assert self._frames(api) != kept

    def test_cache_info_counts_answers_and_frames(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite", page_size=3)
        video, _ = _sessions_of(sandbox.world, 0)
        api.videos()
        api.events(api.video_sessions(video, period=PERIOD).iloc[:2])
        info = api.cache_info()
        assert list(info.index) == ["answers", "frames"]
        assert list(info.columns) == ["entries", "bytes", "never_expire", "expired"]
        answers = api._http.session.cache.responses
        assert info.loc["answers", "entries"] == len(list(answers.keys()))
        assert info.loc["frames", "entries"] == 3
        assert info.loc["frames", "never_expire"] == 2  # sessions of a closed period, events
        assert (info["expired"] == 0).all()
        assert 0 < info["bytes"].sum() <= info.attrs["file_bytes"]
        assert info.attrs["path"] == str(tmp_path / "c.sqlite")
        api.clear_cache()
        assert (api.cache_info()[["entries", "bytes"]] == 0).all().all()
        no_cache = _connect(sandbox, cache=None).cache_info()
        assert (no_cache == 0).all().all() and no_cache.attrs["path"] is None

    def test_what_shaped_the_frame_is_part_of_its_key(self, sandbox, tmp_path):
        api = _connect(sandbox, cache=tmp_path / "c.sqlite")
        video, _ = _sessions_of(sandbox.world, 0)
        sessions = api.video_sessions(video, period=PERIOD).iloc[:5]
        by_frame = api.events(sessions)
        by_ids = api.events(list(sessions["session_id"]))
        assert "video_id" in by_frame.columns
        assert "video_id" not in by_ids.columns
        assert set(by_frame["video_id"].astype(str)) == {video}
        pd.testing.assert_frame_equal(by_frame.drop(columns="video_id"), by_ids)


class TestAuth:
    def test_tokens_expiring_mid_load(self, sandbox_server):
        sb = sandbox_server(token_ttl=1, latency=0.05)
        _, ids = _sessions_of(sb.world, 60)
        # 60+ requests at 50 ms on 2 threads: the load lasts longer than a token.
        api = _connect(sb, max_workers=2, page_size=5, cache=None)
        events = api.events(ids)
        auth_calls = [r.path for r in sb.requests if r.path.startswith("/auth")]
        assert "/auth/refresh" in auth_calls  # the load outlived a token
        # A request racing its token's expiry may get a 401; it is then retried once.
        assert {r.status for r in sb.requests} <= {200, 401}
        reference = _connect(sb, cache=None, auth="basic").events(ids)
        pd.testing.assert_frame_equal(events, reference)

    def test_401_gets_a_new_token_once(self, sandbox_server):
        sb = sandbox_server(token_ttl=1)
        api = _connect(sb, cache=None)
        api.players()
        api._http.auth._expires_at = float("inf")  # believe the old token still works
        time.sleep(1.05)
        sb.reset_requests()
        assert len(api.players()) == len(sb.world.players)
        log = [(r.path, r.status) for r in sb.requests]
        assert log == [("/players", 401), ("/auth/refresh", 200), ("/players", 200)]

    def test_revoked_key_raises_auth_error_once(self, sandbox_server):
        sb = sandbox_server()
        api = avi.connect("not-the-key", base_url=sb.base_url, cache=None)
        with pytest.raises(avi.AuthError, match="sandbox and production keys differ"):
            api.players()
        assert [r.path for r in sb.requests] == ["/auth/api-key"]


class _Stub(BaseHTTPRequestHandler):
    """A tiny server for what the sandbox cannot do quickly: 429 with a 1-second window."""

    script: ClassVar[list[tuple[int, dict[str, str]]]] = []
    hits: ClassVar[list[float]] = []

    def do_GET(self):
        type(self).hits.append(time.monotonic())
        status, headers = type(self).script.pop(0) if type(self).script else (200, {})
        body = json.dumps(
            {"data": [], "pagination": {"currentPage": 1, "pagesTotal": 0, "itemsTotal": 0}}
            if status == 200
            else {"title": "Too many requests.", "status": status}
        ).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # /auth/api-key and /auth/refresh: a new token each time
        type(self).tokens += 1
        n = type(self).tokens
        body = json.dumps(
            {
                "token_type": "Bearer",
                "expires_in": 3600,
                "access_token": f"access-{n}",
                "refresh_token": f"refresh-{n}",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    tokens: ClassVar[int] = 0

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    _Stub.hits = []
    _Stub.tokens = 0
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class TestRetries:
    def test_a_token_that_expires_again_gets_another_fresh_one(self, stub):
        # A token can expire while urllib3 retries a request: two 401s in a row.
        _, url = stub
        _Stub.script = [(401, {}), (401, {}), (200, {})]
        http = Http("k" * 20, url, auth="bearer", cache=None)
        body, _ = http.get_json("/players")
        assert body["data"] == []
        assert len(_Stub.hits) == 3
        assert _Stub.tokens == 3  # the first token, then one fresh token per 401

    def test_a_server_refusing_every_token_ends_in_auth_error(self, stub):
        _, url = stub
        _Stub.script = [(401, {})] * 10
        http = Http("k" * 20, url, auth="bearer", cache=None)
        with pytest.raises(avi.AuthError):
            http.get_json("/players")
        assert len(_Stub.hits) <= 4  # bounded: never a loop

    def test_429_with_only_x_ratelimit_retry_after(self, stub):
        _, url = stub
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Retry-After": "1"}
        _Stub.script = [(429, headers), (200, {"X-RateLimit-Retry-After": "59"})]
        http = Http("k" * 20, url, auth="basic", cache=None)
        body, _ = http.get_json("/players")
        assert body["data"] == []
        assert len(_Stub.hits) == 2
        assert 0.9 <= _Stub.hits[1] - _Stub.hits[0] < 5  # waited the header, not 59 s

    def test_5xx_uses_backoff_not_the_window_header(self, stub):
        _, url = stub
        slow = {"X-RateLimit-Retry-After": "60"}
        _Stub.script = [(503, slow), (500, slow), (200, slow)]
        http = Http("k" * 20, url, auth="basic", cache=None, backoff_factor=0.01)
        http.get_json("/players")
        assert len(_Stub.hits) == 3
        assert _Stub.hits[-1] - _Stub.hits[0] < 2

    def test_429_after_retries_is_rate_limit_error(self, stub):
        _, url = stub
        _Stub.script = [(429, {"X-RateLimit-Retry-After": "1"})] * 3
        http = Http("k" * 20, url, auth="basic", cache=None, retries=1)
        with pytest.raises(avi.RateLimitError, match="max_workers"):
            http.get_json("/players")

    def test_server_errors_and_dropped_connections_are_retried(self, sandbox_server):
        sb = sandbox_server(faults={"error_rate": 0.2, "drop_rate": 0.1, "seed": 7})
        _, ids = _sessions_of(sb.world, 40)
        events = _connect(sb, cache=None).events(ids)
        assert sb.faults_injected["error"] > 0 and sb.faults_injected["drop"] > 0
        clean = sandbox_server()
        reference = _connect(clean, cache=None).events(ids)
        pd.testing.assert_frame_equal(events, reference)

    def test_retry_after_is_read_on_429_only(self):
        class R:
            def __init__(self, status, headers):
                self.status, self.headers = status, headers

        retry = RateLimitRetry(total=3)
        assert retry.get_retry_after(R(429, {"X-RateLimit-Retry-After": "7"})) == 7
        assert retry.get_retry_after(R(429, {"Retry-After": "2"})) == 2
        assert retry.get_retry_after(R(500, {"X-RateLimit-Retry-After": "7"})) is None
        assert retry.new(total=2).pacer is retry.pacer

    def test_connection_refused_is_api_error(self):
        url = f"http://127.0.0.1:{_free_port()}"
        http = Http("k" * 20, url, auth="basic", cache=None, retries=0)
        with pytest.raises(avi.APIError, match="could not reach"):
            http.get_json("/players")


class TestPacer:
    def _pacer(self):
        clock = [0.0]
        slept = []

        def sleep(seconds):
            slept.append(seconds)
            clock[0] += seconds

        return Pacer(clock=lambda: clock[0], sleep=sleep), clock, slept

    def test_fits_in_the_window_goes_at_full_speed(self):
        pacer, _, slept = self._pacer()
        pacer.acquire()
        pacer.observe(200, {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "19",
                            "X-RateLimit-Retry-After": "60"})  # fmt: skip
        pacer.add_demand(19)
        for _ in range(19):
            pacer.add_demand(-1)
            pacer.acquire()
        assert slept == []

    def test_waits_for_the_reset_when_nothing_remains(self):
        pacer, clock, slept = self._pacer()
        pacer.acquire()
        pacer.observe(200, {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2",
                            "X-RateLimit-Retry-After": "30"})  # fmt: skip
        pacer.acquire()
        pacer.acquire()
        assert slept == []
        pacer.acquire()  # the window is spent: sleep to its end
        assert clock[0] == pytest.approx(30.05, abs=0.01)

    def test_spreads_the_tail_when_the_load_wants_more(self):
        pacer, clock, slept = self._pacer()
        pacer.acquire()
        pacer.observe(200, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "5",
                            "X-RateLimit-Retry-After": "50"})  # fmt: skip
        pacer.add_demand(50)
        for _ in range(5):
            pacer.acquire()
        assert 0 < clock[0] <= 50.1
        assert len(slept) >= 3

    def test_429_holds_everyone(self):
        pacer, clock, _ = self._pacer()
        pacer.acquire()
        pacer.observe_retry(429, {"X-RateLimit-Retry-After": "4"})
        pacer.acquire()
        assert clock[0] >= 4
        assert pacer.throttled == 1

    def test_no_wait_is_longer_than_the_cap_and_the_cap_is_said(self):
        clock = [0.0]

        def sleep(seconds):
            clock[0] += seconds

        pacer = Pacer(clock=lambda: clock[0], sleep=sleep, max_wait=60)
        pacer.acquire()
        with pytest.warns(UserWarning, match="waiting at most 60 s"):
            pacer.observe(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Retry-After": "1e9"})
        pacer.acquire()
        assert 60 <= clock[0] <= 61
        pacer.observe_retry(429, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})
        start = clock[0]
        pacer.acquire()
        assert clock[0] - start <= 61
        assert pacer.capped > 1e9

    def test_retry_after_is_capped_too(self):
        class R:
            status, headers = 429, {"Retry-After": "1e9"}

        assert RateLimitRetry(total=3, max_wait=60).get_retry_after(R()) == 60


class TestErrors:
    def test_messages_name_what_to_do(self, sandbox):
        import requests

        r = requests.get(sandbox.base_url + "/videos/viNope", auth=(sandbox.api_key, ""))
        err = error_from_response(r)
        assert isinstance(err, avi.NotFoundError)
        assert err.status == 404 and err.title
        assert sandbox.api_key not in str(err)

    def test_mask_key(self):
        for key in ("9VxMaPgsaFg7EBqmuspSzF7", "Zq9w"):
            masked = mask_key(key)
            assert masked.startswith("<hidden, account ")
            assert not any(key[i : i + 4] in masked for i in range(len(key) - 3))
        assert mask_key("abcdefghijkl") != mask_key("abcdefghijkm")

    def test_plain_http_to_a_remote_host_warns(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            avi.connect("k" * 20, base_url="http://example.org", cache=None)
        assert any("unencrypted" in str(w.message) for w in caught)
