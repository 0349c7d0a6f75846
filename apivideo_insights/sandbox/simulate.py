"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["simulate"]


def simulate(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("simulate is not written yet")
