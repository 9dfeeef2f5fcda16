"""Teachers' exercises in the database, against SQLite and PostgreSQL: the 0002 migration
over a database that has work in it, saving and editing, variants, assignments and the
dashboard's variant column, and what deleting takes with it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select, text

from app.classroom import exercises, service
from app.classroom.db import MIGRATIONS_DIR, Database, make_engine
from app.classroom.models import TEACHER_LESSON, Assignment, Attempt, Teacher, TeacherExercise
from app.config import get_settings

SOLUTION = "x = torch.ones({{size}}) * {{k}}\ny = x.sum(dim=0)\n"
STARTER = "x = torch.ones({{size}}) * {{k}}\ny = ...\n"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.close()


def spec(title: str = "Column sums") -> exercises.Spec:
    draft = exercises.Draft(
        title=title, prompt_en="Sum x (shape {{size}}) over dim 0.", prompt_ja="",
        starter=STARTER, solution=SOLUTION, params="size: shape (2, 3) | (4, 5)\nk: int 2..9",
        seed="0", checks=[exercises.CheckRow("var", "y", "values", "1e-5", "1e-6"),
                          exercises.CheckRow("var", "y", "shape")])
    return exercises.parse(draft, get_settings())


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_0002_upgrades_a_database_with_work_in_it(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0001")
        connection.execute(text(
            "INSERT INTO teachers (id, username, password_hash, session_generation) "
            "VALUES (1, 't', 'x', 0)"))
        connection.execute(text(
            "INSERT INTO classes (id, teacher_id, name, join_code, joining_open, archived) "
            "VALUES (1, 1, 'c', 'AAAAAA', true, false)"))
        connection.execute(text(
            "INSERT INTO students (id, class_id, display_name, recovery_hash) "
            "VALUES (1, 1, 'Aiko', 'h')"))
        connection.execute(text(
            "INSERT INTO attempts (student_id, lesson_id, exercise_id, passed, error_type, code)"
            " VALUES (1, 'l', 'e', true, '', 'x = 1')"))
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0002")
        assert connection.execute(text("SELECT variant FROM attempts")).scalar() == ""
        assert "teacher_exercises" in inspect(connection).get_table_names()
    with engine.begin() as connection:  # and back: 0001's schema, the attempt kept
        command.downgrade(_config(connection), "0001")
        assert "teacher_exercises" not in inspect(connection).get_table_names()
        assert connection.execute(text("SELECT code FROM attempts")).scalar() == "x = 1"
    engine.dispose()


def test_save_edit_assign_attempt_and_delete(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        other = service.create_teacher(s, "u", "0123456789")
        saved = exercises.save(s, teacher.id, spec(), max_exercises=5)
        assert saved.version == 1 and saved.params.startswith("size: shape")
        assert exercises.owned_exercise(s, other.id, saved.id) is None
        assert list(exercises.assignable(s, other.id)) == []
        room = service.create_class(s, teacher.id, "Period 3", max_name_chars=40,
                                    max_classes=5)
        service.set_assignments(s, room, [service.ExerciseRef("tensors", "e1"),
                                          exercises.ref(saved)])
        exercise_id, code = saved.id, room.join_code
    with db.session() as s:
        seat = service.join(s, code, "Aiko", max_name_chars=40, max_students=10)
        exercise = exercises.for_student(s, seat.student, exercise_id)
        assert exercise is not None
        mine = exercises.variant_for(exercise, seat.student.id)
        assert mine == exercises.variant_for(exercise, seat.student.id)
        assert mine.starter.startswith("x = torch.ones((")
        assert "{{" not in mine.starter + mine.solution + mine.prompt.en + mine.prompt.ja
        service.record_attempt(s, seat.student.id, TEACHER_LESSON, str(exercise_id),
                               passed=True, error_type="", code=mine.starter,
                               max_code_chars=100, variant=mine.described)
        student_id = seat.student.id
    with db.session() as s:
        room = service.owned_class(s, teacher.id, room.id)
        assert room is not None
        board = service.dashboard(s, room)
        (_, cells), = board.rows
        assert [c.state for c in cells] == ["not_started", "solved"]
        assert cells[1].variant == mine.described and mine.described.startswith("size=(")
        rows = list(csv.reader(io.StringIO(service.dashboard_csv(board))))
        key = f"{TEACHER_LESSON}/{exercise_id}"
        assert rows[0][-4:] == [f"{key} state", f"{key} attempts", f"{key} last error",
                                f"{key} variant"]
        assert rows[1][-4:] == ["solved", "1", "", mine.described]
        # An edit is a new version: older cached reference runs no longer match.
        edited = exercises.save(s, teacher.id, spec("Renamed"), max_exercises=5,
                                exercise=s.get(TeacherExercise, exercise_id))
        assert (edited.id, edited.version, edited.title) == (exercise_id, 2, "Renamed")
        assert exercises.titles(s, service.assigned(room)) == {key: "Renamed"}
        with pytest.raises(service.ClassroomError, match="the most allowed"):
            exercises.save(s, teacher.id, spec(), max_exercises=1)
    with db.session() as s:
        exercises.delete_exercise(s, s.get(TeacherExercise, exercise_id))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)
                        .where(Assignment.lesson_id == TEACHER_LESSON)) == 0
        # The student's history stays; the grid shows assigned exercises only.
        assert s.scalar(select(Attempt.variant).where(Attempt.student_id == student_id)) \
            == mine.described
        exercises.save(s, teacher.id, spec(), max_exercises=5)
    with db.session() as s:  # a teacher's exercises go with the teacher (ON DELETE CASCADE)
        s.delete(s.get(Teacher, teacher.id))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TeacherExercise)) == 0


def test_a_student_sees_only_what_is_assigned_to_their_class(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        saved = exercises.save(s, teacher.id, spec(), max_exercises=5)
        assigned_room = service.create_class(s, teacher.id, "A", max_name_chars=40,
                                             max_classes=5)
        other_room = service.create_class(s, teacher.id, "B", max_name_chars=40,
                                          max_classes=5)
        service.set_assignments(s, assigned_room, [exercises.ref(saved)])
        codes = assigned_room.join_code, other_room.join_code
    with db.session() as s:
        inside = service.join(s, codes[0], "In", max_name_chars=40, max_students=10).student
        outside = service.join(s, codes[1], "Out", max_name_chars=40, max_students=10).student
        assert exercises.for_student(s, inside, saved.id) is not None
        assert exercises.for_student(s, outside, saved.id) is None
        assert exercises.for_student(s, inside, saved.id + 1) is None
