"""A figure a program draws shows up in the browser, decoded, under the strict CSP (the page
fixture fails the test on any console error, a CSP violation included)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_playground_browser import run

PROGRAM = """import matplotlib.pyplot as plt
x = torch.linspace(0, 6.28, 100)
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].plot(x, torch.sin(x), label='sin')
axes[0].plot(x, torch.cos(x), '--', label='cos')
axes[0].legend()
axes[0].set_title('<b>waves</b>')
axes[1].imshow(torch.outer(torch.sin(x), torch.cos(x)), cmap='viridis')
axes[1].set_title('outer product')
plt.tight_layout()
"""


def test_a_plot_is_drawn_as_an_image(page: Page, screenshot) -> None:
    page.goto("/")
    run(page, PROGRAM)
    image = page.locator("#figures-panel figure.plot-figure img")
    expect(image).to_have_count(1)
    expect(image).to_have_attribute("alt", "Figure 1: <b>waves</b>; outer product")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#figures-panel img');"
        " return i && i.complete && i.naturalWidth > 0; }")
    size = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert size[0] > 500 and size[1] > 150  # the SVG decoded (a broken image is 0 x 0)
    assert page.locator("#figures-panel b").count() == 0  # the title never became markup
    expect(page.locator("a[href='#figures-panel']")).to_have_count(1)
    screenshot(page.locator("#figures-panel"), "plot")
