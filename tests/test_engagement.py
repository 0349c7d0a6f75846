"""Engagement summary: hand-computed rows for small segment frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _segment_rows import make_segments
from hypothesis import given, settings
from hypothesis import strategies as st

from apivideo_insights.engagement import engagement
from apivideo_insights.retention import retention

# Documented sample (analytics-semantics §1.4): playback A of session s, wall order as listed;
# playback D = [0,1] [1,3]. Session t is another viewer.
SAMPLE = [
    ("s", 0, 7, 0, 0),
    ("s", 21, 30, 0, 22),
    ("s", 21, 24, 0, 33),
    ("s", 20, 26, 0, 36),
    ("s", 17, 19, 0, 42),
    ("s", 0, 1, 3, 90000),
    ("s", 1, 3, 3, 90003),
    ("t", 0, 3, 0, 5),
]


def test_documented_sample_row():
    seg = make_segments(SAMPLE)
    events = pd.DataFrame({"session_id": ["s"] * 4 + ["t", "u"], "type": ["ready"] * 6, "at": 0.0})
    row = engagement(seg, duration=30, events=events).iloc[0]
    assert row["views"] == 3  # playbacks A and D of s, and t's
    assert row["viewers"] == 2
    assert row["impressions"] == 6  # 4 readies of s, t's and u's (loaded, never played)
    assert row["play_rate"] == pytest.approx(3 / 6)
    assert row["watch_time"] == pytest.approx(27 + 3 + 3)
    assert row["wall_time"] == pytest.approx(27 + 3 + 3)
    # s covers [0,7] ∪ [17,19] ∪ [20,30] = 19 s, t covers 3 s.
    assert row["avg_share_watched"] == pytest.approx((19 / 30 + 3 / 30) / 2)
    # max(30 − 30, 0.95·30) = 28.5: only s reaches it.
    assert row["completion_rate"] == 0.5
    # Playback A jumps 7 → 21 (bins 7..20, skipped alike: one zone); D is contiguous.
    assert row["skip_zones"] == [7.0]
    # Bins 21..23: 3 passes by 1 viewer (one moment); 24..25: 2 by 1; 0..2: 3 passes by
    # 2 viewers (s's playbacks A and D, and t), a ratio of 1.5.
    assert row["rewatch_hot_spots"] == [21.0, 24.0, 0.0]
    assert row["drop_offs"] == [3.0, 7.0, 19.0]
    # Row order does not matter: wall-clock order is restored per playback.
    shuffled = engagement(seg.sample(frac=1, random_state=3), duration=30, events=events)
    pd.testing.assert_frame_equal(shuffled, engagement(seg, duration=30, events=events))


def test_youtube_examples():
    half = [(f"v{i}", 0, 15 if i < 50 else 60) for i in range(100)]
    out = engagement(make_segments(half), duration=60, bin_size=15)
    assert out["drop_offs"].iloc[0] == [15.0]
    assert out["completion_rate"].iloc[0] == 0.5
    assert out["avg_share_watched"].iloc[0] == pytest.approx((50 * 0.25 + 50) / 100)
    rewatch = []
    for i in range(100):
        rewatch += [(f"v{i}", 0, 45), (f"v{i}", 30, 60)] if i < 20 else [(f"v{i}", 0, 60)]
    out = engagement(make_segments(rewatch), duration=60, bin_size=15)
    assert out["rewatch_hot_spots"].iloc[0] == [30.0]
    assert out["drop_offs"].iloc[0] == []
    assert out["skip_zones"].iloc[0] == []
    assert out["watch_time"].iloc[0] == pytest.approx(100 * 60 + 20 * 15)
    assert out["completion_rate"].iloc[0] == 1.0


def test_vimeo_average_percent_watched():
    seg = make_segments([("a", 0, 20), ("b", 0, 30), ("c", 10, 50), ("c", 10, 20)])
    out = engagement(seg, duration=60)
    assert out["avg_share_watched"].iloc[0] == pytest.approx((20 + 30 + 40) / (3 * 60))


def test_per_video_and_cohorts():
    seg = make_segments(
        [("a", 0, 10), ("b", 0, 4), ("c", 0, 20), ("d", 5, 19.5)],
        video_id=["v1", "v1", "v2", "v2"],
    )
    sessions = pd.DataFrame(
        {
            "session_id": ["a", "b", "c", "d"],
            "device_type": pd.Categorical(["mobile", "desktop", "mobile", "mobile"]),
            "metadata": [{"plan": "pro"}, {"plan": "free"}, {"plan": "pro"}, {}],
        }
    )
    lengths = pd.Series({"v1": 10.0, "v2": 20.0})
    per_video = engagement(seg, duration=lengths)
    assert per_video.index.tolist() == ["v1", "v2"]
    assert per_video["duration"].tolist() == [10.0, 20.0]
    # v2: completion point max(20 − 30, 19) = 19; d stops at 19.5, so both complete.
    assert per_video["completion_rate"].tolist() == [0.5, 1.0]
    by_device = engagement(seg, duration=lengths, by="device_type", sessions=sessions)
    assert by_device.index.names == ["video_id", "device_type"]
    assert by_device.loc[("v2", "mobile"), "viewers"] == 2
    assert by_device.loc[("v1", "desktop"), "watch_time"] == 4.0
    by_plan = engagement(seg, duration=lengths, by="metadata.plan", sessions=sessions)
    assert by_plan.attrs["segments_without_cohort"] == 1
    assert by_plan.loc[("v1", "free"), "avg_share_watched"] == pytest.approx(0.4)


def test_impressions_of_videos_never_played():
    seg = make_segments([("a", 0, 10)], video_id=["v1"])
    events = pd.DataFrame(
        {
            "session_id": ["a", "b", "c"],
            "type": pd.Categorical(["ready", "ready", "ready"]),
            "video_id": ["v1", "v1", "v2"],
        }
    )
    out = engagement(seg, duration=pd.Series({"v1": 10.0, "v2": 30.0}), events=events)
    assert out.index.tolist() == ["v1", "v2"]
    assert out.loc["v1", "play_rate"] == 0.5
    assert out.loc["v2", "views"] == 0 and out.loc["v2", "play_rate"] == 0.0
    assert out.loc["v2", "duration"] == 30.0
    assert np.isnan(out.loc["v2", "avg_share_watched"])


def test_playbacks_attr_and_no_duration():
    seg = make_segments([("a", 0, 10), ("b", 0, 5)])
    seg.attrs["playbacks"] = pd.Series({"a": 2, "b": 1, "c": 1})
    out = engagement(seg)
    assert out["impressions"].iloc[0] == 4
    assert out["play_rate"].iloc[0] == 0.5
    assert np.isnan(out["avg_share_watched"].iloc[0])
    assert np.isnan(out["completion_rate"].iloc[0])
    assert out["drop_offs"].iloc[0] == [5.0]
    assert np.isnan(engagement(seg.drop(columns=["started_at", "ended_at"]))["wall_time"].iloc[0])


def test_playbacks_total_from_segments_attrs_only_while_unfiltered():
    seg = make_segments([("a", 0, 10), ("b", 0, 5), ("b", 6, 8, 1)])
    seg.attrs.update({"playbacks": 5, "segments_raw": 4, "dropped_segments": 1, "merged": 0})
    out = engagement(seg, duration=10)
    assert out["impressions"].iloc[0] == 5 and out["play_rate"].iloc[0] == 3 / 5
    filtered = seg[seg["session_id"] == "a"]  # pandas keeps attrs on a filtered frame
    assert np.isnan(engagement(filtered, duration=10)["play_rate"].iloc[0])


def test_empty_segments():
    out = engagement(make_segments([]), duration=10)
    assert len(out) == 1
    assert out["views"].iloc[0] == 0 and out["drop_offs"].iloc[0] == []
    assert np.isnan(out["avg_share_watched"].iloc[0])
    assert list(out.columns) == [
        "duration",
        "impressions",
        "views",
        "viewers",
        "play_rate",
        "watch_time",
        "wall_time",
        "avg_share_watched",
        "completion_rate",
        "drop_offs",
        "skip_zones",
        "rewatch_hot_spots",
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": -1}, "positive"),
        ({"bin_size": 0}, "bin_size"),
        ({"by": "nope"}, "unknown by"),
        ({"top": -1}, "top"),
        ({"events": pd.DataFrame({"x": [1]})}, "events is missing"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        engagement(make_segments([("a", 0, 1)]), **kwargs)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 30),
            st.integers(1, 10),
            st.integers(0, 1),
        ).map(lambda t: (t[0], float(t[1]), float(min(t[1] + t[2], 30)), t[3])),
        min_size=1,
        max_size=10,
    )
)
def test_consistent_with_retention(rows):
    rows = [r for r in rows if r[2] > r[1]] or [("a", 0.0, 1.0, 0)]
    seg = make_segments(rows)
    out = engagement(seg, duration=30.0).iloc[0]
    curve = retention(seg, duration=30.0)
    assert out["viewers"] == curve.attrs["sessions"]
    assert out["views"] <= len(seg) and out["views"] >= out["viewers"]
    assert out["watch_time"] == pytest.approx(curve["views"].sum())
    assert out["avg_share_watched"] * 30 * out["viewers"] == pytest.approx(curve["viewers"].sum())
    assert 0 <= out["completion_rate"] <= 1
    for p in out["rewatch_hot_spots"]:
        assert curve.loc[p, "rewatch"] > 1
