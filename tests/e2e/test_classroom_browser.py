"""The classroom in a real browser: a teacher creates a class and assigns an exercise, a
student joins with the code and checks the exercise on its lesson page, and the teacher's
dashboard picks the attempt up by polling, under the app's CSP, and stops polling while
its tab is hidden."""

from __future__ import annotations

import re
import secrets
import time

from playwright.sync_api import Page, expect

from app.classroom import service
from app.classroom.db import database_for
from app.config import get_settings
from app.lessons.loader import load_catalog
from tests.e2e.test_editor_browser import fill_editor

PASSWORD = "correct horse battery"
LESSON, EXERCISE = "stack-vs-cat", "make-a-batch"


def test_a_class_from_joining_to_the_dashboard(open_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    # The server shares this process's data directory (tests/conftest.py), so its database.
    username = f"teacher-{secrets.token_hex(4)}"
    with database_for(get_settings()).session() as session:
        service.create_teacher(session, username, PASSWORD)
    teacher: Page = open_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    teacher.goto("/teacher/classes")
    teacher.fill("#username", username)
    teacher.fill("#password", PASSWORD)
    teacher.click("button:has-text('Log in')")
    teacher.fill("#class-name", "Period 3")
    teacher.click("button:has-text('Create class')")
    teacher.check(f"input[value='{LESSON}/{EXERCISE}']")
    teacher.click("button:has-text('Save assignments')")
    code = teacher.inner_text(".join-code code")
    expect(teacher.locator(".join-qr")).to_be_visible()
    assert teacher.locator(".join-qr").evaluate("img => img.naturalWidth") > 0

    student: Page = open_page(viewport={"width": 390, "height": 844}, locale="en-US")
    student.goto(f"/join?code={code}")
    student.fill("#name", "Aiko")
    student.click("button:has-text('Join')")
    expect(student.locator(".recovery code")).to_have_text(re.compile(r"^\w{4}-\w{4}-\w{4}$"))
    student.click(f"a:has-text('{EXERCISE}')")
    lesson = load_catalog().get(LESSON)
    assert lesson is not None
    index = next(i for i, s in enumerate(lesson.sections) if getattr(s, "id", None) == EXERCISE)
    fill_editor(student, f"#sec-{index}-code", "batch = torch.stack(")
    student.click(f"#sec-{index} button[type=submit]")
    expect(student.locator(f"#sec-{index}-out")).to_contain_text("SyntaxError")

    # The teacher's open page polls the grid (every 10 s) and shows the attempt.
    expect(teacher.locator("#dashboard")).to_contain_text("SyntaxError", timeout=15_000)
    expect(teacher.locator("#dashboard")).to_contain_text("tried")
    screenshot(teacher.locator("#dashboard"), "classroom-dashboard")

    # A hidden tab does not poll; showing it again refreshes at once.
    polls: list[str] = []
    teacher.on("request", lambda r: polls.append(r.url) if r.url.endswith("/dashboard") else None)
    teacher.evaluate("Object.defineProperty(document, 'hidden', "
                     "{get: () => true, configurable: true})")
    time.sleep(11)
    assert polls == []
    with teacher.expect_request(lambda r: r.url.endswith("/dashboard")):
        teacher.evaluate("Object.defineProperty(document, 'hidden', "
                         "{get: () => false, configurable: true}); "
                         "document.dispatchEvent(new Event('visibilitychange'))")
