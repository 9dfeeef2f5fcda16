"""One handler per error family: every error a user can cause is a 4xx/503 with a JSON body
that names the fix — never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.executor.base import QueueFullError
from app.ratelimit import RateLimitedError
from app.schemas import error_body


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
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))}
            for e in exc.errors()[:20]
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        body = error_body("LimitError", "the request is nested too deeply to parse",
                          hint="Send a flat JSON object: {\"code\": \"...\"}.")
        return JSONResponse(body, status_code=400)
