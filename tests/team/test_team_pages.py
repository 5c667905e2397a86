"""The For you page, presence on the mention page, and a stale "Open a case", through AppTest on the
real app script."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from monitor.auth.users import User
from monitor.config import load_config
from monitor.mention import utcnow
from monitor.respond.cases import add_note, assign, open_case
from monitor.store import notifications as store
from monitor.store.cases import find_case
from monitor.team.fanout import SETTLE, fan_out
from monitor.team.presence import mark_here
from tests.dashboard.conftest import Seeded, make_store, markdown_text, run_app

__all__ = ["make_store"]  # the fixture, shared with tests/dashboard

USERS = """
[[users]]
name = "dana"
role = "responder"
email = "dana@example.com"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
[[users]]
name = "sam"
role = "admin"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""
DANA, SAM = User("dana", "responder", "x", "dana@example.com"), User("sam", "admin", "x")


def _as(user: User, page: str, query: dict[str, str] | None = None) -> AppTest:
    return run_app(page, query=query, session={"grumble_user": user})


def _click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_for_you_lists_what_waits_marks_it_read_and_keeps_email_choices(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store(USERS)
    config = load_config(seeded.config)
    settings, then = config.responder, utcnow() - SETTLE
    case = open_case(seeded.engine, seeded.ids["m3"], "sam", settings, then)
    assign(seeded.engine, case.id, "dana", "sam", then)
    add_note(seeded.engine, case.id, "@dana can you call them back?", "sam", then)
    fan_out(seeded.engine, config, utcnow())

    app = _as(DANA, "views/for_you.py")
    text = markdown_text(app)
    assert "sam assigned a mention to you" in text and "sam mentioned you in a note" in text
    assert "2 unread" in " ".join(c.value for c in app.caption)
    assert "Note: @dana can you call them back?" in " ".join(c.value for c in app.caption)
    newest = store.for_recipient(seeded.engine, "dana")[0]
    app = _click(app, f"notice-read-{newest.id}")
    assert "1 unread" in " ".join(c.value for c in app.caption)
    assert store.unread_count(seeded.engine, "dana") == 1
    assert not [b for b in app.button if b.key == f"notice-read-{newest.id}"]

    app.checkbox(key="notice-email-mentioned").uncheck().run()
    with seeded.engine.connect() as connection:
        assert store.email_choices(connection, "dana") == {"mentioned": False}

    app = _click(app, "for-you-all-read")
    assert store.unread_count(seeded.engine, "dana") == 0
    assert "Marked 1 read" in " ".join(s.value for s in app.success)
    # sam did all of it: nothing waits for him.
    assert "Nothing waits for you." in " ".join(c.value for c in _as(SAM, "views/for_you.py").caption)


def test_the_mention_page_shows_who_else_is_on_it(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(USERS)
    mention_id = seeded.ids["m3"]
    mark_here(seeded.engine, mention_id, "sam", True, utcnow())
    app = _as(DANA, "views/mention.py", {"id": str(mention_id)})
    assert [w.value for w in app.warning if "sam is writing a reply" in w.value]
    alone = _as(SAM, "views/mention.py", {"id": str(mention_id)})  # dana's page beat just now
    assert [i.value for i in alone.info if "dana is viewing" in i.value]


def test_a_stale_open_a_case_says_who_opened_it_and_shows_their_case(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store(USERS)
    mention_id = seeded.ids["m3"]
    app = _as(DANA, "views/mention.py", {"id": str(mention_id)})  # drawn before sam opened the case
    opened = open_case(seeded.engine, mention_id, "sam", load_config(seeded.config).responder)
    assign(seeded.engine, opened.id, "sam", "sam")
    app = _click(app, f"open-case-{mention_id}")
    said = " ".join(i.value for i in app.info)
    assert "sam already opened this case" in said and "nothing new was opened" in said
    assert "assignee **sam**" in markdown_text(app)  # their case, as it stands
    case = find_case(seeded.engine, mention_id)
    assert case is not None and case.id == opened.id and case.assignee == "sam"


def test_the_inbox_shows_who_else_is_on_each_mention(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(USERS)
    mark_here(seeded.engine, seeded.ids["m3"], "sam", True, utcnow())
    mark_here(seeded.engine, seeded.ids["m2"], "sam", False, utcnow())
    cards = _as(DANA, "views/inbox.py")
    said = " ".join(c.value for c in cards.caption)
    assert "✍️ sam is writing a reply" in said and "👀 sam is viewing" in said
    compact = _as(DANA, "views/inbox.py", {"view": "compact"})
    assert "· ✍️ sam" in markdown_text(compact) and "· 👀 sam" in markdown_text(compact)
    assert "sam is" not in " ".join(c.value for c in _as(SAM, "views/inbox.py").caption)  # not himself
