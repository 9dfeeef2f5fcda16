"""Structured JSON logs with a request id, and per-route request latency metrics.

One ASGI middleware: it takes the client's X-Request-ID (if short and plain) or makes one,
returns it in the response, puts it on every log record written while the request is handled,
and observes the request's latency under its route template (never the raw path, whose ids
would make unbounded label sets).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import secrets
import time
from typing import Any

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                        default=None)
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": round(record.created, 3), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send the app's logs (logger "app") to stderr as one JSON object per line."""
    logger = logging.getLogger("app")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


@functools.lru_cache(maxsize=1024)
def _latency_of(method: str, route: str, status: int) -> Histogram:
    """The latency histogram's child for these labels, looked up once: labels() validates
    and locks on every call. Route templates and statuses are few ("unmatched" stands for
    every unknown path), so the cache stays small; its bound covers odd methods."""
    return metrics.REQUEST_LATENCY.labels(method, route, str(status))


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _PLAIN_ID.match(given) else secrets.token_hex(8)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            _latency_of(scope["method"], template, status).observe(
                time.perf_counter() - started)
            REQUEST_ID.reset(token)
