"""The layout at a desktop and a phone size: accessibility (axe-core), the lesson's table of
contents, the sticky result sub-navigation, tables that fit, touch targets."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
SERIOUS = {"serious", "critical"}


def _known_false_positive(rule: str, node: dict[str, object]) -> bool:
    """CodeMirror's scroller holds its contenteditable content, which takes the keyboard (the
    caret scrolls it); the axe-core 4.4 that axe-playwright-python bundles does not count
    contenteditable as focusable, so it flags the scroller whenever the code overflows it."""
    return rule == "scrollable-region-focusable" and ".cm-scroller" in str(node["target"])


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        nodes = [node for node in violation["nodes"]
                 if not _known_false_positive(violation["id"], node)]
        if violation.get("impact") in SERIOUS and nodes:
            found.append(f"{violation['id']}: {violation['help']} ({len(nodes)}x, e.g. "
                         f"{nodes[0]['target']})")
    return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "375"])
def test_playground_and_lesson_have_no_serious_axe_violations(open_page, viewport) -> None:
    phone = viewport is PHONE
    page = open_page(viewport=viewport, is_mobile=phone, has_touch=phone)
    page.goto("/?example=add-inplace")  # a run shows every panel: grids, storage, graph
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#autograd-panel")
    assert serious_violations(page) == []
    page.goto("/lessons/stack-vs-cat")
    assert serious_violations(page) == []


def test_lesson_has_a_table_of_contents(page: Page, screenshot) -> None:
    page.goto("/lessons/stack-vs-cat")
    toc = page.locator("nav.lesson-toc")
    screenshot(page, "lesson-toc")
    links = toc.locator("a")
    assert links.count() >= 2
    first = links.first.get_attribute("href")
    assert first is not None and first.startswith("#sec-")
    links.first.click()
    expect(page.locator(first)).to_be_in_viewport()


def test_desktop_results_keep_their_sub_navigation_and_the_storage_table_fits(
        open_page, screenshot) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto("/?example=add-inplace")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#storage-panel")
    page.locator("#storage-panel").scroll_into_view_if_needed()
    expect(page.locator(".panel-nav")).to_be_in_viewport()  # sticky: no 3,000 px way back
    expect(page.locator(".editor-pane")).to_be_in_viewport()  # the editor stays in view
    for box in page.locator("#storage-panel .table-scroll").all():
        # the whole table is shown: the version column is not cut off behind a scrollbar
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), box.inner_html()[:200]
    page.click(".panel-nav a[href='#autograd-panel']")
    expect(page.locator("#autograd-panel h2")).to_be_in_viewport()
    screenshot(page, "playground-storage-1366")


WHERE_FROM = ("a = torch.tensor([1., 2., 3.], requires_grad=True)\n"
              "s = torch.stack([a, a * 2])\nB = torch.ones(3, 2)\nloss = (s @ B).sum()\n"
              "loss.backward()\ns.detach() @ B\n")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "375"])
def test_provenance_gradients_and_editors_have_no_serious_axe_violations(
        open_page, viewport) -> None:
    from tests.e2e.test_playground_browser import run

    phone = viewport is PHONE
    page = open_page(viewport=viewport, is_mobile=phone, has_touch=phone)
    page.goto("/")
    run(page, WHERE_FROM)
    expect(page.locator("[data-provenance]").first).to_be_visible()
    expect(page.locator("svg.autograd .node-flow").first).to_be_visible()
    page.locator("[data-provenance] td[data-pv-from]").first.focus()
    assert serious_violations(page) == []
    page.goto("/compare?preset=stack-cat")
    expect(page.locator(".code-editor-host").first).to_be_visible()
    assert serious_violations(page) == []


def test_phone_tap_targets_are_44px(open_page) -> None:
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?example=matmul")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#results .run-summary")
    for path in ("", "/lessons/stack-vs-cat", "/compare"):
        if path:
            page.goto(path)
        small = page.evaluate("""() => [...document.querySelectorAll(
            'main button, main .button, main select, main input, main summary, .site-nav a, ' +
            '.panel-nav a, .lesson-toc a, .lang-switch button')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 80))""")
        assert small == [], path


def test_heatmap_numbers_do_not_wrap(page: Page) -> None:
    page.goto("/")
    from tests.e2e.test_playground_browser import run
    run(page, "torch.tensor([[-123456.5, 2.25], [3.125, -4.0]])")
    cells = page.locator("#result-panel table.tgrid tbody td")
    heights = {round(c.bounding_box()["height"]) for c in cells.all()}  # type: ignore[index]
    assert len(heights) == 1  # one line each: a wrapped number would make its cell taller


def test_phone_autograd_graph_keeps_its_drawn_size(open_page) -> None:
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?example=backward")
    page.click("#run-form button[type=submit]")
    graph = page.locator("#autograd-panel svg.autograd")
    expect(graph).to_be_visible()
    drawn = float(graph.get_attribute("width") or 0)
    shown = graph.evaluate("e => e.getBoundingClientRect().width")
    assert abs(shown - drawn) < 1  # not shrunk to the screen: its 12 px labels stay 12 px
