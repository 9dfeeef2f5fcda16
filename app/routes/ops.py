"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["operations"])

# What else must be up before this server takes traffic, registered by the feature that needs
# it (the classroom: its database). Each returns None when fine, else what is down; it may
# block (run in a thread).
ReadinessCheck = Callable[[Request], "str | None"]
_checks: dict[str, ReadinessCheck] = {}


def register_readiness_check(name: str, check: ReadinessCheck) -> None:
    _checks[name] = check


@router.get("/healthz", summary="Alive: the web process answers",
            responses={200: {"description": "Always, while the process serves requests."}})
async def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="Ready: the executor backend is up, its workers are warm and "
            "the database answers",
            responses={200: {"description": "Ready to run programs."},
                       503: {"description": "Starting, shutting down, no worker alive, or "
                             "the database unreachable."}})
async def readyz(request: Request) -> Response:
    executor = getattr(request.app.state, "executor", None)
    if executor is None or not executor.ready():
        return JSONResponse({"status": "unavailable"}, 503, headers={"Retry-After": "5"})
    for name, check in _checks.items():
        problem = await run_in_threadpool(check, request)
        if problem is not None:
            return JSONResponse({"status": "unavailable", name: problem}, 503,
                                headers={"Retry-After": "5"})
    capacity = executor.capacity()
    return JSONResponse({"status": "ok", "workers": capacity.workers, "busy": capacity.busy,
                         "queued": capacity.queued})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}},
                             "description": "The Prometheus text format."}})
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
