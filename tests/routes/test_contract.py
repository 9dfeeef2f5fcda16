"""What the OpenAPI document promises is what the server does (the fast part of the contract;
tests/contract/ runs schemathesis against a live server)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import get_settings
from app.jsonmodel import FROM_TEXT
from app.schemas import EvalRequest
from app.training.spec import TrainSpec


@pytest.mark.parametrize("body", [
    {"code": "1", "seed": False}, {"code": "1", "seed": "5"}, {"code": "1", "repeat": True},
    {"code": 5},
])
def test_eval_refuses_what_the_schema_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EvalRequest.model_validate(body)


@pytest.mark.parametrize("body", [
    {"shuffle": 1}, {"epochs": "3"}, {"grad_clip": False}, {"model": {"hidden": [True]}},
    {"optimizer": {"betas": [0.9, True]}}, {"optimizer": {"layer_lrs": {"out": 0}}},
    {"optimizer": {"layer_lrs": {"x-any": 0.1}}}, {"dataset": {"n_samples": "100"}},
])
def test_a_run_spec_refuses_what_the_schema_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TrainSpec.model_validate(body)


def test_integral_numbers_and_form_text_are_still_accepted() -> None:
    assert EvalRequest.model_validate({"code": "1", "repeat": 12.0}).repeat == 12
    assert TrainSpec.model_validate({"epochs": 3.0, "grad_clip": None}).epochs == 3
    form = TrainSpec.model_validate({"epochs": "3", "shuffle": "true"}, context=FROM_TEXT)
    assert (form.epochs, form.shuffle) == (3, True)


def test_the_schema_states_the_servers_limits(client: TestClient) -> None:
    settings = get_settings()
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert components["TrainSpec"]["properties"]["epochs"]["maximum"] == settings.train_max_epochs
    assert (components["DatasetSpec"]["properties"]["n_samples"]["maximum"]
            == settings.train_max_samples)
    assert components["EvalRequest"]["properties"]["code"]["maxLength"] == \
        settings.max_source_chars
    over = client.post("/runs", json={"epochs": settings.train_max_epochs + 1})
    assert over.status_code == 413


def test_every_status_a_run_route_answers_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"201", "400", "413", "422", "429", "503"} <= set(paths["/runs"]["post"]["responses"])
    assert {"202", "200", "404"} <= set(paths["/runs/{run_id}/cancel"]["post"]["responses"])
    assert {"204", "404"} <= set(paths["/runs/{run_id}"]["delete"]["responses"])


def test_options_lists_every_method_of_a_path(client: TestClient) -> None:
    response = client.options("/runs/some-id")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "DELETE"}
    assert set(client.put("/runs").headers["allow"].split(", ")) == {"POST"}


def test_an_unreadable_body_is_a_400_in_the_documented_error_shape(client: TestClient) -> None:
    response = client.post("/eval", content=b"\x02\xff{", headers={
        "content-type": "application/json"})
    assert response.status_code in (400, 422)
    if response.status_code == 400:
        body = response.json()
        assert body["ok"] is False and body["error"]["type"] == "InvalidBody"
