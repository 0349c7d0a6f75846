"""The HTML report: self-contained, escaped, built from frames or through a client."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

import apivideo_insights as avi
from apivideo_insights.report import CSP, ReportData, auto_bin_size, render_html

#: Payloads that would run script or load something if a report put them in unescaped.
HOSTILE = (
    "<img src=x onerror=alert(1)>",
    "</script><script>window.__pwned=1;alert(1)</script>",
    '"><svg onload=alert(1)>',
    "<style>body{background:url(https://evil.example/x.png)}</style>",
)

NOW = "2024-06-01T12:00:00+00:00"
PERIOD = "2024-05-01/2024-06-01"


def hostile(world: avi.sandbox.World) -> avi.sandbox.World:
    """A copy of ``world`` whose user- and viewer-controlled text is hostile."""
    videos = []
    for i, video in enumerate(world.videos):
        video = dict(video)
        payload = HOSTILE[i % len(HOSTILE)]
        video["title"] = f"{payload} video {i}"
        video["tags"] = [payload, "ok"]
        video["metadata"] = [{"key": payload, "value": HOSTILE[(i + 1) % len(HOSTILE)]}]
        videos.append(video)
    sessions = world.sessions.copy()
    n = len(sessions)
    sessions["referrer_url"] = [HOSTILE[i % len(HOSTILE)] for i in range(n)]
    device = sessions["device_type"].astype(object)
    device[::7] = HOSTILE[0]  # a cohort label
    sessions["device_type"] = device.astype("category")
    sessions["metadata"] = [{HOSTILE[1]: HOSTILE[2]} for _ in range(n)]
    streams = [dict(s, name=HOSTILE[1] + " live") for s in world.live_streams]
    return dataclasses.replace(world, videos=videos, sessions=sessions, live_streams=streams)


@pytest.fixture(scope="module")
def small_world() -> avi.sandbox.World:
    return avi.sandbox.simulate(seed=7, now=NOW, videos=4, live_streams=1, sessions=500)


@pytest.fixture(scope="module")
def hostile_page(small_world, tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("report") / "hostile.html"
    avi.report(
        hostile(small_world),
        path,
        title=HOSTILE[1],
        cohort="device_type",
        dpi=60,
        period=HOSTILE[0],
    )
    return path, path.read_text("utf-8")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def assert_self_contained(page: str) -> None:
    tags = _tags(page)
    names = {t for t, _ in tags}
    assert not names & {"script", "link", "iframe", "object", "embed", "svg", "base", "form"}
    for tag, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for key in ("src", "href", "srcset", "poster", "action", "data"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith("data:image/png;base64,"), (tag, key, value[:60])
    images = [a for t, a in tags if t == "img"]
    assert images and all(a["src"].startswith("data:image/png;base64,") for a in images)
    assert "url(" not in page.split("<style>")[1].split("</style>")[0]
    csp = [a for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0]["content"] == CSP
    assert "script-src 'none'" in CSP and "default-src 'none'" in CSP


class TestSelfContained:
    def test_only_data_uris_and_inline_css(self, hostile_page):
        _, page = hostile_page
        assert_self_contained(page)

    def test_sections_present(self, hostile_page, small_world):
        _, page = hostile_page
        headings = (
            "Videos",
            "Engagement per video",
            "Cohorts: device_type",
            "Audience",
            "Top referrers",
            "Live streams",
        )
        for heading in headings:
            assert heading in page
        # One retention and one heatmap per video, an engagement chart, cohort and live charts.
        n_img = page.count("<img ")
        assert n_img >= 2 * len(small_world.videos) + 3

    def test_images_decode_as_png(self, hostile_page):
        import base64
        import re

        _, page = hostile_page
        uris = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
        for uri in uris:
            raw = base64.b64decode(uri, validate=True)
            assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 2000


class TestEscaping:
    def test_no_payload_survives_unescaped(self, hostile_page):
        _, page = hostile_page
        for payload in HOSTILE:
            assert payload not in page
        assert "<svg" not in page and "onerror=" not in page.replace("onerror=alert", "")
        assert page.count("<script") == 0

    def test_payloads_are_shown_as_text(self, hostile_page):
        _, page = hostile_page
        for payload in HOSTILE:
            assert str(escape(payload)) in page
        # Title, period, tags, metadata, cohort labels and live stream names all went through.
        assert page.count(str(escape(HOSTILE[1]))) >= 3

    def test_no_secret_in_report(self, sandbox, tmp_path):
        api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
        first = api.videos()["video_id"].iloc[0]
        path = avi.report(api, tmp_path / "r.html", videos=first, period=PERIOD, dpi=50)
        page = path.read_text("utf-8")
        assert sandbox.api_key not in page
        for stream in sandbox.world.live_streams:
            assert stream["streamKey"] not in page


class TestSources:
    def test_from_client_against_the_sandbox(self, sandbox, tmp_path):
        api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
        videos = api.videos()
        wanted = videos["video_id"].iloc[:2].tolist()
        path = avi.report(api, tmp_path / "sub" / "api.html", videos=wanted, period=PERIOD, dpi=50)
        assert path == tmp_path / "sub" / "api.html" and path.exists()
        page = path.read_text("utf-8")
        assert_self_contained(page)
        titles = videos.set_index("video_id")["title"]
        for vid in wanted:
            assert f"<h3>{escape(titles[vid])}</h3>" in page
        others = set(videos["video_id"]) - set(wanted)
        assert all(f'title="{vid}"' in page for vid in wanted)
        assert not any(vid in page for vid in others)

    def test_from_a_dict_of_frames_with_segments(self, tmp_path):
        rng = np.random.default_rng(0)
        n = 30
        start = rng.uniform(0, 20, n)
        segs = pd.DataFrame(
            {
                "session_id": pd.Categorical([f"ps{i}" for i in range(n)]),
                "playback": 0,
                "start": start,
                "end": start + rng.uniform(5, 60, n),
                "started_at": pd.Timestamp("2024-05-01", tz="UTC"),
                "ended_at": pd.Timestamp("2024-05-01 00:01", tz="UTC"),
                "estimated": False,
            }
        )
        sessions = pd.DataFrame(
            {
                "session_id": [f"ps{i}" for i in range(n)],
                "video_id": ["viA"] * 20 + ["viB"] * 10,
                "device_type": ["desktop", "mobile"] * 15,
            }
        )
        videos = pd.DataFrame({"video_id": ["viA", "viB"], "title": ["A <1>", "B & co"]})
        path = avi.report(
            {
                "videos": videos,
                "sessions": sessions,
                "segments": segs,
                "durations": {"viA": 80.0, "viB": 90.0},
            },
            tmp_path / "frames.html",
            dpi=50,
        )
        page = path.read_text("utf-8")
        assert "<h3>A &lt;1&gt;</h3>" in page and "<h3>B &amp; co</h3>" in page
        assert "Live streams" not in page  # no live sessions given: no live section
        assert "20 sessions" in page and "10 sessions" in page

    def test_from_report_data_only_some_videos(self, small_world, tmp_path):
        data = ReportData(
            videos=small_world.videos,
            sessions=small_world.sessions[small_world.sessions["video_id"].notna()],
            events=small_world.events,
            durations=small_world.durations,
        )
        first = small_world.videos[0]["videoId"]
        path = avi.report(data, tmp_path / "one.html", videos=[first], cohort=None, dpi=50)
        page = path.read_text("utf-8")
        assert page.count('<section class="card"><h3>') == 2  # the engagement table and one card
        assert "Cohorts" not in page

    def test_missing_duration_is_noted(self, small_world):
        events = small_world.events
        data = ReportData(
            videos=small_world.videos,
            sessions=small_world.sessions[small_world.sessions["video_id"].notna()],
            # Without 'end' events nothing says how long a video is.
            events=events[events["type"] != "end"],
        )
        page = render_html(data, max_videos=1, cohort=None, dpi=40)
        assert "no duration known, so its charts end at the furthest position" in page
        assert "duration unknown (watched up to " in page
        assert "have no section (max_videos=1" in page

    def test_end_events_give_the_duration(self, small_world):
        sessions = small_world.sessions[small_world.sessions["video_id"].notna()]
        data = ReportData(videos=small_world.videos, sessions=sessions, events=small_world.events)
        page = render_html(data, max_videos=4, cohort=None, dpi=40)
        assert "no duration known" not in page and "duration unknown" not in page

    def test_videos_without_data_say_not_loaded(self, small_world, tmp_path):
        """One video's frames given: the others are 'not loaded', not 'nobody watched'."""
        sessions = small_world.sessions
        first = small_world.videos[0]["videoId"]
        mine = sessions[sessions["video_id"] == first]
        events = small_world.events
        events = events[events["session_id"].isin(set(mine["session_id"]))]
        frames = {"videos": small_world.videos, "sessions": mine, "events": events}
        page = avi.report(frames, tmp_path / "one.html", dpi=40).read_text("utf-8")
        others = len(small_world.videos) - 1
        # One list of them, not a card each.
        # Engagement, the one video, the list of the others, the cohorts of the one video.
        assert page.count('<section class="card"><h3>') == 4
        assert f"Not loaded ({others} videos)" in page
        assert "Nobody watched" not in page
        # An unknown duration is never shown as a length ("0:01" once stood for it).
        assert "</span> · 0:01" not in page
        # No per-cohort NaN columns: the events were given, so impressions are counted.
        assert "impressions" in page

    def test_without_events_impressions_are_left_out(self, small_world, tmp_path):
        sessions = small_world.sessions[small_world.sessions["video_id"].notna()]
        segs = avi.segments(small_world.events, sessions=sessions, duration=small_world.durations)
        frames = {"videos": small_world.videos, "sessions": sessions, "segments": segs}
        page = avi.report(frames, tmp_path / "segs.html", dpi=40).read_text("utf-8")
        assert "Impressions and play rate are left out" in page
        assert "<th>impressions</th>" not in page and "<th>play rate</th>" not in page
        texts = [t.strip().lower() for t in re.findall(r">([^<]*)<", page)]
        assert "nan" not in texts and not any("nan%" in t for t in texts)

    def test_a_missing_endpoint_is_noted_not_fatal(self, sandbox, tmp_path):
        api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)

        class NoLiveAnalytics:
            """The real client, except that live stream analytics answer 404."""

            def __getattr__(self, name):
                return getattr(api, name)

            def live_stream_sessions(self, live_stream_id, period=None):
                raise avi.NotFoundError("no such endpoint <here>", status=404)

        first = api.videos()["video_id"].iloc[0]
        path = avi.report(
            NoLiveAnalytics(), tmp_path / "partial.html", videos=first, period=PERIOD, dpi=40
        )
        page = path.read_text("utf-8")
        assert "not loaded (no such endpoint &lt;here&gt;)" in page
        assert "Live streams" not in page and "<h3>" in page

    def test_events_alone_are_one_video(self, small_world, tmp_path):
        sessions = small_world.sessions
        first = small_world.videos[0]["videoId"]
        ids = set(sessions.loc[sessions["video_id"] == first, "session_id"])
        events = small_world.events[small_world.events["session_id"].astype(str).isin(ids)]
        events = events.drop(columns=[c for c in ("video_id",) if c in events.columns])
        page = avi.report({"events": events}, tmp_path / "ev.html", dpi=40).read_text("utf-8")
        assert "<h3>all</h3>" in page
        assert "every segment is taken as video all" in page


