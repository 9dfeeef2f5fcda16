"""The classroom's pages: teacher login, classes, the dashboard; students joining and their
own progress. Thin: the rules live in app/classroom. Every state-changing form carries the
CSRF token; every teacher page finds its class through the logged-in teacher."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any
from urllib.parse import parse_qsl, quote

import segno
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from app import callers, i18n
from app.classroom import codes, exercises, identity, retention, service, signing
from app.classroom.db import database_for
from app.classroom.models import Classroom, Student
from app.config import Settings, get_settings
from app.deps import SettingsDep
from app.lessons.loader import catalog
from app.lessons.models import ExerciseSection
from app.lessons.service import section_anchor
from app.ratelimit import RateLimitedError, RateLimiter
from app.routes import ops
from app.web import MAX_FORM_FIELDS, choose_locale, render, safe_next

log = logging.getLogger(__name__)

# How often old classes are looked for (besides at start): retention counts in days.
RETENTION_CHECK_S = 6 * 3600


def _delete_inactive_classes(settings: Settings) -> None:
    try:
        with _session(settings) as session:
            retention.delete_inactive_classes(session, settings.classroom_retention_days)
    except SQLAlchemyError:  # the next check tries again; serving goes on meanwhile
        log.exception("could not delete inactive classes")


async def _retention_checks(settings: Settings) -> None:
    while True:
        await asyncio.sleep(RETENTION_CHECK_S)
        await run_in_threadpool(_delete_inactive_classes, settings)


@asynccontextmanager
async def _classroom_lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The schema is brought to the newest revision before the first request, not by it.
    settings = app.dependency_overrides.get(get_settings, get_settings)()
    database_for(settings)
    await run_in_threadpool(_delete_inactive_classes, settings)
    checks = asyncio.get_running_loop().create_task(_retention_checks(settings))
    try:
        yield
    finally:
        checks.cancel()
        with suppress(asyncio.CancelledError):
            await checks


router = APIRouter(include_in_schema=False, lifespan=_classroom_lifespan)
_limiters: dict[tuple[str, int], RateLimiter] = {}


# --- plumbing ---

@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with database_for(settings).session() as session:
        yield session


def _key(settings: Settings) -> bytes:
    return signing.secret_key(settings)


def _rate_limit(request: Request, kind: str, per_minute: int) -> None:
    limiter = _limiters.get((kind, per_minute))
    if limiter is None:
        limiter = _limiters[(kind, per_minute)] = RateLimiter(per_minute)
    limiter.take(request.client.host if request.client else "unknown")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _csrf(request: Request) -> str:
    """The CSRF token of this browser (made on its first classroom page)."""
    token = request.cookies.get(identity.CSRF_COOKIE) or request.scope.get("classroom_csrf")
    if not token:
        token = request.scope["classroom_csrf"] = identity.new_csrf_token()
    return str(token)


def _page(request: Request, template: str, block: str, context: Mapping[str, Any], *,
          status_code: int = 200) -> HTMLResponse:
    csrf = _csrf(request)
    response = render(request, f"pages/classroom/{template}", block,
                      {"csrf": csrf, "active": "classroom", **context}, status_code=status_code)
    response.headers["cache-control"] = "no-store"  # names and programs stay off shared caches
    if request.cookies.get(identity.CSRF_COOKIE) != csrf:
        response.set_cookie(identity.CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                            secure=_secure(request), path="/")
    return response


async def _form_pairs(request: Request, settings: Settings) -> list[tuple[str, str]]:
    """The posted fields in order, repeated names kept (the assignment checkboxes), after the
    CSRF check every state-changing form passes."""
    pairs: list[tuple[str, str]] = []
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        # BodySizeLimitMiddleware has bounded the body already (max_body_bytes).
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            pairs = parse_qsl(body, keep_blank_values=True,
                              max_num_fields=MAX_FORM_FIELDS + _exercise_count()
                              + settings.max_teacher_exercises)
        except ValueError as too_many:
            raise HTTPException(400, "Too many form fields") from too_many
    submitted = next((v for k, v in pairs if k == identity.CSRF_FIELD), None)
    if not identity.csrf_ok(request.cookies, submitted):
        raise HTTPException(403, "The form expired or came from another site: reload the page "
                                 "and send it again.")
    return pairs


async def _form(request: Request, settings: Settings) -> dict[str, str]:
    return dict(await _form_pairs(request, settings))


def _exercise_count() -> int:
    return sum(len(lesson.exercises) for lesson in catalog().lessons)


def _say(request: Request, refused: service.ClassroomError) -> str:
    text = i18n.translations(choose_locale(request)).gettext(refused.message)
    return text.format(**refused.params)


def _teacher(request: Request, session: Session, settings: Settings) -> int:
    teacher = identity.teacher_id(session, _key(settings), request.cookies)
    if teacher is None:
        if request.method == "GET":
            raise HTTPException(303, headers={
                "location": "/teacher/login?next=" + quote(request.url.path)})
        raise HTTPException(403, "Log in as a teacher first.")
    return teacher


def _class(request: Request, session: Session, settings: Settings, class_id: int) -> Classroom:
    classroom = service.owned_class(session, _teacher(request, session, settings), class_id)
    if classroom is None:  # another teacher's class looks the same as none at all
        raise HTTPException(404, "No such class")
    return classroom


def _exercise_titles(locale: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    for lesson in catalog().lessons:
        for exercise in lesson.exercises:
            titles[f"{lesson.id}/{exercise.id}"] = (
                f"{lesson.number}. {lesson.title.get(locale)} · {exercise.id}")
    return titles


def _exercise_links() -> dict[str, str]:
    """Where each exercise sits: its lesson page at the exercise's own section."""
    return {f"{lesson.id}/{section.id}": f"/lessons/{lesson.id}#{section_anchor(index)}"
            for lesson in catalog().lessons for index, section in enumerate(lesson.sections)
            if isinstance(section, ExerciseSection)}


