"""The classroom's pages as a teacher and a student see them, in English and Japanese at
desktop size: the dashboard of a class with a few students and attempts, the projector with
a spotlit program, the API keys page and the join page. Saved for docs/screenshots
(``UPDATE_SCREENSHOTS=1``); each is also checked for what it must show, and by axe-core."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.classroom import service
from app.classroom.db import database_for
from app.config import get_settings
from app.lessons.loader import load_catalog
from tests.e2e.test_layout_browser import serious_violations

PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
# (lesson, exercise): what the class was assigned.
ASSIGNED = [("stack-vs-cat", "make-a-batch"), ("mm-vs-mul", "two-products"),
            ("autograd", "cube-gradient")]
# Who did what: per student, the checks in order (solution, wrong answer, or a broken line).
STUDENTS = {"Aiko": ["solution", "solution", "wrong"], "Ben": ["broken", "solution"],
            "Chloé": ["wrong", "wrong"], "Daichi": ["solution", "broken", "solution"],
            "Emma": []}


def _csrf(answer: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', answer.text)
    assert found, answer.text[:300]
    return found.group(1)


def _students_work(server_url: str, code: str) -> None:
    """Each student joins and checks exercises over HTTP, as their browsers would."""
    catalog = load_catalog()
    for name, checks in STUDENTS.items():
        with httpx.Client(base_url=server_url, timeout=30.0) as client:
            answer = client.post("/join", data={"csrf": _csrf(client.get("/join")),
                                                "code": code, "name": name})
            assert answer.status_code == 200, answer.text[:300]
            for (lesson_id, exercise_id), kind in zip(ASSIGNED, checks, strict=False):
                exercise = catalog.get(lesson_id).exercise(exercise_id)  # type: ignore[union-attr]
                program = {"solution": exercise.solution, "wrong": exercise.wrong,
                           "broken": "batch = torch.stack("}[kind]
                assert client.post(f"/lessons/{lesson_id}/check/{exercise_id}",
                                   data={"code": program}).status_code == 200


@pytest.fixture(scope="module")
def class_in_session(server_url: str) -> tuple[str, int]:
    """A teacher (username) whose class (id) has five students and their attempts."""
    username = f"teacher-{secrets.token_hex(4)}"
    with database_for(get_settings()).session() as session:
        teacher = service.create_teacher(session, username, PASSWORD)
        room = service.create_class(session, teacher.id, "Period 3 · PyTorch basics",
                                    max_name_chars=40, max_classes=10)
        service.set_assignments(session, room, [service.ExerciseRef(*a) for a in ASSIGNED])
        class_id, code = room.id, room.join_code
    _students_work(server_url, code)
    return username, class_id


def _log_in(page: Page, username: str) -> None:
    page.goto("/teacher/classes")  # to the login, and back here after it
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form:has(#password) button[type=submit]").click()
    expect(page.locator("#class-name")).to_be_visible(timeout=30_000)


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_dashboard_and_projector(open_page, screenshot, class_in_session,  # type: ignore[no-untyped-def]
                                 locale: str) -> None:
    username, class_id = class_in_session
    page: Page = open_page(viewport=DESKTOP, locale="ja-JP" if locale == "ja" else "en-US")
    _log_in(page, username)
    page.goto(f"/teacher/classes/{class_id}")
    board = page.locator("section:has(#dashboard)")
    expect(board).to_contain_text("Daichi")
    expect(board).to_contain_text("SyntaxError")
    expect(page.locator(".spotlight-form")).to_have_count(4)  # Emma has checked nothing
    suffix = "" if locale == "en" else "-ja"
    screenshot(board, f"classroom-teacher-dashboard{suffix}")
    assert serious_violations(page) == []

    # Spotlight Chloé's latest program (a wrong answer): it opens in the "projector" window.
    wrong = load_catalog().get("mm-vs-mul").exercise("two-products").wrong  # type: ignore[union-attr]
    with page.context.expect_page() as opened:
        page.locator("tr:has-text('Chloé') .spotlight-form button").click()
    projector = opened.value
    projector.set_viewport_size(DESKTOP)
    projector.wait_for_load_state()
    expect(projector.locator(".projector-code")).to_have_text(wrong)
    expect(projector.locator(".projector-failed")).to_be_visible()
    expect(projector.locator("#projector")).not_to_contain_text("Chloé")
    screenshot(projector, f"classroom-projector{suffix}")
    assert serious_violations(projector) == []


def test_api_keys_page(open_page, screenshot, class_in_session) -> None:  # type: ignore[no-untyped-def]
    username, _ = class_in_session
    page: Page = open_page(viewport=DESKTOP, locale="en-US")
    _log_in(page, username)
    page.goto("/teacher/keys")
    page.fill("#key-name", "Grading script")
    page.select_option("#key-class", label="Period 3 · PyTorch basics")
    page.click("button:has-text('Create key')")
    expect(page.locator(".new-key code")).to_have_text(re.compile(r"^tpk_[0-9a-f]{8}_\S{43}$"))
    expect(page.locator(".api-keys")).to_contain_text("Grading script")
    screenshot(page, "classroom-api-keys", full_page=True)
    assert serious_violations(page) == []


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_join_page(open_page, screenshot, locale: str) -> None:  # type: ignore[no-untyped-def]
    page: Page = open_page(viewport=DESKTOP, locale="ja-JP" if locale == "ja" else "en-US")
    page.goto("/join?code=K7QX3A")
    expect(page.locator("#code")).to_have_value("K7QX3A")
    expect(page.locator("h1")).to_have_text("Join a class" if locale == "en" else "クラスに参加")
    screenshot(page, "classroom-join" + ("" if locale == "en" else "-ja"))
    assert serious_violations(page) == []