class TestText:
    def test_a_lone_surrogate_does_not_crash_the_report(self, small_world, tmp_path):
        """Text decoded badly upstream ("\ud800") is written as "?", not a crash (issue 11)."""
        videos = [dict(v) for v in small_world.videos]
        videos[0]["title"] = "broken \ud800 title"
        sessions = small_world.sessions.copy()
        # object dtype: a pyarrow string column cannot hold a surrogate at all.
        sessions["referrer_url"] = pd.Series(
            ["https://example.com/\udcff"] * len(sessions), index=sessions.index, dtype=object
        )
        world = dataclasses.replace(small_world, videos=videos, sessions=sessions)
        path = avi.report(world, tmp_path / "surrogate.html", dpi=40, cohort=None)
        page = path.read_bytes().decode("utf-8")  # valid UTF-8
        assert "broken ? title" in page and "https://example.com/?" in page

    def test_times_and_headers_read_plainly(self, hostile_page):
        _, page = hostile_page
        # Drop-offs, skip zones and hot spots are moments (m:ss), not bare seconds.
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
        moments = [c for c in cells if re.fullmatch(r"(\d+:\d\d(, )?)+", c)]
        assert moments, "no m:ss lists in the tables"
        assert not [c for c in cells if re.fullmatch(r"\d+\.0(, \d+\.0)*", c)]
        # Counters are behind a toggle, the notes above it are sentences.
        assert "<details><summary>Raw counters" in page
        notes = page.split("<h2>Data notes</h2>")[1].split("<details>")[0]
        assert "player events were left out" in notes and "redundant_close" not in notes


class TestArguments:
    def test_bad_source(self, tmp_path):
        with pytest.raises(TypeError, match="source must be a Client"):
            avi.report(42, tmp_path / "x.html")

    def test_unknown_dict_key(self, tmp_path):
        with pytest.raises(ValueError, match="unknown keys"):
            avi.report({"vids": []}, tmp_path / "x.html")

    def test_bad_bin_size_and_max_videos(self, tmp_path):
        with pytest.raises(ValueError, match="bin_size"):
            avi.report({}, tmp_path / "x.html", bin_size=0)
        with pytest.raises(ValueError, match="max_videos"):
            avi.report({}, tmp_path / "x.html", max_videos=0)
        assert not (tmp_path / "x.html").exists()

    def test_unknown_video(self, small_world, tmp_path):
        with pytest.raises(ValueError, match="no video with id 'viNope'"):
            avi.report(small_world, tmp_path / "x.html", videos="viNope")


def test_auto_bin_size():
    assert [auto_bin_size(d) for d in (30, 100, 101, 1800, 7200)] == [1.0, 1.0, 2.0, 30.0, 120.0]
    assert auto_bin_size(float("nan")) == 1.0