def _join_link(request: Request, classroom: Classroom) -> str:
    return str(request.base_url).rstrip("/") + f"/join?code={classroom.join_code}"


# --- teacher: login ---

@router.get("/teacher")
async def teacher_home() -> RedirectResponse:
    return RedirectResponse("/teacher/classes", status_code=303)


@router.get("/teacher/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/teacher/classes") -> HTMLResponse:
    return _page(request, "login.html", "main", {"next": safe_next(next), "error": None})


@router.post("/teacher/login", response_model=None)
async def login(request: Request, settings: SettingsDep) -> Response:
    fields = await _form(request, settings)
    next_url = safe_next(fields.get("next") or "/teacher/classes")
    try:
        _rate_limit(request, "login", settings.classroom_login_per_minute)
    except RateLimitedError as limited:
        return _page(request, "login.html", "main", {
            "next": next_url, "error": "rate", "retry_s": limited.retry_after_s},
            status_code=429)
    # argon2 is slow by design (argon2-cffi's defaults: 64 MiB, 3 passes; 0.7 s measured on a
    # busy 2-core machine): off the event loop, so a login stalls no other request.
    token = await run_in_threadpool(_login_token, settings, fields.get("username", ""),
                                    fields.get("password", ""))
    if not token:
        return _page(request, "login.html", "main", {"next": next_url, "error": "wrong"},
                     status_code=401)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(identity.TEACHER_COOKIE, token, max_age=settings.teacher_session_s,
                        httponly=True, samesite="lax", secure=_secure(request), path="/")
    return response


def _login_token(settings: Settings, username: str, password: str) -> str | None:
    with _session(settings) as session:
        teacher = service.authenticate(session, username, password)
        if teacher is None:
            return None
        return identity.teacher_token(_key(settings), teacher, settings.teacher_session_s)


