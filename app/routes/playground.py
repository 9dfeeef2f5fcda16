"""Running programs from the browser (htmx posts a form; without JavaScript the same form
posts and gets the whole page) and exporting them. The answer is always 200 with the
results: a user's error is a result, shown as an error card."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import CALLER_FIRST, ExecutorDep, SettingsDep
from app.playground import export, permalink, service
from app.web import form_fields, render

router = APIRouter(include_in_schema=False, dependencies=CALLER_FIRST)


@router.post("/run", response_class=HTMLResponse)
async def run(request: Request, executor: ExecutorDep, settings: SettingsDep) -> HTMLResponse:
    fields = await form_fields(request, settings.max_body_bytes)
    page = await service.scratch_page(executor, settings, request, fields=fields)
    url = f"/?p={page.token}"  # the address bar becomes the permalink of this run
    return render(request, "pages/playground.html", "results",
                  {"page": page, "active": "playground", "current_url": url},
                  headers={"HX-Push-Url": url})


@router.post("/compare/run", response_class=HTMLResponse)
async def compare_run(request: Request, executor: ExecutorDep,
                      settings: SettingsDep) -> HTMLResponse:
    fields = await form_fields(request, settings.max_body_bytes)
    page = await service.compare_page(executor, settings, request, fields=fields)
    url = f"/compare?p={page.token}"
    return render(request, "pages/compare.html", "results",
                  {"page": page, "active": "compare", "current_url": url},
                  headers={"HX-Push-Url": url})


def _shared(token: str) -> permalink.Share:
    share = permalink.decode(token)
    if share is None:
        raise HTTPException(400, "This link is damaged or from another version.")
    return share


@router.get("/export/python")
async def export_python(p: str) -> Response:
    share = _shared(p)
    return Response(export.to_python(service.sections(share), share.seed, share.device),
                    media_type="text/x-python; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="playground.py"'})


@router.get("/export/notebook")
async def export_notebook(p: str) -> Response:
    share = _shared(p)
    body = export.notebook_bytes("Torch Playground", service.sections(share), share.seed,
                                 share.device)
    return Response(body, media_type="application/x-ipynb+json",
                    headers={"content-disposition": 'attachment; filename="playground.ipynb"'})
