"""The training-run JSON API: start (queued fairly), read, follow (Server-Sent Events),
pause, resume and step one epoch, cancel, and delete runs.

Cancel (POST /runs/{id}/cancel) stops a run and keeps it readable; DELETE /runs/{id} also
cancels a live run, then forgets it: reading it again is 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from app import metrics
from app.deps import CallerDep, ExecutorDep, SettingsDep
from app.message import error_body
from app.training.runs import RunEndedError, RunNotFoundError, RunRegistry, TooManyRunsError
from app.training.schemas import Control, RunCreated, RunView
from app.training.spec import SpecLimitError, TrainSpec
from app.training.store import StoreError, make_run_store

router = APIRouter(prefix="/runs", tags=["training runs"])


async def get_registry(
    request: Request, executor: ExecutorDep, settings: SettingsDep
) -> RunRegistry:
    # Made on first use, so the app only has to include this router; it lives as long as
    # the app (and its executor). async: a plain def dependency would cost a thread hop.
    registry = getattr(request.app.state, "runs", None)
    if registry is None:
        registry = request.app.state.runs = RunRegistry(executor, settings,
                                                        make_run_store(settings))
    return registry


RegistryDep = Annotated[RunRegistry, Depends(get_registry)]

# Statuses every route on one run answers besides its own.
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No run with this id (or it was dropped long after it ended)."},
    503: {"description": "The shared run store (setting run_store) is unreachable "
          "(StoreError)."},
}


def _store_down(error: StoreError) -> JSONResponse:
    return _error(503, "StoreError", error, "Try again shortly; if it persists, the operator "
                  "should check the server named by run_store_url.", {"Retry-After": "5"})


def _error(status: int, type_: str, error: Exception, hint: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(type_, str(error), hint=hint), status, headers=headers)


_RETRY_AFTER = {"Retry-After": {"description": "Seconds until trying again makes sense.",
                                  "schema": {"type": "integer"}}}


@router.post(
    "", status_code=201, response_model=RunCreated, summary="Start a training run",
    description="The run waits in a fair queue (round-robin over callers) until a worker is "
    "free; its `queue` says where it stands and when it is expected to start.",
    responses={400: {"description": "The body is not JSON."},
               401: {"description": "An Authorization: Bearer header with a wrong or revoked "
                     "API key (AuthenticationError)."},
               413: {"description": "Over a limit of this server (LimitError), e.g. epochs x "
                     "steps per epoch over train_max_steps, or a body over max_body_bytes."},
               422: {"description": "Invalid spec, e.g. a loss that does not fit the data."},
               429: {"description": "This caller (or class) already has as many runs queued "
                     "or running as its quota allows (TooManyRunsError).",
                     "headers": _RETRY_AFTER},
               503: {"description": "The server's training queue is full (QueueFullError).",
                     "headers": _RETRY_AFTER}},
)
async def create_run(spec: TrainSpec, caller: CallerDep, registry: RegistryDep) -> Response:
    try:
        run = await registry.create(spec, caller)
    except SpecLimitError as over:
        return _error(413, "LimitError", over)
    except TooManyRunsError as busy:
        metrics.REFUSALS.labels("train_quota").inc()
        return _error(429, "TooManyRunsError", busy, "Wait for a run to end, or cancel one.",
                      {"Retry-After": str(busy.retry_after_s)})
    except StoreError as down:
        return _store_down(down)
    view = run.view()
    created = RunCreated(id=run.id, status=run.status, url=f"/runs/{run.id}",
                         events_url=f"/runs/{run.id}/events",
                         cancel_url=f"/runs/{run.id}/cancel", queue=view["queue"])
    return JSONResponse(created.model_dump(), 201, headers={"Location": created.url})


@router.get("/{run_id}", response_model=RunView, summary="A run's status and metrics so far",
            responses=_NOT_FOUND)
async def read_run(run_id: str, registry: RegistryDep) -> Response:
    try:
        return JSONResponse((await registry.find(run_id)).view())
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    except StoreError as down:
        return _store_down(down)


@router.post("/{run_id}/cancel", response_model=RunView, status_code=202,
             responses={200: {"model": RunView, "description": "The run had already ended."},
                        **_NOT_FOUND},
             summary="Cancel a run, queued or running (202; 200 when it had already ended)")
async def cancel_run(run_id: str, registry: RegistryDep) -> Response:
    try:
        run = await registry.cancel_anywhere(run_id)
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    except StoreError as down:
        return _store_down(down)
    return JSONResponse(run.view(), 200 if run.done else 202)


_CONTROLS: dict[Control, str] = {
    "pause": "Pause the run at the next epoch boundary (before the first epoch if it has not "
    "started). A paused run waits, holding its worker, until resume or step, a cancel, or the "
    "end of its pause budget (setting train_max_pause_s, for the whole run): then it resumes "
    "by itself. Its wall-time limit counts training, not pauses.",
    "resume": "Go on training: leaves a pause, or forgets a pause not yet reached.",
    "step": "Paused: train one more epoch, then pause again. Running: the same as pause.",
}


async def _control(run_id: str, command: Control, registry: RunRegistry) -> Response:
    try:
        run = await registry.control_anywhere(run_id, command)
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    except RunEndedError as ended:
        return _error(409, "RunEndedError", ended, "Start a new run (POST /runs).")
    except StoreError as down:
        return _store_down(down)
    return JSONResponse(run.view(), 202)


def _control_route(command: Control) -> None:
    async def control_run(run_id: str, registry: RegistryDep) -> Response:
        return await _control(run_id, command, registry)

    control_run.__name__ = f"{command}_run"
    router.add_api_route(
        f"/{{run_id}}/{command}", control_run, methods=["POST"], status_code=202,
        response_model=RunView, summary=f"{command.capitalize()} a run",
        description=_CONTROLS[command] + " Answers at once: the run acts at its next epoch "
        "boundary, and its status (and the paused/resumed events) show when it did.",
        responses={409: {"description": "The run has already ended (RunEndedError)."},
                   **_NOT_FOUND})


for _command in _CONTROLS:
    _control_route(_command)


@router.delete("/{run_id}", status_code=204, response_class=Response, responses=_NOT_FOUND,
               summary="Delete a run: cancel it if it is live, then forget it (404 after)")
async def delete_run(run_id: str, registry: RegistryDep) -> Response:
    try:
        await registry.delete_anywhere(run_id)
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    except StoreError as down:
        return _store_down(down)
    return Response(status_code=204)


@router.get(
    "/{run_id}/events", summary="Follow a run (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description":
                     "Each event: `id` (its index), `event` (start, step, epoch, boundary, "
                     "curve, paused, resumed, end) and `data` (JSON). The history comes "
                     "first; the stream ends after `end`, whose data is the run's summary."},
               204: {"description": "Last-Event-ID says the client has every event of a run "
                     "that has ended: nothing more will come (stops EventSource retrying)."},
               **_NOT_FOUND},
)
async def follow_run(run_id: str, registry: RegistryDep,
                     last_event_id: Annotated[str | None, Header()] = None) -> Response:
    try:
        run = await registry.find(run_id)
    except RunNotFoundError as missing:
        return _error(404, "NotFoundError", missing)
    except StoreError as down:
        return _store_down(down)
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