@router.post("/teacher/logout")
async def logout(request: Request, settings: SettingsDep) -> RedirectResponse:
    await _form(request, settings)
    with _session(settings) as session:
        teacher = identity.teacher_id(session, _key(settings), request.cookies)
        if teacher is not None:  # every copy of this login ends, not only this browser's
            service.end_sessions(session, teacher)
    response = RedirectResponse("/teacher/login", status_code=303)
    response.delete_cookie(identity.TEACHER_COOKIE, path="/")
    return response


# --- teacher: classes ---

@router.get("/teacher/classes", response_class=HTMLResponse)
async def classes(request: Request, settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        rooms = service.teacher_classes(session, _teacher(request, session, settings))
    return _page(request, "classes.html", "main", {"classes": rooms, "error": None})


@router.post("/teacher/classes", response_model=None)
async def create_class(request: Request, settings: SettingsDep) -> Response:
    fields = await _form(request, settings)
    with _session(settings) as session:
        teacher = _teacher(request, session, settings)
        try:
            room = service.create_class(session, teacher, fields.get("name", ""),
                                        max_name_chars=settings.max_display_name_chars,
                                        max_classes=settings.max_classes_per_teacher)
        except service.ClassroomError as refused:  # refused before anything was written
            rooms = service.teacher_classes(session, teacher)
            return _page(request, "classes.html", "main",
                         {"classes": rooms, "error": _say(request, refused)}, status_code=400)
        return RedirectResponse(f"/teacher/classes/{room.id}", status_code=303)


def _class_context(request: Request, session: Session, room: Classroom) -> dict[str, Any]:
    locale = choose_locale(request)
    refs = service.assigned(room)
    chosen = {ref.key for ref in refs}
    catalog_rows = [(lesson, [(f"{lesson.id}/{e.id}", e.id) for e in lesson.exercises])
                    for lesson in catalog().lessons if lesson.exercises]
    own = exercises.teacher_exercises(session, room.teacher_id)
    return {"room": room, "join_link": _join_link(request, room),
            "pretty_code": room.join_code, "chosen": chosen, "catalog_rows": catalog_rows,
            "own_exercises": [(exercises.ref(e).key, e.title) for e in own],
            "board": service.dashboard(session, room),
            "titles": {**_exercise_titles(locale), **exercises.titles(session, refs)},
            "error": None}


@router.get("/teacher/classes/{class_id}", response_class=HTMLResponse)
async def class_page(request: Request, class_id: int, settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        context = _class_context(request, session, room)
    return _page(request, "class.html", "main", context)


@router.get("/teacher/classes/{class_id}/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, class_id: int, settings: SettingsDep) -> HTMLResponse:
    """The grid alone: what the page's polling swaps in (a full page without htmx)."""
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        context = _class_context(request, session, room)
    return _page(request, "class.html", "dashboard", context)


@router.get("/teacher/classes/{class_id}/qr.svg")
async def qr_code(request: Request, class_id: int, settings: SettingsDep) -> Response:
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        link = _join_link(request, room)
    svg = io.BytesIO()
    # A standalone SVG document (with its xmlns), which an <img> needs; no script can be in
    # it: segno draws one path from the link's modules.
    segno.make(link, error="m").save(svg, kind="svg", scale=6, border=2, xmldecl=False)
    return Response(svg.getvalue(), media_type="image/svg+xml",
                    headers={"cache-control": "private, no-store"})


@router.post("/teacher/classes/{class_id}/{action}", response_model=None)
async def change_class(request: Request, class_id: int, action: str,
                       settings: SettingsDep) -> Response:
    pairs = await _form_pairs(request, settings)
    fields = dict(pairs)
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        if action == "delete":
            if fields.get("confirm") != room.name:
                context = _class_context(request, session, room)
                context["error"] = "confirm"
                return _page(request, "class.html", "main", context, status_code=400)
            service.delete_class(session, room)
            return RedirectResponse("/teacher/classes", status_code=303)
        if action == "rename":
            try:
                room.name = service.clean_name(fields.get("name", ""),
                                               settings.max_display_name_chars)
            except service.ClassroomError as refused:
                context = _class_context(request, session, room)
                context["error"] = _say(request, refused)
                return _page(request, "class.html", "main", context, status_code=400)
        elif action == "joining":
            room.joining_open = fields.get("open") == "1"
        elif action == "archive":
            room.archived = fields.get("archived") == "1"
            if room.archived:
                room.joining_open = False
        elif action == "assignments":
            known = {f"{lesson.id}/{e.id}": service.ExerciseRef(lesson.id, e.id)
                     for lesson in catalog().lessons for e in lesson.exercises}
            known.update(exercises.assignable(session, room.teacher_id))
            picked = [v for k, v in pairs if k == "exercise" and v in known]
            service.set_assignments(session, room, [known[k] for k in picked])
        else:
            raise HTTPException(404, "No such action")
    return RedirectResponse(f"/teacher/classes/{class_id}", status_code=303)


@router.get("/teacher/classes/{class_id}/students/{student_id}", response_class=HTMLResponse)
async def student_program(request: Request, class_id: int, student_id: int,
                          settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        student = service.owned_student(session, room, student_id)
        if student is None:
            raise HTTPException(404, "No such student")
        latest = service.latest_attempt(session, room, student_id)
        titles = {**_exercise_titles(choose_locale(request)),
                  **exercises.titles(session, service.assigned(room))}
    return _page(request, "student.html", "main", {"room": room, "student": student,
                                                   "latest": latest, "titles": titles})


@router.get("/teacher/classes/{class_id}/export.csv")
async def export_csv(request: Request, class_id: int, settings: SettingsDep) -> Response:
    with _session(settings) as session:
        room = _class(request, session, settings, class_id)
        text = service.dashboard_csv(service.dashboard(session, room))
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="class-{class_id}.csv"',
        "cache-control": "private, no-store"})


# --- students ---

@router.get("/join", response_class=HTMLResponse)
async def join_form(request: Request, code: str = "") -> HTMLResponse:
    return _page(request, "join.html", "main", {"code": codes.normalise(code), "error": None})


def _seat_response(request: Request, settings: Settings, student: Student,
                   recovery: str | None) -> HTMLResponse:
    response = _page(request, "me.html", "main", _me_context(request, student, recovery))
    response.set_cookie(identity.SEAT_COOKIE,
                        identity.seat_token(_key(settings), student, settings.seat_cookie_s),
                        max_age=settings.seat_cookie_s, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")
    return response


async def _limited_join(request: Request, settings: Settings, code: str) -> HTMLResponse | None:
    try:
        _rate_limit(request, "join", settings.classroom_join_per_minute)
    except RateLimitedError as limited:
        return _page(request, "join.html", "main", {"code": code, "error": None,
                                                    "retry_s": limited.retry_after_s},
                     status_code=429)
    return None


@router.post("/join", response_class=HTMLResponse)
async def join(request: Request, settings: SettingsDep) -> HTMLResponse:
    fields = await _form(request, settings)
    code = codes.normalise(fields.get("code", ""))
    limited = await _limited_join(request, settings, code)
    if limited is not None:
        return limited
    with _session(settings) as session:
        try:
            seat = service.join(session, code, fields.get("name", ""),
                                max_name_chars=settings.max_display_name_chars,
                                max_students=settings.max_students_per_class)
        except service.ClassroomError as refused:
            return _page(request, "join.html", "main",
                         {"code": code, "error": _say(request, refused)}, status_code=400)
        return _seat_response(request, settings, seat.student,
                              codes.pretty_recovery(seat.recovery_code))


@router.post("/join/recover", response_class=HTMLResponse)
async def recover(request: Request, settings: SettingsDep) -> HTMLResponse:
    fields = await _form(request, settings)
    limited = await _limited_join(request, settings, "")
    if limited is not None:
        return limited
    with _session(settings) as session:
        student = service.recover(session, fields.get("recovery", ""))
        if student is None:
            return _page(request, "join.html", "main", {"code": "", "error": "recovery"},
                         status_code=400)
        return _seat_response(request, settings, student, None)


def _me_context(request: Request, student: Student, recovery: str | None) -> dict[str, Any]:
    session = Session.object_session(student)
    assert session is not None
    progress = service.student_progress(session, student)
    refs = service.assigned(student.classroom)
    return {"student": student, "room": student.classroom, "progress": progress,
            "titles": {**_exercise_titles(choose_locale(request)),
                       **exercises.titles(session, refs)},
            "links": {**_exercise_links(), **exercises.links(refs)},
            "recovery": recovery}


@router.get("/me", response_class=HTMLResponse)
async def me(request: Request, settings: SettingsDep) -> Response:
    with _session(settings) as session:
        student = identity.seat(session, _key(settings), request.cookies)
        if student is None:
            return RedirectResponse("/join", status_code=303)
        return _page(request, "me.html", "main", _me_context(request, student, None))


@router.post("/me/leave")
async def leave(request: Request, settings: SettingsDep) -> RedirectResponse:
    """Forget the seat on this device (the recovery code brings it back)."""
    await _form(request, settings)
    response = RedirectResponse("/join", status_code=303)
    response.delete_cookie(identity.SEAT_COOKIE, path="/")
    return response


# --- exercise checks as attempts (called by routes/lessons.py) ---

async def record_check(request: Request, settings: Settings, lesson_id: str,
                       exercise_id: str, code: str, passed: bool,
                       run_data: Mapping[str, Any] | None) -> None:
    """Records an exercise check as an attempt when the request holds a seat; anonymous
    checks store nothing and never touch the database."""
    if identity.SEAT_COOKIE not in request.cookies:
        return
    error = (run_data or {}).get("error") or {}
    await run_in_threadpool(_record, dict(request.cookies), settings, lesson_id, exercise_id,
                            code, passed, str(error.get("type") or ""))


def _record(cookies: dict[str, str], settings: Settings, lesson_id: str, exercise_id: str,
            code: str, passed: bool, error_type: str) -> None:
    with _session(settings) as session:
        student = identity.seat(session, _key(settings), cookies)
        if student is None or student.classroom.archived:
            return
        service.record_attempt(session, student.id, lesson_id, exercise_id, passed=passed,
                               error_type=error_type, code=code,
                               max_code_chars=settings.max_attempt_code_chars)


def classroom_identity(request: Request) -> identity.Identity | None:
    """("teacher", id, None), ("student", id, class_id) or None, from the request's cookies:
    what the app's Caller type can be built from."""
    settings = request.app.dependency_overrides.get(get_settings, get_settings)()
    if not ({identity.TEACHER_COOKIE, identity.SEAT_COOKIE} & request.cookies.keys()):
        return None
    with _session(settings) as session:
        return identity.classroom_identity(session, _key(settings), request.cookies)


def _has_classroom_cookie(connection: HTTPConnection) -> bool:
    return bool({identity.TEACHER_COOKIE, identity.SEAT_COOKIE} & connection.cookies.keys())


def _classroom_caller(connection: HTTPConnection) -> callers.Caller | None:
    """A teacher's session or a student's seat as the request's Caller (with the class), so
    rate limits, run quotas and the fair queue count students one by one behind one NAT."""
    settings = connection.app.dependency_overrides.get(get_settings, get_settings)()
    try:
        with _session(settings) as session:
            found = identity.classroom_identity(session, _key(settings), connection.cookies)
    except SQLAlchemyError:  # the class store is down: the program runner still serves
        return None
    if found is None:
        return None
    kind, ident, class_id = found
    return callers.Caller(kind=kind, id=str(ident),
                          class_id=None if class_id is None else str(class_id))


callers.register_resolver(callers.CallerResolver(presents=_has_classroom_cookie,
                                                 resolve=_classroom_caller))


def _database_ready(request: Request) -> str | None:
    """For /readyz: the classroom's database answers a query."""
    settings = request.app.dependency_overrides.get(get_settings, get_settings)()
    try:
        with _session(settings) as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return f"the database did not answer ({type(error).__name__})"
    return None


ops.register_readiness_check("database", _database_ready)
