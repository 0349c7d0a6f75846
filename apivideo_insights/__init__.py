"""apivideo_insights: api.video as tidy DataFrames, and what viewers actually watched.

The namespace is flat (``import apivideo_insights as avi``); each name comes from the module
of its stage in the flow of data::

    client (HTTP loaders) / io (files)  ->  segments  ->  retention, heatmap, engagement,
    chapters, concurrency  ->  plotting  ->  dashboard  ->  report

The local api.video-compatible server and its simulated world live in
:mod:`apivideo_insights.sandbox`; the columns and dtypes of every frame, in
:mod:`apivideo_insights.schema` (``avi.schema``).
"""

from __future__ import annotations

from . import sandbox, schema
from ._dask import collect
from ._version import __version__
from .chapters import chapter_engagement, read_chapters
from .client import Client, connect
from .concurrency import concurrency
from .dashboard import dashboard
from .engagement import engagement
from .exceptions import (
    APIError,
    AuthError,
    CacheError,
    CacheRebuiltWarning,
    InsightsError,
    NotFoundError,
    PartialLoadWarning,
    RateLimitError,
    SchemaError,
)
from .io import read_events
from .pings import read_pings
from .plotting import (
    plot_concurrency,
    plot_engagement,
    plot_heatmap,
    plot_retention,
    plot_steps,
)
from .report import report
from .retention import heatmap, retention
from .segments import segments

__all__ = [
    "APIError",
    "AuthError",
    "CacheError",
    "CacheRebuiltWarning",
    "Client",
    "InsightsError",
    "NotFoundError",
    "PartialLoadWarning",
    "RateLimitError",
    "SchemaError",
    "__version__",
    "chapter_engagement",
    "collect",
    "concurrency",
    "connect",
    "dashboard",
    "engagement",
    "heatmap",
    "plot_concurrency",
    "plot_engagement",
    "plot_heatmap",
    "plot_retention",
    "plot_steps",
    "read_chapters",
    "read_events",
    "read_pings",
    "report",
    "retention",
    "sandbox",
    "schema",
    "segments",
]
