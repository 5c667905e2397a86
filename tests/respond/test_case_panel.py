"""The case panel on the mention page and the overdue flag in the inbox, through AppTest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from monitor.auth.users import User
from monitor.mention import utcnow
from monitor.store.cases import find_case
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.schema import cases
from tests.dashboard.conftest import Seeded, make_store, markdown_text, run_app
from tests.factories import mention
from tests.respond.conftest import MASTODON_ID, set_priority
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer

__all__ = ["make_store"]  # the fixture, shared with tests/dashboard

TEMPLATES = """
[responder]
brand = "Acme"
{responder}

[[reply_templates]]
name = "apology"
text = "Hi {{author}}, {{brand}} is sorry: we are on it."
"""


def _config(server: ReplayServer | None = None, responder: str = "", users: str = "") -> str:
    mastodon = (
        f'[sources.mastodon]\nbase_url = "{server.url}"\naccess_token = "masto-token"\ntimeout_s = 5\n'
        if server
        else ""
    )
    return mastodon + TEMPLATES.format(responder=responder) + users


def _with_mastodon(seeded: Seeded) -> int:
    import_mentions(
        seeded.engine,
        "acme",
        [
            mention(
                9,
                source="mastodon",
                external_id=MASTODON_ID,
                author="dana_k",
                text="acme logged me out again",
                url=f"https://social.example/@dana_k/{MASTODON_ID}",
            )
        ],
    )
    mention_id = next(r["id"] for r in iter_all(seeded.engine, MentionFilter()) if r["source"] == "mastodon")
    set_priority(seeded.engine, mention_id, 1.0)
    return mention_id


def _page(mention_id: int, user: User | None = None) -> AppTest:
    return run_app(
        "views/mention.py", query={"id": str(mention_id)}, session={"grumble_user": user} if user else None
    )


def _click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_open_a_case_pick_a_template_and_post_to_mastodon(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    seeded = make_store(_config(replay_server))
    mention_id = _with_mastodon(seeded)
    app = _page(mention_id)
    assert "Case" in [s.value for s in app.subheader]
    app = _click(app, f"open-case-{mention_id}")
    case = find_case(seeded.engine, mention_id)
    assert case is not None and case.status == "new"
    assert any("First response: due in" in c.value for c in app.caption)

    key = f"case-{case.id}-reply"
    app.selectbox(key=f"{key}-picker").select("apology").run()
    app = _click(app, f"{key}-use")
    assert app.text_area(key=f"{key}-text").value == "Hi dana_k, Acme is sorry: we are on it."
    assert any("Length: 39 / 500 characters" in c.value for c in app.caption)
    app.text_area(key=f"{key}-text").input("Hi dana_k, Acme is sorry: we are on it. Fixed in 2.3.").run()
    app = _click(app, f"{key}-submit")

    (post,) = fake.posts()
    assert post.json()["in_reply_to_id"] == MASTODON_ID
    assert post.json()["status"] == "Hi dana_k, Acme is sorry: we are on it. Fixed in 2.3."
    shown = " ".join(s.value for s in app.success).replace("\\", "")
    assert "https://social.example/@grumble_bot/200001" in shown
    replied = find_case(seeded.engine, mention_id)
    assert replied is not None and replied.status == "replied"
    history = markdown_text(app).replace("\\", "")
    assert "You posted the reply" in history and "You moved the case from in progress to replied" in history
    assert "reply_posted" not in history and "→" not in history
    assert app.text_area(key=f"{key}-text").value == ""  # ready for a follow-up


def test_case_fields_and_notes_are_saved_from_the_panel(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(_config())
    mention_id = seeded.ids["m2"]
    app = _click(_page(mention_id), f"open-case-{mention_id}")
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    app.text_input(key=f"case-{case.id}-assignee").input("dana").run()
    app = _click(app, f"case-{case.id}-assign")
    app.text_input(key=f"case-{case.id}-tags").input("sync, refund").run()
    app = _click(app, f"case-{case.id}-save-tags")
    app.text_area(key=f"case-{case.id}-note").input("Called the customer back").run()
    app = _click(app, f"case-{case.id}-note-add")
    app.selectbox(key=f"case-{case.id}-status-new").select("resolved").run()
    saved = find_case(seeded.engine, mention_id)
    assert saved is not None
    assert (saved.assignee, saved.tags, saved.status) == ("dana", ("sync", "refund"), "resolved")
    text = markdown_text(app).replace("\\", "")
    assert "Called the customer back" in text
    assert "You assigned the case to dana." in text and "You marked the case handled." in text
    assert (
        "You set the tags to sync, refund." in text and "You added a note: Called the customer back" in text
    )


USERS = """
[[users]]
name = "rick"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
[[users]]
name = "sam"
role = "admin"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
[[users]]
name = "vera"
role = "viewer"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""


