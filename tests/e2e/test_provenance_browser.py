"""Where each number came from, in a real browser: focusing an mm output cell highlights the
row of A and the column of B that made it and writes the sum out; stack and cat colour their
cells by input; the drawn autograd graph shows gradients and follows the backward stepper.
Screenshots for docs/screenshots."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_playground_browser import run

MM = ("A = torch.tensor([[1, 2, 3], [4, 5, 6]])\nB = torch.tensor([[1, 4], [2, 5], [3, 6]])\n"
      "A @ B")
STACK_CAT = ("a = torch.tensor([1, 2, 3])\nb = torch.tensor([4, 5, 6])\n"
             "stacked = torch.stack([a, b])\ncatted = torch.cat([a, b])\n")


def lit(page: Page, panel: str) -> list[str]:
    return sorted(page.locator(f"{panel} .pv-hit").evaluate_all(
        "cells => cells.map(c => c.id)"))


def test_focusing_an_mm_cell_highlights_its_row_and_column(page: Page, screenshot) -> None:
    page.goto("/")
    run(page, MM)
    panel = "#result-panel [data-provenance]"
    expect(page.locator(panel)).to_be_visible()
    cell = page.locator(f"{panel} td#pv0-out-2")  # output (1, 0)
    cell.focus()
    assert lit(page, panel) == ["pv0-in0-3", "pv0-in0-4", "pv0-in0-5",  # row 1 of A
                                "pv0-in1-0", "pv0-in1-2", "pv0-in1-4"]  # column 0 of B
    expect(page.locator(f"{panel} [data-pv-explain]")).to_have_text(
        "A[1, :] · B[:, 0]: 4×1 + 5×2 + 6×3 = 32")
    expect(cell).to_have_class("pv-mixed pv-focus")
    page.keyboard.press("ArrowRight")  # output (1, 1): the same row, column 1
    expect(page.locator(f"{panel} td#pv0-out-3")).to_be_focused()
    assert lit(page, panel) == ["pv0-in0-3", "pv0-in0-4", "pv0-in0-5",
                                "pv0-in1-1", "pv0-in1-3", "pv0-in1-5"]
    expect(page.locator(f"{panel} [data-pv-explain]")).to_contain_text("= 77")
    page.keyboard.press("ArrowUp")
    expect(page.locator(f"{panel} td#pv0-out-1")).to_be_focused()
    # One tab stop for the whole grid: the focused cell is the one Tab comes back to.
    assert page.locator(f"{panel} td[tabindex='0']").evaluate_all(
        "cells => cells.map(c => c.id)") == ["pv0-out-1"]
    page.locator(panel).scroll_into_view_if_needed()
    screenshot(page.locator(panel), "provenance-mm")


def test_stack_and_cat_colour_each_cell_by_its_input(open_page, screenshot) -> None:
    # Tall enough that the panel needs no scrolling (the sticky sub-navigation stays put).
    page = open_page(viewport={"width": 1366, "height": 2600}, locale="en-US")
    page.goto("/")
    run(page, STACK_CAT)
    panels = page.locator("#variables-panel [data-provenance]")
    expect(panels).to_have_count(2)
    stacked, catted = panels.nth(0), panels.nth(1)
    expect(stacked.locator(".pv-output td .pv-label")).to_have_text(
        ["a[0]", "a[1]", "a[2]", "b[0]", "b[1]", "b[2]"])
    assert stacked.locator(".pv-output tbody tr").count() == 2  # two rows: a new dimension
    assert catted.locator(".pv-output tbody tr").count() == 1  # one longer row
    expect(catted.locator(".pv-output td.pv-src-1")).to_have_count(3)
    stacked.locator(".pv-output td[data-pv-from]").nth(4).hover()
    expect(stacked.locator(".pv-hit")).to_have_count(1)
    expect(stacked.locator("[data-pv-explain]")).to_have_text("b[1]")
    screenshot(page.locator("#variables-panel"), "provenance-stack-vs-cat")


def test_the_drawn_graph_follows_the_backward_stepper(page: Page) -> None:
    page.goto("/")
    run(page, "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x * x).sum()\n"
              "y.backward()\n")
    graph = page.locator("svg.autograd")
    expect(graph.locator(".node-flow").first).to_have_text("grad in 1.0")
    expect(graph.locator(".node-flow").nth(1)).to_have_text("grad in [1.0, 1.0]")
    call = page.locator("[data-backward-stepper]").first
    current = graph.locator(".node.grad-current .node-title")
    expect(current).to_have_text("SumBackward0")
    call.get_by_role("button", name="Step backward").click()
    expect(current).to_have_text("MulBackward0")
    call.get_by_role("button", name="Step backward").click()
    expect(current).to_have_text("x")  # the leaf's AccumulateGrad, drawn as x


def test_japanese_provenance_and_without_javascript(open_page, screenshot) -> None:
    page = open_page(viewport={"width": 1280, "height": 1600}, locale="ja-JP")
    page.goto("/")
    run(page, MM)
    panel = page.locator("#result-panel [data-provenance]")
    expect(panel.locator("h4")).to_contain_text("の各値はどこから来たか")
    expect(panel.locator(".pv-legend")).to_contain_text("入力 1")
    panel.locator("td#pv0-out-1").focus()
    expect(panel.locator("[data-pv-explain]")).to_have_text(
        "A[0, :] · B[:, 1]: 1×4 + 2×5 + 3×6 = 32")
    screenshot(panel, "provenance-mm-ja")
    # Without JavaScript every cell still names its source; nothing asks to be focused.
    plain = open_page(viewport={"width": 1280, "height": 900}, locale="en-US",
                      java_script_enabled=False)
    plain.goto("/")
    plain.fill("#code", MM)
    plain.click("#run-form button[type=submit]")
    plain.wait_for_selector("#results .run-summary")
    cells = plain.locator("#result-panel [data-provenance] .pv-output .pv-label")
    expect(cells).to_have_text(["A[0, :] · B[:, 0]", "A[0, :] · B[:, 1]",
                                "A[1, :] · B[:, 0]", "A[1, :] · B[:, 1]"])
    expect(plain.locator("[data-pv-hint]")).to_be_hidden()
