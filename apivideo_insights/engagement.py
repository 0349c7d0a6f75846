"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["engagement"]


def engagement(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("engagement is not written yet")
