"""The HTTP layer against a hostile stand-in server (not the sandbox): nothing leaked,
nothing hung, nothing lost, nothing poisoned.

Each case scripts :class:`tests._hostile_server.Hostile` on 127.0.0.1 and checks what users
need: no credential reaches the other host (another port: another origin), the call ends
within a stated bound with one of the toolkit's exceptions saying what happened and what to
do, gaps are warned and counted in ``attrs``, and the cache keeps nothing that did not
parse. Small timeouts keep the suite short; the bounds asserted are those the settings
promise (:attr:`Settings.worst_case` and friends).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import pytest
from _fault_figures import record
from _hostile_server import KEY, Hostile, flood, listing, trickle, video

import apivideo_insights as avi
from apivideo_insights._http import Http, mask_key
from apivideo_insights._settings import Settings
from apivideo_insights.client import Client

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def _figures(request):
    """One figure per case: its name and how long it took (reaching here means it held)."""
    start = time.monotonic()
    yield
    record("hostile", case=request.node.name, seconds=round(time.monotonic() - start, 2))


@pytest.fixture
def server():
    with Hostile() as s:
        yield s


@pytest.fixture
def other():
    with Hostile() as s:
        s.routes[("GET", "*")] = lambda h, q, b: h.json(200, listing([video(666)], pagesTotal=1))
        yield s


def _client(url: str, cache: Path | None = None, **kw) -> Client:
    kw = {"timeout": 2, "retries": 1, "backoff_factor": 0.01, "max_wait": 1, "max_pages": 50, **kw}
    settings = Settings(base_url=url, cache=cache, progress=False, **kw)
    return Client(Http(KEY, settings=settings), masked_key=mask_key(KEY))


def _no_secret(server: Hostile, *texts: object) -> None:
    secrets = [KEY, *(f"accessTok{i:06d}xyz" for i in range(1, server.issued + 1))]
    secrets += [f"refreshTok{i:06d}xyz" for i in range(1, server.issued + 1)]
    for text in texts:
        for secret in secrets:
            assert secret not in str(text)


def _answers(api: Client) -> int:
    return int(api.cache_info().loc["answers", "entries"])


# ----------------------------------------------------------------- credentials stay home


@pytest.mark.parametrize("auth", ["bearer", "basic"])
@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_off_host_is_refused_and_carries_nothing(server, other, tmp_path, code, auth):
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(
        code, {}, Location=f"{other.url}/videos?currentPage=1"
    )
    api = _client(server.url, tmp_path / "c.sqlite", auth=auth)
    with pytest.raises(avi.APIError, match="redirect") as info:
        api.videos()
    assert other.log == []  # not followed at all: no token, no key, nothing
    assert "base_url" in str(info.value)
    assert _answers(api) == 0  # nothing cached under our key
    _no_secret(server, info.value, info.value.detail)


def test_same_origin_redirect_is_followed_and_counted(server):
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(302, {}, Location="/v2/videos")
    server.routes[("GET", "/v2/videos")] = lambda h, q, b: h.json(
        200, listing([video(1)], pagesTotal=1, itemsTotal=1)
    )
    frame = _client(server.url).videos()
    assert list(frame.video_id) == ["vi0001"]
    assert frame.attrs["requests"] == 2  # the redirect and its target


@pytest.mark.parametrize("code", [307, 308])
def test_auth_redirect_never_reposts_the_key(server, other, code):
    server.routes[("POST", "/auth/api-key")] = lambda h, q, b: h.json(
        code, {}, Location=f"{other.url}/auth/api-key"
    )
    with pytest.raises(avi.APIError, match="not followed") as info:
        _client(server.url).videos()
    assert other.log == [] and other.credentials_seen() == []
    _no_secret(server, info.value)


def test_refresh_redirect_never_reposts_the_refresh_token(server, other):
    server.expires_in = 0.3  # renewed after ~0.27 s: the refresh token is used
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(
        200, listing([video(1)], pagesTotal=1, itemsTotal=1)
    )
    server.routes[("POST", "/auth/refresh")] = lambda h, q, b: h.json(
        307, {}, Location=f"{other.url}/auth/refresh"
    )
    api = _client(server.url)
    api.videos()
    time.sleep(0.4)
    with pytest.raises(avi.APIError, match="not followed"):
        api.videos(refresh=True)
    assert other.credentials_seen() == []


@pytest.mark.parametrize("scheme", ["//", "http://"])
def test_links_to_another_host_are_rebased_onto_ours(server, other, scheme):
    host = other.url.split("://", 1)[1]

    def pages(h, q, b):
        page = int(q.get("currentPage", ["1"])[0])
        uri = f"{scheme}{host}/videos?currentPage=2"
        links = [{"rel": "next", "uri": uri}] if page == 1 else []
        h.json(200, listing([video(page)], currentPage=page, links=links))

    server.routes[("GET", "/videos")] = pages
    frame = _client(server.url).videos()
    assert list(frame.video_id) == ["vi0001", "vi0002"]  # page 2 from our host, not vi0666
    assert other.log == []


# ------------------------------------------------------------------- every call ends


def _next_links(target):
    """A listing with only `next` links, page p linking to target(p); one video a page."""

    def pages(h, q, b):
        page = int(q.get("currentPage", ["1"])[0])
        nxt = target(page)
        links = [{"rel": "next", "uri": nxt}] if nxt else []
        h.json(200, listing([video(page)], currentPage=page, links=links))

    return pages


@pytest.mark.parametrize("cached", [False, True])
@pytest.mark.parametrize("target", ["self", "back to 1"], ids=lambda t: t.replace(" ", "-"))
def test_next_link_loops_end(server, tmp_path, cached, target):
    def link(page):
        if target == "self":
            return f"/videos?currentPage={page}&pageSize=100"
        return "/videos?currentPage=1" if page == 2 else f"/videos?currentPage={page + 1}"

    server.routes[("GET", "/videos")] = _next_links(link)
    api = _client(server.url, tmp_path / "c.sqlite" if cached else None)
    start = time.monotonic()
    for _ in range(2 if cached else 1):
        with pytest.warns(avi.PartialLoadWarning, match="points back"):
            frame = api.videos()
    assert time.monotonic() - start < 10
    assert set(frame.video_id) <= {"vi0001", "vi0002"} and "vi0001" in set(frame.video_id)
    assert "points back" in frame.attrs["gaps"]["notes"][0]
    assert server.requests("GET", "/videos") <= 3 * 4 * 2  # rounds x pages x loads


def test_endless_next_links_stop_at_the_page_bound(server):
    server.routes[("GET", "/videos")] = _next_links(lambda p: f"/videos?currentPage={p + 1}")
    with pytest.raises(avi.SchemaError, match="past 50 pages") as info:
        _client(server.url, max_pages=50).videos()
    assert "Narrow the request" in str(info.value)
    assert server.requests("GET", "/videos") == 50


def test_a_huge_pages_total_is_refused_at_once(server):
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(
        200, listing([video(1)], currentPage=1, pagesTotal=99_999)
    )
    with pytest.raises(avi.SchemaError, match="claims 99999 pages"):
        _client(server.url, max_pages=10_000).videos()
    assert server.requests("GET", "/videos") == 1


def test_empty_pages_under_a_big_total_stop_the_listing(server):
    def pages(h, q, b):
        page = int(q.get("currentPage", ["1"])[0])
        h.json(200, listing([video(1)] if page == 1 else [], currentPage=page, pagesTotal=40))

    server.routes[("GET", "/videos")] = pages
    with pytest.warns(avi.PartialLoadWarning, match="was empty"):
        frame = _client(server.url, max_workers=4).videos()
    assert list(frame.video_id) == ["vi0001"]
    assert server.requests("GET", "/videos") < 3 * 12  # 3 rounds, never the 40 pages


def test_retry_after_huge_or_in_year_9999_is_a_rate_limit_error(server):
    for header in ("1000000000", "Fri, 31 Dec 9999 23:59:59 GMT"):
        server.routes[("GET", "/videos")] = lambda h, q, b, v=header: h.json(
            429, {"title": "slow down"}, Retry_After=v
        )
        start = time.monotonic()
        with pytest.raises(avi.RateLimitError, match="more than the 1 s") as info:
            _client(server.url).videos()
        assert time.monotonic() - start < 5
        assert "try again later" in str(info.value)


def test_nothing_remaining_with_a_huge_window_waits_the_cap_and_says_so(server):
    def pages(h, q, b):
        page = int(q.get("currentPage", ["1"])[0])
        body = listing([video(page)], currentPage=page, pagesTotal=2, itemsTotal=2)
        h.json(200, body, X_RateLimit_Remaining="0", X_RateLimit_Retry_After="1e9")

    server.routes[("GET", "/videos")] = pages
    start = time.monotonic()
    with pytest.warns(UserWarning, match="waiting at most 1 s"):
        frame = _client(server.url, max_wait=1).videos()
    assert len(frame) == 2
    assert time.monotonic() - start < 5


def test_a_server_that_never_answers_fails_within_the_worst_case(server):
    server.routes[("GET", "/videos")] = lambda h, q, b: server.stall()
    api = _client(server.url, timeout=0.5, retries=1)
    start = time.monotonic()
    with pytest.raises(avi.APIError, match=r"could not reach .* raise timeout="):
        api.videos()
    elapsed = time.monotonic() - start
    assert elapsed <= api._settings.worst_case + 2.0
    assert server.requests("GET", "/videos") == 2  # the attempt and its one retry


def test_a_trickled_body_fails_after_the_timeout(server):
    body = json.dumps(listing([video(1)], pagesTotal=1)).encode()
    server.routes[("GET", "/videos")] = lambda h, q, b: trickle(h, body, 0.2, server.release)
    start = time.monotonic()
    with pytest.raises(avi.APIError, match="too slowly"):
        _client(server.url, timeout=1).videos()
    assert time.monotonic() - start < 4  # the 1 s deadline plus one read, not 40 s


@pytest.mark.parametrize("declared", [True, False])
def test_an_enormous_answer_is_refused(server, declared):
    if declared:

        def huge(h, q, b):
            h.send_response(200)
            h.send_header("Content-Length", str(100 * 2**20))
            h.end_headers()
            h.wfile.write(b"[" * 1000)

        server.routes[("GET", "/videos")] = huge
    else:
        server.routes[("GET", "/videos")] = lambda h, q, b: flood(h, 8, server.release)
    with pytest.raises(avi.APIError, match="more than 1 MiB"):
        _client(server.url, max_bytes=2**20).videos()


def test_json_nested_100000_deep_is_a_schema_error(server, tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    server.routes[("GET", "/videos")] = lambda h, q, b: h.raw(200, deep)
    api = _client(server.url, tmp_path / "c.sqlite")
    with pytest.raises(avi.SchemaError, match="not JSON"):
        api.videos()
    assert _answers(api) == 0
    server.routes[("GET", "/videos")] = lambda h, q, b: h.raw(500, deep)
    with pytest.raises(avi.APIError, match="HTTP 500"):
        api.videos()


# ---------------------------------------------------------------- nothing poisoned, lost


def test_a_truncated_200_is_never_cached(server, tmp_path):
    good = json.dumps(listing([video(1)], pagesTotal=1, itemsTotal=1)).encode()
    server.routes[("GET", "/videos")] = lambda h, q, b: h.raw(200, good[: len(good) // 2])
    api = _client(server.url, tmp_path / "c.sqlite")
    with pytest.raises(avi.SchemaError, match="not cached"):
        api.videos()
    assert _answers(api) == 0
    server.routes[("GET", "/videos")] = lambda h, q, b: h.raw(200, good)
    assert list(api.videos().video_id) == ["vi0001"]  # asked again, not served the stub
    assert server.requests("GET", "/videos") == 2
    assert _answers(api) == 1


def test_a_body_cut_off_mid_way_is_an_api_error(server, tmp_path):
    def cut(h, q, b):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b'{"data": [')
        h.wfile.flush()
        h.close_connection = True

    server.routes[("GET", "/videos")] = cut
    api = _client(server.url, tmp_path / "c.sqlite")
    with pytest.raises(avi.APIError, match=r"cut off|could not reach"):
        api.videos()
    assert _answers(api) == 0


def test_lying_totals_are_warned_and_counted(server):
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(
        200, listing([video(i) for i in range(3)], currentPage=1, pagesTotal=1, itemsTotal=4)
    )
    with pytest.warns(avi.PartialLoadWarning, match="itemsTotal said 4, 3 received"):
        frame = _client(server.url).videos()
    assert len(frame) == 3
    assert frame.attrs["gaps"] == {
        "listings": 1,
        "missing": 1,
        "notes": ["itemsTotal said 4, 3 received"],
    }
    assert frame.attrs["requests"] == 3  # the listing was re-read twice before giving up


@pytest.mark.parametrize("case", ["wrong currentPage", "itemsTotal below the pages"])
def test_totals_that_undercount_never_leave_pages_unread(server, case):
    def pages(h, q, b):
        page = int(q.get("currentPage", ["1"])[0])
        said = 3 if case == "wrong currentPage" else page
        total = 3 if case == "wrong currentPage" else 2
        h.json(
            200,
            listing([video(page)], currentPage=said, pagesTotal=3, itemsTotal=total, pageSize=1),
        )

    server.routes[("GET", "/videos")] = pages
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = _client(server.url, page_size=1).videos()
    assert sorted(frame.video_id) == ["vi0001", "vi0002", "vi0003"]
    assert any(issubclass(w.category, avi.PartialLoadWarning) for w in caught)
    assert frame.attrs["gaps"]["listings"] == 1


def test_attrs_requests_counts_retries(server):
    state = {"n": 0}

    def flaky(h, q, b):
        state["n"] += 1
        if state["n"] == 1:
            h.json(503, {"title": "busy"})
        else:
            h.json(200, listing([video(1)], pagesTotal=1, itemsTotal=1))

    server.routes[("GET", "/videos")] = flaky
    api = _client(server.url)
    frame = api.videos()
    assert frame.attrs["requests"] == 2 == server.requests("GET", "/videos")
    assert api.requests_sent == 2


def test_an_unusable_cache_directory_warns_once_and_works_uncached(server, tmp_path):
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(
        200, listing([video(1)], pagesTotal=1, itemsTotal=1)
    )
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    with pytest.warns(UserWarning, match="working without a cache"):
        api = _client(server.url, blocker / "cache" / "c.sqlite")
    assert api.cache_path is None
    assert len(api.videos()) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _client(server.url, blocker / "cache" / "c.sqlite")  # said once per path


def test_a_read_only_cache_directory_is_not_called_damaged(server, tmp_path):
    server.routes[("GET", "/videos")] = lambda h, q, b: h.json(
        200, listing([video(1)], pagesTotal=1, itemsTotal=1)
    )
    if os.geteuid() == 0:
        # Root writes read-only directories anyway: the client runs as nobody, to whom a
        # folder of root's is read-only (CI runs as root; this case must run there too).
        folder = Path(tempfile.mkdtemp(prefix="avi-ro-"))
        try:
            folder.chmod(0o755)
            _client(server.url, folder / "c.sqlite").close()
            got = _as_nobody(lambda: _read_only_use(server.url, folder))
        finally:
            shutil.rmtree(folder)
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        _client(server.url, folder / "c.sqlite").close()
        folder.chmod(0o500)
        try:
            got = _read_only_use(server.url, folder)
        finally:
            folder.chmod(0o700)
    assert any("read-only" in w for w in got["warnings"]), got
    assert got["videos"] == 1
    assert got["damaged"] == []


def _read_only_use(url: str, folder: Path) -> dict[str, object]:
    """What a client on a cache in ``folder`` (read-only to this user) warns, loads and
    leaves behind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api = _client(url, folder / "c.sqlite")
        videos = len(api.videos())
    return {
        "warnings": [str(w.message) for w in caught],
        "videos": videos,
        "damaged": [p.name for p in folder.glob("*.damaged-*")],
    }


