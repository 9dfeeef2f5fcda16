"""The playground in a real browser: run, read what is drawn, switch language, phone width."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.playground.presets import example

MATMUL = example("matmul").code  # type: ignore[union-attr]


EDITOR = "#run-form .cm-content"


def set_code(page: Page, code: str) -> None:
    """Replace the editor's program, as a paste would (typing would auto-indent it)."""
    page.click(EDITOR)
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def run(page: Page, code: str) -> None:
    """Put a program in the editor and run it with the keyboard shortcut, as a student would."""
    set_code(page, code)
    with page.expect_response(lambda r: r.url.endswith("/run")):
        page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results .run-summary")


def grid_values(page: Page, scope: str) -> list[list[str]]:
    rows = page.locator(f"{scope} table.tgrid tbody tr")
    return [row.locator("td").all_inner_texts() for row in rows.all()]


def test_run_shows_grid_values_without_reload(page: Page, screenshot) -> None:
    page.goto("/")
    page.evaluate("window.stillSamePage = true")
    run(page, MATMUL)
    assert page.evaluate("window.stillSamePage") is True  # swapped by htmx, not reloaded
    card = "#result-panel .tensor-card"
    assert grid_values(page, card) == [["14", "32"], ["32", "77"]]
    expect(page.locator(f"{card} .badge-shape")).to_contain_text("[2, 2]")
    expect(page.locator(f"{card} .repr pre")).to_have_text("tensor([[14, 32],\n        [32, 77]])")
    expect(page.locator("#output-panel pre")).to_contain_text("torch.Size([2, 2])")
    assert "?p=" in page.url  # the address is now the run's permalink
    screenshot(page, "playground")


def test_permalink_reproduces_a_seeded_result(page: Page, browser, server_url: str) -> None:
    page.goto("/?example=random")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#results .run-summary")
    first = grid_values(page, "#variables-panel .tensor-card")
    context = browser.new_context(base_url=server_url)
    again = context.new_page()
    again.goto(page.url)
    assert grid_values(again, "#variables-panel .tensor-card") == first
    assert again.input_value("#code") == page.input_value("#code")
    context.close()


def test_add_inplace_shows_shared_storage_and_version_bump(page: Page, screenshot) -> None:
    page.goto("/?example=add-inplace")
    page.click("#run-form button[type=submit]")
    shared = page.locator("#storage-panel .storage-group.is-shared")
    expect(shared).to_have_count(1)
    expect(shared.locator(".storage-names")).to_have_text("a · c · v")
    expect(shared.locator(".badge-shared")).to_contain_text("shared by 3 variables")
    expect(shared.locator(".bump").first).to_contain_text("v0 → v1")
    own = page.locator("#storage-panel .storage-group:not(.is-shared)")
    expect(own.locator(".storage-names")).to_have_text("b")  # add made a copy
    screenshot(page.locator("#storage-panel"), "storage")


def test_backward_shows_leaf_gradients_in_the_graph(page: Page, screenshot) -> None:
    page.goto("/?example=backward")
    page.click("#run-form button[type=submit]")
    graph = page.locator("#autograd-panel svg.autograd")
    expect(graph).to_be_visible()
    leaf_x = graph.locator("g.node-leaf", has_text="x")
    expect(leaf_x.locator(".node-grad")).to_have_text("grad [0.5, -1.0, 2.0]")  # d(w·x)/dx = w
    leaf_w = graph.locator("g.node-leaf", has_text="w")
    expect(leaf_w.locator(".node-grad")).to_have_text("grad [1.0, 2.0, 3.0]")
    y = graph.locator("g.node", has_text="SumBackward0")
    # After backward() the op node also shows what flowed in and its local rule.
    expect(y.locator(".node-line")).to_have_text(
        ["= y", "grad in 1.0", "grad_x = grad copied to every", "element of x"])
    page.set_viewport_size({"width": 1366, "height": 2000})  # no scrolling under the sub-nav
    screenshot(page.locator("#autograd-panel"), "autograd")


