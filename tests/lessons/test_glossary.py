"""The lessons' Japanese keeps to one glossary: one word per concept, one spacing rule."""

from __future__ import annotations

import pytest

from app.lessons.glossary import drift, load_glossary
from app.lessons.loader import Catalog, load_catalog
from app.lessons.models import Bilingual, Lesson, TextSection

LESSONS = load_catalog().lessons


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_a_lesson_follows_the_glossary(lesson: Lesson) -> None:
    assert drift(lesson) == []


def test_every_chosen_word_is_used(catalog: Catalog) -> None:
    everything = "".join(str(lesson.model_dump()) for lesson in catalog.lessons)
    for term in load_glossary().terms:
        assert term.ja in everything, term.concept


def _lesson_saying(ja: str) -> Lesson:
    first = LESSONS[0]
    return first.model_copy(update={"sections": [TextSection(kind="text", en="x", ja=ja)],
                                    "title": Bilingual(en="t", ja="題"),
                                    "summary": Bilingual(en="s", ja="要約")})


@pytest.mark.parametrize(("ja", "fragment"), [
    ("`w` は葉テンソルです。", "リーフテンソル"),
    ("テンソルの形は (2, 3) です。", "形状"),
    ("データ数 N をバッチサイズで割ります。", "サンプル数"),
    ("PyTorch はグラフをたどります。", "計算グラフ"),
    ("autograd が計算グラフをたどります。自動微分（autograd）は…", "first mention"),
    ("バージョンカウンターが増えます。", "バージョンカウンタ"),
    ("値が 3 つあります。", "numeral"),
    ("これは **ビュー** です。", "bold"),
])
def test_drift_is_caught(ja: str, fragment: str) -> None:
    found = drift(_lesson_saying(ja))
    assert found and all(fragment in f for f in found), found


@pytest.mark.parametrize("ja", [
    "線形変換の出力の形状は `(2, 3)` です。", "動的グラフと静的グラフ、計算グラフ。",
    "言葉の意味をその場で確かめます。", "値が3つあります。`x.view(3, 4)` の3つ目",
    "**ビュー**になります。", "学習率を 0.1 から下げます。",
    "自動微分（autograd）は計算グラフをたどります。autograd と自動微分。",
])
def test_correct_japanese_passes(ja: str) -> None:
    assert drift(_lesson_saying(ja)) == []
