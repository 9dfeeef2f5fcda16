"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Alive: the web process answers",
            responses={200: {"description": "Always, while the process serves requests."}})
async def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="Ready: the executor backend is up and its workers are warm",
            responses={200: {"description": "Ready to run programs."},
                       503: {"description": "Starting, shutting down, or no worker alive."}})
async def readyz(request: Request) -> Response:
    executor = getattr(request.app.state, "executor", None)
    if executor is None or not executor.ready():
        return JSONResponse({"status": "unavailable"}, 503, headers={"Retry-After": "5"})
    capacity = executor.capacity()
    return JSONResponse({"status": "ok", "workers": capacity.workers, "busy": capacity.busy,
                         "queued": capacity.queued})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}},
                             "description": "The Prometheus text format."}})
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
