"""Teachers' own exercises through HTTP (the real app and its sandbox workers), against
SQLite and PostgreSQL: the reference is run before saving and a wrong one is refused with
the reason; CSRF; only teachers write exercises and only their own; texts are escaped;
each student gets their own variant, the same on every device; checks of it are recorded
with the variant and show on the dashboard and in the CSV."""

from __future__ import annotations

import csv
import html
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.classroom import exercises
from app.classroom.db import database_for
from app.classroom.models import TEACHER_LESSON, Attempt, TeacherExercise
from app.config import Settings
from tests.classroom import test_routes
from tests.classroom.test_routes import SCRIPT, _join, create_class, csrf_of, login

# The classroom route tests' fixtures: this test's database under the session's app.
settings_for = test_routes.settings_for
web = test_routes.web

STARTER = ("torch.manual_seed({{s}})\n"
           "x = torch.randn({{size}}) * {{k}}\n"
           "y = ...  # the sum of x over its first dimension\n")
SOLUTION = ("torch.manual_seed({{s}})\n"
            "x = torch.randn({{size}}) * {{k}}\n"
            "y = x.sum(dim=0)\n")
PARAMS = "size: shape (2, 3) | (4, 5) | (3, 7)\nk: int 2..9\ns: seed"


def form(web: TestClient, **changes: str) -> dict[str, str]:
    fields = {"title": "Column sums",
              "prompt_en": "Sum `x` (shape {{size}}, times {{k}}) over dim 0 into `y`.",
              "prompt_ja": "`x`（形状 {{size}}）を 0 次元目で合計して `y` にしてください。",
              "starter": STARTER, "solution": SOLUTION, "params": PARAMS, "seed": "0",
              "target_0": "var", "name_0": "y", "compare_0": "values", "rtol_0": "1e-5",
              "atol_0": "1e-6", "target_1": "var", "name_1": "y", "compare_1": "shape",
              "target_2": ""}
    fields.update(changes)
    if "csrf" not in fields:
        fields["csrf"] = csrf_of(web, "/teacher/exercises/new")
    return fields


def saved_count(settings: Settings) -> int:
    with database_for(settings).session() as session:
        return session.scalar(select(func.count()).select_from(TeacherExercise)) or 0


def create_exercise(web: TestClient, **changes: str) -> int:
    answer = web.post("/teacher/exercises", data=form(web, **changes), follow_redirects=False)
    assert answer.status_code == 303, answer.text[-3000:]
    return int(answer.headers["location"].split("?")[0].rsplit("/", 1)[1])


def refusal(web: TestClient, **changes: str) -> str:
    answer = web.post("/teacher/exercises", data=form(web, **changes))
    assert answer.status_code == 400, answer.text[-2000:]
    found = re.search(r'<p class="notice" role="alert" data-exercise-error>(.*?)</p>',
                      answer.text, re.S)
    assert found, answer.text[-2000:]
    # The form comes back filled in, so the teacher fixes rather than retypes it.
    assert html.escape(changes.get("title", "Column sums")) in answer.text
    return html.unescape(found.group(1))


def test_a_wrong_reference_cannot_be_saved(web: TestClient, settings_for: Settings) -> None:
    login(web)
    raises = SOLUTION.replace("dim=0", "dim=5")
    assert "did not finish: IndexError" in refusal(web, solution=raises)
    # Right for one shape only: the validation runs the smallest and largest inputs too.
    one_shape = SOLUTION.replace("y = x.sum(dim=0)", "y = x.sum(dim=0) + torch.ones(3)")
    said = refusal(web, solution=one_shape)
    assert "With the inputs size=(3, 7), k=9" in said
    assert "did not finish: RuntimeError" in said
    said = refusal(web, name_0="z")
    assert "does not pass its own checks: There is no variable z" in said
    said = refusal(web, target_0="grad", compare_0="values")
    assert "does not pass its own checks: y.grad is None" in said
    assert "{{m}} is used but not declared" in refusal(web, prompt_en="Use {{m}}.")
    assert "starter code is the reference" in refusal(web, starter=SOLUTION)
    assert "line 1" in refusal(web, params="size: shape [2, 3]")
    assert "rtol and atol apply only" in refusal(web, compare_0="shape")
    assert "at least one check" in refusal(web, target_0="", target_1="")
    said = refusal(web, solution="y = open('/etc/passwd').read()")
    assert "did not finish: " in said and "open" in said, said
    web.cookies.set("lang", "ja")
    assert "模範解答" in refusal(web, solution=raises)
    web.cookies.delete("lang")
    assert saved_count(settings_for) == 0

    exercise_id = create_exercise(web)
    page = web.get(f"/teacher/exercises/{exercise_id}?saved=1").text
    assert "the reference solution passed its checks" in page
    # The preview shows three students' variants, with their values in the starter.
    assert len(re.findall(r"Inputs: size=\(", page)) == 3 and "{{size}}" not in page.split(
        "What three students would see")[1]
    # An edit is checked the same way, and a refused one changes nothing.
    answer = web.post(f"/teacher/exercises/{exercise_id}",
                      data=form(web, title="Edited", solution=raises))
    assert answer.status_code == 400 and "IndexError" in answer.text
    answer = web.post(f"/teacher/exercises/{exercise_id}", data=form(web, title="Edited"),
                      follow_redirects=False)
    assert answer.status_code == 303
    with database_for(settings_for).session() as session:
        saved = session.get(TeacherExercise, exercise_id)
        assert saved is not None and (saved.title, saved.version) == ("Edited", 2)


