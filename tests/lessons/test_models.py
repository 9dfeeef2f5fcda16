"""The lesson format: what validates, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.lessons.loader import CatalogError, field_path, load_catalog

HEAD = '''id = "{id}"
number = {number}
title = {{ en = "T", ja = "T" }}
summary = {{ en = "S", ja = "S" }}
'''
TEXT = '''
[[sections]]
kind = "text"
en = "Hello"
ja = "こんにちは"
'''


def write(directory: Path, name: str, body: str, *, id: str = "demo", number: int = 1) -> None:
    (directory / name).write_text(HEAD.format(id=id, number=number) + body, encoding="utf-8")


def problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as raised:
        load_catalog(directory)
    return raised.value.problems


def test_a_minimal_lesson_loads_and_sorts_by_number(tmp_path: Path) -> None:
    write(tmp_path, "02-b.toml", TEXT, id="b", number=2)
    write(tmp_path, "01-a.toml", TEXT, id="a", number=1)
    catalog = load_catalog(tmp_path)
    assert [lesson.id for lesson in catalog.lessons] == ["a", "b"]
    first, second = catalog.lessons
    assert catalog.neighbours(first) == (None, second)
    assert catalog.neighbours(second) == (first, None)
    assert catalog.get("b") is second and catalog.get("zzz") is None


@pytest.mark.parametrize(("body", "expected"), [
    ('\n[[sections]]\nkind = "example"\ncode = "1/0"\nexpect = "error"\n',
     'sections[0] (example): Value error, error_type is required when expect = "error"'),
    ('\n[[sections]]\nkind = "example"\ncode = "1"\nerror_type = "IndexError"\n',
     "error_type is only allowed"),
    ('\n[[sections]]\nkind = "example"\nmode = "compare"\nleft = "1"\n',
     "a compare example needs right"),
    ('\n[[sections]]\nkind = "example"\ncode = "1"\nleft = "2"\n',
     "left only belong to compare mode"),
    ('\n[[sections]]\nkind = "exmaple"\ncode = "1"\n', "sections[0]: Input tag 'exmaple'"),
    ('\n[[sections]]\nkind = "text"\nen = "x"\n', "sections[0] (text).ja: Field required"),
    ('\n[[sections]]\nkind = "text"\nen = "x"\nja = "y"\ncolour = "red"\n',
     "sections[0] (text).colour: Extra inputs are not permitted"),
    ('\n[[sections]]\nkind = "exercise"\nid = "e"\nprompt = { en = "p", ja = "p" }\n'
     'starter = ""\nsolution = "x = 1"\nwrong = "x = 2"\n[[sections.checks]]\n'
     'target = "varx"\ncompare = "values"\n',
     "sections[0] (exercise).checks[0].target: Value error, target must be"),
    ('\n[[sections]]\nkind = "exercise"\nid = "e"\nprompt = { en = "p", ja = "p" }\n'
     'starter = ""\nsolution = "x = 1"\nwrong = "x = 1"\n[[sections.checks]]\n'
     'target = "var:x"\ncompare = "values"\n', "wrong must differ from solution"),
    ('\n[[sections]]\nkind = "exercise"\nid = "e"\nprompt = { en = "p", ja = "p" }\n'
     'starter = ""\nsolution = "print(1)"\nwrong = "print(2)"\n[[sections.checks]]\n'
     'target = "stdout"\ncompare = "shape"\n', "printed output can only be compared"),
    ('\n[[sections]]\nkind = "plot"\nstyle = "bars"\ncode = "1"\n',
     "sections[0] (plot).style: Input should be 'lines' or 'trajectory'"),
    ('\n[[sections]]\nkind = "text"\nen = "[x](javascript:alert(1))"\nja = "y"\n',
     "sections[0] (text).en: link 'javascript:alert(1' must be a site path"),
    ('\n[[sections]]\nkind = "formula"\ntex = "\\\\frac{1}{"\n', "sections[0] (formula).tex:"),
])
def test_errors_name_the_file_and_the_field(tmp_path: Path, body: str, expected: str) -> None:
    write(tmp_path, "01-demo.toml", body)
    found = problems(tmp_path)
    assert any(p.startswith("app/lessons/catalog/01-demo.toml: ") and expected in p
               for p in found), found


def test_file_name_number_duplicates_and_bad_toml(tmp_path: Path) -> None:
    write(tmp_path, "03-a.toml", TEXT, id="a", number=1)
    write(tmp_path, "01-b.toml", TEXT, id="a", number=1)
    (tmp_path / "05-c.toml").write_text("id = [", encoding="utf-8")
    (tmp_path / "lesson.toml").write_text("", encoding="utf-8")
    found = problems(tmp_path)
    assert "app/lessons/catalog/03-a.toml: number: 1 does not match the file name's 03" in found
    assert any("03-a.toml: number: 1 is already used by 01-b.toml" in p for p in found)
    assert any("03-a.toml: id: 'a' is already used by 01-b.toml" in p for p in found)
    assert any(p.startswith("app/lessons/catalog/05-c.toml: not valid TOML") for p in found)
    assert any("lesson.toml: the file name must be NN-slug.toml" in p for p in found)


def test_field_path_reads_like_the_file() -> None:
    assert field_path(("sections", 3, "example", "error_type")) == \
        "sections[3] (example).error_type"
    assert field_path(("sections", 0, "exercise", "checks", 1, "target")) == \
        "sections[0] (exercise).checks[1].target"
    assert field_path(()) == "(file)"
