"""Training runs in a real browser: start one from the form, watch its curves grow through
htmx polling, see it finish; cancel one; compare two; read it on a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

# Seconds, not minutes: 7,500 optimizer steps on the moons, long enough (about 4 s here)
# that the page polls (every 1 s) see the run growing at least twice on a fast machine.
LIVE = {"f-epochs": "300"}
QUICK = {"f-epochs": "15", "f-n_samples": "400"}
RUN_TIMEOUT_MS = 90_000

# Every time htmx swaps the live block in, note how many points the loss chart holds.
WATCH_POLLS = """
window.lossPoints = [];
document.addEventListener("htmx:afterSettle", function () {
  var chart = document.getElementById("chart-loss");
  var live = document.getElementById("live");
  if (chart && live) window.lossPoints.push(
    [live.getAttribute("data-status"), Number(chart.getAttribute("data-points"))]);
});
"""


def start_run(page: Page, fields: dict[str, str], press_enter: bool = False) -> None:
    for selector, value in fields.items():
        page.fill(f"#{selector}", value)
    with page.expect_navigation(url="**/train/runs/**"):
        if press_enter:  # the form submits from the keyboard, as any form does
            page.press(f"#{next(iter(fields))}", "Enter")
        else:
            page.click("#train_form .train-actions button[type=submit] >> nth=0")


def wait_until_ended(page: Page) -> None:
    page.wait_for_selector("#live:not([hx-trigger])", timeout=RUN_TIMEOUT_MS)


def test_a_run_grows_live_and_finishes(page: Page, screenshot) -> None:
    page.goto("/train")
    start_run(page, LIVE, press_enter=True)
    page.evaluate(WATCH_POLLS)
    page.evaluate("window.stillSamePage = true")
    # Two polls while it runs, then a picture of the run in flight.
    # (Polled from here: wait_for_function would evaluate a string, which the CSP refuses.)
    for _ in range(RUN_TIMEOUT_MS // 200):
        polls = page.evaluate("window.lossPoints")
        if len([p for p in polls if p[0] == "running"]) >= 2:
            break
        page.wait_for_timeout(200)
    screenshot(page, "train-live", full_page=True)
    wait_until_ended(page)
    assert page.evaluate("window.stillSamePage") is True  # swapped by htmx, never reloaded
    polls = page.evaluate("window.lossPoints")
    running = [n for status, n in polls if status == "running"]
    assert len(set(running)) >= 2 and running == sorted(running), polls  # the curve grew
    expect(page.locator("#live")).to_have_attribute("data-status", "finished")
    expect(page.locator("#live .run-status")).to_have_text("Finished")
    expect(page.locator("#announce")).to_have_text("Finished")  # said once, at the end
    expect(page.locator("[data-counter=total_iteration]")).to_have_text("7500")
    expect(page.locator("#chart-boundary")).to_be_visible()
    expect(page.locator(".run-results table caption").first).to_have_text("Model parameters")
    expect(page.locator(".run-results")).to_contain_text("‖exp_avg_sq‖")
    # Polling stopped: no request for the run goes out any more.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/train/runs/" in r.url else None)
    page.wait_for_timeout(1500)
    assert requests == []
    screenshot(page, "train-finished", full_page=True)


def test_cancel_shows_why_the_run_stopped(page: Page) -> None:
    page.goto("/train")
    start_run(page, {"f-epochs": "1000", "f-batch_size": "16"})
    page.wait_for_selector("#live[data-status=running]", timeout=RUN_TIMEOUT_MS)
    page.click("#cancel-run")
    wait_until_ended(page)
    expect(page.locator("#live .run-status")).to_have_text("Cancelled")
    expect(page.locator(".stop-card")).to_contain_text("Cancelled during epoch")
    expect(page.locator("#cancel-run")).to_have_count(0)


def test_compare_sgd_and_adam_on_the_same_data(page: Page, screenshot) -> None:
    page.goto("/train")
    page.select_option("#f-optimizer", "sgd")
    # The momentum field applies to SGD, so it shows; the betas of Adam hide.
    expect(page.locator("#f-momentum")).to_be_visible()
    expect(page.locator("#f-beta1")).to_be_hidden()
    page.fill("#f-momentum", "0.9")
    start_run(page, QUICK)
    wait_until_ended(page)
    sgd_url = page.url
    page.click("text=Train again with changes")
    expect(page.locator("#f-momentum")).to_have_value("0.9")  # the run's settings
    page.select_option("#f-optimizer", "adam")
    start_run(page, {})
    wait_until_ended(page)
    page.goto("/train")
    boxes = page.locator("#recent-runs input[name=runs]")
    expect(boxes).to_have_count(2)
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("text=Compare selected runs")
    page.wait_for_url("**/train/compare?runs=*")
    rows = page.locator(".compare-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Adam")
    expect(rows.nth(1)).to_contain_text("SGD + momentum")
    assert sgd_url.rsplit("/", 1)[1] in page.url
    expect(page.locator("#compare-loss polyline")).to_have_count(4)
    expect(page.locator("#compare-accuracy polyline")).to_have_count(4)
    expect(page.locator(".compare-table td.best").first).to_be_visible()
    screenshot(page, "train-compare", full_page=True)


def test_phone_width_reads_without_sideways_scrolling(open_page, screenshot) -> None:
    page = open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/train")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    start_run(page, QUICK)
    wait_until_ended(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("#live .run-head").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 380)")  # the counters and the first chart
    screenshot(page, "train-phone")


def test_pause_step_resume_in_the_browser(page: Page, screenshot) -> None:
    from tests.e2e.test_layout_browser import serious_violations

    page.goto("/train")
    start_run(page, {"f-epochs": "1000", "f-batch_size": "16"})
    page.wait_for_selector("#live[data-status=running]", timeout=RUN_TIMEOUT_MS)
    page.click("#pause-run")
    page.wait_for_selector("#live[data-status=paused]", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#live .run-status")).to_have_text("Paused")
    # The keyboard focus moved from Pause (gone now) to the first control the paused run offers.
    expect(page.locator("#resume-run")).to_be_focused()
    note = page.locator(".pause-note")
    expect(note).to_contain_text("resumes by itself")
    at = int(note.get_attribute("data-paused-epoch") or "-1")
    expect(page.locator("[data-counter=epoch]")).to_have_text(str(at))
    page.wait_for_timeout(1500)  # polls go on; the run stays where it is
    expect(page.locator(".pause-note")).to_have_attribute("data-paused-epoch", str(at))
    screenshot(page, "train-paused", full_page=True)
    assert serious_violations(page) == []

    page.click("#step-run")  # one more epoch, then paused again
    expect(page.locator(".pause-note")).to_have_attribute(
        "data-paused-epoch", str(at + 1), timeout=RUN_TIMEOUT_MS)
    expect(page.locator("[data-counter=epoch]")).to_have_text(str(at + 1))

    page.click("#resume-run")
    page.wait_for_selector("#live[data-status=running]", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#pause-run")).to_be_visible()
    page.click("#cancel-run")
    wait_until_ended(page)
    expect(page.locator("#live .run-status")).to_have_text("Cancelled")


# Every frame htmx swaps in during a replay: which epoch it shows.
WATCH_FRAMES = """
window.frames_ = [];
document.addEventListener("htmx:afterSettle", function () {
  var live = document.getElementById("live");
  if (live) window.frames_.push(live.getAttribute("data-replay-epoch"));
});
"""


def test_a_fast_run_replays_at_a_pace_a_student_can_follow(page: Page, screenshot) -> None:
    page.goto("/train")
    start_run(page, {"f-epochs": "6"})
    wait_until_ended(page)
    play = page.locator("[data-replay-play]")
    expect(play).to_be_visible()  # JavaScript shows Play and the pace
    expect(page.locator(".replay-form")).to_contain_text("too fast to follow")
    page.select_option("[data-replay-pace]", "500")
    page.evaluate(WATCH_FRAMES)
    play.click()
    expect(page.locator("#live")).to_have_attribute("data-replay-epoch", "2")
    expect(page.locator("#live .run-status")).to_have_text("Replay: after epoch 2 of 6")
    expect(page.locator("[data-replay-play]")).to_have_text("Stop")
    expect(page.locator("[data-replay-play]")).to_be_focused()  # focus follows the swap
    page.keyboard.press("Enter")  # Stop, from the keyboard
    expect(page.locator("[data-replay-play]")).to_have_text("Play")
    stopped_at = page.locator("#live").get_attribute("data-replay-epoch")
    page.wait_for_timeout(800)
    expect(page.locator("#live")).to_have_attribute("data-replay-epoch", stopped_at or "")
    # caret: Playwright's default hides the caret with an inline style, which the CSP refuses
    screenshot(page, "train-replay", full_page=True, caret="initial")
    from tests.e2e.test_layout_browser import serious_violations
    assert serious_violations(page) == []
    page.keyboard.press("Enter")  # Play on from there
    # It plays to the end by itself, one epoch per frame, and the end is the run as it ended.
    expect(page.locator("#live")).to_have_attribute("data-status", "finished", timeout=10_000)
    expect(page.locator("[data-replay-play]")).to_have_text("Play")
    frames = page.evaluate("window.frames_")
    assert [f for f in frames if f is not None] == [str(n) for n in range(6)]
    assert frames[-1] is None, frames
    expect(page.locator("[data-replay-pace]")).to_have_value("500")  # the pace is kept


def test_without_javascript_a_running_run_reloads_and_replay_uses_the_form(
        open_page) -> None:
    page = open_page(viewport={"width": 1280, "height": 900}, locale="en-US",
                     java_script_enabled=False)
    page.goto("/train")
    page.fill("#f-epochs", "1000")
    page.fill("#f-batch_size", "16")
    with page.expect_navigation(url="**/train/runs/**"):
        page.click("#train_form .train-actions button[type=submit] >> nth=0")
    run_url = page.url
    # The page reloads itself while the run is live (a noscript meta refresh).
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.wait_for_timeout(4000)
    assert loads and loads[0] == run_url, loads
    page.click("#cancel-run")  # a plain form post, then the run's page
    page.wait_for_selector("#live[data-status=cancelled]", timeout=RUN_TIMEOUT_MS)
    if page.locator(".replay-form").count():  # cancelled after at least one epoch
        expect(page.locator("[data-replay-play]")).to_be_hidden()  # Play needs JavaScript
        page.locator("[data-replay-show]").click()  # Show: the end's epoch is the end
        expect(page.locator("#live")).to_have_attribute("data-status", "cancelled")
    page.goto("/train")
    page.fill("#f-epochs", "4")
    with page.expect_navigation(url="**/train/runs/**"):
        page.click("#train_form .train-actions button[type=submit] >> nth=0")
    for _ in range(60):  # reloads by itself until the run has ended
        if page.locator("#live[data-status=finished]").count():
            break
        page.wait_for_timeout(1000)
    expect(page.locator("[data-replay-play]")).to_be_hidden()
    expect(page.locator("[data-replay-show]")).to_be_visible()
    page.goto(page.url.split("?")[0] + "?epoch=1")  # what Show sends for epoch 1
    expect(page.locator("#live .run-status")).to_have_text("Replay: after epoch 1 of 4")


def test_replay_and_pause_controls_fit_a_phone_in_japanese(open_page, screenshot) -> None:
    page = open_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True,
                     locale="ja-JP")
    page.goto("/train")
    start_run(page, {"f-epochs": "5"})
    wait_until_ended(page)
    page.goto(page.url + "?epoch=2")
    expect(page.locator("#live .run-status")).to_have_text("再生中: エポック 2 / 5 の後")
    expect(page.locator("[data-replay-play]")).to_have_text("再生")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for control in ("[data-replay-play]", "[data-replay-show]", "#replay-pace"):
        box = page.locator(control).bounding_box()
        assert box is not None and box["height"] >= 44, control  # a finger's tap target
    page.locator(".replay-form").scroll_into_view_if_needed()
    screenshot(page, "train-replay-phone-ja")
