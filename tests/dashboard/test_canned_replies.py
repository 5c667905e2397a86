"""The Canned replies page (team and personal, search, edit, delete, the grumble.toml templates) and a
short code typed in the reply box, through AppTest."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from monitor.auth.users import User
from monitor.config import load_config
from monitor.mention import utcnow
from monitor.respond import canned
from monitor.respond.replies import template_values
from monitor.store.canned_replies import TEAM, stored_replies
from monitor.store.cases import find_case, replies_for_case
from tests.dashboard.conftest import Seeded, run_app

CONFIG = """
[responder]
product = "Acme Sync"

[dashboard]
public_url = "https://grumble.example"

[[reply_templates]]
name = "apology"
text = "Hi {author}, we are sorry."
"""
USERS = """
[[users]]
name = "rick"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
[[users]]
name = "sam"
role = "admin"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""
RICK = User("rick", "responder", "x")
SAM = User("sam", "admin", "x")


def _ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def _new(app: AppTest, code: str, title: str, text: str) -> AppTest:
    app.text_input(key="canned-new-code").input(code)
    app.text_input(key="canned-new-title").input(title)
    app.text_area(key="canned-new-text").input(text)
    return _ok(app.button(key="canned-new-save").click().run())


def _labels(app: AppTest) -> list[str]:
    return [expander.label for expander in app.expander if expander.label.startswith("/")]


