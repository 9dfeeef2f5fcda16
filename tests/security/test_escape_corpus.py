"""The corpus (corpus.py), run in the in-process sandbox: every case is refused as expected
and leaves the canary untouched. The sandbox is the same code a worker runs, minus the OS
limits; cases that need a real worker (kills, crashes, memory) are in test_worker_isolation.py.
"""

from __future__ import annotations

import json

import pytest

from app.engine.program import Sandbox, to_json
from tests.security.conftest import Canary
from tests.security.corpus import CASES, Case


def test_the_corpus_is_large_and_has_unique_names() -> None:
    names = [case.id for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused(case: Case, sandbox: Sandbox, intact: Canary) -> None:
    outcome = sandbox.run(intact.program(case.code))
    body = outcome.body
    assert body["ok"] is False, f"not refused: {json.dumps(body)[:400]}"
    error = body["error"]
    assert (outcome.status, error["type"]) == (case.status, case.type), error["message"]
    assert case.says in error["message"]
    # The refusal is still a valid JSON document, and never shows the canary.
    assert intact.token not in to_json(body).decode()
