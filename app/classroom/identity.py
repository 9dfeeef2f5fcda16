"""Who a request comes from, as far as the classroom knows: the signed cookies it carries.

``classroom_identity(cookies, ...)`` is the plain function the app's caller type plugs in:
("teacher", teacher_id, None), ("student", student_id, class_id) or None (anonymous)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Literal

from sqlalchemy.orm import Session

from app.classroom import signing
from app.classroom.models import Student, Teacher

TEACHER_COOKIE = "teacher_session"
SEAT_COOKIE = "seat"
CSRF_COOKIE = "csrf"
CSRF_FIELD = "csrf"

Identity = tuple[Literal["teacher", "student"], int, int | None]


def teacher_token(key: bytes, teacher: Teacher, max_age_s: int) -> str:
    return signing.sign(key, f"t{teacher.id}g{teacher.session_generation}", max_age_s)


def seat_token(key: bytes, student: Student, max_age_s: int) -> str:
    return signing.sign(key, f"s{student.id}c{student.class_id}", max_age_s)


def _numbers(payload: str | None, first: str, second: str) -> tuple[int, int] | None:
    if not payload or not payload.startswith(first) or second not in payload:
        return None
    a, _, b = payload[1:].partition(second)
    return (int(a), int(b)) if a.isdigit() and b.isdigit() else None


def teacher_id(session: Session, key: bytes, cookies: Mapping[str, str]) -> int | None:
    """The teacher of a genuine, unexpired session cookie not ended by a logout."""
    parsed = _numbers(signing.unsign(key, cookies.get(TEACHER_COOKIE)), "t", "g")
    if parsed is None:
        return None
    teacher = session.get(Teacher, parsed[0])
    if teacher is None or teacher.session_generation != parsed[1]:
        return None
    return teacher.id


def seat(session: Session, key: bytes, cookies: Mapping[str, str]) -> Student | None:
    """The student of a genuine, unexpired seat cookie whose seat still exists."""
    parsed = _numbers(signing.unsign(key, cookies.get(SEAT_COOKIE)), "s", "c")
    if parsed is None:
        return None
    student = session.get(Student, parsed[0])
    return student if student is not None and student.class_id == parsed[1] else None


def classroom_identity(session: Session, key: bytes,
                       cookies: Mapping[str, str]) -> Identity | None:
    teacher = teacher_id(session, key, cookies)
    if teacher is not None:
        return ("teacher", teacher, None)
    student = seat(session, key, cookies)
    if student is not None:
        return ("student", student.id, student.class_id)
    return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(cookies: Mapping[str, str], submitted: str | None) -> bool:
    """Double submit: the form's hidden field must repeat the HttpOnly, SameSite=Strict
    cookie, which another site can neither read nor make the browser send."""
    cookie = cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return False
    return secrets.compare_digest(cookie.encode(), submitted.encode())
