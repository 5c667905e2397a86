"""Digests from the store to a real SMTP server on loopback (the claims on PostgreSQL too): the right
mentions in the right order, once per list, kept and retried when the server is down."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from monitor.auth.signing import unsubscribe_token
from monitor.config import Config
from monitor.store import digests as digest_store
from monitor.store.schema import digest_items
from monitor.surface.digest_delivery import DigestDelivery
from monitor.surface.mail import Mailer, recipient_message_id
from tests.alerts.conftest import (
    NOW,
    PASSWORD,
    USER,
    SmtpServer,
    Spec,
    StartServer,
    TlsFiles,
    add_mentions,
    free_port,
    html_part,
    make_config,
    text_part,
)

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(2)> <a href="javascript:alert(3)">x</a>'


def delivery(
    config: Config, engine: Engine, server: SmtpServer | None = None, **mailer: Any
) -> DigestDelivery:
    settings = server.settings(**mailer) if server else config.smtp
    return DigestDelivery(config, engine, Mailer(settings, sleep=lambda _s: None), clock=lambda: NOW)


def digest_config(server_port: int, **digest: Any) -> Config:
    table = {"name": "support", "recipients": ["support@example.com", "lead@example.com"]}
    table.update(digest)
    smtp = {"host": "127.0.0.1", "port": server_port, "security": "none", "from_address": "g@example.com"}
    return make_config(smtp=smtp, digests=[table])


def claimed(engine: Engine, list_name: str) -> list[int]:
    with engine.connect() as connection:
        query = select(digest_items.c.mention_id).where(digest_items.c.list_name == list_name)
        return sorted(connection.scalars(query))


def test_digest_arrives_with_both_parts_ranked_and_escaped(
    engine: Engine, smtp_server: StartServer, tls_files: TlsFiles
) -> None:
    server = smtp_server("starttls", login=True)
    ids = add_mentions(
        engine,
        [
            Spec(1, negative=0.7),
            Spec(2, negative=0.95, author_reach=50_000, text=HOSTILE, url="javascript:alert(4)"),
            Spec(3, negative=0.9),
            Spec(4, label="neutral", negative=0.2),
            Spec(5, negative=0.99, triage="dismissed"),
            Spec(6, negative=0.99, triage="handled"),
        ],
    )
    config = digest_config(server.port)
    mailer = Mailer(server.settings(username=USER, password=PASSWORD), ssl_context=tls_files.client_context())
    outcomes = DigestDelivery(config, engine, mailer, clock=lambda: NOW).run_digest(config.digests[0], NOW)
    assert [o.status for o in outcomes] == ["sent"]
    # One copy per recipient, each with its own unsubscribe link and Message-ID.
    assert [r.rcpt_tos for r in server.sink.received] == [["support@example.com"], ["lead@example.com"]]
    message, other = (r.message for r in server.sink.received)
    assert message["Subject"] == "Grumble daily digest (support): 3 new negative mentions"
    tokens = [unsubscribe_token(engine, "support", a) for a in ("support@example.com", "lead@example.com")]
    links = [f"https://grumble.example/grumble/unsubscribe?token={token}" for token in tokens]
    assert [message["List-Unsubscribe"], other["List-Unsubscribe"]] == [f"<{link}>" for link in links]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire, as a mail client reads it: the URL itself, not an RFC 2047 encoded word (which
    # Python's parser would decode, hiding the defect from the asserts above).
    for received, link in zip(server.sink.received, links, strict=True):
        assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in received.raw
        assert b"=?utf-8?" not in received.raw.partition(b"\r\n\r\n")[0]
    assert links[0] in text_part(message) and links[1] not in text_part(message)
    assert f'href="{links[1]}"' in html_part(other)
    assert message["Message-ID"] == recipient_message_id(outcomes[0].message_id or "", "support@example.com")
    assert other["Message-ID"] != message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_part(message), html_part(message)
    # Loudest first (50k followers), then by how negative; neutral, dismissed and handled ones left out.
    order = [f"/mention?id={ids[i]}" for i in (1, 2, 0)]
    assert [text.index(link) for link in order] == sorted(text.index(link) for link in order)
    assert [html.index(link) for link in order] == sorted(html.index(link) for link in order)
    assert all(f"/mention?id={ids[i]}" not in text for i in (3, 4, 5))
    assert "<script" not in html and "<img" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(href.startswith("https://") for href in hrefs)
    assert "https://social.example/1" in hrefs and "https://grumble.example/digests" in hrefs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://grumble.example/digests"' in html
    assert claimed(engine, "support") == sorted([ids[0], ids[1], ids[2]])
    [run] = digest_store.runs(engine, "support")
    assert run.status == "sent" and run.message_id == outcomes[0].message_id and run.sent_at is not None


@pytest.mark.both_databases
def test_a_mention_is_in_one_digest_per_list_across_runs(engine: Engine, smtp_server: StartServer) -> None:
    server = smtp_server()
    config = make_config(
        smtp=server.smtp_table(),
        digests=[
            {"name": "support", "recipients": ["s@example.com"], "every": "hourly"},
            {"name": "acme-only", "recipients": ["a@example.com"], "every": "hourly", "watches": ["acme"]},
        ],
    )
    first = add_mentions(engine, [Spec(1), Spec(2)], now=NOW)
    rival = add_mentions(engine, [Spec(10)], watch="rival", now=NOW)
    sender = delivery(config, engine, server)
    support, acme_only = config.digests
    assert [o.status for o in sender.run_digest(support, NOW)] == ["sent"]
    assert [o.status for o in sender.run_digest(acme_only, NOW)] == ["sent"]
    later = NOW + dt.timedelta(hours=1)
    second = add_mentions(engine, [Spec(3)], now=later)
    # Scored within the first digest's look-back too: claimed mentions must still not come back.
    assert [o.status for o in sender.run_digest(support, later)] == ["sent"]
    assert [o.status for o in sender.run_digest(acme_only, later)] == ["sent"]
    runs = digest_store.runs(engine, "support")
    assert [sorted(digest_store.run_mention_ids(engine, r.id)) for r in runs] == [
        sorted(first + rival),
        second,
    ]
    acme_runs = digest_store.runs(engine, "acme-only")
    assert [sorted(digest_store.run_mention_ids(engine, r.id)) for r in acme_runs] == [sorted(first), second]
    assert len(server.messages) == 4
    with engine.connect() as connection:
        per_list = connection.execute(
            select(digest_items.c.list_name, digest_items.c.mention_id, func.count())
            .group_by(digest_items.c.list_name, digest_items.c.mention_id)
            .having(func.count() > 1)
        ).all()
    assert per_list == []


def test_all_quiet_sends_nothing_or_a_short_note_as_configured(
    engine: Engine, smtp_server: StartServer
) -> None:
    server = smtp_server()
    config = make_config(
        smtp=server.smtp_table(),
        digests=[
            {"name": "silent", "recipients": ["s@example.com"]},
            {"name": "chatty", "recipients": ["c@example.com"], "send_when_quiet": True},
        ],
    )
    sender = delivery(config, engine, server)
    silent, chatty = config.digests
    assert [o.status for o in sender.run_digest(silent, NOW)] == ["quiet"]
    assert server.messages == []
    assert [o.status for o in sender.run_digest(chatty, NOW)] == ["sent"]
    [message] = server.messages
    assert message["Subject"] == "Grumble daily digest (chatty): all quiet"
    assert "All quiet" in text_part(message)
    # The quiet period counts as a digest: the next one starts where it ended.
    [quiet_run] = digest_store.runs(engine, "silent")
    assert quiet_run.status == "quiet" and quiet_run.period_end == NOW


@pytest.mark.both_databases
def test_a_digest_that_could_not_be_sent_is_kept_and_retried_with_backoff(
    engine: Engine, smtp_server: StartServer
) -> None:
    port = free_port()  # the server is down
    config = digest_config(port)
    ids = add_mentions(engine, [Spec(1), Spec(2)])
    sender = delivery(config, engine)
    [failed] = sender.run_digest(config.digests[0], NOW)
    assert failed.status == "failed"
    assert failed.error is not None and f"cannot reach SMTP server 127.0.0.1:{port}" in failed.error
    # Retried after a jittered minute: more than half of it, at most all of it.
    assert failed.next_attempt_at is not None
    assert NOW + dt.timedelta(seconds=30) < failed.next_attempt_at <= NOW + dt.timedelta(minutes=1)
    [run] = digest_store.unsent_runs(engine)
    assert run.status == "intent" and run.attempts == 1 and "cannot reach" in (run.last_error or "")
    assert claimed(engine, "support") == sorted(ids)

    # Before its backoff is over nothing is tried, and the list gets no second digest meanwhile.
    assert [o.status for o in sender.retry_unsent(NOW + dt.timedelta(seconds=30))] == ["deferred"]
    assert [o.status for o in sender.run_digest(config.digests[0], NOW + dt.timedelta(seconds=30))] == [
        "deferred",
        "waiting",
    ]
    [again] = sender.retry_unsent(NOW + dt.timedelta(minutes=1))
    assert again.status == "failed" and again.next_attempt_at is not None
    # The second wait doubles: a jittered two minutes after the second try.
    assert NOW + dt.timedelta(minutes=2) < again.next_attempt_at <= NOW + dt.timedelta(minutes=3)

    server = smtp_server(port=port)
    [sent] = sender.retry_unsent(NOW + dt.timedelta(minutes=3))
    assert sent.status == "sent" and sent.run_id == run.id
    assert [m["To"] for m in server.messages] == ["support@example.com", "lead@example.com"]
    message = server.messages[0]
    assert message["Message-ID"] == recipient_message_id(run.message_id or "", "support@example.com")
    assert {f"/mention?id={i}" in text_part(message) for i in ids} == {True}
    [done] = digest_store.runs(engine, "support")
    assert done.status == "sent" and done.attempts == 3 and done.last_error is None
    assert sender.retry_unsent(NOW + dt.timedelta(minutes=4)) == []


@pytest.mark.both_databases
def test_a_retry_after_a_partial_failure_sends_only_to_those_not_reached(
    engine: Engine, smtp_server: StartServer
) -> None:
    server = smtp_server()
    config = digest_config(server.port)
    add_mentions(engine, [Spec(1)], now=NOW)
    server.sink.defer_for = {"lead@example.com"}
    sender = delivery(config, engine, server)
    [failed] = sender.run_digest(config.digests[0], NOW)
    assert failed.status == "failed"
    assert [m["To"] for m in server.messages] == ["support@example.com"]
    server.sink.defer_for = set()
    [sent] = sender.retry_unsent(NOW + dt.timedelta(minutes=1))
    assert sent.status == "sent" and sent.run_id == failed.run_id
    assert [m["To"] for m in server.messages] == ["support@example.com", "lead@example.com"]
    assert len({m["Message-ID"] for m in server.messages}) == 2


def test_an_unsubscribed_recipient_gets_no_digest_and_the_others_do(
    engine: Engine, smtp_server: StartServer
) -> None:
    server = smtp_server()
    config = make_config(
        smtp=server.smtp_table(),
        digests=[{"name": "support", "recipients": ["s@example.com", "Lead@example.com"], "every": "hourly"}],
    )
    add_mentions(engine, [Spec(1)], now=NOW)
    digest_store.set_subscribed(engine, "support", "lead@example.com", subscribed=False, at=NOW)
    [outcome] = delivery(config, engine, server).run_digest(config.digests[0], NOW)
    assert outcome.status == "sent"
    assert [item.rcpt_tos for item in server.sink.received] == [["s@example.com"]]
    digest_store.set_subscribed(engine, "support", "s@example.com", subscribed=False, at=NOW)
    add_mentions(engine, [Spec(2)], now=NOW + dt.timedelta(hours=1))
    [outcome] = delivery(config, engine, server).run_digest(config.digests[0], NOW + dt.timedelta(hours=1))
    assert outcome.status == "quiet"  # nobody left to send to: the run is closed, nothing delivered
    assert len(server.sink.received) == 1


def test_cases_past_their_response_target_are_flagged_in_the_next_digest(
    engine: Engine, smtp_server: StartServer
) -> None:
    from monitor.config import ResponderSettings
    from monitor.respond.cases import open_case

    server = smtp_server()
    config = make_config(
        smtp=server.smtp_table(),
        digests=[{"name": "support", "recipients": ["s@example.com"], "every": "hourly"}],
    )
    first, second = add_mentions(engine, [Spec(1), Spec(2)], now=NOW)
    case = open_case(engine, first, "sam", ResponderSettings(response_target_minutes=30), now=NOW)
    later = case.clock_from + dt.timedelta(hours=2)
    add_mentions(engine, [Spec(3)], now=later)
    [outcome] = delivery(config, engine, server).run_digest(config.digests[0], later)
    assert outcome.status == "sent"
    message = server.messages[-1]
    assert "1 case past the response target" in message["Subject"]
    text = text_part(message)
    assert "PAST THE RESPONSE TARGET WITHOUT A REPLY (1)" in text
    assert f"/mention?id={first}" in text
    overdue_part = text.split("PAST THE RESPONSE TARGET")[1].split("Posted this period")[0]
    assert f"/mention?id={second}" not in overdue_part
    assert "Past the response target without a reply (1)" in html_part(message)


def test_a_capped_digest_counts_the_rest_and_never_sends_them_later(
    engine: Engine, smtp_server: StartServer
) -> None:
    server = smtp_server()
    config = make_config(
        smtp=server.smtp_table(),
        digests=[{"name": "support", "recipients": ["s@example.com"], "every": "hourly", "max_mentions": 2}],
    )
    ids = add_mentions(engine, [Spec(1), Spec(2), Spec(3), Spec(4), Spec(5)], now=NOW)
    sender = delivery(config, engine, server)
    (support,) = config.digests
    assert [o.status for o in sender.run_digest(support, NOW)] == ["sent"]
    [message] = server.messages
    assert "5 new negative mentions" in message["Subject"]
    assert "... and 3 more negative mentions of lower priority" in text_part(message)
    assert claimed(engine, "support") == sorted(ids)
    later = NOW + dt.timedelta(hours=1)
    assert [o.status for o in sender.run_digest(support, later)] == ["quiet"]
    assert len(server.messages) == 1
