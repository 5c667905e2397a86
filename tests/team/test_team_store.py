"""The storage contract of presence and notifications, on SQLite and PostgreSQL: beats from two
dashboard processes (two engines), one notification per event and person however many fan-outs run,
one email lease at a time, preferences, and the cursor migration 0021 starts at the newest event."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, func, select

from monitor.respond.cases import add_note, open_case
from monitor.store import leases
from monitor.store import notifications as store
from monitor.store.engine import MIGRATIONS, connect, migrate
from monitor.store.schema import notifications
from monitor.store.triage import record_event
from monitor.team.fanout import CURSOR, fan_out
from monitor.team.presence import EXPIRES_AFTER, Here, mark_here, others_here, presence_words
from tests.team.conftest import LATER, NOW, TeamStore, team_config

pytestmark = pytest.mark.both_databases


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    """Another process's engine on the same database (its own connections)."""
    engine = connect(database_url)
    yield engine
    engine.dispose()


def test_presence_written_by_one_process_is_seen_by_another_until_it_expires(
    team: TeamStore, second_engine: Engine
) -> None:
    first, second = team.ids
    mark_here(team.engine, first, "dana", False, NOW)
    mark_here(second_engine, first, "sam", True, NOW)
    mark_here(second_engine, second, "sam", False, NOW)
    seen = others_here(team.engine, [first, second], "dana", NOW + dt.timedelta(seconds=5))
    assert seen == {first: [Here("sam", drafting=True)], second: [Here("sam", drafting=False)]}
    assert others_here(second_engine, [first], "sam", NOW) == {first: [Here("dana", drafting=False)]}
    # sam's box is empty again; dana's tab closed (no more beats).
    mark_here(second_engine, first, "sam", False, NOW + dt.timedelta(seconds=10))
    later = NOW + EXPIRES_AFTER + dt.timedelta(seconds=1)
    assert others_here(second_engine, [first], "sam", later) == {}
    assert others_here(team.engine, [first], "dana", later) == {first: [Here("sam", drafting=False)]}
    assert (
        presence_words([Here("sam", False), Here("alex", True)]) == "alex is writing a reply · sam is viewing"
    )


def test_fan_outs_at_once_make_one_notification_per_event_and_person(
    team: TeamStore, second_engine: Engine
) -> None:
    config = team_config(smtp_port=2525)
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    for n in range(20):
        add_note(team.engine, case.id, f"@dana @alex look at this, {n}", "sam", NOW)
    barrier = threading.Barrier(2)
    made: list[int] = []

    def run(engine: Engine) -> None:
        barrier.wait()
        made.append(fan_out(engine, config, LATER))

    threads = [threading.Thread(target=run, args=(e,)) for e in (team.engine, second_engine)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(made) == 40
    with team.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(notifications)) == 40
        assert store.cursor_position(connection, CURSOR) == store.newest_event_id(connection)


def test_one_email_lease_at_a_time_and_a_sent_email_stays_sent(
    team: TeamStore, second_engine: Engine
) -> None:
    config = team_config(smtp_port=2525)
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    add_note(team.engine, case.id, "@dana here", "sam", NOW)
    fan_out(team.engine, config, LATER)
    [due] = store.due_emails(team.engine, LATER)
    until = LATER + dt.timedelta(minutes=10)
    with leases.holding(team.engine):  # a live holder: its session is open, its process runs
        assert store.lease_email(team.engine, due.id, LATER, until, leases.this_process())
        assert not store.lease_email(second_engine, due.id, LATER, until, "elsewhere:2")
    store.finish_email(team.engine, due.id, store.SENT, LATER)
    store.email_failed(second_engine, due.id, "late failure", until)  # changes only a pending one
    sent = store.get_notification(team.engine, due.id)
    assert sent is not None and (sent.email_state, sent.emailed_at, sent.last_error) == ("sent", LATER, None)
    assert store.due_emails(second_engine, until) == []


def test_email_choices_are_kept_per_person_and_kind(team: TeamStore) -> None:
    store.set_email_choice(team.engine, "dana", "mentioned", False, NOW)
    store.set_email_choice(team.engine, "dana", "mentioned", True, LATER)
    store.set_email_choice(team.engine, "dana", "assigned", False, LATER)
    with team.engine.connect() as connection:
        assert store.email_choices(connection, "dana") == {"mentioned": True, "assigned": False}
        assert store.email_choices(connection, "sam") == {}


def test_the_fan_out_starts_at_the_newest_event_of_a_database_upgraded_to_0021(team: TeamStore) -> None:
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with team.engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.downgrade(alembic, "0020")
        record_event(connection, team.ids[0], "assign", None, "dana", "sam", NOW)
    migrate(team.engine)
    with team.engine.connect() as connection:
        assert store.cursor_position(connection, CURSOR) == store.newest_event_id(connection) > 0
    assert fan_out(team.engine, team_config(), LATER) == 0  # history is not news
