"""The app's job kinds and the executor backend that runs them: wiring, nothing else.

The executor imports no domain package; this table tells it which function a worker runs
for each kind of job. No request can choose a kind: routes build their jobs themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from app.config import Settings
from app.executor.base import Executor
from app.executor.handlers import HandlerSpecs
from app.executor.local import LocalExecutor

JOB_HANDLERS: HandlerSpecs = {
    "eval": "app.engine.job:run_eval",
    "train": "app.training.job:handle_train_job",
}

# Imported once by the local backend's forkserver, so every worker forks warm.
PRELOAD: tuple[str, ...] = ("app.engine.job", "app.training.job", "app.engine.prewarm")




def _local(settings: Settings, handlers: HandlerSpecs) -> Executor:
    return LocalExecutor(settings, handlers, preload=PRELOAD)


def _ray(settings: Settings, handlers: HandlerSpecs) -> Executor:
    # Imported only when chosen: ray is the optional extra [ray].
    try:
        from app.executor.ray_backend import RayExecutor
    except ImportError as missing:
        raise ValueError(f"executor_backend 'ray' needs Ray, which is not installed ({missing})"
                         "; install the extra: pip install -e '.[ray]'") from None

    return RayExecutor(settings, handlers)


# Every backend, by the name the setting executor_backend uses. tests/executor's conformance
# suite runs against each one listed here.
BACKENDS: dict[str, Callable[[Settings, HandlerSpecs], Executor]] = {"local": _local, "ray": _ray}


def make_executor(settings: Settings, handlers: HandlerSpecs = JOB_HANDLERS) -> Executor:
    """The backend ``settings.executor_backend`` names, running ``handlers``."""
    try:
        factory = BACKENDS[settings.executor_backend]
    except KeyError:
        raise ValueError(f"unknown executor backend {settings.executor_backend!r} (setting "
                         f"executor_backend; this build has: {', '.join(BACKENDS)})") from None
    return factory(settings, handlers)
