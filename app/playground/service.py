"""What the playground routes call: run a program (or a compare pair) through the one
domain function ``app.evaluation.evaluate`` and gather what the page shows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.callers import Caller, caller_of
from app.config import Settings
from app.evaluation import evaluate
from app.executor.base import Executor, QueueFullError
from app.message import Message, Text, error_body
from app.playground import compare as compare_mod
from app.playground import export, permalink, presets
from app.playground.permalink import Share
from app.ratelimit import RateLimitedError, enforce_rate_limit
from app.schemas import EvalRequest
from app.validation import explain

DEFAULT_EXAMPLE = presets.EXAMPLES[0]
DEFAULT_PRESET = presets.COMPARE_PRESETS[0]


@dataclass
class Run:
    status: int
    data: dict[str, Any]
    code: str  # the program as run (compare: inputs + side), for the error card's line


@dataclass
class SharedPage:
    """A page whose program(s) travel in its permalink: the link's token and the same
    program(s) as a Python file."""

    share: Share

    @property
    def token(self) -> str:
        return permalink.encode(self.share)

    @property
    def python(self) -> str:
        return export.to_python(sections(self.share), self.share.seed, self.share.device)


@dataclass
class ScratchPage(SharedPage):
    run: Run | None = None
    example: str | None = None  # slug of the example the editor was loaded from
    examples: tuple[presets.Example, ...] = presets.EXAMPLES
    broken_link: bool = False  # a permalink that did not decode (often cut short when copied)


@dataclass
class ComparePage(SharedPage):
    preset: presets.ComparePreset | None
    comparison: compare_mod.Comparison | None = None
    presets: tuple[presets.ComparePreset, ...] = field(default=presets.COMPARE_PRESETS)
    repeat: int = compare_mod.REPEAT
    broken_link: bool = False  # a permalink that did not decode (often cut short when copied)


def sections(share: Share) -> list[export.Section]:
    """The program(s) of a share, as export sections."""
    if share.mode == "compare":
        return [("Left", compare_mod.join_program(share.inputs, share.left)),
                ("Right", compare_mod.join_program(share.inputs, share.right))]
    return [(None, share.code)]


def parse_seed(text: str | None) -> int | None:
    """A form's seed field; None when it is not a whole number in range."""
    try:
        seed = int((text or "0").strip())
    except ValueError:
        return None
    return seed if 0 <= seed < 2**32 else None


def share_from_form(fields: dict[str, str], mode: permalink.Mode
                    ) -> tuple[Share, Message | None]:
    """(share, problem) from a posted form; ``problem`` words an invalid setting."""
    seed = parse_seed(fields.get("seed"))
    device = fields.get("device", "auto")
    problem = None
    if seed is None:
        problem = Message("The seed must be a whole number from 0 to 4294967295.")
    elif device not in permalink.DEVICES:
        problem = Message("The device must be auto, cpu or cuda.")
    share = Share(mode=mode, code=fields.get("code", ""), inputs=fields.get("inputs", ""),
                  left=fields.get("left", ""), right=fields.get("right", ""),
                  seed=seed or 0, device=device if device in permalink.DEVICES else "auto")
    return share, problem


async def run_program(executor: Executor, settings: Settings, client: object, code: str,
                      seed: int, device: str, repeat: int = 1) -> Run:
    """Run one program for ``client`` (the request: its Caller is the rate-limit key, the
    same budget /eval draws on, and its place in the fair queue). Busy or rate-limited is a
    result too: an error card."""
    caller = client if isinstance(client, Caller) else caller_of(client)  # type: ignore[arg-type]
    try:
        enforce_rate_limit(caller, settings)
    except RateLimitedError as limited:
        return Run(429, error_body("RateLimitError", limited.said), code)
    try:
        request = EvalRequest(code=code, seed=seed, device=device,  # type: ignore[arg-type]
                              **({"repeat": repeat} if repeat > 1 else {}))
    except ValidationError as invalid:
        return Run(422, error_body("ValueError", explain(invalid.errors()[0])), code)
    try:
        outcome = await evaluate(executor, settings, request, owner=caller.key)
    except QueueFullError as busy:
        return Run(503, error_body("QueueFullError", busy.said), code)
    return Run(outcome.status, outcome.data, code)


def invalid_run(code: str, problem: Text) -> Run:
    return Run(422, error_body("ValueError", problem), code)


async def scratch_page(executor: Executor, settings: Settings, client: object, *,
                       token: str | None = None,
                       example: str | None = None, fields: dict[str, str] | None = None,
                       ) -> ScratchPage:
    """The scratchpad: from a posted form (run it), a permalink (run it: the link must
    reproduce the result) or an example (load it, not run)."""
    if fields is not None:
        share, problem = share_from_form(fields, "scratch")
        page = ScratchPage(share, example=fields.get("example") or None)
        page.run = (invalid_run(share.code, problem) if problem else await run_program(
            executor, settings, client, share.code, share.seed, share.device))
        return page
    shared = permalink.decode(token) if token else None
    if shared is not None and shared.mode == "scratch":
        page = ScratchPage(shared)
        page.run = await run_program(executor, settings, client, shared.code, shared.seed,
                                     shared.device)
        return page
    chosen = presets.example(example) or DEFAULT_EXAMPLE
    return ScratchPage(Share(code=chosen.code), example=chosen.slug,
                       broken_link=bool(token) and shared is None)


async def compare_page(executor: Executor, settings: Settings, client: object, *,
                       token: str | None = None,
                       preset: str | None = None, fields: dict[str, str] | None = None,
                       ) -> ComparePage:
    """Compare mode, from a posted form or a permalink (both run) or a preset (loaded)."""
    problem = None
    if fields is not None:
        share, problem = share_from_form(fields, "compare")
    else:
        shared = permalink.decode(token) if token else None
        if shared is None or shared.mode != "compare":
            chosen = presets.compare_preset(preset) or DEFAULT_PRESET
            share = Share(mode="compare", inputs=chosen.inputs, left=chosen.left,
                          right=chosen.right)
            return ComparePage(share, chosen, broken_link=bool(token) and shared is None)
        share = shared
    page = ComparePage(share, _matching_preset(share))
    left_code = compare_mod.join_program(share.inputs, share.left)
    right_code = compare_mod.join_program(share.inputs, share.right)
    if problem:
        left, right = invalid_run(left_code, problem), invalid_run(right_code, problem)
    else:
        # Both sides at once: the pool has several workers, and each side's timing is
        # measured inside its own worker, so running them together does not skew it much.
        left, right = await asyncio.gather(
            run_program(executor, settings, client, left_code, share.seed, share.device,
                        compare_mod.REPEAT),
            run_program(executor, settings, client, right_code, share.seed, share.device,
                        compare_mod.REPEAT))
    page.comparison = compare_mod.compare(
        compare_mod.Side(left.code, left.status, left.data),
        compare_mod.Side(right.code, right.status, right.data), share.inputs)
    return page


def _matching_preset(share: Share) -> presets.ComparePreset | None:
    return next((p for p in presets.COMPARE_PRESETS
                 if (p.inputs, p.left, p.right) == (share.inputs, share.left, share.right)),
                None)
