"""What teachers and students do, over the database. Every teacher operation takes the
teacher's id and finds the class through it, so one teacher never reaches another's class;
every student operation takes the seat's own id."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.classroom import codes
from app.classroom.models import (
    TEACHER_LESSON,
    Assignment,
    Attempt,
    Classroom,
    Student,
    Teacher,
)
from app.message import N_

_hasher = PasswordHasher()
# Verified when the username is unknown, so a login takes as long either way and does not
# tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
MIN_PASSWORD_CHARS = 10


class ClassroomError(Exception):
    """A request the classroom refuses: ``message`` is an English msgid naming the fix, with
    ``{placeholders}`` filled from ``params`` after translation."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def clean_name(text: str, max_chars: int) -> str:
    name = " ".join(text.split())
    if not name:
        raise ClassroomError(N_("Please enter a name."))
    if len(name) > max_chars:
        raise ClassroomError(N_("That name is too long: at most {n} characters."), n=max_chars)
    return name


# --- teachers ---

def create_teacher(session: Session, username: str, password: str) -> Teacher:
    username = username.strip()
    if not username or len(username) > 64:
        raise ClassroomError(N_("A username needs 1 to 64 characters."))
    if len(password) < MIN_PASSWORD_CHARS:
        raise ClassroomError(N_("A password needs at least {n} characters."),
                             n=MIN_PASSWORD_CHARS)
    if session.scalar(select(Teacher).where(Teacher.username == username)) is not None:
        raise ClassroomError(N_("A teacher named {name} exists already: pick another name."),
                             name=username)
    teacher = Teacher(username=username, password_hash=_hasher.hash(password),
                      session_generation=0)
    session.add(teacher)
    session.flush()
    return teacher


