"""What a worker answers when a job itself cannot: its kind is unknown, its handler failed,
or its response is over ``max_response_bytes``. One spelling for both backends (the local
worker, app/executor/worker.py, and the Ray actor, app/executor/ray_backend.py), in the
contract's error envelope."""

from __future__ import annotations

import json

from app.message import error_body

Answer = tuple[int, bytes]


def _answer(status: int, type_: str, message: str, hint: str | None) -> Answer:
    return status, json.dumps(error_body(type_, message, None, hint)).encode()


def unknown_kind(kind: str) -> Answer:
    return _answer(400, "ValueError", f"unknown job kind {kind!r}", None)


def handler_failed(kind: str, failure: BaseException) -> Answer:
    """A handler's bug: the worker goes on, the caller is told to report it."""
    return _answer(200, "InternalError", f"the {kind} job failed inside the sandbox "
                   f"({type(failure).__name__})", "Please report what you ran.")


def within_size(status: int, body: bytes, limit: int) -> Answer:
    """The answer, or a LimitError in its place when ``body`` is over ``limit`` bytes (a
    handler that built more than the web process will read)."""
    if len(body) <= limit:
        return status, body
    return _answer(200, "LimitError", f"the response would be {len(body):,} bytes; the "
                   f"limit is {limit:,} (setting max_response_bytes)",
                   "Return smaller values, or fewer variables.")
