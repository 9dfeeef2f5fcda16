"""Check a student's program against an exercise's reference solution.

Both programs run in the sandbox (the same seed and device), so the reference answer is
what torch itself computes, never a number typed into the lesson. The comparison works on
the /eval views both runs return (no tensors cross the process boundary) and says what
differs in plain words, in English and Japanese:
"shape (2, 3) but expected (2, 3, 4)", "x.grad differs at [0, 1]: 1.0 vs 2.0".
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

from app.config import Settings
from app.evaluation import evaluate
from app.executor.base import Executor, QueueFullError
from app.lessons.models import Check, ExerciseSection
from app.message import Message, Text, error_body
from app.playground import service
from app.playground.grid import format_number
from app.schemas import EvalRequest

DEFAULT_TOLERANCE = 1e-4  # float32 maths through different kernels differs in the 6th digit
MAX_QUOTED = 60  # characters of a printed line quoted in a message


@dataclass
class Report:
    """The verdict on one attempt: ``problems`` is empty when every check passed."""

    run: service.Run  # the student's run (its error card, result and output are shown)
    problems: list[Message] = field(default_factory=list)
    checked: int = 0  # how many checks were compared
    # Expected next to got for every check that failed on an array or a number, so a
    # student sees the whole difference rather than its first element.
    side_by_side: list[SideBySide] = field(default_factory=list)
    not_attempted: bool = False

    @property
    def passed(self) -> bool:
        return not self.problems and self.checked > 0


MAX_GRID_ROWS = 8  # a side-by-side grid shows this corner of a larger tensor
MAX_GRID_COLUMNS = 10
NOT_ATTEMPTED = Message("Not attempted yet: this is the starter code. Change it as the exercise "
                        "asks, then check again.")


@dataclass(frozen=True)
class Cell:
    text: str
    differs: bool


@dataclass
class SideBySide:
    """One failed check drawn as two grids, the student's and the reference's, with the
    cells that differ marked (a 0-d value is a 1×1 grid; more than 2-D shows shapes only)."""

    name: Text
    got_shape: str
    want_shape: str
    got: list[list[Cell]] | None
    want: list[list[Cell]] | None
    cropped: bool = False  # only the top-left corner is drawn

    @property
    def shapes_differ(self) -> bool:
        return self.got_shape != self.want_shape


def shape_text(shape: list[int] | tuple[int, ...]) -> str:
    """A shape as Python writes a tuple: (3,), (2, 3)."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _number(value: Any, digits: int = 7) -> str:
    """A value in a message: enough digits to show why two numbers differ (float32 has
    about 7), and a float always looks like a float."""
    if isinstance(value, str):
        return value  # "nan", "inf", "-inf" as the engine sends them
    if isinstance(value, float) and math.isfinite(value):
        text = f"{value:.{digits}g}"
        return text if any(c in text for c in ".en") else text + ".0"
    return format_number(value)


def _two_numbers(got: Any, want: Any) -> tuple[str, str]:
    """Both numbers of a difference, with as many digits as it takes to tell them apart
    (float64 values can differ past float32's 7 digits: "0.3366904 vs 0.3366904")."""
    for digits in (7, 10, 17):
        pair = _number(got, digits), _number(want, digits)
        if pair[0] != pair[1]:
            return pair
    return pair


def _target_name(target: str) -> Text:
    if target == "result":
        return Message("the result")
    if target == "stdout":
        return Message("the printed output")
    kind, name = target.split(":", 1)
    return name if kind == "var" else Message("{name}.grad", name=name)


