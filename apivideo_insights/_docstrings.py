"""Shared numpydoc fragments, injected into docstrings with ``str.format``.

A lighter version of seaborn's ``_docstrings.py``: one dict per section, so that the
``ax``, ``progress`` and frame parameters read the same in every function that takes them.
Use ``{params[ax]}`` style fields in a docstring and call :func:`fill` on the function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar

__all__ = ["PARAMS", "RETURNS", "SEE_ALSO", "fill"]

F = TypeVar("F", bound=Callable[..., object])

PARAMS: dict[str, str] = {
    "ax": """\
ax : matplotlib.axes.Axes, optional
    Axes to draw into; by default the current Axes (``plt.gca()``). Only this Axes is
    touched, so plots compose like seaborn's axes-level functions.""",
    "kwargs": """\
**kwargs
    Passed to the underlying matplotlib call (line, image or bar) to style the plot.""",
    "progress": """\
progress : bool, optional
    Show tqdm progress bars while loading through a client. ``None`` follows the
    client's own setting; pass ``False`` in notebooks meant for export, so that the
    exported HTML holds no stale bars.""",
    "bin_size": """\
bin_size : float, default 1.0
    Width of one bin, in media seconds.""",
    "duration": """\
duration : float, Series, dict or DataFrame
    The video's length in media seconds: one number for every video, or lengths by
    ``video_id`` (a Series or dict indexed by ``video_id``, or a frame with ``video_id``
    and ``duration`` columns such as ``api.video_status(video_id)`` or ``api.videos()``),
    matched on the segments' ``video_id``. A length must be finite and above 0;
    :mod:`apivideo_insights._durations` is where every length is decided.""",
    "sessions": """\
sessions : pandas.DataFrame, optional
    The sessions frame, one row per ``session_id`` (``api.video_sessions(...)`` or
    ``api.live_stream_sessions(...)``): ``by`` may name its columns (``"device_type"``,
    ``"location_country"``, ``"referrer_medium"``...) or a metadata key as
    ``"metadata.<key>"``, looked up by ``session_id``.""",
    "period": """\
period : str, optional
    The legacy analytics ``period`` (``"2024-01-01/2024-01-31"``, ``"2024-01"``,
    ``"2024-W03"`` ...). ``None`` lets the API (or sandbox) choose its default.""",
    "frames": """\
videos, sessions, events, segments : pandas.DataFrame, optional
    Frames already loaded (``api.videos()``, ``api.video_sessions(...)``,
    ``api.events(...)``, ``avi.segments(...)``); each one given is used instead of a
    request. ``segments`` is computed from ``events`` when not given.
durations : pandas.Series or dict, optional
    Video lengths in seconds by ``video_id`` (what the metrics take as ``duration``);
    needed for retention and heatmaps when no client can look them up
    (``api.video_status``). A video without one is drawn to the end of its ``end``
    events, or to the furthest position watched, and marked estimated.""",
}

RETURNS: dict[str, str] = {
    "ax": """\
ax : matplotlib.axes.Axes
    The Axes the plot was drawn into.""",
}

SEE_ALSO: dict[str, str] = {
    "retention": "retention : Compute the retention curve this function draws.",
    "heatmap": "heatmap : Compute the per-session pass counts this function draws.",
    "concurrency": "concurrency : Compute concurrent live viewers over time.",
    "engagement": "engagement : Compute the per-video (or per-cohort) summary table.",
}


def fill(func: F) -> F:
    """Fill ``{params[...]}``, ``{returns[...]}`` and ``{see_also[...]}`` in a docstring."""
    if func.__doc__:
        # Dedent first: the fragments start at column 0, like a cleaned docstring.
        doc = inspect.cleandoc(func.__doc__)
        func.__doc__ = doc.format(params=PARAMS, returns=RETURNS, see_also=SEE_ALSO)
    return func
