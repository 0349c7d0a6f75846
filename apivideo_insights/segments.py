"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["segments"]


def segments(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("segments is not written yet")
