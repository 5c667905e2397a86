"""monitor.surface.mail against real SMTP servers on loopback: STARTTLS, TLS and plain, logins refused and
accepted, servers that are not there, certificates not trusted, retries with backoff."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from monitor.errors import SmtpAuthError, SmtpTlsError, SmtpUnavailable
from monitor.surface.mail import Mailer, compose, new_message_id
from tests.alerts.conftest import (
    NOW,
    PASSWORD,
    USER,
    SmtpServer,
    StartServer,
    TlsFiles,
    free_port,
    html_part,
    text_part,
)


def message(to: str = "ops@example.com") -> EmailMessage:
    return compose(
        from_address="Grumble <grumble@example.com>",
        to=[to],
        subject="Test: <b>bold</b> ünïcödé",
        text="plain body",
        html="<p>html body</p>",
        message_id=new_message_id("test", 1, "grumble@example.com"),
        date=NOW,
        headers={"List-Unsubscribe": "<https://grumble.example/digests>"},
    )


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_login_over_tls_delivers_both_parts(
    smtp_server: StartServer, tls_files: TlsFiles, security: str
) -> None:
    server = smtp_server(security, login=True)
    mail = message()
    settings = server.settings(username=USER, password=PASSWORD)
    Mailer(settings, ssl_context=tls_files.client_context()).send(mail)
    [received] = server.sink.received
    assert received.rcpt_tos == ["ops@example.com"]
    assert received.message["Message-ID"] == mail["Message-ID"]
    assert received.message["Subject"] == "Test: <b>bold</b> ünïcödé"
    assert text_part(received.message).strip() == "plain body"
    assert html_part(received.message).strip() == "<p>html body</p>"


def test_ca_file_setting_trusts_a_private_ca(smtp_server: StartServer, tls_files: TlsFiles) -> None:
    server = smtp_server("starttls", login=True)
    settings = server.settings(username=USER, password=PASSWORD, ca_file=str(tls_files.ca))
    Mailer(settings).send(message())
    assert len(server.messages) == 1


def test_an_untrusted_certificate_names_ca_file(smtp_server: StartServer) -> None:
    server = smtp_server("tls")
    with pytest.raises(SmtpTlsError) as failure:
        Mailer(server.settings()).send(message())
    assert f"TLS with SMTP server 127.0.0.1:{server.port} failed" in str(failure.value)
    assert "ca_file" in str(failure.value)
    assert server.messages == []


def test_a_refused_login_says_which_setting_to_fix(smtp_server: StartServer, tls_files: TlsFiles) -> None:
    server = smtp_server("starttls", login=True)
    settings = server.settings(username="x", password="wrong")
    with pytest.raises(SmtpAuthError) as failure:
        Mailer(settings, ssl_context=tls_files.client_context()).send(message())
    assert str(failure.value).startswith(
        f"SMTP login refused by 127.0.0.1:{server.port} for user x: "
        "set GRUMBLE_SMTP_PASSWORD or [smtp] password"
    )
    assert server.messages == []


def test_starttls_required_but_not_offered_is_explained(smtp_server: StartServer) -> None:
    server = smtp_server("none")
    with pytest.raises(SmtpTlsError, match='does not offer STARTTLS: set \\[smtp\\] security = "tls"'):
        Mailer(server.settings(security="starttls")).send(message())


def test_an_unreachable_server_is_retried_with_backoff_then_explained() -> None:
    from monitor.config import SmtpSettings

    port = free_port()  # nothing listens there
    sleeps: list[float] = []
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", max_attempts=3, timeout_s=5)
    with pytest.raises(SmtpUnavailable) as failure:
        Mailer(settings, sleep=sleeps.append).send(message())
    assert str(failure.value).startswith(f"cannot reach SMTP server 127.0.0.1:{port}: ")
    assert "check [smtp] host and port" in str(failure.value)
    # Waits of a jittered 1 and 2 seconds: more than half of each, at most all of it.
    assert len(sleeps) == 2
    assert 0.5 < sleeps[0] <= 1.0 and 1.0 < sleeps[1] <= 2.0


def test_the_backoff_between_attempts_is_the_injected_one() -> None:
    from datetime import timedelta

    from monitor.backoff import Backoff
    from monitor.config import SmtpSettings

    sleeps: list[float] = []
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", max_attempts=4, timeout_s=5)
    pinned = Backoff(base=timedelta(seconds=10), cap=timedelta(seconds=25), random=lambda: 0.5)
    with pytest.raises(SmtpUnavailable):
        Mailer(settings, sleep=sleeps.append, backoff=pinned).send(message())
    assert sleeps == [7.5, 15.0, 18.75]  # 10, 20, 25 (capped), each three quarters of the way


def test_a_refused_login_is_not_retried(smtp_server: StartServer) -> None:
    server = smtp_server("none", login=True)
    sleeps: list[float] = []
    settings = server.settings(username=USER, password="nope", max_attempts=3)
    with pytest.raises(SmtpAuthError):
        Mailer(settings, sleep=sleeps.append).send(message())
    assert sleeps == []


def test_a_server_that_comes_back_gets_the_message_on_a_later_attempt(smtp_server: StartServer) -> None:
    from monitor.config import SmtpSettings

    port = free_port()
    started: list[SmtpServer] = []

    def start_server_on_first_backoff(_seconds: float) -> None:
        if not started:
            started.append(smtp_server("none", port=port))

    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", max_attempts=3, timeout_s=5)
    Mailer(settings, sleep=start_server_on_first_backoff).send(message())
    assert len(started[0].messages) == 1
