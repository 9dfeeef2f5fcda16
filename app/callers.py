"""Who is calling: derived once per request and used for rate limits, quotas and the fair
queue.

Today every caller is anonymous and known by its client address. The classroom work will add
students, teachers and API keys (with a class); the type already has room for them, so the
rate limiter, the queue and the quotas need no change then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection

CallerKind = Literal["anonymous", "student", "teacher", "api_key"]


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    id: str
    class_id: str | None = None

    @property
    def key(self) -> str:
        """One string per caller: the rate-limit bucket and the queue's owner."""
        return f"{self.kind}:{self.id}"


def caller_of(connection: HTTPConnection) -> Caller:
    """The request's Caller: its client address for an anonymous caller."""
    cached = connection.scope.get("playground.caller")
    if isinstance(cached, Caller):
        return cached
    host = connection.client.host if connection.client else "unknown"
    caller = Caller(kind="anonymous", id=host)
    connection.scope["playground.caller"] = caller
    return caller