def test_only_a_teacher_writes_exercises_and_only_their_own(web: TestClient,
                                                             settings_for: Settings) -> None:
    login(web)
    exercise_id = create_exercise(web)
    _, code = create_class(web)
    token = csrf_of(web, "/teacher/classes")
    # CSRF: without the token or with another one, nothing is saved or deleted.
    fields = form(web)
    del fields["csrf"]
    assert web.post("/teacher/exercises", data=fields).status_code == 403
    assert web.post("/teacher/exercises", data={**fields, "csrf": "guess"}).status_code == 403
    assert web.post(f"/teacher/exercises/{exercise_id}/delete").status_code == 403
    teacher_cookies = dict(web.cookies)

    # Another teacher: the exercise looks like none at all and cannot be assigned.
    web.cookies.clear()
    login(web, "suzuki")
    other_token = csrf_of(web, "/teacher/classes")
    for path in (f"/teacher/exercises/{exercise_id}",):
        assert web.get(path).status_code == 404
    assert web.post(f"/teacher/exercises/{exercise_id}", data=form(web)).status_code == 404
    assert web.post(f"/teacher/exercises/{exercise_id}/delete",
                    data={"csrf": other_token}).status_code == 404
    assert f"{TEACHER_LESSON}/{exercise_id}" not in web.get("/teacher/exercises").text
    other_class, _ = create_class(web, "Theirs")
    web.post(f"/teacher/classes/{other_class}/assignments",
             data={"csrf": other_token, "exercise": f"{TEACHER_LESSON}/{exercise_id}"})
    assert "Column sums" not in web.get(f"/teacher/classes/{other_class}").text

    # A student (and an anonymous visitor) neither writes nor reads teachers' exercises.
    web.cookies.clear()
    _join(web, code, "Aiko")
    student_token = csrf_of(web, "/join")
    for path in ("/teacher/exercises", "/teacher/exercises/new",
                 f"/teacher/exercises/{exercise_id}"):
        answer = web.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/teacher/login"), path
    assert web.post("/teacher/exercises",
                    data=form(web, csrf=student_token)).status_code == 403
    assert web.post(f"/teacher/exercises/{exercise_id}/delete",
                    data={"csrf": student_token}).status_code == 403
    # Not assigned to the class yet: the student's page for it does not exist.
    assert web.get(f"/me/exercises/{exercise_id}").status_code == 404
    web.cookies.clear()
    assert web.get(f"/me/exercises/{exercise_id}", follow_redirects=False) \
        .headers["location"] == "/join"
    assert web.post(f"/me/exercises/{exercise_id}/check",
                    data={"csrf": csrf_of(web, "/join"), "code": "y = 1"}).status_code == 403
    assert saved_count(settings_for) == 1

    web.cookies.clear()
    web.cookies.update(teacher_cookies)
    web.post(f"/teacher/exercises/{exercise_id}/delete", data={"csrf": token})
    assert saved_count(settings_for) == 0


def test_texts_are_escaped_everywhere(web: TestClient) -> None:
    login(web)
    exercise_id = create_exercise(web, title=SCRIPT[:40], prompt_en=f"{SCRIPT} {{{{k}}}}",
                                  prompt_ja="<img src=x onerror=alert(1)> {{k}}",
                                  starter=STARTER + "# </textarea><script>alert(2)</script>")
    class_id, code = create_class(web)
    web.post(f"/teacher/classes/{class_id}/assignments",
             data={"csrf": csrf_of(web, "/teacher/classes"),
                   "exercise": f"{TEACHER_LESSON}/{exercise_id}"})
    for path in ("/teacher/exercises", f"/teacher/exercises/{exercise_id}",
                 f"/teacher/classes/{class_id}"):
        page = web.get(path).text
        assert "<script>alert" not in page and "onerror=alert" not in page.replace(
            "&lt;img src=x onerror=alert(1)&gt;", ""), path
    web.cookies.clear()
    _join(web, code, "Aiko")
    for lang in ("en", "ja"):
        web.cookies.set("lang", lang)
        for page in (web.get("/me").text, web.get(f"/me/exercises/{exercise_id}").text):
            assert "<script>alert" not in page and "<img src=x" not in page
            assert "</textarea><script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown as the text it is


