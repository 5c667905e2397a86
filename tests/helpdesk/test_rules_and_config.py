"""`[helpdesk.*]` and `[[helpdesk.rules]]`: read with clear messages for bad keys and missing secrets;
the scheduled job hands over what a rule matches, once, and retries what did not go through after
its backoff; the bulk action hands a selection over one by one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from monitor.config import Config
from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.helpdesk.registry import Helpdesks
from monitor.helpdesk.rules import apply_helpdesk_rules, retry_handoffs, send_many
from monitor.jobs import Jobs, ModelHolder
from monitor.mention import utcnow
from monitor.scheduler import build_scheduler
from monitor.store.helpdesk_links import links_for_mention
from tests.helpdesk.conftest import RESPONDER, Store
from tests.helpdesk.fakes import TOKEN, FakeChatwoot
from tests.support.http_replay import ReplayServer

WATCHES = [{"name": "acme", "keywords": ["acme"], "sources": {"demo": {}}}]


def _config(url: str, **rule: Any) -> Config:
    data = {
        "watches": WATCHES,
        "helpdesk": {
            "chatwoot": {
                "base_url": url,
                "account_id": FakeChatwoot.ACCOUNT,
                "inbox_id": FakeChatwoot.INBOX,
                "token_env": "CHATWOOT_API_TOKEN",
                "timeout_s": 0.2,
            },
            "rules": [rule] if rule else [],
        },
    }
    return parse_config(data, None, {"CHATWOOT_API_TOKEN": TOKEN})


def test_the_job_hands_over_what_a_rule_matches_once(store: Store, replay_server: ReplayServer) -> None:
    fake = FakeChatwoot(replay_server)
    config = _config(replay_server.url, source="appstore", verdict="negative", min_priority=3)
    jobs = Jobs(config, store.engine, ModelHolder(lambda: pytest.fail("no model needed")))
    assert "helpdesk" in {job.id for job in build_scheduler(config, store.engine, jobs).get_jobs()}

    jobs.send_to_helpdesks()
    (link,) = links_for_mention(store.engine, store.ids["appstore"])
    assert link.sent and link.requested_by == "helpdesk rules"
    # Below the priority bar, or not negative: not sent.
    assert links_for_mention(store.engine, store.ids["reddit"]) == []
    assert links_for_mention(store.engine, store.ids["mastodon"]) == []
    requests = len(replay_server.requests)
    jobs.send_to_helpdesks()
    assert len(replay_server.requests) == requests and len(fake.created) == 1


def test_a_rule_by_watch_and_priority_with_any_verdict(store: Store, replay_server: ReplayServer) -> None:
    FakeChatwoot(replay_server)
    below = _config(replay_server.url, source="reddit", min_priority=2)  # Reddit's complaint is at 1.5
    assert apply_helpdesk_rules(store.engine, below.helpdesk, Helpdesks(below.helpdesk), RESPONDER) == []
    config = _config(replay_server.url, watch="acme", verdict="any", min_priority=1)
    made = apply_helpdesk_rules(store.engine, config.helpdesk, Helpdesks(config.helpdesk), RESPONDER)
    # Priorities 4 and 1.5 are over the bar whatever their verdict; the happy toot at 0.5 is not.
    assert sorted(link.mention_id for link in made) == sorted([store.ids["appstore"], store.ids["reddit"]])
    happy = _config(replay_server.url, watch="acme", verdict="positive")
    (link,) = apply_helpdesk_rules(store.engine, happy.helpdesk, Helpdesks(happy.helpdesk), RESPONDER)
    assert link.mention_id == store.ids["mastodon"]


def test_a_hand_off_that_did_not_go_through_is_retried_after_its_backoff(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeChatwoot(replay_server)
    config = _config(replay_server.url)
    helpdesks = Helpdesks(config.helpdesk)
    now = utcnow()
    fake.late_creates = 1
    (lost,) = send_many(store.engine, [store.ids["reddit"]], "chatwoot", helpdesks, "rick", RESPONDER, now)
    assert lost.link is not None and lost.link.state == "unconfirmed"
    assert lost.link.next_attempt_at is not None
    assert retry_handoffs(store.engine, helpdesks, RESPONDER, now) == []  # still backing off
    (retried,) = retry_handoffs(store.engine, helpdesks, RESPONDER, now + timedelta(hours=1))
    assert retried.sent and retried.attempts == 2 and len(fake.created) == 1


def test_the_bulk_action_reports_each_mention(store: Store, replay_server: ReplayServer) -> None:
    FakeChatwoot(replay_server)
    helpdesks = Helpdesks(_config(replay_server.url).helpdesk)
    outcomes = send_many(store.engine, [store.ids["appstore"], 999], "chatwoot", helpdesks, "rick", RESPONDER)
    assert outcomes[0].link is not None and outcomes[0].link.sent
    assert outcomes[1].link is None and "no mention with id 999" in outcomes[1].describe()
    with pytest.raises(ConfigError, match=r"no \[helpdesk.zammad\] is configured \(configured: chatwoot\)"):
        helpdesks.get("zammad")


BASE = {"base_url": "https://help.example", "token_env": "T"}


@pytest.mark.parametrize(
    ("helpdesk", "environ", "message"),
    [
        (
            {"chatwoot": {**BASE, "inbox_id": 7}},
            {"T": "x"},
            "helpdesk.chatwoot.account_id: expected the Chatwoot",
        ),
        ({"chatwoot": {**BASE, "account_id": 1, "inbox_id": 7}}, {}, "names T, which is not set; export T"),
        (
            {"zammad": {**BASE, "token_env": "sk-live token", "group": "g", "customer": "a@b.example"}},
            {},
            "not the secret itself",
        ),
        ({"zammad": {**BASE, "group": "g", "customer": "nobody"}}, {"T": "x"}, "helpdesk.zammad.customer"),
        (
            {"freescout": {**BASE, "mailbox_id": 1, "customer_email": "a@b.example", "mailbox": 2}},
            {"T": "x"},
            "unknown key 'helpdesk.freescout.mailbox'",
        ),
        ({"zendesk": {}}, {}, "unknown key 'helpdesk.zendesk'; known keys here: chatwoot"),
        (
            {"rules": [{"source": "appstore"}]},
            {},
            "helpdesk.rules[0].helpdesk: expected one of the configured",
        ),
        (
            {
                "freescout": {**BASE, "mailbox_id": 1, "customer_email": "a@b.example"},
                "rules": [{"verdict": "angry"}],
            },
            {"T": "x"},
            "helpdesk.rules[0].verdict: expected one of negative, neutral, positive, any",
        ),
    ],
)
def test_a_bad_helpdesk_setting_says_what_to_fix(
    helpdesk: dict[str, Any], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"watches": WATCHES, "helpdesk": helpdesk}, None, environ)
    assert message in str(error.value)
    assert "sk-live" not in str(error.value)


def test_secrets_are_never_shown() -> None:
    config = parse_config(
        {"helpdesk": {"zammad": {**BASE, "group": "g", "customer": "7", "webhook_secret_env": "W"}}},
        None,
        {"T": "the-token-value", "W": "the-webhook-secret"},
    )
    account = config.helpdesk.accounts["zammad"]
    assert account.token == "the-token-value" and account.webhook_secret == "the-webhook-secret"
    assert "the-token-value" not in repr(config) and "the-webhook-secret" not in repr(config)


def test_the_readmes_example_reads() -> None:
    import re
    import tomllib

    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Helpdesk hand-off") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    variables = re.findall(r'_env = "(\w+)"', block.group(1))
    config = parse_config(tomllib.loads(block.group(1)), None, dict.fromkeys(variables, "x"))
    assert config.helpdesk.names == ("chatwoot", "zammad", "freescout")
    assert config.helpdesk.rules[0].min_priority == 3
