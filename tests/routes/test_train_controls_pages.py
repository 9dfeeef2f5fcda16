"""The run page's pause / resume / step buttons (with and without JavaScript), the replay of
an ended run epoch by epoch, the optimizer-state note and the form's error labels, over HTTP
on the app's real worker pool."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from test_pages import elements, one
from test_train_pages import HX, _fresh_cookies, form, live, start, wait_done  # noqa: F401


def wait_view(client: TestClient, run_id: str, ready: Any, timeout_s: float = 30) -> dict:
    until = time.monotonic() + timeout_s
    while not ready(view := client.get(f"/runs/{run_id}").json()):
        assert time.monotonic() < until, view["status"]
        time.sleep(0.05)
    return view


def test_pause_step_and_resume_buttons_work_without_javascript(client: TestClient) -> None:
    run_id = start(client, n_samples="1000", epochs="300")  # minutes unless paused
    _, html = live(client, run_id)
    pause, _ = one(html, "form", action=f"/train/runs/{run_id}/pause")
    assert pause["method"] == "post" and pause["hx-post"] == pause["action"]
    response = client.post(f"/train/runs/{run_id}/pause", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/train/runs/{run_id}"
    view = wait_view(client, run_id, lambda v: v["status"] == "paused")
    at = view["pause"]["epoch"]

    page = client.get(f"/train/runs/{run_id}").text
    # Still live: it refreshes without JavaScript, and offers resume, step and cancel.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    _, note = one(page, "p", class_="pause-note")
    assert f"Paused after epoch {at}." in note and "resumes by itself" in note
    assert one(page, "button", id="resume-run") and one(page, "button", id="step-run")
    assert not elements(page, "button", id="pause-run")
    assert "Paused" in one(page, "span", class_="status-paused")[1]

    client.post(f"/train/runs/{run_id}/step", headers=HX)
    wait_view(client, run_id, lambda v: v["status"] == "paused" and v["pause"]["epoch"] == at + 1)
    response = client.post(f"/train/runs/{run_id}/cancel", headers=HX)
    view = wait_done(client, run_id)
    assert view["status"] == "cancelled" and view["summary"]["epochs_completed"] == at + 1


def test_controls_of_an_ended_run_show_its_end(client: TestClient) -> None:
    run_id = start(client)
    wait_done(client, run_id)
    response = client.post(f"/train/runs/{run_id}/pause", headers=HX)
    attrs, _ = one(response.text, "section", id="live")
    assert attrs["data-status"] == "finished"
    assert client.post("/train/runs/no-such-run/pause").status_code == 404


def test_an_ended_run_replays_epoch_by_epoch(client: TestClient) -> None:
    run_id = start(client, epochs="5")
    view = wait_done(client, run_id)
    _, html = live(client, run_id)
    replay, _ = one(html, "form", class_="replay-form")
    assert (replay["method"], replay["action"]) == ("get", f"/train/runs/{run_id}")
    assert replay["data-last"] == "5"
    slider, _ = one(html, "input", id="replay-epoch")
    assert (slider["name"], slider["min"], slider["max"], slider["value"]) == \
        ("epoch", "0", "5", "5")
    assert f"trained 5 epochs in {view['summary']['elapsed_s']} s" in html

    # Without JavaScript, Show is a GET of the run as it was after that epoch.
    attrs, frame = live(client, f"{run_id}?epoch=2")
    assert "hx-trigger" not in attrs and attrs["data-replay-epoch"] == "2"
    assert "Replay: after epoch 2 of 5" in frame
    _, counter = one(frame, "span", **{"data-counter": "epoch"})
    assert counter == "2"
    # the frame's charts hold the first two epochs only, as a live watcher saw them then
    loss, _ = one(frame, "figure", id="chart-loss")
    steps = [s for s in view["metrics"]["steps"]["epoch"] if s <= 2]
    assert int(loss["data-points"]) == len(steps) + 2 + 2
    assert "Decision boundary after epoch" in frame
    assert not elements(frame, "form", class_="cancel-form")
    assert not elements(frame, "section", class_="run-results")  # the end is not there yet
    page = client.get(f"/train/runs/{run_id}?epoch=2").text
    assert 'http-equiv="refresh"' not in page
    assert one(page, "a", href=f"/train/runs/{run_id}")  # back to the end
    # Past the last epoch is the end itself.
    attrs, _ = live(client, f"{run_id}?epoch=99")
    assert attrs["data-status"] == "finished" and "data-replay-epoch" not in attrs


def test_an_empty_optimizer_state_says_why(client: TestClient) -> None:
    run_id = start(client, optimizer="sgd", lr="0.1", momentum="0")
    wait_done(client, run_id)
    _, html = live(client, run_id)
    _, note = one(html, "div", class_="optimizer-state-note")
    assert "SGD without momentum keeps no state" in note
    ja = client.get(f"/train/runs/{run_id}", headers={"accept-language": "ja"}).text
    assert "モーメンタムなしの SGD は状態を持ちません" in ja


def test_form_errors_name_the_labels_the_student_sees(client: TestClient) -> None:
    response = client.post("/train", data=form(epochs="0", batch_size="x"), headers=HX)
    html = response.text
    assert one(html, "a", href="#f-epochs")[1] == "Epochs"
    assert one(html, "a", href="#f-batch_size")[1] == "Batch size"
    assert ">batch_size<" not in html and ">epochs<" not in html
    ja = client.post("/train", data=form(epochs="0"),
                     headers={**HX, "accept-language": "ja"}).text
    assert one(ja, "a", href="#f-epochs")[1] == "エポック数"


def test_every_field_label_comes_from_the_one_table(client: TestClient) -> None:
    from app.playground.train_form import LABELS, MAX_FIELDS

    html = client.get("/train").text
    assert len(LABELS) <= MAX_FIELDS
    for name, label in LABELS.items():
        _, text = one(html, "label", **{"for": f"f-{name}"})
        assert text.strip() == label, name
