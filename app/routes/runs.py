"""The training-run JSON API: start, read, follow (Server-Sent Events) and cancel runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from app.deps import ExecutorDep, SettingsDep
from app.schemas import error_body
from app.training.runs import RunNotFoundError, RunRegistry, TooManyRunsError
from app.training.schemas import RunCreated, RunView
from app.training.spec import SpecLimitError, TrainSpec

router = APIRouter(prefix="/runs", tags=["training runs"])


async def get_registry(
    request: Request, executor: ExecutorDep, settings: SettingsDep
) -> RunRegistry:
    # Made on first use, so the app only has to include this router; it lives as long as
    # the app (and its executor). async: a plain def dependency would cost a thread hop.
    registry = getattr(request.app.state, "runs", None)
    if registry is None:
        registry = request.app.state.runs = RunRegistry(executor, settings)
    return registry


RegistryDep = Annotated[RunRegistry, Depends(get_registry)]

_NOT_FOUND = {404: {"description": "No run with this id (or it was dropped long after it "
                    "ended)."}}


def _error(status: int, type_: str, error: Exception, hint: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(type_, str(error), hint=hint), status, headers=headers)


@router.post(
    "", status_code=201, response_model=RunCreated, summary="Start a training run",
    responses={413: {"description": "Over a limit of this server (LimitError)."},
               422: {"description": "Invalid spec, e.g. a loss that does not fit the data."},
               503: {"description": "Too many runs, or every worker busy; see Retry-After."}},
)
async def create_run(spec: TrainSpec, request: Request, registry: RegistryDep) -> Response:
    client = request.client.host if request.client else "unknown"
    try:
        run = await registry.create(spec, client)
    except SpecLimitError as over:
        return _error(413, "LimitError", over)
    except TooManyRunsError as busy:
        return _error(503, "TooManyRunsError", busy, "Wait for a run to end, or cancel one.",
                      {"Retry-After": str(busy.retry_after_s)})
    created = RunCreated(id=run.id, status=run.status, url=f"/runs/{run.id}",
                         events_url=f"/runs/{run.id}/events")
    return JSONResponse(created.model_dump(), 201, headers={"Location": created.url})


@router.get("/{run_id}", response_model=RunView, summary="A run's status and metrics so far",
            responses=_NOT_FOUND)
async def read_run(run_id: str, registry: RegistryDep) -> Response:
    try:
        return JSONResponse(registry.get(run_id).view())
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)


@router.delete("/{run_id}", response_model=RunView, status_code=202, responses=_NOT_FOUND,
               summary="Cancel a run (202; 200 when it had already ended)")
async def cancel_run(run_id: str, registry: RegistryDep) -> Response:
    try:
        run = registry.cancel(run_id)
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    return JSONResponse(run.view(), 200 if run.done else 202)


@router.get(
    "/{run_id}/events", summary="Follow a run (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description":
                     "Each event: `id` (its index), `event` (start, step, epoch, boundary, "
                     "curve, end) and `data` (JSON). The history comes first; the stream ends "
                     "after `end`, whose data is the run's summary."},
               204: {"description": "Last-Event-ID says the client has every event of a run "
                     "that has ended: nothing more will come (stops EventSource retrying)."},
               **_NOT_FOUND},
)
async def follow_run(run_id: str, registry: RegistryDep,
                     last_event_id: Annotated[str | None, Header()] = None) -> Response:
    try:
        run = registry.get(run_id)
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    after = last_seen(last_event_id)
    if run.done and after >= len(run.history) - 1:
        return Response(status_code=204)
    return StreamingResponse(_sse(registry, run_id, after), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# Event ids are indexes into a run's history, which train_max_epochs and the event rate keep
# far below a billion; a longer "id" is not one we sent, and int() of a 5,000-digit one raised.
MAX_EVENT_ID_DIGITS = 9


def last_seen(last_event_id: str | None) -> int:
    """The index a reconnecting EventSource says it has seen (-1: none, replay everything)."""
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses.
    if (last_event_id is None or len(last_event_id) > MAX_EVENT_ID_DIGITS
            or not (last_event_id.isascii() and last_event_id.isdigit())):
        return -1
    return int(last_event_id)


async def _sse(registry: RunRegistry, run_id: str, after: int) -> AsyncIterator[str]:
    async for item in registry.stream(run_id, after):
        if item is None:
            yield ": keep-alive\n\n"  # a comment line: keeps proxies from closing the stream
            continue
        index, kind, data = item
        yield f"id: {index}\nevent: {kind}\ndata: {data}\n\n"

