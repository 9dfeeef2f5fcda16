"""Teachers' own exercises (app/classroom/exercises.py): writing, validating, editing and
deleting them; and a student's page for their own variant of one, with its check.

Thin, as the classroom's other pages (app/routes/classroom.py, whose plumbing this reuses):
every state-changing form carries the CSRF token; a teacher reaches only their own
exercises, a student only an exercise assigned to their class, in their own variant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app import i18n
from app.classroom import exercises, identity, service
from app.classroom.models import TEACHER_LESSON, Student, TeacherExercise
from app.config import Settings
from app.deps import ExecutorDep, SettingsDep
from app.lessons import render as markup
from app.lessons.models import Said
from app.lessons.service import CheckRun
from app.message import Message
from app.playground.compare import REPEAT
from app.routes.classroom import _key, _page, _session, _teacher
from app.web import MAX_FORM_FIELDS, choose_locale, form_fields, is_fragment_request, render

router = APIRouter(include_in_schema=False)
FIELDS_PER_CHECK = 5  # target, name, compare, rtol, atol


async def _fields(request: Request, settings: Settings) -> dict[str, str]:
    """The posted form after the CSRF check (a 403 without the token)."""
    fields = await form_fields(request, settings.max_body_bytes,
                               MAX_FORM_FIELDS + FIELDS_PER_CHECK * settings.max_exercise_checks)
    if not identity.csrf_ok(request.cookies, fields.get(identity.CSRF_FIELD)):
        raise HTTPException(403, "The form expired or came from another site: reload the page "
                                 "and send it again.")
    return fields


def _say(request: Request, refused: service.ClassroomError) -> str:
    """The refusal in the page's language; a Said among its values (the checker's words
    on a failed check) in that language too."""
    locale = choose_locale(request)
    text = i18n.translations(locale).gettext(refused.message)
    params = {k: v.get(locale) if isinstance(v, Said)
              else i18n.translate(v, locale) if isinstance(v, Message) else v
              for k, v in refused.params.items()}
    return text.format(**params)


# --- teacher: the exercises ---

@router.get("/teacher/exercises", response_class=HTMLResponse)
async def exercise_list(request: Request, settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        mine = exercises.teacher_exercises(session, _teacher(request, session, settings))
    return _page(request, "exercises.html", "main", {"exercises": mine})


def _form_page(request: Request, settings: Settings, draft: exercises.Draft,
               exercise: TeacherExercise | None, error: str | None = None, *,
               status_code: int = 200) -> HTMLResponse:
    preview = []
    if exercise is not None and error is None:
        locale = choose_locale(request)
        for seat in (1, 2, 3):  # the first three seats of a class, for instance
            variant = exercises.variant_for(exercise, seat)
            preview.append((variant.described, markup.markup(variant.prompt.get(locale)),
                            variant.starter))
    return _page(request, "exercise_form.html", "main", {
        "draft": draft, "rows": exercises.with_blank_rows(draft, settings.max_exercise_checks),
        "exercise": exercise, "error": error, "preview": preview,
        "saved": request.query_params.get("saved") == "1",
        "targets": exercises.TARGETS, "compares": exercises.COMPARES},
        status_code=status_code)


@router.get("/teacher/exercises/new", response_class=HTMLResponse)
async def new_exercise(request: Request, settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        _teacher(request, session, settings)
    return _form_page(request, settings, exercises.Draft(), None)


@router.get("/teacher/exercises/{exercise_id}", response_class=HTMLResponse)
async def edit_exercise(request: Request, exercise_id: int,
                        settings: SettingsDep) -> HTMLResponse:
    with _session(settings) as session:
        exercise = _owned(request, session, settings, exercise_id)
        return _form_page(request, settings, exercises.draft_of(exercise), exercise)


def _owned(request: Request, session: Session, settings: Settings,
           exercise_id: int) -> TeacherExercise:
    exercise = exercises.owned_exercise(session, _teacher(request, session, settings),
                                        exercise_id)
    if exercise is None:  # another teacher's exercise looks the same as none at all
        raise HTTPException(404, "No such exercise")
    return exercise


@router.post("/teacher/exercises", response_model=None)
async def create_exercise(request: Request, executor: ExecutorDep,
                          settings: SettingsDep) -> Response:
    return await _save(request, executor, settings, None)


@router.post("/teacher/exercises/{exercise_id}", response_model=None)
async def update_exercise(request: Request, exercise_id: int, executor: ExecutorDep,
                          settings: SettingsDep) -> Response:
    return await _save(request, executor, settings, exercise_id)


async def _save(request: Request, executor: ExecutorDep, settings: Settings,
                exercise_id: int | None) -> Response:
    """Parse, run the reference in the sandbox, and only then store: a refused form comes
    back filled in, with the reason."""
    fields = await _fields(request, settings)
    draft = exercises.draft_from_form(fields, settings.max_exercise_checks)
    with _session(settings) as session:  # a teacher's, before any sandbox run
        _teacher(request, session, settings)
        existing = None if exercise_id is None else _owned(request, session, settings,
                                                           exercise_id)
    try:
        spec = exercises.parse(draft, settings)
        await exercises.validate(executor, settings, spec)
        with _session(settings) as session:
            teacher = _teacher(request, session, settings)
            target = None if exercise_id is None else exercises.owned_exercise(
                session, teacher, exercise_id)
            saved = exercises.save(session, teacher, spec, exercise=target,
                                   max_exercises=settings.max_teacher_exercises)
            saved_id = saved.id
    except service.ClassroomError as refused:
        return _form_page(request, settings, draft, existing, _say(request, refused),
                          status_code=400)
    return RedirectResponse(f"/teacher/exercises/{saved_id}?saved=1", status_code=303)


@router.post("/teacher/exercises/{exercise_id}/delete", response_model=None)
async def delete_exercise(request: Request, exercise_id: int,
                          settings: SettingsDep) -> Response:
    await _fields(request, settings)
    with _session(settings) as session:
        exercises.delete_exercise(session, _owned(request, session, settings, exercise_id))
    return RedirectResponse("/teacher/exercises", status_code=303)


# --- student: their own variant ---

def _student_exercise(request: Request, session: Session, settings: Settings,
                      exercise_id: int) -> tuple[Student, TeacherExercise]:
    student = identity.seat(session, _key(settings), request.cookies)
    if student is None:
        raise HTTPException(403, "Join the class first: this exercise belongs to a class.")
    exercise = exercises.for_student(session, student, exercise_id)
    if exercise is None:  # not assigned to this student's class: as if it did not exist
        raise HTTPException(404, "No such exercise")
    return student, exercise


def _student_page(request: Request, student: Student, exercise: TeacherExercise,
                  variant: exercises.Variant, out: CheckRun | None) -> dict[str, Any]:
    locale = choose_locale(request)
    return {"student": student, "room": student.classroom, "exercise": exercise,
            "variant": variant, "prompt": markup.markup(variant.prompt.get(locale)),
            "out": out, "repeat": REPEAT}


@router.get("/me/exercises/{exercise_id}", response_model=None)
async def student_exercise(request: Request, exercise_id: int,
                           settings: SettingsDep) -> Response:
    with _session(settings) as session:
        if identity.seat(session, _key(settings), request.cookies) is None:
            return RedirectResponse("/join", status_code=303)
        student, exercise = _student_exercise(request, session, settings, exercise_id)
        variant = exercises.variant_for(exercise, student.id)
        return _page(request, "exercise.html", "main",
                     _student_page(request, student, exercise, variant, None))


@router.post("/me/exercises/{exercise_id}/check", response_class=HTMLResponse)
async def check_exercise(request: Request, exercise_id: int, executor: ExecutorDep,
                         settings: SettingsDep) -> HTMLResponse:
    fields = await _fields(request, settings)
    code = fields.get("code", "").replace("\r\n", "\n")
    with _session(settings) as session:
        student, exercise = _student_exercise(request, session, settings, exercise_id)
        variant = exercises.variant_for(exercise, student.id)
        student_id, archived = student.id, student.classroom.archived
    report = await exercises.check(executor, settings, request, variant, code)
    if not report.not_attempted and not archived:  # recorded like a catalog exercise's
        error = (report.run.data.get("error") or {}).get("type") or ""
        with _session(settings) as session:
            service.record_attempt(session, student_id, TEACHER_LESSON, str(exercise_id),
                                   passed=report.passed, error_type=str(error), code=code,
                                   max_code_chars=settings.max_attempt_code_chars,
                                   variant=variant.described)
    out = CheckRun(0, str(exercise_id), TEACHER_LESSON, report, code)
    if is_fragment_request(request):
        response = render(request, "pages/lesson_fragment.html", "fragment",
                          {"out": out, "repeat": REPEAT, "active": "classroom"})
        response.headers["cache-control"] = "no-store"
        return response
    with _session(settings) as session:
        student, exercise = _student_exercise(request, session, settings, exercise_id)
        return _page(request, "exercise.html", "main",
                     _student_page(request, student, exercise, variant, out))
