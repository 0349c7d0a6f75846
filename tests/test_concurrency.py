"""Concurrent viewers over wall-clock time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apivideo_insights.concurrency import concurrency

T0 = pd.Timestamp("2024-05-01 12:00:00", tz="UTC")


def make_sessions(spans, **extra) -> pd.DataFrame:
    """spans: (loaded seconds after T0, ended seconds after T0); None for missing."""

    def at(x):
        return pd.NaT if x is None else T0 + pd.Timedelta(seconds=x)

    frame = pd.DataFrame(
        {
            "session_id": [f"s{i}" for i in range(len(spans))],
            "loaded_at": pd.Series([at(a) for a, _ in spans], dtype="datetime64[ns, UTC]"),
            "ended_at": pd.Series([at(b) for _, b in spans], dtype="datetime64[ns, UTC]"),
        }
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


def test_hand_computed_minutes():
    sessions = make_sessions([(10, 120), (90, 150), (150, 150), (240, 250)])
    out = concurrency(sessions, freq="1min")
    assert out.index.name == "time"
    assert str(out.index.dtype) == "datetime64[ns, UTC]"
    assert out.index[0] == T0
    # [0,60): s0. [60,120): s0, s1. [120,180): s1, s2 (an instant). [180,240): -. [240,300): s3
    assert out["viewers"].tolist() == [1, 2, 2, 0, 1]
    assert out.attrs["peak"] == 2
    assert out.attrs["peak_at"] == T0 + pd.Timedelta(minutes=1)
    assert out.attrs["average"] == pytest.approx(6 / 5)


def test_dropped_sessions_are_counted():
    sessions = make_sessions([(0, 30), (None, 30), (10, None), (50, 20)])
    out = concurrency(sessions, freq="30s")
    assert out["viewers"].tolist() == [1]
    assert out.attrs["dropped"] == {"missing_time": 2, "inverted": 1, "missing_group": 0}


def test_by_group_multiindex_and_window():
    sessions = make_sessions([(0, 600), (30, 90), (200, 400)], live_stream_id=["li1", "li2", "li2"])
    out = concurrency(sessions, freq="2min", by="live_stream_id")
    assert out.index.names == ["live_stream_id", "time"]
    assert out.loc["li1", "viewers"].tolist() == [1, 1, 1, 1, 1]
    assert out.loc["li2", "viewers"].tolist() == [1, 1, 1, 1, 0]
    assert out.attrs["groups"]["li1"]["peak"] == 1
    assert out.attrs["peak"] == 2
    assert out.attrs["groups"]["li2"]["average"] == pytest.approx(4 / 5)
    # unstack gives one column per stream
    assert out["viewers"].unstack(0).columns.tolist() == ["li1", "li2"]
    window = concurrency(
        sessions, freq="1min", start=T0 + pd.Timedelta(minutes=4), end="2024-05-01 12:06"
    )
    assert window.index[0] == T0 + pd.Timedelta(minutes=4)
    assert window["viewers"].tolist() == [2, 2]  # s0 and s2 (12:03:20-12:06:40); s1 ended
    assert window.attrs["outside_window"] == 1


def test_empty_and_bad_arguments():
    empty = concurrency(make_sessions([]))
    assert len(empty) == 0 and list(empty.columns) == ["viewers"]
    assert empty.attrs["peak"] == 0
    sessions = make_sessions([(0, 10)])
    with pytest.raises(ValueError, match="freq"):
        concurrency(sessions, freq="MS")
    with pytest.raises(ValueError, match="unknown by"):
        concurrency(sessions, by="nope")
    with pytest.raises(ValueError, match="missing column"):
        concurrency(sessions.drop(columns="ended_at"))
    with pytest.raises(ValueError, match="after start"):
        concurrency(sessions, start=T0, end=T0)


@settings(max_examples=40, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 600), st.integers(0, 300)).map(lambda t: (t[0], t[0] + t[1])),
        min_size=1,
        max_size=15,
    ),
    step=st.sampled_from([30, 60, 45]),
)
def test_matches_loop(spans, step):
    out = concurrency(make_sessions(spans), freq=f"{step}s")
    t0 = (min(a for a, _ in spans) // step) * step
    expected = []
    for j in range(len(out)):
        lo, hi = t0 + j * step, t0 + (j + 1) * step
        n = 0
        for a, b in spans:
            if (a < hi and b > lo) or (a == b and lo <= a < hi):
                n += 1
        expected.append(n)
    assert out["viewers"].tolist() == expected
    assert out.index[0] == T0 + pd.Timedelta(seconds=t0)
    # every session counted at least once, none beyond the grid
    last = max(b if b > a else a + 1 for a, b in spans)
    assert t0 + len(out) * step >= last
    assert out.attrs["peak"] == max(expected)
    assert out.attrs["peak"] <= len(spans)
    assert np.isclose(out.attrs["average"], np.mean(expected))


def test_too_many_intervals_fail_before_allocating():
    day = make_sessions([(0, 86_400)])
    with pytest.raises(ValueError, match="larger freq"):
        concurrency(day, freq="1ms")
    with pytest.raises(ValueError, match="max_bins=10"):
        concurrency(day, freq="1h", max_bins=10)
    assert len(concurrency(day, freq="1h", max_bins=24)) == 24
