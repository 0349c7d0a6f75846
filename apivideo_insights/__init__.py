"""apivideo_insights: api.video as tidy DataFrames, and what viewers actually watched.

The namespace is flat (``import apivideo_insights as avi``); each name comes from the module
of its stage in the flow of data::

    client (HTTP loaders) / io (files)  ->  segments  ->  retention, heatmap, engagement,
    chapters, concurrency  ->  plotting  ->  dashboard  ->  report

The local api.video-compatible server and its simulated world live in
:mod:`apivideo_insights.sandbox`.
"""

from __future__ import annotations

from . import sandbox
from ._dask import dask_aware
from .chapters import chapter_engagement, read_chapters
from .client import Client, connect
from .concurrency import concurrency
from .dashboard import dashboard
from .engagement import engagement as _engagement
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
from .plotting import plot_concurrency, plot_engagement, plot_heatmap, plot_retention
from .report import report
from .retention import heatmap as _heatmap
from .retention import retention as _retention
from .segments import segments as _segments

# The same names accept a dask DataFrame of events partitioned by session (see _dask.py).
segments = dask_aware(_segments)
retention = dask_aware(_retention)
heatmap = dask_aware(_heatmap)
engagement = dask_aware(_engagement)

__version__ = "0.1.0"

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
    "concurrency",
    "connect",
    "dashboard",
    "engagement",
    "heatmap",
    "plot_concurrency",
    "plot_engagement",
    "plot_heatmap",
    "plot_retention",
    "read_chapters",
    "read_events",
    "read_pings",
    "report",
    "retention",
    "sandbox",
    "segments",
]
