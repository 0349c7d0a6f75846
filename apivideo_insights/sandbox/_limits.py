"""The sandbox's knobs for bad days: a fixed-window rate limit and seeded faults.

>>> limiter = RateLimiter(2)
>>> [limiter.hit()[0] for _ in range(3)]
[True, True, False]
>>> dice = FaultDice(Faults(error_rate=1.0))
>>> dice.draw(), dice.counts["error"]
('error', 1)
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["UNLIMITED", "FaultDice", "Faults", "RateLimiter"]

#: A limit large enough to mean "unlimited" while still sending the headers.
UNLIMITED = 1_000_000


@dataclass(frozen=True)
class Faults:
    """Seeded fault injection: each API request draws once and may get one fault.

    Auth requests and the chapters' WebVTT files are never faulted (nor rate limited):
    a client can always get a token. A rate-limited request (429) draws no fault.

    Parameters
    ----------
    error_rate : float
        Share of requests answered ``500`` (problem JSON, ``"Server error"``).
    drop_rate : float
        Share of requests whose connection is closed without an answer.
    slow_rate : float
        Share of requests answered only after ``slow_seconds`` (longer than a client
        timeout, so that the client sees a read timeout).
    slow_seconds : float
        Delay of a slow answer.
    seed : int
        Seed of the draws: the same requests in the same order get the same faults.

    Examples
    --------
    >>> Faults(error_rate=0.1, seed=1)
    Faults(error_rate=0.1, drop_rate=0.0, slow_rate=0.0, slow_seconds=2.0, seed=1)
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "slow_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"faults {name} must be between 0 and 1, got {value!r}.")
        if self.error_rate + self.drop_rate + self.slow_rate > 1.0:
            raise ValueError("faults error_rate + drop_rate + slow_rate must not exceed 1.")
        if self.slow_seconds < 0:
            raise ValueError("faults slow_seconds must be >= 0.")

    @classmethod
    def coerce(cls, value: Faults | Mapping[str, Any] | None) -> Faults:
        """A :class:`Faults` from ``None``, a dict, or any object with those attributes."""
        if value is None:
            return cls()
        if isinstance(value, Faults):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise TypeError(
                    f"unknown faults keys {sorted(unknown)}: use error_rate, drop_rate, "
                    "slow_rate, slow_seconds and seed."
                )
            return cls(**value)
        return cls(
            **{
                name: getattr(value, name)
                for name in cls.__dataclass_fields__
                if hasattr(value, name)
            }
        )


class FaultDice:
    """The seeded draws of one server: each API request draws once and may get one fault."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self.lock = threading.Lock()
        self.counts = {"error": 0, "drop": 0, "slow": 0}

    def draw(self) -> str | None:
        """``"error"``, ``"drop"``, ``"slow"`` or None."""
        f = self.faults
        if not (f.error_rate or f.drop_rate or f.slow_rate):
            return None
        with self.lock:
            x = self._rng.random()
            kind = None
            if x < f.error_rate:
                kind = "error"
            elif x < f.error_rate + f.drop_rate:
                kind = "drop"
            elif x < f.error_rate + f.drop_rate + f.slow_rate:
                kind = "slow"
            if kind:
                self.counts[kind] += 1
        return kind

    def reset(self) -> None:
        with self.lock:
            for k in self.counts:
                self.counts[k] = 0


class RateLimiter:
    """A fixed window (api.video: one minute), started by the first request after the last
    one ended."""

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._start = 0.0
        self._count = 0

    def hit(self) -> tuple[bool, dict[str, str]]:
        limit = UNLIMITED if self.limit is None else self.limit
        with self._lock:
            now = time.monotonic()
            if self._count == 0 or now - self._start >= self.window:
                self._start, self._count = now, 0
            allowed = self._count < limit
            if allowed:
                self._count += 1
            remaining = max(0, limit - self._count)
            retry = max(1, math.ceil(self._start + self.window - now))
        return allowed, {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Retry-After": str(retry),
        }

    def reset(self) -> None:
        """Start a new window at the next request."""
        with self._lock:
            self._count = 0
