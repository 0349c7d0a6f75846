"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["Client", "connect"]


def connect(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("connect is not written yet")


class Client:
    """Placeholder."""
