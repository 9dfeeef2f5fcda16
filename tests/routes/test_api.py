"""POST /eval over HTTP: the contract's status codes and bodies, through the real pool."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from app.engine.job import CHECKED_MARK
from app.engine.parser import check_mark
from app.executor.base import QueueFullError


def post(client: TestClient, code: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/eval", json={"code": code, **extra})
    return response.status_code, response.json()


def test_ok_program_returns_the_full_contract(client: TestClient) -> None:
    status, body = post(client, "A = torch.tensor([[1, 2, 3], [4, 5, 6]])\n"
                                "B = torch.tensor([[1, 4], [2, 5], [3, 6]])\nprint(A.shape)\n"
                                "torch.mm(A, B)")
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["values"] == [[14, 32], [32, 77]]
    assert set(body["variables"]) == {"A", "B"}
    assert [step["line"] for step in body["steps"]] == [1, 2, 3, 4]
    assert body["steps"][2]["stdout"] == "torch.Size([2, 3])\n"
    assert body["stdout"] == "torch.Size([2, 3])\n"
    assert body["device"] == "cpu"
    assert isinstance(body["elapsed_ms"], float)


def test_a_raising_program_is_200_with_the_error_and_what_ran(client: TestClient) -> None:
    status, body = post(client, "a = torch.ones(2, 3)\nprint('before')\ntorch.mm(a, a)")
    assert status == 200 and body["ok"] is False
    assert body["error"]["type"] == "RuntimeError"
    assert body["error"]["line"] == 3
    assert "shapes cannot be multiplied" in body["error"]["message"]
    assert "columns" in body["error"]["hint"]
    assert body["stdout"] == "before\n"
    assert len(body["steps"]) == 2


def test_syntax_errors_and_refusals_are_400(client: TestClient) -> None:
    status, body = post(client, "x = (1,")
    assert status == 400 and body["error"]["type"] == "SyntaxError"
    status, body = post(client, "torch.load('x.pt')")
    assert status == 400 and body["error"]["type"] == "ForbiddenError"
    assert "torch.load" in body["error"]["message"]


def test_limits_known_before_running_are_413(client: TestClient, settings: Any) -> None:
    status, body = post(client, "x = 1\n" * (settings.max_source_chars // 6 + 1))
    assert status == 413 and body["error"]["type"] == "LimitError"
    status, body = post(client, "torch.zeros(1).expand(10**6, 10**6) + 1")
    assert status == 413
    assert "TB" in body["error"]["message"] and "max_call_bytes" in body["error"]["message"]


def test_nan_and_inf_are_strings_in_valid_json(client: TestClient) -> None:
    response = client.post("/eval", json={"code": "torch.tensor([1.0, float('nan'), "
                                                  "float('inf'), -float('inf')])"})
    assert response.status_code == 200
    body = json.loads(response.text)  # strict parse: no NaN literals
    assert body["result"]["values"] == [1.0, "nan", "inf", "-inf"]


def test_malformed_requests_are_422(client: TestClient) -> None:
    assert client.post("/eval", json={}).status_code == 422
    assert client.post("/eval", json={"code": "1", "device": "tpu"}).status_code == 422
    assert client.post("/eval", json={"code": "1", "extra": True}).status_code == 422
    assert client.post("/eval", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422


def test_deeply_nested_json_and_huge_bodies_are_4xx(client: TestClient) -> None:
    deep = b'{"code": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post("/eval", content=deep, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    huge = json.dumps({"code": "x = 1\n" * 100_000}).encode()
    response = client.post("/eval", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_the_job_carries_the_mark_of_the_check_and_a_client_cannot_send_one(
        client: TestClient, settings: Any) -> None:
    real = client.app.state.executor  # type: ignore[attr-defined]
    jobs: list[Any] = []

    class Recording:  # the real pool, with a look at what it is given
        async def run(self, job: Any) -> Any:
            jobs.append(job)
            return await real.run(job)

    client.app.state.executor = Recording()  # type: ignore[attr-defined]
    try:
        status, body = post(client, "torch.ones(2) * 3")
        refused, _ = post(client, "x = 1\nx._y")
    finally:
        client.app.state.executor = real  # type: ignore[attr-defined]
    assert status == 200 and body["result"]["values"] == [3.0, 3.0]
    assert refused == 400
    (job,) = jobs  # the refused program never reached the pool
    assert job.payload[CHECKED_MARK] == check_mark(settings)
    response = client.post("/eval", json={"code": "x = 1\nx._y",
                                          CHECKED_MARK: job.payload[CHECKED_MARK]})
    assert response.status_code == 422


def test_queue_full_is_503_with_retry_after(client: TestClient) -> None:
    class FullExecutor:
        async def run(self, job: Any) -> Any:
            raise QueueFullError(retry_after_s=3)

    real = client.app.state.executor  # type: ignore[attr-defined]
    client.app.state.executor = FullExecutor()  # type: ignore[attr-defined]
    try:
        response = client.post("/eval", json={"code": "1"})
    finally:
        client.app.state.executor = real  # type: ignore[attr-defined]
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["type"] == "QueueFullError"


def test_openapi_documents_eval_with_an_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/eval"]["post"]
    assert {"200", "400", "413", "422", "429", "503"} <= set(operation["responses"])
    request_schema = schema["components"]["schemas"]["EvalRequest"]
    assert "torch.mm" in request_schema["examples"][0]["code"]
    assert client.get("/docs").status_code == 200


def test_repeat_reports_timing_of_the_extra_runs(client: TestClient) -> None:
    status, body = post(client, "torch.stack((torch.ones(2), torch.zeros(2)))", repeat=5)
    assert status == 200
    timing = body["timing"]
    assert timing["repeats"] == 5
    assert 0 < timing["min_ms"] <= timing["median_ms"] <= timing["max_ms"]
    assert timing["spread_ms"] >= 0


def test_api_docs_are_served_offline_under_the_strict_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404
