"""Every lesson of the catalog, including those added later: it validates, every example
and guide check runs in the sandbox exactly as torch runs it, and every exercise's
solution passes its checks while its planted wrong answer fails them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.engine.program import Sandbox
from app.lessons.checker import evaluate_attempt
from app.lessons.loader import CATALOG_DIR, Catalog, load_catalog
from app.lessons.models import (
    ExampleSection,
    ExerciseSection,
    GuideCheckSection,
    PlotSection,
)
from app.lessons.plot import build_chart
from tests.japanese import in_japanese

from .direct import mismatch, run_direct

# Errors only the sandbox raises (a refused name, a limit, the deadline): torch has nothing
# to compare them with.
SANDBOX_ONLY = {"ForbiddenError", "LimitError", "TimeoutError"}
CATALOG = load_catalog()
RUNNABLE = [
    pytest.param(lesson.id, i, id=f"{lesson.number:02d}-{lesson.id}-{i}")
    for lesson in CATALOG.lessons for i, s in enumerate(lesson.sections)
    if isinstance(s, ExampleSection | GuideCheckSection)]
EXERCISES = [pytest.param(lesson.id, e.id, id=f"{lesson.number:02d}-{lesson.id}-{e.id}")
             for lesson in CATALOG.lessons for e in lesson.exercises]


def test_every_catalog_file_is_a_lesson(catalog: Catalog) -> None:
    files = sorted(CATALOG_DIR.glob("*.toml"))
    assert len(files) == len(catalog.lessons) >= 8
    numbers = [lesson.number for lesson in catalog.lessons]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_every_lesson_teaches_with_runnable_examples_and_an_exercise(catalog: Catalog) -> None:
    for lesson in catalog.lessons:
        kinds = {s.kind for s in lesson.sections}
        assert "example" in kinds, lesson.id
        assert lesson.exercises, f"{lesson.id} has no exercise"


def _shapes_only(body: dict[str, Any]) -> bool:
    """Values cannot match torch's when the sandbox filled uninitialised memory or moved a
    'cuda' tensor to the CPU (device texts differ); shapes and dtypes still must."""
    notices = " ".join(body.get("notices") or [])
    return "uninitialised" in notices or "no CUDA GPU" in notices


def _same_as_torch(sandbox: Sandbox, code: str, seed: int, expect: str,
                   error_type: str | None) -> None:
    body = sandbox.run(code, seed, "auto").body
    direct = run_direct(code, seed)
    if expect == "error":
        assert not body["ok"], f"expected {error_type}, the sandbox finished"
        assert body["error"]["type"] == error_type, body["error"]
        if error_type not in SANDBOX_ONLY:
            assert direct.error == error_type, f"torch itself raised {direct.error}"
        return
    assert body["ok"], body.get("error")
    assert direct.error is None, f"torch itself raised {direct.error}"
    shapes_only = _shapes_only(body)
    if direct.has_result:
        problem = mismatch(body.get("result"), direct.result, shapes_only)
        assert problem is None, f"result: {problem}"
    if not shapes_only:
        assert body.get("stdout", "") == direct.stdout


@pytest.mark.parametrize(("lesson_id", "index"), RUNNABLE)
def test_examples_run_in_the_sandbox_as_in_torch(sandbox: Sandbox, catalog: Catalog,
                                                lesson_id: str, index: int) -> None:
    lesson = catalog.get(lesson_id)
    assert lesson is not None
    section = lesson.sections[index]
    assert isinstance(section, ExampleSection | GuideCheckSection)
    programs = section.programs() if isinstance(section, ExampleSection) else [section.code]
    if section.expect == "error":
        # A compare example that shows an error needs only one side to raise it.
        raised = [sandbox.run(p, section.seed, "auto").body for p in programs]
        failing = [p for p, body in zip(programs, raised, strict=True) if not body["ok"]]
        assert failing, f"no program raised {section.error_type}"
        for program in failing:
            _same_as_torch(sandbox, program, section.seed, "error", section.error_type)
        programs = [p for p in programs if p not in failing]
    for program in programs:
        _same_as_torch(sandbox, program, section.seed, "ok", None)


@pytest.mark.parametrize(("lesson_id", "exercise_id"), EXERCISES)
def test_solutions_pass_and_wrong_answers_fail(sandbox: Sandbox, catalog: Catalog,
                                               lesson_id: str, exercise_id: str) -> None:
    lesson = catalog.get(lesson_id)
    assert lesson is not None
    exercise = lesson.exercise(exercise_id)
    assert isinstance(exercise, ExerciseSection)
    reference = sandbox.run(exercise.solution, exercise.seed, "auto").body
    assert reference["ok"], reference.get("error")
    problems, checked = evaluate_attempt(reference, reference, exercise.checks)
    assert not problems and checked == len(exercise.checks)
    # The solution is checked against a fresh run of itself: same seed, same answer.
    again = sandbox.run(exercise.solution, exercise.seed, "auto").body
    assert evaluate_attempt(again, reference, exercise.checks)[0] == []
    wrong = sandbox.run(exercise.wrong, exercise.seed, "auto").body
    problems, _ = evaluate_attempt(wrong, reference, exercise.checks)
    assert problems, "the wrong answer passed every check"
    assert all(in_japanese(p) for p in problems)


PLOTS = [pytest.param(lesson.id, i, id=f"{lesson.number:02d}-{lesson.id}-{i}")
         for lesson in CATALOG.lessons for i, s in enumerate(lesson.sections)
         if isinstance(s, PlotSection)]


@pytest.mark.parametrize(("lesson_id", "index"), PLOTS)
def test_every_chart_draws(sandbox: Sandbox, catalog: Catalog, lesson_id: str,
                           index: int) -> None:
    lesson = catalog.get(lesson_id)
    assert lesson is not None
    section = lesson.sections[index]
    assert isinstance(section, PlotSection)
    chart = build_chart(section.style, sandbox.run(section.code, section.seed, "auto").body)
    assert chart.series and all(s.paths for s in chart.series)


def test_links_between_lessons_point_to_real_lessons(catalog: Catalog) -> None:
    ids = {lesson.id for lesson in catalog.lessons}
    for path in CATALOG_DIR.glob("*.toml"):
        for target in re.findall(r"\]\(/lessons/([^)#?\s]*)", path.read_text("utf-8")):
            assert target in ids, f"{path.name} links to /lessons/{target}"