def test_a_responders_reply_waits_until_an_admin_approves_and_posts_it(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer
) -> None:
    fake = FakeMastodon(replay_server)
    seeded = make_store(_config(replay_server, 'approval_roles = ["responder"]', USERS))
    mention_id = _with_mastodon(seeded)
    rick, sam, vera = User("rick", "responder", "x"), User("sam", "admin", "x"), User("vera", "viewer", "x")

    viewer = _page(mention_id, vera)
    assert not [b for b in viewer.button if "case" in (b.key or "")]

    app = _click(_page(mention_id, rick), f"open-case-{mention_id}")
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    key = f"case-{case.id}-reply"
    app.text_area(key=f"{key}-text").input("Sorry, we are on it.").run()
    assert app.button(key=f"{key}-submit").label == "Submit for approval"
    app = _click(app, f"{key}-submit")
    assert "waits for an approver" in " ".join(i.value for i in app.info)
    assert not [b for b in app.button if b.key == f"{key}-approve"]  # not by its author
    assert fake.posts() == []

    app.session_state["grumble_user"] = sam
    app.run()
    app = _click(app, f"{key}-approve")
    assert len(fake.posts()) == 1
    assert "Posted" in " ".join(s.value for s in app.success)


def test_sources_without_a_reply_api_copy_open_and_mark_replied(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(_config())
    mention_id = seeded.ids["m3"]  # an App Store review
    app = _click(_page(mention_id), f"open-case-{mention_id}")
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    key = f"case-{case.id}-reply"
    app.text_area(key=f"{key}-text").input("Sorry! Please write to support@acme.example").run()
    assert app.button(key=f"{key}-submit").label == "Prepare reply"
    app = _click(app, f"{key}-submit")
    assert app.code[0].value == "Sorry! Please write to support@acme.example"
    app = _click(app, f"{key}-by-hand")
    assert "Say what you sent" in " ".join(e.value for e in app.error)
    link = "https://apps.apple.com/us/app/id1?see-all=reviews#r1"
    app.text_input(key=f"{key}-sent").input(link).run()
    app = _click(app, f"{key}-by-hand")
    assert "Replied by hand" in " ".join(s.value for s in app.success)
    assert "apps\\.apple\\.com/us/app/id1" in " ".join(s.value for s in app.success)  # shown escaped
    replied = find_case(seeded.engine, mention_id)
    assert replied is not None and replied.status == "replied"


def test_post_reply_is_not_offered_where_it_could_only_fail(make_store: Callable[[str], Seeded]) -> None:
    """A Mastodon mention with no access_token configured, and a demo mention: prepare and copy instead."""
    seeded = make_store(_config())  # no [sources.mastodon] login
    mention_id = _with_mastodon(seeded)
    import_mentions(
        seeded.engine, "acme", [mention(10, source="reddit", external_id="demo-0042", text="acme!")]
    )
    demo_id = next(
        r["id"] for r in iter_all(seeded.engine, MentionFilter()) if r["external_id"] == "demo-0042"
    )
    for target, why in (
        (mention_id, "mastodon needs an access_token"),
        (demo_id, "it is a sample mention from the demo source"),
    ):
        app = _click(_page(target), f"open-case-{target}")
        case = find_case(seeded.engine, target)
        assert case is not None
        key = f"case-{case.id}-reply"
        assert why in markdown_text(app).replace("\\", "")
        app.text_area(key=f"{key}-text").input("We are on it.").run()
        assert app.button(key=f"{key}-submit").label == "Prepare reply"
        app = _click(app, f"{key}-submit")
        assert app.code[0].value == "We are on it."  # to copy and post by hand
        assert not [b for b in app.button if b.label == "Post reply"]


def test_too_long_text_is_flagged_while_writing(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer
) -> None:
    FakeMastodon(replay_server, max_characters=20)
    seeded = make_store(_config(replay_server))
    mention_id = _with_mastodon(seeded)
    app = _click(_page(mention_id), f"open-case-{mention_id}")
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    app.text_area(key=f"case-{case.id}-reply-text").input("x" * 25).run()
    assert "Too long for mastodon: 25 / 20 characters" in " ".join(e.value for e in app.error)
    app = _click(app, f"case-{case.id}-reply-submit")
    assert "shorten it by 5" in " ".join(e.value for e in app.error).replace("\\", "")


def test_overdue_cases_are_flagged_in_the_inbox(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(_config())
    _click(_page(seeded.ids["m2"]), f"open-case-{seeded.ids['m2']}")
    with seeded.engine.begin() as connection:
        connection.execute(
            update(cases).values(response_due_at=utcnow() - timedelta(minutes=5), assignee="dana")
        )
    inbox = run_app()
    flagged = [m.value for m in inbox.markdown if "overdue" in m.value]
    assert len(flagged) == 1 and "case new → dana" in flagged[0]
