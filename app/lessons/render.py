"""Lesson text to safe HTML, and TeX to MathML.

The mini-markup is deliberately small: paragraphs separated by blank lines, ``## `` headings,
``- `` bullet
lists, pipe tables (``| a | b |`` rows, the second a ``|---|`` rule), and inline
```code```, ``**bold**`` and ``[links](/path)``. The text is HTML-escaped FIRST and only
then are those few tags added, so nothing in a lesson file can inject markup; link targets
are limited to this site's paths and https URLs (checked when the catalog loads, see
``link_problems``). Formulas become MathML on the server, so the page needs no script.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from latex2mathml.converter import convert as latex_to_mathml
from markupsafe import Markup

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Neither part of a link holds a bracket of its own kind: with "[" allowed in the label,
# "[" * 10,000 in a teacher's task text (rendered on the event loop for every student page)
# scanned to the line's end from each bracket, 0.9 s per page; "(" in the address did the
# same for "[a](" repeated.
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\s]+)\)")
# What the catalog's loader looks for (its own files, read once at start): anything that
# reads like a link, so that one render() would leave as text is still reported.
_LINK_LIKE = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_TABLE_RULE = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")
_LIST_ITEM = re.compile(r"^- ")


def link_allowed(url: str) -> bool:
    """Site paths (not ``//host``) and https URLs; no other scheme can reach the page."""
    if url.startswith("/"):
        return not url.startswith("//") and "\\" not in url
    return url.startswith("https://")


def link_problems(text: str) -> list[str]:
    """Links of a text that render() would refuse, for the loader's error message."""
    return [url for _, url in _LINK_LIKE.findall(text) if not link_allowed(url)]


def _inline_plain(escaped: str) -> str:
    """Bold and links in text that is already escaped and holds no code spans."""
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), html.unescape(match.group(2))
        if not link_allowed(url):
            return match.group(0)
        external = "" if url.startswith("/") else ' rel="noopener noreferrer"'
        return f'<a href="{html.escape(url, quote=True)}"{external}>{label}</a>'

    return _LINK.sub(link, escaped)


def inline(text: str) -> str:
    """One line or paragraph of markup as HTML. Code spans are cut out first so that
    ``**`` or brackets inside code stay literal; each leaves a placeholder behind, so bold
    text and link labels may still hold code (``**into `t` itself**``)."""
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(f"<code>{html.escape(match.group(1), quote=True)}</code>")
        return f"\x00{len(spans) - 1}\x00"

    # The NUL placeholders cannot come from a lesson: the loader's TOML strings hold none.
    held = _CODE.sub(hold, text.replace("\x00", ""))
    rendered = _inline_plain(html.escape(held, quote=True))
    return _PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], rendered)


_PLACEHOLDER = re.compile("\x00([0-9]+)\x00")


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table(lines: list[str]) -> str:
    head, body = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    parts = ['<div class="table-scroll" tabindex="0"><table class="plain lesson-table">',
             "<thead><tr>", *(f'<th scope="col">{inline(c)}</th>' for c in head),
             "</tr></thead><tbody>"]
    for row in body:
        parts.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _block(block: str) -> str:
    lines = [line.rstrip() for line in block.strip("\n").splitlines()]
    if lines[0].startswith("## "):
        heading = f'<h2 class="lesson-heading">{inline(lines[0][3:].strip())}</h2>'
        return heading + ("\n" + _block("\n".join(lines[1:])) if len(lines) > 1 else "")
    if len(lines) >= 2 and all(line.lstrip().startswith("|") for line in lines) \
            and _TABLE_RULE.match(lines[1].strip().replace(" ", "")):
        return _table([line.strip() for line in lines])
    if all(_LIST_ITEM.match(line) or line.startswith("  ") for line in lines) \
            and _LIST_ITEM.match(lines[0]):
        items: list[str] = []
        for line in lines:  # an indented line continues the item above it
            if _LIST_ITEM.match(line):
                items.append(line[2:].strip())
            else:
                items[-1] += " " + line.strip()
        return "<ul>" + "".join(f"<li>{inline(item)}</li>" for item in items) + "</ul>"
    return f"<p>{inline(' '.join(line.strip() for line in lines))}</p>"


@lru_cache(maxsize=512)
def markup(text: str) -> Markup:
    """A lesson text as HTML (cached: the catalog is fixed while the server runs)."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    # Safe: every text piece went through html.escape before the tags were added.
    return Markup("\n".join(_block(b) for b in blocks))


class FormulaError(ValueError):
    pass


@lru_cache(maxsize=256)
def mathml(tex: str, display: bool = True) -> Markup:
    """TeX as MathML. Refuses output that would break the page's CSP (inline styles) or
    that failed to convert, so a bad formula fails when the catalog loads."""
    try:
        rendered = latex_to_mathml(tex, display="block" if display else "inline")
    except Exception as bad:  # the converter raises many kinds for malformed TeX
        raise FormulaError(f"cannot convert TeX to MathML: {bad}") from bad
    if "style=" in rendered or "<script" in rendered.lower():
        raise FormulaError("the MathML would need inline styles, which the CSP forbids")
    if "<merror" in rendered:
        raise FormulaError("the TeX has an error (MathML <merror>)")
    if "\\" in rendered:
        # The converter passes text-mode commands it does not know (\_ in \texttt{})
        # through as text: the reader would see a stray backslash.
        raise FormulaError("a backslash command would show as text (write \\mathtt{a\\_b} "
                           "rather than \\texttt{a\\_b})")
    return Markup(rendered)  # the converter escapes; the TeX is our own catalog
