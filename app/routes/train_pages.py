"""The training pages: configure and start a run (a form that also works without
JavaScript), follow it live (htmx polls the run's ``live`` block every second while it
runs; the block of an ended run has no trigger, so polling stops), pause, resume, step or
cancel it, replay an ended run epoch by epoch (``?epoch=N``: the run as it was then;
train.js plays the frames at a chosen pace), and compare runs. The JSON API of the same
runs is routes/runs.py; both read one RunRegistry.

A browser's recent runs are a cookie of run ids: a run id is its only credential, so the
list shows the runs this browser started or opened, never other people's.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.callers import caller_of
from app.deps import SettingsDep
from app.executor.base import QueueFullError
from app.playground import train_form, train_views
from app.playground.train_views import RECENT_COOKIE
from app.routes.runs import RegistryDep
from app.training.runs import (
    Run,
    RunEndedError,
    RunNotFoundError,
    RunRegistry,
    TooManyRunsError,
    replay,
)
from app.training.spec import SpecLimitError
from app.training.store import StoreError
from app.web import form_fields, is_fragment_request, render

router = APIRouter(include_in_schema=False)
COOKIE_MAX_AGE_S = 7 * 24 * 3600


@router.get("/train", response_class=HTMLResponse)
async def train_page(request: Request, registry: RegistryDep,
                     from_: Annotated[str | None, Query(alias="from")] = None) -> HTMLResponse:
    earlier = await _find(registry, from_) if from_ else None
    form = train_form.form_of(earlier.spec) if earlier else train_form.default_form()
    return render(request, "pages/train.html", "train_form",
                  await _form_context(request, registry, form))


@router.post("/train", response_class=HTMLResponse)
async def start_run(request: Request, registry: RegistryDep,
                    settings: SettingsDep) -> Response:
    fields = await form_fields(request, settings.max_body_bytes, train_form.MAX_FIELDS)
    form = train_form.parse(fields)
    if form.spec is not None:
        try:
            run = await registry.create(form.spec, caller_of(request))
        except (SpecLimitError, TooManyRunsError, QueueFullError) as refused:
            form = form.refused(refused)
        else:
            return _remembered(request, _go_to(request, f"/train/runs/{run.id}"), run.id)
    return render(request, "pages/train.html", "train_form",
                  await _form_context(request, registry, form))


@router.get("/train/compare", response_class=HTMLResponse)
async def compare_runs(request: Request, registry: RegistryDep,
                       runs: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
    ids = train_views.selected_ids(runs or [])
    found = [train_views.snapshot(run.view()) for run in [await _find(registry, i) for i in ids]
             if run is not None]
    recent = train_views.recent_runs(await _recent(request, registry), ids)
    return await asyncio.to_thread(_compare_response, request, found, len(ids), recent)


@router.get("/train/runs/{run_id}", response_class=HTMLResponse)
async def run_page(request: Request, run_id: str, registry: RegistryDep,
                   epoch: Annotated[int | None, Query(ge=0, le=1_000_000)] = None
                   ) -> HTMLResponse:
    run = await _find(registry, run_id)
    response = await _render_run(request, run, run_id, epoch)
    if run is not None and not is_fragment_request(request):
        _remembered(request, response, run.id)
    return response


@router.post("/train/runs/{run_id}/cancel", response_class=HTMLResponse)
async def cancel_run(request: Request, run_id: str, registry: RegistryDep) -> Response:
    try:
        run = await registry.cancel_anywhere(run_id)
    except (RunNotFoundError, StoreError):
        return await _render_run(request, None, run_id)
    if not is_fragment_request(request):
        return RedirectResponse(f"/train/runs/{run.id}", status_code=303)
    return await _render_run(request, run, run_id)


@router.post("/train/runs/{run_id}/{command}", response_class=HTMLResponse)
async def control_run(request: Request, run_id: str, command: str,
                      registry: RegistryDep) -> Response:
    """Pause, resume or step: the same buttons with and without JavaScript."""
    if command not in ("pause", "resume", "step"):
        return await _render_run(request, None, run_id)
    run: Run | None
    try:
        run = await registry.control_anywhere(run_id, command)
    except RunEndedError:
        run = await _find(registry, run_id)  # ended meanwhile: show how it ended
    except (RunNotFoundError, StoreError):
        run = None
    if run is not None and not is_fragment_request(request):
        return RedirectResponse(f"/train/runs/{run.id}", status_code=303)
    return await _render_run(request, run, run_id)


# --- helpers --------------------------------------------------------------------------
# Charts and templates are built in a worker thread (a long run's page takes ~15 ms), from
# a copy of the run's data taken here on the event loop, where the run appends to it.
RunData = tuple[dict[str, Any], dict[str, Any] | None, train_views.Replay | None]


async def _render_run(request: Request, run: Run | None, run_id: str,
                      epoch: int | None = None) -> HTMLResponse:
    data: RunData | None = None
    if run is not None:
        shown, frame = run, None
        last = run.epochs["epoch"][-1] if run.epochs["epoch"] else 0
        if run.done and last:
            if epoch is not None and epoch < last:  # the last epoch's frame is the end
                shown, frame = replay(run, epoch), epoch
            elapsed = (run.summary or {}).get("elapsed_s")
            data = (train_views.snapshot(shown.view()), shown.start,
                    train_views.Replay(frame, last, elapsed))
        else:
            data = (train_views.snapshot(run.view()), run.start, None)
    return await asyncio.to_thread(_run_response, request, data, run_id)


def _run_response(request: Request, data: RunData | None, run_id: str) -> HTMLResponse:
    page = train_views.run_page(*data) if data else None
    # A poll of a run that is gone still gets a 200 block (without a trigger: polling
    # stops); htmx would not swap a 404.
    status = 404 if page is None and not is_fragment_request(request) else 200
    return render(request, "pages/train_run.html", "live",
                  {"active": "train", "page": page, "run_id": run_id}, status_code=status)


def _compare_response(request: Request, views: list[dict[str, Any]], asked: int,
                      recent: list[train_views.RecentRun]) -> HTMLResponse:
    context = {"active": "train", "page": train_views.compare_page(views),
               "missing": asked - len(views), "recent": recent}
    return render(request, "pages/train_compare.html", "comparison", context)


async def _form_context(request: Request, registry: RunRegistry,
                        form: train_form.TrainForm) -> dict[str, object]:
    return {"active": "train", "form": form, "options": train_form.OPTIONS,
            "labels": train_form.LABELS,
            "recent": train_views.recent_runs(await _recent(request, registry))}


async def _find(registry: RunRegistry, run_id: str) -> Run | None:
    """The run, or None when it is unknown or the shared run store cannot be reached (the
    page then says the run is not found; the JSON API answers 503 instead)."""
    try:
        return await registry.find(run_id)
    except (RunNotFoundError, StoreError):
        return None


async def _recent(request: Request, registry: RunRegistry) -> list[dict[str, Any]]:
    ids = train_views.recent_ids(request.cookies.get(RECENT_COOKIE))
    return [run.view() for run in [await _find(registry, i) for i in ids] if run is not None]


def _go_to(request: Request, url: str) -> Response:
    """After a successful POST: htmx loads the page itself; a plain form follows a 303."""
    if is_fragment_request(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _remembered(request: Request, response: Response, run_id: str) -> Response:
    value = train_views.remember(request.cookies.get(RECENT_COOKIE), run_id)
    response.set_cookie(RECENT_COOKIE, value, max_age=COOKIE_MAX_AGE_S, httponly=True,
                        samesite="lax", path="/train")
    return response

