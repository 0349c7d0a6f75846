"""Retention curves and heatmaps, against hand-computed values and a plain loop."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from _segment_rows import make_segments as rows_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from apivideo_insights.retention import (
    add_counts,
    heatmap,
    retention,
    retention_counts,
    retention_frame,
)


def make_segments(rows, **extra) -> pd.DataFrame:
    """rows: (session_id, start, end[, playback]); rows 10 s apart in wall time."""
    return rows_frame(rows, spacing=10.0, **extra)


# The api.video documented sample, playback A (analytics-semantics §1.4).
SAMPLE = [("s", 0, 7), ("s", 21, 30), ("s", 21, 24), ("s", 20, 26), ("s", 17, 19)]
SAMPLE_PASSES = [1] * 7 + [0] * 10 + [1, 1, 0, 1] + [3] * 3 + [2] * 2 + [1] * 4


def test_documented_sample_pass_counts():
    curve = retention(make_segments(SAMPLE), duration=30)
    assert curve.index.name == "position"
    assert curve.index.tolist() == [float(k) for k in range(30)]
    assert curve["views"].tolist() == SAMPLE_PASSES
    assert curve["viewers"].tolist() == [min(p, 1) for p in SAMPLE_PASSES]
    assert curve.attrs["sessions"] == 1
    hm = heatmap(make_segments(SAMPLE), duration=30)
    assert hm.loc["s"].tolist() == SAMPLE_PASSES
    # Summed watch time 27 s, unique coverage 19 s (§1.4).
    assert curve["views"].sum() == 27
    assert curve["viewers"].sum() == 19


def test_youtube_half_stop_at_15_of_60():
    rows = [(f"v{i}", 0, 15 if i < 50 else 60) for i in range(100)]
    curve = retention(make_segments(rows), duration=60, bin_size=15)
    assert curve["retention"].tolist() == [1.0, 0.5, 0.5, 0.5]
    same = retention(make_segments(rows), duration=60, bins=4)
    assert same["retention"].tolist() == [1.0, 0.5, 0.5, 0.5]
    assert same["share"].tolist() == [0.0, 0.25, 0.5, 0.75]


def test_youtube_rewatch_third_quarter():
    rows = []
    for i in range(100):
        if i < 20:  # watch to 45, go back to 30, watch to the end
            rows += [(f"v{i}", 0, 45), (f"v{i}", 30, 60)]
        else:
            rows.append((f"v{i}", 0, 60))
    curve = retention(make_segments(rows), duration=60, bins=4)
    assert curve["retention"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert curve["rewatch"].tolist() == pytest.approx([1.0, 1.0, 1.2, 1.0])
    # YouTube's absolute ratio is views / total views: 1, 1, 1.2, 1.
    assert (curve["views"] / 100).tolist() == pytest.approx([1.0, 1.0, 1.2, 1.0])


def test_bin_rule_positive_overlap_and_short_last_bin():
    seg = make_segments([("a", 0, 5), ("b", 5, 10.5), ("c", 0.3, 0.4)])
    curve = retention(seg, duration=10.5)
    assert len(curve) == 11 and curve.index[-1] == 10.0
    # a ends exactly at 5: it does not touch bin 5.
    assert curve.loc[4.0, "viewers"] == 1 and curve.loc[5.0, "viewers"] == 1
    assert curve.loc[10.0, "viewers"] == 1
    fine = retention(make_segments([("c", 0.3, 0.4)]), duration=1, bin_size=0.1)
    assert fine["viewers"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_outside_segments_counted_and_clipped():
    seg = make_segments([("a", 0, 12), ("b", 10, 15), ("c", 2, 3)])
    curve = retention(seg, duration=10)
    assert curve.attrs["segments_outside"] == 1
    assert curve.attrs["sessions"] == 2
    assert len(curve) == 10 and curve["viewers"].iloc[-1] == 1


def test_invalid_rows_counted_not_used():
    seg = make_segments([("a", 0, 2)])
    seg = pd.concat([seg, seg.assign(start=[3.0], end=[1.0]), seg.assign(start=[np.nan])])
    curve = retention(seg, duration=4)
    assert curve["viewers"].tolist() == [1, 1, 0, 0]
    assert curve.attrs["segments_invalid"] == 2 and curve.attrs["segments_outside"] == 0
    assert heatmap(seg, duration=4).attrs["segments_invalid"] == 2


def test_rewatch_nan_where_no_viewer():
    curve = retention(make_segments([("a", 0, 1)]), duration=3)
    assert curve["rewatch"].iloc[0] == 1.0
    assert curve["rewatch"].iloc[1:].isna().all()
    assert curve["retention"].tolist() == [1.0, 0.0, 0.0]


def test_by_segment_column_and_per_video_duration():
    seg = make_segments(
        [("a", 0, 10), ("b", 0, 5), ("c", 0, 20), ("c", 10, 20)],
        video_id=["v1", "v1", "v2", "v2"],
    )
    lengths = pd.Series({"v1": 10.0, "v2": 20.0})
    curve = retention(seg, duration=lengths, bin_size=5, by="video_id")
    assert curve.index.names == ["video_id", "position"]
    assert curve.loc["v1"].index.tolist() == [0.0, 5.0]
    assert curve.loc["v2"].index.tolist() == [0.0, 5.0, 10.0, 15.0]
    assert curve.loc["v1", "retention"].tolist() == [1.0, 0.5]
    assert curve.loc["v2", "views"].tolist() == [1, 1, 2, 2]
    assert curve.attrs["sessions"] == {"v1": 2, "v2": 1}
    # Relative axis: 2 bins of each video's own length, pooled.
    pooled = retention(seg, duration=lengths, bins=2)
    assert pooled["viewers"].tolist() == [3, 2]
    assert pooled["share"].tolist() == [0.0, 0.5]


def test_one_duration_for_several_videos_warns_at_the_callers_line():
    import apivideo_insights as avi

    seg = make_segments([("a", 0, 10), ("b", 0, 5)], video_id=["v1", "v2"])
    with pytest.warns(UserWarning, match="one length for segments of several videos") as got:
        avi.retention(seg, duration=10, bin_size=5)
    assert got[0].filename == __file__  # the user's line, not the package's
    with pytest.warns(UserWarning, match="several videos"):
        avi.engagement(seg, duration=10)
    one_video = make_segments([("a", 0, 10), ("b", 0, 5)], video_id=["v1", None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        avi.retention(one_video, duration=10, bin_size=5)
        avi.retention(seg, duration=pd.Series({"v1": 10.0, "v2": 10.0}), bin_size=5)
        avi.retention(seg.drop(columns="video_id"), duration=10, bin_size=5)


def test_by_sessions_column_and_metadata():
    seg = make_segments([("a", 0, 10), ("b", 0, 5), ("c", 0, 10)])
    sessions = pd.DataFrame(
        {
            "session_id": ["a", "b", "c"],
            "device_type": pd.Categorical(["mobile", "desktop", "mobile"]),
            "metadata": [{"plan": "pro"}, [{"key": "plan", "value": "free"}], None],
        }
    )
    by_device = retention(seg, duration=10, bin_size=5, by="device_type", sessions=sessions)
    assert by_device.loc["mobile", "viewers"].tolist() == [2, 2]
    assert by_device.loc["desktop", "retention"].tolist() == [1.0, 0.0]
    by_plan = retention(seg, duration=10, bin_size=5, by="metadata.plan", sessions=sessions)
    assert sorted(by_plan.index.get_level_values(0).unique()) == ["free", "pro"]
    assert by_plan.attrs["segments_without_cohort"] == 1


def test_empty_segments_have_the_right_shape():
    empty = make_segments([])
    curve = retention(empty, duration=5)
    assert curve.columns.tolist() == ["viewers", "views", "retention", "rewatch"]
    assert len(curve) == 5 and (curve["viewers"] == 0).all()
    assert curve["viewers"].dtype == np.int64 and curve["retention"].isna().all()
    hm = heatmap(empty, duration=5)
    assert hm.shape == (0, 5) and hm.index.name == "session_id"
    by = retention(empty, duration=5, by="playback")
    assert len(by) == 0 and by.index.names == ["playback", "position"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": -5}, "positive"),
        ({"duration": 0}, "positive"),
        ({"duration": 10, "bin_size": 0}, "bin_size"),
        ({"duration": 10, "bin_size": -1}, "bin_size"),
        ({"duration": 10, "bins": 0}, "bins"),
        ({"duration": 10, "by": "nope"}, "unknown by='nope'"),
        ({"duration": pd.Series({"other": 3.0, "x": 4.0})}, "video_id"),
        ({"duration": None}, "duration is required"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        retention(make_segments([("a", 0, 1)]), **kwargs)


def test_missing_columns_and_missing_video_duration():
    with pytest.raises(ValueError, match="missing column"):
        retention(pd.DataFrame({"session_id": ["a"], "start": [0.0]}), duration=3)
    seg = make_segments([("a", 0, 1), ("b", 0, 1)], video_id=["v1", "v2"])
    with pytest.raises(ValueError, match="no entry for video"):
        retention(seg, duration=pd.Series({"v1": 3.0}), by="video_id")
    with pytest.raises(ValueError, match="one video_id"):
        heatmap(seg, duration=pd.Series({"v1": 3.0, "v2": 4.0}))


def test_heatmap_subset_order_dtype_and_memory_guard():
    seg = make_segments([("a", 0, 2), ("b", 1, 3), ("b", 1, 2)])
    hm = heatmap(seg, duration=3, sessions=["b", "zz"])
    assert hm.index.tolist() == ["b", "zz"]
    assert hm.loc["b"].tolist() == [0, 2, 1]
    assert hm.loc["zz"].tolist() == [0, 0, 0]
    assert all(dtype == np.int32 for dtype in hm.dtypes)
    assert hm.attrs["segments_not_selected"] == 1
    assert hm.columns.name == "position" and hm.columns.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="max_cells"):
        heatmap(seg, duration=3, max_cells=5)
    relative = heatmap(seg, duration=3, bins=2)
    assert relative.columns.tolist() == [0.0, 1.5]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": 1e9}, "over max_(bins=1,000,000|cells=100,000,000)"),
        ({"duration": 10, "bin_size": 1e-9}, "larger bin_size"),
        ({"duration": 10, "bins": 10**9}, "fewer bins"),
        ({"duration": 1e308}, "at most"),
        ({"duration": math.inf}, "positive number"),
        ({"duration": math.nan}, "positive number"),
        ({"duration": -1.0}, "positive number"),
        ({"duration": 10**400}, "positive number"),
        ({"duration": pd.Series({"v": 1e308})}, "at most"),
        ({"duration": 10, "max_bins": 0}, "max_bins"),
    ],
)
def test_absurd_lengths_and_widths_fail_before_allocating(kwargs, match):
    seg = make_segments([("a", 0, 1)], video_id=["v"])
    for func in (retention, heatmap):
        if "max_bins" in kwargs and func is heatmap:
            continue
        with pytest.raises(ValueError, match=match):
            func(seg, **kwargs)


def test_the_bins_cap_says_what_to_do_and_can_be_raised():
    seg = make_segments([("a", 0, 1)])
    with pytest.raises(ValueError) as info:
        retention(seg, duration=1e9)
    text = str(info.value)
    assert "bin_size=1000 or more" in text and "api.video_status" in text
    assert len(retention(seg, duration=20, max_bins=20)) == 20
    with pytest.raises(ValueError, match="max_bins=19"):
        retention(seg, duration=20, max_bins=19)
    with pytest.raises(ValueError, match="heatmap would have"):
        heatmap(seg, duration=1e9)


def test_missing_duration_says_where_one_comes_from():
    seg = make_segments([("a", 0, 1)])
    for func in (retention, heatmap):
        with pytest.raises(ValueError, match="duration is required") as info:
            func(seg, duration=None)
        assert "api.video_status" in str(info.value) and "video_id" in str(info.value)
    with pytest.raises(TypeError, match=r"api\.video_status"):
        retention(seg, duration="600")


def test_duration_from_a_video_status_or_videos_frame():
    seg = make_segments([("a", 0, 4), ("b", 0, 2)], video_id=["v1", "v2"])
    status = pd.DataFrame({"video_id": ["v1"], "duration": [4.0], "playable": [True]})
    one = seg[seg["video_id"] == "v1"]
    assert retention(one, duration=status).equals(retention(one, duration=4.0))
    videos = pd.DataFrame({"video_id": ["v1", "v2"], "title": ["a", "b"], "duration": [4, 2]})
    by = retention(seg, duration=videos, by="video_id")
    assert by.loc["v2"].index.tolist() == [0.0, 1.0]
    with pytest.raises(TypeError, match="video_id and duration columns"):
        retention(seg, duration=videos.drop(columns="duration"))


def test_heatmap_session_ids_and_the_sessions_frame():
    seg = make_segments([("a", 0, 2), ("b", 1, 3), ("b", 1, 2)])
    by_ids = heatmap(seg, duration=3, session_ids=["b", "zz"])
    assert by_ids.equals(heatmap(seg, duration=3, sessions=["b", "zz"]))
    frame = pd.DataFrame({"session_id": ["b", "zz"], "device_type": ["phone", "tv"]})
    assert heatmap(seg, duration=3, sessions=frame).equals(by_ids)
    with pytest.raises(ValueError, match="not both"):
        heatmap(seg, duration=3, session_ids=["a"], sessions=frame)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bin_size": 1.0},
        {"bin_size": 2.0, "by": "video_id"},
        {"bins": 4},
        {"bins": 3, "by": "video_id"},
    ],
)
def test_counts_of_disjoint_sessions_add_up_to_the_whole(kwargs):
    rows = [("a", 0, 5), ("a", 2, 9), ("b", 1, 3), ("c", 0, 12), ("d", 4, 6), ("d", 11, 14)]
    seg = make_segments(rows, video_id=["v1", "v1", "v2", "v1", "v2", "v2"])
    lengths = pd.Series({"v1": 12.0, "v2": 14.0})
    whole = retention(seg, duration=lengths, **kwargs)
    first = seg["session_id"].isin(["a", "d"])
    halves = [
        retention_counts(part, duration=lengths, **kwargs) for part in (seg[first], seg[~first])
    ]
    options = {k: v for k, v in kwargs.items() if k in ("by", "bins", "bin_size")}
    added = retention_frame(add_counts(*halves), **options)
    pd.testing.assert_frame_equal(added, whole)
    assert added.attrs == whole.attrs
    # Added the other way round: the cohorts come back sorted all the same.
    pd.testing.assert_frame_equal(retention_frame(add_counts(*halves[::-1]), **options), whole)


# -- a plain loop, the definition written out, to check the vectorized code against --------


def loop_retention(rows, duration, w):
    n = math.ceil(duration / w - 1e-9)
    views = [0] * n
    seen: list[set] = [set() for _ in range(n)]
    watchers = set()
    for sid, start, end in rows:
        for k in range(n):
            lo, hi = k * w, min((k + 1) * w, duration)
            if min(end, hi) - max(start, lo) > 1e-9:
                views[k] += 1
                seen[k].add(sid)
                watchers.add(sid)
    return views, [len(s) for s in seen], len(watchers)


segment_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(0, 40),
        st.integers(1, 15),
    ).map(lambda t: (t[0], t[1] / 2, t[1] / 2 + t[2] / 2)),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(rows=segment_rows, w=st.sampled_from([0.5, 1.0, 2.5, 3.0]))
def test_matches_loop_and_invariants(rows, w):
    duration = 17.0
    seg = make_segments(rows)
    curve = retention(seg, duration=duration, bin_size=w)
    views, viewers, watchers = loop_retention(rows, duration, w)
    assert curve["views"].tolist() == views
    assert curve["viewers"].tolist() == viewers
    assert curve.attrs["sessions"] == watchers
    assert (curve["viewers"] <= watchers).all()
    assert (curve["views"] >= curve["viewers"]).all()
    covered = curve["viewers"] > 0
    assert (curve.loc[covered, "rewatch"] >= 1).all()
    hm = heatmap(seg, duration=duration, bin_size=w)
    assert (hm > 0).sum().tolist() == curve["viewers"].tolist()
    assert hm.sum().tolist() == curve["views"].tolist()
    # Rows: every session with a segment; those with a covered bin are the denominator.
    assert len(hm) == len({r[0] for r in rows})
    assert int((hm.sum(axis=1) > 0).sum()) == watchers


@settings(max_examples=25, deadline=None)
@given(rows=segment_rows, nbins=st.integers(1, 9))
def test_bins_equal_bin_size_of_duration_over_n(rows, nbins):
    seg = make_segments(rows)
    a = retention(seg, duration=18.0, bins=nbins)
    b = retention(seg, duration=18.0, bin_size=18.0 / nbins)
    assert a["views"].tolist() == b["views"].tolist()
    assert a["viewers"].tolist() == b["viewers"].tolist()
    assert len(a) == nbins


def test_random_large_against_loop():
    rng = np.random.default_rng(7)
    n = 400
    sids = [f"s{i}" for i in rng.integers(0, 60, n)]
    start = rng.uniform(-2, 30, n).round(2)
    end = start + rng.uniform(0.01, 12, n).round(2)
    rows = list(zip(sids, start, end, strict=True))
    curve = retention(make_segments(rows), duration=31.0, bin_size=2.0)
    views, viewers, watchers = loop_retention(rows, 31.0, 2.0)
    assert curve["views"].tolist() == views
    assert curve["viewers"].tolist() == viewers
    assert curve.attrs["sessions"] == watchers
