"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["serve"]


def serve(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("serve is not written yet")


def main(argv: Any = None) -> int:
    raise NotImplementedError("main is not written yet")
