"""Read and validate the lesson catalog once: ``catalog()``.

Each ``catalog/NN-slug.toml`` is parsed with tomllib and validated by ``models.Lesson``.
The file name's ``NN`` must be the lesson's ``number`` (its slug is a reader's hint, not
checked against ``id``); numbers and ids are unique; links in texts stay on this site or
https; every formula converts to MathML. All problems of all files are collected into one
``CatalogError`` whose lines name the file and the field, so a broken file is fixed in one
pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.lessons import render
from app.lessons.models import (
    ExampleSection,
    ExerciseSection,
    FormulaSection,
    GuideCheckSection,
    Lesson,
    PlotSection,
    TextSection,
)

CATALOG_DIR = Path(__file__).parent / "catalog"
FILE_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.toml$")
SECTION_KINDS = {"text", "formula", "example", "guide_check", "exercise", "plot",
                 "calculator"}


class CatalogError(ValueError):
    """Every problem found in the catalog, one ``file: field: message`` per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid lesson catalog:\n" + "\n".join(problems))
        self.problems = list(problems)


def field_path(loc: Iterable[Any]) -> str:
    """pydantic's error location as a reader would write it: ``sections[3].error_type``.
    The union's tag (the section kind) is shown in parentheses after the index."""
    path = ""
    after_index = False
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            after_index = True
            continue
        if after_index and part in SECTION_KINDS:
            path += f" ({part})"
        else:
            path += f".{part}" if path else str(part)
        after_index = False
    return path or "(file)"


@dataclass(frozen=True)
class Catalog:
    lessons: tuple[Lesson, ...]

    @cached_property
    def _by_id(self) -> dict[str, Lesson]:
        return {lesson.id: lesson for lesson in self.lessons}

    def get(self, lesson_id: str) -> Lesson | None:
        return self._by_id.get(lesson_id)

    def neighbours(self, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
        """(previous, next) in lesson order."""
        i = self.lessons.index(lesson)
        return (self.lessons[i - 1] if i > 0 else None,
                self.lessons[i + 1] if i + 1 < len(self.lessons) else None)


def _content_problems(lesson: Lesson) -> list[str]:
    """What the models cannot see alone: links and formulas that would not render."""
    problems: list[str] = []
    for i, section in enumerate(lesson.sections):
        where = f"sections[{i}] ({section.kind})"
        texts: list[tuple[str, str]] = []
        if isinstance(section, TextSection):
            texts = [("en", section.en), ("ja", section.ja)]
        elif isinstance(section, GuideCheckSection):
            texts = [(f"{f}.{loc}", getattr(getattr(section, f), loc))
                     for f in ("claim", "truth") for loc in ("en", "ja")]
        elif isinstance(section, ExerciseSection):
            texts = [(f"prompt.{loc}", section.prompt.get(loc)) for loc in ("en", "ja")]
        elif isinstance(section, ExampleSection | FormulaSection | PlotSection) \
                and section.caption is not None:
            texts = [(f"caption.{loc}", section.caption.get(loc)) for loc in ("en", "ja")]
        for name, text in texts:
            for url in render.link_problems(text):
                problems.append(f"{where}.{name}: link {url!r} must be a site path "
                                "(/...) or an https URL")
        if isinstance(section, FormulaSection):
            try:
                render.mathml(section.tex)
            except render.FormulaError as bad:
                problems.append(f"{where}.tex: {bad}")
    return problems


def load_file(path: Path) -> tuple[Lesson | None, list[str]]:
    """One lesson file: (the lesson or None, its problems, each prefixed with the file)."""
    name = f"app/lessons/catalog/{path.name}"
    match = FILE_NAME.match(path.name)
    if not match:
        return None, [f"{name}: the file name must be NN-slug.toml (NN two digits)"]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as bad:
        return None, [f"{name}: not valid TOML: {bad}"]
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as invalid:
        return None, [f"{name}: {field_path(e['loc'])}: {e['msg']}" for e in invalid.errors()]
    problems = [f"{name}: {p}" for p in _content_problems(lesson)]
    if int(match.group(1)) != lesson.number:
        problems.append(f"{name}: number: {lesson.number} does not match the file name's "
                        f"{match.group(1)}")
    return lesson, problems


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    loaded: list[tuple[Lesson, str]] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        lesson, found = load_file(path)
        problems.extend(found)
        if lesson is not None:
            loaded.append((lesson, path.name))
    for attribute in ("number", "id"):
        seen: dict[object, str] = {}
        for lesson, file_name in loaded:
            value = getattr(lesson, attribute)
            if value in seen:
                problems.append(f"app/lessons/catalog/{file_name}: {attribute}: "
                                f"{value!r} is already used by {seen[value]}")
            else:
                seen[value] = file_name
    if problems:
        raise CatalogError(problems)
    return Catalog(tuple(sorted((lesson for lesson, _ in loaded), key=lambda x: x.number)))


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The catalog of this server, read once (the files do not change while it runs)."""
    return load_catalog()
