"""Edits are updates, not duplicates, and deleted posts leave the inbox: the store's insert path, the
collector around it, scoring after an edit, and the case an edit reopens, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import Engine, func, select

from models import Score
from monitor.collect import saving
from monitor.collect.run import collect
from monitor.collect.saving import save_page
from monitor.config import ResponderSettings
from monitor.mention import Mention, Page, Watch, utcnow
from monitor.respond.cases import open_case, set_status
from monitor.respond.history import event_sentence
from monitor.respond.transitions import apply_transition
from monitor.score.run import score_pending
from monitor.store import edits as edits_module
from monitor.store import mentions as mentions_module
from monitor.store.alerts import recent_negatives
from monitor.store.cases import find_case, overdue_cases, uncased_scored_since, update_case
from monitor.store.collect_state import get_state
from monitor.store.digests import unclaimed_negatives
from monitor.store.edits import mark_deleted
from monitor.store.filters import MentionFilter
from monitor.store.inbox import open_negatives, ranked
from monitor.store.mentions import import_mentions, iter_all, store_mentions
from monitor.store.schema import mention_events, mention_versions, mentions
from monitor.store.triage import history
from monitor.store.versions import earlier_versions
from monitor.surface.inbox import inbox_rows
from tests.factories import BASE_TIME, mention, watch

pytestmark = pytest.mark.both_databases

SETTINGS = ResponderSettings()


def review(rating: float, text: str = "great app", n: int = 1, **fields: object) -> Mention:
    return mention(n, source="playstore", text=text, rating=rating, **fields)


class TextModel:
    """Reads every text as positive, whatever the stars say: only the verdict rule (stars decide a
    review) can make a review negative, which is what an edit from 4 to 1 star must go through."""

    version = "fixed-1"
    languages = frozenset({"en"})

    def predict(self, texts: Sequence[str]) -> list[Score]:
        return [Score("positive", 0.05, 0.15, 0.80, "en") for _ in texts]


class ReviewSource:
    """A store's review list with no HTTP: serves `reviews` and `deleted` as they are when asked."""

    name: ClassVar[str] = "playstore"

    def __init__(self, reviews: list[Mention], deleted: tuple[str, ...] = ()) -> None:
        self.reviews = reviews
        self.deleted = deleted

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        return Page(list(self.reviews), "next", deleted=self.deleted)


def row(engine: Engine, external_id: str = "m1") -> dict[str, object]:
    [found] = [r for r in iter_all(engine, MentionFilter()) if r["external_id"] == external_id]
    return found


def events(engine: Engine, action: str) -> list[tuple[str | None, str]]:
    query = select(mention_events.c.note, mention_events.c.actor).where(mention_events.c.action == action)
    with engine.connect() as connection:
        return [(r.note, r.actor) for r in connection.execute(query)]


def version_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(mention_versions)) or 0)


def test_an_edit_updates_the_row_keeps_its_previous_version_and_clears_the_score(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(4, title="Love it", language="en", raw={"v": 1})])
    assert score_pending(engine, TextModel()) == 1
    first = row(engine)
    assert first["label"] == "positive" and first["scored_at"] is not None

    with engine.begin() as connection:
        stored = store_mentions(connection, "acme", [review(1, "crashes since the update", raw={"v": 2})])

    assert (stored.new, stored.edited) == (0, 1)
    assert stored.edits[0].changes == "text changed; rating 4 -> 1"
    edited = row(engine)
    assert (edited["text"], edited["rating"], edited["title"], edited["raw"]) == (
        "crashes since the update",
        1.0,
        "Love it",  # the source left the title out: nothing said about it, nothing changed
        {"v": 2},
    )
    assert edited["id"] == first["id"]
    assert edited["scored_at"] is None and edited["label"] is None and edited["rank_key"] is None
    [version] = earlier_versions(engine, int(first["id"]))
    assert (version.version, version.text, version.title, version.rating, version.language) == (
        1,
        "great app",
        "Love it",
        4.0,
        "en",
    )
    assert version.seen_at == first["collected_at"]
    with engine.connect() as connection:
        raw = connection.scalar(select(mention_versions.c.raw))
        count = connection.scalar(select(func.count()).select_from(mentions))
    assert raw == {"v": 1} and count == 1
    assert events(engine, "edited") == [("text changed; rating 4 -> 1", "source")]


