from __future__ import annotations

from pathlib import Path

import pytest

from models import SentimentModel
from models.language import detect


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("this is the worst service I have ever had", "en"),
        ("Das ist wirklich ein schlechter Kundenservice, ich bin enttäuscht", "de"),
        ("C'est vraiment nul, je suis très déçu par ce produit", "fr"),
        ("Este producto es terrible, nunca más compro aquí", "es"),
        ("هذه الخدمة سيئة جدا ولن أعود مرة أخرى", "ar"),
        ("השירות הזה גרוע מאוד ולא אחזור לכאן", "he"),
    ],
)
def test_detects_language(text: str, code: str) -> None:
    assert detect(text) == code


@pytest.mark.parametrize("text", ["", "ok", "http @user", "12345 !!!", "😀"])
def test_too_short_is_unknown(text: str) -> None:
    assert detect(text) is None


def test_emoji_only_post_has_no_language(tiny_model_dir: Path) -> None:
    (score,) = SentimentModel.load(tiny_model_dir).predict(["😀😡👍🏽👨\u200d👩\u200d👧 🎉🎉"])
    assert score.language is None