def test_error_card_shows_the_hint(page: Page, screenshot) -> None:
    page.goto("/?example=shape-error")
    page.click("#run-form button[type=submit]")
    card = page.locator("#results .error-card")
    expect(card.locator(".error-type")).to_have_text("RuntimeError")
    expect(card.locator(".error-source")).to_contain_text("torch.mm(a, b)")
    hint = card.locator(".hint p")
    expect(hint).not_to_be_empty()
    screenshot(card, "error")


def test_compare_stack_vs_cat_shows_different_shapes(page: Page, screenshot) -> None:
    page.goto("/compare?preset=stack-cat")
    page.click("#compare-form button[type=submit]")
    row = page.locator("tr[data-topic=shape]")
    expect(row.locator("td").nth(0)).to_have_text("[2, 2, 3]")
    expect(row.locator("td").nth(1)).to_have_text("[4, 3]")
    expect(row).to_have_class("fact fact-shape differs")
    expect(page.locator("tr[data-topic=time] td").first).to_contain_text("ms")
    screenshot(page, "compare", full_page=True)


def test_japanese_switch_changes_the_labels_and_keeps_the_run(page: Page, screenshot) -> None:
    page.goto("/")
    expect(page.locator("#run-form button[type=submit]")).to_have_text("Run")
    run(page, MATMUL)
    page.click(".lang-switch button[value=ja]")  # returns to the run's permalink
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#run-form button[type=submit]")).to_have_text("実行")
    expect(page.locator("label[for=code]")).to_have_text("プログラム")
    assert page.input_value("#code") == MATMUL
    expect(page.locator("#result-panel h2")).to_have_text("結果")
    assert grid_values(page, "#result-panel .tensor-card") == [["14", "32"], ["32", "77"]]
    screenshot(page, "playground-ja")


def test_copy_as_python_and_download_the_notebook(open_page) -> None:
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto("/?example=backward")
    page.click("#run-form button[type=submit]")
    page.click("button[data-copy-from=python-source]")
    expect(page.locator("button[data-copy-from=python-source]")).to_have_text("Python copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("# Exported from Torch Playground") and "print(x.grad)" in copied
    with page.expect_download() as download:
        page.click("a[download='playground.ipynb']")
    assert download.value.suggested_filename == "playground.ipynb"


def test_accept_language_picks_japanese(open_page) -> None:
    page = open_page(locale="ja-JP")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_a_japanese_page_explains_a_refusal_in_japanese(open_page, screenshot) -> None:
    page = open_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page.goto("/")
    run(page, "x = torch.ones(2, 3)\ny = torch.zeros(100000, 100000)")
    card = page.locator(".error-card")
    expect(card.locator(".error-message")).to_contain_text(
        "torch.zeros は 37.3 GB (100000x100000 float32) のメモリを確保しようとしています")
    expect(card.locator(".hint p")).to_have_text(
        "形状を小さくしてください。要素が数個でも同じ振る舞いを確かめられます。")
    screenshot(card, "error-card-ja")


def test_phone_width_has_no_horizontal_scroll(open_page, screenshot) -> None:
    page = open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    for path in ("/?example=views", "/compare?preset=matmul-mm"):
        page.goto(path)
        page.locator("form[data-run-form] button[type=submit]").click()
        page.wait_for_selector("#results .run-summary")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
    page.goto("/?example=views")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#results .run-summary")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "phone")
    page.locator("#result-panel").scroll_into_view_if_needed()
    screenshot(page, "phone-results")
    page.locator("#storage-panel").scroll_into_view_if_needed()
    screenshot(page, "phone-storage")


def test_keyboard_alone_reaches_and_runs_the_program(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")  # skip the header
    for _ in range(8):  # examples select, load, then the program editor
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cm-content')"):
            break
    expect(page.locator(EDITOR)).to_be_focused()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#results .run-summary")).to_be_visible()
    expect(page.locator("#announce")).not_to_be_empty()  # told to a screen reader
