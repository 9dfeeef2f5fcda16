"""What a worker answers when a job itself cannot (app/executor/answers.py): the same
envelope from both backends, and a response over max_response_bytes replaced in a real
pool."""

from __future__ import annotations

import json

from app.executor import answers
from app.executor.base import Job
from tests.executor.test_os_layer import in_a_pool


def _error(answer: tuple[int, bytes]) -> tuple[int, dict[str, object]]:
    status, body = answer
    document = json.loads(body)
    assert document["ok"] is False and document["steps"] == [] and document["stdout"] == ""
    return status, document["error"]


def test_an_unknown_kind_is_400_and_names_it() -> None:
    status, error = _error(answers.unknown_kind("selftest"))
    assert status == 400
    assert error == {"type": "ValueError", "message": "unknown job kind 'selftest'",
                     "line": None, "hint": None}


def test_a_handlers_failure_names_the_job_and_the_exception_class_only() -> None:
    status, error = _error(answers.handler_failed("train", KeyError("a secret path")))
    assert status == 200 and error["type"] == "InternalError"
    assert error["message"] == "the train job failed inside the sandbox (KeyError)"
    assert error["hint"] == "Please report what you ran."


def test_a_body_within_the_limit_passes_as_it_is() -> None:
    body = b'{"ok": true}'
    assert answers.within_size(201, body, len(body)) == (201, body)
    status, error = _error(answers.within_size(201, body, len(body) - 1))
    assert status == 200 and error["type"] == "LimitError"
    assert error["message"] == ("the response would be 12 bytes; the limit is 11 (setting "
                                "max_response_bytes)")


def test_a_worker_replaces_a_response_over_the_limit() -> None:
    job = Job("eval", {"code": "torch.zeros(50, 50)", "seed": 0, "device": "auto",
                       "repeat": 1}, 30.0)
    ((status, body),), _ = in_a_pool([job], self_test=False, max_response_bytes=1_000)
    assert status == 200 and body["ok"] is False
    assert body["error"]["type"] == "LimitError"
    assert "the limit is 1,000 (setting max_response_bytes)" in body["error"]["message"]
