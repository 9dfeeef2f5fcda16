"""Abuse cases of the classroom (app/classroom, app/routes/classroom.py): forged, tampered
and expired cookies, another class's data, open redirects, script in names, oversized input.
Against an SQLite file; tests/classroom runs the same routes against PostgreSQL too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.classroom import service, signing
from app.classroom.db import database_for
from app.config import Settings, get_settings
from app.lessons.loader import catalog

PASSWORD = "correct horse battery"
LESSON, EXERCISE = "stack-vs-cat", "make-a-batch"


@pytest.fixture
def settings_for(tmp_path: Path) -> Settings:
    return get_settings().model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'c.sqlite3'}", "data_dir": str(tmp_path),
        "classroom_login_per_minute": 10_000, "classroom_join_per_minute": 10_000})


@pytest.fixture
def web(client: TestClient, settings_for: Settings) -> Iterator[TestClient]:
    client.app.dependency_overrides[get_settings] = lambda: settings_for
    client.cookies.clear()
    yield client
    client.cookies.clear()
    client.app.dependency_overrides.pop(get_settings, None)


@pytest.fixture
def two_classes(settings_for: Settings) -> dict[str, int | str]:
    with database_for(settings_for).session() as s:
        teacher = service.create_teacher(s, "t", PASSWORD)
        a = service.create_class(s, teacher.id, "A", max_name_chars=40, max_classes=9)
        b = service.create_class(s, teacher.id, "B", max_name_chars=40, max_classes=9)
        service.set_assignments(s, a, [service.ExerciseRef(LESSON, EXERCISE)])
        alice = service.join(s, a.join_code, "alice", max_name_chars=40, max_students=9)
        bob = service.join(s, b.join_code, "bob", max_name_chars=40, max_students=9)
        return {"a": a.id, "b": b.id, "alice": alice.student.id, "bob": bob.student.id,
                "teacher": teacher.id}


def csrf_of(web: TestClient, page: str = "/join") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get(page).text)
    assert found
    return found.group(1)


def test_tokens_refuse_tampering_other_keys_expiry_and_garbage() -> None:
    key = b"k" * 32
    token = signing.sign(key, "s1c1", 60)
    assert signing.unsign(key, token) == "s1c1"
    assert signing.unsign(key, token.replace("s1c1", "s2c1", 1)) is None
    assert signing.unsign(b"other", token) is None
    assert signing.unsign(key, signing.sign(key, "s1c1", 60, now=0)) is None  # long expired
    payload, expires, signature = token.split(".")
    assert signing.unsign(key, f"{payload}.{int(expires) + 10**6}.{signature}") is None
    for garbage in ("", "a.b", "a.b.c.d", "..", "s1c1.-1.x", "\x00.\x00.\x00"):
        assert signing.unsign(key, garbage) is None


def test_a_forged_seat_reaches_nobody(web: TestClient, settings_for: Settings,
                                      two_classes: dict[str, int | str]) -> None:
    key = signing.secret_key(settings_for)
    bob, a = two_classes["bob"], two_classes["a"]
    for forged in (signing.sign(b"guessed key", f"s{bob}c{two_classes['b']}", 3600),
                   signing.sign(key, f"s{bob}c{a}", 3600),  # bob's id, alice's class
                   signing.sign(key, f"s{bob}c{two_classes['b']}", -1),  # expired
                   "s1c1.9999999999.AAAA"):
        web.cookies.set("seat", forged)
        answer = web.get("/me", follow_redirects=False)
        assert answer.status_code == 303 and "bob" not in answer.text


def test_a_seat_is_no_teacher(web: TestClient, settings_for: Settings,
                              two_classes: dict[str, int | str]) -> None:
    key = signing.secret_key(settings_for)
    web.cookies.set("seat", signing.sign(key, f"s{two_classes['alice']}c{two_classes['a']}",
                                         3600))
    assert "alice" in web.get("/me").text
    token = csrf_of(web)
    a = two_classes["a"]
    assert web.get(f"/teacher/classes/{a}", follow_redirects=False).status_code == 303
    assert web.get(f"/teacher/classes/{a}/export.csv",
                   follow_redirects=False).status_code == 303
    assert web.post(f"/teacher/classes/{a}/delete",
                    data={"csrf": token, "confirm": "A"}).status_code == 403
    # A teacher-shaped token made with the seat's key but the wrong payload is no login.
    web.cookies.set("teacher_session", signing.sign(key, f"s{two_classes['alice']}", 3600))
    assert web.get("/teacher/classes", follow_redirects=False).status_code == 303


def test_a_deleted_class_ends_its_seats(web: TestClient, settings_for: Settings,
                                        two_classes: dict[str, int | str]) -> None:
    key = signing.secret_key(settings_for)
    web.cookies.set("seat", signing.sign(key, f"s{two_classes['alice']}c{two_classes['a']}",
                                         3600))
    with database_for(settings_for).session() as s:
        room = service.owned_class(s, int(two_classes["teacher"]), int(two_classes["a"]))
        assert room is not None
        service.delete_class(s, room)
    assert web.get("/me", follow_redirects=False).headers["location"] == "/join"


def test_an_archived_class_records_no_more_checks(web: TestClient, settings_for: Settings,
                                                  two_classes: dict[str, int | str]) -> None:
    key = signing.secret_key(settings_for)
    web.cookies.set("seat", signing.sign(key, f"s{two_classes['alice']}c{two_classes['a']}",
                                         3600))
    with database_for(settings_for).session() as s:
        room = service.owned_class(s, int(two_classes["teacher"]), int(two_classes["a"]))
        assert room is not None
        room.archived = True
    solution = catalog().get(LESSON).exercise(EXERCISE).solution
    assert web.post(f"/lessons/{LESSON}/check/{EXERCISE}",
                    data={"code": solution}).status_code == 200
    assert "not started" in web.get("/me").text


def test_login_never_redirects_off_site(web: TestClient, two_classes: object) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = web.post("/teacher/login", data={
            "csrf": csrf_of(web, "/teacher/login"), "username": "t", "password": PASSWORD,
            "next": target}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_names_are_bounded_and_escaped(web: TestClient, two_classes: dict[str, int | str],
                                       settings_for: Settings) -> None:
    with database_for(settings_for).session() as s:
        code = service.owned_class(s, int(two_classes["teacher"]), int(two_classes["a"]))
        assert code is not None
        join_code = code.join_code
    token = csrf_of(web)
    too_long = web.post("/join", data={"csrf": token, "code": join_code, "name": "x" * 41})
    assert too_long.status_code == 400 and "at most 40" in too_long.text
    payload = '"><img src=x onerror=alert(1)>'
    page = web.post("/join", data={"csrf": token, "code": join_code, "name": payload})
    assert page.status_code == 200 and payload not in page.text
    assert "&#34;&gt;&lt;img" in page.text
    # The join form echoes the code it was given, escaped.
    echoed = web.get("/join", params={"code": '"><script>'}).text
    assert "<script>" not in echoed.split("<main", 1)[1]


def test_classroom_cookies_and_pages_are_private(web: TestClient, settings_for: Settings,
                                                 two_classes: dict[str, int | str]) -> None:
    page = web.get("/join")
    assert page.headers["cache-control"] == "no-store"
    csrf_cookie = page.headers["set-cookie"]
    assert "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie
    with database_for(settings_for).session() as s:
        room = service.owned_class(s, int(two_classes["teacher"]), int(two_classes["a"]))
        assert room is not None
        join_code = room.join_code
    joined = web.post("/join", data={"csrf": csrf_of(web), "code": join_code, "name": "c"})
    seat = next(h for h in joined.headers.get_list("set-cookie") if h.startswith("seat="))
    assert "HttpOnly" in seat and "SameSite=lax" in seat


def test_a_non_ascii_csrf_token_is_refused_not_a_crash(web: TestClient) -> None:
    csrf_of(web)
    web.cookies.set("csrf", "ascii-token")
    assert web.post("/join", data={"csrf": "トークン", "code": "A", "name": "x"}).status_code \
        == 403
