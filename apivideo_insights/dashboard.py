"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["dashboard"]


def dashboard(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("dashboard is not written yet")
