"""The frames display draws (apivideo_insights._frames): loading, selecting, slicing."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights._frames import (
    Frames,
    as_frames,
    auto_bin_size,
    load_frames,
    load_video,
    prepare,
    select,
)

NOW = "2024-06-01T12:00:00+00:00"
PERIOD = "2024-05-01/2024-06-01"


@pytest.fixture(scope="module")
def world() -> avi.sandbox.World:
    return avi.sandbox.simulate(seed=3, now=NOW, videos=3, live_streams=1, sessions=300)


def test_a_world_is_split_into_video_and_live_sessions(world):
    frames = as_frames(world)
    assert frames is not None
    assert frames.sessions["video_id"].notna().all()
    assert frames.live_sessions is not None and frames.live_sessions["live_stream_id"].notna().all()
    assert len(frames.sessions) + len(frames.live_sessions) == len(world.sessions)
    # Every video of a world is loaded, watched or not.
    assert all(frames.is_loaded(v["videoId"]) for v in world.videos)


def test_video_slices_add_up_to_the_whole(world):
    frames = prepare(as_frames(world))
    assert prepare(frames) is frames  # idempotent
    parts = [frames.video(v["videoId"]) for v in world.videos]
    assert sum(p.n_segments for p in parts) == len(frames.segments)
    assert sum(p.n_sessions for p in parts) == len(frames.sessions)
    for part in parts:
        assert set(part.segments["video_id"]) <= {part.video_id}
        assert set(part.events["session_id"].astype(str)) <= set(part.sessions["session_id"])
        assert part.duration_source == "given" and part.length == part.duration > 0


def test_frames_of_one_video_leave_the_others_not_loaded(world):
    first = world.videos[0]["videoId"]
    mine = world.sessions[world.sessions["video_id"] == first]
    events = world.events[world.events["session_id"].isin(set(mine["session_id"]))]
    frames = prepare(Frames(videos=world.videos, sessions=mine, events=events))
    other = frames.video(world.videos[1]["videoId"])
    assert not other.loaded and other.n_sessions == 0
    assert math.isnan(other.duration) and other.duration_source == "unknown"
    assert frames.video(first).loaded


def test_select_keeps_only_those_videos(world):
    first = world.videos[0]["videoId"]
    frames = select(as_frames(world), [first])
    assert frames.videos["video_id"].tolist() == [first]
    assert set(frames.sessions["video_id"]) == {first}
    with pytest.raises(ValueError, match="no video with id 'viNope'"):
        select(as_frames(world), ["viNope"])


def test_load_frames_and_load_video_agree(sandbox):
    api = avi.connect(sandbox.api_key, base_url=sandbox.base_url, cache=None, progress=False)
    first = api.videos()["video_id"].iloc[0]
    whole = prepare(load_frames(api, videos=first, period=PERIOD, live=False)).video(first)
    one = load_video(api, first, period=PERIOD)
    assert one.loaded and whole.loaded
    assert one.n_sessions == whole.n_sessions > 0
    assert one.n_segments == whole.n_segments
    assert one.duration == whole.duration > 0


def test_unknown_keys_and_types_are_refused():
    with pytest.raises(ValueError, match="unknown keys"):
        as_frames({"vids": []})
    with pytest.raises(TypeError, match="videos must be a DataFrame"):
        Frames(videos=[42])
    assert as_frames(42) is None


def test_the_keyword_form_names_videos_from_the_frames():
    sessions = pd.DataFrame({"session_id": ["a", "b"], "video_id": ["v2", "v1"]})
    frames = Frames.from_arguments(sessions=sessions, durations={"v1": 10})
    assert frames.videos["video_id"].tolist() == ["v1", "v2"]
    assert frames.durations.to_dict() == {"v1": 10.0}


def test_auto_bin_size_is_round():
    assert [auto_bin_size(d) for d in (30, 100, 101, 1800, 7200)] == [1.0, 1.0, 2.0, 30.0, 120.0]
    assert auto_bin_size(float("nan")) == 1.0