def _lookup(data: dict[str, Any], target: str) -> tuple[Any, Message | None]:
    """(the view or text a check looks at, or None with the reason it is missing)."""
    if target == "result":
        view = data.get("result")
        if view is None:
            return None, Message("There is no result: end the program with an expression, for "
                                 "example the name of the tensor.")
        return view, None
    if target == "stdout":
        return data.get("stdout") or "", None
    kind, name = target.split(":", 1)
    view = (data.get("variables") or {}).get(name)
    if view is None:
        # Functions and other non-values are left out of the view: `f = torch.cuda.is_available`
        # without the call ends here too.
        return None, Message("There is no variable {name} at the end of your program, or it holds "
                             "no value (for example a function that was not called).", name=name)
    if kind == "grad":
        grad = view.get("grad") if isinstance(view, dict) else None
        if grad is None and isinstance(view, dict) and view.get("is_leaf") is False:
            # The student did ask for gradients; the name now holds a computed tensor, so
            # "use requires_grad=True" would send them the wrong way.
            return None, Message("{name} is not a leaf (it was computed by an operation), so its "
                                 ".grad is not kept: call {name}.retain_grad() before backward(), "
                                 "or change the original {name} in place instead of rebinding the "
                                 "name.", name=name)
        if grad is None:
            return None, Message("{name}.grad is None: create {name} with requires_grad=True and "
                                 "call backward() on a result computed from it.", name=name)
        return grad, None
    return view, None


def _is_ellipsis(view: Any) -> bool:
    return isinstance(view, dict) and view.get("type") == "ellipsis"


def untouched(code: str, starter: str) -> bool:
    """The starter handed in as it is (blank lines and trailing spaces do not count)."""
    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return lines(code) == lines(starter)


_KIND_NAMES: dict[str, Message] = {
    "tensor": Message("a tensor"), "ndarray": Message("a NumPy array"),
    "scalar": Message("a number"), "shape": Message("a torch.Size"),
    "dtype": Message("a dtype"), "list": Message("a list"), "tuple": Message("a tuple"),
    "dict": Message("a dict"), "none": Message("None"), "module": Message("a module"),
    "text": Message("a string"),
}


def _kind_text(view: Any) -> Message:
    kind = view.get("kind") if isinstance(view, dict) else type(view).__name__
    return _KIND_NAMES.get(str(kind)) or Message("a {kind}", kind=str(kind))


def _is_array(view: Any) -> bool:
    return isinstance(view, dict) and view.get("kind") in ("tensor", "ndarray")


def _shape_of(view: Any) -> list[int] | None:
    if _is_array(view):
        return list(view.get("shape") or [])
    if isinstance(view, dict) and view.get("kind") == "shape":
        return list(view.get("value") or [])
    return None


def _dtype_of(view: Any) -> str | None:
    if _is_array(view):
        return str(view.get("dtype"))
    if isinstance(view, dict) and view.get("kind") == "dtype":
        return str(view.get("value"))
    if isinstance(view, dict) and view.get("kind") == "scalar":
        return str(view.get("type"))
    return None


@dataclass(frozen=True)
class Tolerance:
    """How far apart two numbers may be and still count as equal (math.isclose's rel_tol
    and abs_tol); both 0 means exactly equal."""

    rtol: float
    atol: float


EXACT = Tolerance(0.0, 0.0)


def tolerance_of(check: Check) -> Tolerance:
    """A check's tolerance: exact for "equal"; else its rtol and atol, each defaulting to
    its ``tolerance`` (both at once), or DEFAULT_TOLERANCE."""
    if check.compare == "equal":
        return EXACT
    both = check.tolerance or DEFAULT_TOLERANCE
    return Tolerance(both if check.rtol is None else check.rtol,
                     both if check.atol is None else check.atol)


def _close(got: Any, want: Any, tolerance: Tolerance) -> bool:
    if isinstance(got, bool) or isinstance(want, bool):
        return got == want
    if isinstance(got, int | float) and isinstance(want, int | float):
        if tolerance == EXACT:
            return got == want
        return math.isclose(got, want, rel_tol=tolerance.rtol, abs_tol=tolerance.atol)
    return got == want  # "nan" == "nan": the same non-finite value counts as equal