def _inputs(page: str) -> str:
    found = re.search(r"Your inputs: ([^<]+)</p>", page)
    assert found, page[-2000:]
    return html.unescape(found.group(1))


def _starter(page: str) -> str:
    found = re.search(r'<textarea id="sec-0-code"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    return html.unescape(found.group(1))


def test_each_student_solves_their_own_variant(web: TestClient,
                                               settings_for: Settings) -> None:
    login(web)
    exercise_id = create_exercise(web)
    class_id, code = create_class(web)
    web.post(f"/teacher/classes/{class_id}/assignments",
             data={"csrf": csrf_of(web, "/teacher/classes"),
                   "exercise": ["stack-vs-cat/make-a-batch", f"{TEACHER_LESSON}/{exercise_id}"]})
    teacher_cookies = dict(web.cookies)
    check = f"/me/exercises/{exercise_id}/check"

    seen: dict[str, str] = {}
    for name in ("Aiko", "Ben", "Chika"):
        web.cookies.clear()
        recovery = _join(web, code, name)
        me = web.get("/me").text
        assert f'href="/me/exercises/{exercise_id}"' in me and "Column sums" in me
        page = web.get(f"/me/exercises/{exercise_id}").text
        values = _inputs(page)
        starter = _starter(page)
        assert "{{" not in page and values == _inputs(web.get(f"/me/exercises/{exercise_id}").text)
        size = re.search(r"size=(\([0-9, ]+\))", values).group(1)  # type: ignore[union-attr]
        assert f"torch.randn({size})" in starter
        # Another device: the recovery code brings the same seat, so the same variant.
        web.cookies.clear()
        web.post("/join/recover", data={"csrf": csrf_of(web, "/join"), "recovery": recovery})
        assert _inputs(web.get(f"/me/exercises/{exercise_id}").text) == values
        seen[name] = values
        token = csrf_of(web, f"/me/exercises/{exercise_id}")
        untouched = web.post(check, data={"csrf": token, "code": starter})
        assert "Not attempted yet" in untouched.text
        assert web.post(check, data={"code": starter}).status_code == 403  # CSRF
        if name == "Chika":  # the wrong dimension
            answer = web.post(check, data={"csrf": token,
                                           "code": starter.replace("...", "x.sum(dim=1)")},
                              headers={"HX-Request": "true"})
            assert "Not yet" in answer.text and "y has shape" in answer.text
        else:
            answer = web.post(check, data={"csrf": token,
                                           "code": starter.replace("...", "x.sum(dim=0)")},
                              headers={"HX-Request": "true"})
            assert "Correct: every check passed." in answer.text, answer.text[-3000:]
            assert answer.text.lstrip().startswith('<div class="lesson-output"')
    assert len(set(seen.values())) == 3  # neighbours differ (the seed alone has 100,000 values)
    # Expected values come from the student's own variant: Aiko's program, run as Ben's
    # answer, computes the sum of another tensor and fails.
    web.cookies.clear()
    _join(web, code, "Dai")
    page = web.get(f"/me/exercises/{exercise_id}").text
    token = csrf_of(web, f"/me/exercises/{exercise_id}")
    wrong_seed = _starter(page).replace("...", "x.sum(dim=0)").replace(
        "manual_seed(", "manual_seed(1 + ")
    assert "Not yet" in web.post(check, data={"csrf": token, "code": wrong_seed}).text

    with database_for(settings_for).session() as session:
        attempts = session.scalars(select(Attempt).where(
            Attempt.lesson_id == TEACHER_LESSON).order_by(Attempt.id)).all()
        assert [a.passed for a in attempts] == [True, True, False, False]
        assert [a.variant for a in attempts[:3]] == list(seen.values())
        exercise = session.get(TeacherExercise, exercise_id)
        assert exercise is not None
        assert exercises.variant_for(exercise, attempts[0].student_id).described == seen["Aiko"]

    web.cookies.clear()
    web.cookies.update(teacher_cookies)
    board = web.get(f"/teacher/classes/{class_id}/dashboard", headers={"HX-Request": "true"})
    assert "Column sums" in board.text
    for values in seen.values():
        assert html.escape(values) in board.text
    rows = list(csv.reader(io.StringIO(web.get(f"/teacher/classes/{class_id}/export.csv").text)))
    key = f"{TEACHER_LESSON}/{exercise_id}"
    assert rows[0][4:] == [f"{key} state", f"{key} attempts", f"{key} last error",
                           f"{key} variant"]
    by_name = {row[0]: row[4:] for row in rows[1:]}
    assert by_name["Aiko"] == ["solved", "1", "", seen["Aiko"]]
    assert by_name["Ben"] == ["solved", "1", "", seen["Ben"]]
    assert by_name["Chika"] == ["tried", "1", "", seen["Chika"]]
