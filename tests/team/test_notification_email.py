"""Notification emails through a real SMTP server on loopback (aiosmtpd): one per notification, to the
person's address, with their own signed "stop emails like this" link that works without signing in;
kept and retried when the server refuses; not sent when the person turned the kind off meanwhile."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dashboard.notice_links import notice_routes
from monitor.config import Config
from monitor.respond.cases import add_note, assign, open_case
from monitor.store import notifications as store
from monitor.surface.mail import Mailer
from monitor.team.fanout import fan_out
from monitor.team.run import TeamNews
from monitor.team.unsubscribe import notice_token
from tests.alerts.conftest import StartServer, html_part, text_part
from tests.team.conftest import LATER, NOW, TeamStore, team_config


def news(config: Config, engine: Engine) -> TeamNews:
    return TeamNews(config, engine, Mailer(config.smtp, sleep=lambda _s: None), clock=lambda: LATER)


def test_each_notification_is_mailed_once_to_its_person_with_their_own_link(
    team: TeamStore, smtp_server: StartServer
) -> None:
    server = smtp_server("none")
    config = team_config(smtp_port=server.port)
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    assign(team.engine, case.id, "dana", "sam", NOW)
    add_note(team.engine, case.id, "@dana @alex <b>call</b> them", "sam", NOW)
    report = news(config, team.engine).run()
    assert (report.told, report.emails.sent) == (3, 3)
    assert news(config, team.engine).run().emails.sent == 0  # a second run sends nothing again
    assert sorted((m["To"], m["Subject"]) for m in server.messages) == [
        ("alex@example.com", "Grumble: sam mentioned you in a note"),
        ("dana@example.com", "Grumble: sam assigned a mention to you"),
        ("dana@example.com", "Grumble: sam mentioned you in a note"),
    ]
    assert len({m["Message-ID"] for m in server.messages}) == 3
    note = next(m for m in server.messages if m["To"] == "alex@example.com")
    assert f"https://grumble.example/mention?id={team.ids[0]}" in text_part(note)
    assert "customer1" in text_part(note) and "&lt;b&gt;call&lt;/b&gt;" in html_part(note)
    link = note["List-Unsubscribe"].strip("<>")
    assert link in text_part(note) and note["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parse_qs(urlsplit(link).query)["token"] == [notice_token(team.engine, "alex", "mentioned")]


def test_a_refused_email_is_kept_and_sent_on_a_later_run(team: TeamStore, smtp_server: StartServer) -> None:
    server = smtp_server("none")
    server.sink.defer_for.add("dana@example.com")
    config = team_config(smtp_port=server.port)
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    assign(team.engine, case.id, "dana", "sam", NOW)
    report = news(config, team.engine).run()
    assert report.emails.sent == 0 and len(report.emails.failed) == 1
    [waiting] = store.for_recipient(team.engine, "dana")
    assert waiting.email_state == "pending" and waiting.email_attempts == 1 and waiting.next_attempt_at
    server.sink.defer_for.clear()
    assert news(config, team.engine).mail.send_due(LATER).sent == 0  # its retry is not due yet
    assert news(config, team.engine).mail.send_due(waiting.next_attempt_at).sent == 1
    assert [m["To"] for m in server.messages] == ["dana@example.com"]


def test_the_link_turns_that_kind_off_without_signing_in_and_back_on(
    team: TeamStore, smtp_server: StartServer
) -> None:
    server = smtp_server("none")
    config = team_config(smtp_port=server.port)
    app = Starlette(routes=notice_routes(lambda: team.engine, lambda: config))
    token = notice_token(team.engine, "dana", "mentioned")
    with TestClient(app) as client:
        page = client.get("/grumble/notifications/unsubscribe", params={"token": token})
        assert page.status_code == 200 and "Someone @mentions me in a note" in page.text
        assert (
            client.get("/grumble/notifications/unsubscribe", params={"token": token[:-3]}).status_code == 400
        )
        forged = notice_token(team.engine, "mallory", "mentioned")
        assert client.post("/grumble/notifications/unsubscribe", params={"token": forged}).status_code == 404
        done = client.post("/grumble/notifications/unsubscribe", params={"token": token})
        assert done.status_code == 200 and "Emails stopped" in done.text
        with team.engine.connect() as connection:
            assert store.email_choices(connection, "dana") == {"mentioned": False}

        # Pending before the click: checked again at send time, so it is not sent.
        case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
        add_note(team.engine, case.id, "@dana see this", "sam", NOW)
        assign(team.engine, case.id, "dana", "sam", NOW)
        report = news(config, team.engine).run()
        assert [m["Subject"] for m in server.messages] == ["Grumble: sam assigned a mention to you"]
        assert report.emails.sent == 1 and store.unread_count(team.engine, "dana") == 2  # still listed

        back = client.post("/grumble/notifications/resubscribe", params={"token": token})
        assert back.status_code == 200 and "again" in back.text
        with team.engine.connect() as connection:
            assert store.email_choices(connection, "dana") == {"mentioned": True}


def test_without_a_mail_server_people_are_still_told_in_the_list(team: TeamStore) -> None:
    config = team_config()
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    assign(team.engine, case.id, "dana", "sam", NOW)
    report = TeamNews(config, team.engine, None, clock=lambda: LATER).run()
    assert (report.told, report.emails.sent, report.emails.failed) == (1, 0, [])
    assert fan_out(team.engine, config, LATER + dt.timedelta(hours=1)) == 0
    assert store.unread_count(team.engine, "dana") == 1
