"""Cases that need the real app and its worker pool (the session ``client``): the parent kills
a worker stuck in one long C call, a worker that dies (native crash, memory) is replaced and
the server keeps serving, the web process refuses malformed requests with a 4xx, and the
status codes of the corpus hold over HTTP. Every test checks that the canary is untouched."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from tests.security.conftest import Canary
from tests.security.corpus import CASES

# One C call that never returns to the interpreter: list.sort compares a million tensors from
# C (about 12 s on one core), so the cooperative deadline never runs and only the parent's
# kill stops it. Any single long call would do here.
LONG_SINGLE_CALL = "x = [torch.ones(1), torch.zeros(1)] * 500000\nx.sort()"
QUICK = "torch.arange(6).reshape(2, 3).sum()"


def post(client: TestClient, code: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/eval", json={"code": code, **extra})
    assert response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json()


def assert_serving(client: TestClient) -> None:
    """The next request succeeds, and the pool gets back to full strength."""
    status, body = post(client, QUICK)
    assert (status, body["ok"]) == (200, True), body
    assert body["result"]["value"] == 15 if body["result"]["kind"] == "scalar" else True
    executor = client.app.state.executor  # type: ignore[attr-defined]
    settings: Settings = executor.settings
    deadline = time.monotonic() + 60
    while executor.capacity().workers < settings.workers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert executor.capacity().workers == settings.workers


# One case of each kind, answered by the web process (parser) or by a worker (run time).
HTTP_CASES = [case for case in CASES if case.id in {
    "subclasses", "open-read", "torch-os", "torch-load", "tensor-apply", "percent-format-variable",
    "nested-brackets", "deep-unary", "huge-source", "bidi-in-comment", "zeros-huge",
    "collate-fn-torch-ones", "float-in-range", "len-huge-shuffle", "numpy-object-array",
}]


def test_http_cases_cover_each_kind() -> None:
    assert len(HTTP_CASES) == 15
    assert {(case.status, case.type) for case in HTTP_CASES} >= {
        (400, "ForbiddenError"), (400, "SyntaxError"), (413, "LimitError"), (200, "LimitError")}


@pytest.mark.parametrize("case", HTTP_CASES, ids=[case.id for case in HTTP_CASES])
def test_corpus_over_http(case: Any, client: TestClient, intact: Canary) -> None:
    status, body = post(client, intact.program(case.code))
    assert body["ok"] is False
    assert (status, body["error"]["type"]) == (case.status, case.type), body["error"]
    assert case.says in body["error"]["message"]
    assert intact.token not in json.dumps(body)


def test_a_single_long_c_call_is_killed_at_the_deadline(client: TestClient,
                                                        intact: Canary) -> None:
    settings: Settings = client.app.state.executor.settings  # type: ignore[attr-defined]
    started = time.monotonic()
    status, body = post(client, LONG_SINGLE_CALL)
    elapsed = time.monotonic() - started
    assert status == 200 and body["ok"] is False
    assert body["error"]["type"] == "TimeoutError"
    assert "was stopped; its sandbox process was replaced" in body["error"]["message"]
    assert elapsed < settings.deadline_s + settings.kill_grace_s + 5
    assert_serving(client)


def test_a_worker_that_crashes_natively_is_replaced(client: TestClient, intact: Canary) -> None:
    """A native crash (simulated: SIGSEGV sent to the worker mid-program; the storage tricks
    that crash torch for real are refused by the policy) ends that worker only."""
    executor = client.app.state.executor  # type: ignore[attr-defined]
    replies: list[tuple[int, dict[str, Any]]] = []
    sender = threading.Thread(target=lambda: replies.append(post(client, LONG_SINGLE_CALL)))
    sender.start()
    pid = None
    deadline = time.monotonic() + 10
    while pid is None and time.monotonic() < deadline:
        running = [h.worker for h in list(executor._handles.values()) if h.worker is not None]
        pid = running[0].process.pid if running else None
        time.sleep(0.02)
    assert pid is not None, "the program never reached a worker"
    time.sleep(0.3)  # inside the long call
    os.kill(pid, signal.SIGSEGV)
    sender.join(30)
    (status, body), = replies
    assert status == 200 and body["ok"] is False
    assert body["error"]["type"] == "WorkerCrash"
    assert "native code crashed (SIGSEGV)" in body["error"]["message"]
    assert_serving(client)


def test_python_memory_exhaustion_stops_the_program_not_the_server(client: TestClient,
                                                                   intact: Canary) -> None:
    """Python lists are not tensors: the budget does not count them, RLIMIT_AS does. Each
    list is 8 MB and allowed; 3,000 of them are 24 GB. Whichever comes first (the address
    space limit: "ran out of memory"; the deadline, on a machine slow to fault pages in), the
    program is stopped with a clear error and the server carries on."""
    status, body = post(client, "ys = [[0] * 10**6 for i in range(3000)]\nlen(ys)")
    assert status == 200 and body["ok"] is False
    error = body["error"]
    assert error["type"] in ("LimitError", "TimeoutError", "WorkerCrash"), error
    assert "out of memory" in error["message"] or "longer than" in error["message"] \
        or "stopped" in error["message"]
    assert_serving(client)


def test_a_refused_program_never_reaches_a_worker(client: TestClient, intact: Canary) -> None:
    executor = client.app.state.executor  # type: ignore[attr-defined]
    programs = sum(worker.programs for worker in executor._workers)
    status, body = post(client, intact.program("open('{canary}').read()"))
    assert status == 400 and body["error"]["type"] == "ForbiddenError"
    assert sum(worker.programs for worker in executor._workers) == programs


@pytest.mark.parametrize(("name", "content", "statuses"), [
    ("deeply-nested-json", b'{"code": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", {400, 422}),
    ("deeply-nested-object", b'{"code": "1", "x": ' + b'{"a":' * 30_000 + b"1" + b"}" * 30_000
     + b"}", {400, 422}),
    ("body-too-large", json.dumps({"code": "#" * 300_000}).encode(), {413}),
    ("not-json", b"code=torch.os", {422}),
    ("invalid-utf8", b'{"code": "\xff\xfe"}', {400, 422}),
    ("code-not-a-string", b'{"code": ["torch.os"]}', {422}),
    ("unknown-field", b'{"code": "1", "repeat": 1000}', {422}),
    ("seed-out-of-range", b'{"code": "1", "seed": -1}', {422}),
    ("device-unknown", b'{"code": "1", "device": "meta"}', {422}),
    ("no-code", b"{}", {422}),
    ("nul-in-code", b'{"code": "x = 1\\u0000"}', {400}),
])
def test_malformed_requests_are_4xx(name: str, content: bytes, statuses: set[int],
                                    client: TestClient, intact: Canary) -> None:
    response = client.post("/eval", content=content,
                           headers={"content-type": "application/json"})
    assert response.status_code in statuses, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    response.json()
