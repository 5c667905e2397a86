"""The [smtp], [[digests]] and [alerts] config sections, the scheduler's digest and alert jobs, the
`grumble digest` and `grumble alerts` commands, and migration 0003 matching the schema."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.cli import main
from monitor.config import Config, load_config, parse_config
from monitor.errors import ConfigError
from monitor.jobs import Jobs, ModelHolder
from monitor.mention import utcnow
from monitor.scheduler import build_scheduler
from monitor.store import digests as digest_store
from tests.alerts.conftest import PASSWORD, USER, Spec, StartServer, add_mentions, free_port


def no_model() -> Any:
    raise AssertionError("digests and alerts never need the sentiment model")


def config_of(**data: Any) -> Config:
    return parse_config({"watches": [{"name": "acme"}], **data}, None, {})


def test_sections_parse_with_defaults_and_secrets_from_the_environment() -> None:
    config = parse_config(
        {
            "watches": [{"name": "acme"}],
            "smtp": {"host": "mail.example.com", "security": "tls", "username": "bot", "password": "file"},
            "digests": [{"name": "ops", "recipients": "ops@example.com", "every": "weekly", "at": "7:30"}],
            "alerts": {"recipients": ["oncall@example.com"]},
        },
        None,
        {
            "GRUMBLE_SMTP_PASSWORD": "from-env",
            "GRUMBLE_SMTP_PORT": "2465",
            "GRUMBLE_ALERTS_WEBHOOK_URL": "https://hooks.example/T0/B0/x",
        },
    )
    assert config.smtp.password == "from-env" and config.smtp.port == 2465
    assert "from-env" not in repr(config.smtp)
    [digest] = config.digests
    assert digest.recipients == ("ops@example.com",) and digest.at == dt.time(7, 30)
    assert digest.weekday == "monday" and digest.timezone == "UTC" and not digest.send_when_quiet
    assert digest.period == dt.timedelta(days=7)
    assert config.alerts.webhook_url == "https://hooks.example/T0/B0/x" and config.alerts.enabled
    assert parse_config({"smtp": {"security": "tls"}}, None, {}).smtp.port == 465


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"smtp": {"security": "ssl"}},
            "smtp.security: expected one of starttls, tls, none, found str 'ssl'",
        ),
        (
            {"digests": [{"name": "x", "recipients": []}]},
            "digests[0].recipients: expected at least one email",
        ),
        (
            {"digests": [{"name": "x", "recipients": ["a@b.c\nBcc: all@x.y"]}]},
            "digests[0].recipients: expected email addresses",
        ),
        (
            {"digests": [{"name": "x", "recipients": ["a@b.c"], "timezone": "Mars/Olympus"}]},
            "digests[0].timezone: expected an IANA time zone",
        ),
        (
            {"digests": [{"name": "x", "recipients": ["a@b.c"], "every": "monthly"}]},
            "digests[0].every: expected one of hourly, daily, weekly",
        ),
        (
            {"digests": [{"name": "x", "recipients": ["a@b.c"], "at": "25:00"}]},
            'expected a time of day like "08:00"',
        ),
        (
            {"digests": [{"name": "x", "recipients": ["a@b.c"], "watches": ["acmee"]}]},
            "digests[0].watches: expected names of configured watches (acme), found str 'acmee'",
        ),
        (
            {"digests": [{"name": "x", "recipients": ["a@b.c"], "max_mentions": 0}]},
            "digests[0].max_mentions: expected a whole number of at least 1, found int 0",
        ),
        ({"alerts": {"spike_sigma": "high"}}, "alerts.spike_sigma: expected a number"),
        ({"alerts": {"webhook_url": "hooks.slack.com/x"}}, "alerts.webhook_url: expected an http(s) URL"),
    ],
)
def test_bad_settings_name_the_key_expected_and_found(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as failure:
        config_of(**data)
    assert message in str(failure.value)


def test_a_bad_number_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="environment variable GRUMBLE_SMTP_PORT: expected a whole number"):
        parse_config({}, None, {"GRUMBLE_SMTP_PORT": "smtp"})


def test_the_commented_examples_in_the_starter_config_are_valid(tmp_path: Path) -> None:
    path = tmp_path / "grumble.toml"
    assert main(["init", str(path)]) == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [smtp]")
    # Settings are "# key = value" and "# [table]"; prose comments stay comments.
    uncommented = [re.sub(r"^# (?=\[|\w+ = )", "", line) for line in lines[start:]]
    path.write_text("\n".join(lines[:start] + uncommented) + "\n", encoding="utf-8")
    # A secret is never in the file, only the name of its variable: give every named variable a value.
    named = re.findall(r'^\w+_env = "(\w+)"', "\n".join(uncommented), flags=re.MULTILINE)
    config = load_config(path, environ={name: "placeholder-secret" for name in named})
    assert config.smtp.host == "mail.example.com"
    assert [d.name for d in config.digests] == ["support"]
    assert config.alerts.recipients == ("oncall@example.com",)


def test_scheduler_adds_a_digest_job_per_list_in_its_time_zone_plus_retry_and_alerts(
    sqlite_engine: Engine,
) -> None:
    config = config_of(
        digests=[
            {"name": "daily", "recipients": ["a@b.c"], "at": "08:00", "timezone": "Europe/Berlin"},
            {
                "name": "weekly",
                "recipients": ["a@b.c"],
                "every": "weekly",
                "weekday": "friday",
                "at": "17:30",
            },
            {"name": "hourly", "recipients": ["a@b.c"], "every": "hourly", "at": "00:15"},
        ],
        alerts={"recipients": ["a@b.c"], "check_every_minutes": 2},
    )
    scheduler = build_scheduler(config, sqlite_engine, Jobs(config, sqlite_engine, ModelHolder(no_model)))
    scheduler.start(paused=True)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert {"digest:daily", "digest:weekly", "digest:hourly", "digest-retry", "alerts"} <= set(jobs)
    # After the switch to winter time 08:00 in Berlin is 07:00 UTC; before it, 06:00 UTC.
    daily = jobs["digest:daily"].trigger
    before = dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    assert daily.get_next_fire_time(None, before).astimezone(dt.UTC).hour == 6
    assert daily.get_next_fire_time(None, after).astimezone(dt.UTC).hour == 7
    weekly = jobs["digest:weekly"].trigger.get_next_fire_time(None, after)
    assert (weekly.strftime("%A"), weekly.hour, weekly.minute) == ("Friday", 17, 30)
    hourly = jobs["digest:hourly"].trigger.get_next_fire_time(None, after)
    assert hourly.minute == 15 and hourly - after < dt.timedelta(hours=1)
    assert jobs["alerts"].trigger.interval.total_seconds() == 120
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())


def test_no_digest_or_alert_jobs_without_those_sections(sqlite_engine: Engine) -> None:
    config = config_of()
    scheduler = build_scheduler(config, sqlite_engine, Jobs(config, sqlite_engine, ModelHolder(no_model)))
    scheduler.start(paused=True)
    ids = {job.id for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert not any(i.startswith("digest") or i == "alerts" for i in ids)


def test_delivery_failures_are_logged_outcomes_and_other_errors_raise(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_of(
        smtp={"host": "127.0.0.1", "port": free_port(), "security": "none", "max_attempts": 1},
        digests=[{"name": "ops", "recipients": ["a@b.c"]}],
        alerts={"recipients": ["a@b.c"]},
    )
    add_mentions(sqlite_engine, [Spec(1, negative=0.97, author_reach=3_000_000)], now=utcnow())
    jobs = Jobs(config, sqlite_engine, ModelHolder(no_model))
    with caplog.at_level(logging.INFO):
        # A mail server that is down is what digests and alerts expect: kept, logged, retried.
        jobs.digest("ops")
        jobs.retry_digests()
        jobs.check_alerts()
        # Anything else is the job failing: it raises, for the scheduler's listener to log.
        with pytest.raises(ConfigError, match="no digest list named 'no-such-list'"):
            jobs.digest("no-such-list")
    assert "NOT SENT, kept and retried" in caplog.text and "cannot reach SMTP server" in caplog.text
    assert "alert: Loud unhappy customer" in caplog.text
    undelivered = r"alert <grumble\.alert\.\d+\.\w+@[^>]+> not delivered, will retry: cannot reach"
    assert re.search(undelivered, caplog.text)
    [run] = digest_store.unsent_runs(sqlite_engine)
    assert run.mention_count == 1


def write_config(tmp_path: Path, port: int, **smtp: Any) -> Path:
    table = {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "g@example.com", **smtp}
    smtp_lines = "\n".join(f"{key} = {value!r}".replace("'", '"') for key, value in table.items())
    path = tmp_path / "grumble.toml"
    path.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "g.db"}"
[[watches]]
name = "acme"
[smtp]
{smtp_lines}
[[digests]]
name = "ops"
recipients = ["ops@example.com"]
every = "hourly"
[alerts]
recipients = ["oncall@example.com"]
""",
        encoding="utf-8",
    )
    return path


