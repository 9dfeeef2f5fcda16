"""Red-team web inputs of the newer routes: text a teacher writes that the web process parses
or renders on its event loop must cost time linear in its length.

Both holes were regular expressions that backtracked quadratically: a shape declaration of
randomized inputs ("(1" and 250 kB of spaces held the loop for minutes) and a link in a task
text ("[" * 10,000: 0.9 s on every student page).
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from app.classroom import variants
from app.classroom.service import ClassroomError
from app.lessons import render
from tests.security.test_classroom import PASSWORD, csrf_of, settings_for, two_classes, web

# The classroom abuse tests' fixtures, on this test's own database.
__all__ = ["settings_for", "two_classes", "web"]

LINEAR_BUDGET_S = 1.0  # the quadratic forms took 70 s and more at these sizes


def elapsed(action: object) -> float:
    assert callable(action)
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@pytest.mark.parametrize("declaration", [
    "s: shape (1" + " " * 250_000 + "x",
    "s: shape (1," + " ," * 120_000,
    "s: shape (" + "1 ," * 80_000 + "x",
])
def test_a_huge_shape_declaration_is_refused_in_linear_time(declaration: str) -> None:
    def parse() -> None:
        with pytest.raises(ClassroomError) as refused:
            variants.parse(declaration, 8)
        assert "a shape" in str(refused.value.message)

    assert elapsed(parse) < LINEAR_BUDGET_S


@pytest.mark.parametrize(("text", "shapes"), [
    ("(2, 3)", ((2, 3),)), ("(4,)", ((4,),)), ("( 4 , )", ((4,),)), ("(2,3,)", ((2, 3),)),
    ("(2, 3) | (4,)", ((2, 3), (4,))),
])
def test_shapes_read_as_before(text: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    (param,) = variants.parse("size: shape " + text, 8)
    assert param.choices == shapes


@pytest.mark.parametrize("text", ["()", "(,)", "(2,,3)", "(2 3)", "(12345)", "(0)", "2, 3",
                                  "(2, 3", "(1, 2, 3, 4, 5, 6, 7)"])
def test_malformed_shapes_are_refused(text: str) -> None:
    with pytest.raises(ClassroomError):
        variants.parse("size: shape " + text, 8)


@pytest.mark.parametrize("text", ["[" * 100_000, "[a" * 50_000, "[a](" * 25_000,
                                  "[a](/x" * 20_000])
def test_task_text_renders_in_linear_time(text: str) -> None:
    assert elapsed(lambda: render.markup(text)) < LINEAR_BUDGET_S


def test_links_render_as_before() -> None:
    assert render.inline("see [the docs](/lessons/x) and [b](https://e.x/a_b)") == (
        'see <a href="/lessons/x">the docs</a> and '
        '<a href="https://e.x/a_b" rel="noopener noreferrer">b</a>')
    assert render.inline("[x](javascript:alert(1))") == "[x](javascript:alert(1))"


def test_the_exercise_form_refuses_a_huge_declaration_at_once(
        web: TestClient, two_classes: object) -> None:
    login = web.post("/teacher/login", data={
        "csrf": csrf_of(web, "/teacher/login"), "username": "t", "password": PASSWORD},
        follow_redirects=False)
    assert login.status_code == 303
    form = {"csrf": csrf_of(web, "/teacher/exercises/new"), "title": "Sums",
            "prompt_en": "Sum `x`.", "starter": "x = torch.ones(3)\ny = ...",
            "solution": "x = torch.ones(3)\ny = x.sum()", "seed": "0",
            "params": "s: shape (1" + " " * 200_000 + "x",
            "target_0": "var", "name_0": "y", "compare_0": "values", "rtol_0": "1e-5",
            "atol_0": "1e-6"}
    started = time.perf_counter()
    answer = web.post("/teacher/exercises", data=form)
    assert time.perf_counter() - started < 2 * LINEAR_BUDGET_S
    assert answer.status_code == 400
    assert "a shape is written like (2, 3) or (4,)" in answer.text

