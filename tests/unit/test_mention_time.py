"""Dates no post can have are replaced at the edge, where every source and the importer build a Mention."""

from datetime import UTC, datetime, timedelta

from monitor.mention import ORIGINAL_TIME_KEY, utcnow
from tests.factories import mention


def test_a_post_from_2030_is_dated_when_it_was_seen_and_keeps_what_it_said() -> None:
    post = mention(1, source="bluesky", created_at=datetime(2030, 1, 1, tzinfo=UTC), raw={"uri": "at://x"})
    assert abs(post.created_at - utcnow()) < timedelta(seconds=5)
    assert post.raw == {"uri": "at://x", ORIGINAL_TIME_KEY: "2030-01-01T00:00:00+00:00"}


def test_clock_skew_and_old_but_possible_dates_are_kept() -> None:
    soon = utcnow() + timedelta(hours=3)
    assert mention(1, created_at=soon).created_at == soon
    assert mention(2, created_at=datetime(2006, 3, 21, tzinfo=UTC)).created_at.year == 2006
    assert mention(3, created_at=datetime(1994, 12, 31, tzinfo=UTC)).created_at.year >= 2026
