"""Who is calling: derived once per request and used for rate limits, quotas and the fair
queue.

An anonymous caller is known by its client address. A feature that knows better (the
classroom: a teacher's session, a student's seat with its class) registers a resolver here, so
this module knows no domain package and the rate limiter, the queue and the quotas need no
change: students behind one school NAT get a bucket, a turn and a quota each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from starlette.requests import HTTPConnection

CallerKind = Literal["anonymous", "student", "teacher", "api_key"]


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    id: str
    class_id: str | None = None
    # Limits of this caller's own (an API key's), over the server-wide settings when set:
    # /eval requests per minute, and training runs queued or running at once. Not part of
    # who the caller is, so two requests of one key compare equal whatever they carry.
    rate_limit_per_minute: int | None = field(default=None, compare=False)
    max_runs: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """One string per caller: the rate-limit bucket and the queue's owner."""
        return f"{self.kind}:{self.id}"


class CallerRefusedError(Exception):
    """Credentials a request presented and a resolver rejected (a wrong or revoked API key):
    answered 401, never downgraded to anonymous, so a script learns its key is bad."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class CallerResolver:
    """How a feature recognises its callers. ``presents`` says, without I/O, whether the
    connection carries this resolver's credentials (its cookie, its header); ``resolve``
    returns the Caller they stand for, None when it has nothing to say, or raises
    CallerRefusedError. ``resolve`` may block (a database lookup), ``presents`` never does:
    a request that presents nothing is answered on the event loop."""

    presents: Callable[[HTTPConnection], bool]
    resolve: Callable[[HTTPConnection], Caller | None]


# Where a request keeps its Caller once found.
_CACHE_KEY = "playground.caller"
# Asked in order: the first answer wins, else the caller is anonymous.
_resolvers: list[CallerResolver] = []


def register_resolver(resolver: CallerResolver, *, first: bool = False) -> None:
    """``first``: asked before the others, for credentials a client presents explicitly (an
    Authorization header), which must be honoured or refused whatever cookies ride along."""
    if resolver in _resolvers:
        return
    if first:
        _resolvers.insert(0, resolver)
    else:
        _resolvers.append(resolver)


def needs_lookup(connection: HTTPConnection) -> bool:
    """Whether finding this connection's Caller may block: some resolver has credentials to
    look up and the answer is not known yet. Most /eval requests present none."""
    return _CACHE_KEY not in connection.scope and any(
        resolver.presents(connection) for resolver in _resolvers)


def caller_of(connection: HTTPConnection) -> Caller:
    """The request's Caller, once per request: what a registered resolver finds (a signed
    cookie, an API key checked against its stored hash; never a bare name a client writes),
    else the client address."""
    cached = connection.scope.get(_CACHE_KEY)
    if isinstance(cached, Caller):
        return cached
    caller = next((found for found in (resolver.resolve(connection)
                                       for resolver in _resolvers
                                       if resolver.presents(connection))
                   if found is not None), None)
    if caller is None:
        host = connection.client.host if connection.client else "unknown"
        caller = Caller(kind="anonymous", id=host)
    connection.scope[_CACHE_KEY] = caller
    return caller
