"""Bad input never crashes and is never lost silently.

* Arbitrary event frames (hypothesis) into :func:`avi.segments`: a frame with the
  contract's columns and dtypes, or a clear ``ValueError``; every input row accounted for.
* Malformed API JSON (missing fields, wrong types, nulls, non-objects, broken envelopes,
  huge pages, lying pagination) served over a real socket by a tiny stand-in server (the
  sandbox only serves well-formed answers): ``SchemaError`` or rows + counted drops ==
  items, never another exception.
* Bad arguments (unknown metric, breakdown, aggregation, interval or filter, malformed
  period, page size out of range) raise ``ValueError`` before any request, naming what is
  valid; and every period the client accepts, the sandbox accepts too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd
import pytest
from _fault_figures import record
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import apivideo_insights as avi
from apivideo_insights import schema as _schema
from apivideo_insights.exceptions import APIError, SchemaError
from apivideo_insights.sandbox import serve, simulate

NOW = "2024-06-01T12:00:00+00:00"
FUZZED: dict[str, int] = {}


def _count(name: str) -> None:
    FUZZED[name] = FUZZED.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    record("fuzz.inputs", **FUZZED, total=sum(FUZZED.values()))


# ============================================================ segments from arbitrary events

T0 = pd.Timestamp("2024-05-01T10:00:00Z").value
positions = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=400).map(float),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0.0, 1e9, -0.0, 3.5]),
)
event_rows = st.fixed_dictionaries(
    {
        "session_id": st.one_of(st.sampled_from(["s1", "s2", "s3"]), st.none()),
        "type": st.one_of(st.sampled_from(list(_schema.EVENT_TYPES)), st.none()),
        "at": positions,
        "seek_from": positions,
        "seek_to": positions,
        # Seconds apart, many in the same second, some missing.
        "emitted_at": st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    }
)


def _event_frame(rows: list[dict[str, Any]], raw: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(_schema.EVENT_COLUMNS))
    stamps = [None if s is None else T0 + s * 1_000_000_000 for s in frame["emitted_at"]]
    frame["emitted_at"] = pd.to_datetime(pd.Series(stamps, dtype="float64"), utc=True)
    if raw:  # what a user builds by hand: object columns, strings for types
        frame["type"] = frame["type"].astype(object)
        frame["session_id"] = frame["session_id"].astype(object)
        return frame
    return _schema.conform(frame, _schema.EVENT_COLUMNS)


def _check_segments(seg: pd.DataFrame, events: pd.DataFrame, duration: float | None) -> None:
    assert list(seg.columns[: len(_schema.SEGMENT_COLUMNS)]) == list(_schema.SEGMENT_COLUMNS)
    for name, dtype in _schema.SEGMENT_COLUMNS.items():
        assert str(seg[name].dtype) == str(pd.Series([], dtype=dtype).dtype), name
    if len(seg):
        assert np.isfinite(seg["start"]).all() and np.isfinite(seg["end"]).all()
        assert (seg["start"] >= 0).all()
        assert (seg["start"] < seg["end"]).all()
        assert seg["started_at"].notna().all() and seg["ended_at"].notna().all()
        assert (seg["started_at"] <= seg["ended_at"]).all()
        if duration is not None:
            assert (seg["end"] <= duration + 1e-9).all()
        known = set(events["session_id"].dropna().astype(str))
        assert set(seg["session_id"].astype(str)) <= known
        # In time order within each playback.
        for _, part in seg.groupby(["session_id", "playback"], observed=True):
            assert part["started_at"].is_monotonic_increasing
    a = seg.attrs
    assert a["events"] == len(events)
    assert a["events"] == a["events_used"] + a["dropped_events"]
    assert a["segments_raw"] == len(seg) + a["dropped_segments"] + a["merged"]
    assert all(v >= 0 for v in a["dropped"].values())


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    rows=st.lists(event_rows, max_size=40),
    duration=st.one_of(st.none(), st.sampled_from([30.0, 120.0, 0.5])),
    raw=st.booleans(),
)
def test_segments_of_arbitrary_events_never_crash_and_count_every_row(rows, duration, raw):
    _count("segments.event_frames")
    events = _event_frame(rows, raw)
    seg = avi.segments(events, duration=duration)
    _check_segments(seg, events, duration)
    if raw:
        # Hand-built (object) columns give the same answer as the contract's dtypes.
        same = avi.segments(_event_frame(rows, False), duration=duration)
        pd.testing.assert_frame_equal(
            seg.reset_index(drop=True), same.reset_index(drop=True), check_categorical=False
        )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    junk=st.sampled_from(
        [
            {"at": ["a", "b"]},
            {"at": [True, False]},
            {"emitted_at": ["yesterday", "not a time"]},
            {"type": ["played", "PAUSE"]},
            {"session_id": [1.5, None]},
            {"seek_to": [pd.Timestamp("2024-01-01", tz="UTC")] * 2},
        ]
    )
)
def test_segments_of_wrongly_typed_columns_is_a_value_error_or_counted(junk):
    _count("segments.wrong_types")
    base = {
        "session_id": ["s1", "s1"],
        "type": ["play", "pause"],
        "at": [0.0, 5.0],
        "seek_from": [None, None],
        "seek_to": [None, None],
        "emitted_at": pd.to_datetime(["2024-05-01T10:00:00Z", "2024-05-01T10:00:05Z"]),
    }
    events = pd.DataFrame({**base, **junk})
    try:
        seg = avi.segments(events)
    except ValueError as exc:
        assert str(exc)  # a sentence, not an empty error
        return
    _check_segments(seg, events, None)


# ====================================================== malformed JSON over a real socket


class _Stub(ThreadingHTTPServer):
    """Serves canned JSON bodies by path (and page): a stand-in for a misbehaving API."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.bodies: dict[tuple[str, str | None], bytes] = {}
        self.hits: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _StubHandler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def set(self, path: str, body: Any, page: str | None = None, raw: bool = False) -> None:
        data = body if raw else json.dumps(body).encode()
        with self.lock:
            self.bodies[(path, page)] = data

    def reset(self) -> None:
        with self.lock:
            self.bodies.clear()
            self.hits.clear()


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Stub

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        page = dict(parse_qsl(parts.query)).get("currentPage", "1")
        with self.server.lock:
            self.server.hits.append((parts.path, page))
            body = self.server.bodies.get((parts.path, page))
            if body is None:
                body = self.server.bodies.get((parts.path, None))
        if body is None:
            body, status = b'{"title": "Not found", "status": 404}', 404
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def stub() -> Iterator[_Stub]:
    server = _Stub()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def api(stub: _Stub) -> Iterator[Any]:
    client = avi.connect(
        "fuzz_key_not_a_secret_0123", base_url=stub.base_url, cache=None, auth="basic",
        progress=False, timeout=5,
    )  # fmt: skip
    yield client
    client.close()


