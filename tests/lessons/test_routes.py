"""The lesson pages over HTTP: every lesson in both languages, 404s, and the buttons (run,
check, chart, calculator) with htmx and as plain form posts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.lessons.loader import Catalog, load_catalog
from app.lessons.models import ExampleSection, ExerciseSection
from app.playground import permalink
from app.playground.permalink import Share

HTMX = {"HX-Request": "true"}
LESSON_IDS = [lesson.id for lesson in load_catalog().lessons]


@pytest.fixture(autouse=True)
def _no_language_cookie(client: TestClient) -> Iterator[None]:
    client.cookies.clear()
    yield
    client.cookies.clear()


class Tags(HTMLParser):
    """(tag, attributes) of every element, for checks on chosen elements."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.found
                if t == tag and all(a.get(k.rstrip("_").replace("_", "-")) == v
                                    for k, v in attrs.items())]


def test_index_lists_every_lesson_in_order(client: TestClient, catalog: Catalog) -> None:
    html = client.get("/lessons").text
    items = Tags(html).all("li", class_="lesson-card")
    assert [i["data-lesson"] for i in items] == [lesson.id for lesson in catalog.lessons]
    first = catalog.lessons[0]
    assert items[0]["data-exercises"] == " ".join(e.id for e in first.exercises)
    assert f'href="/lessons/{first.id}"' in html
    nav = Tags(html).all("a", href="/lessons")
    assert nav and nav[0].get("aria-current") == "page"


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_lesson_renders_in_both_languages(client: TestClient, catalog: Catalog,
                                                lesson_id: str, language: str) -> None:
    lesson = catalog.get(lesson_id)
    assert lesson is not None
    response = client.get(f"/lessons/{lesson_id}", headers={"Accept-Language": language})
    assert response.status_code == 200
    html = response.text
    assert f'<html lang="{language}">' in html
    assert lesson.title.get(language) in html
    tags = Tags(html)
    # Every runnable section has its button form and its output region.
    for i, section in enumerate(lesson.sections):
        if isinstance(section, ExampleSection):
            assert tags.all("form", hx_post=f"/lessons/{lesson_id}/run/{i}")
            assert tags.all("div", id=f"sec-{i}-out")
    for exercise in lesson.exercises:
        assert tags.all("form", hx_post=f"/lessons/{lesson_id}/check/{exercise.id}")
    # CSP hygiene: scripts from files only, no inline styles or handlers.
    for tag, attrs in tags.found:
        assert "style" not in attrs and not any(a.startswith("on") for a in attrs), tag
        if tag == "script":
            assert attrs.get("src") in ("/static/vendor/htmx-2.0.11.min.js",
                                        "/static/app.js", "/static/lessons.js",
                                        "/static/provenance.js",
                                        "/static/vendor/codemirror/codemirror.min.js",
                                        "/static/editor.js")
    ids = [a["id"] for _, a in tags.found if a.get("id")]
    assert len(ids) == len(set(ids)), "element ids must be unique"


def test_previous_and_next(client: TestClient, catalog: Catalog) -> None:
    first, second = catalog.lessons[0], catalog.lessons[1]
    tags = Tags(client.get(f"/lessons/{second.id}").text)
    assert tags.all("a", rel="prev")[0]["href"] == f"/lessons/{first.id}"
    assert tags.all("a", rel="next")[0]["href"] == f"/lessons/{catalog.lessons[2].id}"
    assert not Tags(client.get(f"/lessons/{first.id}").text).all("a", rel="prev")
    last = catalog.lessons[-1]
    assert not Tags(client.get(f"/lessons/{last.id}").text).all("a", rel="next")


def test_unknown_lessons_and_sections_are_404(client: TestClient) -> None:
    missing = client.get("/lessons/no-such-lesson")
    assert missing.status_code == 404 and "No such lesson" in missing.text
    assert client.post("/lessons/no-such-lesson/run/0").status_code == 404
    assert client.post("/lessons/stack-vs-cat/run/0").status_code == 404  # a text section
    assert client.post("/lessons/stack-vs-cat/run/999").status_code == 404
    assert client.post("/lessons/stack-vs-cat/check/nope", data={"code": "1"}).status_code \
        == 404
    assert client.post("/lessons/stack-vs-cat/calculator").status_code == 404
    assert client.post("/lessons/stack-vs-cat/plot/0").status_code == 404


