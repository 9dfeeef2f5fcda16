"""Evaluate one program: validate it here, run it in the sandbox, hand back the JSON body.

This is the one domain function behind both the JSON API and the HTML pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from app.config import Settings
from app.engine.errors import SandboxError
from app.engine.parser import validate_program
from app.executor.base import Executor, Job, JobResult
from app.schemas import EvalRequest, error_body


@dataclass
class EvalOutcome:
    """``status`` is the HTTP status for the JSON API; ``body`` the JSON document."""

    status: int
    body: bytes

    @cached_property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


async def evaluate(executor: Executor, settings: Settings, request: EvalRequest,
                   owner: str = "") -> EvalOutcome:
    """``owner`` (a Caller's key) makes the wait for a worker fair between callers."""
    try:
        validate_program(request.code, settings)
    except SandboxError as refused:
        body = error_body(refused.type_name, refused.message, refused.line, refused.hint)
        return EvalOutcome(refused.status, json.dumps(body).encode())
    job = Job(kind="eval", payload=request.model_dump(), deadline_s=settings.deadline_s,
              owner=owner)
    result: JobResult = await executor.run(job)
    return EvalOutcome(result.status, result.body)