def authenticate(session: Session, username: str, password: str) -> Teacher | None:
    teacher = session.scalar(select(Teacher).where(Teacher.username == username.strip()))
    try:
        _hasher.verify(teacher.password_hash if teacher else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if teacher is None:
        return None
    if _hasher.check_needs_rehash(teacher.password_hash):
        teacher.password_hash = _hasher.hash(password)
    return teacher


def end_sessions(session: Session, teacher_id: int) -> None:
    teacher = session.get(Teacher, teacher_id)
    if teacher is not None:
        teacher.session_generation += 1


# --- classes ---

def teacher_classes(session: Session, teacher_id: int) -> list[Classroom]:
    return list(session.scalars(select(Classroom).where(Classroom.teacher_id == teacher_id)
                                .order_by(Classroom.archived, Classroom.id.desc())))


def owned_class(session: Session, teacher_id: int, class_id: int) -> Classroom | None:
    return session.scalar(select(Classroom).where(Classroom.id == class_id,
                                                  Classroom.teacher_id == teacher_id))


def create_class(session: Session, teacher_id: int, name: str, *, max_name_chars: int,
                 max_classes: int) -> Classroom:
    name = clean_name(name, max_name_chars)
    count = session.scalar(select(func.count()).select_from(Classroom)
                           .where(Classroom.teacher_id == teacher_id)) or 0
    if count >= max_classes:
        raise ClassroomError(N_("You have {n} classes, the most allowed: delete an old one "
                                "first."), n=count)
    for _ in range(10):  # a clash among 148 million codes is rare; retry it away
        code = codes.random_code(codes.JOIN_CODE_LENGTH)
        if session.scalar(select(Classroom.id).where(Classroom.join_code == code)) is None:
            break
    classroom = Classroom(teacher_id=teacher_id, name=name, join_code=code, joining_open=True,
                          archived=False)
    session.add(classroom)
    session.flush()
    return classroom


def delete_class(session: Session, classroom: Classroom) -> None:
    """The class with every seat, assignment and attempt (ON DELETE CASCADE, and the ORM's
    cascade for a database that ignores it)."""
    session.delete(classroom)
    session.flush()


Progress = Literal["not_started", "tried", "solved"]


@dataclass(frozen=True)
class ExerciseRef:
    lesson_id: str
    exercise_id: str

    @property
    def key(self) -> str:
        return f"{self.lesson_id}/{self.exercise_id}"


def set_assignments(session: Session, classroom: Classroom, chosen: list[ExerciseRef]) -> None:
    session.execute(delete(Assignment).where(Assignment.class_id == classroom.id))
    for ref in dict.fromkeys(chosen):
        session.add(Assignment(class_id=classroom.id, lesson_id=ref.lesson_id,
                               exercise_id=ref.exercise_id))
    session.flush()
    session.refresh(classroom)


def assigned(classroom: Classroom) -> list[ExerciseRef]:
    return [ExerciseRef(a.lesson_id, a.exercise_id) for a in classroom.assignments]


# --- students ---

@dataclass(frozen=True)
class NewSeat:
    student: Student
    recovery_code: str  # shown once to the student; only its hash is stored


def class_by_code(session: Session, join_code: str) -> Classroom | None:
    return session.scalar(select(Classroom).where(
        Classroom.join_code == codes.normalise(join_code)))


def join(session: Session, join_code: str, display_name: str, *, max_name_chars: int,
         max_students: int) -> NewSeat:
    classroom = class_by_code(session, join_code)
    if classroom is None:
        raise ClassroomError(N_("No class has that code: check it with your teacher."))
    if not classroom.joining_open or classroom.archived:
        raise ClassroomError(N_("This class is not taking new students: ask your teacher "
                                "to open joining."))
    name = clean_name(display_name, max_name_chars)
    count = session.scalar(select(func.count()).select_from(Student)
                           .where(Student.class_id == classroom.id)) or 0
    if count >= max_students:
        raise ClassroomError(N_("This class is full: ask your teacher."))
    for _ in range(10):
        recovery = codes.random_code(codes.RECOVERY_CODE_LENGTH)
        student = Student(class_id=classroom.id, display_name=name,
                          recovery_hash=codes.recovery_hash(recovery))
        try:
            with session.begin_nested():
                session.add(student)
        except IntegrityError:
            continue
        return NewSeat(student, recovery)
    raise ClassroomError(N_("Could not make a seat: please try again."))


def recover(session: Session, recovery_code: str) -> Student | None:
    return session.scalar(select(Student).where(
        Student.recovery_hash == codes.recovery_hash(recovery_code)))


def record_attempt(session: Session, student_id: int, lesson_id: str, exercise_id: str, *,
                   passed: bool, error_type: str, code: str, max_code_chars: int,
                   variant: str = "") -> None:
    session.add(Attempt(student_id=student_id, lesson_id=lesson_id, exercise_id=exercise_id,
                        passed=passed, error_type=error_type[:100],
                        code=code[:max_code_chars], variant=variant))
    session.flush()


# --- progress and the dashboard ---

@dataclass
class Cell:
    state: Progress = "not_started"
    attempts: int = 0
    last_error: str = ""
    variant: str = ""  # a teacher exercise's randomized inputs, as the last attempt had them


def _cell(attempts: list[Attempt]) -> Cell:
    if not attempts:
        return Cell()
    state: Progress = "solved" if any(a.passed for a in attempts) else "tried"
    return Cell(state, len(attempts), attempts[-1].error_type, attempts[-1].variant)


def student_progress(session: Session, student: Student) -> dict[str, Cell]:
    """The student's own cells, one per exercise assigned to their class."""
    refs = assigned(student.classroom)
    by_key: dict[str, list[Attempt]] = {}
    for attempt in student.attempts:
        by_key.setdefault(f"{attempt.lesson_id}/{attempt.exercise_id}", []).append(attempt)
    return {ref.key: _cell(by_key.get(ref.key, [])) for ref in refs}


@dataclass
class Dashboard:
    exercises: list[ExerciseRef]
    rows: list[tuple[Student, list[Cell]]]
    common_errors: list[tuple[str, int]]


def dashboard(session: Session, classroom: Classroom, top_errors: int = 5) -> Dashboard:
    refs = assigned(classroom)
    attempts = session.scalars(select(Attempt).join(Student)
                               .where(Student.class_id == classroom.id)
                               .order_by(Attempt.id)).all()
    grouped: dict[tuple[int, str], list[Attempt]] = {}
    errors: Counter[str] = Counter()
    for attempt in attempts:
        grouped.setdefault((attempt.student_id, f"{attempt.lesson_id}/{attempt.exercise_id}"),
                           []).append(attempt)
        if attempt.error_type:
            errors[attempt.error_type] += 1
    rows = [(student, [_cell(grouped.get((student.id, ref.key), [])) for ref in refs])
            for student in classroom.students]
    return Dashboard(refs, rows, errors.most_common(top_errors))


def latest_attempt(session: Session, classroom: Classroom, student_id: int) -> Attempt | None:
    return session.scalar(select(Attempt).join(Student)
                          .where(Student.id == student_id, Student.class_id == classroom.id)
                          .order_by(Attempt.id.desc()).limit(1))


def owned_student(session: Session, classroom: Classroom, student_id: int) -> Student | None:
    return session.scalar(select(Student).where(Student.id == student_id,
                                                Student.class_id == classroom.id))


def dashboard_csv(board: Dashboard) -> str:
    """One row per student, three columns per exercise (a teacher's own exercise a fourth:
    the variant). Cells that a spreadsheet would run as a formula (=, +, -, @ first) are
    quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["student"]
    for ref in board.exercises:
        header += [f"{ref.key} state", f"{ref.key} attempts", f"{ref.key} last error"]
        if ref.lesson_id == TEACHER_LESSON:
            header.append(f"{ref.key} variant")
    writer.writerow(header)
    for student, cells in board.rows:
        row = [_spreadsheet_safe(student.display_name)]
        for ref, cell in zip(board.exercises, cells, strict=True):
            row += [cell.state, str(cell.attempts), cell.last_error]
            if ref.lesson_id == TEACHER_LESSON:
                row.append(_spreadsheet_safe(cell.variant))
        writer.writerow(row)
    return out.getvalue()


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
