"""API keys and the spotlight through HTTP (the real app and worker pool), on SQLite and
PostgreSQL: a key is shown once and stored hashed, resolves to its own Caller with its own
limits, and is refused (401) once revoked; the projector shows a program without a name."""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from app import ratelimit
from app.callers import Caller, caller_of
from app.classroom.db import database_for
from app.classroom.models import ApiKey
from app.config import Settings
from app.lessons.loader import catalog
from tests.classroom import test_routes
from tests.classroom.test_routes import (
    EXERCISE,
    LESSON,
    SCRIPT,
    _join,
    create_class,
    csrf_of,
    login,
)

# The route tests' fixtures: this test's database (each kind) behind the session's app.
settings_for = test_routes.settings_for
web = test_routes.web

KEY = re.compile(r"tpk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def make_key(web: TestClient, name: str = "grader", rate: int = 60, runs: int = 2,
             class_id: int | None = None) -> str:
    answer = web.post("/teacher/keys", data={
        "csrf": csrf_of(web, "/teacher/keys"), "name": name, "rate": str(rate),
        "runs": str(runs), "class": "" if class_id is None else str(class_id)})
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found = KEY.findall(answer.text)
    assert len(found) == 1
    return found[0]


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_keys_are_shown_once_stored_hashed_and_listed(web: TestClient,
                                                      settings_for: Settings) -> None:
    login(web)
    key = make_key(web, SCRIPT)
    listing = web.get("/teacher/keys").text
    assert key not in listing and key[:12] in listing  # the prefix, never the key again
    assert SCRIPT not in listing and "&lt;script&gt;" in listing
    assert "never" in listing  # not used yet
    with database_for(settings_for).session() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.secret_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key[13:] not in " ".join(str(getattr(stored, c.name))
                                        for c in ApiKey.__table__.columns)
    assert web.post("/eval", json={"code": "1 + 1"}, headers=bearer(key)).json()["ok"]
    assert "never" not in web.get("/teacher/keys").text  # its last use is shown

    web.cookies.set("lang", "ja")
    assert "API キー" in web.get("/teacher/keys").text
    web.cookies.delete("lang")


def test_only_a_teacher_with_the_form_token_creates_or_revokes_keys(web: TestClient) -> None:
    form = {"name": "k", "rate": "60", "runs": "1", "class": ""}
    # Anonymous: a redirect to the login for the page, 403 for the form.
    assert web.get("/teacher/keys", follow_redirects=False).status_code == 303
    assert web.post("/teacher/keys", data={**form, "csrf": csrf_of(web, "/join")}
                    ).status_code == 403
    login(web)
    _, code = create_class(web)
    # A teacher without the CSRF token (another site's form): refused.
    assert web.post("/teacher/keys", data=form).status_code == 403
    assert web.post("/teacher/keys", data={**form, "csrf": "guess"}).status_code == 403
    key = make_key(web)
    key_id = re.search(r"/teacher/keys/(\d+)/revoke", web.get("/teacher/keys").text)
    assert key_id
    revoke = f"/teacher/keys/{key_id.group(1)}/revoke"
    assert web.post(revoke).status_code == 403
    # Bounds come back with the fix.
    refused = web.post("/teacher/keys", data={**form, "rate": "100000",
                                              "csrf": csrf_of(web, "/teacher/keys")})
    assert refused.status_code == 400 and "1 to 600 requests per minute" in refused.text
    # A student's seat is no login.
    web.cookies.clear()
    _join(web, code, "Aiko")
    assert web.get("/teacher/keys", follow_redirects=False).status_code == 303
    assert web.post("/teacher/keys", data={**form, "csrf": csrf_of(web, "/me")}
                    ).status_code == 403
    assert web.post(revoke, data={"csrf": csrf_of(web, "/me")}).status_code == 403
    # Another teacher's key looks like none.
    web.cookies.clear()
    login(web, "suzuki")
    assert web.post(revoke, data={"csrf": csrf_of(web, "/teacher/keys")}).status_code == 404
    assert web.post("/eval", json={"code": "1"}, headers=bearer(key)).status_code == 200


def test_a_wrong_or_revoked_key_is_401_with_the_error_body(web: TestClient) -> None:
    login(web)
    key = make_key(web)
    wrong = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    for presented in (wrong, "tpk_nonsense", "x"):
        answer = web.post("/eval", json={"code": "1"}, headers=bearer(presented))
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        error = answer.json()["error"]
        assert answer.json()["ok"] is False and error["type"] == "AuthenticationError"
        assert "not valid" in error["message"] and "/teacher/keys" in error["hint"]
    page = web.get("/teacher/keys").text
    key_id = re.search(r"/teacher/keys/(\d+)/revoke", page)
    assert key_id
    web.post(f"/teacher/keys/{key_id.group(1)}/revoke",
             data={"csrf": csrf_of(web, "/teacher/keys")})
    assert "revoked" in web.get("/teacher/keys").text
    for path, body in (("/eval", {"code": "1"}), ("/runs", {})):
        answer = web.post(path, json=body, headers=bearer(key))
        assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]
    # Without a header, nothing changes: anonymous use as before.
    web.cookies.clear()
    assert web.post("/eval", json={"code": "1 + 1"}).status_code == 200


def _caller(web: TestClient, key: str) -> Caller:
    request = Request({"type": "http", "app": web.app, "client": ("10.0.0.7", 1234),
                       "headers": [(b"authorization", f"Bearer {key}".encode())]})
    return caller_of(request)


