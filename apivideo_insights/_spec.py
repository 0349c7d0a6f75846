"""The ``/data`` analytics enums of api.video's OpenAPI spec (``openapi.yaml``), once.

The client checks its arguments against these before any request, and the sandbox server
answers 400 from the same tables, so the two can never disagree about what is valid.
"""

from __future__ import annotations

__all__ = [
    "AGGREGATIONS",
    "BREAKDOWNS",
    "BUCKET_METRICS",
    "INTERVALS",
    "METRICS",
    "METRIC_AGGREGATIONS",
    "TIMESERIES_METRICS",
    "VIEW_DURATIONS",
]

#: ``/data/metrics/{metric}/{aggregation}``: the valid aggregations of each metric (the
#: spec's descriptions; ``view``'s is undocumented and taken as ``count``).
METRIC_AGGREGATIONS: dict[str, tuple[str, ...]] = {
    "play": ("count", "rate", "total"),
    "start": ("count",),
    "end": ("count",),
    "impression": ("count",),
    "impression-time": ("average", "sum"),
    "watch-time": ("average", "sum"),
    "ccv": ("peak", "live"),
    "view": ("count",),
}
METRICS: tuple[str, ...] = tuple(METRIC_AGGREGATIONS)
AGGREGATIONS: tuple[str, ...] = ("count", "rate", "total", "average", "sum", "peak", "live")

#: ``/data/buckets/{metric}/{breakdown}``
BUCKET_METRICS: tuple[str, ...] = (
    "play",
    "play-rate",
    "play-total",
    "start",
    "end",
    "impression",
    "ccv-peak",
    "ccv-average",
    "view",
)
BREAKDOWNS: tuple[str, ...] = (
    "media-id",
    "media-type",
    "continent",
    "country",
    "device-type",
    "operating-system",
    "browser",
    "referrer",
)

#: ``/data/timeseries/{metric}``
TIMESERIES_METRICS: tuple[str, ...] = (
    "play",
    "play-rate",
    "start",
    "end",
    "impression",
    "ccv-peak",
    "ccv-average",
    "view",
)
INTERVALS: tuple[str, ...] = ("minute", "hour", "day")
VIEW_DURATIONS: tuple[str, ...] = ("3s", "5s", "10s", "30s")
