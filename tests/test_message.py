"""Messages (app/message.py): what the server words at run time, as msgid and parameters."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import numpy as np
import pytest
import torch

from app import i18n
from app.message import MAX_NESTING, Message, error_body, error_info, split_notices

APP = Path(__file__).resolve().parent.parent / "app"


# pydantic's sentences are templates filled from each error's ctx (app/validation.py).
TEMPLATES = {APP / "validation.py"}


def _message_calls() -> list[tuple[str, int, str, set[str]]]:
    """(file, line, msgid, keyword names) of every ``Message("...", name=...)`` in app/."""
    found = []
    for path in sorted(set(APP.rglob("*.py")) - TEMPLATES):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "Message" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                assert all(k.arg is not None for k in node.keywords), (path, node.lineno)
                found.append((str(path.relative_to(APP.parent)), node.lineno,
                              node.args[0].value, {str(k.arg) for k in node.keywords}))
    return found


CALLS = _message_calls()


def test_the_app_words_its_sentences_as_messages() -> None:
    assert len(CALLS) > 400  # hints, refusals, limits, notices, feedback, form errors


@pytest.mark.parametrize(("where", "line", "msgid", "names"), CALLS,
                         ids=[f"{c[0]}:{c[1]}" for c in CALLS])
def test_every_message_names_exactly_the_values_it_is_given(
        where: str, line: int, msgid: str, names: set[str]) -> None:
    """A placeholder without its value would raise KeyError on the error path that words
    it, which runs rarely; a value without its placeholder is a sentence that lost a fact."""
    fields = {name for _, name, _, _ in string.Formatter().parse(msgid) if name is not None}
    assert fields == names, (where, line, msgid)


def test_english_text_is_the_msgid_filled_in() -> None:
    said = Message("{label} would allocate {size}; at most {limit:,}", label="torch.zeros",
                   size="37.3 GB", limit=10**6)
    assert str(said) == "torch.zeros would allocate 37.3 GB; at most 1,000,000"


def test_a_nested_message_is_translated_with_its_sentence() -> None:
    said = Message("line {line}: {what}", line=2, what=Message("bytes literals are not available"))
    assert str(said) == "line 2: bytes literals are not available"
    assert i18n.translate(said, "ja") == "2 行目: bytes リテラルは使えません"


def test_a_value_is_text_never_a_format_string() -> None:
    """A program names its variables: '{0.__class__}' in a name is shown as written."""
    said = Message("There is no variable {name} at the end of your program, or it holds no "
                   "value (for example a function that was not called).", name="{0.__class__}")
    assert "{0.__class__}" in i18n.translate(said, "ja")


def test_a_broken_translation_falls_back_to_english() -> None:
    said = Message("epochs is {n}, the limit is {limit}", n=5000, limit=1000)
    assert said.translate(lambda msgid: "{missing} です") == "epochs is 5000, the limit is 1000"
    assert said.translate(lambda msgid: "{n") == "epochs is 5000, the limit is 1000"


def test_values_become_json_kinds() -> None:
    said = Message("{a} {b:,} {c} {d}", a=torch.device("cpu"), b=np.int64(1234),
                   c=np.float32(0.5), d=[2, 3])
    assert said.params == {"a": "cpu", "b": 1234, "c": 0.5, "d": "[2, 3]"}
    assert str(said) == "cpu 1,234 0.5 [2, 3]"
    assert json.loads(json.dumps(said.to_json())) == said.to_json()


def test_json_round_trip_and_what_is_not_a_message() -> None:
    said = Message("line {line}: {what}", line=1,
                   what=Message("'{name}' is not available", name="open"))
    assert Message.from_json(said.to_json()) == said
    for junk in (None, "text", {"params": {}}, {"id": 3}, {"id": "x", "params": [1]},
                 {"id": "{a}", "params": {"a": [1]}}, {"id": "{a}", "params": {"a": None}}):
        assert Message.from_json(junk) is None, junk
    deep: dict[str, object] = {"id": "x", "params": {}}
    for _ in range(MAX_NESTING + 2):
        deep = {"id": "{a}", "params": {"a": deep}}
    assert Message.from_json(deep) is None  # no response of ours nests this deep


def test_error_info_keeps_the_english_fields_and_adds_the_msgids() -> None:
    info = error_info("LimitError", Message("the program ran out of memory"), None,
                      Message("Use smaller tensors."))
    assert info == {"type": "LimitError", "message": "the program ran out of memory",
                    "line": None, "hint": "Use smaller tensors.",
                    "message_i18n": {"id": "the program ran out of memory", "params": {}},
                    "hint_i18n": {"id": "Use smaller tensors.", "params": {}}}
    plain = error_info("RuntimeError", "torch's own words", 3, None)
    assert plain == {"type": "RuntimeError", "message": "torch's own words", "line": 3,
                     "hint": None}


def test_one_envelope_for_every_error_body() -> None:
    body = error_body("ValueError", "bad", 2, "Fix it.")
    assert body == {"ok": False, "error": {"type": "ValueError", "message": "bad", "line": 2,
                                           "hint": "Fix it."}, "steps": [], "stdout": ""}
    # The sandbox's own fields keep the contract's order: steps and stdout where the empty
    # ones were, the rest after them; a long message is cut.
    steps = [{"line": 1}]
    ran = error_body("RuntimeError", "x" * 50, 1, None, max_message_chars=10, steps=steps,
                     stdout="hi\n", notices=[], elapsed_ms=1.5)
    assert list(ran) == ["ok", "error", "steps", "stdout", "notices", "elapsed_ms"]
    assert ran["steps"] is steps and ran["stdout"] == "hi\n"
    assert ran["error"]["message"] == "x" * 10 + " …"


def test_no_error_envelope_is_written_by_hand() -> None:
    """app/message.py's error_body is the one builder of ``{"ok": False, "error": ...}``."""
    found = [f"{path.relative_to(APP)}:{number}"
             for path in sorted(APP.rglob("*.py")) if path.name != "message.py"
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if '"ok": False' in line and "_EXAMPLE" not in line]  # the API docs' example
    assert found == []


