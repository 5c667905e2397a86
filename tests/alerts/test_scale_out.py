"""Several Grumble processes on one store send nothing twice: a digest is one per list and slot, a
delivery lease held by a running process holds back even a forced send, and migrations run under the
database's lock. The evidence is real `python -m monitor.cli` processes started together against one
store, one SMTP server and one webhook on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from monitor.config import DigestList
from monitor.mention import utcnow
from monitor.queue.app import conninfo
from monitor.store import alerts as alert_store
from monitor.store import digests as digest_store
from monitor.store.engine import MIGRATIONS, open_engine
from monitor.surface.digest_delivery import DigestDelivery
from monitor.surface.mail import Mailer
from tests.alerts.conftest import (
    NOW,
    MailSink,
    SmtpServer,
    Spec,
    StartServer,
    add_mentions,
    grumble,
    make_config,
    run_together,
    wait_for,
    write_cli_config,
)
from tests.conftest import REPO
from tests.support.http_replay import ReplayServer, Reply

RECIPIENTS = ("support@example.com", "lead@example.com")


class SlowSink(MailSink):
    """Answers DATA a second late, so the first sender is still mid-send when the second arrives."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(1.0)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def hook() -> Iterator[ReplayServer]:
    server = ReplayServer()
    server.route("POST", "/hook", Reply(status=200, body="ok", delay_s=1.0))
    try:
        yield server
    finally:
        server.close()


def digest_table(send_when_quiet: bool) -> str:
    # Daily, twelve hours from now: both processes are in one slot however slowly they start.
    at = (utcnow() - dt.timedelta(hours=12)).strftime("%H:%M")
    quiet = "true" if send_when_quiet else "false"
    recipients = ", ".join(f'"{r}"' for r in RECIPIENTS)
    return f"""
[[digests]]
name = "support"
recipients = [{recipients}]
every = "daily"
at = "{at}"
send_when_quiet = {quiet}
"""


@pytest.mark.both_databases
@pytest.mark.slow
@pytest.mark.parametrize("quiet", [False, True], ids=["with-mentions", "all-quiet"])
def test_two_digest_sends_at_once_mail_each_recipient_once(
    database_url: str, engine: Engine, smtp_server: StartServer, tmp_path: Path, quiet: bool
) -> None:
    if not quiet:
        add_mentions(engine, [Spec(n) for n in range(1, 4)], now=utcnow())
    server = smtp_server("none", sink=SlowSink())
    config = write_cli_config(tmp_path, database_url, server.port, digest_table(send_when_quiet=quiet))

    results = run_together(grumble(config, "digest", "--send"), grumble(config, "digest", "--send"))

    assert [result.returncode for result in results] == [0, 0], [result.stderr for result in results]
    per_recipient = Counter(message["To"] for message in server.messages)
    assert per_recipient == Counter(RECIPIENTS)
    assert len({message["Message-ID"] for message in server.messages}) == len(RECIPIENTS)
    [run] = digest_store.runs(engine, "support")
    assert run.status == "sent" and run.slot is not None and run.leased_by is None
    said = "".join(result.stdout for result in results)
    assert "sent as" in said
    assert "another process is sending it" in said or "already done for its slot" in said


@pytest.mark.both_databases
@pytest.mark.slow
def test_two_alert_checks_at_once_send_one_email_and_one_post(
    database_url: str, engine: Engine, smtp_server: StartServer, hook: ReplayServer, tmp_path: Path
) -> None:
    add_mentions(engine, [Spec(1, negative=0.97, author_reach=5_000_000)], now=utcnow())
    server = smtp_server("none", sink=SlowSink())
    alerts = f'[alerts]\nrecipients = ["oncall@example.com"]\nwebhook_url = "{hook.url}/hook"\n'
    config = write_cli_config(tmp_path, database_url, server.port, alerts)

    results = run_together(grumble(config, "alerts", "--check"), grumble(config, "alerts", "--check"))

    assert [result.returncode for result in results] == [0, 0], [result.stderr for result in results]
    assert len(server.messages) == 1
    assert len([request for request in hook.requests if request.path == "/hook"]) == 1
    [event] = alert_store.all_events(engine)
    assert event.sent_at is not None and event.webhook_sent_at is not None and event.leased_by is None
    assert sum(result.stdout.count("sent <") for result in results) == 1


MIGRATE = """
import os, sys, time
from monitor.store.engine import connect
while not os.path.exists(sys.argv[2]):  # start together: both wait for the test's signal
    time.sleep(0.005)
connect(sys.argv[1]).dispose()
"""


