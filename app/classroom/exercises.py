"""Teachers' own exercises: written in the browser, checked by the lessons' checker.

A teacher gives a task text (English, and Japanese if they like), starter code, a reference
solution and what to compare: the result, a variable, a variable's gradient or the printed
output, by shape, dtype, values (with rtol/atol) or exactly. Before it is saved the
reference runs in the sandbox, through the same evaluation path as every program, for a few
variants of its randomized inputs (app/classroom/variants.py), and must pass its own checks:
a reference that raises, or that a check cannot find a value in, is refused with the reason.

A student's check runs their program and the reference *with their variant* and compares
them with ``app.lessons.checker`` (there is one checker); the attempt is stored like a
catalog exercise's, under the lesson id ``TEACHER_LESSON``, with the variant's values.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.classroom import variants
from app.classroom.models import TEACHER_LESSON, Assignment, Student, TeacherExercise
from app.classroom.service import ClassroomError, ExerciseRef, clean_name
from app.config import Settings
from app.executor.base import Executor
from app.lessons import checker
from app.lessons.models import MAX_SEED, Check, Said
from app.message import N_

TARGETS = ("result", "var", "grad", "stdout")
COMPARES = ("values", "shape", "dtype", "equal")
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,60}$")


@dataclass
class CheckRow:
    """One row of the form's checks, as typed (a blank row is no check)."""

    target: str = "result"
    name: str = ""
    compare: str = "values"
    rtol: str = ""
    atol: str = ""

    @property
    def blank(self) -> bool:
        return not self.target or (self.target in ("var", "grad") and not self.name.strip())


@dataclass
class Draft:
    """The form's fields as typed: what a refused form is filled with again."""

    title: str = ""
    prompt_en: str = ""
    prompt_ja: str = ""
    starter: str = ""
    solution: str = ""
    params: str = ""
    seed: str = "0"
    checks: list[CheckRow] = field(default_factory=list)


@dataclass(frozen=True)
class Spec:
    """A draft that passed every rule that needs no sandbox."""

    title: str
    prompt_en: str
    prompt_ja: str
    starter: str
    solution: str
    checks: list[Check]
    params: list[variants.Param]
    params_text: str
    seed: int


def draft_from_form(fields: dict[str, str], rows: int) -> Draft:
    checks = [CheckRow(fields.get(f"target_{i}", "result"), fields.get(f"name_{i}", ""),
                       fields.get(f"compare_{i}", "values"), fields.get(f"rtol_{i}", ""),
                       fields.get(f"atol_{i}", ""))
              for i in range(rows) if f"target_{i}" in fields]
    return Draft(fields.get("title", ""), fields.get("prompt_en", ""),
                 fields.get("prompt_ja", ""), _lf(fields.get("starter", "")),
                 _lf(fields.get("solution", "")), fields.get("params", ""),
                 fields.get("seed", "0"), checks)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")  # a browser's textarea sends CRLF


def draft_of(exercise: TeacherExercise) -> Draft:
    rows = []
    for check in _checks(exercise):
        kind, _, name = check.target.partition(":")
        rows.append(CheckRow(kind, name, check.compare,
                             "" if check.rtol is None else repr(check.rtol),
                             "" if check.atol is None else repr(check.atol)))
    return Draft(exercise.title, exercise.prompt_en, exercise.prompt_ja, exercise.starter,
                 exercise.solution, exercise.params, str(exercise.seed), rows)


def with_blank_rows(draft: Draft, rows: int) -> list[CheckRow]:
    """The draft's checks and blank rows up to the form's size (the first one compares the
    result, the form's most common check)."""
    shown = list(draft.checks[:rows])
    while len(shown) < rows:
        shown.append(CheckRow() if not shown else CheckRow(target=""))
    return shown


def parse(draft: Draft, settings: Settings) -> Spec:
    """The draft as a Spec, or ClassroomError naming the first problem and its fix."""
    title = clean_name(draft.title, settings.max_display_name_chars)
    prompt_en, prompt_ja = draft.prompt_en.strip(), draft.prompt_ja.strip()
    if not prompt_en:
        raise ClassroomError(N_("Write the task in English (the Japanese text is optional)."))
    if max(len(prompt_en), len(prompt_ja)) > settings.max_exercise_text_chars:
        raise ClassroomError(N_("The task text is too long: at most {n} characters."),
                             n=settings.max_exercise_text_chars)
    if not draft.solution.strip():
        raise ClassroomError(N_("Write the reference solution: the checks compare the "
                                "students' programs with what it computes."))
    for program in (draft.starter, draft.solution):
        if len(program) > settings.max_source_chars:
            raise ClassroomError(N_("A program is too long: at most {n} characters."),
                                 n=settings.max_source_chars)
    if checker.untouched(draft.solution, draft.starter):
        raise ClassroomError(N_("The starter code is the reference solution: leave out the "
                                "part the students should write."))
    try:
        seed = int(draft.seed.strip() or "0")
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise ClassroomError(N_("The seed is a whole number from 0 to {n}."), n=MAX_SEED)
    checks = [_check(row) for row in draft.checks if not row.blank]
    if not checks:
        raise ClassroomError(N_("Add at least one check: what the students' programs must "
                                "get right."))
    if len(checks) > settings.max_exercise_checks:
        raise ClassroomError(N_("At most {n} checks."), n=settings.max_exercise_checks)
    params = variants.parse(draft.params, settings.max_variant_params)
    unknown = variants.unknown_placeholders(
        (prompt_en, prompt_ja, draft.starter, draft.solution), params)
    if unknown:
        raise ClassroomError(N_("{placeholder} is used but not declared: add it to the "
                                "randomized inputs, or remove it."),
                             placeholder="{{" + unknown[0] + "}}")
    return Spec(title, prompt_en, prompt_ja, draft.starter, draft.solution, checks, params,
                draft.params.strip(), seed)