def _as_nobody(work, *, seconds: float = 20.0) -> dict[str, object]:
    """Run ``work`` in a child process as the user nobody; its JSON-able result, or a failure
    with what went wrong (the child never outlives ``seconds``)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, work, report, and leave without cleanup
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = json.dumps(work())
        except BaseException as err:  # anything: the parent reports it as text
            out, code = json.dumps({"error": repr(err)}), 1
        with os.fdopen(write, "w") as pipe:
            pipe.write(out)
        os._exit(code)
    os.close(write)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail(f"the client as nobody did not finish within {seconds} s")
    with os.fdopen(read) as pipe:
        result = json.loads(pipe.read() or "{}")
    assert os.WEXITSTATUS(status) == 0, result
    return result


# ----------------------------------------------------------------- secrets in errors


def test_error_bodies_echoing_secrets_are_redacted(server):
    def echo(h, q, b):
        token = h.headers.get("Authorization", "")
        h.json(400, {"title": f"bad key {KEY}", "detail": f"you sent {token}", "status": 400})

    server.routes[("GET", "/videos")] = echo
    with pytest.raises(avi.APIError, match="HTTP 400 from GET") as info:
        _client(server.url).videos()
    err = info.value
    assert "<hidden>" in str(err)
    _no_secret(server, err, err.title, err.detail, repr(err))


def test_a_500_on_auth_is_reported_as_post_without_the_key(server):
    server.routes[("POST", "/auth/api-key")] = lambda h, q, b: h.json(
        500, {"title": f"could not check {json.loads(b)['apiKey']}"}
    )
    with pytest.raises(avi.APIError, match="HTTP 500 from POST") as info:
        _client(server.url).videos()
    _no_secret(server, info.value, info.value.title)


@pytest.mark.parametrize("token", ["abc\r\nX-Evil: 1", "t\u00f6k\u00e9n\u2713", "a b"])
def test_tokens_that_cannot_travel_in_a_header_are_auth_errors(server, token):
    server.routes[("POST", "/auth/api-key")] = lambda h, q, b: h.json(
        200, {"access_token": token, "expires_in": 3600}
    )
    with pytest.raises(avi.AuthError, match="cannot be sent in a header") as info:
        _client(server.url).videos()
    assert token not in str(info.value)
    assert server.requests("GET", "/videos") == 0


@pytest.mark.parametrize("token", [False, True], ids=["before-auth", "with-a-token"])
def test_a_stopped_sandbox_is_named_and_fails_fast(sandbox_server, token):
    sb = sandbox_server()
    api = avi.connect(sb.api_key, base_url=sb.base_url, cache=None, progress=False)
    if token:
        api.videos()
    sb.stop()
    start = time.monotonic()
    with pytest.raises(avi.APIError, match=r"the sandbox at .* was stopped; start a new one"):
        api.videos()
    assert time.monotonic() - start < 1  # no retries, neither for /auth nor for the GET
