"""One handler per error family: every error a user can cause is a 4xx/503 with a JSON body
that names the fix — never a 500. A browser asking for a page (404, 422) gets the same
error as an HTML page with the way back; API clients keep the JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.executor.base import QueueFullError
from app.ratelimit import RateLimitedError
from app.schemas import error_body
from app.web import render, wants_html_page


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueueFullError)
    async def queue_full(request: Request, exc: QueueFullError) -> JSONResponse:
        body = error_body("QueueFullError", str(exc), hint="Try again in a few seconds.")
        return JSONResponse(body, status_code=503,
                            headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(RateLimitedError)
    async def rate_limited(request: Request, exc: RateLimitedError) -> JSONResponse:
        body = error_body("RateLimitError", str(exc),
                          hint="Wait a moment; the server shares its sandbox with others.")
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
            return _error_page(request, 422, problems)
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405) and wants_html_page(request):
            return _error_page(request, exc.status_code, [])
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        body = error_body("LimitError", "the request is nested too deeply to parse",
                          hint="Send a flat JSON object: {\"code\": \"...\"}.")
        return JSONResponse(body, status_code=400)


def _error_page(request: Request, status: int, problems: Sequence[Mapping[str, object]]
                ) -> Response:
    return render(request, "pages/error.html", "main",
                  {"active": "", "status": status, "problems": problems}, status_code=status)
