"""SourceLines.segment says what ast.get_source_segment says, for every statement and
expression of many programs: line ends of every kind, tabs, form feeds, Unicode."""

from __future__ import annotations

import ast

import pytest

from app.engine.sourcelines import SourceLines
from app.lessons.loader import load_catalog
from app.lessons.models import ExampleSection
from app.playground.presets import COMPARE_PRESETS, EXAMPLES
from tests.engine.test_seed_programs import CUSTOM_DATASET, CUSTOM_LOSSES, SIMPLE_NN, TRAINING_LOOP

ODD = [
    "x = 1\r\ny = x + 1\r\ny",
    "x = 1\ry = [1,\r 2]\rx",
    "x = 1\n\x0c\ny = 2  # a form feed line\ny",
    "s = 'a\\u2028b'  # \u2028 is not a line end to the parser\ns",
    "t = '日本語のテキスト'; u = t  # 全角\nv = (t +\n     u)\nv",
    "if True:\n\tx = 1\n\tif x:\n\t\ty = [1,\n\t\t     2]\nz = 3",
    "def f(a,\n      b):\n    return (a\n            + b)\nf(1, 2)",
    "x = 1",
    "x = 1\n",
    "\n\nx = 1\n\n\n",
]


def _programs() -> list[str]:
    programs = [e.code for e in EXAMPLES] + [p.inputs + p.left for p in COMPARE_PRESETS]
    programs += [SIMPLE_NN, CUSTOM_DATASET, CUSTOM_LOSSES, TRAINING_LOOP, *ODD]
    for lesson in load_catalog().lessons:
        for section in lesson.sections:
            if isinstance(section, ExampleSection):
                programs += section.programs()
            elif isinstance(getattr(section, "code", None), str):
                programs.append(section.code)  # type: ignore[union-attr]
    return programs


@pytest.mark.parametrize("code", _programs())
def test_every_segment_is_the_one_ast_gives(code: str) -> None:
    lines = SourceLines(code)
    nodes = [n for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.stmt, ast.expr))]
    assert nodes
    for node in nodes:
        assert lines.segment(node) == ast.get_source_segment(code, node), ast.dump(node)
