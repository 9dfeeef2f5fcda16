"""The en/ja glossary of the lessons (``catalog/glossary/glossary.toml``) and the check of a
lesson's Japanese against it: one word per concept, and one spacing rule.

Only running text is checked (titles, summaries, texts, captions, guide checks, prompts);
code spans are cut out first, since API names and error messages are not words.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.lessons.models import (
    ExampleSection,
    ExerciseSection,
    FormulaSection,
    GuideCheckSection,
    Lesson,
    PlotSection,
    TextSection,
)

GLOSSARY_FILE = Path(__file__).parent / "catalog" / "glossary" / "glossary.toml"
_CODE_SPAN = re.compile(r"`[^`\n]+`")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(_Strict):
    concept: str = Field(min_length=1)
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)
    avoid: list[str]  # regular expressions for the variants that drifted in
    # Where two names are both right (自動微分 and autograd), a lesson introduces them
    # together at its first use of either: `first_use` is that form, `forms` the names.
    first_use: str | None = None
    forms: list[str] = Field(default_factory=list)


class StyleRule(_Strict):
    id: str = Field(min_length=1)
    says: str = Field(min_length=1)
    pattern: str = Field(min_length=1)


class Glossary(_Strict):
    terms: list[Term] = Field(min_length=1)
    style: list[StyleRule] = Field(default_factory=list)


@lru_cache(maxsize=1)
def load_glossary(path: Path = GLOSSARY_FILE) -> Glossary:
    with path.open("rb") as handle:
        glossary = Glossary.model_validate(tomllib.load(handle))
    for pattern in [p for t in glossary.terms for p in t.avoid] + [
            r.pattern for r in glossary.style]:
        re.compile(pattern)  # a broken pattern fails on load, not silently never matching
    return glossary


def japanese_texts(lesson: Lesson) -> Iterator[tuple[str, str]]:
    """(where, Japanese running text) of a lesson, code spans removed."""
    def plain(text: str) -> str:
        return _CODE_SPAN.sub("`…`", text)
    yield "title", plain(lesson.title.ja)
    yield "summary", plain(lesson.summary.ja)
    for i, section in enumerate(lesson.sections):
        where = f"sections[{i}]"
        if isinstance(section, TextSection):
            yield where, plain(section.ja)
        elif isinstance(section, ExampleSection | FormulaSection | PlotSection):
            if section.caption:
                yield f"{where}.caption", plain(section.caption.ja)
        elif isinstance(section, GuideCheckSection):
            # The claim quotes the guide as it is written; only our own truth must follow
            # the glossary.
            yield f"{where}.truth", plain(section.truth.ja)
        elif isinstance(section, ExerciseSection):
            yield f"{where}.prompt", plain(section.prompt.ja)
            for n, hint in enumerate(section.hints):
                yield f"{where}.hints[{n}]", plain(hint.ja)


def drift(lesson: Lesson, glossary: Glossary | None = None) -> list[str]:
    """Where a lesson's Japanese leaves the glossary, each with the word to use."""
    glossary = glossary or load_glossary()
    found: list[str] = []
    for where, text in japanese_texts(lesson):
        for term in glossary.terms:
            for pattern in term.avoid:
                for match in re.finditer(pattern, text):
                    found.append(f"{lesson.id} {where}: {match.group(0)!r} -> {term.ja} "
                                 f"({term.concept})")
        for rule in glossary.style:
            for match in re.finditer(rule.pattern, text):
                found.append(f"{lesson.id} {where}: {match.group(0)!r}: {rule.says}")
    for term in glossary.terms:
        if term.first_use:
            found.extend(_first_use(lesson, term, term.first_use))
    return found


def _first_use(lesson: Lesson, term: Term, first_use: str) -> list[str]:
    """The lesson's first mention of any of ``term.forms`` must be ``first_use``."""
    names = re.compile("|".join(re.escape(f) for f in [first_use, *term.forms]))
    for where, text in japanese_texts(lesson):
        match = names.search(text)
        if match:
            if match.group(0) == first_use:
                return []
            return [f"{lesson.id} {where}: first mention {match.group(0)!r} -> {first_use} "
                    f"({term.concept})"]
    return []
