"""avi.read_pings: raw pings of api.video's analytics SDK 1.x as events and sessions."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import apivideo_insights as avi
from apivideo_insights.pings import check_ping, device_of, metadata_of
from apivideo_insights.schema import EVENT_COLUMNS

T0 = pd.Timestamp("2024-03-01T08:00:00Z")


def iso(seconds: float) -> str:
    return (T0 + pd.Timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def line(
    sid: str | None,
    events: list[tuple[str, float, dict[str, float]]],
    *,
    at: float,
    received: float | None = None,
    loaded: float = 0.0,
    media: str = "vi1",
    live: bool = False,
    metadata: list[dict[str, str]] | None = None,
) -> str:
    session: dict[str, Any] = {"loaded_at": iso(loaded), "referrer": "https://ref.test/"}
    session["live_stream_id" if live else "video_id"] = media
    if sid is not None:
        session["session_id"] = sid
    if metadata is not None:
        session["metadata"] = metadata
    body: dict[str, Any] = {
        "emitted_at": iso(at),
        "session": session,
        "events": [{"type": k, "emitted_at": iso(t), **pos} for k, t, pos in events],
    }
    if received is not None:
        body["received_at"] = iso(received)
    return json.dumps(body)


#: One playback as the SDK sends it: ready at once, the timer's pings while playing (with
#: play, nothing, a seek and a resume), then the pause at once; a reload (same id, new
#: loaded_at) with its ready.
PLAYBACK = [
    line("psA", [("ready", 0.5, {"at": 0.0})], at=0.5, received=0.6, metadata=[{"plan": "pro"}]),
    line("psA", [("play", 1.0, {"at": 0.0})], at=10.5, received=10.6),
    line("psA", [], at=20.5, received=20.6),
    line(
        "psA",
        [("seek.forward", 25.0, {"from": 14.021, "to": 60.5}), ("resume", 25.0, {"at": 60.5})],
        at=30.5,
        received=30.6,
    ),
    line("psA", [("pause", 33.25, {"at": 68.75})], at=33.25, received=33.3),
    line("psA", [("ready", 40.0, {"at": 0.0})], at=40.0, received=40.1, loaded=39.0),
]


def test_events_keep_the_sdks_floats_and_milliseconds_in_the_contract_dtypes() -> None:
    events, _ = avi.read_pings(io.StringIO("\n".join(PLAYBACK)))
    assert list(events.columns[:6]) == list(EVENT_COLUMNS)
    for column, dtype in EVENT_COLUMNS.items():
        assert str(events[column].dtype) == str(pd.Series(dtype=dtype).dtype), column
    assert events["type"].astype(str).tolist() == [
        "ready", "play", "seek.forward", "resume", "pause", "ready"
    ]  # fmt: skip
    seek = events.iloc[2]
    assert seek["seek_from"] == pytest.approx(14.021, abs=1e-4)
    assert seek["seek_to"] == pytest.approx(60.5)
    assert pd.isna(seek["at"])
    assert events.iloc[4]["at"] == pytest.approx(68.75)
    assert events.iloc[4]["emitted_at"] == T0 + pd.Timedelta(seconds=33.25)
    assert (events["video_id"] == "vi1").all() and events["live_stream_id"].isna().all()
    assert events.iloc[0]["received_at"] == T0 + pd.Timedelta(seconds=0.6)


def test_sessions_tell_page_loads_pings_and_heartbeats() -> None:
    _, sessions = avi.read_pings("\n".join(PLAYBACK).encode())
    assert len(sessions) == 1
    row = sessions.iloc[0]
    assert row["session_id"] == "psA" and row["video_id"] == "vi1"
    assert row["loaded_at"] == T0  # the first page load
    assert row["ended_at"] == T0 + pd.Timedelta(seconds=40.1)  # the last body received
    assert row["page_loads"] == 2 and row["pings"] == 6
    assert row["referrer_url"] == "https://ref.test/"
    assert row["metadata"] == {"plan": "pro"}
    # The timer's pings (no ready, pause or end among their events), sorted, tz-aware.
    beats = row["heartbeats"]
    assert beats == [T0 + pd.Timedelta(seconds=s) for s in (10.5, 20.5, 30.5)]
    assert all(isinstance(b, pd.Timestamp) and str(b.tz) == "UTC" for b in beats)
    assert row["last_heartbeat_at"] == T0 + pd.Timedelta(seconds=30.5)
    assert str(sessions["last_heartbeat_at"].dtype) == "datetime64[ns, UTC]"


def test_heartbeats_are_sorted_even_when_pings_arrive_out_of_order() -> None:
    shuffled = [PLAYBACK[i] for i in (0, 3, 1, 4, 2)]
    _, sessions = avi.read_pings("\n".join(shuffled).encode())
    beats = sessions.iloc[0]["heartbeats"]
    assert beats == sorted(beats) and len(beats) == 3


def test_ended_at_falls_back_to_the_pings_emitted_at() -> None:
    text = "\n".join([line("psB", [("ready", 1.0, {"at": 0.0})], at=1.0), line("psB", [], at=11.0)])
    events, sessions = avi.read_pings(text.encode())
    assert sessions.iloc[0]["ended_at"] == T0 + pd.Timedelta(seconds=11)
    assert events["received_at"].isna().all()
    assert sessions.iloc[0]["metadata"] is None
    assert sessions.iloc[0]["heartbeats"] == [T0 + pd.Timedelta(seconds=11)]


def test_live_stream_pings_name_the_live_stream() -> None:
    text = line("psL", [("ready", 1.0, {"at": 0.0})], at=1.0, media="li9", live=True)
    events, sessions = avi.read_pings(text.encode())
    assert events.iloc[0]["live_stream_id"] == "li9" and pd.isna(events.iloc[0]["video_id"])
    assert sessions.iloc[0]["live_stream_id"] == "li9" and pd.isna(sessions.iloc[0]["video_id"])


def test_several_sessions_keep_their_own_rows() -> None:
    text = "\n".join([*PLAYBACK, line("psC", [("ready", 3.0, {"at": 0.0})], at=3.0)])
    events, sessions = avi.read_pings(text.encode())
    assert sessions["session_id"].tolist() == ["psA", "psC"]
    assert sessions.set_index("session_id")["pings"].to_dict() == {"psA": 6, "psC": 1}
    assert events.groupby("session_id", observed=True).size().to_dict() == {"psA": 6, "psC": 1}


def test_gzip_and_plain_files_and_buffers_read_the_same(tmp_path: Path) -> None:
    text = "\n".join(PLAYBACK) + "\n"
    plain, packed = tmp_path / "p.ndjson", tmp_path / "p.ndjson.gz"
    plain.write_text(text, encoding="utf-8")
    packed.write_bytes(gzip.compress(text.encode()))
    expected_events, expected_sessions = avi.read_pings(plain)
    for source in (
        packed,
        str(packed),
        text.encode(),
        io.BytesIO(gzip.compress(text.encode())),
        io.StringIO(text),
    ):
        events, sessions = avi.read_pings(source)
        pd.testing.assert_frame_equal(events, expected_events)
        pd.testing.assert_frame_equal(sessions, expected_sessions)


def test_bad_lines_are_dropped_counted_and_explained() -> None:
    bad = [
        '{"emitted_at": "2024-03-01T08:00:01Z", "session": {"load',  # cut by a kill
        line(None, [], at=2.0),  # no session id (an onPing dump before the id came)
        line("psX", [("rewind", 3.0, {"at": 1.0})], at=3.0),
        line("psX", [("play", 3.0, {"at": "one"})], at=3.0),  # type: ignore[dict-item]
        "",
    ]
    events, sessions = avi.read_pings("\n".join([*PLAYBACK, *bad]).encode())
    assert len(events) == 6 and len(sessions) == 1
    assert events.attrs["dropped"] == {
        "not JSON (a line cut short?)": 1,
        "no session id": 1,
        "bad event type": 1,
        "bad position": 1,
    }
    assert sessions.attrs["dropped"] == events.attrs["dropped"]
    assert events.attrs["pings"] == 6


@pytest.mark.parametrize(
    "content",
    [
        b"session_id,type,at\npsA,play,0\n",
        b'{"data": [{"type": "play", "emittedAt": "2024-01-01T10:00:00Z", "at": 0}]}\n',
        b'{"type": "play", "emittedAt": "2024-01-01T10:00:00Z", "at": 0}\n',
        b"[1, 2, 3]\n",
    ],
)
def test_a_file_that_is_not_pings_says_so(content: bytes) -> None:
    with pytest.raises(avi.SchemaError, match=r"is not a file of api\.video SDK pings"):
        avi.read_pings(content)


def test_an_empty_file_gives_empty_frames_with_the_columns() -> None:
    events, sessions = avi.read_pings(b"")
    assert len(events) == 0 and list(events.columns[:6]) == list(EVENT_COLUMNS)
    assert {"heartbeats", "last_heartbeat_at", "page_loads", "pings"} <= set(sessions.columns)
    assert events.attrs["dropped"] == {}


def test_wrong_arguments_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        avi.read_pings(tmp_path / "nope.ndjson")
    with pytest.raises(TypeError, match="path, bytes or a file-like"):
        avi.read_pings(42)


def test_the_body_check_says_what_is_wrong() -> None:
    body = json.loads(PLAYBACK[3])
    assert check_ping(body) == "vod"
    with pytest.raises(ValueError, match=r"needs session.live_stream_id"):
        check_ping(body, "live")
    body["events"][0]["from"] = float("inf")
    with pytest.raises(ValueError, match=r"events\[0\].from must be a finite number"):
        check_ping(body)


def test_metadata_and_user_agents() -> None:
    assert metadata_of([{"a": "1"}, {"b": "2"}]) == {"a": "1", "b": "2"}
    assert metadata_of([{"key": "a", "value": "1"}]) == {"a": "1"}
    assert metadata_of(None) == {}
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
    )
    assert device_of(iphone) == {
        "client_type": "browser",
        "client_name": "Safari",
        "client_version": "17.1",
        "os_name": "iOS",
        "os_shortname": "IOS",
        "os_version": "17.1",
        "device_type": "mobile",
    }
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
    assert device_of(firefox)["client_name"] == "Firefox"
    assert device_of(firefox)["os_name"] == "Windows"
    assert device_of("python-requests/2.31") == {}
