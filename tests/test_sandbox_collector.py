"""The sandbox as a collector of api.video's analytics SDK 1.x (``POST /vod``, ``POST /live``).

Real HTTP over loopback: bodies shaped as ``@api.video/player-analytics`` 1.0.x sends them
(``fetch`` with a string body, so ``Content-Type: text/plain``), answers read as the SDK
reads them (``{"session": id}``), what was kept read back through the legacy endpoints with
the client, and through :func:`apivideo_insights.read_pings` from the ``record=`` file.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

import apivideo_insights as avi
from apivideo_insights.sandbox import World
from apivideo_insights.sandbox.server import Sandbox, serve

T0 = pd.Timestamp("2024-05-31T10:00:00.000Z")
PERIOD = "2024-05-31"


def iso(seconds: float) -> str:
    """The SDK's ``Date.toISOString()`` of ``T0 + seconds``."""
    return (T0 + pd.Timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ping(
    media: str,
    events: list[dict[str, Any]],
    *,
    at: float,
    sid: str | None = None,
    loaded: float = 0.0,
    live: bool = False,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One body of the SDK's ``buildPingPayload()``."""
    session: dict[str, Any] = {
        "loaded_at": iso(loaded),
        "referrer": "https://example.test/page",
        "metadata": [{k: v} for k, v in (metadata or {}).items()],
    }
    if sid is not None:
        session["session_id"] = sid
    session["live_stream_id" if live else "video_id"] = media
    return {"emitted_at": iso(at), "session": session, "events": events}


def ev(kind: str, t: float, **pos: float) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "emitted_at": iso(t)}
    if "frm" in pos:
        out["from"], out["to"] = pos["frm"], pos["to"]
    else:
        out["at"] = pos["at"]
    return out


def post(
    sb: Sandbox, body: Any, *, kind: str = "vod", origin: str | None = None, ua: str = ""
) -> Any:
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    if origin:
        headers["Origin"] = origin
    if ua:
        headers["User-Agent"] = ua
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return requests.post(sb.url(f"/{kind}"), data=data, headers=headers, timeout=10)


#: One viewer of ``vi-browser``: ready, play, a heartbeat, a seek and a resume, a pause.
def one_viewing(sb: Sandbox, media: str = "vi-browser") -> tuple[str, list[dict[str, Any]]]:
    first = [ev("ready", 0.4, at=0.0)]
    r = post(sb, ping(media, first, at=0.41, metadata={"plan": "pro"}))
    assert r.status_code == 200, r.text
    sid = r.json()["session"]
    later = [
        [ev("play", 1.2, at=0.0)],
        [],  # a heartbeat: playing, nothing happened
        [ev("seek.forward", 23.7, frm=22.51, to=40.25), ev("resume", 23.7, at=40.25)],
        [ev("pause", 31.95, at=47.999)],
    ]
    for k, events in enumerate(later):
        r = post(sb, ping(media, events, at=11.2 + 10 * k, sid=sid, metadata={"plan": "pro"}))
        assert r.status_code == 200, r.text
        assert r.json() == {"session": sid}
    return sid, first + [e for events in later for e in events]


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "pings.ndjson"


@pytest.fixture
def sb(sandbox_world: World, record: Path) -> Iterator[Sandbox]:
    with serve(sandbox_world, record=record) as server:
        yield server


def connect(sb: Sandbox) -> avi.Client:
    return avi.connect(sb.api_key, base_url=sb.base_url, cache=None)


# --------------------------------------------------------------------------- the protocol
def test_a_first_ping_gets_a_new_id_and_later_pings_keep_theirs(sb: Sandbox) -> None:
    sid, _ = one_viewing(sb)
    assert sid.startswith("ps") and len(sid) == 24
    # Another page (another tab: no id in sessionStorage) gets another session.
    r = post(sb, ping("vi-browser", [ev("ready", 100.0, at=0.0)], at=100.0))
    other = r.json()["session"]
    assert r.status_code == 200 and other != sid
    # A reload in the same tab sends the id it kept: same session, a second page load.
    r = post(sb, ping("vi-browser", [ev("ready", 200.0, at=0.0)], at=200.0, sid=sid, loaded=199))
    assert r.json() == {"session": sid}
    sessions = connect(sb).video_sessions("vi-browser", period=PERIOD)
    assert sorted(sessions["session_id"]) == sorted([sid, other])
    # loadedAt is the first page load, endedAt the last body received.
    first = sessions.set_index("session_id").loc[sid]
    assert first["loaded_at"] == T0
    assert first["ended_at"] > pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=1)


