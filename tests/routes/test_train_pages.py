"""The training pages over HTTP, on the app's real worker pool: chosen elements of the form,
the run page and its live block, cancel, the comparison, errors as results."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from test_pages import elements, one

from app import i18n
from app.playground import train_form

# Runs of a few dozen steps: each ends within a second on the worker pool.
TINY = {"n_samples": "120", "hidden": "6", "epochs": "3", "batch_size": "16"}
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _fresh_cookies(client: TestClient) -> Iterator[None]:
    """The session's client keeps cookies (the recent-runs list, the language)."""
    client.cookies.clear()
    yield
    client.cookies.clear()


def form(**changes: str) -> dict[str, str]:
    """The form as a browser posts it: every field, minus unticked boxes, plus changes."""
    fields = {k: v for k, v in train_form.DEFAULTS.items()
              if v or k not in train_form.CHECKBOXES}
    return {**fields, **TINY, **changes}


def start(client: TestClient, **changes: str) -> str:
    response = client.post("/train", data=form(**changes), follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    match = re.fullmatch(r"/train/runs/([\w-]+)", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def wait_done(client: TestClient, run_id: str, timeout_s: float = 60) -> dict[str, Any]:
    until = time.monotonic() + timeout_s
    while True:
        view = client.get(f"/runs/{run_id}").json()
        if view["summary"] is not None:
            return view
        assert time.monotonic() < until, f"run {run_id} did not end: {view['status']}"
        time.sleep(0.05)


def live(client: TestClient, run_id: str) -> tuple[dict, str]:
    """The run's live block, as htmx polls it: (attributes of section#live, its html)."""
    response = client.get(f"/train/runs/{run_id}", headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.text  # only the block
    attrs, _ = one(response.text, "section", id="live")
    return attrs, response.text


@pytest.fixture(scope="module")
def two_runs(client: TestClient) -> tuple[str, str]:
    """An Adam run and an SGD-with-momentum run on the same data and seed, both ended."""
    client.cookies.clear()
    adam = start(client)
    wait_done(client, adam)
    sgd = start(client, optimizer="sgd", lr="0.1", momentum="0.9")
    wait_done(client, sgd)
    return adam, sgd


def test_the_form_offers_every_choice_and_works_without_javascript(client: TestClient) -> None:
    html = client.get("/train").text
    attrs, _ = one(html, "form", id="train_form")
    assert (attrs["method"], attrs["action"], attrs["hx-post"]) == ("post", "/train", "/train")
    names = {a["name"] for a, _ in elements(html, "input") + elements(html, "select")
             if a.get("id", "").startswith("f-")}
    assert names == set(train_form.DEFAULTS)
    options = {name: [a["value"] for a, _ in elements(_select(html, name), "option")]
               for name in ("dataset", "optimizer", "scheduler", "loss", "activation",
                            "device")}
    assert options["dataset"] == ["moons", "circles", "spirals", "xor", "blobs", "sine",
                                  "linear", "digits"]
    assert options["optimizer"] == ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"]
    assert options["scheduler"] == ["none", "step", "cosine", "warmup"]
    assert options["loss"][0] == "auto" and "huber" in options["loss"]
    assert options["device"] == ["auto", "cpu", "cuda"]
    for name in train_form.DEFAULTS:  # every control has its label
        assert one(html, "label", **{"for": f"f-{name}"})
    assert one(html, "a", href="/train")[0].get("aria-current") == "page"
    assert one(html, "script", src="/static/train.js")


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select id="f-{name}".*?</select>', html, re.S)
    assert match, name
    return match.group(0)


@pytest.mark.parametrize("path", ["/train", "/train/compare?runs=a,b", "/train/runs/gone"])
def test_no_inline_style_script_or_handlers(client: TestClient, path: str) -> None:
    html = client.get(path).text
    assert not elements(html, "style")
    for attrs, _ in elements(html):
        assert "style" not in attrs
        assert not [a for a in attrs if a.startswith(("on", "hx-on"))]
    assert all(a.get("src") and not t.strip() for a, t in elements(html, "script"))


def test_a_started_run_redirects_to_its_page_and_joins_the_recent_list(
        client: TestClient) -> None:
    run_id = start(client)
    assert run_id in client.cookies.get("train_runs", "")
    wait_done(client, run_id)
    html = client.get("/train").text
    box, _ = one(html, "input", type="checkbox", name="runs", value=run_id)
    assert box["id"] == f"recent-runs-{run_id}"
    assert one(html, "a", href=f"/train/runs/{run_id}")


def test_htmx_start_navigates_with_hx_redirect(client: TestClient) -> None:
    response = client.post("/train", data=form(), headers=HX, follow_redirects=False)
    assert response.status_code == 204
    run_id = response.headers["hx-redirect"].removeprefix("/train/runs/")
    assert wait_done(client, run_id)["status"] == "finished"


def test_a_wrong_form_comes_back_with_every_error_on_its_field(client: TestClient) -> None:
    response = client.post("/train", data=form(hidden="8, x", epochs="0", lr="-1"),
                           headers=HX)
    assert response.status_code == 200  # a user's error is a result
    assert response.text.lstrip().startswith('<form id="train_form"')  # the block only
    assert "set-cookie" not in response.headers  # nothing was started
    html = response.text
    for name in ("hidden", "epochs", "lr"):
        field, _ = one(html, id=f"f-{name}")
        assert field["aria-invalid"] == "true"
        assert f"f-{name}-error" in field["aria-describedby"]
        assert one(html, "a", href=f"#f-{name}")  # the summary links to the field
    assert one(html, id="f-hidden")[0]["value"] == "8, x"  # kept as typed
    _, summary = one(html, "div", class_="form-errors")
    assert "The run was not started" in summary and "greater than 0" in summary


def test_a_run_over_the_servers_limit_is_refused_with_the_limit(client: TestClient) -> None:
    response = client.post("/train", data=form(epochs="5000"))
    assert response.status_code == 200 and "<html" in response.text  # no-JS: the whole page
    _, summary = one(response.text, "div", class_="form-errors")
    assert "epochs is 5000, the limit is 1000" in summary


def test_the_live_block_polls_while_running_and_stops_once_cancelled(
        client: TestClient) -> None:
    run_id = start(client, n_samples="1000", epochs="300")  # ~19,000 steps: minutes
    attrs, html = live(client, run_id)
    assert attrs["hx-get"] == f"/train/runs/{run_id}" and attrs["hx-trigger"] == "every 1s"
    assert attrs["hx-swap"] == "outerHTML"
    # without JavaScript (no polling) the page reloads itself while the run is live
    refresh = '<noscript><meta http-equiv="refresh" content="3"></noscript>'
    assert refresh in client.get(f"/train/runs/{run_id}").text
    cancel, _ = one(html, "form", class_="cancel-form")
    assert cancel["hx-post"] == cancel["action"] == f"/train/runs/{run_id}/cancel"
    response = client.post(f"/train/runs/{run_id}/cancel", headers=HX)
    assert response.status_code == 200
    one(response.text, "section", id="live")
    view = wait_done(client, run_id)
    attrs, html = live(client, run_id)
    assert "hx-trigger" not in attrs and "hx-get" not in attrs  # polling stops here
    assert 'http-equiv="refresh"' not in client.get(f"/train/runs/{run_id}").text
    assert attrs["data-status"] == view["status"] == "cancelled"
    assert not elements(html, "form", class_="cancel-form")
    _, card = one(html, "div", class_="stop-card")
    assert "Why it stopped" in card and view["summary"]["reason"] in card
    assert view["summary"]["reason"].startswith("Cancelled during epoch")


def test_cancel_without_javascript_redirects_to_the_run(client: TestClient,
                                                       two_runs: tuple[str, str]) -> None:
    adam, _ = two_runs
    response = client.post(f"/train/runs/{adam}/cancel", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/train/runs/{adam}"


def test_a_finished_run_shows_its_curves_and_end_state(client: TestClient,
                                                      two_runs: tuple[str, str]) -> None:
    adam, _ = two_runs
    view = client.get(f"/runs/{adam}").json()
    page = client.get(f"/train/runs/{adam}")
    assert page.status_code == 200
    _, title = one(page.text, "h1")
    assert title.strip() == f"Adam lr=0.01 · moons · {adam[:6]}"
    attrs, html = live(client, adam)
    assert attrs["data-status"] == "finished" and "hx-trigger" not in attrs
    loss, _ = one(html, "figure", id="chart-loss")
    epochs = view["metrics"]["epochs"]
    steps = len(view["metrics"]["steps"]["loss"])
    assert steps > 0 and epochs["epoch"] == [1, 2, 3]
    assert int(loss["data-points"]) == steps + 3 + 3  # steps; training and validation loss
    assert elements(_inside(html, "chart-loss"), "polyline")
    acc, _ = one(html, "figure", id="chart-accuracy")
    assert int(acc["data-points"]) == 3 + 3  # per epoch, on training and validation
    for chart in ("chart-lr", "chart-grad", "chart-boundary"):
        assert one(html, "figure", id=chart)
    assert len(elements(_inside(html, "chart-boundary"), "rect")) > 10
    # total_iteration = iterations per epoch x epochs: 96 samples / 16 = 6 steps per epoch.
    _, counter = one(html, "span", **{"data-counter": "total_iteration"})
    assert counter == "18"
    assert "18 = 6 × 3" in html
    tables = dict(_tables(html))
    assert tables["Model parameters"][0][:3] == ["fc0.weight", "[6, 2]", "12"]
    state = tables["Optimizer state (norms of the buffers it keeps per parameter)"]
    assert state[0][:2] == ["fc0.weight", "18"] and len(state[0]) == 4
    assert "‖exp_avg‖" in html and "‖exp_avg_sq‖" in html
    for notice in view["notices"]:  # what the core said about the device
        assert notice in html
    if not torch.cuda.is_available():
        assert any("no GPU" in n for n in view["notices"])


def _inside(html: str, element_id: str) -> str:
    match = re.search(rf'<figure[^>]*id="{element_id}".*?</figure>', html, re.S)
    assert match, element_id
    return match.group(0)


def _tables(html: str) -> list[tuple[str, list[list[str]]]]:
    found = []
    for table in re.findall(r"<table.*?</table>", html, re.S):
        caption = one(table, "caption")[1].strip()
        rows = [[re.sub(r"<.*?>", "", c).strip() for c in
                 re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
        found.append((caption, rows))
    return found


def test_a_diverged_run_says_why_and_what_to_try(client: TestClient) -> None:
    run_id = start(client, dataset="linear", loss="mse", hidden="32, 32", optimizer="sgd",
                   lr="10", epochs="20", n_samples="100")
    view = wait_done(client, run_id)
    assert view["status"] == "diverged"
    attrs, html = live(client, run_id)
    assert attrs["data-status"] == "diverged"
    _, badge = one(html, "span", class_="run-status")
    assert "Diverged" in badge
    _, card = one(html, "div", class_="stop-card")
    assert "Training diverged" in card and "lower the learning rate" in card
    assert not elements(html, "figure", id="chart-accuracy")  # a regression set


def test_an_unknown_run_is_404_and_its_poll_stops(client: TestClient) -> None:
    page = client.get("/train/runs/no-such-run")
    assert page.status_code == 404 and "Run not found" in page.text
    attrs, _ = live(client, "no-such-run")
    assert "hx-trigger" not in attrs


def test_compare_two_runs_on_one_chart(client: TestClient, two_runs: tuple[str, str]) -> None:
    adam, sgd = two_runs
    client.cookies.set("train_runs", f"{sgd}.{adam}", path="/train")
    html = client.get(f"/train/compare?runs={adam},{sgd}").text
    rows = [a["data-run"] for a, _ in elements(html, "tr") if a.get("data-run")]
    assert rows == [adam, sgd]
    attrs, _ = one(html, "section", id="comparison")
    assert "hx-trigger" not in attrs  # both ended: nothing to poll
    chart = _inside(html, "compare-loss")
    assert len(elements(chart, "polyline")) == 4  # training and validation, per run
    legend = " ".join(t for _, t in elements(chart, "li"))
    assert f"Adam lr=0.01 · moons · {adam[:6]}" in legend
    assert f"SGD + momentum lr=0.1 · moons · {sgd[:6]}" in legend
    assert len(elements(html, "td", class_="best")) >= 2  # a best value in each metric
    for run_id in (adam, sgd):  # the picker has both ticked
        box, _ = one(html, "input", type="checkbox", value=run_id)
        assert "checked" in box
    repeated = client.get(f"/train/compare?runs={adam}&runs={sgd}", headers=HX).text
    assert repeated.lstrip().startswith('<section id="comparison"')
    assert [a["data-run"] for a, _ in elements(repeated, "tr") if a.get("data-run")] == rows


def test_compare_asks_for_two_runs(client: TestClient) -> None:
    html = client.get("/train/compare?runs=gone").text
    assert "Choose at least two runs" in html and "no longer kept" in html


def test_train_again_fills_the_form_with_a_runs_settings(client: TestClient,
                                                         two_runs: tuple[str, str]) -> None:
    _, sgd = two_runs
    html = client.get(f"/train?from={sgd}").text
    assert one(html, "input", id="f-lr")[0]["value"] == "0.1"
    assert one(html, "input", id="f-momentum")[0]["value"] == "0.9"
    selected = [a["value"] for a, _ in elements(_select(html, "optimizer"), "option")
                if "selected" in a]
    assert selected == ["sgd"]


def test_the_pages_speak_japanese(client: TestClient) -> None:
    ja = i18n.translations("ja").gettext
    html = client.get("/train", headers={"Accept-Language": "ja"}).text
    assert one(html, "html")[0]["lang"] == "ja"
    heading = ja("Train a small network")
    assert heading != "Train a small network"
    assert one(html, "h1")[1].strip() == heading
    assert one(html, "label", **{"for": "f-dataset"})[1].strip() == ja("Data set")
