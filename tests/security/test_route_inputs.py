"""No input of any route is a server error.

Every route of ``app/routes`` is enumerated (not listed by hand), and Hypothesis fills its
inputs with hostile values: every field of a JSON body (nested ones too), every field of an
HTML form, every path and query parameter, every header parameter (Last-Event-ID) and the
headers every page reads (Accept-Language, Cookie, HX-*). Values: digit strings past the
4,300 digits int() accepts, 401-digit numbers that overflow float arithmetic, negatives,
floats, NaN/inf, empty strings, Unicode digits ('١٢٣'), very long strings and deeply nested
JSON. Each answer must be below 500.

Requests go through the session ``client`` (one worker pool for the suite). Training runs
are not started: the run registry is replaced by one that checks a spec's limits exactly as
the real one does (where a huge number once overflowed) and then answers with a run that
already ended, trained in this process once. The example counts keep the file well under a
minute.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import json
import pkgutil
import time
import typing
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import app.routes as route_package
from app.callers import Caller
from app.config import get_settings
from app.lessons import service as lesson_service
from app.lessons.loader import catalog
from app.lessons.models import ExampleSection, GuideCheckSection, Lesson, PlotSection
from app.playground import train_form
from app.playground.train_views import RECENT_COOKIE
from app.routes import runs
from app.training.job import run_training_job
from app.training.runs import Run, RunRegistry
from app.training.spec import TrainSpec, check_limits
from app.web import LANG_COOKIE

FUZZ = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

# --- the routes ---------------------------------------------------------------------------


def app_routes() -> list[tuple[str, APIRoute]]:
    """(method, route) of every route of every module of app/routes."""
    found = []
    for info in pkgutil.iter_modules(route_package.__path__):
        module = importlib.import_module(f"{route_package.__name__}.{info.name}")
        router = getattr(module, "router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute):
                found += [(method, route) for method in sorted(route.methods - {"HEAD"})]
    return found


ROUTES = app_routes()
ROUTE_IDS = [f"{method} {route.path}" for method, route in ROUTES]
JSON_ROUTES = [(m, r) for m, r in ROUTES if r.body_field is not None]
RUN_ID = "fuzzed-run"  # the one run the stand-in registry holds


def params(route: APIRoute, kind: str) -> list[str]:
    """The names (aliases) of a route's path, query or header parameters, its
    dependencies' included."""
    names: list[str] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names += [p.alias for p in getattr(dependant, f"{kind}_params")]
        pending += dependant.dependencies
    return names


def _first(kinds: type | tuple[type, ...]) -> tuple[Lesson, int]:
    for lesson in catalog().lessons:
        for index, section in enumerate(lesson.sections):
            if isinstance(section, kinds):
                return lesson, index
    raise AssertionError(f"no lesson has a {kinds}")


def _valid_path_params() -> dict[str, dict[str, str]]:
    """Path parameters that name something real, per route, so that a fuzzed form or
    header reaches the code behind the route rather than its 404."""
    example, example_at = _first((ExampleSection, GuideCheckSection))
    plot, plot_at = _first(PlotSection)
    exercise = next(lesson for lesson in catalog().lessons if lesson.exercises)
    calculator = next(lesson for lesson in catalog().lessons
                      if lesson_service.calculator_section(lesson) is not None)
    return {
        "/lessons/{lesson_id}/run/{index}": {"lesson_id": example.id, "index": str(example_at)},
        "/lessons/{lesson_id}/plot/{index}": {"lesson_id": plot.id, "index": str(plot_at)},
        "/lessons/{lesson_id}/check/{exercise_id}": {
            "lesson_id": exercise.id, "exercise_id": exercise.exercises[0].id},
        "/lessons/{lesson_id}/calculator": {"lesson_id": calculator.id},
        "/lessons/{lesson_id}": {"lesson_id": example.id},
    }


VALID_PATH_PARAMS = _valid_path_params()