def test_no_key_is_needed_to_post_but_the_api_still_wants_one(sb: Sandbox) -> None:
    assert post(sb, ping("vi1", [], at=1.0)).status_code == 200
    assert requests.get(sb.url("/videos"), timeout=10).status_code == 401


def test_answers_let_a_page_on_any_origin_post_and_read(sb: Sandbox) -> None:
    r = post(sb, ping("vi1", [], at=1.0), origin="http://127.0.0.1:9999")
    assert r.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:9999"
    assert "Origin" in r.headers["Vary"]
    r = post(sb, ping("vi1", [], at=1.0))
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    bad = post(sb, "{", origin="http://other.test")
    assert bad.status_code == 400
    assert bad.headers["Access-Control-Allow-Origin"] == "http://other.test"


@pytest.mark.parametrize("kind", ["vod", "live"])
def test_a_preflight_is_answered(sb: Sandbox, kind: str) -> None:
    r = requests.options(
        sb.url(f"/{kind}"),
        headers={
            "Origin": "http://page.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "http://page.test"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
    assert r.content == b""


@pytest.mark.parametrize(
    ("body", "kind", "says"),
    [
        ("{not json", "vod", "not JSON"),
        ("[]", "vod", "JSON object"),
        (b"\xff\xfe", "vod", "UTF-8"),
        ({"emitted_at": iso(0), "events": []}, "vod", "session"),
        (ping("vi1", [ev("rewind", 1.0, at=1.0)], at=1.0), "vod", "events[0].type"),
        (ping("vi1", [{"type": "play", "emitted_at": "yesterday", "at": 1}], at=1), "vod",
         "events[0].emitted_at"),
        (ping("vi1", [ev("play", 1.0, at=1.0)], at=1.0) | {"emitted_at": 5}, "vod",
         "emitted_at"),
        (ping("vi1", [{"type": "play", "emitted_at": iso(1), "at": "1"}], at=1), "vod",
         "events[0].at"),
        (ping("li1", [], at=1.0, live=True), "vod", "session.video_id"),
        (ping("vi1", [], at=1.0), "live", "session.live_stream_id"),
    ],
)  # fmt: skip
def test_a_malformed_body_gets_a_400_saying_what_is_wrong(
    sb: Sandbox, record: Path, body: Any, kind: str, says: str
) -> None:
    r = post(sb, body, kind=kind)
    assert r.status_code == 400
    problem = r.json()
    assert problem["status"] == 400 and problem["type"].endswith("invalid-payload")
    assert says in problem["detail"], problem
    assert not record.exists() or record.read_text() == ""


def test_an_oversized_body_gets_a_413(sb: Sandbox, record: Path) -> None:
    events = [ev("play", 1.0, at=1.0)] * 6000  # ~330 KB, over the 256 KiB limit
    r = post(sb, ping("vi1", events, at=1.0))
    assert r.status_code == 413
    assert "at most" in r.json()["detail"]
    assert not record.exists()
    # The connection is still usable for the next (valid) ping.
    assert post(sb, ping("vi1", [], at=1.0)).status_code == 200


def test_other_methods_on_the_collector_are_refused(sb: Sandbox) -> None:
    r = requests.get(sb.url("/vod"), auth=(sb.api_key, ""), timeout=10)
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]


# --------------------------------------------------------------------------- what it serves
def test_recorded_sessions_and_events_come_back_in_the_legacy_form(sb: Sandbox) -> None:
    sid, sent = one_viewing(sb)
    api = connect(sb)
    sessions = api.video_sessions("vi-browser", period=PERIOD)
    assert sessions["session_id"].tolist() == [sid]
    row = sessions.iloc[0]
    assert row["loaded_at"] == T0
    assert row["metadata"] == {"plan": "pro"}
    assert row["referrer_url"] == "https://example.test/page"
    assert pd.isna(row["client_name"])  # python-requests: no browser to tell
    events = api.events(sessions)
    assert events["type"].astype(str).tolist() == [e["type"] for e in sent]
    # Positions floored to integers, emittedAt floored to the second (the legacy API's form).
    raw = requests.get(
        sb.url(f"/analytics/sessions/{sid}/events"), auth=(sb.api_key, ""), timeout=10
    ).json()["data"]
    assert raw[2] == {"type": "seek.forward", "emittedAt": "2024-05-31T10:00:23.000Z",
                      "from": 22, "to": 40}  # fmt: skip
    assert raw[-1] == {"type": "pause", "emittedAt": "2024-05-31T10:00:31.000Z", "at": 47}
    for event, original in zip(raw, sent, strict=True):
        for key in ("at", "from", "to"):
            if key in original:
                assert event[key] == math.floor(original[key])
        assert event["emittedAt"].endswith(".000Z")


def test_recorded_sessions_sit_beside_the_simulated_ones(sb: Sandbox, sandbox_world: World) -> None:
    vid = sandbox_world.videos[0]["videoId"]
    api = connect(sb)
    before = api.video_sessions(vid, period="2024-05")
    assert len(before) > 0
    r = post(sb, ping(vid, [ev("ready", 1.0, at=0.0)], at=1.0))
    sid = r.json()["session"]
    after = api.video_sessions(vid, period="2024-05", refresh=True)
    # The world's sessions first, as before, then the recorded one.
    assert after["session_id"].tolist() == [*before["session_id"], sid]
    assert len(api.events([sid])) == 1


def test_the_browser_is_told_by_its_user_agent(sb: Sandbox, record: Path) -> None:
    ua = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.6778.85 Safari/537.36"
    )
    sid = post(sb, ping("vi-ua", [], at=1.0), ua=ua).json()["session"]
    row = connect(sb).video_sessions("vi-ua", period=PERIOD).iloc[0]
    assert (row["client_name"], row["client_version"]) == ("Chrome Headless", "131.0.6778.85")
    assert (row["os_name"], row["device_type"]) == ("GNU/Linux", "desktop")
    _, sessions = avi.read_pings(record)
    assert sessions.set_index("session_id").loc[sid, "client_name"] == "Chrome Headless"


