"""Schemathesis against the app's own OpenAPI schema: no generated request gets a server error.

The schema comes from ``create_app().openapi()`` (building an app does not start workers), and
each generated case is sent through the session ``client``: ``from_asgi`` would run the app's
lifespan a second time and start a second worker pool. POST /runs is left out (a valid
generated spec starts a training run that holds a worker for up to a minute; its validation
has its own tests), and so is the event stream, which follows a run until it ends.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.main import create_app
from tests.security.conftest import Canary

schema = (schemathesis.openapi.from_dict(create_app().openapi())
          .exclude(method="POST", path="/runs")
          .exclude(path="/runs/{run_id}/events"))


def send(client: TestClient, request: dict[str, Any]) -> Any:
    """A requests-style request (what schemathesis serialises) sent with the httpx client."""
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    elif request.get("data") is not None:
        body["content"] = request["data"]
    if request.get("cookies"):
        client.cookies.clear()
        client.cookies.update(request["cookies"])
    try:
        return client.request(request["method"], request["url"], params=request.get("params"),
                              headers=request.get("headers"), **body)
    finally:
        client.cookies.clear()


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
def test_no_server_errors(case: Any, client: TestClient, canary: Canary) -> None:
    before = canary.snapshot()
    response = send(client, case.as_transport_kwargs(base_url="http://testserver"))
    assert response.status_code < 500, response.text[:300]
    case.validate_response(response, checks=[not_a_server_error])
    canary.assert_intact(before)