def test_a_redelivery_without_changes_writes_nothing(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(4, title="Love it", language="en")])
    score_pending(engine, TextModel())
    before = row(engine)
    with engine.begin() as connection:
        # Same content; a source that omits title, rating and language says nothing about them.
        again = store_mentions(connection, "acme", [review(4, title="Love it", language="en")])
        bare = store_mentions(connection, "acme", [mention(1, source="playstore", text="great app")])
    assert (again.new, again.edited, bare.new, bare.edited) == (0, 0, 0, 0)
    assert version_count(engine) == 0 and events(engine, "edited") == []
    assert row(engine)["scored_at"] == before["scored_at"]
    assert row(engine)["label"] == "positive"


def test_each_edit_keeps_a_numbered_version_the_latest_first(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(5, "perfect")])
    import_mentions(engine, "acme", [review(3, "meh")])
    import_mentions(engine, "acme", [review(3, "meh", language="de")])  # the language alone
    versions = earlier_versions(engine, int(row(engine)["id"]))
    assert [(v.version, v.text, v.rating, v.language) for v in versions] == [
        (2, "meh", 3.0, None),
        (1, "perfect", 5.0, None),
    ]
    assert [note for note, _ in events(engine, "edited")] == [
        "text changed; rating 5 -> 3",
        "language unknown -> de",
    ]


def test_a_review_edited_from_4_stars_to_1_reaches_the_inbox_as_negative(engine: Engine) -> None:
    source = ReviewSource([review(4)])
    first = collect(engine, watch(), source, force=True)
    assert (first.new, first.edited) == (1, 0)
    assert score_pending(engine, TextModel()) == 1
    negative_inbox = MentionFilter(labels=["negative"], triage=["open"])
    assert inbox_rows(engine, negative_inbox) == []

    source.reviews = [review(1)]  # the same review, one star now; the same words
    edited = collect(engine, watch(), source, force=True)
    assert (edited.new, edited.edited, edited.ok) == (0, 1, True)
    assert "0 new, 1 edited" in edited.summary
    assert score_pending(engine, TextModel()) == 1  # the edit is pending again

    [shown] = inbox_rows(engine, negative_inbox)
    assert (shown.external_id, shown.rating, shown.label, shown.text_label, shown.label_basis) == (
        "m1",
        1.0,
        "negative",
        "positive",
        "stars",
    )
    assert open_negatives(engine) == 1

    again = collect(engine, watch(), source, force=True)  # the page fetched once more
    assert (again.new, again.edited) == (0, 0)
    assert score_pending(engine, TextModel()) == 0


def _replied_case(engine: Engine, mention_id: int) -> None:
    """A case we answered: opened, its reply posted (the transition and the clock posting writes)."""
    case = open_case(engine, mention_id, "sam", SETTINGS)
    now = utcnow()
    with engine.begin() as connection:
        apply_transition(connection, mention_id, "reply", "posted", "sam", now)
        update_case(connection, case.id, first_response_at=now)


def test_an_edit_after_our_reply_reopens_the_case_and_says_why(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(4)])
    mention_id = int(row(engine)["id"])
    _replied_case(engine, mention_id)  # the posted reply handled the mention too
    assert row(engine)["triage"] == "handled"

    stored = save_page(engine, "acme", "playstore", [review(1)], "c2")

    assert stored.edited == 1
    case = find_case(engine, mention_id)
    assert case is not None and case.status == "in_progress"
    assert row(engine)["triage"] == "open"
    reopened = [e for e in history(engine, mention_id) if e.action == "status" and e.actor == "source"]
    assert [(e.before, e.after, e.note) for e in reopened] == [
        ("replied", "in_progress", "the customer edited the review after our reply: rating 4 -> 1")
    ]
    assert event_sentence(reopened[0]) == (
        "Grumble moved the case from replied to in progress: "
        "the customer edited the review after our reply: rating 4 -> 1"
    )
    [edit] = [e for e in history(engine, mention_id) if e.action == "edited"]
    assert event_sentence(edit) == "The author edited it: rating 4 -> 1"


