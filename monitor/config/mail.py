"""`[smtp]`, `[[digests]]` and `[alerts]`: how mail leaves, who gets which digest when, what alerts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from email.utils import parseaddr

from monitor.config.settings import (
    DIGEST_FREQUENCIES,
    SMTP_SECURITY,
    WEEKDAYS,
    AlertSettings,
    DigestList,
    SmtpSettings,
)
from monitor.config.tables import MAX_PORT, TableReader
from monitor.config.watches import check_watch
from monitor.mention import Watch

SMTP_KEYS = {
    "host",
    "port",
    "security",
    "username",
    "password",
    "from_address",
    "timeout_s",
    "max_attempts",
    "ca_file",
}
DIGEST_KEYS = {
    "name",
    "recipients",
    "watches",
    "every",
    "at",
    "weekday",
    "timezone",
    "min_priority",
    "send_when_quiet",
    "max_mentions",
    "include_comparison",
    "include_competitors",
}
ALERT_KEYS = {
    "recipients",
    "webhook_url",
    "spike_window_minutes",
    "spike_baseline_days",
    "spike_min_count",
    "spike_sigma",
    "loud_priority",
    "source_failing_minutes",
    "check_every_minutes",
}
# The alert keys the environment may set: the webhook URL is a secret; the rest belong in the file.
ALERT_ENVIRONMENT_KEYS = {"webhook_url"}
# No whitespace, commas or angle brackets: an address goes into a header, where a newline would let a
# config value write headers of its own.
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")


def _addresses(reader: TableReader, key: str, required: bool) -> tuple[str, ...]:
    addresses = reader.words(key)
    if required and not addresses:
        raise reader.fail(key, "at least one email address", reader.table.get(key, []))
    for address in addresses:
        if not _ADDRESS.fullmatch(address):
            raise reader.fail(key, "email addresses like ops@example.com", address)
    return addresses


def parse_smtp(root: TableReader, environ: Mapping[str, str]) -> SmtpSettings:
    reader = root.sub("smtp").with_environment(environ, "smtp", SMTP_KEYS)
    reader.reject_unknown(SMTP_KEYS)
    security = (reader.string("security", "starttls") or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise reader.fail("security", f"one of {', '.join(SMTP_SECURITY)}", security)
    from_address = reader.string("from_address", "grumble@localhost") or "grumble@localhost"
    if not _ADDRESS.fullmatch(parseaddr(from_address)[1]) or "\n" in from_address:
        raise reader.fail("from_address", "an address like grumble@example.com", from_address)
    default_port = {"tls": 465, "none": 25}.get(security, 587)
    return SmtpSettings(
        host=reader.string("host") or None,
        port=reader.integer("port", default_port, minimum=1, maximum=MAX_PORT),
        security=security,
        username=reader.string("username") or None,
        password=reader.string("password") or None,
        from_address=from_address,
        timeout_s=reader.number("timeout_s", 30.0, minimum=0.1),
        max_attempts=reader.integer("max_attempts", 3, minimum=1),
        ca_file=reader.string("ca_file") or None,
    )


def _time_of_day(reader: TableReader, key: str) -> time:
    value = reader.string(key, "08:00") or "08:00"
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise reader.fail(key, 'a time of day like "08:00"', value)
    return time(int(match.group(1)), int(match.group(2)))


def parse_digests(root: TableReader, watches: tuple[Watch, ...]) -> tuple[DigestList, ...]:
    lists: list[DigestList] = []
    for reader in root.tables("digests"):
        reader.reject_unknown(DIGEST_KEYS)
        name = reader.text("name") or ""
        if not name or len(name) > 100:
            raise reader.fail("name", "a name of 1 to 100 characters for this recipient list", name)
        if any(other.name == name for other in lists):
            raise reader.fail("name", "a name no other digest list has", name)
        digest_watches = reader.words("watches")
        for watch_name in digest_watches:
            check_watch(reader, "watches", watch_name, watches, "names of configured watches")
        every = (reader.string("every", "daily") or "daily").lower()
        if every not in DIGEST_FREQUENCIES:
            raise reader.fail("every", f"one of {', '.join(DIGEST_FREQUENCIES)}", every)
        weekday = (reader.string("weekday", "monday") or "monday").lower()
        if weekday not in WEEKDAYS:
            raise reader.fail("weekday", "a day name like monday", weekday)
        timezone = reader.timezone("timezone", "UTC") or "UTC"
        include_comparison = reader.boolean("include_comparison", False)
        covered = [w for w in watches if not digest_watches or w.name in digest_watches]
        if include_comparison and not any(w.competitors for w in covered):
            raise reader.fail(
                "include_comparison",
                "false, or a brand watch with `competitors = [...]` among this list's watches "
                "(add competitors to that watch's [[watches]] entry)",
                include_comparison,
            )
        lists.append(
            DigestList(
                name=name,
                recipients=_addresses(reader, "recipients", required=True),
                watches=digest_watches,
                every=every,
                at=_time_of_day(reader, "at"),
                weekday=weekday,
                timezone=timezone,
                min_priority=reader.number("min_priority", 0.0),
                send_when_quiet=reader.boolean("send_when_quiet", False),
                max_mentions=reader.integer("max_mentions", 50, minimum=1),
                include_comparison=include_comparison,
                include_competitors=reader.boolean("include_competitors", False),
            )
        )
    return tuple(lists)


def parse_alerts(root: TableReader, environ: Mapping[str, str]) -> AlertSettings:
    reader = root.sub("alerts").with_environment(environ, "alerts", ALERT_ENVIRONMENT_KEYS)
    reader.reject_unknown(ALERT_KEYS)
    webhook_url = reader.string("webhook_url") or None
    if webhook_url is not None and not webhook_url.startswith(("https://", "http://")):
        raise reader.fail("webhook_url", "an http(s) URL (a Slack-compatible incoming webhook)", "text")
    return AlertSettings(
        recipients=_addresses(reader, "recipients", required=False),
        webhook_url=webhook_url,
        spike_window_minutes=reader.number("spike_window_minutes", 60.0, minimum=1.0),
        spike_baseline_days=reader.integer("spike_baseline_days", 7, minimum=2),
        spike_min_count=reader.integer("spike_min_count", 10, minimum=1),
        spike_sigma=reader.number("spike_sigma", 4.0, minimum=0.5),
        loud_priority=reader.number("loud_priority", 4.0, minimum=0.01),
        source_failing_minutes=reader.number("source_failing_minutes", 60.0, minimum=1.0),
        check_every_minutes=reader.number("check_every_minutes", 5.0, minimum=0.1),
    )