def test_digest_dry_run_prints_and_sends_nothing_then_send_sends(
    tmp_path: Path, smtp_server: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.store.engine import connect

    server = smtp_server()
    path = write_config(tmp_path, server.port)
    engine = connect(f"sqlite:///{tmp_path / 'g.db'}")
    ids = add_mentions(engine, [Spec(1, text="the app ate my order")], now=utcnow())
    assert main(["-c", str(path), "digest", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "=== digest 'ops' to ops@example.com" in out
    assert "Subject: Grumble hourly digest (ops): 1 new negative mention" in out
    assert "the app ate my order" in out
    assert server.messages == [] and digest_store.runs(engine) == []
    assert main(["-c", str(path), "digest", "--send", "--list", "ops"]) == 0
    assert "sent as <grumble.digest.1." in capsys.readouterr().out
    [message] = server.messages
    assert f"/mention?id={ids[0]}" in message.get_body(preferencelist=("plain",)).get_content()
    assert main(["-c", str(path), "digest", "--list", "nope"]) == 2
    assert "no digest list named 'nope'; configured [[digests]]: ops" in capsys.readouterr().err
    engine.dispose()


def test_digest_dry_run_works_on_the_starter_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.store.engine import connect

    path = tmp_path / "grumble.toml"
    url = f"sqlite:///{tmp_path / 'g.db'}"
    assert main(["init", str(path)]) == 0
    add_mentions(connect(url), [Spec(1, text="the app ate my order")], now=utcnow())
    capsys.readouterr()
    assert main(["-c", str(path), "--database", url, "digest", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "no [[digests]] lists yet; this is what a daily digest of every watch would hold now" in out
    assert "Subject: Grumble daily digest (example): 1 new negative mention" in out
    assert "the app ate my order" in out and "RECIPIENT-UNSUBSCRIBE-LINK" not in out
    # Sending needs a real list, and says so.
    assert main(["-c", str(path), "--database", url, "digest", "--send"]) == 2
    assert "no [[digests]] lists; add one" in capsys.readouterr().err


def test_send_errors_are_one_clear_line(
    tmp_path: Path, smtp_server: StartServer, capsys: pytest.CaptureFixture[str], tls_files: Any
) -> None:
    server = smtp_server("starttls", login=True)
    path = write_config(
        tmp_path, server.port, security="starttls", username="x", password="wrong", ca_file=str(tls_files.ca)
    )
    from monitor.store.engine import connect

    engine = connect(f"sqlite:///{tmp_path / 'g.db'}")
    add_mentions(engine, [Spec(1)], now=utcnow())
    assert main(["-c", str(path), "digest", "--send"]) == 1
    err = capsys.readouterr().err
    refused = f"SMTP login refused by 127.0.0.1:{server.port} for user x: "
    assert refused + "set GRUMBLE_SMTP_PASSWORD or [smtp] password" in err
    assert "NOT SENT, kept and retried" in err
    # The right password from the environment, and the kept digest goes out.
    monkey = pytest.MonkeyPatch()
    monkey.setenv("GRUMBLE_SMTP_USERNAME", USER)
    monkey.setenv("GRUMBLE_SMTP_PASSWORD", PASSWORD)
    try:
        assert main(["-c", str(path), "digest", "--send"]) == 0
    finally:
        monkey.undo()
    assert len(server.messages) == 1

    down = write_config(tmp_path, free_port())
    assert main(["-c", str(down), "alerts", "--check"]) == 0  # nothing to alert: nothing sent
    add_mentions(engine, [Spec(2, negative=0.97, author_reach=5_000_000)], now=utcnow())
    assert main(["-c", str(down), "alerts", "--check", "--dry-run"]) == 0
    assert "would alert: Loud unhappy customer" in capsys.readouterr().out
    assert main(["-c", str(down), "alerts", "--check"]) == 1
    err = capsys.readouterr().err
    assert "not delivered, kept for retry: cannot reach SMTP server 127.0.0.1:" in err
    engine.dispose()


@pytest.mark.both_databases
def test_migration_0003_creates_what_the_schema_declares(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.store.schema import metadata

    ours = {"digest_runs", "digest_items", "alert_events"}
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    mine = [d for d in differences if any(table in repr(d) for table in ours)]
    assert mine == []
