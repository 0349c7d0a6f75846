"""Placeholder for the main job (avi demo)."""

from typing import Any


def main(argv: Any = None) -> int:
    raise NotImplementedError
