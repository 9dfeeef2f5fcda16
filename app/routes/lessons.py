"""Lesson pages and their buttons. Each POST answers an htmx request with the one output
(swapped into the section), and a plain form post with the whole lesson page showing that
output in place, so every button also works without JavaScript."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.config import Settings
from app.deps import CALLER_FIRST, ExecutorDep, SettingsDep
from app.executor.base import Executor
from app.lessons import checker, service
from app.lessons.loader import catalog
from app.lessons.models import ExampleSection, GuideCheckSection, Lesson, PlotSection
from app.playground.compare import REPEAT
from app.routes import classroom
from app.web import choose_locale, form_fields, is_fragment_request, render

router = APIRouter(include_in_schema=False, dependencies=CALLER_FIRST)


def _lesson(lesson_id: str) -> Lesson:
    lesson = catalog().get(lesson_id)
    if lesson is None:
        raise HTTPException(404, "No such lesson")
    return lesson


# Charts drawn for whole pages, by (lesson, section): their programs are seeded, so a chart
# never changes while the server runs; bounded by the catalog's few plot sections.
_CHARTS: dict[tuple[str, int], service.PlotRun] = {}


async def _draw_charts(executor: Executor, settings: Settings, client: object, lesson: Lesson,
                       page: service.LessonPage) -> None:
    """Put every chart in a whole page, so a lesson reads without JavaScript too (with it,
    htmx would otherwise draw each one after load)."""
    plots = [(i, s) for i, s in enumerate(lesson.sections) if isinstance(s, PlotSection)]
    missing = [(i, s) for i, s in plots if (lesson.id, i) not in _CHARTS]
    drawn = await asyncio.gather(*(service.draw_plot(executor, settings, client, s, i)
                                   for i, s in missing))
    for out in drawn:
        if out.chart is not None:
            _CHARTS[(lesson.id, out.index)] = out
        page.outputs.setdefault(out.index, out)
    for i, _ in plots:
        if (lesson.id, i) in _CHARTS:
            page.outputs.setdefault(i, _CHARTS[(lesson.id, i)])


async def _answer(request: Request, executor: Executor, settings: Settings, lesson: Lesson,
                  out: Any) -> HTMLResponse:
    context = {"active": "lessons", "repeat": REPEAT}
    if is_fragment_request(request):
        return render(request, "pages/lesson_fragment.html", "fragment", {**context, "out": out})
    page = service.page(catalog(), lesson, choose_locale(request))
    page.outputs[out.index] = out
    await _draw_charts(executor, settings, request, lesson, page)
    return render(request, "pages/lesson.html", "main", {**context, "page": page})


@router.get("/lessons", response_class=HTMLResponse)
async def lessons_index(request: Request) -> HTMLResponse:
    lessons = service.index(catalog(), choose_locale(request))
    return render(request, "pages/lessons.html", "main", {"lessons": lessons,
                                                          "active": "lessons"})


@router.get("/lessons/{lesson_id}", response_class=HTMLResponse)
async def lesson_page(request: Request, lesson_id: str, executor: ExecutorDep,
                      settings: SettingsDep) -> HTMLResponse:
    lesson = catalog().get(lesson_id)
    if lesson is None:
        return render(request, "pages/lesson_missing.html", "main", {"active": "lessons"},
                      status_code=404)
    page = service.page(catalog(), lesson, choose_locale(request))
    await _draw_charts(executor, settings, request, lesson, page)
    return render(request, "pages/lesson.html", "main",
                  {"page": page, "active": "lessons", "repeat": REPEAT})


@router.post("/lessons/{lesson_id}/run/{index}", response_class=HTMLResponse)
async def run_example(request: Request, lesson_id: str, index: int, executor: ExecutorDep,
                      settings: SettingsDep) -> HTMLResponse:
    lesson = _lesson(lesson_id)
    section = lesson.section(index)
    if not isinstance(section, ExampleSection | GuideCheckSection):
        raise HTTPException(404, "No such example")
    # A scratchpad example or guide check may come back edited (its editor's "code").
    fields = await form_fields(request, settings.max_body_bytes)
    out = await service.run_example(executor, settings, request, section, index,
                                    fields.get("code"))
    return await _answer(request, executor, settings, lesson, out)


@router.post("/lessons/{lesson_id}/check/{exercise_id}", response_class=HTMLResponse)
async def check_exercise(request: Request, lesson_id: str, exercise_id: str,
                         executor: ExecutorDep, settings: SettingsDep) -> HTMLResponse:
    lesson = _lesson(lesson_id)
    exercise = lesson.exercise(exercise_id)
    if exercise is None:
        raise HTTPException(404, "No such exercise")
    code = (await form_fields(request, settings.max_body_bytes)).get("code", "")
    report = await checker.check_exercise(executor, settings, request, lesson.id, exercise, code)
    if not report.not_attempted:  # a student's seat records the check; anonymous: nothing
        await classroom.record_check(request, settings, lesson.id, exercise.id, code,
                                     report.passed, report.run.data)
    index = next(i for i, s in enumerate(lesson.sections) if s is exercise)
    out = service.CheckRun(index, exercise.id, lesson.id, report, code)
    return await _answer(request, executor, settings, lesson, out)


@router.post("/lessons/{lesson_id}/plot/{index}", response_class=HTMLResponse)
async def draw_plot(request: Request, lesson_id: str, index: int, executor: ExecutorDep,
                    settings: SettingsDep) -> HTMLResponse:
    lesson = _lesson(lesson_id)
    section = lesson.section(index)
    if not isinstance(section, PlotSection):
        raise HTTPException(404, "No such chart")
    out = await service.draw_plot(executor, settings, request, section, index)
    return await _answer(request, executor, settings, lesson, out)


@router.post("/lessons/{lesson_id}/calculator", response_class=HTMLResponse)
async def calculator(request: Request, lesson_id: str, executor: ExecutorDep,
                     settings: SettingsDep) -> HTMLResponse:
    lesson = _lesson(lesson_id)
    index = service.calculator_section(lesson)
    if index is None:
        raise HTTPException(404, "This lesson has no calculator")
    fields = await form_fields(request, settings.max_body_bytes)
    out = await service.run_calculator(executor, settings, request, fields, index)
    return await _answer(request, executor, settings, lesson, out)
