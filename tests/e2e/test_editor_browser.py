"""The scratchpad's code editor (CodeMirror 6, static/editor.js) in a real browser: typing,
indenting, leaving it by keyboard, running what it shows, the error line; and the page
without JavaScript, on a phone, and as an HTML 404."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_playground_browser import EDITOR, grid_values, set_code


def fill_editor(page: Page, textarea: str, code: str) -> None:
    """Replace the program of the code editor that stands in for ``textarea`` (a selector of
    the hidden textarea; the editor is its next sibling), as a paste would."""
    page.click(f"{textarea} + .code-editor-host .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def editor_text(page: Page) -> str:
    """What the form will post: the hidden textarea the editor keeps in step."""
    return page.input_value("#code")


def test_editor_replaces_the_textarea_with_numbered_highlighted_lines(page: Page) -> None:
    page.goto("/")
    expect(page.locator(EDITOR)).to_be_visible()
    expect(page.locator("#code")).to_be_hidden()
    lines = page.locator("#run-form .cm-line").count()
    assert lines == editor_text(page).count("\n") + 1
    numbers = page.locator("#run-form .cm-lineNumbers .cm-gutterElement:visible")
    assert numbers.all_inner_texts()[:3] == ["1", "2", "3"]
    # Python highlighting: keywords and names sit in styled spans, not bare text
    assert page.locator("#run-form .cm-line span").count() > 0
    # CodeMirror styles itself through constructable sheets: no <style> for the CSP to block
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert page.evaluate(
        "document.querySelector('.code-editor-host').shadowRoot.adoptedStyleSheets.length") > 0
    expect(page.locator("[data-hint-editor]")).to_contain_text("Esc")


def test_typing_auto_indents_and_tab_indents(page: Page) -> None:
    page.goto("/")
    set_code(page, "")
    page.keyboard.type("for i in range(3):")
    page.keyboard.press("Enter")
    page.keyboard.type("x = i")
    assert editor_text(page) == "for i in range(3):\n    x = i"  # indented after the colon
    page.keyboard.press("Home")
    page.keyboard.press("Tab")  # Tab indents one more level instead of leaving
    assert editor_text(page) == "for i in range(3):\n        x = i"
    expect(page.locator(EDITOR)).to_be_focused()
    page.keyboard.press("Shift+Tab")
    assert editor_text(page) == "for i in range(3):\n    x = i"


def test_escape_then_tab_leaves_the_editor(page: Page) -> None:
    page.goto("/")
    page.click(EDITOR)
    before = editor_text(page)
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.locator("#seed")).to_be_focused()  # the next control after the editor
    assert editor_text(page) == before  # and no tab was typed


def test_run_button_runs_the_editor_text(page: Page) -> None:
    page.goto("/")
    set_code(page, "t = torch.tensor([[7, 8]])\nt * 2")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#results .run-summary")
    assert grid_values(page, "#result-panel .tensor-card") == [["14", "16"]]
    assert "?p=" in page.url


def test_error_line_is_marked_in_the_gutter(page: Page, screenshot) -> None:
    page.goto("/")
    set_code(page, "a = torch.ones(2)\nb = torch.ones(3)\nc = a + b\nc")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#results .error-card")).to_be_visible()
    expect(page.locator("#run-form .cm-gutterElement.cm-error-gutter")).to_have_count(1)
    expect(page.locator("#run-form .cm-error-line")).to_have_text("c = a + b")
    screenshot(page.locator("#run-form"), "editor-error-line")
    # a run that succeeds clears the mark
    set_code(page, "torch.ones(2)")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#results .run-summary.ok")).to_be_visible()
    expect(page.locator("#run-form .cm-gutterElement.cm-error-gutter")).to_have_count(0)


def test_without_javascript_the_textarea_runs_and_copy_buttons_stay_hidden(
        browser: Browser, server_url: str) -> None:
    context = browser.new_context(base_url=server_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("#code")).to_be_visible()
    expect(page.locator(".cm-editor")).to_have_count(0)
    page.fill("#code", "torch.tensor([[1, 2]]) + 1")
    page.click("#run-form button[type=submit]")  # a plain form post: the whole page returns
    assert grid_values(page, "#result-panel .tensor-card") == [["2", "3"]]
    expect(page.locator("[data-copy-link]")).to_be_hidden()
    expect(page.locator("[data-copy-from]")).to_be_hidden()
    expect(page.locator("[data-hint-plain]")).to_be_visible()
    context.close()


def test_phone_run_brings_the_summary_into_view(open_page, screenshot) -> None:
    page = open_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page.goto("/?example=matmul")
    summary = page.locator("#results .run-summary")
    assert page.evaluate("document.getElementById('results').getBoundingClientRect().top") > 600
    page.locator("#run-form button[type=submit]").tap()
    expect(summary).to_be_in_viewport()
    screenshot(page, "phone-after-run")
    expect(page.locator("#announce")).to_contain_text("Ran in")
    # scrolled so the summary leads the screen, not left at its bottom edge
    assert page.evaluate("document.querySelector('#results .run-summary')"
                         ".getBoundingClientRect().top") < 200


def test_unknown_page_is_an_html_404_with_a_way_back(browser: Browser, server_url: str,
                                                     screenshot) -> None:
    # its own context: the page fixture counts the 404 itself as a console error
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 700})
    page = context.new_page()
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_contain_text("not found")
    expect(page.locator("main a[href='/']")).to_be_visible()
    screenshot(page, "not-found")
    context.close()


def test_back_and_forward_keep_one_working_editor(page: Page) -> None:
    page.goto("/?example=matmul")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#results .run-summary")
    page.select_option("#example", "backward")
    page.click(".picker button[type=submit]")  # htmx swaps the workspace and pushes history
    expect(page.locator("#code")).to_have_value(re.compile("backward"))
    page.go_back()  # htmx restores its snapshot of the run's page
    expect(page.locator("#results .run-summary")).to_be_visible()
    expect(page.locator(".code-editor-host")).to_have_count(1)
    set_code(page, "torch.tensor([[3]]) * 3")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#result-panel .repr pre")).to_have_text("tensor([[9]])")


def test_ctrl_enter_in_the_editor_runs_once_and_adds_no_line(page: Page) -> None:
    page.goto("/")
    set_code(page, "torch.ones(2)")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/run") else None)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#results .run-summary.ok")).to_be_visible()
    page.wait_for_timeout(300)  # a second request would have been sent by now
    assert len(posts) == 1
    assert editor_text(page) == "torch.ones(2)"


def test_lesson_examples_and_exercises_get_the_editor(page: Page, screenshot) -> None:
    page.goto("/lessons/stack-vs-cat")
    areas = page.locator("textarea[data-editor]")
    count = areas.count()
    assert count >= 2  # its examples and its exercise
    expect(page.locator(".code-editor-host")).to_have_count(count)
    exercise = page.locator("[data-exercise='stack-vs-cat/make-a-batch']")
    textarea = f"#{exercise.locator('textarea').get_attribute('id')}"
    expect(exercise.locator("[data-hint-editor]")).to_contain_text("Esc")
    # Tab indents inside the editor; Esc then Tab leaves it for the next control.
    fill_editor(page, textarea, "for i in range(2):\nx = i")
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    assert page.input_value(textarea) == "for i in range(2):\n    x = i"
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(exercise.locator("button[type=submit]")).to_be_focused()
    # A wrong program: its error line is marked in this editor's gutter, not another's.
    fill_editor(page, textarea, "a = torch.ones(2)\nbatch = a +\n")
    page.keyboard.press("Control+Enter")
    expect(exercise.locator(".error-card")).to_be_visible()
    expect(exercise.locator(".cm-error-line")).to_have_text("batch = a +")
    expect(page.locator(".cm-error-line")).to_have_count(1)
    exercise.scroll_into_view_if_needed()
    screenshot(exercise, "lesson-editor-error-line")


def test_compare_page_marks_the_error_in_the_box_it_is_in(page: Page) -> None:
    page.goto("/compare?preset=stack-cat")
    expect(page.locator("#compare-form .code-editor-host")).to_have_count(3)
    fill_editor(page, "#right", "y = torch.ones(2)\nz = y @ torch.ones(3)\nz")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#results .side-right .error-card")).to_be_visible()
    right = page.locator("#right + .code-editor-host")
    expect(right.locator(".cm-error-line")).to_have_text("z = y @ torch.ones(3)")
    expect(page.locator("#left + .code-editor-host .cm-error-line")).to_have_count(0)
    expect(page.locator("#inputs + .code-editor-host .cm-error-line")).to_have_count(0)


def test_without_javascript_lessons_and_compare_keep_their_textareas(open_page) -> None:
    page = open_page(viewport={"width": 1280, "height": 900}, locale="en-US",
                     java_script_enabled=False)
    for path in ("/lessons/stack-vs-cat", "/compare"):
        page.goto(path)
        expect(page.locator("textarea[data-editor]").first).to_be_visible()
        expect(page.locator(".code-editor-host")).to_have_count(0)
        expect(page.locator("[data-hint-editor]").first).to_be_hidden()


def test_a_short_lesson_program_gets_a_short_editor(page: Page) -> None:
    page.goto("/lessons/stack-vs-cat")
    exercise = page.locator("[data-exercise='stack-vs-cat/make-a-batch'] .cm-scroller")
    page.goto("/")
    scratchpad = page.locator("#run-form .cm-scroller").bounding_box()
    page.goto("/lessons/stack-vs-cat")
    short = exercise.bounding_box()
    assert scratchpad is not None and short is not None
    assert short["height"] < scratchpad["height"]