def apply_transition_triage(engine: Engine, mention_id: int, state: str) -> None:
    with engine.begin() as connection:
        apply_transition(connection, mention_id, "triage", state, "sam", utcnow())


def test_an_edit_reopens_a_resolved_case_but_not_an_open_or_dismissed_one(engine: Engine) -> None:
    import_mentions(engine, "acme", [mention(n, source="mastodon", text=f"post {n}") for n in (1, 2, 3)])
    ids = {str(r["external_id"]): int(r["id"]) for r in iter_all(engine, MentionFilter())}
    for key, status in (("m1", "resolved"), ("m2", "in_progress"), ("m3", "dismissed")):
        case = open_case(engine, ids[key], "sam", SETTINGS)
        set_status(engine, case.id, status, "sam")

    save_page(
        engine,
        "acme",
        "mastodon",
        [mention(n, source="mastodon", text=f"post {n}, edited") for n in (1, 2, 3)],
        "c",
    )

    statuses = {key: getattr(find_case(engine, ids[key]), "status", None) for key in ids}
    assert statuses == {"m1": "in_progress", "m2": "in_progress", "m3": "dismissed"}
    [note] = [e.note for e in history(engine, ids["m1"]) if e.action == "status" and e.actor == "source"]
    assert note == "the customer edited the post after the case was resolved: text changed"
    assert not [e for e in history(engine, ids["m2"]) if e.action == "status" and e.actor == "source"]


def test_an_edit_reopens_a_mention_marked_handled_without_a_case(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(4, n=1), review(4, n=2)])
    ids = {str(r["external_id"]): int(r["id"]) for r in iter_all(engine, MentionFilter())}
    apply_transition_triage(engine, ids["m1"], "handled")
    apply_transition_triage(engine, ids["m2"], "dismissed")  # not about us: an edit does not change that

    save_page(engine, "acme", "playstore", [review(1, n=1), review(1, n=2)], "c")

    assert (row(engine, "m1")["triage"], row(engine, "m2")["triage"]) == ("open", "dismissed")
    [reopened] = [e for e in history(engine, ids["m1"]) if e.action == "triage" and e.actor == "source"]
    assert reopened.note == "the customer edited the review after it was marked handled: rating 4 -> 1"
    assert find_case(engine, ids["m1"]) is None


def test_a_language_the_source_relabels_is_kept_but_reopens_nothing(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(4, language="en")])
    mention_id = int(row(engine)["id"])
    _replied_case(engine, mention_id)
    stored = save_page(engine, "acme", "playstore", [review(4, language="de")], "c")
    assert stored.edited == 1 and not stored.edits[0].by_author
    case = find_case(engine, mention_id)
    assert case is not None and case.status == "replied"
    save_page(engine, "acme", "playstore", [review(2, language="de")], "c")  # now the customer
    case = find_case(engine, mention_id)
    assert case is not None and case.status == "in_progress"


def _score_negative(engine: Engine) -> None:
    class Negative(TextModel):
        def predict(self, texts: Sequence[str]) -> list[Score]:
            return [Score("negative", 0.95, 0.03, 0.02, "en") for _ in texts]

    score_pending(engine, Negative())


