"""Secrets stay secret: the API key and every access and refresh token appear in no file the
toolkit writes (cache, report, Parquet, exported notebook), no log line at any level, no
repr and no exception; TLS verification cannot be turned off by accident; the sandbox
listens on loopback unless told otherwise.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import ssl
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pandas as pd
import psutil
import pytest
from _fault_figures import record

import apivideo_insights as avi
from apivideo_insights.exceptions import APIError, AuthError
from apivideo_insights.sandbox import serve, simulate

KEY = "sb_SECRETkey_4f1d2c3b5a69e7d8c0b1a2f3"
WRONG_KEY = "sb_WRONGkey_not_the_right_one_9a8b7c6d"


def _variants(secret: str) -> list[bytes]:
    """The forms a secret can leak in: as is, in a Basic header, JSON- and URL-escaped."""
    out = {secret, base64.b64encode(f"{secret}:".encode()).decode()}
    out.add(json.dumps(secret)[1:-1])
    return [v.encode() for v in out]


class _Secrets:
    """The keys, and every token the sandbox has issued so far (read when asked)."""

    def __init__(self, sb: Any) -> None:
        self._sb = sb

    @property
    def values(self) -> list[str]:
        issued = [token for pair in self._sb.tokens_issued for token in pair]
        return [KEY, WRONG_KEY, *issued]

    def found_in(self, data: bytes | str) -> list[str]:
        blob = data.encode("utf-8", "replace") if isinstance(data, str) else data
        return [s[:6] + "…" for s in self.values if any(v in blob for v in _variants(s))]


@pytest.fixture(scope="module")
def world() -> Any:
    # "now" is the current hour so that the default period (the last 30 days) holds data.
    return simulate(seed=4, sessions=80, videos=2, live_streams=1)


@pytest.fixture
def sandbox(world: Any) -> Iterator[tuple[Any, _Secrets]]:
    """A sandbox with two-second tokens, and the secrets it has issued so far."""
    with serve(world, api_key=KEY, token_ttl=2) as sb:
        yield sb, _Secrets(sb)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _exception_text(exc: BaseException) -> str:
    parts = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(parts) + repr(exc) + repr(vars(exc))


def _notebook(path: Path, base_url: str, video_id: str) -> None:
    import nbformat

    cells = [
        "import apivideo_insights as avi\n"
        f"api = avi.connect(base_url={base_url!r}, cache='nb-cache.sqlite', progress=False)\n"
        "api",
        f"sessions = api.video_sessions({video_id!r})\nsessions.attrs",
        "events = api.events(sessions)\nevents.head()",
        "repr(api._http), repr(api._http.auth), api._http.session.headers",
        # The wrong key comes from the environment: a key typed into a cell would be
        # the notebook author's own leak, not the toolkit's.
        "import os\n"
        "try:\n"
        f"    avi.connect(os.environ['WRONG_KEY'], base_url={base_url!r}, cache=None).videos()\n"
        "except Exception as exc:\n"
        "    print(repr(exc))\n"
        "    import traceback; traceback.print_exc()",
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, force=True)\n"
        "api.video_sessions(" + repr(video_id) + ", refresh=True).shape",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


def test_no_secret_in_files_logs_reprs_or_errors(sandbox, world, tmp_path, caplog, monkeypatch):
    sb, secrets = sandbox
    caplog.set_level(logging.DEBUG)  # every logger, every level
    out = tmp_path / "out"
    out.mkdir()
    errors: list[BaseException] = []
    texts: list[str] = []
    video_id = str(world.sessions["video_id"].dropna().value_counts().index[0])

    api = avi.connect(KEY, base_url=sb.base_url, cache=out / "cache.sqlite", page_size=5)
    texts += [repr(api), str(api), repr(api._http.auth), repr(sb), repr(sb.requests)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sessions = api.video_sessions(video_id)
        events = api.events(sessions)
        time.sleep(2.2)  # the access token expires: refresh (and rotate the refresh token)
        sessions = api.video_sessions(video_id, refresh=True)
        events = api.events(sessions, refresh=True)
        api.metrics("play", "count")
        api.breakdown("play", "country")
        for call in (
            lambda: api.video_sessions("vi_does_not_exist"),
            lambda: api.session_events("ps_does_not_exist"),
            lambda: avi.connect(WRONG_KEY, base_url=sb.base_url, cache=None).videos(),
            lambda: avi.connect(WRONG_KEY, base_url=sb.base_url, cache=None, auth="basic").videos(),
            lambda: avi.connect(KEY + " trailing", base_url=sb.base_url, cache=None),
        ):
            try:
                call()
            except Exception as exc:
                errors.append(exc)
        avi.report(api, out / "report.html", videos=[video_id], max_videos=1, dpi=40)
        api.write_events_parquet(events, out / "events")
        texts += [json.dumps(f.attrs, default=str) for f in (sessions, events)]
        texts += [str(w.message) for w in caught]
    assert any(isinstance(e, AuthError) for e in errors)
    assert len(errors) == 5
    texts += [_exception_text(e) for e in errors]
    api.close()

    # The exported notebook: run and exported with the toolkit's own helpers.
    from apivideo_insights._demo import export_notebook, run_notebook

    book = out / "secrets.ipynb"
    _notebook(book, sb.base_url, video_id)
    monkeypatch.setenv("APIVIDEO_API_KEY", KEY)
    monkeypatch.setenv("WRONG_KEY", WRONG_KEY)
    executed = run_notebook(book, timeout=60)
    for code in (True, False):
        (out / f"secrets{'' if code else '.no-code'}.html").write_text(
            export_notebook(executed, code=code), encoding="utf-8"
        )
    import nbformat

    nbformat.write(executed, out / "secrets.executed.ipynb")

    assert len(secrets.values) >= 2 + 4, "expected a token, a refresh and their rotations"
    leaks: dict[str, list[str]] = {}
    files = _files(out)
    for path in files:
        found = secrets.found_in(path.read_bytes())
        if found:
            leaks[str(path.relative_to(out))] = found
    log_text = "\n".join(
        r.getMessage() + (_exception_text(r.exc_info[1]) if r.exc_info else "")
        for r in caplog.records
    )
    for name, text in (("logs", log_text), ("reprs/errors/attrs", "\n".join(texts))):
        found = secrets.found_in(text)
        if found:
            leaks[name] = found
    record(
        "secrets.scan",
        secrets=len(secrets.values),
        files=len(files),
        log_records=len(caplog.records),
        errors=len(errors),
        leaks=leaks,
    )
    assert {p.name for p in files} >= {"cache.sqlite", "report.html", "secrets.html"}
    assert leaks == {}


def test_a_failed_auth_never_echoes_the_key(sandbox):
    sb, _ = sandbox
    for auth in ("bearer", "basic"):
        api = avi.connect(WRONG_KEY, base_url=sb.base_url, cache=None, auth=auth)
        with pytest.raises(AuthError) as info:
            api.videos()
        text = _exception_text(info.value)
        assert WRONG_KEY not in text and WRONG_KEY[:12] not in text
        assert "key" in str(info.value).lower()  # still says what to check
    assert KEY not in repr(sb) and KEY not in repr(sb.requests)


# ----------------------------------------------------------------------------- TLS


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).seen.append(f"{self.command} {self.path} {self.headers} {body!r}")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _any


@pytest.mark.skipif(not Path("/usr/bin/openssl").exists(), reason="needs the openssl command")
@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_tls_verification_cannot_be_turned_off_by_accident(tmp_path, monkeypatch, auth):
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        # The usual ways verification gets switched off in an environment.
        for name in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
            monkeypatch.setenv(name, "")
        monkeypatch.setenv("PYTHONHTTPSVERIFY", "0")
        base_url = f"https://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(TypeError):
            avi.connect(KEY, base_url=base_url, cache=None, verify=False)  # type: ignore[call-arg]
        api = avi.connect(KEY, base_url=base_url, cache=None, auth=auth, timeout=5)
        assert api._http.session.verify is True
        with pytest.raises(APIError) as info:
            api.videos()
        assert "SSL" in str(info.value) or "certificate" in str(info.value).lower()
        assert KEY not in _exception_text(info.value)
        api.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert _Recorder.seen == [], "a request (and the key) went to an unverified server"


# ------------------------------------------------------------------------- loopback


def _listening(pid: int, port: int) -> set[str]:
    addresses = set()
    for conn in psutil.Process(pid).net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            addresses.add(conn.laddr.ip)
    return addresses


def test_the_sandbox_listens_on_loopback_unless_told_otherwise(world, sandbox_server):
    with serve(world) as sb:
        assert urlsplit(sb.base_url).hostname == "127.0.0.1"
        assert _listening(os.getpid(), sb.port) == {"127.0.0.1"}
    made = sandbox_server()  # the pytest plugin's factory
    assert _listening(os.getpid(), made.port) == {"127.0.0.1"}
    # Told otherwise, it does as told (and only then).
    with serve(world, host="0.0.0.0") as wide:
        assert _listening(os.getpid(), wide.port) == {"0.0.0.0"}


def test_the_sandbox_command_listens_on_loopback(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "apivideo_insights.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base_url = None
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline and base_url is None:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("APIVIDEO_BASE_URL="):
                base_url = line.strip().split("=", 1)[1]
        assert base_url, "the sandbox command printed no APIVIDEO_BASE_URL line"
        parts = urlsplit(base_url)
        assert parts.hostname == "127.0.0.1"
        assert _listening(proc.pid, int(parts.port or 0)) == {"127.0.0.1"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_frames_written_to_parquet_carry_no_credentials(sandbox, world, tmp_path):
    """attrs travel into Parquet metadata: they hold the endpoint and params, never a key."""
    sb, secrets = sandbox
    api = avi.connect(KEY, base_url=sb.base_url, cache=None)
    video_id = str(world.sessions["video_id"].dropna().value_counts().index[0])
    events = api.events(api.video_sessions(video_id))
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    assert secrets.found_in(path.read_bytes()) == []
    assert set(pd.read_parquet(path).columns) >= set(avi.schema.EVENT_COLUMNS)
    api.close()
