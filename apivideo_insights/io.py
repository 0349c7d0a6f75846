"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["read_events"]


def read_events(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("read_events is not written yet")
