"""The ipywidgets dashboard, driven without a browser or kernel.

Widgets work in plain pytest (ipywidgets 8 uses a dummy comm); the dashboard writes its
plots into ``Output.outputs`` directly, so the tests read them there.
"""

from __future__ import annotations

import datetime as dt
import importlib

import ipywidgets as widgets
import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights.dashboard import Dashboard

NOW = "2024-06-01T12:00:00+00:00"
PERIOD = "2024-05-01/2024-06-01"


@pytest.fixture(scope="module")
def world():
    return avi.sandbox.simulate(seed=5, now=NOW, videos=3, live_streams=0, sessions=400)


@pytest.fixture(scope="module")
def frames(world):
    sessions = world.sessions[world.sessions["video_id"].notna()].reset_index(drop=True)
    sessions["metadata"] = [{"plan": "free" if i % 3 else "pro"} for i in range(len(sessions))]
    ids = set(sessions["session_id"])
    events = world.events[world.events["session_id"].astype(str).isin(ids)]
    segs = avi.segments(events, duration=world.durations, sessions=sessions)
    return {
        "videos": world.videos,
        "sessions": sessions,
        "segments": segs,
        "durations": world.durations,
    }


def _png(ui: Dashboard) -> str:
    (first, *_) = ui.out.outputs
    return first["data"]["image/png"]


class TestFromFrames:
    def test_is_a_vbox_with_a_first_plot(self, frames, world):
        ui = avi.dashboard(**frames)
        assert isinstance(ui, widgets.VBox)
        assert len(ui.out.outputs) == 1 and _png(ui)
        assert ui.view.value == "retention"
        assert list(ui.result.columns[:4]) == ["viewers", "views", "retention", "rewatch"]
        labels = [label for label, _ in ui.video.options]
        assert labels == [f"{v['title']} ({v['videoId']})" for v in world.videos]

    def test_changing_the_view_redraws(self, frames):
        ui = avi.dashboard(**frames)
        before = _png(ui)
        ui.view.value = "heatmap"
        assert _png(ui) != before
        assert ui.result.index.name == "session_id"
        ui.view.value = "engagement"
        html = next(o for o in ui.out.outputs if "text/html" in o["data"])["data"]["text/html"]
        assert "<table>" in html and "avg share watched" in html
        assert len(ui.result) == 1

    def test_cohort_split(self, frames):
        ui = avi.dashboard(**frames)
        ui.cohort.value = "device_type"
        assert ui.result.index.names == ["device_type", "position"]
        cohorts = set(ui.result.index.get_level_values(0))
        vid = ui.video.value
        sess = frames["sessions"]
        played = set(frames["segments"]["session_id"].astype(str))
        expected = sess[(sess["video_id"] == vid) & sess["session_id"].isin(played)]
        assert cohorts == set(expected["device_type"].dropna().astype(str))
        ui.view.value = "engagement"
        assert "device_type" in ui.result.index.names

    def test_metadata_keys_offered_as_cohorts(self, frames):
        ui = avi.dashboard(**frames)
        assert ("metadata: plan", "metadata.plan") in ui.cohort.options
        ui.cohort.value = "metadata.plan"
        assert set(ui.result.index.get_level_values(0)) == {"free", "pro"}

    def test_bin_size_and_video(self, frames, world):
        ui = avi.dashboard(**frames)
        ui.bin_size.value = 10.0
        positions = ui.result.index.to_numpy()
        assert positions[1] - positions[0] == 10.0
        second = world.videos[1]["videoId"]
        ui.video.value = second
        assert second in ui.status.value
        assert ui.result.index[-1] < world.durations[second]

    def test_period_disabled_without_client(self, frames):
        assert avi.dashboard(**frames).period.disabled

    def test_events_instead_of_segments(self, frames, world):
        ids = set(frames["sessions"]["session_id"])
        events = world.events[world.events["session_id"].astype(str).isin(ids)]
        ui = avi.dashboard(
            videos=world.videos,
            sessions=frames["sessions"],
            events=events,
            durations=world.durations,
        )
        assert ui.result is not None and ui.result["viewers"].max() > 0

    def test_errors_are_shown_escaped(self, frames, monkeypatch):
        ui = avi.dashboard(**frames)
        retention_module = importlib.import_module("apivideo_insights.retention")

        def broken(*args, **kwargs):
            raise ValueError("bad <b>input</b>")

        monkeypatch.setattr(retention_module, "retention", broken)
        ui.bin_size.value = 5.0
        assert "bad &lt;b&gt;input&lt;/b&gt;" in ui.status.value
        assert ui.result is None
        # The output says what went wrong, in one box, instead of keeping the last chart.
        (box,) = ui.out.outputs
        assert "image/png" not in box["data"]
        page = box["data"]["text/html"]
        assert "ValueError" in page and "bad &lt;b&gt;input&lt;/b&gt;" in page
        assert "Traceback" not in page

    def test_needs_data(self):
        with pytest.raises(ValueError, match="client"):
            avi.dashboard()