# The HTML forms, read with app.web.form_fields rather than declared to FastAPI: for each
# form route, a valid submission whose fields are fuzzed. test_every_route_is_covered
# fails when a route that takes a body is neither JSON nor listed here.
FORMS: dict[str, dict[str, str]] = {
    "/run": {"code": "1 + 1", "seed": "0", "device": "cpu", "example": ""},
    "/compare/run": {"inputs": "x = 2", "left": "x + 1", "right": "x * 2", "seed": "0",
                     "device": "cpu"},
    "/lang": {"lang": "ja", "next": "/lessons"},
    "/train": dict(train_form.DEFAULTS),
    "/lessons/{lesson_id}/check/{exercise_id}": {"code": "1"},
    "/lessons/{lesson_id}/calculator": {"size": "100", "batch": "10", "epochs": "2",
                                        "drop_last": "on"},
    # An example runs as edited in place (or, with no field, as the lesson wrote it).
    "/lessons/{lesson_id}/run/{index}": {"code": "1 + 1"},
    # Buttons: no fields, but a body is still sent and must not matter.
    "/lessons/{lesson_id}/plot/{index}": {},
    "/train/runs/{run_id}/cancel": {},
    "/train/runs/{run_id}/{command}": {},
    "/runs/{run_id}/cancel": {},
    "/runs/{run_id}/pause": {},
    "/runs/{run_id}/resume": {},
    "/runs/{run_id}/step": {},
    # The classroom's forms (each also carries the CSRF field; without a session or a
    # matching cookie they are refused, which is what fuzzing them must keep true).
    "/teacher/login": {"username": "teacher", "password": "x" * 12, "next": "/teacher",
                       "csrf": "x"},
    "/teacher/logout": {"csrf": "x"},
    "/teacher/classes": {"name": "Class", "csrf": "x"},
    "/teacher/classes/{class_id}/{action}": {"name": "Class", "confirm": "Class", "open": "1",
                                             "archived": "1", "exercise": "x", "csrf": "x"},
    "/join": {"code": "ABCDEF", "name": "Student", "csrf": "x"},
    "/join/recover": {"recovery": "ABCDEFGHJKMN", "csrf": "x"},
    "/me/leave": {"csrf": "x"},
    "/teacher/keys": {"name": "Script", "class": "", "rate": "60", "runs": "1", "csrf": "x"},
    "/teacher/keys/{key_id}/revoke": {"csrf": "x"},
    "/teacher/classes/{class_id}/spotlight/set": {"student": "1", "csrf": "x"},
    "/teacher/classes/{class_id}/spotlight/clear": {"csrf": "x"},
    "/teacher/exercises": {"title": "T", "prompt_en": "Do it", "prompt_ja": "", "starter": "",
                           "solution": "y = 1", "params": "n: int 1..3", "seed": "0",
                           "target_0": "var", "name_0": "y", "compare_0": "values",
                           "rtol_0": "", "atol_0": "", "csrf": "x"},
    "/me/exercises/{exercise_id}/check": {"code": "y = 1", "csrf": "x"},
    "/teacher/exercises/{exercise_id}/delete": {"csrf": "x"},
}
FORMS["/teacher/exercises/{exercise_id}"] = FORMS["/teacher/exercises"]
FORM_ROUTES = [(m, r) for m, r in ROUTES if r.path in FORMS and m == "POST"]
CHECK_ROUTE = "/lessons/{lesson_id}/check/{exercise_id}"


def url_of(route: APIRoute, overrides: dict[str, str] | None = None) -> str:
    values = {"run_id": RUN_ID, "lesson_id": catalog().lessons[0].id, "index": "0",
              "exercise_id": "x", "class_id": "1", "student_id": "1", "action": "rename",
              "key_id": "1", **({"exercise_id": "1"} if "/exercises/" in route.path else {}),
              "command": "pause",
              **VALID_PATH_PARAMS.get(route.path, {}), **(overrides or {})}
    url = route.path
    for name in params(route, "path"):
        url = url.replace(f"{{{name}}}", quote(values[name], safe=""))
    return url


# --- hostile values -----------------------------------------------------------------------
HUGE = "9" * 5_000  # int() refuses more than 4,300 digits
LONG_TUPLE = "16, " * 1_000  # as a program: a result too long to show whole (truncated)
OVERFLOWING = "9" * 401  # an int past float's range: int * float raises OverflowError
TEXTS = [HUGE, "-" + HUGE, OVERFLOWING, "-" + OVERFLOWING, "1e999", "-1e999", "1e-999", "nan",
         "NaN", "inf", "-inf", "Infinity", "-1", "0", "-0", "1.5", "2147483648", "4294967296",
         "18446744073709551616", "0x10", "1_000", "+1", "١٢٣", "²", "", "   ", "\x00", "é",
         "a" * 100_000, "9" * 32, "9" * 33, LONG_TUPLE, "fc0=" + HUGE, "out=1e999",
         "==,,;;", "<b>x</b>", "%ZZ", "../..", "true", "null", "[]", "{}"]
