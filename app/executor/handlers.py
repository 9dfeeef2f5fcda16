"""Job handlers: what a worker does for each job kind, registered by the app.

A handler is named as ``"package.module:function"`` so that the executor imports no domain
package itself and the name crosses to a worker (or another machine) as plain text. The
worker imports every handler before its OS layer locks it down; a handler module may also
define ``warm_up(settings)``, run once at the same time, so the first real job is fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.config import Settings


@dataclass(frozen=True)
class JobContext:
    """What a handler may use besides its payload."""

    settings: Settings
    deadline_s: float
    # Sends one progress event (plain JSON data) to whoever follows the job.
    emit: Callable[[dict[str, Any]], None]
    # True once the job was cancelled; long handlers check it between steps.
    should_stop: Callable[[], bool]
    # The control commands sent to the job since the last call (Executor.control), waiting
    # up to the given seconds for one when none is there. Only handlers that can pause
    # (training runs) call it.
    controls: Callable[[float], list[str]] = lambda wait_s: []


# (HTTP status, JSON body) of the job's result.
Handler = Callable[[dict[str, Any], JobContext], tuple[int, bytes]]
# kind -> "module:function"
HandlerSpecs = Mapping[str, str]


class HandlerSpecError(ValueError):
    pass


def load_handler(spec: str) -> tuple[Handler, Any]:
    """The handler ``spec`` names and its module (whose ``warm_up`` may be called)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise HandlerSpecError(f"a job handler is named 'module:function', not {spec!r}")
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise HandlerSpecError(f"{spec!r} is not a function")
    return handler, module


def load_handlers(specs: HandlerSpecs) -> dict[str, Handler]:
    return {kind: load_handler(spec)[0] for kind, spec in specs.items()}


def warm_up_all(specs: HandlerSpecs, settings: Settings) -> None:
    seen: set[str] = set()
    for spec in specs.values():
        _, module = load_handler(spec)
        warm_up = getattr(module, "warm_up", None)
        if callable(warm_up) and module.__name__ not in seen:
            seen.add(module.__name__)
            warm_up(settings)
