"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["concurrency"]


def concurrency(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("concurrency is not written yet")
