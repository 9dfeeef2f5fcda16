"""HTML pages: the scratchpad, compare mode and the language switch (GET, or the language
form). A page's ``p`` parameter is a permalink: the page runs it so the link reproduces
the result; ``example`` / ``preset`` only load a program into the editor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import CALLER_FIRST, ExecutorDep, SettingsDep
from app.i18n import LOCALES
from app.playground import service
from app.web import LANG_COOKIE, form_fields, render, safe_next

router = APIRouter(include_in_schema=False, dependencies=CALLER_FIRST)
ONE_YEAR_S = 365 * 24 * 3600


@router.get("/", response_class=HTMLResponse)
async def scratchpad(request: Request, executor: ExecutorDep, settings: SettingsDep,
                     p: str | None = None, example: str | None = None) -> HTMLResponse:
    page = await service.scratch_page(executor, settings, request, token=p, example=example)
    return render(request, "pages/playground.html", "workspace",
                  {"page": page, "active": "playground"})


@router.get("/compare", response_class=HTMLResponse)
async def compare(request: Request, executor: ExecutorDep, settings: SettingsDep,
                  p: str | None = None, preset: str | None = None) -> HTMLResponse:
    page = await service.compare_page(executor, settings, request, token=p, preset=preset)
    return render(request, "pages/compare.html", "workspace", {"page": page, "active": "compare"})


@router.post("/lang")
async def choose_language(request: Request, settings: SettingsDep) -> RedirectResponse:
    fields = await form_fields(request, settings.max_body_bytes)
    response = RedirectResponse(safe_next(fields.get("next")), status_code=303)
    if fields.get("lang") in LOCALES:
        response.set_cookie(LANG_COOKIE, fields["lang"], max_age=ONE_YEAR_S, samesite="lax",
                            httponly=True)
    return response
