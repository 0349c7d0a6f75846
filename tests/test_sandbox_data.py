"""The sandbox's ``/data`` aggregates agree with its events; saved worlds round-trip.

Two worlds: a hand-built one whose every number is worked out below, and the seeded
simulated one, checked against counts computed directly from ``world.events`` with pandas
(not with the sandbox's own code).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from apivideo_insights.sandbox import World
from apivideo_insights.sandbox._catalog import COUNTRIES, DEVICES
from apivideo_insights.sandbox._data_metrics import (
    QueryError,
    build_facts,
    compute,
    parse_query,
)
from apivideo_insights.sandbox._saved import SHIPPED_WORLD, load_world, save_world
from apivideo_insights.sandbox.server import Sandbox, serve
from apivideo_insights.schema import (
    EVENT_COLUMNS,
    SEGMENT_COLUMNS,
    SESSION_COLUMNS,
    conform,
    empty_frame,
)

NOW = pd.Timestamp("2024-06-01T12:00:00Z")
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- a tiny world
def _session(sid: str, loaded: str, ended: str, **kw: Any) -> dict[str, Any]:
    base = {
        "session_id": sid,
        "loaded_at": f"2024-06-01T{loaded}Z" if len(loaded) <= 8 else loaded,
        "ended_at": f"2024-06-01T{ended}Z" if len(ended) <= 8 else ended,
        "video_id": None,
        "live_stream_id": None,
        "location_country": "France",
        "location_city": "Paris",
        "referrer_url": "https://www.google.com/",
        "referrer_medium": "organic",
        "referrer_source": "https://google.com",
        "referrer_search_term": "unknown",
        "device_type": "desktop",
        "device_vendor": "Dell",
        "device_model": "unknown",
        "os_name": "Microsoft Windows",
        "os_shortname": "WIN",
        "os_version": "11",
        "client_type": "browser",
        "client_name": "Firefox",
        "client_version": "120.0",
        "metadata": None,
    }
    base.update(kw)
    return base


def _events(sid: str, rows: list[tuple[Any, ...]], day: str = "2024-06-01") -> list[dict]:
    out = []
    for row in rows:
        kind, clock, *pos = row
        event = {"session_id": sid, "type": kind, "emitted_at": f"{day}T{clock}Z"}
        if kind.startswith("seek"):
            event["seek_from"], event["seek_to"] = pos
        else:
            event["at"] = pos[0]
        out.append(event)
    return out


def tiny_world() -> World:
    """Five sessions on 2024-06-01 (s4 is older), with these truths (default window):

    =========  ====  =====  =====  ===  ===========  ======  ==========  =========
    session    play  ready  start  end  watch (s)    view-5  load (ms)   lifetime
    =========  ====  =====  =====  ===  ===========  ======  ==========  =========
    s1 v1 FR   1     1      1      1    60+60=120    10:00:10  1000      10:00-10:10
    s2 v1 US   2     2      2      0    590+295=885  10:05:15  2000      10:05-10:20
    s3 l1 DE   1     2      1      0    1+2=3        -          1000      11:00-11:30
    s5 v1 FR*  1     1      1      0    10           10:08:07  1000      10:08-10:12
    s4 v2 FR   1     1      1      1    (2024-05-20, outside the last day)
    =========  ====  =====  =====  ===  ===========  ======  ==========  =========

    ``*`` s5 is the same viewer as s1 (same location, device, os and client).
    """
    videos = [
        {"videoId": "vi1", "title": "One", "tags": ["a", "b"], "metadata": []},
        {"videoId": "vi2", "title": "Two", "tags": ["b"], "metadata": []},
    ]
    sessions = [
        _session("s1", "10:00:00", "10:10:00", video_id="vi1"),
        _session("s2", "10:05:00", "10:20:00", video_id="vi1", location_country="United States",
                 location_city="Austin", device_type="mobile", device_vendor="Apple",
                 os_name="iOS", client_name="Safari"),
        _session("s3", "11:00:00", "11:30:00", live_stream_id="li1", location_country="Germany",
                 location_city="Berlin", device_type="tablet", device_vendor="Samsung",
                 os_name="Android", client_name="Chrome", referrer_url="unknown"),
        _session("s5", "10:08:00", "10:12:00", video_id="vi1"),
        _session("s4", "2024-05-20T08:00:00Z", "2024-05-20T08:05:00Z", video_id="vi2",
                 os_name="Mac OS X", client_name="Chrome"),
    ]  # fmt: skip
    events = [
        *_events("s1", [("ready", "10:00:01", 0), ("play", "10:00:05", 0),
                        ("pause", "10:01:05", 60), ("resume", "10:02:00", 120),
                        ("seek.forward", "10:02:00", 60, 120), ("end", "10:03:00", 180)]),
        *_events("s2", [("ready", "10:05:02", 0), ("play", "10:05:10", 0),
                        ("ready", "10:15:00", 0), ("play", "10:15:05", 0)]),
        *_events("s3", [("ready", "11:00:01", 0), ("play", "11:00:03", 0),
                        ("pause", "11:00:04", 1), ("resume", "11:00:04", 1),
                        ("pause", "11:00:06", 3), ("ready", "11:10:00", 0)]),
        *_events("s5", [("ready", "10:08:01", 0), ("play", "10:08:02", 0),
                        ("pause", "10:08:12", 10)]),
        *_events("s4", [("ready", "08:00:01", 0), ("play", "08:00:02", 0),
                        ("end", "08:01:00", 58)], day="2024-05-20"),
    ]  # fmt: skip
    # The simulator's column order: live_stream_id right after video_id.
    names = list(SESSION_COLUMNS)
    names.insert(names.index("video_id") + 1, "live_stream_id")
    session_columns = {n: SESSION_COLUMNS.get(n, "str") for n in names}
    return World(
        seed=0,
        now=NOW,
        videos=videos,
        video_status={v["videoId"]: {"encoding": {"metadata": {"duration": 180}}} for v in videos},
        live_streams=[{"liveStreamId": "li1", "name": "Live", "restreams": []}],
        players=[],
        upload_tokens=[],
        webhooks=[],
        captions={},
        chapters={},
        chapter_vtt={},
        sessions=conform(pd.DataFrame(sessions), session_columns),
        events=conform(pd.DataFrame(events), EVENT_COLUMNS),
        truth=empty_frame({k: v for k, v in SEGMENT_COLUMNS.items()}),
    )


@pytest.fixture(scope="module")
def tiny() -> World:
    return tiny_world()


def ask(world: World, endpoint: str, metric: str, second: str | None = None, **params: Any):
    query = {k: (v if isinstance(v, list) else [str(v)]) for k, v in params.items()}
    q = parse_query(endpoint, metric, second, query, now=world.now)
    return compute(build_facts(world), q)


def value(world: World, metric: str, aggregation: str, **params: Any) -> float:
    return ask(world, "metrics", metric, aggregation, **params)["data"]


def buckets(world: World, metric: str, breakdown: str, **params: Any) -> dict[str, float]:
    answer = ask(world, "buckets", metric, breakdown, **params)
    return {row["dimensionValue"]: row["metricValue"] for row in answer["data"]}


# --------------------------------------------------------------------------- exact numbers
def test_counts_of_the_tiny_world(tiny: World) -> None:
    assert value(tiny, "play", "count") == 5
    assert value(tiny, "impression", "count") == 6
    assert value(tiny, "start", "count") == 5
    assert value(tiny, "end", "count") == 1
    assert value(tiny, "play", "rate") == pytest.approx(5 / 6)
    assert value(tiny, "play", "total") == 6  # all time: s4 too
    # A window that holds s4 only.
    old = {"from": "2024-05-20T00:00:00Z", "to": "2024-05-21T00:00:00Z"}
    assert value(tiny, "play", "count", **old) == 1
    assert value(tiny, "end", "count", **old) == 1


def test_watch_time_views_and_impression_time(tiny: World) -> None:
    # Seeks do not stop playback; a ready closes it; an unclosed stretch ends at endedAt.
    assert value(tiny, "watch-time", "sum") == 120 + 885 + 3 + 10
    assert value(tiny, "watch-time", "average") == pytest.approx((120 + 885 + 3 + 10) / 4)
    # Clipped to the window: from 10:02:00 to 10:06:00, s1 watches 10:02-10:03 and s2
    # 10:05:10-10:06.
    window = {"from": "2024-06-01T10:02:00Z", "to": "2024-06-01T10:06:00Z"}
    assert value(tiny, "watch-time", "sum", **window) == 60 + 50
    assert value(tiny, "view", "count") == 3  # 5 s: s1, s2, s5
    assert value(tiny, "view", "count", viewDuration="3s") == 4  # s3 reaches 3 s
    assert value(tiny, "view", "count", viewDuration="30s") == 2
    assert value(tiny, "view", "count", unique="true") == 2  # s1 and s5: one viewer
    assert value(tiny, "impression-time", "sum") == 5000
    assert value(tiny, "impression-time", "average") == 1250
    context = ask(tiny, "metrics", "view", "count", viewDuration="10s", unique="true")
    assert context["context"]["metric"] == "unique-view-10"


def test_concurrent_viewers(tiny: World) -> None:
    assert value(tiny, "ccv", "peak") == 3  # s1, s2, s5 from 10:08 to 10:10
    assert value(tiny, "ccv", "peak", unique="true") == 2  # s1 and s5 are one viewer
    assert value(tiny, "ccv", "live") == 0  # nobody in the 20 s before now
    assert value(tiny, "ccv", "live", to="2024-06-01T10:09:00Z") == 3
    average = buckets(tiny, "ccv-average", "media-type")
    day = 86400
    assert average["video"] == pytest.approx((600 + 900 + 240) / day)
    assert average["live-stream"] == pytest.approx(1800 / day)
    peaks = ask(tiny, "timeseries", "ccv-peak")["data"]
    assert [(p["emittedAt"], p["metricValue"]) for p in peaks] == [
        ("2024-06-01T10:00:00+00:00", 3),
        ("2024-06-01T11:00:00+00:00", 1),
    ]


def test_breakdowns_and_filters(tiny: World) -> None:
    assert buckets(tiny, "play", "country") == {"FR": 2, "US": 2, "DE": 1}
    assert buckets(tiny, "play", "continent") == {"EU": 3, "NA": 2}
    assert buckets(tiny, "play", "device-type") == {"computer": 2, "phone": 2, "tablet": 1}
    assert buckets(tiny, "play", "operating-system") == {"windows": 2, "ios": 2, "android": 1}
    assert buckets(tiny, "play", "browser") == {"firefox": 2, "safari": 2, "chrome": 1}
    assert buckets(tiny, "play", "media-type") == {"video": 4, "live-stream": 1}
    assert buckets(tiny, "play", "media-id") == {"vi1": 4, "li1": 1}
    assert buckets(tiny, "impression", "referrer") == {"https://www.google.com/": 4, "": 2}
    assert buckets(tiny, "play-total", "media-id") == {"vi1": 4, "li1": 1, "vi2": 1}
    assert buckets(tiny, "play-rate", "media-id") == {"vi1": 1.0, "li1": 0.5}
    assert value(tiny, "play", "count", **{"filterBy[country]": ["FR", "DE"]}) == 3
    assert value(tiny, "play", "count", **{"filterBy[country][]": ["fr"]}) == 2  # case folded
    assert value(tiny, "play", "count", **{"filterBy[deviceType]": ["phone"]}) == 2
    assert value(tiny, "play", "count", **{"filterBy[tag]": "a"}) == 4
    assert value(tiny, "play", "count", **{"filterBy[tag]": "A"}) == 0  # tags are case-sensitive
    assert value(tiny, "play", "count", **{"filterBy[referrer]": [""]}) == 1
    assert (
        value(tiny, "play", "count", **{"filterBy[referrer]": ["https%3A%2F%2Fwww.google.com%2F"]})
        == 4
    )
    assert value(tiny, "play", "total", **{"filterBy[mediaId]": ["vi2"]}) == 1
    assert value(tiny, "play", "total", **{"filterBy[mediaType]": "live-stream"}) == 1
    assert buckets(tiny, "play", "country", **{"filterBy[continent]": ["EU"]}) == {"FR": 2, "DE": 1}


def test_timeseries_and_sorting(tiny: World) -> None:
    plays = ask(tiny, "timeseries", "play")
    assert plays["context"]["interval"] == "hour"
    assert [(p["emittedAt"], p["metricValue"]) for p in plays["data"]] == [
        ("2024-06-01T10:00:00+00:00", 4),
        ("2024-06-01T11:00:00+00:00", 1),
    ]
    by_value = ask(tiny, "timeseries", "play", sortBy="metricValue", sortOrder="asc")["data"]
    assert [p["metricValue"] for p in by_value] == [1, 4]
    days = ask(tiny, "timeseries", "play", **{"from": "2024-05-15T00:00:00Z"})
    assert days["context"]["interval"] == "day"
    assert [(p["emittedAt"], p["metricValue"]) for p in days["data"]] == [
        ("2024-05-20T00:00:00+00:00", 1),
        ("2024-06-01T00:00:00+00:00", 5),
    ]
    minutes = ask(tiny, "timeseries", "start", interval="minute",
                  **{"from": "2024-06-01T10:00:00Z", "to": "2024-06-01T10:30:00Z"})  # fmt: skip
    assert [p["emittedAt"][11:16] for p in minutes["data"]] == ["10:00", "10:05", "10:08", "10:15"]
    rows = ask(tiny, "buckets", "play", "country", sortBy="dimensionValue", sortOrder="desc")
    assert [r["dimensionValue"] for r in rows["data"]] == ["US", "FR", "DE"]
    default = ask(tiny, "buckets", "play", "country")["data"]
    assert [r["dimensionValue"] for r in default] == ["FR", "US", "DE"]  # value desc, name asc


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("endpoint", "metric", "second", "query", "name", "detail"),
    [
        ("metrics", "play", "peak", {}, "aggregation", '"count", "rate", "total"'),
        ("metrics", "ccv", "count", {}, "aggregation", '"peak", "live"'),
        ("metrics", "views", "count", {}, "metric", '"watch-time"'),
        ("buckets", "watch-time", "country", {}, "metric", '"play-total"'),
        ("buckets", "play", "city", {}, "breakdown", '"operating-system"'),
        ("buckets", "play-total", "country", {}, "breakdown", '"media-id"'),
        ("timeseries", "play-total", None, {}, "metric", '"ccv-average"'),
        ("metrics", "play", "count", {"unique": ["true"]}, "unique", "ccv and view"),
        ("buckets", "play", "country", {"unique": ["true"]}, "unique", "ccv-peak"),
        ("metrics", "view", "count", {"viewDuration": ["7s"]}, "viewDuration", '"3s"'),
        ("metrics", "play", "count", {"viewDuration": ["5s"]}, "viewDuration", "view metric"),
        ("metrics", "play", "count", {"from": ["2024-04-01T00:00:00Z"]}, "from", "30 days"),
        ("metrics", "play", "count", {"from": ["2024-06-01T12:00:00Z"]}, "from", "before"),
        ("metrics", "play", "count", {"to": ["soon"]}, "to", "ATOM"),
        ("metrics", "play", "count", {"filterBy[mediaId][]": ["vi1"]}, "filterBy[mediaId]",
         "play/total"),
        ("metrics", "play", "count", {"filterBy[continent][]": ["EA"]}, "filterBy[continent]",
         '"EU"'),
        ("metrics", "play", "total", {"filterBy[mediaType]": ["movie"]}, "filterBy[mediaType]",
         "live-stream"),
        ("metrics", "play", "count", {"filterBy[tag]": ["a", "b"]}, "filterBy[tag]", "single"),
        ("metrics", "play", "count", {"filterBy[city]": ["Paris"]}, "filterBy[city]",
         '"operatingSystem"'),
        ("metrics", "play", "count", {"currentPage": ["2"]}, "currentPage", "not expected"),
        ("timeseries", "play", None, {"interval": ["minute"]}, "interval", "60 minutes"),
        ("timeseries", "play", None, {"interval": ["second"]}, "interval", '"minute"'),
        ("timeseries", "play", None, {"sortBy": ["dimensionValue"]}, "sortBy", '"emittedAt"'),
        ("buckets", "play", "country", {"sortOrder": ["up"]}, "sortOrder", '"asc"'),
        ("metrics", "play", "count", {"unique": ["yes"]}, "unique", '"true"'),
    ],
)  # fmt: skip
def test_invalid_requests_are_refused_with_what_is_valid(
    endpoint: str,
    metric: str,
    second: str | None,
    query: dict[str, list[str]],
    name: str,
    detail: str,
) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(endpoint, metric, second, query, now=NOW)
    assert info.value.name == name
    assert detail in info.value.detail
    problem = info.value.problem()
    assert problem["status"] == 400 and problem["name"] == name and problem["title"]


def test_defaults_of_the_window() -> None:
    q = parse_query("metrics", "play", "count", {}, now=NOW)
    assert (q.start, q.end) == (NOW - pd.Timedelta(days=1), NOW)
    q = parse_query("metrics", "play", "count", {"to": ["2024-05-20T10:00:00+02:00"]}, now=NOW)
    assert q.end == pd.Timestamp("2024-05-20T08:00:00Z")
    assert q.start == q.end - pd.Timedelta(days=1)
    q = parse_query("timeseries", "play", None, {"from": ["2024-05-29T12:00:00Z"]}, now=NOW)
    assert q.interval == "day"  # more than two days
    q = parse_query("timeseries", "play", None, {"from": ["2024-05-30T12:00:00Z"]}, now=NOW)
    assert q.interval == "hour"  # two days exactly


# --------------------------------------------------------------------------- simulated world
@pytest.fixture(scope="module")
def sim(sandbox_world: World) -> dict[str, Any]:
    """Counts straight from the simulated world's events (no sandbox code)."""
    world = sandbox_world
    ev = world.events.copy()
    ev["session_id"] = ev["session_id"].astype(str)
    ev["type"] = ev["type"].astype(str)
    start, end = world.now - pd.Timedelta(days=1), world.now
    in_window = (ev["emitted_at"] >= start) & (ev["emitted_at"] < end)
    sessions = world.sessions.assign(session_id=world.sessions["session_id"].astype(str))
    country = {name: code for name, code, *_ in COUNTRIES}
    device = {legacy: data for legacy, data, *_ in DEVICES}
    dims = sessions.set_index("session_id")
    ev["country"] = ev["session_id"].map(dims["location_country"].astype(str).map(country))
    ev["device"] = ev["session_id"].map(dims["device_type"].astype(str).map(device))
    ev["media"] = ev["session_id"].map(
        dims["video_id"].astype(object).where(dims["video_id"].notna(), dims["live_stream_id"])
    )
    # Playback = readies so far in the session, in listed order.
    ev["playback"] = (ev["type"] == "ready").astype(int).groupby(ev["session_id"]).cumsum()
    plays = ev[ev["type"] == "play"]
    first_plays = plays[~plays.duplicated(["session_id", "playback"])]
    return {"ev": ev, "in_window": in_window, "first_plays": first_plays}


