"""app/callers.py: resolvers run only for requests that present their credentials, and the
dependency answers anonymous requests without the thread pool."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from app import callers
from app.callers import Caller, CallerResolver, caller_of, needs_lookup
from app.deps import current_caller


def _request(headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "path": "/eval", "headers": raw,
                    "client": ("10.0.0.7", 5000), "query_string": b""})


def _token_resolver(threads: list[str]) -> CallerResolver:
    def resolve(connection: object) -> Caller | None:
        threads.append(threading.current_thread().name)
        return Caller(kind="api_key", id="7")

    return CallerResolver(presents=lambda c: "x-test-token" in c.headers, resolve=resolve)


def test_a_request_without_credentials_needs_no_lookup_and_is_anonymous(
        monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    monkeypatch.setattr(callers, "_resolvers", [_token_resolver(threads)])
    request = _request()
    assert not needs_lookup(request)
    assert asyncio.run(current_caller(request)) == Caller(kind="anonymous", id="10.0.0.7")
    assert threads == []  # the resolver was never asked


def test_credentials_are_looked_up_off_the_event_loop_once(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    monkeypatch.setattr(callers, "_resolvers", [_token_resolver(threads)])
    request = _request({"X-Test-Token": "abc"})
    assert needs_lookup(request)

    async def resolve_in_loop() -> tuple[Caller, str]:
        return await current_caller(request), threading.current_thread().name

    caller, loop_thread = asyncio.run(resolve_in_loop())
    assert caller == Caller(kind="api_key", id="7")
    assert threads and threads[0] != loop_thread
    # Found once: the request keeps it, and nothing is looked up again.
    assert not needs_lookup(request)
    assert caller_of(request) is caller
    assert len(threads) == 1


def test_program_pages_find_a_presented_callers_identity_off_the_event_loop(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scratchpad's Run reads the Caller with caller_of(request); for a request with
    credentials that lookup (a database query) runs before, in the thread pool."""
    on_loop: list[bool] = []

    def resolve(connection: object) -> Caller | None:
        on_loop.append(_in_event_loop())
        return Caller(kind="student", id="42", class_id="3")

    monkeypatch.setattr(callers, "_resolvers", [CallerResolver(
        presents=lambda c: "x-test-seat" in c.headers, resolve=resolve)])
    answer = client.post("/run", data={"code": "1 + 1"}, headers={"X-Test-Seat": "s"})
    assert answer.status_code == 200
    assert on_loop == [False]
    client.post("/run", data={"code": "1 + 1"})  # no credentials: the resolver is not asked
    assert on_loop == [False]


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
