"""Canned replies: the storage contract on both databases; who may change what, codes, search and
expansion (monitor/respond/canned.py) on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import Config
from monitor.config.settings import ReplyTemplate
from monitor.errors import TemplateError
from monitor.mention import utcnow
from monitor.respond import canned
from monitor.store.canned_replies import (
    TEAM,
    CannedReply,
    CannedReplyError,
    delete_reply,
    get_reply,
    save_reply,
    stored_replies,
)

ADMIN = User("ada", "admin")
RICK = User("rick", "responder")
VERA = User("vera", "responder")
VIEWER = User("val", "viewer")


@pytest.mark.both_databases
def test_replies_are_unique_per_owner_and_code_and_kept_per_person(engine: Engine) -> None:
    now = utcnow()
    team = save_reply(engine, CannedReply("refund", "Refunds", "Hi {author}"), "ada", now)
    mine = save_reply(engine, CannedReply("refund", "My refund", "Hey {author}", owner="rick"), "rick", now)
    save_reply(engine, CannedReply("thanks", "Thanks", "Thank you!", owner="vera"), "vera", now)
    # The team's "" owner makes the pair unique for the team too (NULLs would never collide).
    with pytest.raises(CannedReplyError, match="the team already have a canned reply /refund"):
        save_reply(engine, CannedReply("refund", "Again", "again"), "ada", now)
    with pytest.raises(CannedReplyError, match="you already have a canned reply /refund"):
        save_reply(engine, CannedReply("refund", "Again", "again", owner="rick"), "rick", now)

    assert [(r.code, r.owner, r.title) for r in stored_replies(engine, "rick")] == [
        ("refund", TEAM, "Refunds"),
        ("refund", "rick", "My refund"),
    ]
    assert [(r.code, r.owner) for r in stored_replies(engine, "vera")] == [
        ("refund", TEAM),
        ("thanks", "vera"),
    ]

    later = now + timedelta(minutes=5)
    assert team.id is not None and mine.id is not None
    save_reply(engine, CannedReply("refunds", "Refunds", "Hi {author}!", id=team.id), "bob", later)
    changed = get_reply(engine, team.id)
    assert changed is not None
    assert (changed.code, changed.text, changed.updated_by, changed.updated_at) == (
        "refunds",
        "Hi {author}!",
        "bob",
        later,
    )
    assert not delete_reply(engine, mine.id, "vera")  # only with its owner
    assert delete_reply(engine, mine.id, "rick")
    assert get_reply(engine, mine.id) is None
    with pytest.raises(CannedReplyError, match="is gone"):
        save_reply(engine, CannedReply("x", "x", "x", owner="rick", id=mine.id), "rick", later)


def _config(*templates: tuple[str, str]) -> Config:
    return Config(None, reply_templates=tuple(ReplyTemplate(name, text) for name, text in templates))


def test_the_team_s_replies_are_an_admin_s_and_a_personal_one_its_owner_s(engine: Engine) -> None:
    now = utcnow()
    with pytest.raises(CannedReplyError, match="changed by an admin; save it as your own"):
        canned.save(engine, RICK, code="refund", title="", text="Hi", team=True, now=now)
    with pytest.raises(CannedReplyError, match="only by the responder it belongs to"):
        canned.save(engine, VIEWER, code="refund", title="", text="Hi", team=False, now=now)
    team = canned.save(
        engine, ADMIN, code=" /Refund ", title="  Refund   steps ", text="Hi", team=True, now=now
    )
    assert (team.code, team.title, team.owner) == ("refund", "Refund steps", TEAM)
    own = canned.save(engine, RICK, code="thanks", title="", text="Thanks {author}", team=False, now=now)
    assert (own.title, own.owner) == ("thanks", "rick")  # a title defaults to the code
    assert own.id is not None and team.id is not None
    with pytest.raises(CannedReplyError, match="only by the responder it belongs to"):
        canned.save(
            engine, VERA, code="thanks", title="", text="mine now", team=False, now=now, reply_id=own.id
        )
    with pytest.raises(CannedReplyError, match="changed by an admin"):
        canned.delete(engine, RICK, team.id)
    canned.delete(engine, ADMIN, team.id)
    assert [r.code for r in stored_replies(engine, "rick")] == ["thanks"]


def test_codes_text_and_variables_are_checked_when_saved(engine: Engine) -> None:
    now = utcnow()
    with pytest.raises(CannedReplyError, match=r"letters, digits, - and _.*found 'two words'"):
        canned.save(engine, RICK, code="two words", title="", text="x", team=False, now=now)
    with pytest.raises(CannedReplyError, match="needs the text"):
        canned.save(engine, RICK, code="empty", title="", text="  ", team=False, now=now)
    with pytest.raises(TemplateError, match=r"'/oops': unknown placeholder \{customer\}; use \{author\}"):
        canned.save(engine, RICK, code="oops", title="", text="Hi {customer}", team=False, now=now)
    assert stored_replies(engine, "rick") == []


def test_yours_win_over_the_team_s_which_win_over_grumble_toml(engine: Engine) -> None:
    now = utcnow()
    config = _config(("Apology", "Sorry {author}"), ("Late delivery", "On its way"), ("apology!", "Sorry!"))
    assert [(r.code, r.title, r.from_config) for r in canned.config_replies(config)] == [
        ("apology", "Apology", True),
        ("late-delivery", "Late delivery", True),
        ("apology-2", "apology!", True),
    ]
    canned.save(engine, ADMIN, code="late-delivery", title="Late", text="Team text", team=True, now=now)
    canned.save(engine, RICK, code="apology", title="Mine", text="Rick's sorry", team=False, now=now)
    team, own = canned.shelves(engine, config, RICK)
    assert [(r.code, r.text) for r in team] == [
        ("apology", "Sorry {author}"),
        ("apology-2", "Sorry!"),
        ("late-delivery", "Team text"),  # the stored team reply took the file's place
    ]
    assert [r.code for r in own] == ["apology"]
    codes = canned.by_code(engine, config, RICK)
    assert codes["apology"].text == "Rick's sorry" and codes["late-delivery"].text == "Team text"
    assert canned.by_code(engine, config, VERA)["apology"].text == "Sorry {author}"
    assert [r.code for r in canned.search(team, "/TEAM")] == ["late-delivery"]
    assert [r.code for r in canned.search(team, "sorry apology")] == ["apology", "apology-2"]


def test_codes_typed_at_a_word_start_expand_and_anything_else_stays() -> None:
    replies = {
        "refund": CannedReply("refund", "Refund", "Hi {author}, about {product}: {case_link}"),
        "sig": CannedReply("sig", "Signature", "The {brand} team"),
    }
    calls: list[int] = []

    def values() -> dict[str, str | None]:
        calls.append(1)
        return {
            "author": "dana",
            "product": "Acme Sync",
            "case_link": "https://g.example/mention?id=7",
            "brand": None,
        }

    result = canned.expand(
        "/Refund thanks\n/refund https://x.example/refund 24/7 /refundx /sig", replies, values
    )
    assert result.text == (
        "Hi dana, about Acme Sync: https://g.example/mention?id=7 thanks\n"
        "Hi dana, about Acme Sync: https://g.example/mention?id=7 https://x.example/refund 24/7 /refundx /sig"
    )
    assert result.used == ("refund", "refund") and result.unknown == ("refundx",)
    assert result.problems == (
        "reply template '/sig' cannot be filled: {brand}: set brand in the watch or in [responder]",
    )
    assert calls == [1]  # the mention is read once
    untouched = canned.expand("no codes here, 1/2 and a/b", replies, values)
    assert untouched.text == "no codes here, 1/2 and a/b" and calls == [1]