def _page(items: list[Any], **overrides: Any) -> dict[str, Any]:
    n = len(items)
    pagination = {
        "currentPage": 1,
        "pageSize": max(n, 1),
        "pagesTotal": 1,
        "itemsTotal": n,
        "currentPageItems": n,
        "links": [{"rel": "self", "uri": "?currentPage=1"}],
    }
    pagination.update(overrides)
    return {"data": items, "pagination": pagination}


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def mutated(draw: Any, template: dict[str, Any]) -> Any:
    """``template`` with fields deleted, nulled or replaced by junk (recursively)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(junk)  # not an object at all
    out: dict[str, Any] = {}
    for key, value in template.items():
        action = draw(st.integers(0, 9))
        if action == 0:
            continue  # missing
        if action == 1:
            out[key] = None
        elif action == 2:
            out[key] = draw(junk)
        elif isinstance(value, dict):
            out[key] = draw(mutated(value))
        else:
            out[key] = value
    if draw(st.booleans()):
        out[draw(st.text(min_size=1, max_size=5))] = draw(junk)
    return out


EVENT = {"type": "pause", "emittedAt": "2024-05-04T00:00:45.000Z", "at": 3, "from": 1, "to": 2}
SESSION = {
    "session": {
        "sessionId": "ps0",
        "loadedAt": "2024-05-04T00:00:36.610Z",
        "endedAt": "2024-05-04T00:00:45.283Z",
        "metadata": [{"key": "plan", "value": "free"}],
    },
    "location": {"country": "Brazil", "city": "Rio de Janeiro"},
    "referrer": {"url": "unknown", "medium": "unknown", "source": "unknown"},
    "device": {"type": "desktop", "vendor": "Apple", "model": "unknown"},
    "os": {"name": "Mac OS X", "shortname": "MAC", "version": "10.15"},
    "client": {"type": "browser", "name": "Safari", "version": "17.1"},
}
VIDEO = {
    "videoId": "vi0",
    "title": "A title",
    "createdAt": "2023-12-06T15:34:16+00:00",
    "publishedAt": "2023-12-06T15:46:44+00:00",
    "tags": ["a", "b"],
    "metadata": [{"key": "Author", "value": "John Doe"}],
    "public": True,
    "assets": {"player": "https://embed.api.video/vod/vi0"},
}


def _accounted(frame: pd.DataFrame, n_items: int) -> None:
    dropped = frame.attrs.get("dropped", {})
    assert all(isinstance(v, int) and v > 0 for v in dropped.values()), dropped
    assert len(frame) + sum(dropped.values()) == n_items, (len(frame), dropped, n_items)


FUZZ = settings(
    max_examples=100,
    report_multiple_bugs=False,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


@FUZZ
@given(items=st.lists(mutated(EVENT), max_size=12))
def test_malformed_event_items_are_schema_errors_or_counted_drops(stub, api, items):
    _count("json.event_pages")
    stub.set("/analytics/sessions/ps1/events", _page(items))
    try:
        frame = api.events(["ps1"])
    except SchemaError:
        return
    _accounted(frame, len(items))
    assert list(frame.columns[:6]) == list(_schema.EVENT_COLUMNS)


@FUZZ
@given(items=st.lists(mutated(SESSION), max_size=8))
def test_malformed_session_items_are_schema_errors_or_counted_drops(stub, api, items):
    _count("json.session_pages")
    # Distinct ids (a repeated id is a separate case, below).
    for i, item in enumerate(items):
        s = item.get("session") if isinstance(item, dict) else None
        if isinstance(s, dict) and s.get("sessionId") == "ps0":
            s["sessionId"] = f"ps{i}"
    stub.set("/analytics/videos/vi1", _page(items))
    try:
        frame = api.video_sessions("vi1", period="2024-05")
    except SchemaError:
        return
    _accounted(frame, len(items))
    assert list(frame.columns[: len(_schema.SESSION_COLUMNS)]) == list(_schema.SESSION_COLUMNS)


@FUZZ
@given(items=st.lists(mutated(VIDEO), max_size=8))
def test_malformed_video_items_are_schema_errors_or_counted_drops(stub, api, items):
    _count("json.video_pages")
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("videoId") == "vi0":
            item["videoId"] = f"vi{i}"
    stub.set("/videos", _page(items))
    try:
        frame = api.videos()
    except SchemaError:
        return
    _accounted(frame, len(items))


envelopes = st.one_of(
    junk,
    st.fixed_dictionaries({"data": junk}),
    st.fixed_dictionaries({"data": st.just([EVENT]), "pagination": junk}),
    st.fixed_dictionaries(
        {
            "data": st.just([EVENT]),
            "pagination": st.fixed_dictionaries(
                {
                    "currentPage": st.one_of(junk, st.integers(-2, 3)),
                    "pagesTotal": st.one_of(junk.filter(lambda v: not isinstance(v, int)),
                                            st.integers(-2, 3)),
                    "itemsTotal": st.one_of(junk, st.integers(-2, 3)),
                    "pageSize": st.one_of(junk, st.integers(-2, 3)),
                    "links": junk,
                }
            ),
        }
    ),
)  # fmt: skip


@FUZZ
@given(body=envelopes)
def test_malformed_envelopes_are_schema_errors_or_counted(stub, api, body):
    _count("json.envelopes")
    stub.reset()
    stub.set("/analytics/sessions/ps2/events", body)
    try:
        frame = api.events(["ps2"])
    except SchemaError:
        return
    except APIError as exc:
        # A page the envelope pointed to that does not exist (404) is an honest error.
        assert exc.status == 404, exc
        return
    # Whatever was read is accounted for; at most a few pages were asked for.
    assert len(stub.hits) <= 10, stub.hits[:12]
    data = body.get("data") if isinstance(body, dict) else body
    n_pages = len({page for _, page in stub.hits})
    if isinstance(data, list):
        _accounted(frame, len(data) * n_pages)


@pytest.mark.parametrize("body", [b"", b"<html>502 Bad Gateway</html>", b'{"data": [', b"\xff\xfe"])
def test_answers_that_are_not_json_are_schema_errors(stub, api, body):
    _count("json.not_json")
    stub.set("/analytics/sessions/ps3/events", body, raw=True)
    with pytest.raises(SchemaError) as info:
        api.events(["ps3"])
    assert "/analytics/sessions/ps3/events" in str(info.value)


def test_a_huge_page_is_read_whole(stub, api):
    _count("json.huge_page")
    n = 50_000
    items: list[Any] = [
        {"type": "play" if i % 2 == 0 else "pause", "emittedAt": "2024-05-04T00:00:45Z", "at": i}
        for i in range(n)
    ]
    items[7] = {"type": "teleport", "emittedAt": "2024-05-04T00:00:45Z", "at": 1}
    items[9] = None
    stub.set("/analytics/sessions/ps4/events", _page(items))
    frame = api.events(["ps4"])
    _accounted(frame, n)
    assert frame.attrs["dropped"] == {"unknown type": 1, "not an object": 1}


def test_a_repeated_session_is_kept_once_and_counted(stub, api):
    _count("json.duplicates")
    first = json.loads(json.dumps(SESSION))
    second = json.loads(json.dumps(SESSION))
    second["session"]["sessionId"] = "ps9"
    stub.set("/analytics/videos/vi2", _page([first, second, first]))
    frame = api.video_sessions("vi2", period="2024-05")
    assert sorted(frame["session_id"]) == ["ps0", "ps9"]
    dropped = frame.attrs["dropped"]
    assert sum(dropped.values()) == 1, f"the repeated session was dropped uncounted: {dropped}"


def test_pagination_claiming_far_more_pages_than_items_is_not_followed_blindly(stub, api):
    """itemsTotal 1 with pageSize 1, but pagesTotal 400: no 400 requests for one item."""
    _count("json.lying_pagination")
    stub.reset()
    item = {"type": "play", "emittedAt": "2024-05-04T00:00:45Z", "at": 1}
    claim = {"pagesTotal": 400, "itemsTotal": 1, "pageSize": 1}
    stub.set("/analytics/sessions/ps5/events", _page([item], **claim), page="1")
    stub.set("/analytics/sessions/ps5/events", _page([], **claim))
    try:
        frame = api.events(["ps5"])
    except SchemaError:
        frame = None
    hits = len(stub.hits)
    record("fuzz.lying_pagination", requests=hits, claimed_pages=400, items=1)
    assert hits <= 3, f"{hits} requests for a listing of 1 item"
    if frame is not None:
        assert len(frame) == 1


# ================================================== bad arguments: ValueError, no request


@pytest.fixture(scope="module")
def world() -> Any:
    return simulate(seed=2, now=NOW, sessions=30, videos=1, live_streams=0)


@pytest.fixture(scope="module")
def sandbox_api(world: Any) -> Iterator[tuple[Any, Any]]:
    with serve(world) as sb:
        client = avi.connect(sb.api_key, base_url=sb.base_url, cache=None, progress=False)
        try:
            yield sb, client
        finally:
            client.close()


def _no_request(sb: Any, call: Any, *valid: str) -> str:
    sb.reset_requests()
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert sb.requests == [], f"a request was sent before the ValueError: {sb.requests}"
    for name in valid:
        assert name in message, f"{name!r} not listed in: {message}"
    return message


def test_unknown_names_raise_before_any_request_listing_what_is_valid(sandbox_api):
    from apivideo_insights import _params as P

    sb, api = sandbox_api
    cases = [
        (lambda: api.metrics("plays", "count"), P.METRICS),
        (lambda: api.metrics("play", "median"), P.AGGREGATIONS),
        (lambda: api.breakdown("plays", "country"), P.BREAKDOWN_METRICS),
        (lambda: api.breakdown("play", "planet"), P.BREAKDOWNS),
        (lambda: api.timeseries("plays"), P.TIMESERIES_METRICS),
        (lambda: api.timeseries("play", interval="week"), P.INTERVALS),
        (lambda: api.metrics("play", "count", galaxy="milky"), ("country", "device_type")),
        (lambda: api.videos(colour="red"), ("title", "tags", "metadata")),
        (lambda: api.videos(sort_by="views"), ("title", "created")),
    ]
    for call, valid in cases:
        _count("args.unknown_names")
        _no_request(sb, call, *valid)


@pytest.mark.parametrize(
    "period",
    ["2024-13", "2024-02-30", "yesterday", "2024-01-10/2024-01-01", "2024-W54", "24-01", "",
     "2024-01-01/", 2024, 3.5, ("2024-01-01",), "2024-1-1"],
)  # fmt: skip
def test_malformed_periods_raise_before_any_request(sandbox_api, world, period):
    _count("args.periods")
    sb, api = sandbox_api
    video_id = world.videos[0]["videoId"]
    message = _no_request(sb, lambda: api.video_sessions(video_id, period=period))
    assert "2024-W03" in message or "ISO week" in message, message


@pytest.mark.parametrize("page_size", [0, 101, -1, 10**6, 2.5, "10", True, None])
def test_page_size_out_of_range_raises_before_any_request(sandbox_api, page_size):
    _count("args.page_size")
    sb, _ = sandbox_api
    sb.reset_requests()
    with pytest.raises((ValueError, TypeError)) as info:
        avi.connect(sb.api_key, base_url=sb.base_url, cache=None, page_size=page_size)
    assert "100" in str(info.value) and "1" in str(info.value)
    assert sb.requests == []


def test_bad_windows_raise_before_any_request(sandbox_api):
    sb, api = sandbox_api
    _count("args.windows")
    _no_request(sb, lambda: api.metrics("play", "count", start="2024-05-02", end="2024-05-01"))
    _count("args.windows")
    _no_request(sb, lambda: api.metrics("play", "count", start="last tuesday"))
    _count("args.windows")
    _no_request(sb, lambda: api.timeseries("play", end="2024-99-01"))


period_texts = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A\d{4}(-\d{2}(-\d{2})?)?\Z"),
    st.from_regex(r"\A\d{4}-W\d{2}\Z"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}\Z"),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
    report_multiple_bugs=False,
    # No shrinking: a server error costs the client's retries (seconds) per attempt.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(period=period_texts)
def test_every_period_the_client_accepts_the_server_accepts(sandbox_api, world, period):
    """Local validation agrees with the API: a ValueError before any request, or a 200."""
    _count("args.period_texts")
    sb, api = sandbox_api
    video_id = world.videos[0]["videoId"]
    sb.reset_requests()
    try:
        api.video_sessions(video_id, period=period)
    except ValueError:
        assert sb.requests == []
        return
    statuses = {r.status for r in sb.requests}
    assert statuses == {200}, (period, statuses)
