import pytest

from monitor.collect.matching import contains_phrase, matches
from tests.factories import mention, watch


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("I love ACME!", "acme", True),
        ("acmeville is nice", "acme", False),
        ("the acme-app crashed", "acme", True),
        ("Acme  App is down", "acme app", True),
        ("c++ is hard", "c++", True),
        ("@acme help", "@acme", True),
        ("notacme", "acme", False),
    ],
)
def test_phrases_match_case_insensitively_on_word_boundaries(text: str, phrase: str, expected: bool) -> None:
    assert contains_phrase(text, phrase) is expected


def test_required_and_excluded_words() -> None:
    w = watch(required=("refund",), excluded=("jobs",))
    assert matches(w, mention(1, text="Acme, I want a REFUND"))
    assert not matches(w, mention(2, text="Acme is great"))
    assert not matches(w, mention(3, text="refund policy at acme jobs board"))


def test_title_counts_for_matching() -> None:
    assert matches(watch(required=("refund",)), mention(1, text="see title", title="Refund please"))


def test_language_filter_keeps_unknown_languages() -> None:
    w = watch(languages=("en",))
    assert matches(w, mention(1, language="en-GB"))
    assert not matches(w, mention(2, language="de"))
    assert matches(w, mention(3, language=None))


def test_keywords_are_checked_only_on_unsearched_pages() -> None:
    w = watch(keywords=("acme",))
    other = mention(1, text="nothing to see")
    assert matches(w, other)
    assert not matches(w, other, need_keyword=True)
    assert matches(w, mention(2, text="Acme rocks"), need_keyword=True)
