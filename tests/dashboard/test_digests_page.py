"""The Digests page's preview of the next digest and its "send me a test", through AppTest."""

from collections.abc import Callable

from monitor.config import load_config
from monitor.store.digests import runs
from monitor.surface.digest_delivery import DigestDelivery
from monitor.surface.mail import mailer_for
from tests.alerts.conftest import SmtpServer, smtp_toml, text_part
from tests.dashboard.conftest import HOSTILE, Seeded, run_app

USERS = """
[[users]]
name = "lena"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
email = "lena@example.com"
[[users]]
name = "vera"
role = "viewer"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""


def digest_config(port: int) -> str:
    return f"""
{smtp_toml(port)}[[digests]]
name = "support"
recipients = ["support@example.com", "lead@example.com"]
every = "daily"
{USERS}"""


def _as(name: str) -> dict[str, object]:
    return {"grumble_user": next(u for u in load_config().users if u.name == name)}


def test_the_next_digest_is_previewed_as_text(
    make_store: Callable[[str], Seeded], mail_server: SmtpServer
) -> None:
    make_store(digest_config(mail_server.port))
    app = run_app("views/digests.py", query={"list": "support"}, session=_as("vera"))
    assert "Next digest" in [s.value for s in app.subheader]
    subject = next(m.value for m in app.markdown if m.value.startswith("**Subject:**"))
    assert "3 new negative mentions" in subject
    [preview] = app.code
    # The hostile mention is shown as text inside a code block, never as Markdown or HTML.
    assert "<script>alert('x')</script>" in preview.value and "mildly annoyed" in preview.value
    assert "each recipient's own unsubscribe link" in preview.value
    assert HOSTILE not in "".join(m.value for m in app.markdown)


def test_a_user_without_an_address_is_told_so(
    make_store: Callable[[str], Seeded], mail_server: SmtpServer
) -> None:
    make_store(digest_config(mail_server.port))
    app = run_app("views/digests.py", query={"list": "support"}, session=_as("vera"))
    assert not [b for b in app.button if "test" in b.label.lower()]
    assert any("you have no email address configured" in c.value for c in app.caption)


def test_send_me_a_test_reaches_only_the_user_and_leaves_the_real_digest_alone(
    make_store: Callable[[str], Seeded], mail_server: SmtpServer
) -> None:
    seeded = make_store(digest_config(mail_server.port))
    app = run_app("views/digests.py", query={"list": "support"}, session=_as("lena"))
    app.button(key="d_test").click().run()
    assert "Test sent to lena@example.com only" in app.success[0].value.replace("\\", "")
    [test] = mail_server.messages
    assert test["To"] == "lena@example.com"
    assert test["Subject"].startswith("[test] Grumble daily digest (support): 3 new negative mentions")
    assert "mildly annoyed" in text_part(test)
    assert runs(seeded.engine) == []  # no run, no claim: the slot is still to be sent

    # The real digest then goes out as if no test had been sent: to the list, with the same mentions.
    config = load_config()
    [outcome] = DigestDelivery(config, seeded.engine, mailer_for(config.smtp)).run_digest(config.digests[0])
    assert (outcome.status, outcome.mention_count) == ("sent", 3)
    real = mail_server.messages[1:]
    assert sorted(m["To"] for m in real) == ["lead@example.com", "support@example.com"]
    assert all(not m["Subject"].startswith("[test]") for m in real)
    assert [run.status for run in runs(seeded.engine)] == ["sent"]