def _first_difference(got: Any, want: Any, tolerance: Tolerance,
                      index: tuple[int, ...] = ()) -> tuple[tuple[int, ...], Any, Any] | None:
    """The index of the first element that differs in two nested value lists."""
    if isinstance(want, list) and isinstance(got, list):
        for i, (g, w) in enumerate(zip(got, want, strict=False)):
            found = _first_difference(g, w, tolerance, (*index, i))
            if found:
                return found
        if len(got) != len(want):
            return (*index, min(len(got), len(want))), None, None
        return None
    return None if _close(got, want, tolerance) else (index, got, want)


def _index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def compare(got: Any, want: Any, check: Check) -> Message | None:
    """None when ``got`` passes ``check`` against ``want``, else what differs."""
    name = _target_name(check.target)
    if check.target == "stdout":
        return _compare_text(str(got), str(want))
    if _is_ellipsis(got):
        return Message("{name} is still ... (not attempted yet): replace the ... with your code.",
                       name=name)
    got_kind, want_kind = _kind_text(got), _kind_text(want)
    # A tensor is not a NumPy array (getting one from the other is what lessons teach),
    # but a plain number may stand for a 0-dimensional tensor when only values count:
    # `loss.item()` answers "compute the loss" as well as `loss` does.
    same_kind = isinstance(got, dict) and isinstance(want, dict) and (
        got.get("kind") == want.get("kind") or (
            check.compare == "values" and got.get("kind") == "scalar"
            and _is_array(want) and not want.get("shape")))
    if not same_kind:
        return Message("{name} is {got} but expected {want}.",
                       name=name, got=got_kind, want=want_kind)
    if check.compare in ("shape", "values", "equal") and _is_array(want) and _is_array(got):
        got_device, want_device = got.get("device"), want.get("device")
        if want_device is not None and got_device != want_device:
            return Message("{name} is on device {got_device} but expected {want_device}.",
                           name=name, got_device=got_device, want_device=want_device)
    if check.compare in ("shape", "values", "equal"):
        got_shape, want_shape = _shape_of(got), _shape_of(want)
        if got.get("kind") == "scalar":
            got_shape = []  # a plain number stands for a 0-dimensional tensor (see above)
        if want_shape is not None and got_shape != want_shape:
            g, w = shape_text(got_shape or []), shape_text(want_shape)
            return Message("{name} has shape {g} but expected {w}.", name=name, g=g, w=w)
        if check.compare == "shape":
            return None
    if check.compare in ("dtype", "equal"):
        got_dtype, want_dtype = _dtype_of(got), _dtype_of(want)
        if got_dtype != want_dtype:
            return Message("{name} has dtype {got_dtype} but expected {want_dtype}.",
                           name=name, got_dtype=str(got_dtype), want_dtype=str(want_dtype))
        if check.compare == "dtype":
            return None
    return _compare_values(got, want, tolerance_of(check), name)


def _payload(view: dict[str, Any]) -> Any:
    if _is_array(view):
        return view.get("values")
    if view.get("kind") in ("list", "tuple"):
        return [_payload(item) for item in view.get("items") or []]
    if view.get("kind") == "dict":
        return {str(item.get("key")): _payload(item) for item in view.get("items") or []}
    if "value" in view:
        return view["value"]
    return view.get("repr")


def _compare_values(got: dict[str, Any], want: dict[str, Any], tolerance: Tolerance,
                    name: Text) -> Message | None:
    g, w = _payload(got), _payload(want)
    if isinstance(g, dict) or isinstance(w, dict):
        if not isinstance(g, dict) or not isinstance(w, dict) or set(g) != set(w):
            return Message("{name} has other keys than expected.", name=name)
        differing = next((k for k in w if _first_difference(g[k], w[k], tolerance)), None)
        if differing is None:
            return None
        return Message("{name}[{differing!r}] differs from the expected value.",
                       name=name, differing=differing)
    if not isinstance(w, list):
        if _close(g, w, tolerance):
            return None
        got_text, want_text = _two_numbers(g, w)
        return Message("{name} is {got_text} but expected {want_text}.",
                       name=name, got_text=got_text, want_text=want_text)
    found = _first_difference(g, w, tolerance)
    if found is None:
        return None
    index, got_value, want_value = found
    if got_value is None and want_value is None:
        return Message("{name} has a different number of elements.", name=name)
    at = _index_text(index)
    got_text, want_text = _two_numbers(got_value, want_value)
    return Message("{name} differs at {at}: {got_text} vs {want_text} (yours vs expected).",
                   name=name, at=at, got_text=got_text, want_text=want_text)


