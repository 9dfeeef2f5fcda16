"""Refuse requests whose header lines are too large, before any route parses them.

uvicorn's httptools parser puts no limit of its own on header size, and several parsers of
this app read headers on the event loop for every page (Accept-Language, Cookie, HX-*): one
slow parse there stalls every request in flight. Each of those parsers is linear and bounded
itself; this cap bounds the input of any parser added later, too.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from app.message import error_body

# "Name: value\r\n": what a header line costs on the wire beyond its name and value; counted
# so that thousands of tiny headers add up like one large one.
_LINE_OVERHEAD = 4


def header_bytes(scope: Scope) -> int:
    """The size of a request's header lines as the client sent them."""
    return sum(len(name) + len(value) + _LINE_OVERHEAD
               for name, value in scope.get("headers", ()))


class HeaderSizeLimitMiddleware:
    """Answers 431 Request Header Fields Too Large when the headers exceed ``max_bytes``
    (pure ASGI: nothing is buffered, the app below never sees the request)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = header_bytes(scope)
            if size > self.max_bytes:
                await self._reject(send, size)
                return
        await self.app(scope, receive, send)

    async def _reject(self, send: Send, size: int) -> None:
        body = json.dumps(error_body(
            "LimitError",
            f"the request headers are {size:,} bytes, more than the {self.max_bytes:,} this "
            "server accepts (setting max_header_bytes)",
            hint="Clear this site's cookies, or send fewer and shorter headers.")).encode()
        await send({"type": "http.response.start", "status": 431,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
