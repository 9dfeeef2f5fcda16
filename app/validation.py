"""pydantic's validation errors as catalog messages, so a form shows them in the page's
language.

pydantic words its errors in English only ("Input should be greater than or equal to 1").
Each error also carries a ``type`` and the numbers in its ``ctx``; the common types are
written here as msgids with the same English words, so an English page reads as before
and the Japanese catalog translates them. An error of another type keeps pydantic's
sentence. A validator of ours raises ``MessageError`` to have its own sentence translated.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from app.message import Message, Text


class MessageError(ValueError):
    """A validator's refusal as a catalog message (pydantic keeps the exception in the
    error's ``ctx``, and shows ``str()`` of it, the English text, to API clients)."""

    def __init__(self, said: Message) -> None:
        super().__init__(str(said))
        self.said = said


# pydantic's error type -> its sentence, with placeholders named after the keys of ``ctx``.
_BY_TYPE: dict[str, Message] = {
    "missing": Message("Field required"),
    "extra_forbidden": Message("Extra inputs are not permitted"),
    "greater_than": Message("Input should be greater than {gt}"),
    "greater_than_equal": Message("Input should be greater than or equal to {ge}"),
    "less_than": Message("Input should be less than {lt}"),
    "less_than_equal": Message("Input should be less than or equal to {le}"),
    "multiple_of": Message("Input should be a multiple of {multiple_of}"),
    "finite_number": Message("Input should be a finite number"),
    "int_type": Message("Input should be a valid integer"),
    "int_parsing": Message("Input should be a valid integer, unable to parse string as an "
                           "integer"),
    "int_from_float": Message("Input should be a valid integer, got a number with a "
                              "fractional part"),
    "float_type": Message("Input should be a valid number"),
    "float_parsing": Message("Input should be a valid number, unable to parse string as a "
                             "number"),
    "bool_type": Message("Input should be a valid boolean"),
    "bool_parsing": Message("Input should be a valid boolean, unable to interpret input"),
    "string_type": Message("Input should be a valid string"),
    "string_too_short": Message("String should have at least {min_length} characters"),
    "string_too_long": Message("String should have at most {max_length} characters"),
    "string_pattern_mismatch": Message("String should match pattern '{pattern}'"),
    "literal_error": Message("Input should be {expected}"),
    "enum": Message("Input should be {expected}"),
    "list_type": Message("Input should be a valid list"),
    "dict_type": Message("Input should be a valid dictionary"),
    "too_short": Message("Should have at least {min_length} items, not {actual_length}"),
    "too_long": Message("Should have at most {max_length} items, not {actual_length}"),
}
_FORMATTER = string.Formatter()


def _placeholders(msgid: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(msgid) if name}


def _param(value: object) -> str | int | float:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # pydantic writes a bound of 0.0 as 0
    return value if isinstance(value, (str, int, float)) else str(value)


def explain(error: Mapping[str, Any]) -> Text:
    """One error of ``ValidationError.errors()`` (or ``RequestValidationError.errors()``):
    a Message when its type is known, else pydantic's own sentence."""
    ctx = error.get("ctx") or {}
    cause = ctx.get("error") if isinstance(ctx, Mapping) else None
    if isinstance(cause, MessageError):
        return cause.said
    template = _BY_TYPE.get(str(error.get("type", "")))
    if template is not None and isinstance(ctx, Mapping):
        names = _placeholders(template.id)
        if names <= ctx.keys():
            return Message(template.id, **{name: _param(ctx[name]) for name in names})
    # A model validator's ValueError reads "Value error, <our sentence>": keep the sentence.
    return str(error.get("msg", "")).removeprefix("Value error, ")
