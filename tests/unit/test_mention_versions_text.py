"""An edited mention's earlier versions and a deleted post, in the words the mention page uses."""

from datetime import timedelta

from monitor.store.triage import MentionEvent
from monitor.store.versions import MentionVersion
from monitor.surface.versions import QUOTE_CHARS, deleted_line, reopened_because, version_line
from tests.factories import BASE_TIME


def version(text: str, rating: float | None = None, title: str | None = None) -> MentionVersion:
    return MentionVersion(1, text, title, rating, "en", BASE_TIME - timedelta(days=1), BASE_TIME)


def test_a_version_says_when_it_was_replaced_and_what_it_said() -> None:
    later = BASE_TIME + timedelta(hours=2)
    assert version_line(version("great app", 4), later) == "edited 2 h ago: was 4 stars: 'great app'"
    assert version_line(version("ok", 1), later) == "edited 2 h ago: was 1 star: 'ok'"
    assert version_line(version("body", None, "Title"), later) == "edited 2 h ago: was titled 'Title': 'body'"
    long = version_line(version("word " * 100 + "\n\nend"), later)
    assert long.endswith("…'") and len(long) < QUOTE_CHARS + 40


def test_a_deleted_post_and_a_reopened_case_in_words() -> None:
    assert deleted_line("2026-11-01 12:00 UTC").startswith(
        "The author deleted this post on 2026-11-01 12:00 UTC"
    )

    def status(actor: str, note: str | None) -> MentionEvent:
        return MentionEvent("status", "resolved", "in_progress", note, actor, BASE_TIME)

    edited = status("source", "the customer edited the review after our reply: rating 4 -> 1")
    assert reopened_because([edited]) == "the customer edited the review after our reply: rating 4 -> 1"
    assert reopened_because([edited, status("dana", None)]) is None  # a person moved it since
    assert reopened_because([]) is None
