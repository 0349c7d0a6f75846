"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["chapter_engagement", "read_chapters"]


def read_chapters(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("read_chapters is not written yet")


def chapter_engagement(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("chapter_engagement is not written yet")