def test_simulated_counts_agree_with_the_events(sandbox_world: World, sim: dict) -> None:
    ev, w = sim["ev"], sim["in_window"]
    for metric, kind in (("play", "play"), ("impression", "ready"), ("end", "end")):
        expected = int(((ev["type"] == kind) & w).sum())
        assert value(sandbox_world, metric, "count") == expected > 0
    fp = sim["first_plays"]
    starts = int((fp["emitted_at"] >= sandbox_world.now - pd.Timedelta(days=1)).sum())
    assert value(sandbox_world, "start", "count") == starts
    assert 0 < starts <= value(sandbox_world, "play", "count")
    plays = int(((ev["type"] == "play") & w).sum())
    impressions = int(((ev["type"] == "ready") & w).sum())
    assert value(sandbox_world, "play", "rate") == pytest.approx(plays / impressions)
    assert value(sandbox_world, "play", "total") == int((ev["type"] == "play").sum())


def test_simulated_breakdowns_agree_with_the_events(sandbox_world: World, sim: dict) -> None:
    ev, w = sim["ev"], sim["in_window"]
    plays = ev[(ev["type"] == "play") & w]
    assert buckets(sandbox_world, "play", "country") == plays["country"].value_counts().to_dict()
    assert buckets(sandbox_world, "play", "device-type") == (
        plays["device"].value_counts().to_dict()
    )
    assert buckets(sandbox_world, "play", "media-id") == plays["media"].value_counts().to_dict()
    fr = value(sandbox_world, "play", "count", **{"filterBy[country]": ["FR"]})
    assert fr == int((plays["country"] == "FR").sum()) > 0
    # Timeseries buckets add up to the metric, and each is the hour's count.
    series = ask(sandbox_world, "timeseries", "play")["data"]
    hourly = plays["emitted_at"].dt.floor("h").value_counts()
    assert {pd.Timestamp(p["emittedAt"]): p["metricValue"] for p in series} == hourly.to_dict()
    assert sum(p["metricValue"] for p in series) == len(plays)
    # Concurrency never exceeds the sessions alive, and its average is below its peak.
    peak = value(sandbox_world, "ccv", "peak")
    alive = sandbox_world.sessions
    overlapping = (alive["loaded_at"] < sandbox_world.now) & (
        alive["ended_at"] > sandbox_world.now - pd.Timedelta(days=1)
    )
    assert 0 < peak <= int(overlapping.sum())
    average = ask(sandbox_world, "timeseries", "ccv-average")["data"]
    assert all(0 < p["metricValue"] <= peak for p in average)
    assert value(sandbox_world, "ccv", "peak", unique="true") <= peak
    assert value(sandbox_world, "view", "count", viewDuration="30s") <= value(
        sandbox_world, "view", "count", viewDuration="3s"
    )


