"""The mini-markup escapes first and adds only its few tags; TeX becomes MathML."""

from __future__ import annotations

import re

import pytest

from app.lessons import service
from app.lessons.loader import Catalog
from app.lessons.render import FormulaError, markup, mathml


def test_paragraphs_code_bold_links() -> None:
    html = markup("One `torch.mm(A, B)` and **bold**.\n\nSee [compare](/compare?p=a&b=1).")
    assert html == ('<p>One <code>torch.mm(A, B)</code> and <strong>bold</strong>.</p>\n'
                    '<p>See <a href="/compare?p=a&amp;b=1">compare</a>.</p>')


def test_everything_is_escaped_before_tags_are_added() -> None:
    html = markup('<script>alert(1)</script> `<b>` **<i>x</i>** [<img>](/x"onmouseover=y)')
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "<code>&lt;b&gt;</code>" in html
    assert "<img" not in html


def test_code_spans_keep_markup_characters_literal() -> None:
    assert markup("`a**b**` and `[x](/y)`") == \
        "<p><code>a**b**</code> and <code>[x](/y)</code></p>"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/x", "http://x.org",
                                 "data:text/html,hi", "/\\evil"])
def test_links_off_site_or_to_other_schemes_stay_text(url: str) -> None:
    html = markup(f"[click]({url})")
    assert "<a " not in html


def test_external_https_links_do_not_leak_the_opener() -> None:
    assert markup("[docs](https://pytorch.org/docs)") == \
        '<p><a href="https://pytorch.org/docs" rel="noopener noreferrer">docs</a></p>'


def test_lists_tables_and_headings() -> None:
    html = markup("## Title `x`\n- one\n- two `t`\n  continued\n\n| a | b |\n|---|---|\n"
                  "| `1` | 2 |")
    assert '<h2 class="lesson-heading">Title <code>x</code></h2>' in html
    assert "<ul><li>one</li><li>two <code>t</code> continued</li></ul>" in html
    assert '<th scope="col">a</th>' in html and "<td><code>1</code></td>" in html


def test_formulas_become_mathml() -> None:
    html = mathml(r"C_{ij} = \sum_{k=1}^{n} A_{ik} B_{kj}")
    assert html.startswith("<math") and 'display="block"' in html
    assert "<munderover>" in html and "style=" not in html


def test_a_broken_formula_is_refused() -> None:
    with pytest.raises(FormulaError):
        mathml(r"\frac{1}{")


def test_a_formula_that_would_show_a_stray_backslash_is_refused() -> None:
    with pytest.raises(FormulaError, match="backslash"):
        mathml(r"\texttt{drop\_last}")
    assert "&#x0005F;" in mathml(r"\mathtt{drop\_last}")  # the underscore, as a character


def test_bold_text_may_hold_inline_code() -> None:
    assert markup("writes the sum **into `t` itself** and **`a` and `b`**.") == (
        "<p>writes the sum <strong>into <code>t</code> itself</strong> and "
        "<strong><code>a</code> and <code>b</code></strong>.</p>")
    assert markup("[the `mm` docs](/x) and `**` alone") == (
        '<p><a href="/x">the <code>mm</code> docs</a> and <code>**</code> alone</p>')


def test_no_lesson_text_shows_literal_markup(catalog: Catalog) -> None:
    """What the reader sees (tags and code removed) holds no ** left over."""
    for lesson in catalog.lessons:
        for locale in ("en", "ja"):
            page = service.page(catalog, lesson, locale)
            for section in page.sections:
                for html in (section.html, section.claim, section.truth):
                    visible = re.sub(r"<code>.*?</code>|<[^>]+>", "", str(html))
                    assert "**" not in visible, (lesson.id, locale, section.index)
