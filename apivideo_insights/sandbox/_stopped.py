"""Which sandbox servers this process started and then stopped.

A client that cannot reach a loopback URL asks here, so that its error can say "the sandbox at
... was stopped" rather than a bare connection error (a notebook's last cell often stops it).
"""

from __future__ import annotations

import threading

__all__ = ["mark_started", "mark_stopped", "was_stopped"]

_lock = threading.Lock()
_stopped: set[str] = set()


def _norm(url: str) -> str:
    return url.rstrip("/").lower()


def mark_started(base_url: str) -> None:
    """Forget that ``base_url`` was stopped (a new sandbox took its port)."""
    with _lock:
        _stopped.discard(_norm(base_url))


def mark_stopped(base_url: str) -> None:
    """Remember that the sandbox serving ``base_url`` was stopped by this process."""
    with _lock:
        _stopped.add(_norm(base_url))


def was_stopped(url: str) -> str | None:
    """The base URL of a stopped sandbox that ``url`` belongs to, or None."""
    u = _norm(url)
    with _lock:
        for base in _stopped:
            if u == base or u.startswith(base + "/"):
                return base
    return None
