"""Fixtures for every test and every docstring example (``tests/`` and the package's
doctests). Each may talk to 127.0.0.1 / ::1 only: the guard below refuses any other
address, so nothing run by pytest can reach api.video or anything else outside."""

from __future__ import annotations

import ipaddress
import socket

import matplotlib
import pytest

matplotlib.use("Agg")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = str(address[0])
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded(real):  # type: ignore[no-untyped-def]
    def connect(self, address):  # type: ignore[no-untyped-def]
        if not _is_loopback(address):
            raise OSError(f"tests may only connect to loopback, not {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True, scope="session")
def _loopback_only():
    socket.socket.connect = _guarded(_real_connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded(_real_connect_ex)  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the developer's key, base URL or cache."""
    for name in ("APIVIDEO_API_KEY", "APIVIDEO_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APIVIDEO_INSIGHTS_CACHE_DIR", str(tmp_path / "cache"))
    yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