@pytest.fixture(scope="module")
def tiny_server(tiny: World) -> Iterator[Sandbox]:
    with serve(tiny) as sb:
        yield sb


def test_http_answers_are_the_computed_ones(tiny_server: Sandbox, tiny: World) -> None:
    auth = (tiny_server.api_key, "")
    r = requests.get(
        tiny_server.url("/data/metrics/play/count"),
        params={"filterBy[country][]": ["FR", "DE"], "from": "2024-06-01T00:00:00+00:00"},
        auth=auth,
    )
    assert r.status_code == 200
    assert r.json() == {
        "context": {
            "metric": "play",
            "aggregation": "count",
            "timeframe": {"from": "2024-06-01T00:00:00+00:00", "to": "2024-06-01T12:00:00+00:00"},
        },
        "data": 3,
    }
    # An unencoded '+' in from= arrives as a space: still read as an offset.
    r = requests.get(
        tiny_server.url("/data/metrics/play/count") + "?from=2024-06-01T11:00:00+01:00",
        auth=auth,
    )
    assert r.json()["context"]["timeframe"]["from"] == "2024-06-01T10:00:00+00:00"
    r = requests.get(
        tiny_server.url("/data/buckets/play/country"), params={"pageSize": 2}, auth=auth
    )
    body = r.json()
    assert [d["dimensionValue"] for d in body["data"]] == ["FR", "US"]
    assert body["pagination"]["itemsTotal"] == 3 and body["pagination"]["pagesTotal"] == 2
    nxt = next(link["uri"] for link in body["pagination"]["links"] if link["rel"] == "next")
    assert nxt.startswith("/data/buckets/play/country?")
    page2 = requests.get(tiny_server.base_url + nxt, auth=auth).json()
    assert [d["dimensionValue"] for d in page2["data"]] == ["DE"]


