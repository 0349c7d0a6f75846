"""What the loader mixins (:mod:`._analytics`, :mod:`._aggregates`) use of
:class:`~apivideo_insights.Client`, declared for the type checker only.

:class:`~apivideo_insights.Client` implements each of these (in :mod:`.client`); at run
time this class is empty, so the Client's methods are the only ones. mypy checks that the
Client's signatures still match these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ._http import Http
    from ._pagination import Listing

__all__ = ["Plumbing"]


class Plumbing:
    """The Client's HTTP session, settings and page-load plumbing, as the mixins see them."""

    if TYPE_CHECKING:
        _http: Http
        max_workers: int
        progress: bool | None
        page_size: int

        def _memo(
            self,
            loader: str,
            path: str,
            params: Sequence[tuple[str, Any]] | Mapping[str, Any],
            refresh: bool,
            load: Callable[[], tuple[pd.DataFrame, list[Any]]],
            *shape: Any,
        ) -> pd.DataFrame:
            raise NotImplementedError

        def _stamp(
            self,
            frame: pd.DataFrame,
            endpoint: str,
            params: Sequence[tuple[str, Any]] | Mapping[str, Any],
            responses: Iterable[Any] = (),
            *,
            duplicates: int = 0,
            listings: Iterable[Listing] = (),
            **extra: Any,
        ) -> pd.DataFrame:
            raise NotImplementedError

        def _paged(
            self,
            loader: str,
            path: str,
            params: list[tuple[str, Any]],
            *,
            key: str | Callable[[Mapping[str, Any]], Any],
            expire_after: Any,
            refresh: bool,
            desc: str,
            build: Callable[[Listing], pd.DataFrame],
            shape: Sequence[Any] = (),
            with_context: bool = False,
        ) -> pd.DataFrame:
            raise NotImplementedError

        def _data_expire(self, metric: str, end: pd.Timestamp | None, total: bool = False) -> Any:
            raise NotImplementedError
