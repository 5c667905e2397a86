"""Mention, Trends and Sources pages, and the login, through AppTest."""

from collections.abc import Callable
from datetime import timedelta

from monitor.auth.users import hash_password
from monitor.mention import utcnow
from monitor.respond.cases import triage
from monitor.store.collect_state import record_failure, record_success
from tests.dashboard.conftest import Seeded, markdown_text, run_app


def test_mention_page_shows_thread_author_and_history(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    triage(seeded.engine, seeded.ids["m2"], "handled", "dana", note="answered by DM")
    app = run_app("views/mention.py", query={"id": str(seeded.ids["m2"])})
    text = markdown_text(app).replace("\\", "")
    assert "mildly annoyed" in text
    assert "Replies (1)" in [s.value for s in app.subheader]
    assert "the reply is broken too" in text
    assert "dana marked the mention handled: answered by DM" in text
    assert "open → handled" not in text and "triage:" not in text


def test_mention_page_for_a_reply_shows_its_parent(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app("views/mention.py", query={"id": str(seeded.ids["m5"])})
    assert "In reply to" in [s.value for s in app.subheader]
    assert "More from author2" in [s.value for s in app.subheader]


def test_mention_page_without_or_with_unknown_id(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    assert "Open a mention from the inbox" in run_app("views/mention.py").info[0].value
    assert "No mention with id 999" in run_app("views/mention.py", query={"id": "999"}).warning[0].value
    # Crafted ids: "²" passes str.isdigit() and fails int(); 2**70 overflows the id column.
    for crafted in ("²", str(2**70), "1\x00"):
        app = run_app("views/mention.py", query={"id": crafted})
        assert not app.exception, crafted
        assert "Open a mention from the inbox" in app.info[0].value


def test_trends_page_charts_and_terms(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app("views/trends.py")
    assert [s.value for s in app.subheader][1:] == [
        "Volume",
        "Negative share per watch",
        "Complaint terms",
        "Complaint topics over time",
    ]
    charts = [e for e in app.main if type(e).__name__ == "UnknownElement" and "vega" in e.type]
    assert len(charts) == 2
    terms = app.dataframe[0].value
    assert "broken" in list(terms["term"])
    assert "acme" not in list(terms["term"])
    # One watch chosen, per watch and per source: the same charts, nothing raised.
    app.multiselect(key="t_watch").select("acme").run()
    for by in ("watch", "source"):
        app.radio(key="t_by").set_value(by).run()
        assert not app.exception, [e.value for e in app.exception]
        assert len([e for e in app.main if type(e).__name__ == "UnknownElement" and "vega" in e.type]) == 2


def test_sources_page_shows_failing_connectors(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    record_success(seeded.engine, "acme", "reddit")
    record_failure(
        seeded.engine,
        "acme",
        "mastodon",
        "mastodon: HTTP 401: set GRUMBLE_MASTODON_ACCESS_TOKEN",
        utcnow() + timedelta(minutes=5),
    )
    app = run_app("views/sources.py")
    assert "1 collection job(s) failing: mastodon (acme)" in app.error[0].value
    table = app.dataframe[0].value
    health = dict(zip(table["source"], table["health"], strict=True))
    assert health == {"mastodon": "FAILING", "reddit": "ok"}
    assert "GRUMBLE_MASTODON_ACCESS_TOKEN" in " ".join(table["problem"])


def test_sources_page_shows_a_partly_failing_connector(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    record_success(seeded.engine, "acme", "reddit")
    record_success(seeded.engine, "acme", "rss", warning="feed https://x.example/a.xml failed (1 of 2 feeds)")
    app = run_app("views/sources.py")
    assert not app.error and not app.success
    assert "partly failing" in app.warning[0].value and "rss (acme)" in app.warning[0].value
    table = app.dataframe[0].value
    assert dict(zip(table["source"], table["health"], strict=True)) == {"reddit": "ok", "rss": "DEGRADED"}
    assert dict(zip(table["source"], table["problem"], strict=True))["rss"].startswith(
        "feed https://x.example"
    )


USERS = f"""
[[users]]
name = "vera"
role = "viewer"
password_hash = "{hash_password("view-pass")}"
[[users]]
name = "rick"
role = "responder"
password_hash = "{hash_password("resp-pass")}"
"""


def test_without_a_session_the_app_shows_nothing_but_the_way_to_sign_in(
    make_store: Callable[[str], Seeded],
) -> None:
    make_store(USERS)
    app = run_app()
    assert [t.value for t in app.title] == ["Grumble"]
    assert not [m for m in app.markdown if "badge[" in m.value]
    assert "not signed in" in app.info[0].value
    assert [link.proto.url for link in app.get("link_button")] == ["/grumble/login"]


def test_viewers_see_the_inbox_but_no_triage_actions(make_store: Callable[[str], Seeded]) -> None:
    make_store(USERS)
    from monitor.config import load_config

    viewer = next(u for u in load_config().users if u.name == "vera")
    app = run_app(session={"grumble_user": viewer})
    assert app.title[0].value == "Inbox"
    assert [m for m in app.markdown if "badge[" in m.value]
    assert not any("handled" in (b.key or "") or "dismiss" in (b.key or "") for b in app.button)
    # ... and can open a mention's page from its card.
    assert {link.proto.label for link in app.get("page_link")} >= {"Details"}


OIDC_USERS = """
[auth]
oidc = true
[[users]]
name = "sam"
role = "admin"
email = "sam@example.com"
"""


def test_openid_connect_login_maps_the_account_to_a_configured_user(
    make_store: Callable[[str], Seeded],
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    make_store(OIDC_USERS)
    stranger = AppTest.from_file(APP, default_timeout=30)
    stranger.user = {"is_logged_in": True, "email": "mallory@example.com"}
    stranger.run()
    assert not [m for m in stranger.markdown if "badge[" in m.value]
    assert any("identity provider" in b.label for b in stranger.button)

    known = AppTest.from_file(APP, default_timeout=30)
    known.user = {"is_logged_in": True, "email": "SAM@example.com"}
    known.run()
    assert not known.exception
    assert known.title[0].value == "Inbox"
    assert any("Signed in as sam (admin)" in c.value for c in known.caption)


DIGESTS = """
[[digests]]
name = "support"
recipients = ["support@example.com", "Lead@example.com"]
every = "daily"
at = "08:30"
timezone = "Europe/Berlin"
"""


DIGEST_USERS = """
[[users]]
name = "adam"
role = "admin"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
[[users]]
name = "lena"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
email = "Lead@example.com"
[[users]]
name = "vera"
role = "viewer"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""


def _as(name: str) -> dict[str, object]:
    from monitor.config import load_config

    return {"grumble_user": next(u for u in load_config().users if u.name == name)}


def test_only_admins_see_and_manage_a_digests_recipients(make_store: Callable[[str], Seeded]) -> None:
    from monitor.store.digests import opted_out

    seeded = make_store(DIGESTS + DIGEST_USERS)
    app = run_app("views/digests.py", query={"list": "support"}, session=_as("adam"))
    assert "daily at 08:30" in markdown_text(app)
    assert list(app.dataframe[0].value["recipient"]) == ["support@example.com", "Lead@example.com"]
    app.selectbox(key="d_email").select("Lead@example.com")
    next(b for b in app.button if "Stop sending" in b.label).click().run()
    assert "no longer receives" in app.success[0].value
    assert opted_out(seeded.engine, "support") == {"lead@example.com"}
    next(b for b in app.button if "again" in b.label).click().run()
    assert opted_out(seeded.engine, "support") == set()

    viewer = run_app("views/digests.py", query={"list": "support"}, session=_as("vera"))
    page = markdown_text(viewer) + " ".join(c.value for c in viewer.caption)
    assert "daily at 08:30" in page and "example.com" not in page
    assert not viewer.dataframe[:-1] and not [b for b in viewer.button if "send" in b.label.lower()]


def test_a_user_who_receives_a_digest_can_leave_it_but_not_remove_others(
    make_store: Callable[[str], Seeded],
) -> None:
    from monitor.store.digests import opted_out

    seeded = make_store(DIGESTS + DIGEST_USERS)
    app = run_app("views/digests.py", query={"list": "support"}, session=_as("lena"))
    assert "You (lead@example.com) receive this digest" in markdown_text(app).replace("\\", "")
    assert "support@example.com" not in markdown_text(app)
    app.button(key="d_self").click().run()
    assert opted_out(seeded.engine, "support") == {"lead@example.com"}
    assert "do not receive" in markdown_text(app)


def test_a_tab_left_open_after_signing_out_cannot_act_once_more(make_store: Callable[[str], Seeded]) -> None:
    from monitor.store.detail import get_mention

    seeded = make_store(USERS)
    app = run_app(session=_as("rick"))
    handled = next(b for b in app.button if "-handled-" in (b.key or ""))
    mention_id = int((handled.key or "").rsplit("-", 1)[-1])
    # Signed out meanwhile (in this tab or another): the session holds no user any more.
    del app.session_state["grumble_user"]
    handled.click().run()
    # Streamlit ran the click's callback before the page's gate: it used to mark the mention anyway.
    assert get_mention(seeded.engine, mention_id)["triage"] == "open"
    assert "Nothing was changed: your session had ended" in app.warning[0].value
    assert "not signed in" in app.info[0].value