def test_legacy_and_data_endpoints_describe_one_world(tiny_server: Sandbox) -> None:
    auth = (tiny_server.api_key, "")
    events = []
    for vid in ("vi1", "vi2"):
        sessions = requests.get(
            tiny_server.url(f"/analytics/videos/{vid}"), params={"period": "2024-06-01"}, auth=auth
        ).json()["data"]
        for s in sessions:
            sid = s["session"]["sessionId"]
            events += requests.get(
                tiny_server.url(f"/analytics/sessions/{sid}/events"), auth=auth
            ).json()["data"]
    video_plays = sum(e["type"] == "play" for e in events)
    media = requests.get(
        tiny_server.url("/data/buckets/play/media-type"),
        params={"from": "2024-06-01T00:00:00Z"},
        auth=auth,
    ).json()["data"]
    assert {m["dimensionValue"]: m["metricValue"] for m in media}["video"] == video_plays == 4


# --------------------------------------------------------------------------- saved worlds
def _assert_same_world(a: World, b: World) -> None:
    assert (a.seed, a.now) == (b.seed, b.now)
    for name in ("videos", "video_status", "live_streams", "players", "upload_tokens",
                 "webhooks", "captions", "chapters", "chapter_vtt"):  # fmt: skip
        assert getattr(a, name) == getattr(b, name), name
    for name in ("sessions", "events", "truth"):
        left, right = getattr(a, name), getattr(b, name)
        assert list(left.columns) == list(right.columns), name
        pd.testing.assert_frame_equal(
            left.reset_index(drop=True),
            right.reset_index(drop=True),
            check_categorical=False,
            check_dtype=False,
            obj=name,
        )
        contract = {"sessions": SESSION_COLUMNS, "events": EVENT_COLUMNS}.get(name, {})
        for column in contract:
            if column in left and column in right and column != "metadata":
                assert str(left[column].dtype) == str(right[column].dtype), (name, column)