def _grid(values: Any) -> tuple[list[list[Any]], bool] | None:
    """Values as rows (a number is one row of one), cropped to the grid's corner; None
    for more than two dimensions."""
    if not isinstance(values, list):
        return [[values]], False
    rows = values if values and isinstance(values[0], list) else [values]
    if any(isinstance(v, list) for row in rows for v in row):
        return None
    cropped = len(rows) > MAX_GRID_ROWS or any(len(r) > MAX_GRID_COLUMNS for r in rows)
    return [row[:MAX_GRID_COLUMNS] for row in rows[:MAX_GRID_ROWS]], cropped


def _cells(mine: list[list[Any]], other: list[list[Any]],
           tolerance: Tolerance) -> list[list[Cell]]:
    def at(rows: list[list[Any]], i: int, j: int) -> Any:
        return rows[i][j] if i < len(rows) and j < len(rows[i]) else _MISSING
    return [[Cell(_number(v), at(other, i, j) is _MISSING or not _close(v, at(other, i, j),
                                                                      tolerance))
             for j, v in enumerate(row)] for i, row in enumerate(mine)]


_MISSING = object()


def side_by_side(got: Any, want: Any, check: Check) -> SideBySide | None:
    """Both values of a failed check as grids, or None where a grid says nothing more than
    the message (text, a dict, a module, different kinds)."""
    if check.target == "stdout" or not isinstance(got, dict) or not isinstance(want, dict):
        return None
    def numeric(view: dict[str, Any]) -> bool:
        return _is_array(view) or view.get("kind") == "scalar"
    if not (numeric(got) and numeric(want)) or any(
            _is_array(view) and view.get("values") is None for view in (got, want)):
        return None
    tolerance = tolerance_of(check)
    got_grid, want_grid = _grid(_payload(got)), _grid(_payload(want))
    got_shape = shape_text(_shape_of(got) or []) if _is_array(got) else "–"
    want_shape = shape_text(_shape_of(want) or []) if _is_array(want) else "–"
    if got_grid is None or want_grid is None:
        return SideBySide(_target_name(check.target), got_shape, want_shape, None, None)
    return SideBySide(_target_name(check.target), got_shape, want_shape,
                      _cells(got_grid[0], want_grid[0], tolerance),
                      _cells(want_grid[0], got_grid[0], tolerance),
                      got_grid[1] or want_grid[1])


def _quote(line: str) -> str:
    return repr(line if len(line) <= MAX_QUOTED else line[:MAX_QUOTED] + "…")


def _compare_text(got: str, want: str) -> Message | None:
    got_lines, want_lines = got.rstrip("\n").split("\n"), want.rstrip("\n").split("\n")
    if got_lines == want_lines:
        return None
    for i, (g, w) in enumerate(zip(got_lines, want_lines, strict=False), start=1):
        if g != w:
            return Message("The printed output differs at line {i}: {got} but expected {want}.",
                           i=i, got=_quote(g), want=_quote(w))
    return Message("The program printed {got} lines but {want} were expected.",
                   got=len(got_lines), want=len(want_lines))


def _program_failed(data: dict[str, Any]) -> Message:
    error = data.get("error") or {}
    kind = error.get("type", "Error")
    # The sandbox's own refusal in the page's language; torch's words as torch wrote them.
    message = Message.from_json(error.get("message_i18n")) or error.get("message", "")
    return Message("Your program did not finish: {kind}: {message}", kind=kind, message=message)


