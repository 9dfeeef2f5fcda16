"""Who is calling: derived once per request and used for rate limits, quotas and the fair
queue.

An anonymous caller is known by its client address. A feature that knows better (the
classroom: a teacher's session, a student's seat with its class) registers a resolver here, so
this module knows no domain package and the rate limiter, the queue and the quotas need no
change: students behind one school NAT get a bucket, a turn and a quota each.
"""

from __future__ import annotations

from collections.abc import Callable
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


# Each returns the connection's Caller, or None when it has nothing to say (no cookie of its
# own): the first answer wins, else the caller is anonymous.
CallerResolver = Callable[[HTTPConnection], "Caller | None"]
_resolvers: list[CallerResolver] = []


def register_resolver(resolver: CallerResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def caller_of(connection: HTTPConnection) -> Caller:
    """The request's Caller, once per request: what a registered resolver finds (a signed
    cookie, never a header a client writes), else the client address."""
    cached = connection.scope.get("playground.caller")
    if isinstance(cached, Caller):
        return cached
    caller = next((found for found in (resolve(connection) for resolve in _resolvers)
                   if found is not None), None)
    if caller is None:
        host = connection.client.host if connection.client else "unknown"
        caller = Caller(kind="anonymous", id=host)
    connection.scope["playground.caller"] = caller
    return caller
