"""The classroom through HTTP (the real app and worker pool), against an SQLite file and a
real PostgreSQL: login and sessions, CSRF, classes, joining, attempts, the dashboard."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.requests import Request

from app.callers import Caller, caller_of
from app.classroom import service, signing
from app.classroom.db import database_for
from app.classroom.models import Attempt
from app.config import Settings, get_settings
from app.lessons.loader import catalog
from app.routes import classroom as classroom_routes
from app.routes.classroom import classroom_identity

PASSWORD = "correct horse battery"
SCRIPT = '<script>alert("x")</script>'
LESSON, EXERCISE = "stack-vs-cat", "make-a-batch"


@pytest.fixture
def settings_for(database_url: str, tmp_path: Path) -> Settings:
    return get_settings().model_copy(update={
        "database_url": database_url, "data_dir": str(tmp_path),
        "classroom_login_per_minute": 10_000, "classroom_join_per_minute": 10_000})


@pytest.fixture
def web(client: TestClient, settings_for: Settings) -> Iterator[TestClient]:
    """The session's app, pointed at this test's database, with an empty cookie jar."""
    client.app.dependency_overrides[get_settings] = lambda: settings_for
    client.cookies.clear()
    with database_for(settings_for).session() as session:
        service.create_teacher(session, "tanaka", PASSWORD)
        service.create_teacher(session, "suzuki", PASSWORD)
    yield client
    client.cookies.clear()
    client.app.dependency_overrides.pop(get_settings, None)


def csrf_of(web: TestClient, page: str = "/teacher/login") -> str:
    html = web.get(page, follow_redirects=False).text
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(web: TestClient, user: str = "tanaka", password: str = PASSWORD) -> int:
    token = csrf_of(web)
    answer = web.post("/teacher/login", data={"csrf": token, "username": user,
                                              "password": password}, follow_redirects=False)
    return answer.status_code


def create_class(web: TestClient, name: str = "Period 3") -> tuple[int, str]:
    answer = web.post("/teacher/classes", data={"csrf": csrf_of(web, "/teacher/classes"),
                                                "name": name}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    class_id = int(answer.headers["location"].rsplit("/", 1)[1])
    page = web.get(f"/teacher/classes/{class_id}").text
    code = re.search(r'<code>([A-Z0-9]{6})</code>', page)
    assert code
    return class_id, code.group(1)


def test_login_sets_a_hardened_cookie_and_logout_ends_it(web: TestClient) -> None:
    assert web.get("/teacher/classes", follow_redirects=False).headers["location"] \
        == "/teacher/login?next=/teacher/classes"
    assert login(web, password="wrong password") == 401
    token = csrf_of(web)
    answer = web.post("/teacher/login", data={"csrf": token, "username": "tanaka",
                                              "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303
    cookie = next(h for h in answer.headers.get_list("set-cookie")
                  if h.startswith("teacher_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    stolen = web.cookies.get("teacher_session")
    assert web.get("/teacher/classes").status_code == 200
    web.post("/teacher/logout", data={"csrf": token})
    # Logging out ends every copy of the cookie, not just the browser's.
    web.cookies.set("teacher_session", stolen)
    assert web.get("/teacher/classes", follow_redirects=False).status_code == 303


def test_expired_or_forged_session_is_refused(web: TestClient, settings_for: Settings) -> None:
    key = signing.secret_key(settings_for)
    web.cookies.set("teacher_session", signing.sign(key, "t1g0", -10))
    assert web.get("/teacher/classes", follow_redirects=False).status_code == 303
    web.cookies.set("teacher_session", signing.sign(b"another key", "t1g0", 3600))
    assert web.get("/teacher/classes", follow_redirects=False).status_code == 303
    web.cookies.set("teacher_session", signing.sign(key, "t1g0", 3600))
    assert web.get("/teacher/classes", follow_redirects=False).status_code == 200


def test_state_changing_forms_need_the_csrf_token(web: TestClient) -> None:
    assert login(web) == 303
    assert web.post("/teacher/classes", data={"name": "x"}).status_code == 403
    assert web.post("/teacher/classes", data={"name": "x", "csrf": "guess"}).status_code == 403
    assert web.post("/teacher/login", data={"username": "tanaka",
                                            "password": PASSWORD}).status_code == 403
    assert web.post("/join", data={"code": "AAAAAA", "name": "x"}).status_code == 403


def test_class_lifecycle_qr_and_teacher_isolation(web: TestClient) -> None:
    login(web)
    refused = web.post("/teacher/classes", data={"csrf": csrf_of(web, "/teacher/classes"),
                                                 "name": "x" * 41})
    assert refused.status_code == 400 and "at most 40 characters" in refused.text
    web.cookies.set("lang", "ja")
    refused = web.post("/teacher/classes", data={"csrf": csrf_of(web, "/teacher/classes"),
                                                 "name": "   "})
    assert refused.status_code == 400 and "名前を入力してください" in refused.text
    web.cookies.delete("lang")
    class_id, code = create_class(web, SCRIPT)
    page = web.get(f"/teacher/classes/{class_id}").text
    assert SCRIPT not in page and "&lt;script&gt;" in page
    # The grid polls, and static/classroom.js holds the polls of a hidden tab back.
    assert 'hx-trigger="every 10s"' in page and "data-poll-while-visible" in page
    assert '<script src="/static/classroom.js"' in page
    assert f"/join?code={code}" in page
    qr = web.get(f"/teacher/classes/{class_id}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith("<svg") and "<script" not in qr.text
    assert 'xmlns="http://www.w3.org/2000/svg"' in qr.text  # an <img> shows only a document
    token = csrf_of(web, "/teacher/classes")
    web.post(f"/teacher/classes/{class_id}/rename", data={"csrf": token, "name": "Renamed"})
    web.post(f"/teacher/classes/{class_id}/joining", data={"csrf": token, "open": "0"})
    assert "Renamed" in web.get("/teacher/classes").text

    # Another teacher sees none of it; a student or anonymous visitor neither.
    web.cookies.clear()
    login(web, "suzuki")
    token = csrf_of(web, "/teacher/classes")
    for path in ("", "/dashboard", "/qr.svg", "/export.csv"):
        assert web.get(f"/teacher/classes/{class_id}{path}").status_code == 404
    assert web.post(f"/teacher/classes/{class_id}/delete",
                    data={"csrf": token, "confirm": "Renamed"}).status_code == 404
    web.cookies.clear()
    answer = web.get(f"/teacher/classes/{class_id}", follow_redirects=False)
    assert answer.status_code == 303 and "Renamed" not in answer.text
    assert web.post(f"/teacher/classes/{class_id}/delete",
                    data={"csrf": csrf_of(web), "confirm": "Renamed"}).status_code == 403

    login(web)
    token = csrf_of(web, "/teacher/classes")
    assert web.post(f"/teacher/classes/{class_id}/delete",
                    data={"csrf": token, "confirm": "wrong"}).status_code == 400
    web.post(f"/teacher/classes/{class_id}/delete", data={"csrf": token, "confirm": "Renamed"})
    assert web.get(f"/teacher/classes/{class_id}").status_code == 404


def _join(web: TestClient, code: str, name: str) -> str:
    answer = web.post("/join", data={"csrf": csrf_of(web, "/join"), "code": code, "name": name})
    assert answer.status_code == 200, answer.text
    recovery = re.search(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", answer.text)
    assert recovery
    return recovery.group(1)


def test_student_joins_checks_and_the_teacher_sees_it(web: TestClient) -> None:
    exercise = catalog().get(LESSON).exercise(EXERCISE)
    assert classroom_identity_kind(web) is None
    login(web)
    assert classroom_identity_kind(web) == "teacher"
    class_id, code = create_class(web)
    token = csrf_of(web, "/teacher/classes")
    web.post(f"/teacher/classes/{class_id}/assignments",
             data={"csrf": token, "exercise": [f"{LESSON}/{EXERCISE}", "bogus/id"]})
    teacher_cookies = dict(web.cookies)

    web.cookies.clear()
    recovery = _join(web, code.lower(), SCRIPT)
    assert classroom_identity_kind(web) == "student"
    me = web.get("/me").text
    assert SCRIPT not in me and "&lt;script&gt;" in me and "not started" in me
    index = next(i for i, section in enumerate(catalog().get(LESSON).sections)
                 if section is exercise)
    assert f'href="/lessons/{LESSON}#sec-{index}"' in me  # straight to the exercise
    check = f"/lessons/{LESSON}/check/{EXERCISE}"
    web.post(check, data={"code": "x = torch.tensor(1) +"})  # a syntax error
    web.post(check, data={"code": exercise.wrong})
    web.post(check, data={"code": exercise.solution})
    assert "solved" in web.get("/me").text and "attempts: 3" in web.get("/me").text
    # A student reaches no teacher page.
    assert web.get(f"/teacher/classes/{class_id}", follow_redirects=False).status_code == 303

    # The recovery code continues the seat on another device.
    web.cookies.clear()
    answer = web.post("/join/recover", data={"csrf": csrf_of(web, "/join"),
                                             "recovery": recovery.lower()})
    assert answer.status_code == 200 and "attempts: 3" in answer.text
    web.cookies.clear()
    assert web.post("/join/recover", data={"csrf": csrf_of(web, "/join"),
                                           "recovery": "AAAA-AAAA-AAAA"}).status_code == 400

    web.cookies.clear()
    web.cookies.update(teacher_cookies)
    board = web.get(f"/teacher/classes/{class_id}/dashboard", headers={"HX-Request": "true"})
    assert board.text.lstrip().startswith('<div id="dashboard"')
    assert "solved" in board.text and "attempts: 3" in board.text
    assert "SyntaxError" in board.text and SCRIPT not in board.text
    student_link = re.search(rf"/teacher/classes/{class_id}/students/(\d+)", board.text)
    assert student_link
    latest = web.get(student_link.group(0)).text
    assert exercise.solution.splitlines()[0].replace("<", "&lt;") in latest
    rows = list(csv.reader(io.StringIO(web.get(f"/teacher/classes/{class_id}/export.csv").text)))
    assert rows[0] == ["student", f"{LESSON}/{EXERCISE} state", f"{LESSON}/{EXERCISE} attempts",
                       f"{LESSON}/{EXERCISE} last error"]
    assert rows[1] == [SCRIPT, "solved", "3", ""]


def classroom_identity_kind(web: TestClient) -> str | None:
    cookie = "; ".join(f"{name}={value}" for name, value in web.cookies.items())
    request = Request({"type": "http", "app": web.app, "headers": [(b"cookie", cookie.encode())]})
    found = classroom_identity(request)
    return found[0] if found else None


def test_anonymous_checks_store_nothing_and_closed_class_refuses(
        web: TestClient, settings_for: Settings) -> None:
    exercise = catalog().get(LESSON).exercise(EXERCISE)
    answer = web.post(f"/lessons/{LESSON}/check/{EXERCISE}", data={"code": exercise.solution})
    assert answer.status_code == 200 and "make-a-batch" in answer.text
    with database_for(settings_for).session() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 0
    login(web)
    class_id, code = create_class(web)
    web.post(f"/teacher/classes/{class_id}/joining",
             data={"csrf": csrf_of(web, "/teacher/classes"), "open": "0"})
    web.cookies.clear()
    answer = web.post("/join", data={"csrf": csrf_of(web, "/join"), "code": code, "name": "a"})
    assert answer.status_code == 400 and "open joining" in answer.text
    assert web.get("/me", follow_redirects=False).headers["location"] == "/join"


def test_join_and_login_are_rate_limited(web: TestClient, settings_for: Settings) -> None:
    limited = settings_for.model_copy(update={"classroom_join_per_minute": 3,
                                              "classroom_login_per_minute": 2})
    web.app.dependency_overrides[get_settings] = lambda: limited
    classroom_routes._limiters.clear()  # the other database's run spent this client's tokens
    token = csrf_of(web, "/join")
    statuses = [web.post("/join", data={"csrf": token, "code": "AAAAAA", "name": "x"}).status_code
                for _ in range(5)]
    assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]
    assert [login(web, password="nope nope nope") for _ in range(3)] == [401, 401, 429]


def test_japanese_pages(web: TestClient) -> None:
    web.cookies.set("lang", "ja")
    assert "クラスに参加" in web.get("/join").text


def test_cookies_are_secure_over_https(client: TestClient, settings_for: Settings) -> None:
    client.app.dependency_overrides[get_settings] = lambda: settings_for
    try:
        with database_for(settings_for).session() as session:
            service.create_teacher(session, "tanaka", PASSWORD)
        https = TestClient(client.app, base_url="https://testserver")  # no lifespan: shared
        token = re.search(r'name="csrf" value="([^"]+)"',
                          https.get("/teacher/login").text).group(1)  # type: ignore[union-attr]
        answer = https.post("/teacher/login", data={"csrf": token, "username": "tanaka",
                                                    "password": PASSWORD},
                            follow_redirects=False)
        assert answer.status_code == 303
        assert all("Secure" in h for h in answer.headers.get_list("set-cookie"))
    finally:
        client.app.dependency_overrides.pop(get_settings, None)


def test_the_app_migrates_its_database_at_start(client: TestClient) -> None:
    """The session's app started with the default settings (tests/conftest.py points data_dir
    at a temporary directory): its SQLite file exists and is at the newest revision."""
    from sqlalchemy import create_engine, text

    path = Path(get_settings().data_dir) / "classroom.sqlite3"
    assert path.exists()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.classroom.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert revision == ScriptDirectory.from_config(config).get_current_head() == "0003"


def _caller(web: TestClient) -> Caller:
    cookie = "; ".join(f"{name}={value}" for name, value in web.cookies.items())
    request = Request({"type": "http", "app": web.app, "client": ("10.0.0.7", 1234),
                       "headers": [(b"cookie", cookie.encode())]})
    return caller_of(request)


def test_seats_and_sessions_are_callers_of_their_own(web: TestClient) -> None:
    """Students behind one school NAT (one address) get a Caller each, with their class, so
    rate limits, run quotas and the fair queue count them one by one."""
    assert _caller(web) == Caller(kind="anonymous", id="10.0.0.7")
    login(web)
    teacher = _caller(web)
    assert teacher.kind == "teacher" and teacher.class_id is None
    class_id, code = create_class(web)
    seats = []
    for name in ("Aiko", "Ben"):
        web.cookies.clear()
        _join(web, code, name)
        seats.append(_caller(web))
    assert [seat.kind for seat in seats] == ["student", "student"]
    assert seats[0].id != seats[1].id and seats[0].key != seats[1].key
    assert {seat.class_id for seat in seats} == {str(class_id)}
    # A forged seat is no seat: the caller falls back to the address.
    web.cookies.clear()
    web.cookies.set("seat", "s1.c1.forged")
    assert _caller(web) == Caller(kind="anonymous", id="10.0.0.7")


def test_readyz_says_when_the_database_does_not_answer(web: TestClient,
                                                       settings_for: Settings) -> None:
    assert web.get("/readyz").status_code == 200
    broken = settings_for.model_copy(update={"database_url": "postgresql+psycopg://nobody@"
                                             "127.0.0.1:1/none?connect_timeout=1"})
    web.app.dependency_overrides[get_settings] = lambda: broken
    answer = web.get("/readyz")
    assert answer.status_code == 503 and "did not answer" in answer.json()["database"]