def _check(row: CheckRow) -> Check:
    if row.target not in TARGETS or row.compare not in COMPARES:
        raise ClassroomError(N_("Choose what each check looks at and how it compares."))
    name = row.name.strip()
    if row.target in ("var", "grad") and not _VARIABLE.match(name):
        raise ClassroomError(N_("{name} is not a variable name: use letters, digits and _, "
                                "starting with a letter."), name=name)
    target = row.target if row.target in ("result", "stdout") else f"{row.target}:{name}"
    compare = "equal" if row.target == "stdout" else row.compare
    tolerances: dict[str, float] = {}
    for key, text in (("rtol", row.rtol), ("atol", row.atol)):
        if not text.strip():
            continue
        if compare != "values":
            raise ClassroomError(N_("rtol and atol apply only when a check compares values: "
                                    "clear them, or compare values."))
        try:
            tolerances[key] = float(text)
        except ValueError:
            raise ClassroomError(N_("{key} must be a number, such as 1e-5."),
                                 key=key) from None
    try:
        return Check(target=target, compare=compare, **tolerances)
    except ValidationError:
        raise ClassroomError(N_("rtol is a number from 0 to 1, atol from 0 to 1000000."),
                             ) from None


# --- variants ---

@dataclass(frozen=True)
class Variant:
    """One student's version of an exercise: every text with their values in place."""

    exercise_id: int
    version: int
    literals: dict[str, str]
    prompt: Said
    starter: str
    solution: str
    checks: list[Check]
    seed: int

    @property
    def described(self) -> str:
        return variants.describe(self.literals)


def _checks(exercise: TeacherExercise) -> list[Check]:
    return [Check(**item) for item in json.loads(exercise.checks)]


def _params(exercise: TeacherExercise) -> list[variants.Param]:
    # Validated when saved; no maximum here, so a lowered setting never breaks old work.
    return variants.parse(exercise.params, max_params=10_000)


def variant_with(exercise: TeacherExercise, values: dict[str, variants.Value]) -> Variant:
    literals = variants.rendered(_params(exercise), values)
    def text(t: str) -> str:
        return variants.substitute(t, literals, code=False)
    def code(t: str) -> str:
        return variants.substitute(t, literals, code=True)
    prompt_ja = exercise.prompt_ja or exercise.prompt_en
    return Variant(exercise.id, exercise.version, literals,
                   Said(text(exercise.prompt_en), text(prompt_ja)), code(exercise.starter),
                   code(exercise.solution), _checks(exercise), exercise.seed)


def variant_for(exercise: TeacherExercise, seat_id: int) -> Variant:
    """The student's own variant: the same for their seat on every device and reload."""
    values = variants.draw(_params(exercise), variants.seed_of(seat_id, exercise.id))
    return variant_with(exercise, values)


# --- validation: the reference runs in the sandbox ---

async def validate(executor: Executor, settings: Settings, spec: Spec) -> None:
    """Runs the reference for the lowest values, the highest and random ones; refuses
    (ClassroomError) a reference that does not finish or does not pass its own checks."""
    tries: list[dict[str, variants.Value]] = [variants.extreme(spec.params, "low")]
    if spec.params:
        tries.append(variants.extreme(spec.params, "high"))
        while len(tries) < settings.exercise_validation_variants:
            # Seats are positive ids: these draws are nobody's variant in particular.
            tries.append(variants.draw(spec.params, variants.seed_of(-len(tries), 0)))
    programs = [variants.substitute(spec.solution, variants.rendered(spec.params, values),
                                    code=True) for values in tries]
    runs = await asyncio.gather(*(checker.run_reference(executor, settings, program, spec.seed)
                                  for program in programs))
    for values, run in zip(tries, runs, strict=True):
        described = variants.describe(variants.rendered(spec.params, values))
        if not run.get("ok"):
            error = run.get("error") or {}
            failure = f"{error.get('type', 'Error')}: {error.get('message', '')}".strip()
            if described:
                raise ClassroomError(N_("With the inputs {variant}, the reference solution "
                                        "did not finish: {error} Fix it and save again."),
                                     variant=described, error=failure)
            raise ClassroomError(N_("The reference solution did not finish: {error} Fix it "
                                    "and save again."), error=failure)
        problems, _ = checker.evaluate_attempt(run, run, spec.checks)
        if problems:
            if described:
                raise ClassroomError(N_("With the inputs {variant}, the reference solution "
                                        "does not pass its own checks: {problem} Fix the "
                                        "reference or the checks."),
                                     variant=described, problem=problems[0])
            raise ClassroomError(N_("The reference solution does not pass its own checks: "
                                    "{problem} Fix the reference or the checks."),
                                 problem=problems[0])


