"""The lessons in a real browser: every lesson runs its first example, an example is edited
and run in place, an exercise is solved and remembered, a wrong answer shows expected next to
got, hints open in order and reset restores the starter, previous/next work, and lessons are
photographed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.lessons.loader import load_catalog
from app.lessons.models import ExampleSection
from tests.e2e.test_editor_browser import fill_editor

CATALOG = load_catalog()


def first_example(lesson_id: str) -> int:
    lesson = CATALOG.get(lesson_id)
    assert lesson is not None
    return next(i for i, s in enumerate(lesson.sections) if isinstance(s, ExampleSection))


def run_section(page: Page, index: int) -> None:
    page.click(f"#sec-{index} button[type=submit]")
    expect(page.locator(f"#sec-{index}-out .lesson-output")).to_be_visible()


def test_every_lesson_runs_its_first_example(page: Page) -> None:
    page.goto("/lessons")
    page.evaluate("window.localStorage.clear()")
    for lesson in CATALOG.lessons:
        page.goto(f"/lessons/{lesson.id}")
        expect(page.locator("h1")).to_contain_text(lesson.title.en)
        index = first_example(lesson.id)
        page.evaluate("window.stillSamePage = true")
        run_section(page, index)
        assert page.evaluate("window.stillSamePage") is True  # swapped in place by htmx
        out = page.locator(f"#sec-{index}-out")
        expect(out.locator(".run-summary").first).to_be_visible()
        # A first example that is meant to fail says so; the others finish.
        section = lesson.sections[index]
        assert isinstance(section, ExampleSection)
        if section.expect == "ok":
            expect(out.locator(".verdict-line.bad")).to_have_count(0)
    # Every lesson was visited: the index marks them all.
    page.goto("/lessons")
    expect(page.locator(".lesson-card.is-visited")).to_have_count(len(CATALOG.lessons))


def test_solving_an_exercise_is_checked_and_remembered(page: Page, screenshot) -> None:
    page.goto("/lessons/stack-vs-cat")
    page.evaluate("window.localStorage.clear()")
    section = page.locator("[data-exercise='stack-vs-cat/make-a-batch']")
    box = section.locator("textarea")
    textarea = f"#{box.get_attribute('id')}"
    code = box.input_value().replace("batch = ...", "batch = torch.cat((a, b))")
    fill_editor(page, textarea, code)
    page.keyboard.press("Control+Enter")
    expect(section.locator(".check-verdict.failed")).to_contain_text(
        "batch has shape (6, 4) but expected (2, 3, 4).")
    fill_editor(page, textarea, code.replace("torch.cat((a, b))", "torch.stack((a, b))"))
    section.locator("button[type=submit]").click()
    expect(section.locator(".check-verdict.passed")).to_contain_text("Correct")
    expect(section.locator("[data-solved-mark]")).to_be_visible()
    section.scroll_into_view_if_needed()
    screenshot(section, "lesson-exercise")
    page.reload()  # remembered in this browser
    expect(page.locator("[data-exercise='stack-vs-cat/make-a-batch'] [data-solved-mark]")) \
        .to_be_visible()
    page.goto("/lessons")
    card = page.locator("[data-lesson='stack-vs-cat']")
    expect(card.locator("[data-progress]")).to_contain_text("1 of 2 exercises solved")


def test_previous_and_next(page: Page) -> None:
    first, second, third = CATALOG.lessons[:3]
    page.goto(f"/lessons/{second.id}")
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(f"/lessons/{third.id}$"))
    page.click("a[rel=prev]")
    page.click("a[rel=prev]")
    expect(page.locator("h1")).to_contain_text(first.title.en)
    expect(page.locator("a[rel=prev]")).to_have_count(0)


def test_screenshots_of_three_lessons(page: Page, open_page, screenshot) -> None:
    # Lesson 5: the guide check of stack(dim=2), run, and the timed comparison.
    page.goto("/lessons/stack-vs-cat")
    lesson = CATALOG.get("stack-vs-cat")
    assert lesson is not None
    timed = next(i for i, s in enumerate(lesson.sections)
                 if isinstance(s, ExampleSection) and "512" in (s.setup or ""))
    run_section(page, timed)
    expect(page.locator(f"#sec-{timed}-out [data-topic=time]")).to_be_visible()
    page.locator(f"#sec-{timed}").scroll_into_view_if_needed()
    screenshot(page.locator(f"#sec-{timed}"), "lesson-stack-vs-cat")
    # Lesson 6: the calculator, formula beside a real DataLoader.
    page.goto("/lessons/epoch-iteration-batch")
    page.fill("#calc-size", "1000")
    page.fill("#calc-batch", "64")
    page.fill("#calc-epochs", "10")
    page.click(".calc-form button[type=submit]")
    expect(page.locator(".calc-table")).to_contain_text("len(loader) = 16")
    screenshot(page.locator(".calculator"), "lesson-epoch-calculator")
    # Lesson 8 in Japanese: the chart drawn from real randn draws (loads by itself).
    ja = open_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    ja.goto("/lessons/creating-tensors")
    expect(ja.locator(".lesson-plot svg.plot")).to_be_visible()
    expect(ja.locator("h1")).to_contain_text("テンソルの作成")
    screenshot(ja.locator(".lesson-plot"), "lesson-creating-tensors-ja")


def test_an_example_is_edited_and_run_in_place(page: Page, screenshot) -> None:
    page.goto("/lessons/mm-vs-mul")
    index = first_example("mm-vs-mul")
    editor = page.locator(f"#sec-{index}-code")
    original = editor.input_value()
    fill_editor(page, f"#sec-{index}-code", "torch.arange(3) * 5")
    page.keyboard.press("Control+Enter")
    out = page.locator(f"#sec-{index}-out")
    expect(out).to_contain_text("tensor([ 0,  5, 10])")
    expect(out).to_contain_text("Your edited version ran")
    page.locator(f"#sec-{index}").scroll_into_view_if_needed()
    screenshot(page.locator(f"#sec-{index}"), "lesson-example-edited")
    page.click(f"#sec-{index} [data-reset]")
    assert editor.input_value() == original
    expect(page).to_have_url(re.compile("/lessons/mm-vs-mul$"))  # reset did not navigate


def test_a_wrong_answer_shows_expected_next_to_got(page: Page, screenshot) -> None:
    page.goto("/lessons/mm-vs-mul")
    section = page.locator("[data-exercise='mm-vs-mul/two-products']")
    box = section.locator("textarea")
    starter = box.input_value()
    fill_editor(page, f"#{box.get_attribute('id')}",
                starter.replace("C = ...", "C = A * B.T").replace("D = ...", "D = A * A"))
    page.keyboard.press("Control+Enter")
    grid = section.locator("[data-side-by-side='C']")
    expect(grid).to_be_visible()
    expect(grid.locator("caption").first).to_have_text("Yours (2, 3)")
    expect(grid.locator("caption").last).to_have_text("Expected value (2, 2)")
    expect(grid.locator("td.differs")).to_have_count(10)
    section.scroll_into_view_if_needed()
    screenshot(section, "lesson-wrong-answer")
    # hint, then the second hint, then the solution, each inside the one before
    expect(section.locator("details.hint summary").nth(1)).not_to_be_visible()
    section.locator("details.hint summary").first.click()
    section.locator("details.hint summary").nth(1).click()
    section.locator("details.solution summary").click()
    expect(section.locator("details.solution pre")).to_contain_text("torch.mm(A, B)")
    section.locator("[data-reset]").click()
    assert box.input_value() == starter
