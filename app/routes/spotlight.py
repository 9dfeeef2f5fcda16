"""The projector page of a class: one student's program, anonymised, picked by the teacher
from the dashboard (the rules: app/classroom/spotlight.py). Teacher-only like every class
page: another teacher's class is 404, no login a redirect (GET) or 403 (POST)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.classroom import service, spotlight
from app.deps import SettingsDep
from app.routes.classroom import _class, _exercise_titles, _form, _page, _say, _session
from app.web import choose_locale

router = APIRouter(include_in_schema=False)


def _projector(request: Request, room_id: int, settings: SettingsDep,
               error: str | None = None, status_code: int = 200) -> HTMLResponse:
    with _session(settings) as session:
        room = _class(request, session, settings, room_id)
        shown = spotlight.current(session, room)
        context = {"room": room, "shown": shown, "error": error,
                   "titles": _exercise_titles(choose_locale(request))}
    # htmx polls ask for the "projector" block alone; a browser gets the whole page.
    return _page(request, "spotlight.html", "projector", context, status_code=status_code)


@router.get("/teacher/classes/{class_id}/spotlight", response_class=HTMLResponse)
async def projector(request: Request, class_id: int, settings: SettingsDep) -> HTMLResponse:
    return _projector(request, class_id, settings)


@router.post("/teacher/classes/{class_id}/spotlight/set", response_model=None)
async def set_spotlight(request: Request, class_id: int, settings: SettingsDep) -> Response:
    fields = await _form(request, settings)
    student = fields.get("student", "")
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        try:
            # A student of another class is no student of this one: latest_attempt looks
            # within the teacher's class only.
            spotlight.spotlight_student(session, room,
                                        int(student) if student.isdigit() else -1)
        except service.ClassroomError as refused:
            message = _say(request, refused)
        else:
            return RedirectResponse(f"/teacher/classes/{class_id}/spotlight", status_code=303)
    return _projector(request, class_id, settings, error=message, status_code=400)


@router.post("/teacher/classes/{class_id}/spotlight/clear")
async def clear_spotlight(request: Request, class_id: int,
                          settings: SettingsDep) -> RedirectResponse:
    await _form(request, settings)
    with _session(settings) as session:
        spotlight.clear(session, _class(request, session, settings, class_id))
    return RedirectResponse(f"/teacher/classes/{class_id}/spotlight", status_code=303)
