"""`grumble digest --send` killed with SIGKILL between recording its intent and recording the send,
then run again: every mention delivered, none in two digests, the re-send under the same Message-ID.

The SMTP server holds the DATA command until the test has killed the client. Held mail either counts
as accepted (the server has it: the window SMTP cannot close, so the restart's copy is a duplicate
with the same Message-ID) or not (the restart's copy is the only one)."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.mention import utcnow
from monitor.store import digests as digest_store
from monitor.store.engine import connect
from monitor.surface.digest_delivery import DigestDelivery
from monitor.surface.mail import mailer_for, recipient_message_id
from tests.alerts.conftest import (
    MailSink,
    Spec,
    StartServer,
    add_mentions,
    text_part,
    wait_for,
    write_cli_config,
)
from tests.conftest import REPO

DIGEST = """
[[digests]]
name = "support"
recipients = ["support@example.com"]
every = "hourly"
"""


@pytest.mark.both_databases
@pytest.mark.slow
@pytest.mark.parametrize("accepted", [True, False], ids=["server-has-it", "server-has-not"])
def test_kill_9_between_intent_and_sent_then_restart(
    database_url: str, smtp_server: StartServer, tmp_path: Path, accepted: bool
) -> None:
    engine = connect(database_url)
    first = add_mentions(engine, [Spec(n) for n in range(1, 6)], now=utcnow())
    sink = MailSink(hold=True, keep_held=accepted)
    server = smtp_server("none", sink=sink)
    config = write_cli_config(tmp_path, database_url, server.port, DIGEST)
    command = [sys.executable, "-m", "monitor.cli", "-c", str(config), "digest", "--send"]

    worker = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: sink.entered.is_set() or worker.poll() is not None)
        assert worker.poll() is None, worker.communicate()
        [intent] = digest_store.runs(engine, "support")
        assert intent.status == "intent"
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        sink.release.set()
    assert worker.returncode == -signal.SIGKILL
    assert len(server.messages) == (1 if accepted else 0)
    [unsent] = digest_store.unsent_runs(engine)
    assert unsent.id == intent.id
    assert sorted(digest_store.run_mention_ids(engine, unsent.id)) == sorted(first)

    sink.hold = False
    assert main(["-c", str(config), "digest", "--send"]) == 0
    messages = server.messages
    assert len(messages) == (2 if accepted else 1)
    # The duplicate a crash in that window causes is the same message, which clients show once.
    assert {message["Message-ID"] for message in messages} == {
        recipient_message_id(intent.message_id, message["To"]) for message in messages
    }
    assert len({message["Message-ID"] for message in messages}) == 1
    assert len({text_part(message) for message in messages}) == 1
    for mention_id in first:
        assert f"/mention?id={mention_id}" in text_part(messages[-1])
    # The restart sent the crashed digest (its holder is gone, so its lease did not hold the restart
    # back), and made no second digest: the crashed one is this hour's slot's.
    [sent] = digest_store.runs(engine, "support")
    assert sent.id == intent.id and sent.status == "sent" and sent.attempts == 1

    # The next hour's digest has only what came since: nothing lost, nothing twice.
    later = add_mentions(engine, [Spec(n) for n in range(6, 9)], now=utcnow())
    settings = load_config(str(config))
    next_hour = utcnow() + timedelta(hours=1)
    [outcome] = DigestDelivery(settings, engine, mailer_for(settings.smtp)).run_digest(
        settings.digests[0], next_hour, force=True
    )
    assert outcome.status == "sent"
    runs = [run for run in digest_store.runs(engine, "support") if run.status != "quiet"]
    assert [sorted(digest_store.run_mention_ids(engine, run.id)) for run in runs] == [
        sorted(first),
        sorted(later),
    ]
    assert all(run.status == "sent" for run in runs)
    assert len({run.message_id for run in runs}) == 2
    engine.dispose()