def _index(catalog: Catalog, lesson_id: str, predicate: object) -> int:
    lesson = catalog.get(lesson_id)
    assert lesson is not None
    return next(i for i, s in enumerate(lesson.sections) if predicate(s))  # type: ignore[operator]


def test_running_an_example_returns_the_result_fragment(client: TestClient,
                                                       catalog: Catalog) -> None:
    i = _index(catalog, "mm-vs-mul", lambda s: isinstance(s, ExampleSection))
    html = client.post(f"/lessons/mm-vs-mul/run/{i}", headers=HTMX).text
    assert "<html" not in html and 'data-output="scratchpad"' in html
    assert "tensor([[14, 32],\n        [32, 77]])" in html  # the guide's stated output
    assert f'id="sec-{i}-res-result"' in html


def test_an_expected_error_is_confirmed(client: TestClient, catalog: Catalog) -> None:
    i = _index(catalog, "stack-vs-cat", lambda s: getattr(s, "error_type", None) ==
               "IndexError")
    html = client.post(f"/lessons/stack-vs-cat/run/{i}", headers=HTMX).text
    assert 'data-output="compare"' in html
    assert "As the lesson says: it raised IndexError." in html
    assert 'data-error-type="IndexError"' in html


def test_a_compare_example_is_timed(client: TestClient, catalog: Catalog) -> None:
    i = _index(catalog, "stack-vs-cat",
               lambda s: isinstance(s, ExampleSection) and "512" in (s.setup or ""))
    html = client.post(f"/lessons/stack-vs-cat/run/{i}", headers=HTMX).text
    assert 'data-topic="time"' in html and "median" in html


def test_without_javascript_a_post_returns_the_page_with_the_output(
        client: TestClient, catalog: Catalog) -> None:
    i = _index(catalog, "mm-vs-mul", lambda s: isinstance(s, ExampleSection))
    html = client.post(f"/lessons/mm-vs-mul/run/{i}").text
    assert "<html" in html and 'data-output="scratchpad"' in html


def _exercise(catalog: Catalog, lesson_id: str, exercise_id: str) -> ExerciseSection:
    lesson = catalog.get(lesson_id)
    assert lesson is not None
    exercise = lesson.exercise(exercise_id)
    assert exercise is not None
    return exercise


def test_checking_an_exercise_gives_feedback(client: TestClient, catalog: Catalog) -> None:
    exercise = _exercise(catalog, "stack-vs-cat", "make-a-batch")
    url = "/lessons/stack-vs-cat/check/make-a-batch"
    passed = client.post(url, data={"code": exercise.solution}, headers=HTMX).text
    assert 'data-solved="stack-vs-cat/make-a-batch"' in passed
    assert "Correct: every check passed." in passed
    wrong = client.post(url, data={"code": exercise.wrong}, headers=HTMX).text
    assert "data-solved" not in wrong
    assert "batch has shape (6, 4) but expected (2, 3, 4)." in wrong
    ja = client.post(url, data={"code": exercise.wrong},
                     headers={**HTMX, "Accept-Language": "ja"}).text
    assert "batch の形状が (6, 4) ですが、(2, 3, 4) であるべきです。" in ja
    broken = client.post(url, data={"code": "batch = torch.stack(("}, headers=HTMX).text
    assert "did not finish: SyntaxError" in broken and "error-card" in broken


def test_a_failed_check_keeps_the_students_program(client: TestClient) -> None:
    html = client.post("/lessons/stack-vs-cat/check/make-a-batch",
                       data={"code": "batch = 1  # mine"}).text
    assert "<html" in html and "batch = 1  # mine</textarea>" in html


def test_calculator_puts_formula_and_dataloader_side_by_side(client: TestClient) -> None:
    html = client.post("/lessons/epoch-iteration-batch/calculator",
                       data={"size": "10", "batch": "3", "epochs": "2"}, headers=HTMX).text
    assert "⌈10 / 3⌉ = 4" in html and "len(loader) = 4" in html
    assert "The formula and the real DataLoader agree." in html
    dropped = client.post("/lessons/epoch-iteration-batch/calculator",
                          data={"size": "10", "batch": "3", "epochs": "2",
                                "drop_last": "on"}, headers=HTMX).text
    assert "⌊10 / 3⌋ = 3" in dropped and "len(loader) = 3" in dropped
    bad = client.post("/lessons/epoch-iteration-batch/calculator",
                      data={"size": "-1"}, headers=HTMX).text
    assert "from 1 to" in bad


