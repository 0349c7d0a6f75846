"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["heatmap", "retention"]


def retention(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("retention is not written yet")


def heatmap(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("heatmap is not written yet")
