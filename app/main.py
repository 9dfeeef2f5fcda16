"""create_app(): routers, static files, middleware and error handlers — nothing else."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from app import contract
from app.config import get_settings
from app.errors import install_error_handlers
from app.headers import HeaderSizeLimitMiddleware
from app.jobs import make_executor
from app.limits import BodySizeLimitMiddleware
from app.observability import RequestContextMiddleware, configure_json_logging
from app.routes import (
    api,
    apikeys,
    classroom,
    classroom_exercises,
    docs,
    lessons,
    ops,
    pages,
    playground,
    runs,
    spotlight,
    train_pages,
)
from app.web import SecurityHeadersMiddleware, static_files


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    configure_json_logging()
    executor = make_executor(get_settings())
    app.state.executor = executor  # /readyz answers 503 until start() has warmed the workers
    await executor.start()
    # This process imported torch too (~200k objects): a full collection walking them stalled
    # every request in flight for ~0.3 s. Keep what exists after start-up out of its reach.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        runs = getattr(app.state, "runs", None)
        if runs is not None:  # end live training runs cleanly before their workers go
            await runs.close()
        await executor.close()


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Torch Playground",
        summary="Learn PyTorch by touching it: run small programs in a sandbox and see shapes, "
        "values, storage and gradients.",
        version="0.1.0",
        lifespan=lifespan,
        # Served from vendored files by routes/docs.py instead of FastAPI's CDN pages.
        docs_url=None,
        redoc_url=None,
    )
    # Innermost: compresses what the routes answer (JSON and HTML alike) when the client
    # accepts gzip; event streams are left alone (starlette's default exclusions), so a
    # training run's events are not held back in a compressor's buffer.
    app.add_middleware(GZipMiddleware, minimum_size=settings.compress_min_bytes,
                       compresslevel=settings.compress_level)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added after (so outside) the body limit: oversized headers are refused first; inside
    # the security headers, so the 431 carries them too.
    app.add_middleware(HeaderSizeLimitMiddleware, max_bytes=settings.max_header_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost: the request id and the latency cover everything, refusals included.
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(classroom.router)
    app.include_router(classroom_exercises.router)
    app.include_router(apikeys.router)
    app.include_router(spotlight.router)
    app.include_router(docs.router)
    app.include_router(lessons.router)
    app.include_router(ops.router)
    app.include_router(pages.router)
    app.include_router(playground.router)
    app.include_router(runs.router)
    app.include_router(train_pages.router)
    app.mount("/static", static_files(), name="static")
    contract.install(app, settings)
    return app


app = create_app()