def test_a_chart_is_drawn_as_svg(client: TestClient, catalog: Catalog) -> None:
    i = _index(catalog, "creating-tensors", lambda s: s.kind == "plot")
    html = client.post(f"/lessons/creating-tensors/plot/{i}", headers=HTMX).text
    tags = Tags(html)
    assert tags.all("svg", role="img")
    assert len(tags.all("g")) == 3 and tags.all("polyline")
    assert "normal density" in html
    assert all("style" not in attrs for _, attrs in tags.found)  # colours are classes (CSP)


def test_open_in_scratchpad_and_compare_links_are_permalinks(client: TestClient,
                                                             catalog: Catalog) -> None:
    lesson = catalog.get("stack-vs-cat")
    assert lesson is not None
    tags = Tags(client.get("/lessons/stack-vs-cat").text)
    links = {a["href"] for a in tags.all("a", class_="button") if a.get("href")}
    for i, section in enumerate(lesson.sections):
        if not isinstance(section, ExampleSection):
            continue
        if section.mode == "compare":
            share = Share(mode="compare", inputs=section.setup or "", left=section.left or "",
                          right=section.right or "", seed=section.seed)
            assert f"/compare?p={permalink.encode(share)}" in links, i
        else:
            share = Share(code=section.code or "", seed=section.seed)
            assert f"/?p={permalink.encode(share)}" in links, i
    # Following one reproduces the example in the playground (the link runs it).
    first = next(s for s in lesson.sections
                 if isinstance(s, ExampleSection) and s.mode == "scratchpad")
    page = client.get("/?p=" + permalink.encode(Share(code=first.code or ""))).text
    assert "torch.Size([2, 2, 2])" in page


def test_a_wrong_answer_shows_expected_next_to_got(client: TestClient, catalog: Catalog) -> None:
    exercise = _exercise(catalog, "mm-vs-mul", "two-products")
    html = client.post("/lessons/mm-vs-mul/check/two-products", data={"code": exercise.wrong},
                       headers=HTMX).text
    assert 'data-side-by-side="C"' in html and 'data-side-by-side="D"' not in html
    assert "Yours (2, 3)" in html and "Expected value (2, 2)" in html
    assert "shape (2, 3) ≠ (2, 2)" in html
    # C = A * B.T is [[1, 0, 3], [0, 5, 6]], the product [[4, 5], [10, 11]]: every cell
    # differs, each marked with ≠ as well as a colour.
    grid = html.split('data-side-by-side="C"')[1]
    assert grid.count('class="differs"') == 6 + 4 and 'class="same"' not in grid
    ja = client.post("/lessons/mm-vs-mul/check/two-products", data={"code": exercise.wrong},
                     headers={**HTMX, "Accept-Language": "ja"}).text
    assert "あなたの値 (2, 3)" in ja and "期待値 (2, 2)" in ja


def test_the_side_by_side_marks_only_the_differing_cells(client: TestClient) -> None:
    code = ("a = torch.arange(12.).reshape(3, 4)\nb = -torch.arange(12.).reshape(3, 4)\n"
            "batch = torch.stack((a, b))\nbatch[1, 2, 3] = 99.")
    html = client.post("/lessons/stack-vs-cat/check/make-a-batch", data={"code": code},
                       headers=HTMX).text
    assert "batch differs at [1, 2, 3]: 99.0 vs -11.0 (yours vs expected)." in html
    # more than two dimensions: the shapes are shown, not a grid
    assert 'data-side-by-side="batch"' in html and "diff-grid" not in html


def test_untouched_starter_code_is_not_attempted_yet(client: TestClient,
                                                    catalog: Catalog) -> None:
    for lesson_id, exercise_id in (("creating-tensors", "reproducible"),
                                   ("stack-vs-cat", "make-a-batch")):
        exercise = _exercise(catalog, lesson_id, exercise_id)
        html = client.post(f"/lessons/{lesson_id}/check/{exercise_id}",
                           data={"code": exercise.starter + "\n\n"}, headers=HTMX).text
        assert "Not attempted yet" in html and "a string" not in html and "a text" not in html
    # one name still `...`, the rest written: that name is named
    html = client.post("/lessons/creating-tensors/check/reproducible",
                       data={"code": "torch.manual_seed(42)\n"
                             "a = torch.randn(2, 3, dtype=torch.float64)\nb = ..."},
                       headers=HTMX).text
    assert "b is still ... (not attempted yet)" in html


