"""Who is told what, from the audit trail the real case and reply functions write: each person once,
never the one who acted, through a cursor that neither skips nor repeats (SQLite; the storage contract
on both databases is test_team_store.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, update

from monitor.config import Config, ResponderRule
from monitor.jobs import Jobs, ModelHolder
from monitor.respond.cases import add_note, assign, open_case
from monitor.respond.replies import approve_reply, measure, return_reply, save_draft, submit_reply
from monitor.scheduler import build_scheduler
from monitor.store import notifications as store
from monitor.store.schema import event_cursors, notifications
from monitor.team.fanout import CURSOR, SETTLE, fan_out
from monitor.team.notes import mentioned_names
from monitor.team.notifications import sentence
from tests.team.conftest import LATER, NOW, TeamStore, team_config, user

NAMES = ["dana", "rick", "sam", "alex"]


def told(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    """(recipient, kind, actor, detail) of every notification, in the order made."""
    with engine.connect() as connection:
        rows = connection.execute(select(notifications).order_by(notifications.c.id))
        return [(r.recipient, r.kind, r.actor, r.detail) for r in rows]


def test_an_assignment_tells_the_assignee_only_when_someone_else_made_it(team: TeamStore) -> None:
    config = team_config()
    engine = team.engine
    case = open_case(engine, team.ids[0], "sam", config.responder, NOW)
    assign(engine, case.id, "dana", "sam", NOW)
    assign(engine, case.id, "sam", "sam", NOW)  # took it himself: nobody to tell
    assign(engine, case.id, "nobody-configured", "sam", NOW)
    assert fan_out(engine, config, LATER) == 1
    assert told(engine) == [("dana", "assigned", "sam", None)]
    assert sentence("assigned", "sam") == "sam assigned a mention to you"


def test_a_case_a_rule_assigned_tells_its_assignee(team: TeamStore) -> None:
    config = team_config(responder={"rules": [{"assignee": "rick", "watch": "acme", "label": "any"}]})
    assert config.responder.rules == (ResponderRule(assignee="rick", watch="acme", label=None),)
    open_case(team.engine, team.ids[0], "rules", config.responder, NOW)
    fan_out(team.engine, config, LATER)
    assert told(team.engine) == [("rick", "assigned", "rules", "by the assignment rules")]
    assert sentence("assigned", "rules") == "The assignment rules assigned a mention to you"


def test_a_note_tells_the_people_it_at_mentions_and_not_an_email_address(team: TeamStore) -> None:
    config = team_config()
    case = open_case(team.engine, team.ids[0], "alex", config.responder, NOW)
    note = "@dana and @Sam. can you call them? Cc billing@acme.example, not @alex or @nobody"
    add_note(team.engine, case.id, note, "alex", NOW)
    fan_out(team.engine, config, LATER)
    assert told(team.engine) == [("dana", "mentioned", "alex", note), ("sam", "mentioned", "alex", note)]
    assert mentioned_names("(@rick) @dana.", NAMES) == ["rick", "dana"]
    assert mentioned_names("mail rick@example.com", NAMES) == []


def test_approval_asked_approved_and_sent_back_reach_the_right_people(team: TeamStore) -> None:
    config = team_config()
    settings, engine = config.responder, team.engine
    case = open_case(engine, team.ids[0], "dana", settings, NOW)
    dana, sam, alex = user("dana"), user("sam"), user("alex")
    draft = save_draft(engine, case.id, "Sorry, we are on it.", dana, now=NOW)
    submit_reply(engine, draft.id, dana, settings, measure("test", draft.text, None), NOW)
    fan_out(engine, config, LATER)
    # No approver chosen: everyone with the approver role, never its writer.
    assert {(r, k) for r, k, _, _ in told(engine)} == {("sam", "approval"), ("alex", "approval")}

    return_reply(engine, draft.id, sam, settings, "Name the refund, please.", NOW)
    fan_out(engine, config, LATER)
    assert told(engine)[-1] == ("dana", "sent_back", "sam", "Name the refund, please.")
    assert sentence("sent_back", "sam", "Name the refund, please.") == (
        "sam sent your reply back: Name the refund, please."
    )

    again = save_draft(engine, case.id, "Sorry: your refund is on its way.", dana, now=NOW, base_version=None)
    submit_reply(engine, again.id, dana, settings, measure("test", again.text, None), NOW, approver=alex)
    approve_reply(engine, again.id, alex, settings, NOW)
    fan_out(engine, config, LATER)
    assert told(engine)[-2:] == [
        ("alex", "approval", "dana", told(engine)[-2][3]),
        ("dana", "approved", "alex", None),
    ]
    assert [r for r, k, _, _ in told(engine)].count("sam") == 1  # the second ask named alex alone


def test_a_rerun_or_a_crash_before_the_cursor_moved_tells_nobody_twice(team: TeamStore) -> None:
    config = team_config()
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    assign(team.engine, case.id, "dana", "sam", NOW)
    assert fan_out(team.engine, config, LATER) == 1
    assert fan_out(team.engine, config, LATER) == 0
    with team.engine.begin() as connection:  # as if the run that moved it had never committed
        connection.execute(
            update(event_cursors).where(event_cursors.c.name == CURSOR).values(last_event_id=0)
        )
    assert fan_out(team.engine, config, LATER) == 0
    assert len(told(team.engine)) == 1


def test_young_events_are_read_again_until_settled_so_a_late_commit_is_not_skipped(team: TeamStore) -> None:
    config = team_config()
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    assign(team.engine, case.id, "dana", "sam", NOW)
    with team.engine.connect() as connection:
        newest = store.newest_event_id(connection)
    fan_out(team.engine, config, NOW + dt.timedelta(seconds=30))
    with team.engine.connect() as connection:
        assert store.cursor_position(connection, CURSOR) == 0  # nothing is old enough to pass yet
    fan_out(team.engine, config, NOW + SETTLE)
    with team.engine.connect() as connection:
        assert store.cursor_position(connection, CURSOR) == newest
    assert len(told(team.engine)) == 1


def test_email_is_pending_only_with_a_mail_server_an_address_and_the_kind_wanted(team: TeamStore) -> None:
    engine = team.engine
    store.set_email_choice(engine, "alex", "mentioned", False, NOW)
    case = open_case(engine, team.ids[0], "sam", team_config().responder, NOW)
    add_note(engine, case.id, "@dana @rick @alex have a look", "sam", NOW)
    fan_out(engine, team_config(smtp_port=2525), LATER)
    with engine.connect() as connection:
        states = dict(
            connection.execute(select(notifications.c.recipient, notifications.c.email_state)).all()
        )
    assert states == {"dana": "pending", "rick": "off", "alex": "off"}

    add_note(engine, case.id, "@dana again", "sam", NOW)
    fan_out(engine, team_config(), LATER)  # no [smtp]: nothing to mail later either
    assert [n.email_state for n in store.for_recipient(engine, "dana")] == ["off", "pending"]


def test_the_for_you_list_counts_unread_and_marks_only_its_own_read(team: TeamStore) -> None:
    config = team_config()
    case = open_case(team.engine, team.ids[0], "sam", config.responder, NOW)
    add_note(team.engine, case.id, "@dana @rick first", "sam", NOW)
    add_note(team.engine, case.id, "@dana second", "sam", NOW)
    fan_out(team.engine, config, LATER)
    first, second = sorted(n.id for n in store.for_recipient(team.engine, "dana"))
    rick = store.for_recipient(team.engine, "rick")[0].id
    assert store.unread_count(team.engine, "dana") == 2
    assert store.mark_read(team.engine, "dana", [first, rick], LATER) == 1  # rick's is not hers to mark
    assert store.unread_count(team.engine, "dana") == 1 and store.unread_count(team.engine, "rick") == 1
    assert [n.id for n in store.for_recipient(team.engine, "dana", unread_only=True)] == [second]
    assert store.mark_read(team.engine, "dana", None, LATER) == 1
    assert store.unread_count(team.engine, "dana") == 0


def test_the_scheduler_runs_the_notify_job_every_minute_when_there_are_users(team: TeamStore) -> None:
    def job_ids(config: Config) -> dict[str, float]:
        scheduler = build_scheduler(config, team.engine, Jobs(config, team.engine, ModelHolder(lambda: None)))
        scheduler.start(paused=True)
        jobs = {job.id: job.trigger for job in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
        return {name: t.interval.total_seconds() for name, t in jobs.items() if hasattr(t, "interval")}

    assert job_ids(team_config())["notify-team"] == 60
    assert "notify-team" not in job_ids(team_config(users=[]))  # local use: nobody to tell