def evaluate_attempt(student: dict[str, Any], reference: dict[str, Any],
                     checks: list[Check]) -> tuple[list[Message], int]:
    """(problems, checks compared) for a student's /eval body against the reference's."""
    if not reference.get("ok"):
        # The catalog tests keep this from happening; if it does, say so rather than
        # blaming the student.
        return [Message("The reference solution failed on this server; this exercise cannot be "
                        "checked here.")], 0
    if not student.get("ok"):
        return [_program_failed(student)], 0
    problems: list[Message] = []
    failed: set[str] = set()  # one message per target: its later checks would repeat it
    for check in checks:
        if check.target in failed:
            continue
        want, _ = _lookup(reference, check.target)
        got, missing = _lookup(student, check.target)
        if missing is not None:
            problems.append(missing)
            failed.add(check.target)
            continue
        found = compare(got, want, check)
        if found is not None:
            problems.append(found)
            failed.add(check.target)
    return problems, len(checks)


async def run_reference(executor: Executor, settings: Settings, code: str,
                        seed: int) -> dict[str, Any]:
    """A program of the catalog, run without drawing on the visitor's rate limit (it is
    the lesson's work, not theirs)."""
    try:
        outcome = await evaluate(executor, settings, EvalRequest(code=code, seed=seed))
    except QueueFullError as busy:
        return error_body("QueueFullError", str(busy))
    return outcome.data


_reference_cache: dict[tuple[str, str, str], dict[str, Any]] = {}


async def check_exercise(executor: Executor, settings: Settings, client: object,
                         lesson_id: str, exercise: ExerciseSection, code: str) -> Report:
    """Run the student's ``code`` and the reference solution (cached after its first run:
    the catalog is fixed while the server runs) and compare them per the checks."""
    key = (lesson_id, exercise.id, "auto")
    reference = _reference_cache.get(key)
    report, ran = await check_against(executor, settings, client, code, exercise.starter,
                                      exercise.solution, exercise.checks, exercise.seed,
                                      reference)
    if reference is None and ran.get("ok"):
        _reference_cache[key] = ran
    return report


async def check_against(executor: Executor, settings: Settings, client: object, code: str,
                        starter: str, solution: str, checks: list[Check], seed: int,
                        reference: dict[str, Any] | None = None,
                        ) -> tuple[Report, dict[str, Any]]:
    """Check ``code`` against ``solution`` (run here unless ``reference`` is its earlier
    run): the report, and the reference's run for the caller to keep. Catalog exercises and
    a teacher's own ones (app/classroom/exercises.py) are both checked here."""
    student_run: service.Run
    if reference is None:
        student_run, reference = await asyncio.gather(
            service.run_program(executor, settings, client, code, seed, "auto"),
            run_reference(executor, settings, solution, seed))
    else:
        student_run = await service.run_program(executor, settings, client, code, seed,
                                                "auto")
    if untouched(code, starter):
        return Report(student_run, [NOT_ATTEMPTED], 0, not_attempted=True), reference
    problems, checked = evaluate_attempt(student_run.data, reference, checks)
    return Report(student_run, problems, checked,
                  side_by_side_views(student_run.data, reference, checks)), reference


def side_by_side_views(student: dict[str, Any], reference: dict[str, Any],
                       checks: list[Check]) -> list[SideBySide]:
    """A grid pair for every failed check on a number or an array (one per target)."""
    if not student.get("ok") or not reference.get("ok"):
        return []
    views: list[SideBySide] = []
    seen: set[str] = set()
    for check in checks:
        want, _ = _lookup(reference, check.target)
        got, missing = _lookup(student, check.target)
        if missing is not None or check.target in seen or compare(got, want, check) is None:
            continue
        view = side_by_side(got, want, check)
        if view is not None:
            seen.add(check.target)
            views.append(view)
    return views
