"""WebVTT chapter parsing and per-chapter engagement."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from apivideo_insights.chapters import chapter_engagement, read_chapters
from apivideo_insights.schema import CHAPTER_COLUMNS, SEGMENT_COLUMNS, conform, empty_frame

VTT = """WEBVTT - chapters of the demo

NOTE written by hand, with an identifier, hours and a two-line title

intro
00:00:00.000 --> 00:00:30.000
Intro

00:00:30.000 --> 00:01:05.500 align:start
The demo,
part one

STYLE
::cue { color: red }

01:05.500 --> 1:00:00.000
Q & A <b>live</b>
"""


def make_segments(rows) -> pd.DataFrame:
    data = [
        {"session_id": sid, "playback": 0, "start": float(a), "end": float(b)} for sid, a, b in rows
    ]
    return conform(pd.DataFrame(data), SEGMENT_COLUMNS) if data else empty_frame(SEGMENT_COLUMNS)


def test_read_vtt_text():
    ch = read_chapters(VTT)
    assert list(ch.columns) == list(CHAPTER_COLUMNS)
    assert ch["chapter"].tolist() == ["Intro", "The demo, part one", "Q & A <b>live</b>"]
    assert ch["start"].tolist() == [0.0, 30.0, 65.5]
    assert ch["end"].tolist() == [30.0, 65.5, 3600.0]
    assert str(ch["start"].dtype) == "float64"


def test_read_vtt_bytes_path_and_buffer(tmp_path):
    path = tmp_path / "fr.vtt"
    path.write_text(VTT, encoding="utf-8")
    expected = read_chapters(VTT)
    pd.testing.assert_frame_equal(read_chapters(path), expected)
    pd.testing.assert_frame_equal(read_chapters(str(path)), expected)
    pd.testing.assert_frame_equal(read_chapters(("\ufeff" + VTT).encode()), expected)
    pd.testing.assert_frame_equal(read_chapters(io.StringIO(VTT)), expected)
    pd.testing.assert_frame_equal(read_chapters(io.BytesIO(VTT.encode())), expected)
    crlf = VTT.replace("\n", "\r\n")
    pd.testing.assert_frame_equal(read_chapters(crlf), expected)


def test_read_frame_and_empty():
    frame = pd.DataFrame({"title": ["B", "A"], "start": [10, 0], "end": [20, 10]})
    ch = read_chapters(frame)
    assert ch["chapter"].tolist() == ["A", "B"] and ch["end"].tolist() == [10.0, 20.0]
    untitled = read_chapters(pd.DataFrame({"start": [0.0], "end": [5.0]}))
    assert untitled["chapter"].tolist() == ["Chapter 1"]
    empty = read_chapters("WEBVTT\n\n")
    assert len(empty) == 0 and list(empty.columns) == list(CHAPTER_COLUMNS)


@pytest.mark.parametrize(
    ("source", "error", "match"),
    [
        ("https://cdn.api.video/vod/vi1/chapters/fr.vtt", ValueError, "does not fetch URLs"),
        ("no such file.vtt", ValueError, "neither WebVTT"),
        ("WEBVTT\n\n00:10.000 --> 00:05.000\nBackwards\n", ValueError, "end before"),
        (pd.DataFrame({"start": [0.0]}), ValueError, "missing column"),
        (42, TypeError, "read_chapters takes"),
    ],
)
def test_read_errors(source, error, match):
    with pytest.raises(error, match=match):
        read_chapters(source)


def test_chapter_engagement_hand_computed():
    chapters = pd.DataFrame(
        {"title": ["Intro", "Demo", "Outro"], "start": [0, 30, 60], "end": [30, 60, 70]}
    )
    seg = make_segments(
        [
            ("a", 0, 70),  # everything
            ("b", 0, 28),  # 28/30 ≥ 90 % of the intro
            ("b", 0, 10),  # rewatch: a pass, not more coverage
            ("c", 25, 40),  # 5 s of intro, 10 s of demo
            ("c", 40, 50),  # 20/30 of the demo: not complete
        ]
    )
    out = chapter_engagement(seg, chapters)
    assert out.index.tolist() == ["Intro", "Demo", "Outro"]
    assert out["viewers"].tolist() == [3, 2, 1]
    assert out["reach"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert out["completion"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert out["views"].tolist() == [4, 3, 1]
    assert out["watch_time"].tolist() == pytest.approx([30 + 28 + 10 + 5, 30 + 10 + 10, 10])
    assert out[["start", "end"]].to_numpy().tolist() == [[0, 30], [30, 60], [60, 70]]


def test_chapter_engagement_by_cohort_and_vtt_input():
    seg = make_segments([("a", 0, 30), ("b", 0, 70)])
    sessions = pd.DataFrame({"session_id": ["a", "b"], "device_type": ["mobile", "tv"]})
    out = chapter_engagement(seg, VTT, by="device_type", sessions=sessions)
    assert out.index.names == ["device_type", "chapter"]
    assert out.loc[("mobile", "Intro"), "completion"] == 1.0
    assert out.loc[("mobile", "The demo, part one"), "reach"] == 0.0
    assert out.loc[("tv", "The demo, part one"), "completion"] == 1.0
    # The last chapter runs to 1 h; 4.5 s of it is far below 90 %.
    assert out.loc[("tv", "Q & A <b>live</b>"), "completion"] == 0.0


def test_chapter_engagement_empty_segments():
    out = chapter_engagement(make_segments([]), VTT)
    assert len(out) == 3
    assert (out["viewers"] == 0).all() and out["reach"].isna().all()
    assert out["views"].dtype == np.int64
