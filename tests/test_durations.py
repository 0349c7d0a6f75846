"""Video lengths: every source resolved in one place, with clear errors for bad ones."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from apivideo_insights import _durations as D


def test_sources_in_order_of_trust():
    videos = pd.DataFrame({"video_id": ["a", "b", "c", "d"], "duration": [60.0, None, -1, None]})
    events = pd.DataFrame(
        {"video_id": ["b", "b", "c"], "type": ["end", "end", "end"], "at": [30.0, 31.0, 20.0]}
    )
    segments = pd.DataFrame(
        {"video_id": ["a", "b", "d"], "start": [0.0, 0.0, 0.0], "end": [70.0, 40.0, 9.0]}
    )
    got = D.by_video({"a": 50.0}, videos=videos, events=events, segments=segments)
    assert got.to_dict() == {"a": 50.0, "b": 31.0, "c": 20.0, "d": 9.0}
    assert got.attrs["source"] == {
        "a": "given",
        "b": "end events",
        "c": "end events",
        "d": "furthest watched",
    }
    assert got.attrs["estimated"] == ["d"]
    assert got.index.name == "video_id" and got.dtype == "float64"


def test_unknown_and_unusable_lengths_are_nan_for_display():
    got = D.by_video({"a": 0.0, "b": math.inf, "c": 1e308}, video_ids=["a", "b", "c", "z"])
    assert got.isna().all() and got.index.tolist() == ["a", "b", "c", "z"]
    assert set(got.attrs["source"].values()) == {"unknown"}
    assert D.by_video(600, video_ids=["x", "y"]).tolist() == [600.0, 600.0]
    assert D.by_video().empty


def test_one_video():
    assert D.for_video("v", {"v": 30.0, "w": 12.0}) == 30.0
    assert D.for_video(None, 12) == 12.0
    assert D.for_video(None, pd.Series({"v": 7.0})) == 7.0
    assert math.isnan(D.for_video(None, {"v": 1.0, "w": 2.0}))
    assert math.isnan(D.for_video("v", -3))
    assert D.for_video("v", videos=pd.DataFrame({"video_id": ["v"], "duration": [5]})) == 5.0


def test_from_status_reads_every_shape_of_answer():
    frame = pd.DataFrame({"video_id": ["v"], "duration": [12.5]})
    assert D.from_status(frame) == 12.5
    assert D.from_status(frame.iloc[0]) == 12.5
    assert D.from_status({"encoding": {"metadata": {"duration": 7}}}) == 7.0
    assert D.from_status({"duration": "n/a"}) != D.from_status({"duration": "n/a"})  # NaN
    assert math.isnan(D.from_status(pd.DataFrame()))
    assert math.isnan(D.from_status(True))


def test_per_row_is_strict_and_says_where_lengths_come_from():
    seg = pd.DataFrame({"video_id": ["a", "b", "a"]})
    assert D.per_row(seg, {"a": 10.0, "b": 20.0}).tolist() == [10.0, 20.0, 10.0]
    for bad, kind in [(None, ValueError), ({"a": 1.0}, ValueError), ("10", TypeError)]:
        with pytest.raises(kind, match=r"video_status"):
            D.per_row(seg, bad)
    with pytest.raises(ValueError, match="positive number"):
        D.per_row(seg, {"a": 10.0, "b": np.nan})
    with pytest.warns(UserWarning, match="one length for segments of several videos"):
        assert D.per_row(seg, 10.0).tolist() == [10.0] * 3


def test_per_session_matches_the_reconstruction_rules():
    ids = pd.Index(["s1", "s2", "s3", "s4"])
    videos = np.array(["v", "v", None, "w"], dtype=object)
    end_at = np.array([30.0, np.nan, 12.0, np.nan])
    # Inferred: the largest end per video, per session when its video is unknown.
    got = D.per_session(None, ids, videos, end_at)
    assert got[:3].tolist() == [30.0, 30.0, 12.0] and math.isnan(got[3])
    by_video = pd.Series({"w": 50.0}).rename_axis("video_id")
    assert D.per_session(by_video, ids, videos, end_at).tolist()[3] == 50.0
    by_session = pd.Series({"s2": 40.0}).rename_axis("session_id")
    assert D.per_session(by_session, ids, videos, end_at).tolist()[:2] == [30.0, 40.0]
    assert D.per_session(25, ids, None, end_at).tolist() == [25.0] * 4
    with pytest.raises(ValueError, match="video_id"):
        D.per_session(by_video, ids, None, end_at)
    with pytest.raises(ValueError, match="positive"):
        D.per_session(-5, ids, videos, end_at)


def test_end_events_of_a_dask_frame():
    dd = pytest.importorskip("dask.dataframe")
    events = pd.DataFrame(
        {
            "video_id": ["a", "a", "b", "b"],
            "type": ["end", "end", "pause", "end"],
            "at": [3.0, 9.0, 99.0, -1.0],
        }
    )
    got = D.from_end_events(dd.from_pandas(events, npartitions=2))
    assert got.to_dict() == D.from_end_events(events).to_dict() == {"a": 9.0}
