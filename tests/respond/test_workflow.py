"""A click on the case panel as one call: what each step does, and the outcome it reports, against the
loopback fakes of the sources, on SQLite and PostgreSQL. And the sources it posts through, built from
the config once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from monitor.config import ResponderSettings, load_config
from monitor.respond.cases import open_case
from monitor.respond.workflow import Outcome, Repliers, ReplyAction, run_reply_action
from monitor.sources.base import Source, SourceSettings
from monitor.sources.registry import build_source
from monitor.store.cases import find_case
from tests.respond.conftest import ADMIN, OTHER_ADMIN, RESPONDER, SETTINGS, VIEWER, Store, approved
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer

TEXT = "Hi dana_k, sorry: fixed in 2.3."


def unconfigured(name: str) -> Source:
    """A source as an empty config builds it: App Store without a reply API, the others without a login."""
    return build_source(SourceSettings(name=name))


def only(source: Source) -> Repliers:
    """Repliers that post through this one source."""
    return Repliers(lambda name: source if name == source.name else unconfigured(name))


def case_id(store: Store, key: str) -> int:
    return open_case(store.engine, store.ids[key], ADMIN.name, SETTINGS).id


def test_submit_saves_submits_and_posts_at_once_when_nothing_waits(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    action = ReplyAction("submit", case_id(store, "mastodon"), text=TEXT, template="apology")
    outcome = run_reply_action(store.engine, action, ADMIN, SETTINGS, only(fake.source()))
    assert outcome.happened == "posted" and outcome.tone == "success"
    assert outcome.message == "Posted: https://social.example/@grumble_bot/200001"
    assert outcome.reply is not None and outcome.reply.status == "posted"
    assert outcome.reply.text == TEXT and outcome.reply.template == "apology"
    assert len(fake.posts()) == 1
    case = find_case(store.engine, store.ids["mastodon"])
    assert case is not None and case.status == "replied"


def test_a_reply_that_needs_approval_waits_then_the_approver_posts_it(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    repliers = only(fake.source())
    settings = ResponderSettings(approval_roles=("responder",))
    case = case_id(store, "mastodon")
    waiting = run_reply_action(
        store.engine, ReplyAction("submit", case, text=TEXT), RESPONDER, settings, repliers
    )
    assert (waiting.happened, waiting.tone) == ("awaiting_approval", "info")
    assert waiting.message == "Submitted: the reply waits for an approver."
    assert fake.posts() == []
    assert waiting.reply is not None
    approve = ReplyAction("approve", case, reply_id=waiting.reply.id)
    posted = run_reply_action(store.engine, approve, ADMIN, settings, repliers)
    assert posted.happened == "posted" and len(fake.posts()) == 1
    assert posted.reply is not None and posted.reply.approved_by == ADMIN.name


def test_sent_back_and_saved_drafts_say_so(store: Store) -> None:
    settings = ResponderSettings(approval_roles=("responder",))
    repliers = Repliers(unconfigured)
    case = case_id(store, "appstore")
    saved = run_reply_action(
        store.engine, ReplyAction("save", case, text=TEXT), RESPONDER, settings, repliers
    )
    assert saved == Outcome("saved", "success", "Draft saved.", saved.reply)
    assert saved.reply is not None and saved.reply.status == "draft"
    run_reply_action(store.engine, ReplyAction("submit", case, text=TEXT), RESPONDER, settings, repliers)
    back = ReplyAction("send_back", case, reply_id=saved.reply.id, reason="Too short")
    returned = run_reply_action(store.engine, back, ADMIN, settings, repliers)
    assert (returned.happened, returned.message) == ("sent_back", None)
    assert returned.reply is not None and returned.reply.status == "draft"


def test_without_a_reply_api_an_approved_reply_is_copied_and_marked_by_hand(store: Store) -> None:
    repliers = Repliers(unconfigured)
    case = case_id(store, "appstore")
    ready = run_reply_action(store.engine, ReplyAction("submit", case, text=TEXT), ADMIN, SETTINGS, repliers)
    assert (ready.happened, ready.tone) == ("approved", "info")
    assert ready.message == "Ready: copy the reply, post it on the original, then mark it replied by hand."
    assert ready.reply is not None
    post = run_reply_action(
        store.engine, ReplyAction("post", case, ready.reply.id), ADMIN, SETTINGS, repliers
    )
    assert (post.happened, post.tone) == ("refused", "error")
    assert post.message == (
        "Cannot post from Grumble: this source has no reply API. Copy the text and mark it replied by hand."
    )
    assert post.reply is not None and post.reply.status == "approved"
    unsaid = run_reply_action(
        store.engine, ReplyAction("by_hand", case, ready.reply.id), ADMIN, SETTINGS, repliers
    )
    assert (unsaid.happened, unsaid.reply) == ("refused", None)
    assert unsaid.message is not None and unsaid.message.startswith("Say what you sent")
    by_hand = ReplyAction("by_hand", case, ready.reply.id, sent="https://apps.apple.com/us/app/id1#r1")
    done = run_reply_action(store.engine, by_hand, ADMIN, SETTINGS, repliers)
    assert done == Outcome("posted_by_hand", "success", "Recorded as replied by hand.", done.reply)
    assert done.reply is not None and done.reply.status == "posted_by_hand"


def test_a_refused_or_unconfirmed_post_is_reported_with_the_reason(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    expired = fake.source(token="expired-token")
    reply = approved(store, "mastodon", TEXT, expired)
    failed = run_reply_action(
        store.engine, ReplyAction("post", reply.case_id, reply.id), ADMIN, SETTINGS, only(expired)
    )
    assert (failed.happened, failed.tone) == ("failed", "error")
    assert failed.message is not None and failed.message.startswith("Not posted: ")
    assert (
        failed.message.endswith(". The draft is kept.") and "GRUMBLE_MASTODON_ACCESS_TOKEN" in failed.message
    )

    slow = fake.source(timeout_s=0.5)
    fake.slow_s = 2.0  # the server publishes the reply, then answers after the client gave up
    submit = ReplyAction("submit", reply.case_id, text=TEXT)
    unconfirmed = run_reply_action(store.engine, submit, ADMIN, SETTINGS, only(slow))
    assert (unconfirmed.happened, unconfirmed.tone) == ("unconfirmed", "warning")
    assert unconfirmed.message is not None and unconfirmed.message.startswith("Not confirmed: ")
    assert len(fake.published) == 1


def test_refusals_come_back_as_outcomes_and_change_nothing(store: Store) -> None:
    repliers = Repliers(unconfigured)
    case = case_id(store, "reddit")
    viewer = run_reply_action(store.engine, ReplyAction("save", case, text=TEXT), VIEWER, SETTINGS, repliers)
    assert viewer == Outcome(
        "refused", "error", "to draft a reply needs the responder role; vera is a viewer", None
    )
    empty = run_reply_action(store.engine, ReplyAction("submit", case, text="  "), ADMIN, SETTINGS, repliers)
    assert (empty.happened, empty.message) == ("refused", "a reply needs some text")
    nothing = run_reply_action(store.engine, ReplyAction("approve", case), OTHER_ADMIN, SETTINGS, repliers)
    assert (nothing.happened, nothing.message) == ("refused", "approve needs the reply it acts on")
    unchanged = find_case(store.engine, store.ids["reddit"])
    assert unchanged is not None and unchanged.status == "new"


def test_repliers_build_each_source_once_and_route_by_hand_what_cannot_be_posted(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    config_path = tmp_path / "grumble.toml"
    config_path.write_text('[sources.mastodon]\nbase_url = "https://social.example"\n', encoding="utf-8")
    built: list[str] = []
    config = load_config(config_path, environ={})

    def build(name: str) -> Source:
        built.append(name)
        return build_source(config.source_settings(name))

    repliers = Repliers(build)
    assert repliers("mastodon") is repliers("mastodon") is not None
    assert repliers("appstore") is None and repliers("myspace") is None
    assert built == ["mastodon", "appstore", "myspace"]  # a failure is remembered too, not retried per click
    no_login = repliers.route("mastodon", "1")
    assert no_login.replier is None and no_login.source == "mastodon"
    assert (no_login.by_hand_because or "").startswith("mastodon needs an access_token")
    assert repliers.route("appstore", "review-1").by_hand_because == "this source has no reply API"
    assert (
        repliers.route("reddit", "demo-0042").by_hand_because
        == "it is a sample mention from the demo source, not a real post"
    )
    assert Repliers.from_config(config, sqlite_engine)("mastodon") is not None
