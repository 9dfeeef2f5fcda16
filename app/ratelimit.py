"""A per-client token bucket for /eval. In-memory: one web process serves a classroom."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from app import metrics
from app.callers import Caller, caller_of
from app.config import Settings
from app.message import Message

_MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimitedError(Exception):
    def __init__(self, retry_after_s: int) -> None:
        self.said = Message("too many requests; retry in {seconds} s", seconds=retry_after_s)
        super().__init__(str(self.said))
        self.retry_after_s = retry_after_s


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str, now: float | None = None) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= _MAX_CLIENTS:
                self._buckets.clear()  # bounded memory; forgetting grants a fresh bucket
            bucket = self._buckets[client] = _Bucket(float(self.per_minute), now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise RateLimitedError(max(1, int((1 - bucket.tokens) / rate) + 1))
        bucket.tokens -= 1


_limiters: dict[int, RateLimiter] = {}


def enforce_rate_limit(request: HTTPConnection | Caller, settings: Settings) -> None:
    """Take a token from the bucket of the request's Caller (app/callers.py), at the
    caller's own rate when it has one."""
    caller = request if isinstance(request, Caller) else caller_of(request)
    # An API key brings its own rate (app/classroom/apikeys.py); everyone else the setting's.
    per_minute = (settings.rate_limit_per_minute if caller.rate_limit_per_minute is None
                  else caller.rate_limit_per_minute)
    limiter = _limiters.get(per_minute)
    if limiter is None:
        limiter = _limiters[per_minute] = RateLimiter(per_minute)
    try:
        limiter.take(caller.key)
    except RateLimitedError:
        metrics.REFUSALS.labels("rate_limit").inc()
        raise
