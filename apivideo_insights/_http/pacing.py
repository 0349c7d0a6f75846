"""Rate-limit pacing and retries, with one cap on every wait.

* :class:`Pacer` reads ``X-RateLimit-Remaining`` / ``X-RateLimit-Retry-After`` from real
  answers and spreads requests over what is left of the window, so a long load runs just
  under the limit instead of into 429s. It sits in the adapter, so cache hits skip it.
* :class:`RateLimitRetry`: urllib3 retries: 5xx and connection errors with exponential
  backoff; 429 after ``Retry-After`` / ``X-RateLimit-Retry-After`` (api.video sends the
  latter on *every* answer, so it is read on 429 only).

No wait is ever longer than ``max_wait`` (default 60 s: api.video's window is a minute),
whatever a server asks (``Retry-After: 1e9``, an HTTP-date in year 9999, or
``X-RateLimit-Remaining: 0`` with a huge window): a 429 asking for more is not retried but
raised as :class:`~apivideo_insights.RateLimitError`, and a window reported longer is
taken as ``max_wait`` long, with one warning.

>>> parse_wait("7"), parse_wait("soon"), parse_wait("Fri, 31 Dec 9999 23:59:59 GMT") > 1e9
(7.0, None, True)
"""

from __future__ import annotations

import email.utils
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import urllib3
from urllib3.util.retry import Retry

from ..exceptions import warn
from ..sandbox._stopped import was_stopped

__all__ = ["MAX_WAIT", "Pacer", "RateLimitRetry", "parse_wait"]

log = logging.getLogger("apivideo_insights")

#: The longest wait by default: api.video's rate-limit window is one minute.
MAX_WAIT = 60.0


def parse_wait(value: Any) -> float | None:
    """Seconds a ``Retry-After``-like header asks for (a number or an HTTP-date), or None."""
    if value is None:
        return None
    text = str(value).strip()[:64]
    try:
        number = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    if math.isnan(number):
        return None
    return max(number, 0.0)


