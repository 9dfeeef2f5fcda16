"""One handler per error family: every error a user can cause is a 4xx/503 with a JSON body
that names the fix — never a 500. A browser asking for a page (404, 422) gets the same
error as an HTML page with the way back; API clients keep the JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from app.callers import CallerRefusedError
from app.executor.base import QueueFullError
from app.message import Message, error_body
from app.ratelimit import RateLimitedError
from app.validation import explain
from app.web import render, wants_html_page


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueueFullError)
    async def queue_full(request: Request, exc: QueueFullError) -> JSONResponse:
        body = error_body("QueueFullError", exc.said, hint=Message("Try again in a few seconds."))
        return JSONResponse(body, status_code=503,
                            headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(CallerRefusedError)
    async def caller_refused(request: Request, exc: CallerRefusedError) -> JSONResponse:
        body = error_body("AuthenticationError", str(exc), hint=exc.hint)
        return JSONResponse(body, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @app.exception_handler(RateLimitedError)
    async def rate_limited(request: Request, exc: RateLimitedError) -> JSONResponse:
        body = error_body("RateLimitError", exc.said,
                          hint=Message("Wait a moment; the server shares its sandbox with "
                                       "others."))
        return JSONResponse(body, status_code=429,
                            headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))}
            for e in exc.errors()[:20]
        ]
        if wants_html_page(request):
            # The page words each problem in its language (pydantic's English is the API's).
            return _error_page(request, 422, [
                {**problem, "msg": explain(e)}
                for problem, e in zip(problems, exc.errors(), strict=False)])
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        body = error_body("LimitError", "the request is nested too deeply to parse",
                          hint="Send a flat JSON object: {\"code\": \"...\"}.")
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405) and wants_html_page(request):
            return _error_page(request, exc.status_code, [])
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot parse, in the error shape every JSON route
            # documents (schemathesis: "response violates schema").
            body = error_body("InvalidBody", f"the request body could not be read: {exc.detail}",
                              hint="Send a JSON object with Content-Type: application/json, "
                              "e.g. {\"code\": \"1 + 1\"}.")
            return JSONResponse(body, 400)
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        # Starlette names the methods of the first route whose path matched; a path served by
        # several routes (GET and DELETE /runs/{id}) must list them all.
        allowed = sorted(allowed_methods(request.app, request.scope))
        return JSONResponse({"detail": f"Method Not Allowed; this path allows "
                             f"{', '.join(allowed)}"}, 405,
                            headers={"Allow": ", ".join(allowed)})


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, scope: Scope) -> set[str]:
    """The methods some route serves at this path: each one tried against the app's routes
    (nested routers included) with the same public matching the router itself uses."""
    allowed: set[str] = set()
    for method in _METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.routes):
            allowed.add(method)
    return allowed

def _error_page(request: Request, status: int, problems: Sequence[Mapping[str, object]]
                ) -> Response:
    return render(request, "pages/error.html", "main",
                  {"active": "", "status": status, "problems": problems}, status_code=status)
