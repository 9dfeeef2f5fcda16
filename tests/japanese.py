"""What the tests mean by "shown in Japanese": every msgid of a message (and of the messages
in its parameters) has a Japanese entry in the catalog, and the rendered text is in
Japanese script, so an English msgid the catalog lacks, shown as it is, fails."""

from __future__ import annotations

import re
from functools import lru_cache

from app import i18n
from app.message import Message

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def is_japanese(text: str) -> bool:
    return bool(_JAPANESE.search(text))


@lru_cache(maxsize=1)
def _translated_ids() -> frozenset[str]:
    return frozenset(m.id for m in i18n.read_catalog("ja") if m.id and m.string)


def translated_everywhere(message: Message) -> bool:
    return message.id in _translated_ids() and all(
        translated_everywhere(value) for value in message.params.values()
        if isinstance(value, Message))


def in_japanese(message: Message) -> bool:
    return translated_everywhere(message) and is_japanese(i18n.translate(message, "ja"))
