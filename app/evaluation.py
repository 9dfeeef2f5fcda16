"""Evaluate one program: validate it here, run it in the sandbox, hand back the JSON body.

This is the one domain function behind both the JSON API and the HTML pages.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from app.config import Settings
from app.engine.errors import SandboxError
from app.engine.job import CHECKED_MARK
from app.engine.parser import check_mark, validate_program
from app.engine.program import from_json
from app.executor.base import Executor, Job, JobResult
from app.message import error_body
from app.schemas import EvalRequest


@dataclass
class EvalOutcome:
    """``status`` is the HTTP status for the JSON API; ``body`` the JSON document."""

    status: int
    body: bytes

    @cached_property
    def data(self) -> dict[str, Any]:
        """The document with shared values put back in every view (program.from_json)."""
        return from_json(self.body)


class _PassedPrograms:
    """Source texts that passed the check here, under which settings: a program sent again
    (a lesson's example, a rerun, a benchmark) is not parsed and checked again in this
    process. Only the very same text and the very same settings object match; a refusal is
    never kept. A worker checks again unless its rules are the same (check_mark,
    docs/SECURITY.md)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, Settings] = OrderedDict()

    def check(self, code: str, settings: Settings) -> None:
        if self._entries.get(code) is settings:
            self._entries.move_to_end(code)
            return
        validate_program(code, settings)
        if settings.parsed_program_cache_entries > 0:
            self._entries[code] = settings
            while len(self._entries) > settings.parsed_program_cache_entries:
                self._entries.popitem(last=False)


_passed = _PassedPrograms()


async def evaluate(executor: Executor, settings: Settings, request: EvalRequest,
                   owner: str = "") -> EvalOutcome:
    """``owner`` (a Caller's key) makes the wait for a worker fair between callers."""
    try:
        _passed.check(request.code, settings)
    except SandboxError as refused:
        body = error_body(refused.type_name, refused.said, refused.line, refused.hint_said)
        return EvalOutcome(refused.status, json.dumps(body).encode())
    # The mark of the check just passed: a worker checking under the same rules skips its own.
    payload = {**request.model_dump(), CHECKED_MARK: check_mark(settings)}
    job = Job(kind="eval", payload=payload, deadline_s=settings.deadline_s, owner=owner)
    result: JobResult = await executor.run(job)
    return EvalOutcome(result.status, result.body)
