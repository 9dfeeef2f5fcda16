"""UI translations: Babel catalogs (``<locale>/LC_MESSAGES/messages.po``) compiled in
memory with Babel's own reader and writer at first use, so no build step or committed
``.mo`` can go stale against the ``.po`` it came from.

Maintenance: ``python -m app.i18n`` extracts the messages of the templates and of
``app/playground`` into ``messages.pot`` and merges them into each ``.po``; translators
then fill in the Japanese ``msgstr`` lines. ``tests/playground/test_i18n.py`` fails while
any message lacks a translation.
"""

from __future__ import annotations

import gettext
import re
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}  # each in its own language, never translated
DOMAIN = "messages"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# (directory under the repo root, Babel method map) for everything that holds UI text
SOURCES = (
    ("templates", [("**.html", "jinja2")]),
    ("app/playground", [("**.py", "python")]),
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


_LANGUAGE_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def preferred_languages(header: str) -> list[str]:
    """Language ranges of an Accept-Language header, best first (ties keep their order)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:32]):  # a header can be long; 32 is plenty
        match = _LANGUAGE_RANGE.match(part)
        if not match or match.group(1) == "*":
            continue
        try:
            q = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if q > 0:
            ranked.append((-q, i, match.group(1)))
    return [lang for _, _, lang in sorted(ranked)]


def negotiate(accept_language: str | None) -> str:
    found = negotiate_locale(preferred_languages(accept_language or ""), LOCALES, sep="-")
    return found if found in LOCALES else DEFAULT_LOCALE