class Pacer:
    """Spread requests over the rate-limit window the server reports.

    api.video counts requests per minute and answers with ``X-RateLimit-Limit``,
    ``X-RateLimit-Remaining`` and ``X-RateLimit-Retry-After`` (seconds until the window
    resets). The pacer keeps the lowest ``Remaining`` the server reported in the current
    window and counts the requests sent but not answered yet; a request may go while
    (remaining - in flight) is at least one. It lets requests through at full speed while
    plenty remain, spreads the last ``reserve`` of the budget over the time left when the
    running load wants more than that (so a load that fits is never slowed), waits for
    answers in flight when the budget looks spent, and holds every thread until the reset
    once the server says nothing remains (or after a 429). Thread-safe.

    Parameters
    ----------
    reserve : float
        Fraction of the limit below which requests are spread rather than sent at once.
    margin : float
        Seconds added to the reported reset time (the header is whole seconds).
    max_wait : float
        No reset is taken as further away than this (see the module's docstring).
    """

    def __init__(
        self,
        *,
        reserve: float = 0.1,
        margin: float = 0.05,
        max_wait: float = MAX_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reserve = reserve
        self.margin = margin
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.limit: float | None = None
        #: The lowest X-RateLimit-Remaining heard in the current window (None: unknown).
        self.remaining: float | None = None
        self.reset_at: float | None = None
        self._next_at = 0.0
        self._in_flight = 0
        #: Requests a running load has queued but not started (set by the page reader).
        self.demand = 0
        #: Seconds spent waiting, and 429s seen (for benchmarks and diagnostics).
        self.waited = 0.0
        self.throttled = 0
        #: The longest wait a server asked for beyond ``max_wait`` (0: none).
        self.capped = 0.0

    @property
    def available(self) -> float | None:
        """Requests that may still go in this window, by the pacer's reckoning."""
        if self.remaining is None:
            return None
        return self.remaining - self._in_flight

    def add_demand(self, n: int) -> None:
        """Tell the pacer how many more requests a load has queued (negative: started)."""
        with self._lock:
            self.demand = max(0, self.demand + n)

    def acquire(self) -> None:
        """Block until a request may be sent, then count it as in flight."""
        while True:
            with self._lock:
                wait, go = self._slot(self._clock())
            if go:
                if wait > 0:
                    self._sleep(wait)
                return
            self._sleep(wait)

    def _slot(self, now: float) -> tuple[float, bool]:
        """``(seconds to wait, whether the request may go after them)``; under the lock."""
        if self.reset_at is not None and now >= self.reset_at:
            # A new window: assume the full limit until the server says otherwise.
            self.remaining = self.limit
            self.reset_at = None
            self._next_at = now
        available = self.available
        if available is None or self.reset_at is None:
            self._in_flight += 1
            return 0.0, True
        if available >= 1:
            self._in_flight += 1
            wait = 0.0
            limit = self.limit or available
            # Spread the window's last requests only when the load wants more than the
            # server says is left (answers in flight may be counted there already): a load
            # that fits goes at full speed.
            wants_more = self.demand + 1 > (self.remaining or 0)
            if available - 1 < self.reserve * limit and wants_more:
                # This request and the (available - 1) after it share the time left from
                # its slot to the reset: the last one lands before it. The header is in
                # whole seconds: finish a second early.
                end = self.reset_at - 1.0 - self.margin
                slot = min(max(now, self._next_at), max(now, end))
                self._next_at = slot + max(end - slot, 0.0) / available
                wait = slot - now
            self.waited += max(wait, 0.0)
            return wait, True
        if self._in_flight > 0:
            # Answers on their way will tell how much is really left.
            return 0.01, False
        wait = max(self.reset_at - now, 0.001)
        self.waited += wait
        return wait, False

    def release(self) -> None:
        """A request sent through :meth:`acquire` got no answer (connection error)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a real answer's headers (call once per :meth:`acquire`)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._learn(status, headers)

    def observe_retry(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an intermediate answer urllib3 is about to retry (no acquire)."""
        with self._lock:
            self._learn(status, headers)

    def _cap(self, wait: float) -> float:
        if wait > self.max_wait:
            first = self.capped == 0.0
            self.capped = max(self.capped, wait)
            if first:
                warn(
                    f"the server asked to wait {wait:.0f} s before the next request; waiting "
                    f"at most {self.max_wait:.0f} s (api.video's rate-limit window is a minute)"
                )
            return self.max_wait
        return wait

    def _learn(self, status: int, headers: Mapping[str, str]) -> None:
        now = self._clock()
        limit = _finite(parse_wait(headers.get("X-RateLimit-Limit")))
        remaining = _finite(parse_wait(headers.get("X-RateLimit-Remaining")))
        reset = parse_wait(headers.get("X-RateLimit-Retry-After"))
        if status == 429:
            self.throttled += 1
            after = parse_wait(headers.get("Retry-After"))
            wait = self._cap(max(x for x in (after, reset, 1.0) if x is not None))
            self.remaining = 0
            self.reset_at = max(self.reset_at or 0.0, now + wait + self.margin)
            return
        if limit is not None:
            self.limit = limit
        if remaining is None or reset is None:
            return
        if remaining < 1:
            reset = self._cap(reset)
        else:
            reset = min(reset, self.max_wait)
        reset_at = now + reset + self.margin
        if self.reset_at is None or self.remaining is None or reset_at > self.reset_at + 1.0:
            self.remaining = remaining
            self.reset_at = reset_at
        else:
            self.remaining = min(self.remaining, remaining)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class RateLimitRetry(Retry):
    """urllib3 ``Retry`` that waits on 429 as api.video asks, and backs off on 5xx.

    ``X-RateLimit-Retry-After`` comes with every api.video answer (it is the time to the
    window's reset, up to a minute), so it is honoured only on 429; 5xx and connection
    errors use exponential backoff. A 429 asking for more than ``max_wait`` is not retried
    (the caller raises :class:`~apivideo_insights.RateLimitError`). A :class:`Pacer`, when
    given, hears about each 429 so that the other threads hold back too. A refused
    connection to a sandbox this process stopped is not retried either.
    """

    def __init__(
        self, *args: Any, pacer: Pacer | None = None, max_wait: float = MAX_WAIT, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer
        self.max_wait = max_wait

    def new(self, **kw: Any) -> RateLimitRetry:
        kw.setdefault("pacer", self.pacer)
        kw.setdefault("max_wait", self.max_wait)
        return super().new(**kw)  # type: ignore[return-value]

    def _asked(self, response: Any) -> float | None:
        if response is None or response.status != 429:
            return None
        for name in ("Retry-After", "X-RateLimit-Retry-After"):
            wait = parse_wait(response.headers.get(name))
            if wait is not None:
                return wait
        return None

    def get_retry_after(self, response: Any) -> float | None:
        wait = self._asked(response)
        # 0 would mean "now" but the window may not have turned yet.
        return None if wait is None else min(max(wait, 0.5), self.max_wait)

    def increment(self, *args: Any, **kwargs: Any) -> RateLimitRetry:
        error = kwargs.get("error")
        pool: Any = kwargs.get("_pool")
        if isinstance(error, urllib3.exceptions.SSLError):
            # A certificate problem does not go away by asking again: fail at once.
            raise urllib3.exceptions.MaxRetryError(pool, kwargs.get("url"), error)
        if isinstance(error, urllib3.exceptions.NewConnectionError) and pool is not None:
            base = f"{pool.scheme}://{pool.host}:{pool.port}"
            if was_stopped(base) is not None:
                raise urllib3.exceptions.MaxRetryError(pool, kwargs.get("url"), error)
        response = kwargs.get("response")
        if response is None and len(args) >= 3:
            response = args[2]
        if response is not None:
            asked = self._asked(response)
            if asked is not None and asked > self.max_wait:
                # Waiting would outlast any call: urllib3 hands the 429 back as it is
                # (raise_on_status=False), and the caller raises RateLimitError.
                raise urllib3.exceptions.MaxRetryError(pool, kwargs.get("url"), None)
            if self.pacer is not None:
                self.pacer.observe_retry(response.status, response.headers)
        return super().increment(*args, **kwargs)  # type: ignore[return-value]