def test_a_deleted_post_leaves_every_open_list_but_stays_in_the_export(engine: Engine) -> None:
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [mention(n, source="bluesky", text=f"acme is awful {n}", created_at=now) for n in (1, 2)],
    )
    _score_negative(engine)
    ids = {str(r["external_id"]): int(r["id"]) for r in iter_all(engine, MentionFilter())}
    case = open_case(engine, ids["m1"], "sam", SETTINGS)
    with engine.begin() as connection:
        update_case(connection, case.id, response_due_at=now - timedelta(hours=1))
    assert open_negatives(engine) == 2

    with engine.begin() as connection:
        assert mark_deleted(connection, "bluesky", ["m1", "never-stored"]) == 1
        assert mark_deleted(connection, "bluesky", ["m1"]) == 0  # already marked: no second event
        assert mark_deleted(connection, "mastodon", ["m2"]) == 0  # another source's id
        assert mark_deleted(connection, "bluesky", []) == 0

    open_inbox = MentionFilter(labels=["negative"], triage=["open"])
    assert [r["external_id"] for r in ranked(engine, open_inbox)] == ["m2"]
    assert open_negatives(engine) == 1
    with engine.connect() as connection:
        assert [r["id"] for r in recent_negatives(connection, now - timedelta(days=1))] == [ids["m2"]]
        digest = unclaimed_negatives(connection, "team", [], now - timedelta(days=1), now + timedelta(days=1))
        assert [r["id"] for r in digest] == [ids["m2"]]
        assert [r.id for r in uncased_scored_since(connection, now - timedelta(days=1), 10)] == [ids["m2"]]
    assert overdue_cases(engine, now) == []
    # Not an open item, but still a stored mention: the "all" view and the export keep it, flagged.
    assert {r["external_id"] for r in ranked(engine, MentionFilter(labels=["negative"]))} == {"m1", "m2"}
    exported = {str(r["external_id"]): r["deleted_at"] for r in iter_all(engine, MentionFilter())}
    assert exported["m1"] is not None and exported["m2"] is None
    assert events(engine, "deleted") == [("the author deleted it", "source")]
    [deleted] = [e for e in history(engine, ids["m1"]) if e.action == "deleted"]
    assert event_sentence(deleted) == "The author deleted the post."


def test_the_collector_applies_a_pages_deletions_with_its_mentions_and_cursor(engine: Engine) -> None:
    source = ReviewSource([review(4, n=1), review(2, n=2)])
    collect(engine, watch(), source, force=True)
    source.reviews, source.deleted = [review(1, n=3)], ("m1", "unknown")
    result = collect(engine, watch(), source, force=True)
    assert (result.new, result.edited, result.deleted) == (1, 0, 1)
    assert "1 deleted" in result.summary
    assert row(engine, "m1")["deleted_at"] is not None
    assert row(engine, "m2")["deleted_at"] is None
    assert get_state(engine, "acme", "playstore").cursor == "next"


def test_a_failed_cursor_write_rolls_back_the_pages_edits_and_deletions(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_page(engine, "acme", "playstore", [review(4, n=1), review(5, n=2)], "c1")

    def broken(*_args: object) -> None:
        raise RuntimeError("the database went away mid-page")

    monkeypatch.setattr(saving, "advance_cursor", broken)
    with pytest.raises(RuntimeError):
        save_page(engine, "acme", "playstore", [review(1, n=1)], "c2", deleted=["m2"])
    assert row(engine, "m1")["rating"] == 4.0
    assert row(engine, "m2")["deleted_at"] is None
    assert version_count(engine) == 0 and events(engine, "edited") == events(engine, "deleted") == []
    assert get_state(engine, "acme", "playstore").cursor == "c1"


def test_an_edit_after_a_deletion_keeps_the_post_deleted(engine: Engine) -> None:
    import_mentions(engine, "acme", [review(4)])
    with engine.begin() as connection:
        mark_deleted(connection, "playstore", ["m1"], BASE_TIME)
    # A stream replaying a few seconds after a reconnect can deliver the post again.
    import_mentions(engine, "acme", [review(4)])
    assert row(engine)["deleted_at"] == BASE_TIME


def test_an_edit_made_from_a_stale_read_is_redone_on_the_row_as_it_now_is(engine: Engine) -> None:
    """Two writers of one post (a stream and a poll): the second read the row before the first's edit
    committed. Its compare-and-set finds the row changed, reads it again, and keeps both versions."""
    import_mentions(engine, "acme", [review(5, "v0")])
    with engine.connect() as connection:
        [stale] = edits_module._stored_rows(connection, mentions.c.external_id == "m1")
    import_mentions(engine, "acme", [review(4, "vA")])  # the other writer, committed in between

    now = utcnow()
    with engine.begin() as connection:
        edit = edits_module._apply_edit(connection, stale, mentions_module._row(review(1, "vB"), now), now)

    assert edit is not None and (edit.version, edit.changes) == (2, "text changed; rating 4 -> 1")
    versions = earlier_versions(engine, int(row(engine)["id"]))
    assert [(v.version, v.text, v.rating) for v in versions] == [(2, "vA", 4.0), (1, "v0", 5.0)]
    assert (row(engine)["text"], row(engine)["rating"]) == ("vB", 1.0)