text_values = st.one_of(st.sampled_from(TEXTS), st.text(max_size=30),
                        st.integers().map(str), st.floats().map(str))
# Tried in every single field as explicit examples (random draws would rarely put a given
# value into a given field); the random search then mixes everything.
CRITICAL_TEXTS = [HUGE, OVERFLOWING, "-" + OVERFLOWING, "1e999", "nan", "-inf", "١٢٣", "",
                  "a" * 100_000]

JSON_FRAGMENTS = [HUGE, "-" + HUGE, OVERFLOWING, "-" + OVERFLOWING, "1e400", "-1e400",
                  "NaN", "Infinity", "-Infinity", "-1", "0", "-0.0", "1.5", "2147483648",
                  "4294967296", "18446744073709551616", "null", "true", "false", '""',
                  json.dumps("١٢٣"), json.dumps(HUGE), json.dumps("nan"),
                  json.dumps("a" * 100_000), "[]", "{}", "[" * 5_000 + "]" * 5_000,
                  '{"a":' * 2_000 + "1" + "}" * 2_000, f"[{OVERFLOWING}, -1]",
                  f'{{"out": {OVERFLOWING}}}', json.dumps([16] * 1_000)]
json_values = st.one_of(st.sampled_from(JSON_FRAGMENTS), st.integers().map(str),
                        st.floats().map(json.dumps), st.text(max_size=30).map(json.dumps))
CRITICAL_JSON = [HUGE, OVERFLOWING, "-" + OVERFLOWING, "1e400", "NaN", json.dumps("١٢٣"),
                 json.dumps(HUGE), "[" * 5_000 + "]" * 5_000]

# A server refuses control characters in header values before the app sees them.
header_values = text_values.map(lambda v: "".join(c for c in v if c >= " ")[:20_000])

# --- the stand-in run registry -------------------------------------------------------------
TINY_RUN = {"dataset": {"name": "moons", "n_samples": 40}, "model": {"hidden": [4]},
            "epochs": 2, "batch_size": 16}


class NoTrainingRegistry(RunRegistry):
    """Checks a spec's limits like RunRegistry.create, then answers with the run it holds
    (which ended already) instead of starting a worker."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        spec = TrainSpec.model_validate(TINY_RUN)
        run = Run(id=RUN_ID, caller=Caller("anonymous", "testclient"), spec=spec,
                  plan=check_limits(spec, self.settings),
                  created_at=time.time(), created_mono=time.monotonic())
        events: list[dict[str, Any]] = []
        summary = run_training_job(spec.model_dump(mode="json"), events.append, lambda: False,
                                   self.settings)
        for event in events:  # as the worker's pipe delivers them: JSON, strictly
            run.record(json.loads(json.dumps(event, allow_nan=False)))
        run.finish(summary)
        self._runs[run.id] = run
        self.held = run

    async def create(self, spec: TrainSpec, caller: Caller) -> Run:
        check_limits(spec, self.settings)
        return self.held

    def delete(self, run_id: str) -> None:
        self.get(run_id)  # 404 for another id; the held run stays for the other cases


@pytest.fixture(scope="module")
def fuzz_client(client: TestClient) -> Iterator[TestClient]:
    app = client.app
    registry = NoTrainingRegistry(app.state.executor, get_settings())  # type: ignore[attr-defined]

    async def stand_in() -> RunRegistry:
        return registry

    app.dependency_overrides[runs.get_registry] = stand_in  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        app.dependency_overrides.pop(runs.get_registry, None)  # type: ignore[attr-defined]
        client.cookies.clear()


def with_examples(test: Any, examples: list[tuple[Any, ...]]) -> Any:
    """``test`` with each argument tuple as an explicit Hypothesis example (always run,
    before the random ones)."""
    for arguments in examples:
        test = example(*arguments)(test)
    return test


def answer(client: TestClient, method: str, url: str, *, headers: dict[str, str] | None = None,
           **kwargs: Any) -> int:
    client.cookies.clear()
    # As UTF-8 bytes: httpx would refuse a str header value outside ASCII.
    raw = {name: value.encode() for name, value in (headers or {}).items()}
    response = client.request(method, url, follow_redirects=False, headers=raw, **kwargs)
    assert response.status_code < 500, (method, url[:200], response.text[:500])
    return response.status_code


# --- the tests ----------------------------------------------------------------------------
def test_every_route_is_covered() -> None:
    from app.main import create_app

    paths = {route.path for _, route in ROUTES}
    assert {"/eval", "/runs", "/train", "/run", "/runs/{run_id}/events"} <= paths
    documented = {(method.upper(), path)
                  for path, item in create_app().openapi()["paths"].items() for method in item}
    assert documented <= {(m, r.path) for m, r in ROUTES}, "a documented route was not found"
    for method, route in ROUTES:
        if method != "GET" and route.body_field is None and method != "DELETE":
            assert route.path in FORMS, f"{method} {route.path}: list its form fields in FORMS"
    assert set(FORMS) <= paths


def json_paths(model: type[BaseModel], prefix: tuple[str | int, ...] = ()
               ) -> list[tuple[str | int, ...]]:
    """Every field of a JSON body, nested models' fields and container items included."""
    found: list[tuple[str | int, ...]] = []
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        found.append(path)
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += json_paths(kind, path)
        elif typing.get_origin(kind) in (list, tuple):
            found.append((*path, 0))
        elif typing.get_origin(kind) is dict:
            found.append((*path, "out"))
    return found


