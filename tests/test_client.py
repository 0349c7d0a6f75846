"""avi.connect and the Client loaders, end to end over loopback against the sandbox."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import io
import json
import threading
import warnings

import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights import _params, _wire, schema
from apivideo_insights._endpoints import ENDPOINTS
from apivideo_insights.sandbox import serve
from apivideo_insights.schema import EVENT_COLUMNS, LIVE_SESSION_COLUMNS, SESSION_COLUMNS

PERIOD = "2024-05-01/2024-06-01"  # sandbox_world's now is 2024-06-01T12:00Z


def _connect(sb, **kwargs):
    kwargs.setdefault("cache", None)
    kwargs.setdefault("progress", False)
    return avi.connect(sb.api_key, base_url=sb.base_url, **kwargs)


def _kinds(frame):
    """Dtypes, with categoricals compared by kind (their categories depend on the data)."""
    return {
        k: "category" if isinstance(v, pd.CategoricalDtype) else str(v)
        for k, v in frame.dtypes.items()
    }


@pytest.fixture
def busy_video(sandbox_world):
    counts = sandbox_world.sessions["video_id"].value_counts()
    return str(counts.index[0])


class TestConnect:
    def test_key_from_environment_and_masked_repr(self, monkeypatch, sandbox):
        monkeypatch.setenv("APIVIDEO_API_KEY", sandbox.api_key)
        monkeypatch.setenv("APIVIDEO_BASE_URL", sandbox.base_url)
        api = avi.connect(cache=None)
        text = repr(api)
        assert sandbox.base_url in text
        assert sandbox.api_key not in text
        assert "<hidden, account " in text
        assert len(api.videos()) == len(sandbox.world.videos)

    def test_no_key_says_what_to_do(self):
        with pytest.raises(ValueError, match="APIVIDEO_API_KEY"):
            avi.connect()

    def test_base_url_defaults(self, monkeypatch):
        assert avi.connect("k" * 20, cache=None).base_url == "https://ws.api.video"
        sandboxed = avi.connect("k" * 20, sandbox=True, cache=None)
        assert sandboxed.base_url == "https://sandbox.api.video"

    def test_default_cache_under_env_dir(self, tmp_path):
        api = avi.connect("k" * 20)
        assert api.cache_path is not None
        assert str(api.cache_path).startswith(str(tmp_path / "cache"))

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"max_workers": 0}, ValueError),
            ({"timeout": -1}, ValueError),
            ({"auth": "digest"}, ValueError),
            ({"base_url": "ftp://x"}, ValueError),
            ({"cache": 3}, TypeError),
            ({"progress": "yes"}, TypeError),
            ({"page_size": 500}, ValueError),
        ],
    )
    def test_bad_arguments(self, kwargs, error):
        with pytest.raises(error):
            avi.connect("k" * 20, **kwargs)

    def test_wrong_key_is_auth_error_without_the_key(self, sandbox):
        api = avi.connect("wrong-key-123456", base_url=sandbox.base_url, cache=None)
        with pytest.raises(avi.AuthError) as info:
            api.videos()
        assert "wrong-key-123456" not in str(info.value)
        assert info.value.status == 401

    def test_basic_auth(self, sandbox):
        api = _connect(sandbox, auth="basic")
        assert len(api.players()) == len(sandbox.world.players)
        assert not any(r.path.startswith("/auth") for r in sandbox.requests)


class TestLists:
    def test_videos_columns_and_values(self, sandbox):
        api = _connect(sandbox, page_size=5)  # several pages, absolute links
        videos = api.videos()
        assert list(videos.columns[: len(schema.VIDEO_COLUMNS)]) == list(schema.VIDEO_COLUMNS)
        world = sandbox.world.videos
        assert sorted(videos["video_id"]) == sorted(v["videoId"] for v in world)
        assert videos["video_id"].is_unique
        assert isinstance(videos["created_at"].dtype, pd.DatetimeTZDtype)
        first = next(v for v in world if v.get("metadata"))
        row = videos.set_index("video_id").loc[first["videoId"]]
        assert row["metadata"] == {m["key"]: m["value"] for m in first["metadata"]}
        assert videos.attrs["endpoint"] == "/videos"
        assert videos.attrs["pages"] >= 2

    def test_video_filters(self, sandbox):
        api = _connect(sandbox)
        tagged = next(v for v in sandbox.world.videos if v.get("tags"))
        tag = tagged["tags"][0]
        frame = api.videos(tags=[tag], sort_by="created_at", sort_order="desc")
        expected = {v["videoId"] for v in sandbox.world.videos if tag in v.get("tags", [])}
        assert set(frame["video_id"]) == expected
        assert frame["created_at"].is_monotonic_decreasing
        assert frame.attrs["params"]["tags[]"] == tag

    def test_unknown_filter_is_rejected_before_any_request(self, sandbox):
        api = _connect(sandbox)
        with pytest.raises(ValueError, match="sort_by"):
            api.videos(colour="red")
        with pytest.raises(ValueError, match="'title'"):
            api.videos(sort_by="duration")
        assert sandbox.requests == []

    def test_other_lists(self, sandbox):
        api = _connect(sandbox, page_size=1)  # relative links on /live-streams
        world = sandbox.world
        assert len(api.live_streams()) == len(world.live_streams)
        assert len(api.players()) == len(world.players)
        assert len(api.upload_tokens()) == len(world.upload_tokens)
        assert len(api.webhooks()) == len(world.webhooks)

    def test_status_captions_chapters(self, sandbox):
        api = _connect(sandbox)
        vid = next(v for v, c in sandbox.world.captions.items() if c)
        status = api.video_status(vid)
        assert len(status) == 1
        assert status.loc[0, "duration"] == sandbox.world.durations[vid]
        captions = api.captions(vid)
        assert set(captions["video_id"]) == {vid}
        assert len(captions) == len(sandbox.world.captions[vid])
        chapters = api.chapters(vid)
        assert len(chapters) == len(sandbox.world.chapters.get(vid, []))
        assert list(chapters.columns) == list(schema.CHAPTER_LIST_COLUMNS)

    def test_missing_video_is_not_found(self, sandbox):
        api = _connect(sandbox)
        with pytest.raises(avi.NotFoundError, match="check the id") as info:
            api.video_status("viDoesNotExist")
        assert info.value.status == 404
        assert "viDoesNotExist" in info.value.url


class TestSessions:
    def test_video_sessions_match_the_world(self, sandbox, busy_video):
        api = _connect(sandbox, page_size=10)
        sessions = api.video_sessions(busy_video, period=PERIOD)
        assert list(sessions.columns) == list(SESSION_COLUMNS)
        assert sessions.dtypes.to_dict() == {k: sessions[k].dtype for k in SESSION_COLUMNS}
        world = sandbox.world.sessions
        start, end = pd.Timestamp("2024-05-01", tz="UTC"), pd.Timestamp("2024-06-02", tz="UTC")
        mine = world[
            (world["video_id"] == busy_video)
            & (world["loaded_at"] >= start)
            & (world["loaded_at"] < end)
        ]
        assert sorted(sessions["session_id"]) == sorted(mine["session_id"])
        assert sessions["loaded_at"].dt.tz is not None
        assert all(isinstance(m, dict) for m in sessions["metadata"])
        assert sessions.attrs["params"] == {"period": PERIOD}

    def test_metadata_filter(self, sandbox, busy_video):
        api = _connect(sandbox)
        sessions = api.video_sessions(busy_video, period=PERIOD)
        with_meta = sessions[sessions["metadata"].map(bool)]
        key, value = next(iter(with_meta.iloc[0]["metadata"].items()))
        only = api.video_sessions(busy_video, period=PERIOD, metadata={key: value})
        assert 0 < len(only) <= len(sessions)
        assert all(m.get(key) == value for m in only["metadata"])

    def test_live_stream_sessions(self, sandbox):
        api = _connect(sandbox)
        world = sandbox.world.sessions
        live = world["live_stream_id"].dropna()
        lid = str(live.value_counts().index[0])
        sessions = api.live_stream_sessions(lid, period=PERIOD)
        assert list(sessions.columns) == list(LIVE_SESSION_COLUMNS)
        assert set(sessions["live_stream_id"]) == {lid}
        assert len(sessions) > 0

    @pytest.mark.parametrize(
        "period", ["2024-13", "2024-W60", "last week", "2024-05-10/2024-05-01"]
    )
    def test_bad_period_lists_the_forms_before_any_request(self, sandbox, period):
        api = _connect(sandbox)
        with pytest.raises(ValueError, match="ISO week") as info:
            api.video_sessions("vi1", period=period)
        assert "a/b" in str(info.value) or "range" in str(info.value)
        assert sandbox.requests == []

    def test_empty_answers_keep_columns_and_dtypes(self, sandbox, busy_video):
        api = _connect(sandbox)
        full = api.video_sessions(busy_video, period=PERIOD)
        empty = api.video_sessions(busy_video, period="2019")
        assert len(empty) == 0 and len(full) > 0
        assert _kinds(empty) == _kinds(full)
        assert _kinds(api.events([])) == _kinds(api.events(full["session_id"].iloc[:2]))
        assert _kinds(api.events(empty)) == _kinds(api.events(full.iloc[:2]))
        no_buckets = api.breakdown("play", "country", country="ZZ")
        assert len(no_buckets) == 0
        assert _kinds(no_buckets) == _kinds(api.breakdown("play", "country"))


class TestEvents:
    def test_events_match_the_world_and_carry_video_id(self, sandbox, busy_video):
        api = _connect(sandbox, page_size=20)
        sessions = api.video_sessions(busy_video, period=PERIOD)
        events = api.events(sessions)
        assert list(events.columns) == [*EVENT_COLUMNS, "video_id"]
        for name, dtype in EVENT_COLUMNS.items():
            assert events[name].dtype == dtype, name
        assert set(events["video_id"].astype(str)) == {busy_video}
        world = sandbox.world.events
        mine = world[world["session_id"].astype(str).isin(sessions["session_id"])]
        assert len(events) == len(mine)
        got = events.groupby("session_id", observed=True).size().sort_index()
        want = mine.groupby("session_id", observed=True).size().sort_index()
        assert got.to_dict() == want.to_dict()

    def test_session_events_one(self, sandbox):
        api = _connect(sandbox)
        sid = str(sandbox.world.events["session_id"].iloc[0])
        events = api.session_events(sid)
        assert set(events["session_id"].astype(str)) == {sid}
        seeks = events[events["type"].astype(str).str.startswith("seek")]
        assert seeks["at"].isna().all()

    def test_progress_bar_when_asked(self, sandbox, capsys):
        api = _connect(sandbox, progress=True)
        ids = sandbox.world.events["session_id"].astype(str).unique()[:8].tolist()
        api.events(ids)
        assert "events" in capsys.readouterr().err
        quiet = _connect(sandbox, progress=None)  # auto: not a terminal here
        quiet.events(ids)
        assert capsys.readouterr().err == ""

    def test_partial_failure_warns_and_returns_the_rest(self, sandbox):
        api = _connect(sandbox)
        ids = sandbox.world.events["session_id"].astype(str).unique()[:3].tolist()
        with pytest.warns(avi.PartialLoadWarning, match="psMissing"):
            events = api.events([*ids, "psMissing"])
        assert set(events["session_id"].astype(str)) == set(ids)
        assert list(events.attrs["failed"]) == ["psMissing"]

    def test_all_failing_raises(self, sandbox):
        api = _connect(sandbox)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(avi.NotFoundError):
                api.events(["psMissing1", "psMissing2"])

    def test_concurrent_and_sequential_loads_are_identical(self, sandbox, busy_video):
        one = _connect(sandbox, max_workers=1, page_size=7)
        many = _connect(sandbox, max_workers=8, page_size=7)
        sessions = one.video_sessions(busy_video, period=PERIOD)
        pd.testing.assert_frame_equal(sessions, many.video_sessions(busy_video, period=PERIOD))
        some = sessions.iloc[:40]
        pd.testing.assert_frame_equal(one.events(some), many.events(some))


class TestData:
    def test_metrics_breakdown_timeseries(self, sandbox):
        api = _connect(sandbox)
        total = api.metrics("play", "count")
        assert list(total.columns) == list(schema.METRIC_COLUMNS)
        by_country = api.breakdown("play", "country")
        assert list(by_country.columns) == list(schema.BREAKDOWN_COLUMNS)
        assert by_country["metric_value"].sum() == pytest.approx(total.loc[0, "value"])
        series = api.timeseries("play", interval="hour")
        assert series["emitted_at"].is_monotonic_increasing
        assert series["metric_value"].sum() >= total.loc[0, "value"]
        fr = api.metrics("play", "count", country="FR")
        assert fr.loc[0, "value"] == by_country.set_index("dimension_value").loc["FR"].iloc[0]

    def test_window_and_filters_are_sent(self, sandbox):
        api = _connect(sandbox)
        frame = api.breakdown(
            "play",
            "device-type",
            start="2024-05-30",
            end="2024-06-01",
            browser=["chrome", "firefox"],
        )
        params = frame.attrs["params"]
        assert params["from"] == "2024-05-30T00:00:00+00:00"
        assert params["filterBy[browser][]"] == ["chrome", "firefox"]

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda api: api.metrics("plays", "count"), "'play'"),
            (lambda api: api.metrics("play", "median"), "'count'"),
            (lambda api: api.breakdown("play", "city"), "'country'"),
            (lambda api: api.timeseries("play", interval="week"), "'hour'"),
            (lambda api: api.metrics("play", "count", colour="red"), "device_type"),
            (
                lambda api: api.metrics("play", "count", start="2024-06-02", end="2024-06-01"),
                "before",
            ),
        ],
    )
    def test_bad_arguments_fail_before_any_request(self, sandbox, call, message):
        api = _connect(sandbox)
        with pytest.raises(ValueError, match=message):
            call(api)
        assert sandbox.requests == []


class TestParse:
    """The pure parts: no server needed."""

    def test_missing_required_field_names_it(self):
        with pytest.raises(avi.SchemaError, match="videoId"):
            _wire.resource_frame(
                [{"title": "a"}], schema.VIDEO_COLUMNS, required=["video_id"], what="v"
            )

    def test_bad_rows_are_dropped_and_counted(self):
        items = [
            {"videoId": "vi1", "createdAt": "2024-01-01T00:00:00+00:00"},
            {"title": "no id"},
            {"videoId": "vi2", "createdAt": "yesterday"},
            "not an object",
        ]
        frame = _wire.resource_frame(
            items, schema.VIDEO_COLUMNS, required=["video_id"], what="videos"
        )
        assert frame["video_id"].tolist() == ["vi1"]
        assert frame.attrs["dropped"] == {
            "missing video_id": 1,
            "unparseable timestamp": 1,
            "not an object": 1,
        }

    def test_flatten_and_metadata(self):
        row = _wire.flatten(
            {
                "referrer": {"searchTerm": "x", "url": None},
                "metadata": [{"key": "a", "value": "1"}],
                "source": {"liveStream": {"liveStreamId": "li1"}},
            }
        )
        assert row == {
            "referrer_search_term": "x",
            "referrer_url": None,
            "metadata": {"a": "1"},
            "source_live_stream_live_stream_id": "li1",
        }

    def test_sessions_frame_from_spec_example(self):
        item = {
            "session": {
                "sessionId": "psEmFwGQUAXR2lFHj5nDOpy",
                "loadedAt": "2019-06-24T11:45:01.109Z",
                "endedAt": "2019-06-24T11:49:19.243Z",
                "metadata": [{"key": "Author", "value": "John Doe"}],
            },
            "location": {"country": "France", "city": "Paris"},
            "os": {"name": "Microsoft Windows", "shortname": "W10", "version": "Windows10"},
        }
        frame = _wire.session_frame([item], video_id="vi1")
        assert list(frame.columns) == list(SESSION_COLUMNS)
        row = frame.iloc[0]
        assert row["loaded_at"] == pd.Timestamp("2019-06-24T11:45:01.109Z")
        assert row["location_country"] == "France" and row["os_shortname"] == "W10"
        assert row["metadata"] == {"Author": "John Doe"}

    @pytest.mark.parametrize(
        ("period", "first", "after"),
        [
            ("2018-01-01", "2018-01-01", "2018-01-02"),
            ("2018-W01", "2018-01-01", "2018-01-08"),
            ("2018-12", "2018-12-01", "2019-01-01"),
            ("2018", "2018-01-01", "2019-01-01"),
            ("2018-01-01/2018-01-15", "2018-01-01", "2018-01-16"),
        ],
    )
    def test_period_forms(self, period, first, after):
        import datetime as dt

        text, a, b = _params.parse_period(period, today=dt.date(2024, 1, 1))
        assert text == period
        assert (a.isoformat(), b.isoformat()) == (first, after)

    def test_default_period_is_the_last_30_days(self):
        import datetime as dt

        text, a, b = _params.parse_period(None, today=dt.date(2024, 3, 31))
        assert text == "2024-03-02/2024-03-31"
        assert (b - a).days == 30

    def test_data_params(self):
        filters = {"country": "FR", "device_type": ["phone", "tablet"], "sort_by": "metric_value"}
        params, end = _params.data_params(
            "buckets",
            start="2024-05-01",
            end=pd.Timestamp("2024-05-02T02:00", tz="Europe/Paris"),
            filters=filters,
        )
        assert params == [
            ("from", "2024-05-01T00:00:00+00:00"),
            ("to", "2024-05-02T00:00:00+00:00"),
            ("filterBy[country]", "FR"),
            ("filterBy[deviceType][]", "phone"),
            ("filterBy[deviceType][]", "tablet"),
            ("sortBy", "metricValue"),
        ]
        assert end == pd.Timestamp("2024-05-02", tz="UTC")

    def test_list_params(self):
        params = _params.list_params(
            "videos",
            ENDPOINTS["videos"].filters,
            {"metadata": {"b": 2, "a": 1}, "tags": ["x", "y"], "live_stream_id": "li1"},
        )
        assert params == [
            ("liveStreamId", "li1"),
            ("metadata[a]", "1"),
            ("metadata[b]", "2"),
            ("tags[]", "x"),
            ("tags[]", "y"),
        ]


def test_an_aggregation_the_metric_does_not_take_is_refused_before_any_request(sandbox):
    api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None)
    sandbox.reset_requests()
    with pytest.raises(ValueError, match="'count', 'rate', 'total'"):
        api.metrics("play", "average")
    with pytest.raises(ValueError, match="'average', 'sum'"):
        api.metrics("watch-time", "count")
    assert sandbox.requests == []
    assert api.metrics("watch-time", "sum")["value"].notna().all()


class TestItems:
    """The single-item GETs: one-row frames with their list's columns."""

    @pytest.mark.parametrize(
        ("one", "many", "key"),
        [
            ("video", "videos", "video_id"),
            ("live_stream", "live_streams", "live_stream_id"),
            ("player", "players", "player_id"),
            ("upload_token", "upload_tokens", "token"),
            ("webhook", "webhooks", "webhook_id"),
        ],
    )
    def test_an_item_is_its_row_of_the_list(self, sandbox, one, many, key):
        api = _connect(sandbox)
        listed = getattr(api, many)()
        row = listed.iloc[[-1]].reset_index(drop=True)
        item = getattr(api, one)(row.loc[0, key])
        assert _kinds(item) == _kinds(listed)
        pd.testing.assert_frame_equal(item.astype(object), row.astype(object))
        assert item.attrs["endpoint"].endswith("/" + row.loc[0, key])
        assert item.attrs["requests"] == 1

    def test_caption_and_chapter_by_language(self, sandbox):
        api = _connect(sandbox)
        vid = next(v for v, c in sandbox.world.chapters.items() if c)
        lang = sandbox.world.chapters[vid][0]["language"]
        chapter = api.chapter(vid, lang)
        assert len(chapter) == 1 and chapter.loc[0, "language"] == lang
        assert list(chapter.columns) == list(api.chapters(vid).columns)
        vid = next(v for v, c in sandbox.world.captions.items() if c)
        lang = sandbox.world.captions[vid][0]["srclang"]
        caption = api.caption(vid, lang)
        assert (caption.loc[0, "video_id"], caption.loc[0, "srclang"]) == (vid, lang)
        assert _kinds(caption) == _kinds(api.captions(vid))

    def test_unknown_ids_are_not_found(self, sandbox):
        api = _connect(sandbox)
        vid = sandbox.world.videos[0]["videoId"]
        for call in (
            lambda: api.video("viNope"),
            lambda: api.live_stream("liNope"),
            lambda: api.player("plNope"),
            lambda: api.upload_token("toNope"),
            lambda: api.webhook("whNope"),
            lambda: api.caption(vid, "zz"),
            lambda: api.chapter("viNope", "en"),
        ):
            with pytest.raises(avi.NotFoundError):
                call()

    def test_account(self, sandbox):
        api = _connect(sandbox)
        account = api.account()
        assert list(account.columns) == list(schema.ACCOUNT_COLUMNS)
        assert len(account) == 1 and account.loc[0, "environment"] == "sandbox"
        assert account.loc[0, "quota_used"] == len(sandbox.world.videos)
        assert "stats.player_events" in account.loc[0, "features"]
        assert account.attrs["endpoint"] == "/account"


