"""The SVG sanitiser: what matplotlib draws survives; anything active or external does not."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET

import pytest
from matplotlib.figure import Figure

from app.inspect.svg import SVG_NS, SvgRejected, sanitize_svg

HEAD = (b'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
        b'  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n')
OPEN = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        b'width="10pt" height="10pt" viewBox="0 0 10 10" version="1.1">')


def _svg(inner: str) -> bytes:
    return HEAD + OPEN + inner.encode() + b"</svg>"


def _tags(svg: bytes) -> list[str]:
    return [element.tag.split("}")[1] for element in ET.fromstring(svg).iter()]


def _matplotlib_svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def test_a_matplotlib_figure_keeps_every_drawing_element() -> None:
    figure = Figure(figsize=(3, 2))
    ax = figure.add_subplot(1, 1, 1)
    ax.plot([1, 2, 3], [3, 1, 2], "o-", label="line")
    ax.bar([1, 2], [1, 2], hatch="//")
    ax.imshow([[0, 1], [1, 0]], extent=(0, 1, 0, 1))
    ax.set_title("t")
    ax.legend()
    raw = _matplotlib_svg(figure)
    clean = sanitize_svg(raw)
    drawing = ("path", "use", "g", "clipPath", "image", "rect", "pattern")
    raw_tags = [t for t in _tags(raw.split(b"?>", 1)[1].split(b"dtd\">", 1)[1])
                if t in drawing]
    assert [t for t in _tags(clean) if t in drawing] == raw_tags
    assert b"data:image/png;base64," in clean
    assert b"<!--" not in clean and b"metadata" not in clean


@pytest.mark.parametrize("inner", [
    '<script>alert(1)</script>',
    '<script xlink:href="https://evil.example/x.js"/>',
    '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>',
    '<a xlink:href="javascript:alert(1)"><path d="M 0 0"/></a>',
    '<animate attributeName="href" to="javascript:alert(1)"/>',
    '<set attributeName="onload" to="alert(1)"/>',
    '<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/>',
])
def test_active_and_foreign_elements_are_dropped(inner: str) -> None:
    clean = sanitize_svg(_svg(f"<g>{inner}<path d='M 0 0 L 1 1'/></g>"))
    assert _tags(clean) == ["svg", "g", "path"]
    for word in (b"script", b"javascript", b"alert", b"evil", b"foreignObject", b"xhtml"):
        assert word not in clean


@pytest.mark.parametrize(("attribute", "survives"), [
    ('onload="alert(1)"', False),
    ('onclick="alert(1)"', False),
    ('xlink:href="https://evil.example/#x"', False),
    ('href="data:text/html;base64,PHNjcmlwdD4="', False),
    ('xlink:href="#DejaVuSans-41"', True),
    ('style="fill: url(https://evil.example/x)"', False),
    ('style="fill: url(#pattern1)"', True),
    ('style="fill: u\\rl(https://evil.example/x)"', False),
    ("style=\"background: url('https://evil.example')\"", False),
    ('fill="url(//evil.example/x)"', False),
    ('clip-path="url(#p1234)"', True),
    ('xml:base="https://evil.example/"', False),
    ('filter="url(#f)"', False),  # not on the list at all
])
def test_attributes_are_allowlisted_and_references_stay_inside(attribute: str,
                                                                survives: bool) -> None:
    clean = sanitize_svg(_svg(f"<use {attribute}/>"))
    use = ET.fromstring(clean).find(f"{{{SVG_NS}}}use")
    assert use is not None
    assert bool(use.attrib) is survives, clean
    assert b"evil" not in clean and b"alert" not in clean


def test_an_image_may_hold_a_png_data_url_and_nothing_else() -> None:
    png = "data:image/png;base64,\niVBORw0KGgo=\n"
    clean = sanitize_svg(_svg(f'<image xlink:href="{png}"/><image xlink:href="data:image/svg+'
                              'xml;base64,PHN2Zz4="/><use xlink:href="data:image/png;base64,'
                              'AAAA"/>'))
    hrefs = [e.attrib for e in ET.fromstring(clean)]
    # XML reads the newlines matplotlib writes in an attribute as spaces
    assert hrefs == [{"{http://www.w3.org/1999/xlink}href": png.replace("\n", " ")}, {}, {}]


def test_style_elements_with_imports_or_outside_urls_lose_their_text() -> None:
    clean = sanitize_svg(_svg("<defs><style>*{stroke-linecap: butt}</style>"
                              "<style>@import url(https://evil.example/x.css);</style>"
                              "<style>g{fill: url(http://evil.example)}</style></defs>"))
    assert clean.count(b"<style") == 3
    assert b"stroke-linecap: butt" in clean and b"evil" not in clean and b"@" not in clean


def test_text_is_kept_as_escaped_text() -> None:
    clean = sanitize_svg(_svg("<text>&lt;script&gt;alert(1)&lt;/script&gt;"
                              "<tspan>a &amp; b</tspan></text>"))
    assert b"<script" not in clean
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in clean
    assert ET.fromstring(clean).find(f"{{{SVG_NS}}}text").text == "<script>alert(1)</script>"


def test_billion_laughs_is_refused_at_once() -> None:
    lol = b"""<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>"""
    started = time.perf_counter()
    with pytest.raises(SvgRejected):
        sanitize_svg(lol)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("document", [
    # an external entity (file read) and an external DTD after matplotlib's own DOCTYPE
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
    HEAD + b'<!DOCTYPE svg SYSTEM "https://evil.example/x.dtd">' + OPEN + b"</svg>",
    b"<html><script>alert(1)</script></html>",
    b"not xml at all",
    b'<svg xmlns="http://www.w3.org/2000/svg"><g>',
])
def test_dtds_entities_and_non_svg_documents_are_refused(document: bytes) -> None:
    with pytest.raises(SvgRejected):
        sanitize_svg(document)


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(SvgRejected, match="deeply"):
        sanitize_svg(_svg("<g>" * 100 + "</g>" * 100))


def test_gid_and_url_that_matplotlib_writes_cannot_carry_script() -> None:
    """Real matplotlib output with an artist's url (an <a> link) and a gid (an id) chosen to
    break out of the attribute: the sanitiser drops both."""
    figure = Figure(figsize=(2, 2))
    ax = figure.add_subplot(1, 1, 1)
    (line,) = ax.plot([1, 2], [2, 1])
    line.set_url("javascript:alert(1)")
    line.set_gid('x" onload="alert(1)')
    raw = _matplotlib_svg(figure)
    assert b"javascript:alert(1)" in raw  # matplotlib writes what it is given
    clean = sanitize_svg(raw)
    assert b"javascript" not in clean and b"onload" not in clean and b"<a " not in clean
