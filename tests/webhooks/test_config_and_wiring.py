"""`[[webhooks.endpoints]]` read and checked (the secret only ever from the variable the file names, and
never shown), the scheduled job, and the endpoints in `grumble status`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from monitor.cli import main
from monitor.config.webhooks import signing_key
from monitor.errors import ConfigError
from monitor.jobs import Jobs
from monitor.mention import utcnow
from monitor.scheduler import build_scheduler
from monitor.store import webhook_deliveries as store
from monitor.webhooks.delivery import WebhookDelivery
from tests.support.http_replay import ReplayServer
from tests.webhooks.receiver import Receiver, new_secret
from tests.webhooks.support import endpoint, negative_mention, webhook_config

SECRET, OLD = new_secret(5), new_secret(6)


def test_an_endpoint_reads_its_secrets_from_the_variables_it_names() -> None:
    config = webhook_config(
        "sqlite://",
        [endpoint("https://hooks.example/in?token=t0p", ["case.opened"], previous_secret_env="OLD")],
        {"HOOK_SECRET": SECRET, "OLD": OLD},
    )
    [hook] = config.webhooks.endpoints
    assert hook.keys == (signing_key(SECRET), signing_key(OLD)) and hook.events == ("case.opened",)
    assert hook.host == "hooks.example" and "t0p" not in repr(hook) and SECRET not in repr(config)
    assert config.webhooks.enabled and config.webhooks.every_minutes == 1.0


@pytest.mark.parametrize(
    ("options", "environ", "message"),  # environ None: the secret is set
    [
        ({}, {}, "webhooks.endpoints[0].secret_env: the variable HOOK_SECRET is not set"),
        (
            {},
            {"HOOK_SECRET": "whsec_c2hvcnQ="},
            "HOOK_SECRET does not hold a usable secret: the secret is 5 bytes",
        ),
        ({"secret_env": ""}, {}, "expected the name of the environment variable"),
        ({"secret": "whsec_abc"}, None, "unknown key 'webhooks.endpoints[0].secret'"),
        ({"events": ["mention.created"]}, None, "event types from: mention.negative, mention.updated"),
        ({"events": []}, None, "a list of the event types to send"),
        ({"url": "ftp://hooks.example"}, None, "expected an http:// or https:// URL"),
    ],
)
def test_a_bad_endpoint_says_what_to_fix(
    options: dict[str, object], environ: dict[str, str], message: str
) -> None:
    table = {**endpoint("https://hooks.example/in"), **options}
    with pytest.raises(ConfigError, match="configuration: ") as raised:
        webhook_config("sqlite://", [table], {"HOOK_SECRET": SECRET} if environ is None else environ)
    assert message in str(raised.value)
    assert "c2hvcnQ" not in str(raised.value) and SECRET not in str(raised.value)
    if "not set" in message or "usable" in message:
        assert "whsec_" in str(raised.value) and "os.urandom(32)" in str(raised.value)  # how to make one


def test_two_endpoints_of_one_name_are_refused() -> None:
    hooks = [endpoint("https://a.example/"), endpoint("https://b.example/")]
    with pytest.raises(ConfigError, match="a name no other endpoint has"):
        webhook_config("sqlite://", hooks, {"HOOK_SECRET": SECRET})


def test_the_scheduler_runs_the_webhook_job_only_with_endpoints(sqlite_engine: Engine) -> None:
    url = str(sqlite_engine.url)
    with_hooks = webhook_config(
        url, [endpoint("https://hooks.example/")], {"HOOK_SECRET": SECRET}, every_minutes=2
    )
    without = webhook_config(url, [], {})
    assert "webhooks" in {job.id for job in build_scheduler(with_hooks, sqlite_engine).get_jobs()}
    assert "webhooks" not in {job.id for job in build_scheduler(without, sqlite_engine).get_jobs()}


def test_the_job_delivers_and_grumble_status_shows_the_endpoint_and_its_log(
    sqlite_engine: Engine,
    replay_server: ReplayServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = Receiver(replay_server, SECRET)
    config = webhook_config(str(sqlite_engine.url), [endpoint(receiver.url)], {"HOOK_SECRET": SECRET})
    jobs = Jobs.for_config(config, sqlite_engine)
    jobs.deliver_webhooks()
    negative_mention(sqlite_engine, 1, utcnow())
    jobs.deliver_webhooks()
    assert len(receiver.events) == 1
    store.disable(
        sqlite_engine, "helpdesk", utcnow(), "failing since 2026-11-01 08:00 UTC; last error: HTTP 502"
    )

    file = tmp_path / "grumble.toml"
    file.write_text(
        f'database_url = "{sqlite_engine.url}"\n'
        f'[[webhooks.endpoints]]\nname = "helpdesk"\nurl = "{receiver.url}?token=t0p"\n'
        'events = ["mention.negative"]\nsecret_env = "HOOK_SECRET"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    assert main(["-c", str(file), "status"]) == 0
    out = capsys.readouterr().out
    assert f"webhook helpdesk -> {receiver.url.split('/')[2]}  [DISABLED]" in out
    assert "last error: HTTP 502" in out and "Enable it again" in out
    assert f"mention.negative  {receiver.ids()[0]}  delivered (HTTP 204" in out
    assert "t0p" not in out and SECRET not in out


def test_a_redirect_is_a_failure_not_followed(sqlite_engine: Engine, replay_server: ReplayServer) -> None:
    from tests.support.http_replay import Reply

    replay_server.route(
        "POST", "/moved", Reply(status=308, headers={"Location": "https://elsewhere.example/"})
    )
    config = webhook_config(
        str(sqlite_engine.url), [endpoint(replay_server.url + "/moved")], {"HOOK_SECRET": SECRET}
    )
    with httpx.Client(follow_redirects=False) as http:
        delivery = WebhookDelivery(config, sqlite_engine, http=http)
        delivery.run()
        negative_mention(sqlite_engine, 1, utcnow())
        assert delivery.run().failed == 1
    [attempt] = store.attempt_log(sqlite_engine, "helpdesk")
    assert attempt.status_code == 308 and (attempt.error or "").startswith("HTTP 308")
