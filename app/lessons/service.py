"""What the lesson routes call: page views built from the catalog, and the runs behind the
lesson's buttons (an example, an exercise check, a chart, the calculator).

Views are plain data in one language (HTML already rendered from the mini-markup and
TeX), so the templates only place them. Every program runs through the playground's
``run_program`` (same rate limit, same error cards) or, for the catalog's own reference
programs, ``checker.run_reference``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from app.config import Settings
from app.executor.base import Executor
from app.lessons import calculator, checker, plot, render
from app.lessons.loader import Catalog
from app.lessons.models import (
    CalculatorSection,
    ExampleSection,
    ExerciseSection,
    FormulaSection,
    GuideCheckSection,
    Lesson,
    PlotSection,
    Section,
    TextSection,
)
from app.message import Message
from app.playground import compare as compare_mod
from app.playground import permalink, service
from app.playground.permalink import Share


def section_anchor(index: int) -> str:
    return f"sec-{index}"


@dataclass
class SectionView:
    """One section, ready to place. Only the fields of its ``kind`` are filled."""

    kind: str
    index: int
    html: Markup = field(default_factory=Markup)  # text, caption or prompt
    math: Markup = field(default_factory=Markup)
    claim: Markup = field(default_factory=Markup)
    truth: Markup = field(default_factory=Markup)
    mode: str = "scratchpad"
    code: str = ""
    setup: str = ""
    left: str = ""
    right: str = ""
    seed: int = 0
    expect: str = "ok"
    error_type: str | None = None
    scratch_url: str = ""
    compare_url: str = ""
    exercise_id: str = ""
    starter: str = ""
    hints: list[Markup] = field(default_factory=list)
    solution: str = ""
    style: str = ""

    @property
    def anchor(self) -> str:
        return section_anchor(self.index)


@dataclass
class LessonLink:
    id: str
    number: int
    title: str
    summary: Markup  # inline markup: `code` and **bold** render as in the texts
    exercises: list[str]  # exercise ids, for the progress marks


@dataclass
class LessonPage:
    lesson: LessonLink
    sections: list[SectionView]
    previous: LessonLink | None
    next: LessonLink | None
    outputs: dict[int, Any] = field(default_factory=dict)  # section -> a run, without JS


def scratch_url(code: str, seed: int = 0) -> str:
    return "/?p=" + permalink.encode(Share(code=code, seed=seed))


def compare_url(setup: str, left: str, right: str, seed: int = 0) -> str:
    return "/compare?p=" + permalink.encode(Share(mode="compare", inputs=setup, left=left,
                                                  right=right, seed=seed))


def _caption(section: ExampleSection | FormulaSection | PlotSection, locale: str) -> Markup:
    return render.markup(section.caption.get(locale)) if section.caption else Markup()


def section_view(section: Section, index: int, locale: str) -> SectionView:
    view = SectionView(section.kind, index)
    if isinstance(section, TextSection):
        view.html = render.markup(section.get(locale))
    elif isinstance(section, FormulaSection):
        view.math, view.html = render.mathml(section.tex), _caption(section, locale)
    elif isinstance(section, ExampleSection):
        view.html, view.mode, view.seed = _caption(section, locale), section.mode, section.seed
        view.expect, view.error_type = section.expect, section.error_type
        if section.mode == "compare":
            view.setup, view.left, view.right = (section.setup or "", section.left or "",
                                                 section.right or "")
            view.compare_url = compare_url(view.setup, view.left, view.right, section.seed)
        else:
            view.code = section.code or ""
            view.scratch_url = scratch_url(view.code, section.seed)
    elif isinstance(section, GuideCheckSection):
        view.claim = render.markup(section.claim.get(locale))
        view.truth = render.markup(section.truth.get(locale))
        view.code, view.seed = section.code, section.seed
        view.expect, view.error_type = section.expect, section.error_type
        view.scratch_url = scratch_url(section.code, section.seed)
    elif isinstance(section, ExerciseSection):
        view.html = render.markup(section.prompt.get(locale))
        view.exercise_id, view.starter = section.id, section.starter
        view.hints = [render.markup(hint.get(locale)) for hint in section.hints]
        view.solution = section.solution
    elif isinstance(section, PlotSection):
        view.html, view.style, view.code = _caption(section, locale), section.style, section.code
        view.scratch_url = scratch_url(section.code, section.seed)
    return view


def lesson_link(lesson: Lesson, locale: str) -> LessonLink:
    return LessonLink(lesson.id, lesson.number, lesson.title.get(locale),
                      Markup(render.inline(lesson.summary.get(locale))),
                      [e.id for e in lesson.exercises])


def index(catalog: Catalog, locale: str) -> list[LessonLink]:
    return [lesson_link(lesson, locale) for lesson in catalog.lessons]


def page(catalog: Catalog, lesson: Lesson, locale: str) -> LessonPage:
    previous, following = catalog.neighbours(lesson)
    return LessonPage(
        lesson_link(lesson, locale),
        [section_view(s, i, locale) for i, s in enumerate(lesson.sections)],
        lesson_link(previous, locale) if previous else None,
        lesson_link(following, locale) if following else None)


# ---------------------------------------------------------------------------------------
# Runs. Each returns a small dataclass the fragment template draws; ``kind`` picks the macro.

@dataclass
class ExampleRun:
    kind: str  # "scratchpad" | "compare"
    index: int
    expect: str
    error_type: str | None
    run: service.Run | None = None
    comparison: compare_mod.Comparison | None = None
    edited: bool = False  # the reader's own version ran: the lesson's expectation is moot

    @property
    def as_expected(self) -> bool:
        """Did it do what the lesson says it does (finish, or raise ``error_type``)?"""
        runs = ([self.run] if self.run else
                [self.comparison.left, self.comparison.right] if self.comparison else [])
        if self.expect == "ok":
            return all(r.data.get("ok") for r in runs)
        return any((r.data.get("error") or {}).get("type") == self.error_type for r in runs)


async def run_example(executor: Executor, settings: Settings, client: object,
                      section: ExampleSection | GuideCheckSection, index: int,
                      edited_code: str | None = None) -> ExampleRun:
    """Run an example as the lesson wrote it, or as the reader edited it in place (a
    scratchpad example or a guide check; ``edited_code`` the text of its editor)."""
    out = ExampleRun("scratchpad", index, section.expect, section.error_type)
    if isinstance(section, ExampleSection) and section.mode == "compare":
        left_code, right_code = section.programs()
        # Both sides at once, each timed inside its own worker (as compare mode does).
        left, right = await asyncio.gather(
            service.run_program(executor, settings, client, left_code, section.seed, "auto",
                                compare_mod.REPEAT),
            service.run_program(executor, settings, client, right_code, section.seed, "auto",
                                compare_mod.REPEAT))
        out.kind = "compare"
        out.comparison = compare_mod.compare(
            compare_mod.Side(left.code, left.status, left.data),
            compare_mod.Side(right.code, right.status, right.data), section.setup or "")
        return out
    code = section.code or ""
    if edited_code is not None and edited_code.strip() != code.strip():
        code, out.edited = edited_code, True
    out.run = await service.run_program(executor, settings, client, code, section.seed, "auto")
    return out


@dataclass
class CheckRun:
    kind = "check"
    index: int
    exercise_id: str
    lesson_id: str
    report: checker.Report
    code: str


@dataclass
class PlotRun:
    kind = "plot"
    index: int
    chart: plot.Chart | None
    problem: Message | None
    run: service.Run


async def draw_plot(executor: Executor, settings: Settings, client: object,
                    section: PlotSection, index: int) -> PlotRun:
    run = await service.run_program(executor, settings, client, section.code, section.seed,
                                    "auto")
    try:
        return PlotRun(index, plot.build_chart(section.style, run.data), None, run)
    except plot.PlotError as cannot:
        return PlotRun(index, None, cannot.said, run)


@dataclass
class CalculatorRun:
    kind = "calculator"
    index: int
    inputs: calculator.Inputs
    problem: Message | None = None
    formula: calculator.Formula | None = None
    live: calculator.Live | None = None
    live_problem: Message | None = None
    run: service.Run | None = None
    code: str = ""

    @property
    def agree(self) -> bool:
        return bool(self.formula and self.live and self.live.per_epoch == self.formula.per_epoch
                    and self.live.per_epoch_counted == self.formula.per_epoch)


async def run_calculator(executor: Executor, settings: Settings, client: object,
                         fields: dict[str, str], index: int) -> CalculatorRun:
    inputs, problem = calculator.parse(fields)
    out = CalculatorRun(index, inputs, problem)
    if problem:
        return out
    out.formula = calculator.formula(inputs)
    out.live_problem = calculator.too_big_for_live(inputs)
    out.code = calculator.program(inputs)
    if out.live_problem is None:
        out.run = await service.run_program(executor, settings, client, out.code, 0, "auto")
        out.live = calculator.read_live(inputs, out.run.data)
    return out


def calculator_section(lesson: Lesson) -> int | None:
    return next((i for i, s in enumerate(lesson.sections)
                 if isinstance(s, CalculatorSection)), None)
