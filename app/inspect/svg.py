"""Sanitise the SVG of a rendered figure to an allowlist of elements and attributes.

The page shows a figure as ``<img src="data:image/svg+xml;base64,...">``, where a browser runs
no script and loads nothing external; this is the second line. The SVG is parsed by a real XML
parser with DTDs and entities refused (defusedxml: a billion-laughs document is an error, not
a gigabyte), and a new document is built from the parts on the lists: no script, no
foreignObject, no event attributes, no reference that leaves the document (``href`` is
``#id``, or a PNG data URL on ``<image>``), no ``url(...)`` but ``url(#id)``. Comments, which
matplotlib fills with the text it drew, are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

ELEMENTS = frozenset({
    "svg", "g", "defs", "path", "use", "clipPath", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "image", "style", "pattern", "linearGradient",
    "radialGradient", "stop", "title", "desc",
})
ATTRIBUTES = frozenset({
    "id", "d", "x", "y", "width", "height", "viewBox", "transform", "style", "fill", "stroke",
    "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-opacity",
    "fill-opacity", "fill-rule", "opacity", "clip-path", "clipPathUnits", "version", "points",
    "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "font-family", "font-size",
    "font-style", "font-weight", "text-anchor", "patternUnits", "preserveAspectRatio",
    "gradientUnits", "offset", "stop-color", "stop-opacity", "type",
})
_TEXT_ELEMENTS = frozenset({"text", "tspan", "title", "desc"})
# The one DOCTYPE matplotlib writes; any other DTD is refused by the parser.
_DOCTYPE = re.compile(rb'\A\s*(<\?xml[^>]*\?>)?\s*<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1\.1//EN"'
                      rb'\s+"http://www\.w3\.org/Graphics/SVG/1\.1/DTD/svg11\.dtd">')
_ID_REFERENCE = re.compile(r"#[A-Za-z_][A-Za-z0-9_.-]*")
_PNG_DATA = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=\s]*")
_STYLE_CHARS = re.compile(r"[A-Za-z0-9#%.,:;()\s_*{}-]*")
_URL = re.compile(r"url\(([^)]*)\)")
_MAX_DEPTH = 64


class SvgRejected(ValueError):
    """The SVG could not be made safe (not XML, a DTD, too deep)."""


def sanitize_svg(data: bytes) -> bytes:
    """The allowlisted parts of ``data``, serialised anew (UTF-8, no XML declaration)."""
    match = _DOCTYPE.match(data)
    if match is not None:
        data = data[match.end():]
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except (DefusedXmlException, ET.ParseError) as error:
        raise SvgRejected(f"the SVG is not plain XML ({type(error).__name__})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise SvgRejected("the document is not an SVG")
    clean = _copy(root, 0)
    assert clean is not None
    return ET.tostring(clean, encoding="utf-8", xml_declaration=False)


def _local(tag: Any) -> str | None:
    if not isinstance(tag, str) or not tag.startswith(f"{{{SVG_NS}}}"):
        return None  # comments, processing instructions, foreign namespaces
    return tag[len(SVG_NS) + 2:]


def _copy(element: ET.Element, depth: int) -> ET.Element | None:
    name = _local(element.tag)
    if name not in ELEMENTS:
        return None
    if depth > _MAX_DEPTH:
        raise SvgRejected("the SVG is nested too deeply")
    clean = ET.Element(element.tag)
    for key, value in element.attrib.items():
        safe = _attribute(name, key, value)
        if safe is not None:
            clean.set(safe, value)
    if element.text and (name in _TEXT_ELEMENTS or (name == "style" and _safe_style(
            element.text))):
        clean.text = element.text
    for child in element:
        copied = _copy(child, depth + 1)
        if copied is not None:
            if child.tail and name in _TEXT_ELEMENTS:
                copied.tail = child.tail
            clean.append(copied)
    return clean


def _attribute(element: str, key: str, value: str) -> str | None:
    """The attribute's name if it may stay, else None."""
    if key in (f"{{{XLINK_NS}}}href", "href"):
        if _ID_REFERENCE.fullmatch(value) or (element == "image" and _PNG_DATA.fullmatch(value)):
            return key
        return None
    if key not in ATTRIBUTES:
        return None  # on* event handlers, xml:base, foreign namespaces ...
    return key if _safe_style(value) else None


def _safe_style(text: str) -> bool:
    """Plain values and declarations: no @import, no escapes, no quotes, no url() but
    url(#id). Applied to every attribute too: presentation attributes are CSS values."""
    return bool(_STYLE_CHARS.fullmatch(text)) and _only_local_urls(text)


def _only_local_urls(text: str) -> bool:
    lowered = text.lower()
    urls = _URL.findall(text)
    if lowered.count("url(") != len(urls):
        return False
    return all(_ID_REFERENCE.fullmatch(url.strip()) for url in urls)
