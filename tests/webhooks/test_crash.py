"""The webhook job killed with SIGKILL while the receiver holds its request, then run again: the event
is delivered, under the same `webhook-id`, and once after the receiver's de-duplication on that id.

The receiver holds the request until the test has killed the sender. Held, it either took the event
(the window no sender can close: the restart's copy is a duplicate with the same id, which the receiver
drops) or had not yet (the restart's copy is the only one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from monitor.mention import utcnow
from monitor.store import webhook_deliveries as store
from monitor.store.engine import connect
from monitor.webhooks.delivery import WebhookDelivery
from tests.alerts.conftest import Spec, add_mentions, wait_for
from tests.conftest import REPO
from tests.support.http_replay import ReplayServer, Request
from tests.webhooks.receiver import Receiver, new_secret
from tests.webhooks.support import endpoint, negative_mention, webhook_config

SECRET = new_secret(7)


@pytest.mark.both_databases
@pytest.mark.slow
def test_kill_9_after_the_receiver_took_it_then_restart_is_one_event_under_one_id(
    database_url: str, replay_server: ReplayServer
) -> None:
    kill_mid_delivery_then_restart(database_url, replay_server, taken=True)


@pytest.mark.slow
def test_kill_9_before_the_receiver_took_it_then_restart_delivers_it(
    database_url: str, replay_server: ReplayServer
) -> None:
    kill_mid_delivery_then_restart(database_url, replay_server, taken=False)


def kill_mid_delivery_then_restart(database_url: str, replay_server: ReplayServer, taken: bool) -> None:
    engine = connect(database_url)
    entered, release = threading.Event(), threading.Event()
    held: list[Request] = []

    def hold_the_first(request: Request) -> None:
        if not held:
            held.append(request)
            entered.set()
            release.wait(30)

    receiver = Receiver(replay_server, SECRET, on_request=hold_the_first)
    environ = {"HOOK_SECRET": SECRET}
    config = webhook_config(database_url, [endpoint(receiver.url)], environ)
    with httpx.Client() as http:
        WebhookDelivery(config, engine, http=http).run()  # the cursors start now
        negative_mention(engine, 1, utcnow())

        command = [sys.executable, "-m", "tests.webhooks.delivering_worker", database_url, receiver.url]
        worker = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            wait_for(lambda: entered.is_set() or worker.poll() is not None)
            assert worker.poll() is None, worker.communicate()
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            if not taken:
                receiver.failures.append(503)  # it crashed before taking it
            release.set()
        assert worker.returncode == -signal.SIGKILL
        wait_for(lambda: len(receiver.requests) == 1)
        assert len(receiver.events) == (1 if taken else 0)
        assert store.attempt_log(engine, "helpdesk") == []  # the killed sender recorded nothing

        # The restart: the dead holder's lease is broken at once, the event sent again.
        report = WebhookDelivery(config, engine, http=http).run()

    assert report.delivered == 1 and receiver.refused == []
    assert len(receiver.requests) == 2
    assert receiver.ids()[0] == receiver.ids()[1] and receiver.requests[0].body == receiver.requests[1].body
    assert list(receiver.events) == [held[0].headers["webhook-id"]]  # once, after de-duplication
    assert store.counts(engine, since=utcnow().replace(year=2000))["helpdesk"] == {"delivered": 1}
    engine.dispose()


# PostgreSQL only: that is where several workers run (SQLite keeps one process).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.slow
def test_two_processes_delivering_at_once_send_each_event_once(
    database_url: str, replay_server: ReplayServer
) -> None:
    engine = connect(database_url)
    receiver = Receiver(replay_server, SECRET)
    environ = {"HOOK_SECRET": SECRET}
    config = webhook_config(database_url, [endpoint(receiver.url)], environ)
    with httpx.Client() as http:
        WebhookDelivery(config, engine, http=http).run()
    now = utcnow()
    add_mentions(engine, [Spec(n, scored_at=now) for n in range(1, 101)], now=now)

    command = [sys.executable, "-m", "tests.webhooks.delivering_worker", database_url, receiver.url]
    workers = [
        subprocess.Popen(command, cwd=REPO, env={**os.environ, **environ}, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()

    assert receiver.refused == [] and len(receiver.events) == 100
    assert len(receiver.requests) == 100  # none sent twice: each delivery was leased by one of them
    assert store.counts(engine, since=utcnow().replace(year=2000))["helpdesk"] == {"delivered": 100}
    engine.dispose()