def test_session_ids_with_slashes_are_quoted_as_one_path_segment(sandbox_world):
    on_video = sandbox_world.sessions.dropna(subset=["video_id"])["session_id"]
    events = sandbox_world.events
    counts = events[events["session_id"].astype(str).isin(on_video)]["session_id"]
    sid = str(counts.astype(str).value_counts().index[0])
    odd = "ps/odd?x=1#%2F"
    sessions = sandbox_world.sessions.copy()
    sessions["session_id"] = sessions["session_id"].replace({sid: odd})
    events = sandbox_world.events.copy()
    events["session_id"] = events["session_id"].astype(str).replace({sid: odd})
    events["session_id"] = events["session_id"].astype("category")
    world = dataclasses.replace(sandbox_world, sessions=sessions, events=events)
    with serve(world) as sb:
        api = _connect(sb, page_size=3)  # several pages: the next links must stay quoted
        got = api.session_events(odd)
        assert set(got["session_id"].astype(str)) == {odd}
        assert len(got) == int((events["session_id"] == odd).sum()) > 3
        vid = sessions.loc[sessions["session_id"] == odd, "video_id"].iloc[0]
        mine = api.video_sessions(vid, period="2019/2024")
        assert odd in set(mine["session_id"])
        assert odd in set(api.events(mine)["session_id"].astype(str))