class TestThroughClient:
    def test_loads_one_video_at_a_time_with_progress(self, sandbox):
        api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
        ui = avi.dashboard(api, period=PERIOD)
        assert not ui.period.disabled
        assert ui.progress.value == ui.progress.max  # every loading step went through
        assert ui.result is not None and len(ui.out.outputs) == 1
        first = ui.video.value
        sent = sandbox.requests
        assert any(first in r.path for r in sent if "/analytics/videos/" in r.path)
        n = len(sandbox.requests)
        ui.view.value = "heatmap"  # same video and period: no new request
        assert len(sandbox.requests) == n
        ui.period.value = "2024-05-25/2024-06-01"
        assert len(sandbox.requests) > n
        assert isinstance(ui.result, pd.DataFrame)

    def test_metadata_cohorts_appear_once_sessions_are_loaded(self, sandbox):
        api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
        ui = avi.dashboard(api, period=PERIOD)
        assert ("metadata: plan", "metadata.plan") in ui.cohort.options
        ui.cohort.value = "metadata.plan"
        assert ui.result.index.names[0] == "metadata.plan"
        assert set(ui.result.index.get_level_values(0)) <= {"free", "pro", "team", "enterprise"}


class TestWhatTheUserSees:
    def test_the_next_video_replaces_the_chart_with_loading_at_once(self, frames, world):
        ui = avi.dashboard(**frames)
        seen: list[tuple] = []
        ui.out.observe(lambda change: seen.append(change["new"]), names="outputs")
        ui.video.value = world.videos[1]["videoId"]
        assert len(seen) >= 2
        first, last = seen[0], seen[-1]
        assert "loading" in first[0]["data"]["text/html"] and "image/png" not in first[0]["data"]
        assert "image/png" in last[0]["data"]

    def test_video_dropdown_is_as_wide_as_the_output(self, frames):
        ui = avi.dashboard(**frames)
        assert ui.video.layout.width == "98%"
        assert ui.children[0] is ui.video  # a row of its own: titles are not cut off

    def test_engagement_table_scrolls_and_bars_do_not_repeat_the_video(self, frames):
        ui = avi.dashboard(**frames)
        ui.cohort.value = "device_type"
        ui.view.value = "engagement"
        png, table = ui.out.outputs
        assert "image/png" in png["data"]
        page = table["data"]["text/html"]
        assert page.startswith('<div class="avi-table" style="overflow-x:auto')
        video_id = ui.video.value
        assert video_id not in page  # one video: its id is not a column of every row

    def test_period_placeholder_is_the_last_30_days(self, sandbox):
        api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
        ui = avi.dashboard(api, period=PERIOD)
        today = dt.datetime.now(dt.UTC).date()
        first = today - dt.timedelta(days=29)
        assert ui.period.placeholder == f"{first}/{today}"
        assert "last 30 days" in ui.period_hint.value

    def test_a_stopped_sandbox_is_said_in_the_output_not_raised(self, world):
        server = avi.sandbox.serve(world).start()
        try:
            api = avi.connect(server.api_key, base_url=server.base_url, cache=None, progress=False)
            ui = avi.dashboard(api, period=PERIOD)
            assert ui.result is not None
        finally:
            server.stop()
        ui.video.value = world.videos[1]["videoId"]
        assert ui.result is None
        (box,) = ui.out.outputs
        page = box["data"]["text/html"]
        assert "APIError" in page and "Traceback" not in page
        assert server.base_url.split("//")[1].split("/")[0] in page  # which server it was


def test_draw_view_is_a_function_of_the_frames_and_the_controls(frames, world):
    from apivideo_insights import _frames
    from apivideo_insights.dashboard import draw_view

    video = _frames.prepare(_frames.Frames.from_arguments(**frames)).video(
        world.videos[0]["videoId"]
    )
    shown = draw_view(video, view="retention", bin_size=10.0)
    assert shown.result is not None and shown.result.index[1] == 10.0
    assert "image/png" in shown.outputs[0]["data"]
    by = draw_view(video, view="engagement", cohort="device_type")
    assert by.result is not None and "device_type" in by.result.index.names
    with pytest.raises(ValueError, match="view must be one of"):
        draw_view(video, view="pie")