def _put(document: dict[str, Any], path: tuple[str | int, ...], value: str) -> None:
    node: Any = document
    for key, after in itertools.pairwise(path):
        child = node[key] if isinstance(node, list) else node.get(key)
        if not isinstance(child, dict | list):
            child = [None] if isinstance(after, int) else {}
            node[key] = child
        node = child
        if isinstance(after, int) and isinstance(node, list) and len(node) <= after:
            node.extend([None] * (after + 1 - len(node)))
    node[path[-1]] = value


def json_body(base: dict[str, Any], replacements: list[tuple[tuple[str | int, ...], str]]
              ) -> str:
    """``base`` as JSON text with the fields at the given paths replaced by raw JSON
    fragments (text: json.dumps refuses some of them, such as a 5,000-digit number)."""
    document = copy.deepcopy(base)
    for i, (path, _) in enumerate(replacements):
        _put(document, path, f"@fuzz{i}@")
    text = json.dumps(document)
    for i, (_, fragment) in enumerate(replacements):
        text = text.replace(json.dumps(f"@fuzz{i}@"), fragment)
    return text


@pytest.mark.parametrize(("method", "route"), JSON_ROUTES,
                         ids=[f"{m} {r.path}" for m, r in JSON_ROUTES])
def test_json_fields(fuzz_client: TestClient, method: str, route: APIRoute) -> None:
    model = route.body_field.field_info.annotation  # type: ignore[union-attr]
    examples = (model.model_config.get("json_schema_extra") or {}).get("examples", [{}])
    base = dict(examples[0])
    fields = json_paths(model)

    @settings(FUZZ, max_examples=40)
    @given(st.lists(st.tuples(st.sampled_from(fields), json_values), min_size=1, max_size=3),
           st.integers(0, 5))
    def check(replacements: list[tuple[tuple[str | int, ...], str]], whole: int) -> None:
        # Now and then the whole body is the hostile fragment (a number, a deep list ...).
        body = replacements[0][1] if whole == 0 else json_body(base, replacements)
        answer(fuzz_client, method, url_of(route), content=body,
               headers={"content-type": "application/json"})

    # One field at a time, the rest valid: a spec whose other fields fail never reaches
    # the arithmetic a huge value once broke (plan() runs only on an otherwise valid spec).
    with_examples(check, [([(path, value)], 1) for path in fields for value in CRITICAL_JSON])()


@pytest.mark.parametrize(("method", "route"), FORM_ROUTES,
                         ids=[f"{m} {r.path}" for m, r in FORM_ROUTES])