def test_an_exercise_offers_hint_second_hint_solution_and_reset(client: TestClient,
                                                               catalog: Catalog) -> None:
    exercise = _exercise(catalog, "autograd", "keep-intermediate-gradient")
    html = client.get("/lessons/autograd").text
    section = html.split('data-exercise="autograd/keep-intermediate-gradient"')[1]
    section = section.split("</section>")[0]
    # nested in this order, so each opens only after the one before it
    hint = section.index("<summary>Hint</summary>")
    second = section.index("<summary>Second hint</summary>")
    solution = section.index("<summary>Show the solution</summary>")
    assert hint < second < solution
    assert "h.retain_grad()" in section.split("Show the solution")[1]
    assert section.count("<details") == 3 and section.count("</details>") == 3
    reset = Tags(section).all("a", data_reset=re.search(r'data-reset="([^"]+)"',
                                                        section).group(1))[0]
    assert reset["data-starter"] == exercise.starter
    assert reset["href"] == "/lessons/autograd#" + reset["data-reset"].removesuffix("-code")
    ja = client.get("/lessons/autograd", headers={"Accept-Language": "ja"}).text
    assert "ヒント" in ja and "解答を表示" in ja


def test_every_exercise_has_two_hints_that_do_not_give_the_whole_solution(
        catalog: Catalog) -> None:
    for lesson in catalog.lessons:
        for exercise in lesson.exercises:
            assert len(exercise.hints) == 2, exercise.id
            for hint in exercise.hints:
                assert exercise.solution.strip() not in hint.en, exercise.id


def test_an_example_is_editable_and_runs_in_place(client: TestClient, catalog: Catalog) -> None:
    i = _index(catalog, "mm-vs-mul", lambda s: isinstance(s, ExampleSection))
    section = catalog.get("mm-vs-mul").sections[i]  # type: ignore[union-attr]
    page = client.get("/lessons/mm-vs-mul").text
    editor = Tags(page).all("textarea", id=f"sec-{i}-code")
    assert editor and f"{section.code}</textarea>" in page
    html = client.post(f"/lessons/mm-vs-mul/run/{i}", data={"code": "torch.ones(2) * 7"},
                       headers=HTMX).text
    assert "tensor([7., 7.])" in html and "Your edited version ran" in html
    # the lesson's own program, sent back unchanged, is judged against the lesson
    same = client.post(f"/lessons/mm-vs-mul/run/{i}", data={"code": section.code},
                       headers=HTMX).text
    assert "Your edited version ran" not in same and "tensor([[14, 32]" in same
    # without JavaScript the page comes back with the edited program in its editor
    whole = client.post(f"/lessons/mm-vs-mul/run/{i}", data={"code": "torch.ones(2) * 7"}).text
    assert "torch.ones(2) * 7</textarea>" in whole
    # an edited guide check that now raises is not reported as the lesson being wrong
    g = _index(catalog, "mm-vs-mul", lambda s: s.kind == "guide_check")
    broken = client.post(f"/lessons/mm-vs-mul/run/{g}", data={"code": "1/0"}, headers=HTMX).text
    assert "ZeroDivisionError" in broken and "this server did something else" not in broken
    assert "but it did not on this server" not in broken


def test_a_whole_lesson_page_carries_its_chart_without_javascript(client: TestClient,
                                                                  catalog: Catalog) -> None:
    i = _index(catalog, "creating-tensors", lambda s: s.kind == "plot")
    html = client.get("/lessons/creating-tensors").text  # what a browser without JS shows
    out = html[html.index(f'id="sec-{i}-out"'):]
    out = out[:out.index("</section>")]
    assert '<svg class="plot' in out and "normal density" in out
    form = html[html.index(f'action="/lessons/creating-tensors/plot/{i}'):]
    assert 'hx-trigger="submit"' in form[:form.index(">")]  # drawn already: htmx leaves it
