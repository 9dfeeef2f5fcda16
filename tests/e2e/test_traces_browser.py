"""The step-through trace and the backward stepper in a real browser: arrow keys walk the
frames and the nodes, in English and Japanese; screenshots for docs/screenshots."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_playground_browser import run

PROGRAM = """x = torch.tensor([1.0, 2.0], requires_grad=True)
v = x.detach()
for i in range(2):
    v.mul_(2)
y = (x * x).sum()
y.backward()
"""


def frame(page: Page) -> str:
    return page.locator("[data-stepper] .frame:visible").get_attribute("data-frame") or ""


def test_arrow_keys_walk_the_steps(page: Page, screenshot) -> None:
    page.goto("/")
    run(page, PROGRAM)
    stepper = page.locator("[data-stepper]")
    expect(stepper).to_be_visible()
    assert frame(page) == "1"
    expect(stepper.locator(".frame:visible .frame-source li.current")).to_have_text(
        "x = torch.tensor([1.0, 2.0], requires_grad=True)")
    stepper.focus()
    for expected in ("2", "3", "4"):
        page.keyboard.press("ArrowRight")
        assert frame(page) == expected
    current = stepper.locator(".frame:visible")
    expect(current.locator(".frame-where")).to_contain_text("pass 2 of the loop")
    expect(current.locator(".frame-source li.current")).to_have_text("for i in range(2):")
    x_row = current.locator("tr", has=page.locator("th code", has_text="x"))
    expect(x_row.locator(".change-inplace")).to_have_text("changed in place")
    expect(x_row.locator(".frame-values")).to_have_text("[4.0, 8.0]")
    expect(current.locator("svg.alias-arrows .alias-label")).to_have_text("storage S1")
    screenshot(stepper, "stepper")
    page.keyboard.press("ArrowLeft")
    assert frame(page) == "3"
    expect(stepper.locator("[data-step-index]")).to_have_text("3")
    page.locator("[data-stepper] [data-step='1']").click()
    assert frame(page) == "4"


def test_step_backward_walks_the_nodes_in_autograd_order(page: Page, screenshot) -> None:
    page.goto("/")
    run(page, PROGRAM)
    call = page.locator("[data-backward-stepper]").first
    nodes = call.locator(".grad-node")
    expect(nodes.nth(0)).to_be_visible()
    expect(nodes.nth(1)).to_be_hidden()
    call.get_by_role("button", name="Step backward").click()
    expect(nodes.nth(1)).to_be_visible()
    expect(nodes.nth(1).locator(".grad-rule code")).to_have_text(
        "grad_a = grad · b, grad_b = grad · a")
    call.focus()
    page.keyboard.press("ArrowRight")
    leaf = nodes.nth(2)
    expect(leaf).to_have_class("grad-node current")
    expect(leaf).to_contain_text("2 gradients arrived and were summed")
    expect(leaf).to_contain_text("[8.0, 16.0]")
    # Tall enough that the panel needs no scrolling: the sticky sub-navigation stays put.
    page.set_viewport_size({"width": 1366, "height": 2400})
    screenshot(page.locator("#autograd-panel"), "gradient-trace")
    page.keyboard.press("ArrowLeft")
    expect(leaf).to_be_hidden()


def test_japanese_stepper_and_gradient_trace(open_page, screenshot) -> None:
    page = open_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page.goto("/")
    run(page, PROGRAM)
    stepper = page.locator("[data-stepper]")
    stepper.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(stepper.locator(".frame:visible .frame-where")).to_contain_text("ループの 1 回目")
    screenshot(stepper, "stepper-ja")
    call = page.locator("[data-backward-stepper]").first
    call.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(call.locator(".grad-node.current")).to_contain_text("2 個の勾配が届き")
    page.set_viewport_size({"width": 1280, "height": 2400})
    screenshot(page.locator("#autograd-panel"), "gradient-trace-ja")


def test_without_javascript_the_step_list_and_every_node_show(open_page) -> None:
    page = open_page(viewport={"width": 1280, "height": 900}, locale="en-US",
                     java_script_enabled=False)
    page.goto("/")
    page.fill("#code", PROGRAM)
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#results .run-summary")
    expect(page.locator("[data-stepper]")).to_be_hidden()
    expect(page.locator("#trace-panel table.trace tbody tr")).to_have_count(5)
    expect(page.locator(".grad-node")).to_have_count(3)
    for index in range(3):
        expect(page.locator(".grad-node").nth(index)).to_be_visible()