@pytest.mark.both_databases
@pytest.mark.slow
def test_two_processes_migrating_a_fresh_database_at_once_both_succeed(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    command = [sys.executable, "-c", MIGRATE, database_url, str(go)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    workers = [
        subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    go.touch()
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    engine = open_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    engine.dispose()


# In one process: the slot key and the lease, on both databases.


def digest_delivery(engine: Engine, server: SmtpServer, **digest: Any) -> tuple[DigestDelivery, DigestList]:
    config = make_config(
        smtp=server.smtp_table(),
        digests=[{"name": "support", "recipients": list(RECIPIENTS), "every": "hourly", **digest}],
    )
    mailer = Mailer(server.settings(), sleep=lambda _s: None)
    return DigestDelivery(config, engine, mailer, clock=lambda: NOW), config.digests[0]


@pytest.mark.both_databases
def test_a_second_digest_in_one_slot_is_done_and_the_next_slot_gets_what_came_since(
    engine: Engine, smtp_server: StartServer
) -> None:
    server = smtp_server()
    sender, support = digest_delivery(engine, server)
    add_mentions(engine, [Spec(1)], now=NOW)
    assert [o.status for o in sender.run_digest(support, NOW)] == ["sent"]
    add_mentions(engine, [Spec(2)], now=NOW + dt.timedelta(minutes=20))
    [again] = sender.run_digest(support, NOW + dt.timedelta(minutes=30), force=True)
    assert again.status == "done" and again.slot == NOW
    assert "already done for its slot at 2026-11-02 08:00 UTC" in again.describe()
    assert len(server.messages) == len(RECIPIENTS)
    later = NOW + dt.timedelta(hours=1)
    [next_one] = sender.run_digest(support, later)
    assert next_one.status == "sent" and next_one.mention_count == 1
    assert [run.slot for run in digest_store.runs(engine, "support")] == [NOW, later]


@pytest.mark.both_databases
def test_an_all_quiet_slot_is_taken_once(engine: Engine, smtp_server: StartServer) -> None:
    server = smtp_server()
    for send_when_quiet, first in ((True, "sent"), (False, "quiet")):
        server.sink.received.clear()
        sender, support = digest_delivery(engine, server, send_when_quiet=send_when_quiet)
        slot = NOW if send_when_quiet else NOW + dt.timedelta(hours=1)
        assert [o.status for o in sender.run_digest(support, slot)] == [first]
        assert [o.status for o in sender.run_digest(support, slot + dt.timedelta(minutes=5))] == ["done"]
        assert len(server.messages) == (len(RECIPIENTS) if send_when_quiet else 0)


def create_run(connection: Any, list_name: str, status: str, **lease: Any) -> digest_store.DigestRun:
    """A run of `list_name` for the NOW slot, as a digest process records it before sending."""
    return digest_store.create_run(
        connection,
        list_name=list_name,
        slot=NOW,
        period_start=NOW - dt.timedelta(hours=1),
        period_end=NOW,
        status=status,
        recipients=RECIPIENTS,
        subject="s",
        body_text="t",
        body_html="h",
        mention_ids=[],
        now=NOW,
        message_id_for=lambda run_id: f"<{list_name}.{run_id}@example.com>",
        **lease,
    )


@pytest.mark.both_databases
def test_the_database_refuses_a_second_run_for_a_lists_slot(engine: Engine) -> None:
    def create(connection: Any, list_name: str) -> None:
        create_run(connection, list_name, digest_store.QUIET)

    with engine.begin() as connection:
        create(connection, "support")
        create(connection, "other")  # another list's run for the same slot is its own
    with pytest.raises(IntegrityError), engine.begin() as connection:
        create(connection, "support")


def dead_holder() -> str:
    """A holder on this machine whose process has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}"


@pytest.mark.both_databases
def test_a_forced_send_waits_for_a_live_holder_and_takes_over_from_a_dead_one(engine: Engine) -> None:
    lease_until = NOW + dt.timedelta(minutes=10)
    with engine.begin() as connection:
        run = create_run(
            connection,
            "support",
            digest_store.INTENT,
            lease_until=lease_until,
            holder=f"{socket.gethostname()}:{os.getppid()}",  # pytest's parent: running
        )
    postgres = engine.dialect.name == "postgresql"
    sessions: list[psycopg.Connection[Any]] = []

    def alive(holder: str) -> None:
        """On PostgreSQL a live holder, on any machine, has a database session named after it."""
        if postgres:
            url = conninfo(engine.url.render_as_string(hide_password=False))
            sessions.append(psycopg.connect(url, application_name=f"grumble {holder}"))

    def lease_held_by(holder: str) -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE digest_runs SET leased_by = :h"), {"h": holder})

    try:
        alive(f"{socket.gethostname()}:{os.getppid()}")
        me = f"{socket.gethostname()}:{os.getpid()}"
        assert not digest_store.lease_run(engine, run.id, NOW, lease_until, me, force=False)
        assert not digest_store.lease_run(engine, run.id, NOW, lease_until, me, force=True)
        elsewhere = "another-machine.invalid:1"
        alive(elsewhere)
        lease_held_by(elsewhere)
        assert not digest_store.lease_run(engine, run.id, NOW, lease_until, me, force=True)
        if postgres:  # its session gone, the holder has ended: even the scheduled retry takes over
            sessions.pop().close()
            # (its backend process ends a moment after the client has gone)
            wait_for(lambda: digest_store.lease_run(engine, run.id, NOW, lease_until, me, force=False), 10)
            assert digest_store.runs(engine, "support")[0].leased_by == me
    finally:
        for session in sessions:
            session.close()
    lease_held_by(dead_holder())
    assert digest_store.lease_run(engine, run.id, NOW, lease_until, me, force=True)
    assert digest_store.runs(engine, "support")[0].leased_by == me
    # Its lease over, anyone may take it, forced or not.
    assert digest_store.lease_run(engine, run.id, lease_until, lease_until, "x:1", force=False)