# --- storage ---

def teacher_exercises(session: Session, teacher_id: int) -> list[TeacherExercise]:
    return list(session.scalars(select(TeacherExercise)
                                .where(TeacherExercise.teacher_id == teacher_id)
                                .order_by(TeacherExercise.id.desc())))


def owned_exercise(session: Session, teacher_id: int,
                   exercise_id: int) -> TeacherExercise | None:
    return session.scalar(select(TeacherExercise).where(
        TeacherExercise.id == exercise_id, TeacherExercise.teacher_id == teacher_id))


def save(session: Session, teacher_id: int, spec: Spec, *, max_exercises: int,
         exercise: TeacherExercise | None = None) -> TeacherExercise:
    """A new exercise (``exercise`` None) or a new version of the teacher's own one."""
    if exercise is None:
        count = session.scalar(select(func.count()).select_from(TeacherExercise)
                               .where(TeacherExercise.teacher_id == teacher_id)) or 0
        if count >= max_exercises:
            raise ClassroomError(N_("You have {n} exercises, the most allowed: delete an old "
                                    "one first."), n=count)
        exercise = TeacherExercise(teacher_id=teacher_id, version=0)
        session.add(exercise)
    exercise.title, exercise.prompt_en, exercise.prompt_ja = (spec.title, spec.prompt_en,
                                                              spec.prompt_ja)
    exercise.starter, exercise.solution, exercise.seed = spec.starter, spec.solution, spec.seed
    exercise.checks = json.dumps([c.model_dump(exclude_none=True) for c in spec.checks])
    exercise.params = spec.params_text
    exercise.version = (exercise.version or 0) + 1
    session.flush()
    return exercise


def delete_exercise(session: Session, exercise: TeacherExercise) -> None:
    """The exercise and its assignments; attempts stay in the students' history (the
    dashboard shows assigned exercises only)."""
    session.execute(delete(Assignment).where(Assignment.lesson_id == TEACHER_LESSON,
                                             Assignment.exercise_id == str(exercise.id)))
    session.delete(exercise)
    session.flush()


def ref(exercise: TeacherExercise) -> ExerciseRef:
    return ExerciseRef(TEACHER_LESSON, str(exercise.id))


def assignable(session: Session, teacher_id: int) -> dict[str, ExerciseRef]:
    """The teacher's own exercises by assignment key: only these may be assigned."""
    return {ref(e).key: ref(e) for e in teacher_exercises(session, teacher_id)}


def titles(session: Session, refs: list[ExerciseRef]) -> dict[str, str]:
    """The titles of the teacher exercises among ``refs``, by key."""
    ids = [int(r.exercise_id) for r in refs
           if r.lesson_id == TEACHER_LESSON and r.exercise_id.isdigit()]
    if not ids:
        return {}
    found = session.scalars(select(TeacherExercise).where(TeacherExercise.id.in_(ids)))
    return {ref(e).key: e.title for e in found}


def links(refs: list[ExerciseRef]) -> dict[str, str]:
    """Where a student opens each teacher exercise among ``refs``."""
    return {r.key: f"/me/exercises/{r.exercise_id}" for r in refs
            if r.lesson_id == TEACHER_LESSON}


def for_student(session: Session, student: Student,
                exercise_id: int) -> TeacherExercise | None:
    """The exercise when it is assigned to the student's class; None otherwise, exactly
    as for one that does not exist."""
    assigned = session.scalar(select(Assignment.id).where(
        Assignment.class_id == student.class_id, Assignment.lesson_id == TEACHER_LESSON,
        Assignment.exercise_id == str(exercise_id)))
    return session.get(TeacherExercise, exercise_id) if assigned is not None else None


# --- checking a student's program ---

class _References:
    """Reference runs by (exercise, version, variant), least recently used dropped first."""

    def __init__(self) -> None:
        self._runs: OrderedDict[tuple[int, int, str], dict[str, Any]] = OrderedDict()

    def get(self, key: tuple[int, int, str]) -> dict[str, Any] | None:
        run = self._runs.get(key)
        if run is not None:
            self._runs.move_to_end(key)
        return run

    def put(self, key: tuple[int, int, str], run: dict[str, Any], limit: int) -> None:
        self._runs[key] = run
        while len(self._runs) > max(limit, 0):
            self._runs.popitem(last=False)


_references = _References()


async def check(executor: Executor, settings: Settings, client: object, variant: Variant,
                code: str) -> checker.Report:
    """The student's ``code`` against the reference of their variant."""
    key = (variant.exercise_id, variant.version, variant.described)
    reference = _references.get(key)
    report, ran = await checker.check_against(executor, settings, client, code,
                                              variant.starter, variant.solution,
                                              variant.checks, variant.seed, reference)
    if reference is None and ran.get("ok"):
        _references.put(key, ran, settings.teacher_reference_cache_entries)
    return report