def test_an_admin_keeps_the_team_s_replies_and_searches_them(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(CONFIG)
    app = run_app("views/replies.py")  # no users: the one local person, an admin
    assert "Canned replies" in [t.value for t in app.title]
    assert _labels(app) == ["/apology · apology"]  # grumble.toml's template, as the team's

    app.checkbox(key="canned-new-team").check()
    app = _new(app, "/Refund", "Refund steps", "Hi {author}, refunds for {product}: {case_link}")
    assert "Saved /refund" in " ".join(s.value for s in app.success)
    (stored,) = stored_replies(seeded.engine, "local")
    assert (stored.owner, stored.code, stored.title) == (TEAM, "refund", "Refund steps")
    assert _labels(app) == ["/apology · apology", "/refund · Refund steps"]
    assert app.text_input(key="canned-new-code").value == ""  # the form is ready for the next one

    app = _new(app, "thanks", "", "Hi {customer}")
    assert "Not saved: reply template '/thanks': unknown placeholder {customer}" in app.error[
        0
    ].value.replace("\\", "")

    app = _ok(app.text_input(key="canned-search").input("refunds").run())
    assert _labels(app) == ["/refund · Refund steps"]
    app = _ok(app.text_input(key="canned-search").input("nothing like it").run())
    assert _labels(app) == [] and "None match the search." in [c.value for c in app.caption]
    app = _ok(app.text_input(key="canned-search").input("").run())

    key = f"canned-{stored.id}"
    app.text_area(key=f"{key}-text").input("Hi {author}, here is how refunds work.")
    app = _ok(app.button(key=f"{key}-save").click().run())
    assert stored_replies(seeded.engine, "local")[0].text == "Hi {author}, here is how refunds work."
    # Editing the grumble.toml template saves a team reply of its code, which takes its place.
    app.text_area(key="canned-toml-apology-text").input("Hi {author}, so sorry.")
    app = _ok(app.button(key="canned-toml-apology-save").click().run())
    assert {r.code: r.text for r in stored_replies(seeded.engine, "local")}[
        "apology"
    ] == "Hi {author}, so sorry."
    app = _ok(app.button(key=f"{key}-delete").click().run())
    assert "Deleted /refund" in " ".join(s.value for s in app.success)
    assert _labels(app) == ["/apology · apology"]


def test_a_responder_keeps_their_own_and_reads_the_team_s(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(CONFIG + USERS)
    canned.save(
        seeded.engine, SAM, code="refund", title="Refunds", text="Team refund text", team=True, now=utcnow()
    )
    app = run_app("views/replies.py", session={"grumble_user": RICK})
    assert app.checkbox(key="canned-new-team").disabled
    assert "The team's replies are changed by an admin." in [c.value for c in app.caption]
    assert [c.value for c in app.code] == ["Hi {author}, we are sorry.", "Team refund text"]  # read only
    assert not [b for b in app.button if b.key and b.key.endswith("-delete")]
    app = _new(app, "sig", "Signature", "— Rick, for {product}")
    (own,) = [r for r in stored_replies(seeded.engine, "rick") if not r.team]
    assert (own.owner, own.code) == ("rick", "sig")
    assert [r.code for r in stored_replies(seeded.engine, "sam")] == ["refund"]  # rick's is his own
    assert _labels(app)[-1] == "/sig · Signature"


def test_a_code_typed_in_the_reply_box_becomes_the_reply(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(CONFIG + USERS)
    now = utcnow()
    canned.save(seeded.engine, SAM, code="refund", title="Refunds", text="Team refund", team=True, now=now)
    canned.save(
        seeded.engine, RICK, code="refund", title="Mine", text="Hi {author}: {case_link}", team=False, now=now
    )
    canned.save(
        seeded.engine, RICK, code="sig", title="Signature", text="Rick, {product}", team=False, now=now
    )
    mention_id = seeded.ids["m2"]
    app = run_app("views/mention.py", query={"id": str(mention_id)}, session={"grumble_user": RICK})
    app = _ok(app.button(key=f"open-case-{mention_id}").click().run())
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    box = app.text_area(key=f"case-{case.id}-reply-text")
    assert "/refund (Mine)" in (box.help or "") and "/apology (apology)" in (box.help or "")

    app = _ok(box.input("/refund\nThanks, /sig /nope").run())
    assert app.text_area(key=f"case-{case.id}-reply-text").value == (
        f"Hi author2: https://grumble.example/mention?id={mention_id}\nThanks, Rick, Acme Sync /nope"
    )
    assert "No canned reply is called /nope: left as typed." in " ".join(i.value for i in app.info).replace(
        "\\", ""
    )


def test_product_falls_back_to_the_watch_s_name(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")  # no product in the watch or in [responder]
    values = template_values(seeded.engine, load_config(seeded.config), seeded.ids["m2"])
    assert values["product"] == "acme"
    assert values["case_link"] == f"http://localhost:8501/mention?id={seeded.ids['m2']}"


def test_the_picker_offers_every_canned_reply_as_edited_in_the_dashboard(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store(CONFIG + USERS)
    now = utcnow()
    # An admin rewrote grumble.toml's "apology" as a team reply: the picker inserts the new words.
    canned.save(
        seeded.engine, SAM, code="apology", title="Sorry", text="Hi {author}, so sorry.", team=True, now=now
    )
    canned.save(
        seeded.engine, RICK, code="sig", title="Signature", text="Rick, {product}", team=False, now=now
    )
    mention_id = seeded.ids["m2"]
    app = run_app("views/mention.py", query={"id": str(mention_id)}, session={"grumble_user": RICK})
    app = _ok(app.button(key=f"open-case-{mention_id}").click().run())
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    key = f"case-{case.id}-reply"
    picker = app.selectbox(key=f"{key}-picker")
    assert picker.label == "Canned reply" and list(picker.options) == ["/apology · Sorry", "/sig · Signature"]
    assert not [s for s in app.selectbox if s.label == "Template"]  # one name for one thing

    app = _ok(app.selectbox(key=f"{key}-picker").select("apology").run())
    app = _ok(app.button(key=f"{key}-use").click().run())
    assert app.text_area(key=f"{key}-text").value == "Hi author2, so sorry."
    app = _ok(app.button(key=f"{key}-save").click().run())
    (reply,) = replies_for_case(seeded.engine, case.id)
    assert (reply.text, reply.template) == ("Hi author2, so sorry.", "apology")

    # A reply deleted since the page was drawn is not used, and the box keeps its text.
    app = _ok(app.selectbox(key=f"{key}-picker").select("sig").run())
    sig = next(r for r in stored_replies(seeded.engine, "rick") if r.code == "sig")
    assert sig.id is not None
    canned.delete(seeded.engine, RICK, sig.id)
    app = _ok(app.button(key=f"{key}-use").click().run())
    assert app.text_area(key=f"{key}-text").value == "Hi author2, so sorry."
    errors = " ".join(e.value for e in app.error).replace("\\", "")
    assert "Not used: there is no canned reply /sig any more" in errors and "pick another" in errors


def test_a_responder_edits_and_deletes_their_own_reply_on_the_page(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store(CONFIG + USERS)
    own = canned.save(seeded.engine, RICK, code="sig", title="Sig", text="Rick", team=False, now=utcnow())
    app = run_app("views/replies.py", session={"grumble_user": RICK})
    key = f"canned-{own.id}"
    app.text_input(key=f"{key}-code").input("/Signature")
    app.text_area(key=f"{key}-text").input("Rick, for {product}")
    app = _ok(app.button(key=f"{key}-save").click().run())
    (saved,) = [r for r in stored_replies(seeded.engine, "rick") if not r.team]
    assert (saved.id, saved.code, saved.text, saved.updated_by) == (
        own.id,
        "signature",
        "Rick, for {product}",
        "rick",
    )
    assert "/signature · Sig" in _labels(app)

    # A code rick already uses is refused, in a sentence that says what to do.
    app = _new(app, "signature", "Again", "twice")
    errors = " ".join(e.value for e in app.error).replace("\\", "")
    assert "Not saved: you already have a canned reply /signature" in errors
    assert errors.rstrip().endswith("Change it, then save it again.")

    app = _ok(app.button(key=f"{key}-delete").click().run())
    assert [r for r in stored_replies(seeded.engine, "rick") if not r.team] == []
    assert "Deleted /signature" in " ".join(s.value for s in app.success)
