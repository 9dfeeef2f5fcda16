"""A user-visible sentence as data: an English msgid with named placeholders, and the values
that fill them.

The sandbox, the lesson checker and the training core word hints, refusals and notices
without knowing the reader's language (they never import the web side); the page
translates the msgid through the Babel catalogs (app/i18n) and fills in the same values.
``python -m app.i18n`` extracts every ``Message("...")`` literal, so a new sentence cannot
reach a page without a catalog entry (tests/playground/test_i18n.py checks the Japanese).

Placeholders use ``str.format`` syntax (``{limit:,}``, ``{name!r}``); a literal brace is
doubled. Only the msgid and its translation are format strings, never a parameter, so a
value a program chose (a variable name) is filled in as text and cannot format anything.
A parameter may itself be a Message (``Message("line {line}: {what}", line=3, what=...)``):
it is translated too, so sentences compose without gluing translated fragments by hand.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

Param: TypeAlias = "str | int | float | Message"

# The longest text a parameter may carry into a response (a name, a type, the list of
# importable modules): a program chooses some of them. The engine cuts a whole message at
# the same length.
MAX_PARAM_CHARS = 2_000
# How deep messages nest in parameters ("line 3: {what}" holds one level); a response
# claiming more is not ours.
MAX_NESTING = 4


@dataclass(frozen=True, init=False, eq=True)
class Message:
    id: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __init__(self, id: str, /, **params: object) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "params", {name: _param(value)
                                            for name, value in params.items()})

    __hash__ = None  # type: ignore[assignment]  # params is a dict

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The sentence through ``gettext`` (nested messages too). A translation that names a
        placeholder the message lacks, or breaks the format syntax, falls back to the
        English text rather than failing the page."""
        params = {name: value.translate(gettext) if isinstance(value, Message) else value
                  for name, value in self.params.items()}
        template = gettext(self.id)
        if template != self.id:
            try:
                return template.format(**params)
            except FORMAT_ERRORS:
                pass
        return self.id.format(**params)

    def ids(self) -> Iterator[str]:
        """The msgids of this message and of the messages in its parameters."""
        yield self.id
        for value in self.params.values():
            if isinstance(value, Message):
                yield from value.ids()

    def __str__(self) -> str:
        return self.translate(_english)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "params": {
            name: value.to_json() if isinstance(value, Message) else value
            for name, value in self.params.items()}}

    @classmethod
    def from_json(cls, data: object, depth: int = 0) -> Message | None:
        """The message of a response's ``*_i18n`` field; None for anything else."""
        if (depth > MAX_NESTING or not isinstance(data, Mapping)
                or not isinstance(data.get("id"), str)):
            return None
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            return None
        values: dict[str, str | int | float | Message] = {}
        for name, value in params.items():
            if isinstance(value, Mapping):
                value = cls.from_json(value, depth + 1)
            if not isinstance(name, str) or not isinstance(value, (str, int, float, Message)):
                return None
            values[name] = value
        return cls(data["id"], **values)


def _english(msgid: str) -> str:
    return msgid


def _param(value: object) -> Param:
    """A value as a parameter: JSON's own kinds (numpy's numbers become Python's, so
    ``{n:,}`` still formats them), anything else (a shape, a device) as its text."""
    if isinstance(value, (Message, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_PARAM_CHARS]


Text = str | Message
# What str.format raises for a template that does not fit its values.
FORMAT_ERRORS = (KeyError, IndexError, ValueError, TypeError, AttributeError)


def N_(message: str) -> str:
    """Mark a message for extraction (``python -m app.i18n``) without translating it here:
    whoever shows it translates it (a route, a template, a layout)."""
    return message


def english(text: Text) -> str:
    return str(text)


def i18n_of(text: Text | None) -> dict[str, Any] | None:
    """The ``*_i18n`` companion of a response field: the message's id and parameters, or
    None for text that has no msgid (torch's own words, a program's exception)."""
    return text.to_json() if isinstance(text, Message) else None


def error_info(type_: str, message: Text, line: int | None, hint: Text | None,
               max_message_chars: int | None = None) -> dict[str, Any]:
    """The ``error`` object of a response: English ``message`` and ``hint`` as before, plus
    ``message_i18n`` / ``hint_i18n`` when they are catalog messages."""
    text = english(message)
    if max_message_chars is not None and len(text) > max_message_chars:
        text = text[:max_message_chars] + " …"
    info: dict[str, Any] = {"type": type_, "message": text, "line": line,
                            "hint": None if hint is None else english(hint)}
    if (said := i18n_of(message)) is not None:
        info["message_i18n"] = said
    if (said := i18n_of(hint)) is not None:
        info["hint_i18n"] = said
    return info


def error_body(type_: str, message: Text, line: int | None = None, hint: Text | None = None,
               *, max_message_chars: int | None = None, **extra: Any) -> dict[str, Any]:
    """The contract's ``ok: false`` envelope, the one builder of it for every layer (the web
    process, a worker, the sandbox): ``error``, then ``steps`` and ``stdout`` (empty unless
    ``extra`` gives them), then the rest of ``extra`` (``notices``, ``variables`` ...)."""
    return {"ok": False, "error": error_info(type_, message, line, hint, max_message_chars),
            "steps": [], "stdout": "", **extra}


def with_i18n(**fields: Text | None) -> dict[str, Any]:
    """Each field as English text (or None), with ``<field>_i18n`` beside it when it is a
    catalog message: ``with_i18n(reason=..., hint=...)`` for a training run's summary."""
    out: dict[str, Any] = {}
    for name, text in fields.items():
        out[name] = None if text is None else english(text)
        if (said := i18n_of(text)) is not None:
            out[f"{name}_i18n"] = said
    return out


def split_notices(body: dict[str, Any]) -> None:
    """``body["notices"]`` as English strings, with ``notices_i18n`` beside them (one entry
    per notice, null where a notice has no msgid) when any notice is a Message."""
    notices = body.get("notices")
    if not notices:
        return
    if any(isinstance(n, Message) for n in notices):
        body["notices_i18n"] = [i18n_of(n) for n in notices]
    body["notices"] = [english(n) for n in notices]