def test_each_key_is_a_caller_with_its_own_limits(web: TestClient) -> None:
    ratelimit._limiters.clear()  # key ids repeat across the two databases' runs
    login(web)
    class_id, _ = create_class(web)
    slow, fast = make_key(web, "slow", rate=2, runs=0), make_key(web, "fast", rate=100,
                                                                  class_id=class_id)
    slow_caller, fast_caller = _caller(web, slow), _caller(web, fast)
    assert (slow_caller.kind, slow_caller.class_id, slow_caller.rate_limit_per_minute,
            slow_caller.max_runs) == ("api_key", None, 2, 0)
    assert fast_caller.class_id == str(class_id) and fast_caller.key != slow_caller.key
    web.cookies.clear()  # the key alone, as a script sends it
    statuses = [web.post("/eval", json={"code": "1"}, headers=bearer(slow)).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    # The other key (and anonymous use) have buckets of their own.
    assert web.post("/eval", json={"code": "1"}, headers=bearer(fast)).status_code == 200
    assert web.post("/eval", json={"code": "1"}).status_code == 200
    # A key with a run quota of 0 may not train; another key may.
    refused = web.post("/runs", json={}, headers=bearer(slow))
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "TooManyRunsError"
    assert "this API key may not start training runs" in refused.json()["error"]["message"]
    started = web.post("/runs", json={}, headers=bearer(fast))
    assert started.status_code == 201, started.text
    web.post(f"{started.json()['cancel_url']}", headers=bearer(fast))


def _class_with_attempts(web: TestClient) -> tuple[int, dict[str, str]]:
    """A class with a student named SCRIPT who checked a wrong program, then a right one."""
    exercise = catalog().get(LESSON).exercise(EXERCISE)
    login(web)
    class_id, code = create_class(web)
    web.post(f"/teacher/classes/{class_id}/assignments",
             data={"csrf": csrf_of(web, "/teacher/classes"), "exercise": f"{LESSON}/{EXERCISE}"})
    teacher = dict(web.cookies)
    web.cookies.clear()
    _join(web, code, SCRIPT)
    check = f"/lessons/{LESSON}/check/{EXERCISE}"
    web.post(check, data={"code": "x = torch.tensor(1) +"})
    web.post(check, data={"code": exercise.solution + "\n# <b>mine</b>"})
    _join(web, code, "Quiet")  # joined, checked nothing
    web.cookies.clear()
    web.cookies.update(teacher)
    return class_id, teacher


def test_spotlight_shows_the_program_without_the_name(web: TestClient) -> None:
    class_id, teacher = _class_with_attempts(web)
    projector = f"/teacher/classes/{class_id}/spotlight"
    assert "Nothing in the spotlight" in web.get(projector).text
    board = web.get(f"/teacher/classes/{class_id}").text
    # One Spotlight button: the student who checked something; it opens the projector window.
    assert board.count(f'action="{projector}/set"') == 1 and 'target="projector"' in board
    student_id = re.search(r'name="student" value="(\d+)"', board)
    assert student_id
    token = csrf_of(web, "/teacher/classes")
    assert web.post(f"{projector}/set", data={"student": student_id.group(1)}).status_code == 403
    answer = web.post(f"{projector}/set", data={"csrf": token, "student": student_id.group(1)})
    assert answer.status_code == 200 and str(answer.url).endswith(projector)
    page = answer.text
    assert "# &lt;b&gt;mine&lt;/b&gt;" in page and "<b>mine</b>" not in page
    assert "Solved: the check passed." in page
    assert SCRIPT not in page and "&lt;script&gt;" not in page  # no name, escaped or not
    assert 'hx-trigger="every 5s"' in page and "data-poll-while-visible" in page
    fragment = web.get(projector, headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="projector"') and "mine" in fragment
    # The student who checked nothing has nothing to show.
    quiet = int(student_id.group(1)) + 1
    refused = web.post(f"{projector}/set", data={"csrf": token, "student": str(quiet)})
    assert refused.status_code == 400 and "nothing to show" in refused.text
    web.cookies.set("lang", "ja")
    assert "正解です" in web.get(projector).text
    web.cookies.delete("lang")

    # Nobody else sees it or sets it: another teacher (404), a student or anonymous.
    web.cookies.clear()
    login(web, "suzuki")
    assert web.get(projector).status_code == 404
    assert web.post(f"{projector}/clear", data={"csrf": csrf_of(web, "/teacher/classes")}
                    ).status_code == 404
    web.cookies.clear()
    answer = web.get(projector, follow_redirects=False)
    assert answer.status_code == 303 and "mine" not in answer.text
    assert web.post(f"{projector}/clear", data={"csrf": csrf_of(web, "/join")}
                    ).status_code == 403

    web.cookies.update(teacher)
    cleared = web.post(f"{projector}/clear", data={"csrf": csrf_of(web, "/teacher/classes")})
    assert cleared.status_code == 200 and "Nothing in the spotlight" in cleared.text


@pytest.mark.parametrize("student", ["abc", "999999"])
def test_spotlight_of_no_such_student_is_refused(web: TestClient, student: str) -> None:
    login(web)
    class_id, _ = create_class(web)
    answer = web.post(f"/teacher/classes/{class_id}/spotlight/set",
                      data={"csrf": csrf_of(web, "/teacher/classes"), "student": student})
    assert answer.status_code == 400 and "nothing to show" in answer.text