def test_notices_stay_text_with_their_msgids_beside() -> None:
    body: dict[str, object] = {"notices": [
        "UserWarning: torch's own words",
        Message("print output past {limit:,} characters was dropped (setting "
                "max_stdout_chars)", limit=20000)]}
    split_notices(body)
    assert body["notices"] == ["UserWarning: torch's own words",
                               "print output past 20,000 characters was dropped (setting "
                               "max_stdout_chars)"]
    assert body["notices_i18n"] == [None, {
        "id": "print output past {limit:,} characters was dropped (setting max_stdout_chars)",
        "params": {"limit": 20000}}]
    assert i18n.notices("ja", body) == [
        "UserWarning: torch's own words",
        "print の出力のうち 20,000 文字を超えた分は捨てました（設定 max_stdout_chars）"]
    only_text: dict[str, object] = {"notices": ["UserWarning: x"]}
    split_notices(only_text)
    assert "notices_i18n" not in only_text


def test_a_page_formats_only_msgids_of_its_catalogs() -> None:
    """The companions come from the worker's JSON: an id that is not ours is never used as
    a format string (it could reach attributes: '{what.__class__}'), and values that do not
    fit an id fall back to the English text."""
    english = "the English text"
    hostile = {"id": "{what.__class__.__mro__}", "params": {"what": "x"}}
    assert i18n.said("ja", english, hostile) == english
    nested = {"id": "line {line}: {what}", "params": {"line": 1, "what": hostile}}
    assert i18n.said("ja", english, nested) == english
    wrong_kind = {"id": "the program is {size:,} characters; the limit is {limit:,} (setting "
                        "max_source_chars)", "params": {"size": "many", "limit": 1}}
    assert i18n.said("ja", english, wrong_kind) == english
    ours = {"id": "line {line}: {what}", "params": {"line": 1, "what": {
        "id": "bytes literals are not available", "params": {}}}}
    assert i18n.said("ja", english, ours) == "1 行目: bytes リテラルは使えません"
