"""UI translations: Babel catalogs (``<locale>/LC_MESSAGES/messages.po``) compiled in
memory with Babel's own reader and writer at first use, so no build step or committed
``.mo`` can go stale against the ``.po`` it came from.

Maintenance: ``python -m app.i18n`` extracts the messages of the templates and of every
module under ``app/`` (``_()``, ``N_()`` and the ``Message("...")`` values the sandbox, the
lessons and the training core return) into ``messages.pot`` and merges them into each
``.po``; translators then fill in the Japanese ``msgstr`` lines.
``tests/playground/test_i18n.py`` fails while any message lacks a translation.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.message import FORMAT_ERRORS, Message

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}  # each in its own language, never translated
DOMAIN = "messages"
# Message (app/message.py) is a keyword too: its first argument is the msgid.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Message": None}
# (directory under the repo root, Babel method map) for everything that holds UI text: every
# module of the app, so a sentence written anywhere (the sandbox's refusals, the lessons'
# feedback) is extracted.
SOURCES = (
    ("templates", [("**.html", "jinja2")]),
    ("app", [("**.py", "python")]),
)
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}


def po_path(locale: str) -> Path:
    return HERE / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


@lru_cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of ``locale`` (English is the source language: its catalog
    only exists so every locale goes through the same path)."""
    if locale not in LOCALES:
        return gettext.NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, read_catalog(locale))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(message: Message, locale: str) -> str:
    """``message`` in ``locale``: its msgid translated, its parameters filled in."""
    return message.translate(translations(locale).gettext)


@lru_cache(maxsize=1)
def msgids() -> frozenset[str]:
    """Every msgid of the catalogs: the only sentences a page formats."""
    return frozenset(m.id for m in read_catalog(DEFAULT_LOCALE)
                     if isinstance(m.id, str) and m.id)


def said(locale: str, text: object, i18n: object = None) -> object:
    """What a page shows for ``text`` in ``locale``: a Message translated; a response's
    English text through its ``*_i18n`` companion when it has one; any other text as it
    came (torch's own words, a program's exception).

    Security: a companion comes from the sandbox worker's JSON. Only msgids of our own
    catalogs are used as format strings, so a response that names another "id" (say
    ``{what.__class__}``) is shown as its plain English text, never formatted."""
    if isinstance(text, Message):
        return translate(text, locale)
    message = Message.from_json(i18n)
    if message is None or not set(message.ids()) <= msgids():
        return text
    try:
        return translate(message, locale)
    except FORMAT_ERRORS:  # values that do not fit the msgid (not ours): the English text
        return text


def notices(locale: str, body: Mapping[str, Any]) -> list[object]:
    """The ``notices`` of a response in ``locale`` (``notices_i18n`` holds their msgids)."""
    shown = body.get("notices") or []
    ids = body.get("notices_i18n")
    if not isinstance(ids, list) or len(ids) != len(shown):
        return list(shown)
    return [said(locale, text, i18n) for text, i18n in zip(shown, ids, strict=True)]


def extract() -> Catalog:
    """Every UI message of the templates and the playground domain, as a template catalog."""
    catalog = Catalog(domain=DOMAIN, project="torch-playground")
    for directory, method_map in SOURCES:
        options = {"**.html": JINJA_OPTIONS}
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / directory, method_map, options_map=options, keywords=KEYWORDS):
            catalog.add(message, locations=[(f"{directory}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


# Accept-Language is read from every page request on the event loop, so its parsing must be
# linear and bounded: a regex with nested whitespace runs once took ~10 s on a 30 kB header and
# stalled every other request. A browser sends well under 100 characters and a handful of
# ranges; only the first MAX_ACCEPT_LANGUAGE_CHARS characters and MAX_LANGUAGE_RANGES ranges
# are considered (the server also refuses oversized headers: setting max_header_bytes).
MAX_ACCEPT_LANGUAGE_CHARS = 512
MAX_LANGUAGE_RANGES = 32
_MAX_QVALUE_CHARS = 5  # "0.123": RFC 9110 allows at most three decimals
_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM = _ALPHA | frozenset("0123456789")
_QVALUE_CHARS = frozenset("0123456789.")


def _is_language_range(tag: str) -> bool:
    """``en``, ``ja-JP``, ``zh-Hant-TW``: subtags of 1-8 ASCII letters (digits after the
    first). The wildcard ``*`` is left out: it names no language we could pick."""
    first, *rest = tag.split("-")
    return (0 < len(first) <= 8 and all(c in _ALPHA for c in first)
            and all(0 < len(sub) <= 8 and all(c in _ALNUM for c in sub) for sub in rest))


def _quality(params: list[str]) -> float | None:
    """The weight of a range from its parameters (1 without any); None when they are not a
    single well-formed ``q=`` parameter."""
    if not params:
        return 1.0
    name, sep, value = params[0].partition("=")
    value = value.strip()
    if (len(params) > 1 or not sep or name.strip().lower() != "q"
            or not 0 < len(value) <= _MAX_QVALUE_CHARS or not set(value) <= _QVALUE_CHARS):
        return None
    try:
        return min(float(value), 1.0)
    except ValueError:  # "1.2.3"
        return None


def preferred_languages(header: str) -> list[str]:
    """Language ranges of an Accept-Language header, best first (ties keep their order)."""
    text = header[:MAX_ACCEPT_LANGUAGE_CHARS]
    if len(header) > MAX_ACCEPT_LANGUAGE_CHARS:
        text = text.rpartition(",")[0]  # a range cut in half could read as another weight
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(text.split(",", MAX_LANGUAGE_RANGES)[:MAX_LANGUAGE_RANGES]):
        tag, *params = part.split(";")
        tag = tag.strip()
        q = _quality(params)
        if q is not None and q > 0 and _is_language_range(tag):
            ranked.append((-q, i, tag))
    return [lang for _, _, lang in sorted(ranked)]


def negotiate(accept_language: str | None) -> str:
    found = negotiate_locale(preferred_languages(accept_language or ""), LOCALES, sep="-")
    # Babel matches case-insensitively but answers in the header's spelling ("JA").
    found = (found or "").lower()
    return found if found in LOCALES else DEFAULT_LOCALE
