"""The spotlight: one student's program on the class's projector, without their name.

The teacher picks a student on the dashboard; their latest checked program (an attempt) is
what the projector page shows until the teacher clears it or picks another. The attempt is
kept as it was when picked, so the projector does not change under the class's eyes when the
student checks again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.classroom.models import Attempt, Classroom, Spotlight, Student, utcnow
from app.classroom.service import ClassroomError, latest_attempt
from app.message import N_


@dataclass(frozen=True)
class Spotlit:
    """What the projector shows: the program and its result, and nothing of who wrote it."""

    lesson_id: str
    exercise_id: str
    code: str
    passed: bool
    error_type: str
    set_at: datetime


def spotlight_student(session: Session, classroom: Classroom, student_id: int) -> None:
    """Puts the latest checked program of a student of ``classroom`` on its projector."""
    attempt = latest_attempt(session, classroom, student_id)
    if attempt is None:
        raise ClassroomError(N_("This student has not checked a program yet: there is nothing "
                                "to show."))
    current = session.get(Spotlight, classroom.id)
    if current is None:
        session.add(Spotlight(class_id=classroom.id, attempt_id=attempt.id))
    else:
        current.attempt_id = attempt.id
        current.set_at = utcnow()
    session.flush()


def clear(session: Session, classroom: Classroom) -> None:
    session.execute(delete(Spotlight).where(Spotlight.class_id == classroom.id))


def current(session: Session, classroom: Classroom) -> Spotlit | None:
    attempt = session.scalar(select(Attempt).join(Spotlight, Spotlight.attempt_id == Attempt.id)
                             .join(Student, Student.id == Attempt.student_id)
                             .where(Spotlight.class_id == classroom.id,
                                    Student.class_id == classroom.id))
    spot = session.get(Spotlight, classroom.id)
    if attempt is None or spot is None:
        return None
    return Spotlit(attempt.lesson_id, attempt.exercise_id, attempt.code, attempt.passed,
                   attempt.error_type, spot.set_at)


def spotlit_student_id(session: Session, classroom: Classroom) -> int | None:
    """Whose program is on the projector, for the dashboard's own marker (never shown there
    by name on the projector itself)."""
    return session.scalar(select(Attempt.student_id)
                          .join(Spotlight, Spotlight.attempt_id == Attempt.id)
                          .where(Spotlight.class_id == classroom.id))
