"""The handler table: what a worker may run is fixed by the app's code, never by a request."""

from __future__ import annotations

import sys

import pytest

from app.config import Settings
from app.executor.handlers import HandlerSpecError, load_handler
from app.jobs import JOB_HANDLERS, make_executor


def test_the_app_registers_exactly_its_two_kinds() -> None:
    # The OS layer's self-test kind exists only in the test pools (test_os_layer.py).
    assert set(JOB_HANDLERS) == {"eval", "train"}
    for spec in JOB_HANDLERS.values():
        handler, module = load_handler(spec)
        assert callable(handler) and module.__name__.startswith("app.")


@pytest.mark.parametrize("spec", ["app.engine.job", "app.engine.job:", ":run_eval",
                                  "app.engine.job:WARM_UP_PROGRAM"])
def test_a_malformed_handler_name_is_refused_before_any_worker_starts(spec: str) -> None:
    with pytest.raises(HandlerSpecError):
        load_handler(spec)
    with pytest.raises(HandlerSpecError):
        make_executor(Settings(workers=1), {"eval": spec})


def test_an_unknown_backend_names_the_setting() -> None:
    settings = Settings.model_construct(**{**Settings().model_dump(), "executor_backend": "k8s"})
    with pytest.raises(ValueError, match="executor_backend; this build has: local, ray"):
        make_executor(settings)


def test_the_ray_backend_without_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails, as when not installed
    monkeypatch.delitem(sys.modules, "app.executor.ray_backend", raising=False)
    with pytest.raises(ValueError, match=r"needs Ray, which is not installed.*pip install -e "
                                         r"'\.\[ray\]'"):
        make_executor(Settings(workers=1, executor_backend="ray"))