def test_save_and_load_round_trip(tmp_path: Path, tiny: World) -> None:
    from apivideo_insights.sandbox import simulate

    simulated = simulate(seed=3, now=NOW, videos=3, live_streams=1, sessions=150)
    for world in (tiny, simulated):
        target = tmp_path / f"w{world.seed}-{len(world.sessions)}"
        save_world(world, target)
        _assert_same_world(world, load_world(target))


def test_saved_pages_are_api_pages(tmp_path: Path, tiny: World) -> None:
    import json

    save_world(tiny, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"]["sessions"] == 5 and manifest["counts"]["events"] == 22
    page = json.loads((tmp_path / "analytics/sessions/s1/events/page-001.json").read_text())
    assert page["data"][4] == {
        "type": "seek.forward",
        "emittedAt": "2024-06-01T10:02:00.000Z",
        "from": 60,
        "to": 120,
    }
    assert page["pagination"]["itemsTotal"] == 6
    for name in manifest["files"]:
        assert (tmp_path / name).is_file()


def test_load_world_refuses_other_directories(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="save_world"):
        load_world(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="save_world"):
        load_world(tmp_path)


def test_the_shipped_world_is_small_and_loads() -> None:
    root = ROOT / "data" / "world"
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 2_000_000
    world = load_world(root)
    assert (world.seed, world.now) == (SHIPPED_WORLD["seed"], pd.Timestamp(SHIPPED_WORLD["now"]))
    assert len(world.sessions) == SHIPPED_WORLD["sessions"]
    assert len(world.videos) == SHIPPED_WORLD["videos"]
    assert len(world.events) and len(world.truth)
    # Its /data answers have data in the default window.
    assert value(world, "play", "count") > 0