def test_form_fields(fuzz_client: TestClient, method: str, route: APIRoute) -> None:
    valid = FORMS[route.path]
    names = sorted(valid) or ["anything"]

    @settings(FUZZ, max_examples=25 if valid else 5)
    @given(st.dictionaries(st.sampled_from(names), text_values, min_size=1, max_size=3),
           st.booleans())
    def check(changes: dict[str, str], htmx: bool) -> None:
        headers = {"hx-request": "true"} if htmx else {}
        answer(fuzz_client, method, url_of(route), data={**valid, **changes}, headers=headers)

    with_examples(check, [({name: value}, False) for name in names
                          for value in CRITICAL_TEXTS])()


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=ROUTE_IDS)
def test_path_query_and_header_params(fuzz_client: TestClient, method: str,
                                      route: APIRoute) -> None:
    path_names = params(route, "path")
    query_names = params(route, "query")
    header_names = params(route, "header")
    valid_form = FORMS.get(route.path)

    @settings(FUZZ, max_examples=10)
    @given(st.dictionaries(st.sampled_from(path_names or ["-"]), text_values, max_size=2),
           st.dictionaries(st.sampled_from(query_names or ["-"]), text_values, max_size=2),
           st.dictionaries(st.sampled_from(header_names or ["-"]), header_values, max_size=1))
    def check(path: dict[str, str], query: dict[str, str], header: dict[str, str]) -> None:
        kwargs: dict[str, Any] = {}
        if valid_form is not None:
            kwargs["data"] = valid_form
        if route.body_field is not None:
            kwargs["json"] = {}
        answer(fuzz_client, method, url_of(route, {k: v for k, v in path.items() if k != "-"}),
               params={k: v for k, v in query.items() if k != "-"},
               headers={k: v for k, v in header.items() if k != "-"}, **kwargs)

    # Header values the way a server passes them: no control characters, bounded.
    critical = [v[:20_000] for v in CRITICAL_TEXTS]
    with_examples(check, [
        *(({name: value}, {}, {}) for name in path_names for value in critical),
        *(({}, {name: value}, {}) for name in query_names for value in critical),
        *(({}, {}, {name: value}) for name in header_names for value in critical),
    ])()


PAGES = [("GET", "/lessons"), ("GET", "/train"), ("GET", f"/train/runs/{RUN_ID}"),
         ("GET", "/train/compare"), ("GET", "/docs")]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_headers_every_page_reads(fuzz_client: TestClient, method: str, url: str) -> None:
    @settings(FUZZ, max_examples=15)
    @given(header_values, header_values, header_values, st.sampled_from(["true", "false", ""]))
    def check(language: str, lang_cookie: str, recent: str, htmx: str) -> None:
        cookie = f"{LANG_COOKIE}={quote(lang_cookie)}; {RECENT_COOKIE}={quote(recent)}"
        answer(fuzz_client, method, url, headers={
            "accept-language": language, "cookie": cookie, "hx-request": htmx,
            "hx-history-restore-request": htmx, "hx-current-url": language})

    check()


# --- the cases that were 500s, pinned ------------------------------------------------------
def test_huge_numbers_once_500_are_4xx(fuzz_client: TestClient) -> None:
    spec = json_body(TrainSpec.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                     [(("dataset", "n_samples"), OVERFLOWING)])
    assert answer(fuzz_client, "POST", "/runs", content=spec,
                  headers={"content-type": "application/json"}) == 422
    page = fuzz_client.post("/train", data={**train_form.DEFAULTS, "hidden": HUGE})
    assert page.status_code == 200 and "too long for a number" in page.text
    events = fuzz_client.get(f"/runs/{RUN_ID}/events", headers={"last-event-id": HUGE})
    assert events.status_code == 200 and events.text.startswith("id: 0\n")


def test_a_long_non_tensor_result_of_an_exercise(fuzz_client: TestClient) -> None:
    """A truncated tuple has no shape: its folded result card says so without one (the
    template read view.shape of every truncated result, a 500)."""
    route = next(r for _, r in FORM_ROUTES if r.path == CHECK_ROUTE)
    assert answer(fuzz_client, "POST", url_of(route), data={"code": LONG_TUPLE}) == 200