def test_live_stream_pings_are_live_stream_sessions(sb: Sandbox) -> None:
    r = post(sb, ping("li-browser", [ev("ready", 1.0, at=0.0)], at=1.0, live=True), kind="live")
    sid = r.json()["session"]
    sessions = connect(sb).live_stream_sessions("li-browser", period=PERIOD)
    assert sessions["session_id"].tolist() == [sid]
    r = requests.get(
        sb.url("/analytics/videos/li-browser"),
        params={"period": PERIOD},
        auth=(sb.api_key, ""),
        timeout=10,
    )
    assert r.status_code == 404


def test_a_restart_with_the_same_record_serves_the_same(sandbox_world: World, record: Path) -> None:
    with serve(sandbox_world, record=record) as sb:
        sid, sent = one_viewing(sb)
        api = connect(sb)
        sessions = api.video_sessions("vi-browser", period=PERIOD)
        events = api.events(sessions)
    with serve(sandbox_world, record=record) as again:
        api = connect(again)
        sessions2 = api.video_sessions("vi-browser", period=PERIOD)
        events2 = api.events(sessions2)
        # ... and keeps recording into the same session.
        r = post(again, ping("vi-browser", [ev("resume", 40.0, at=48.0)], at=41.0, sid=sid))
        assert r.json() == {"session": sid}
        assert len(api.events(sessions2, refresh=True)) == len(sent) + 1
    pd.testing.assert_frame_equal(sessions, sessions2)
    pd.testing.assert_frame_equal(events, events2)
    assert len(record.read_text().splitlines()) == 5 + 1


def test_the_record_file_is_one_body_a_line_with_id_and_receive_time(
    sb: Sandbox, record: Path
) -> None:
    sid, _ = one_viewing(sb)
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 5
    assert {line["session"]["session_id"] for line in lines} == {sid}
    received = pd.to_datetime([line["received_at"] for line in lines], utc=True)
    assert received.is_monotonic_increasing
    assert abs(received[-1] - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)
    assert lines[0]["events"][0] == {"type": "ready", "emitted_at": iso(0.4), "at": 0.0}


