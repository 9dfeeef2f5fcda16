"""The Caller is derived once, from what the server saw (the client address), never from
headers a client can write: spoofing X-Forwarded-For does not buy a fresh rate-limit bucket, a
fresh run quota, or another place in the fair queue."""

from __future__ import annotations

from starlette.requests import Request

from app.callers import Caller, caller_of
from app.ratelimit import RateLimitedError, RateLimiter


def request_from(host: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "path": "/runs", "headers": raw,
                    "client": (host, 5000), "query_string": b""})


def test_forwarding_headers_do_not_change_the_caller() -> None:
    plain = caller_of(request_from("10.0.0.7"))
    spoofed = caller_of(request_from("10.0.0.7", {
        "x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8", "forwarded": "for=9.9.9.9",
        "x-request-id": "someone-else"}))
    assert plain == spoofed == Caller("anonymous", "10.0.0.7")
    assert plain.class_id is None  # no class can be claimed by an anonymous caller


def test_two_addresses_are_two_callers_and_one_request_one_caller() -> None:
    request = request_from("10.0.0.8")
    assert caller_of(request) is caller_of(request)  # derived once per request
    assert caller_of(request).key != caller_of(request_from("10.0.0.9")).key


def test_the_rate_limit_bucket_is_the_callers() -> None:
    limiter = RateLimiter(per_minute=2)
    caller = caller_of(request_from("10.0.0.10", {"x-forwarded-for": "1.1.1.1"}))
    limiter.take(caller.key, now=0.0)
    limiter.take(caller_of(request_from("10.0.0.10", {"x-forwarded-for": "2.2.2.2"})).key,
                 now=0.0)
    try:
        limiter.take(caller_of(request_from("10.0.0.10", {"x-forwarded-for": "3.3.3.3"})).key,
                     now=0.0)
    except RateLimitedError:
        pass
    else:
        raise AssertionError("a spoofed header bought a fresh bucket")