class TestFuturePeriods:
    def test_a_period_in_the_future_warns_that_it_returns_nothing(self, sandbox, busy_video):
        api = _connect(sandbox)
        with pytest.warns(UserWarning, match="starts after today"):
            assert len(api.video_sessions(busy_video, period="2099-01")) == 0
        with pytest.warns(UserWarning, match="nothing after today"):
            api.video_sessions(busy_video, period="2024-05-01/2099-01-01")

    def test_this_month_and_the_default_do_not_warn(self, sandbox, busy_video):
        api = _connect(sandbox)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            api.video_sessions(busy_video)
            api.video_sessions(busy_video, period=pd.Timestamp.now(tz="UTC").strftime("%Y-%m"))

    def test_a_data_window_starting_in_the_future_warns(self, sandbox):
        api = _connect(sandbox)
        with pytest.warns(UserWarning, match="in the future"):
            api.metrics("play", "count", start="2099-01-01", end="2099-01-02")


# ------------------------------------------------------------------ a stand-in server


@contextlib.contextmanager
def _stand_in(bodies):
    """A tiny server on 127.0.0.1 answering each path with its raw JSON text (Basic auth)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = bodies.get(self.path.split("?")[0])
            data = (body or '{"status": 404, "title": "Not found"}').encode("ascii")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _one_page(path, items):
    pagination = {
        "currentPage": 1,
        "pageSize": 100,
        "pagesTotal": 1,
        "itemsTotal": len(items),
        "currentPageItems": len(items),
        "links": [{"rel": "self", "uri": f"{path}?currentPage=1&pageSize=100"}],
    }
    return json.dumps({"data": items, "pagination": pagination})  # ensure_ascii: \ud800 text


def test_lone_surrogates_are_replaced_and_counted_not_fatal():
    videos = [
        {"videoId": "vi1", "title": "ok", "tags": ["a"]},
        {"videoId": "vi2", "title": "bad \ud800 title", "tags": ["x\udc00"]},
        {"videoId": "vi3", "metadata": [{"key": "k", "value": "\ud800"}]},
    ]
    session = {
        "session": {"sessionId": "ps1", "loadedAt": "2024-05-01T10:00:00Z"},
        "referrer": {"url": "https://example.test/\ud800"},
    }
    bodies = {
        "/videos": _one_page("/videos", videos),
        "/analytics/videos/vi2": _one_page("/analytics/videos/vi2", [session]),
    }
    with _stand_in(bodies) as url:
        api = avi.connect("k" * 20, base_url=url, cache=None, auth="basic", progress=False)
        frame = api.videos()
        sessions = api.video_sessions("vi2", period="2024-05")
    assert frame["video_id"].tolist() == ["vi1", "vi2", "vi3"]
    assert frame.loc[1, "title"] == "bad \ufffd title"
    assert frame.loc[1, "tags"] == ["x\ufffd"]
    assert frame.loc[2, "metadata"] == {"k": "\ufffd"}
    assert frame.attrs["replaced_text"] == {"title": 1, "tags": 1, "metadata": 1}
    assert sessions.loc[0, "referrer_url"] == "https://example.test/\ufffd"
    assert sessions.attrs["replaced_text"] == {"referrer_url": 1}
    frame.to_parquet(io.BytesIO())  # nothing left that pyarrow refuses