def test_read_pings_gives_back_what_was_posted(sb: Sandbox, record: Path) -> None:
    sid, sent = one_viewing(sb)
    events, sessions = avi.read_pings(record)
    assert events["session_id"].astype(str).unique().tolist() == [sid]
    assert events["type"].astype(str).tolist() == [e["type"] for e in sent]
    pauses = events[events["type"] == "pause"]
    assert pauses["at"].iloc[0] == pytest.approx(47.999, abs=1e-4)  # float, not floored
    assert pauses["emitted_at"].iloc[0] == T0 + pd.Timedelta(seconds=31.95)
    seek = events[events["type"] == "seek.forward"].iloc[0]
    assert (seek["seek_from"], seek["seek_to"]) == pytest.approx((22.51, 40.25), abs=1e-4)
    row = sessions.set_index("session_id").loc[sid]
    assert row["pings"] == 5 and row["page_loads"] == 1
    # Timer pings: the one with play, the empty one, the one with seek + resume.
    assert row["heartbeats"] == [T0 + pd.Timedelta(seconds=11.2 + 10 * k) for k in range(3)]
    assert row["video_id"] == "vi-browser"


def test_nothing_is_lost_when_many_pages_post_at_once(sb: Sandbox, record: Path) -> None:
    pages, pings_each = 8, 15
    sids: list[str] = []
    errors: list[BaseException] = []

    def page(k: int) -> None:
        try:
            with requests.Session() as http:
                r = http.post(
                    sb.url("/vod"),
                    data=json.dumps(ping("vi-load", [ev("ready", 0, at=0.0)], at=0.1)),
                    timeout=10,
                )
                sid = r.json()["session"]
                sids.append(sid)
                for i in range(1, pings_each):
                    body = ping("vi-load", [ev("resume", i, at=float(i))], at=i, sid=sid)
                    assert http.post(sb.url("/vod"), data=json.dumps(body), timeout=10).ok
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=page, args=(k,)) for k in range(pages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(set(sids)) == pages
    events, sessions = avi.read_pings(record)
    assert len(events) == pages * pings_each and events.attrs["dropped"] == {}
    assert (sessions["pings"] == pings_each).all()
    served = connect(sb).events(sids)
    assert len(served) == pages * pings_each


def test_a_line_cut_by_a_kill_is_skipped_and_recording_goes_on(
    sandbox_world: World, record: Path
) -> None:
    with serve(sandbox_world, record=record) as sb:
        sid, sent = one_viewing(sb)
    with open(record, "a", encoding="utf-8") as f:
        f.write('{"emitted_at": "2024-05-31T10:01:00.000Z", "session": {"load')
    with serve(sandbox_world, record=record) as sb:
        assert sb.collector.skipped == {"not JSON, or no received_at (a line cut short?)": 1}
        assert sb.collector.replayed == 5
        r = post(sb, ping("vi-browser", [ev("resume", 50.0, at=48.0)], at=51.0, sid=sid))
        assert r.ok
    events, _ = avi.read_pings(record)
    assert len(events) == len(sent) + 1
    assert events.attrs["dropped"] == {"not JSON (a line cut short?)": 1}


# --------------------------------------------------------------------------- the command
def _start_cli(record: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "apivideo_insights.sandbox", "--record", str(record), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    base = ""
    for _ in range(20):  # a few lines at most before the URL
        line = proc.stdout.readline()
        if line.startswith("APIVIDEO_BASE_URL="):
            base = line.split("=", 1)[1].strip()
            break
        if not line and proc.poll() is not None:
            break
    if not base:
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail("python -m apivideo_insights.sandbox printed no base URL")
    return proc, base


def test_the_command_records_and_a_killed_server_loses_nothing_answered(
    tmp_path: Path,
) -> None:
    record = tmp_path / "cli" / "pings.ndjson"
    proc, base = _start_cli(record)
    try:
        ids = []
        for k in range(5):
            body = ping("vi-cli", [ev("ready", k, at=0.0)], at=k)
            r = requests.post(f"{base}/vod", data=json.dumps(body), timeout=10)
            assert r.status_code == 200
            ids.append(r.json()["session"])
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean shutdown: fsync per line must suffice
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    events, sessions = avi.read_pings(record)
    assert sorted(sessions["session_id"]) == sorted(ids)
    assert len(events) == 5
