"""Placeholder: being written (see the module owner in CONTRIBUTING.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["plot_concurrency", "plot_engagement", "plot_heatmap", "plot_retention"]


def plot_retention(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("plot_retention is not written yet")


def plot_heatmap(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("plot_heatmap is not written yet")


def plot_concurrency(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("plot_concurrency is not written yet")


def plot_engagement(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("plot_engagement is not written yet")
