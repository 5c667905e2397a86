"""`[helpdesk.chatwoot]`, `[helpdesk.zammad]`, `[helpdesk.freescout]` and `[[helpdesk.rules]]`: where a
case is handed to the care team's helpdesk (monitor/helpdesk/), and which mentions go by themselves.

Secrets never sit in the file: `token_env` and `webhook_secret_env` name the environment variables
that hold the API token and the webhook signing secret, and a named variable that is not set is an
error at start, not at the first hand-off.

    [helpdesk.chatwoot]
    base_url = "https://chat.example.com"
    account_id = 1
    inbox_id = 7                         # an API-channel inbox
    token_env = "CHATWOOT_API_TOKEN"
    webhook_secret_env = "CHATWOOT_WEBHOOK_SECRET"

    [[helpdesk.rules]]
    helpdesk = "chatwoot"                # may be left out when one helpdesk is configured
    source = "app_store"
    verdict = "negative"
    min_priority = 3
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from models.labels import LABELS
from monitor.config.sources import check_source_name
from monitor.config.tables import TableReader
from monitor.config.watches import check_watch
from monitor.errors import ConfigError
from monitor.mention import Watch

HELPDESKS = ("chatwoot", "zammad", "freescout")
COMMON_KEYS = {"base_url", "token_env", "webhook_secret_env", "timeout_s"}
# Each helpdesk's own keys, and those it cannot do without.
OWN_KEYS = {
    "chatwoot": {"account_id", "inbox_id"},
    "zammad": {"group", "customer"},
    "freescout": {"mailbox_id", "customer_email"},
}
REQUIRED = {
    "chatwoot": ("account_id", "inbox_id"),
    "zammad": ("group", "customer"),
    "freescout": ("mailbox_id", "customer_email"),
}
RULE_KEYS = {"helpdesk", "source", "watch", "verdict", "min_priority"}
HELPDESK_KEYS = {*HELPDESKS, "rules", "every_minutes"}
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s<>,]+@[^@\s<>,]+$")


@dataclass(frozen=True)
class HelpdeskAccount:
    """One configured helpdesk: where it is, who we are there, and where new conversations go."""

    name: str  # one of HELPDESKS
    base_url: str
    token: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)  # None: its webhooks are refused
    timeout_s: float = 20.0
    account_id: int | None = None  # Chatwoot
    inbox_id: int | None = None  # Chatwoot: an API-channel inbox
    group: str | None = None  # Zammad: the group new tickets go to
    # Zammad: the customer of new tickets, an e-mail address (sent as "guess:<email>", which Zammad
    # finds or creates) or a user id; public posts carry no address of their own.
    customer: str | None = None
    mailbox_id: int | None = None  # FreeScout
    customer_email: str | None = None  # FreeScout: the placeholder customer of new conversations


@dataclass(frozen=True)
class HelpdeskRule:
    """One `[[helpdesk.rules]]`: a scored, open mention that matches every key given goes to `helpdesk`
    (the match is a query: store/helpdesk_links.py rule_matches)."""

    helpdesk: str
    source: str | None = None
    watch: str | None = None
    verdict: str | None = "negative"  # None: any verdict
    min_priority: float = 0.0


@dataclass(frozen=True)
class HelpdeskSettings:
    accounts: Mapping[str, HelpdeskAccount] = field(default_factory=dict)
    rules: tuple[HelpdeskRule, ...] = ()
    # How often the scheduler applies the rules and retries hand-offs that did not go through.
    every_minutes: float = 5.0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.accounts)


def parse_helpdesk(
    root: TableReader, environ: Mapping[str, str], watches: tuple[Watch, ...]
) -> HelpdeskSettings:
    reader = root.sub("helpdesk")
    reader.reject_unknown(HELPDESK_KEYS)
    accounts = {
        name: _parse_account(reader.sub(name), name, environ) for name in HELPDESKS if name in reader.table
    }
    return HelpdeskSettings(
        accounts=accounts,
        rules=_parse_rules(reader, tuple(accounts), watches),
        every_minutes=reader.number("every_minutes", 5.0, minimum=0.1),
    )


def _parse_account(reader: TableReader, name: str, environ: Mapping[str, str]) -> HelpdeskAccount:
    reader.reject_unknown(COMMON_KEYS | OWN_KEYS[name])
    for key in REQUIRED[name]:
        if reader.table.get(key) is None:
            raise reader.fail(key, _EXPECTED[key], None)
    base_url = reader.text("base_url")
    if base_url is None or not base_url.startswith(("https://", "http://")):
        raise reader.fail(
            "base_url", f"the http(s) address of your {name} (e.g. https://help.example.com)", base_url
        )
    token = _secret(reader, "token_env", environ, required=True)
    assert token is not None
    customer = reader.text("customer")
    if customer is not None and not (_EMAIL.match(customer) or customer.isdigit()):
        raise reader.fail("customer", _EXPECTED["customer"], customer)
    customer_email = reader.text("customer_email")
    if customer_email is not None and not _EMAIL.match(customer_email):
        raise reader.fail("customer_email", _EXPECTED["customer_email"], customer_email)
    return HelpdeskAccount(
        name=name,
        base_url=base_url.rstrip("/"),
        token=token,
        webhook_secret=_secret(reader, "webhook_secret_env", environ, required=False),
        timeout_s=reader.number("timeout_s", 20.0, minimum=0.01),
        account_id=_optional_id(reader, "account_id"),
        inbox_id=_optional_id(reader, "inbox_id"),
        group=reader.text("group"),
        customer=customer,
        mailbox_id=_optional_id(reader, "mailbox_id"),
        customer_email=customer_email,
    )


_EXPECTED = {
    "account_id": "the Chatwoot account's number (in its URLs: /app/accounts/<number>/...)",
    "inbox_id": "the number of a Chatwoot API-channel inbox (Settings > Inboxes)",
    "group": 'the name of the Zammad group new tickets go to (e.g. "Users")',
    "customer": 'an e-mail address for the placeholder customer (sent as "guess:<email>"), or a user id',
    "mailbox_id": "the number of the FreeScout mailbox new conversations go to",
    "customer_email": "an e-mail address for the placeholder customer of new conversations",
}


def _optional_id(reader: TableReader, key: str) -> int | None:
    return reader.integer(key, 0, minimum=1) if reader.table.get(key) is not None else None


def _secret(reader: TableReader, key: str, environ: Mapping[str, str], *, required: bool) -> str | None:
    """The value of the variable the file names under `key`; never the value in a message."""
    name = reader.text(key)
    if name is None:
        if required:
            raise reader.fail(key, "the name of the environment variable that holds the API token", None)
        return None
    if not _VARIABLE.match(name):
        raise ConfigError(
            f"{reader.location(key)}: expected the name of an environment variable (letters, digits and _) "
            "that holds the secret, not the secret itself"
        )
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"{reader.location(key)}: names {name}, which is not set; export {name} (or change {key})"
        )
    return value


def _parse_rules(
    reader: TableReader, configured: tuple[str, ...], watches: tuple[Watch, ...]
) -> tuple[HelpdeskRule, ...]:
    rules: list[HelpdeskRule] = []
    for rule in reader.tables("rules"):
        rule.reject_unknown(RULE_KEYS)
        helpdesk = rule.text("helpdesk")
        if helpdesk is None:
            if len(configured) != 1:
                raise rule.fail("helpdesk", f"one of the configured helpdesks ({_listed(configured)})", None)
            helpdesk = configured[0]
        if helpdesk not in configured:
            raise rule.fail("helpdesk", f"one of the configured helpdesks ({_listed(configured)})", helpdesk)
        source = rule.string("source")
        if source is not None:
            check_source_name(rule.where, f"{rule.key_path}.source", source)
        watch = rule.string("watch")
        if watch is not None:
            check_watch(rule, "watch", watch, watches, "the name of a configured watch")
        verdict = (rule.string("verdict", "negative") or "negative").lower()
        if verdict not in (*LABELS, "any"):
            raise rule.fail("verdict", f"one of {', '.join((*LABELS, 'any'))}", verdict)
        rules.append(
            HelpdeskRule(
                helpdesk=helpdesk,
                source=source,
                watch=watch,
                verdict=None if verdict == "any" else verdict,
                min_priority=rule.number("min_priority", 0.0),
            )
        )
    return tuple(rules)


def _listed(names: tuple[str, ...]) -> str:
    return (
        ", ".join(names)
        if names
        else "none: add a [helpdesk.chatwoot], [helpdesk.zammad] or [helpdesk.freescout]"
    )
