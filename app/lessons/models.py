"""The lesson data format, as pydantic models (one TOML file per lesson).

Every model forbids unknown keys, so a misspelt key is an error that names its field
instead of a silently missing section. Cross-field rules (an ``error_type`` exactly when
``expect = "error"``, the programs a compare example needs, the targets a check may
name) are validators here, so the loader reports them with the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Python's exception names: the sandbox reports the class name of what a program raised.
ERROR_TYPE = r"^[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning|Interrupt|Iteration|Exit)$"
TARGET = re.compile(r"^(?:result|stdout|(?:var|grad):[A-Za-z][A-Za-z0-9_]*)$")
MAX_SEED = 2**32 - 1  # the sandbox seeds torch, numpy and random with it

Locale = Literal["en", "ja"]


@dataclass(frozen=True)
class Said:
    """A text a person wrote in both UI languages (a teacher's exercise prompt); the
    template picks one. The server's own sentences are Messages (app/message.py), translated
    through the catalogs."""

    en: str
    ja: str

    def get(self, locale: str) -> str:
        return self.ja if locale == "ja" else self.en


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Bilingual(Strict):
    """One text in both UI languages; neither may be empty."""

    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        return self.ja if locale == "ja" else self.en


Program = Annotated[str, Field(min_length=1)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]


class Expectation(Strict):
    """What running a program must do: finish (``ok``) or raise ``error_type``."""

    expect: Literal["ok", "error"] = "ok"
    error_type: Annotated[str, Field(pattern=ERROR_TYPE)] | None = None

    @model_validator(mode="after")
    def _error_type_iff_error(self) -> Expectation:
        if self.expect == "error" and self.error_type is None:
            raise ValueError('error_type is required when expect = "error"')
        if self.expect == "ok" and self.error_type is not None:
            raise ValueError('error_type is only allowed with expect = "error"')
        return self


class TextSection(Strict):
    kind: Literal["text"]
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        return self.ja if locale == "ja" else self.en


class FormulaSection(Strict):
    kind: Literal["formula"]
    tex: str = Field(min_length=1)
    caption: Bilingual | None = None


class ExampleSection(Expectation):
    kind: Literal["example"]
    mode: Literal["scratchpad", "compare"] = "scratchpad"
    code: str | None = None
    setup: str | None = None
    left: str | None = None
    right: str | None = None
    seed: Seed = 0
    caption: Bilingual | None = None

    @model_validator(mode="after")
    def _programs_match_mode(self) -> ExampleSection:
        if self.mode == "scratchpad":
            if not self.code or not self.code.strip():
                raise ValueError('a scratchpad example needs code = """..."""')
            extra = [k for k in ("setup", "left", "right") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} only belong to compare mode")
        else:
            missing = [k for k in ("left", "right") if not (getattr(self, k) or "").strip()]
            if missing:
                raise ValueError(f"a compare example needs {' and '.join(missing)}")
            if self.code is not None:
                raise ValueError("a compare example has setup, left and right, not code")
        return self

    def programs(self) -> list[str]:
        """The whole programs this example runs (compare mode: setup + each side)."""
        if self.mode == "scratchpad":
            return [self.code or ""]
        setup = (self.setup or "").rstrip("\n")
        return [f"{setup}\n{side}" if setup else side for side in (self.left, self.right)
                if side is not None]


class GuideCheckSection(Expectation):
    kind: Literal["guide_check"]
    claim: Bilingual
    truth: Bilingual
    code: Program
    seed: Seed = 0


class Check(Strict):
    """One thing a solution must get right: ``target`` is what to look at (the result,
    a variable, a variable's gradient, or what was printed), ``compare`` how."""

    target: str
    compare: Literal["shape", "values", "dtype", "equal"]
    tolerance: Annotated[float, Field(gt=0, le=1)] | None = None
    # math.isclose's rel_tol and abs_tol apart, where one shared tolerance does not fit
    # (values near zero want an absolute bound, large ones a relative one).
    rtol: Annotated[float, Field(ge=0, le=1)] | None = None
    atol: Annotated[float, Field(ge=0, le=1e6)] | None = None

    @field_validator("target")
    @classmethod
    def _known_target(cls, target: str) -> str:
        if not TARGET.match(target):
            raise ValueError("target must be result, stdout, var:NAME or grad:NAME")
        return target

    @model_validator(mode="after")
    def _sensible(self) -> Check:
        if self.target == "stdout" and self.compare != "equal":
            raise ValueError('printed output can only be compared with compare = "equal"')
        given = [k for k in ("tolerance", "rtol", "atol") if getattr(self, k) is not None]
        if given and self.compare != "values":
            raise ValueError(f'{" and ".join(given)} only apply to compare = "values"')
        return self


class ExerciseSection(Strict):
    kind: Literal["exercise"]
    id: Annotated[str, Field(pattern=SLUG, max_length=60)]
    prompt: Bilingual
    # Shown on request, one after the other, before the solution: the first points at the
    # idea, the second at the API.
    hints: list[Bilingual] = Field(default_factory=list, max_length=2)
    starter: str
    solution: Program
    wrong: Program
    checks: list[Check] = Field(min_length=1)
    seed: Seed = 0

    @model_validator(mode="after")
    def _wrong_is_different(self) -> ExerciseSection:
        if self.wrong.strip() == self.solution.strip():
            raise ValueError("wrong must differ from solution")
        return self


class PlotSection(Strict):
    kind: Literal["plot"]
    style: Literal["lines", "trajectory"]
    code: Program
    caption: Bilingual | None = None
    seed: Seed = 0


class CalculatorSection(Strict):
    kind: Literal["calculator"]


Section = Annotated[
    TextSection | FormulaSection | ExampleSection | GuideCheckSection | ExerciseSection
    | PlotSection | CalculatorSection,
    Field(discriminator="kind"),
]
RUNNABLE = (ExampleSection, GuideCheckSection)


class Lesson(Strict):
    id: Annotated[str, Field(pattern=SLUG, max_length=60)]
    number: Annotated[int, Field(ge=1, le=99)]
    title: Bilingual
    summary: Bilingual
    sections: list[Section] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_parts(self) -> Lesson:
        ids = [s.id for s in self.sections if isinstance(s, ExerciseSection)]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"exercise ids must be unique in a lesson: {duplicates}")
        # One calculator per page: its form's element ids are fixed.
        if sum(isinstance(s, CalculatorSection) for s in self.sections) > 1:
            raise ValueError("a lesson has at most one calculator")
        return self

    @property
    def exercises(self) -> list[ExerciseSection]:
        return [s for s in self.sections if isinstance(s, ExerciseSection)]

    def exercise(self, exercise_id: str) -> ExerciseSection | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def section(self, index: int) -> Section | None:
        return self.sections[index] if 0 <= index < len(self.sections) else None
