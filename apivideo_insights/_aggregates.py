"""Today's ``/data`` analytics, as :class:`~apivideo_insights.Client` methods.

``GET /data/metrics/{metric}/{aggregation}`` (one number), ``/data/buckets/{metric}/
{breakdown}`` (a metric split by a dimension) and ``/data/timeseries/{metric}`` (a metric
over time). Arguments are checked against the spec's enums (:mod:`._spec`) before any
request, by :mod:`._params`.

A mixin: :class:`~apivideo_insights.Client` brings the HTTP session and the page-load
plumbing (:class:`~apivideo_insights._plumbing.Plumbing`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from . import _params, _wire
from ._pagination import Listing
from ._plumbing import Plumbing
from .schema import BREAKDOWN_COLUMNS, TIMESERIES_COLUMNS

__all__ = ["AggregateLoaders"]


class AggregateLoaders(Plumbing):
    """``metrics``, ``breakdown`` and ``timeseries``."""

    def metrics(
        self,
        metric: str,
        aggregation: str,
        *,
        start: Any = None,
        end: Any = None,
        refresh: bool = False,
        **filters: Any,
    ) -> pd.DataFrame:
        """One aggregated number (``GET /data/metrics/{metric}/{aggregation}``).

        Parameters
        ----------
        metric : str
            ``play, start, end, impression, impression-time, watch-time, ccv, view``.
        aggregation : str
            ``count, rate, total, average, sum, peak, live``.
        start, end : str, datetime or Timestamp, optional
            The window (``end`` excluded); api.video's default is the day before now.
        **filters
            ``media_id, media_type, continent, country, device_type, operating_system,
            browser, tag, referrer`` (a value or a list), ``unique``, ``view_duration``.

        Returns
        -------
        pandas.DataFrame
            One row: ``metric, aggregation, start, end, value``.

        Examples
        --------
        >>> api.metrics("play", "count", country="FR")                  # doctest: +SKIP
        """
        _params.choice(metric, _params.METRICS, "metric")
        _params.choice(aggregation, _params.AGGREGATIONS, "aggregation")
        # The spec allows each metric only some aggregations: say which, before any request.
        valid = _params.METRIC_AGGREGATIONS[metric]
        _params.choice(aggregation, valid, f"aggregation (for {metric})")
        params, t1 = _params.data_params("metrics", start=start, end=end, filters=filters)
        path = f"/data/metrics/{metric}/{aggregation}"

        def load() -> tuple[pd.DataFrame, list[Any]]:
            body, response = self._http.get_json(
                path,
                params,
                expire_after=self._data_expire(metric, t1, total=aggregation == "total"),
                refresh=refresh,
            )
            frame = _wire.metric_frame(body, metric=metric, aggregation=aggregation, url=path)
            context = frame.attrs.get("context", {})
            return self._stamp(frame, path, params, [response], context=context), [response]

        return self._memo("metrics", path, params, refresh, load)

    def breakdown(
        self,
        metric: str,
        breakdown: str,
        *,
        start: Any = None,
        end: Any = None,
        refresh: bool = False,
        **filters: Any,
    ) -> pd.DataFrame:
        """A metric split by a dimension (``GET /data/buckets/{metric}/{breakdown}``).

        ``metric``: ``play, play-rate, play-total, start, end, impression, ccv-peak,
        ccv-average, view``; ``breakdown``: ``media-id, media-type, continent, country,
        device-type, operating-system, browser, referrer``; filters as in
        :meth:`metrics`, plus ``sort_by`` (``metric_value``/``dimension_value``) and
        ``sort_order``. Returns ``dimension_value, metric_value``, one row per bucket.
        """
        _params.choice(metric, _params.BREAKDOWN_METRICS, "metric")
        _params.choice(breakdown, _params.BREAKDOWNS, "breakdown")
        params, t1 = _params.data_params("buckets", start=start, end=end, filters=filters)
        path = f"/data/buckets/{metric}/{breakdown}"
        return self._data_list(
            "breakdown",
            path,
            params,
            key="dimensionValue",
            columns=BREAKDOWN_COLUMNS,
            required=["dimension_value", "metric_value"],
            expire_after=self._data_expire(metric, t1),
            refresh=refresh,
            desc=f"{metric} by {breakdown}",
        )

    def timeseries(
        self,
        metric: str,
        *,
        interval: str | None = None,
        start: Any = None,
        end: Any = None,
        refresh: bool = False,
        **filters: Any,
    ) -> pd.DataFrame:
        """A metric over time (``GET /data/timeseries/{metric}``).

        ``metric``: ``play, play-rate, start, end, impression, ccv-peak, ccv-average,
        view``; ``interval``: ``minute, hour, day`` (api.video's default: hour up to two
        days, else day). Returns ``emitted_at, metric_value``, one row per interval.
        """
        _params.choice(metric, _params.TIMESERIES_METRICS, "metric")
        if interval is not None:
            _params.choice(interval, _params.INTERVALS, "interval")
        params, t1 = _params.data_params("timeseries", start=start, end=end, filters=filters)
        if interval is not None:
            params.append(("interval", interval))
        path = f"/data/timeseries/{metric}"
        return self._data_list(
            "timeseries",
            path,
            params,
            key="emittedAt",
            columns=TIMESERIES_COLUMNS,
            required=["emitted_at", "metric_value"],
            expire_after=self._data_expire(metric, t1),
            refresh=refresh,
            desc=f"{metric} over time",
            sort_by="emitted_at",
        )

    def _data_list(
        self,
        what: str,
        path: str,
        params: list[tuple[str, Any]],
        *,
        key: str,
        columns: Mapping[str, Any],
        required: Sequence[str],
        expire_after: Any,
        refresh: bool,
        desc: str,
        sort_by: str | None = None,
    ) -> pd.DataFrame:
        """A paginated ``/data`` answer (buckets or timeseries) as one frame."""

        def build(listing: Listing) -> pd.DataFrame:
            frame = _wire.resource_frame(
                listing.items, columns, required=required, what=what, url=path
            )
            if sort_by is not None and len(frame):
                frame = frame.sort_values(sort_by, kind="stable").reset_index(drop=True)
            return frame

        return self._paged(
            what,
            path,
            params,
            key=key,
            expire_after=expire_after,
            refresh=refresh,
            desc=desc,
            build=build,
            with_context=True,
        )
