"""Load and validate grumble.toml and GRUMBLE_* variables, once, into frozen objects.

Precedence, as in PRAW: keyword arguments, then environment variables, then the file. A bad value is
reported with the file, the key, what was expected and what was found, and nothing starts half-configured.
Secrets can stay out of the file: `GRUMBLE_<SOURCE>_<KEY>` (e.g. GRUMBLE_REDDIT_CLIENT_SECRET) sets
`[sources.<source>] <key>`, and GRUMBLE_DATABASE_URL sets `database_url`; GRUMBLE_SMTP_<KEY> (e.g.
GRUMBLE_SMTP_PASSWORD) sets `[smtp] <key>` and GRUMBLE_ALERTS_WEBHOOK_URL the alert webhook.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.auth.users import ROLES, User, is_password_hash
from monitor.errors import ConfigError
from monitor.mention import Watch
from monitor.sources.base import SourceSettings

DEFAULT_CONFIG_PATH = Path("grumble.toml")
DEFAULT_DATABASE_URL = "sqlite:///grumble.db"
ENV_PREFIX = "GRUMBLE_"


@dataclass(frozen=True)
class Schedule:
    collect_every_minutes: float = 15.0
    score_every_minutes: float = 5.0


@dataclass(frozen=True)
class ModelSettings:
    name: str | None = None  # None: the bundled model
    batch_size: int = 64


@dataclass(frozen=True)
class DashboardSettings:
    host: str = "localhost"
    port: int = 8501
    # Where people reach the dashboard, for links in digests and alerts.
    public_url: str = "http://localhost:8501"


SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class SmtpSettings:
    """How digests and alerts leave: `host` None means mail is not set up."""

    host: str | None = None
    port: int = 587
    security: str = "starttls"  # one of SMTP_SECURITY
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    from_address: str = "grumble@localhost"
    timeout_s: float = 30.0
    max_attempts: int = 3  # tries within one send before the digest waits for the retry job
    ca_file: str | None = None  # a CA bundle to trust besides the system's (a private mail server)


DIGEST_FREQUENCIES = ("hourly", "daily", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DigestList:
    """One `[[digests]]` entry: who gets which watches' negative mentions, and when."""

    name: str
    recipients: tuple[str, ...]
    watches: tuple[str, ...] = ()  # empty: every watch
    every: str = "daily"  # one of DIGEST_FREQUENCIES
    at: time = time(8, 0)  # local time of day (hourly: only the minute counts)
    weekday: str = "monday"  # for weekly digests
    timezone: str = "UTC"
    min_priority: float = 0.0
    send_when_quiet: bool = False
    # The most urgent this many are written out; the rest are counted, with a link to the inbox.
    max_mentions: int = 50

    @property
    def period(self) -> timedelta:
        return {"hourly": timedelta(hours=1), "weekly": timedelta(days=7)}.get(self.every, timedelta(days=1))


@dataclass(frozen=True)
class AlertSettings:
    recipients: tuple[str, ...] = ()
    webhook_url: str | None = field(default=None, repr=False)  # Slack-compatible; the URL is a secret
    spike_window_minutes: float = 60.0
    spike_baseline_days: int = 7
    spike_min_count: int = 10
    spike_sigma: float = 4.0
    loud_priority: float = 4.0
    source_failing_minutes: float = 60.0
    check_every_minutes: float = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.recipients or self.webhook_url)


@dataclass(frozen=True)
class ResponderRule:
    """One `[[responder.rules]]`: a new case for a mention of `watch` and/or from `source` (and with
    `label`, negative by default) is opened and assigned to `assignee`."""

    assignee: str
    watch: str | None = None
    source: str | None = None
    label: str | None = "negative"

    def matches(self, watches: list[str], source: str, label: str | None) -> bool:
        return (
            (self.watch is None or self.watch in watches)
            and (self.source is None or self.source == source)
            and (self.label is None or self.label == label)
        )


@dataclass(frozen=True)
class ReplyTemplate:
    """One `[[reply_templates]]`: text with {author}, {brand}, {product} and {link} placeholders."""

    name: str
    text: str


@dataclass(frozen=True)
class ResponderSettings:
    """`[responder]`: response and resolution targets, approval rules, assignment rules, brand names."""

    response_target_minutes: float = 60.0
    resolution_target_minutes: float = 1440.0
    # Replies drafted by these roles wait for an approver; so do replies to mentions at least this urgent.
    approval_roles: tuple[str, ...] = ()
    approval_min_priority: float | None = None
    approver_role: str = "admin"
    brand: str | None = None
    product: str | None = None
    rules: tuple[ResponderRule, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path | None
    database_url: str = DEFAULT_DATABASE_URL
    watches: tuple[Watch, ...] = ()
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)
    model: ModelSettings = field(default_factory=ModelSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    # Dashboard users; none means local use without a login. `oidc` signs in through st.login.
    users: tuple[User, ...] = ()
    oidc: bool = False
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    digests: tuple[DigestList, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    responder: ResponderSettings = field(default_factory=ResponderSettings)
    reply_templates: tuple[ReplyTemplate, ...] = ()

    def watch(self, name: str) -> Watch:
        for watch in self.watches:
            if watch.name == name:
                return watch
        known = ", ".join(w.name for w in self.watches) or "none"
        raise ConfigError(f"{self._where()}: no watch named {name!r}; configured watches: {known}")

    def source_settings(self, name: str) -> SourceSettings:
        return self.sources.get(name) or SourceSettings(name=name)

    def require_mail(self) -> None:
        """For long-running commands: digests or mailed alerts with no way to send them would fail
        only hours later, at send time; say so at start instead."""
        if self.smtp.host is not None:
            return
        wanting = [f"[[digests]] {d.name!r}" for d in self.digests]
        if self.alerts.recipients:
            wanting.append("[alerts] recipients")
        if wanting:
            raise ConfigError(
                f"{self._where()}: {', '.join(wanting)} send mail, but [smtp] has no host; set [smtp] host "
                "(or GRUMBLE_SMTP_HOST), or remove them"
            )

    def jobs(self) -> list[tuple[Watch, str]]:
        """One collection job per (watch, source) pair."""
        return [(watch, source) for watch in self.watches for source in watch.sources]

    def _where(self) -> str:
        return str(self.path) if self.path else "configuration"


class _Reader:
    """Type-checked access to one TOML table, remembering where it is for error messages."""

    def __init__(self, where: str, table: Mapping[str, Any], key_path: str = "") -> None:
        self.where = where
        self.table = table
        self.key_path = key_path

    def _key(self, key: str) -> str:
        return f"{self.key_path}.{key}" if self.key_path else key

    def fail(self, key: str, expected: str, found: Any) -> ConfigError:
        shown = f"{type(found).__name__} {found!r}"
        if is_secret(key):
            shown = f"{type(found).__name__} (not shown: a secret; quote it as a string)"
        return ConfigError(f"{self.where}: {self._key(key)}: expected {expected}, found {shown}")

    def reject_unknown(self, known: set[str]) -> None:
        unknown = sorted(set(self.table) - known)
        if unknown:
            raise ConfigError(
                f"{self.where}: unknown key {self._key(unknown[0])!r}; "
                f"known keys here: {', '.join(sorted(known))}"
            )

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, "a string", value)
        return value

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "a number", value)
        if value < minimum:
            raise self.fail(key, f"a number of at least {minimum:g}", value)
        return float(value)

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number", value)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise self.fail(key, f"a whole number {bounds}", value)
        return value

    def words(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        return tuple(v.strip() for v in value if v.strip())

    def tables(self, key: str) -> list[_Reader]:
        """An array of tables ([[key]]): one reader per table, each naming its index in errors."""
        value = self.table.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"an array of tables ([[{self._key(key)}]])", value)
        readers = []
        for index, table in enumerate(value):
            if not isinstance(table, dict):
                raise self.fail(f"{key}[{index}]", "a table", table)
            readers.append(_Reader(self.where, table, self._key(f"{key}[{index}]")))
        return readers

    def sub(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return _Reader(self.where, value, self._key(key))


TOP_LEVEL_KEYS = {"database_url", "watches", "sources", "schedule", "model", "dashboard", "users", "auth"}
TOP_LEVEL_KEYS |= {"smtp", "digests", "alerts"}
MAX_PORT = 65535
TOP_LEVEL_KEYS |= {"responder", "reply_templates"}
WATCH_KEYS = {"name", "keywords", "required", "excluded", "languages", "sources", "brand", "product"}
SOURCE_KNOWN_KEYS = {"base_url", "max_backfill", "timeout_s"}


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    database_url: str | None = None,
) -> Config:
    """Read `path` (default: $GRUMBLE_CONFIG, then ./grumble.toml). A missing default file gives defaults."""
    env = os.environ if environ is None else environ
    explicit = path is not None or "GRUMBLE_CONFIG" in env
    config_path = Path(path) if path is not None else Path(env.get("GRUMBLE_CONFIG", DEFAULT_CONFIG_PATH))
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: cannot read: {exc}") from None
    elif explicit:
        raise ConfigError(f"{config_path}: no such file; create one with `grumble init`")
    return parse_config(data, config_path if config_path.exists() else None, env, database_url)


def parse_config(
    data: Mapping[str, Any],
    path: Path | None,
    environ: Mapping[str, str],
    database_url: str | None = None,
) -> Config:
    where = str(path) if path else "configuration"
    root = _Reader(where, data)
    root.reject_unknown(TOP_LEVEL_KEYS)
    url = database_url or environ.get(f"{ENV_PREFIX}DATABASE_URL") or root.string("database_url")
    sources = _parse_sources(root.sub("sources"), environ)
    watches = _parse_watches(root, where)
    for watch in watches:
        for name in watch.sources:
            _check_source_name(where, f"watches.{watch.name}.sources", name)
    schedule_reader = root.sub("schedule")
    schedule_reader.reject_unknown({"collect_every_minutes", "score_every_minutes"})
    model_reader = root.sub("model")
    model_reader.reject_unknown({"name", "batch_size"})
    dashboard_reader = root.sub("dashboard")
    dashboard_reader.reject_unknown({"host", "port", "public_url"})
    users = _parse_users(root, where)
    return Config(
        path=path,
        database_url=url or DEFAULT_DATABASE_URL,
        watches=watches,
        sources=sources,
        schedule=Schedule(
            collect_every_minutes=schedule_reader.number("collect_every_minutes", 15.0, minimum=0.1),
            score_every_minutes=schedule_reader.number("score_every_minutes", 5.0, minimum=0.1),
        ),
        model=ModelSettings(
            name=model_reader.string("name") or environ.get(f"{ENV_PREFIX}MODEL") or None,
            batch_size=model_reader.integer("batch_size", 64, minimum=1),
        ),
        dashboard=_dashboard(dashboard_reader),
        users=users,
        oidc=_oidc(root),
        smtp=_parse_smtp(root, environ),
        digests=_parse_digests(root, where, watches),
        alerts=_parse_alerts(root, environ),
        responder=_parse_responder(root, where, watches, users),
        reply_templates=_parse_reply_templates(root, where),
    )


def _dashboard(reader: _Reader) -> DashboardSettings:
    host = reader.string("host", "localhost") or "localhost"
    port = reader.integer("port", 8501, minimum=1, maximum=MAX_PORT)
    public_url = reader.string("public_url") or f"http://{host}:{port}"
    return DashboardSettings(host=host, port=port, public_url=public_url.rstrip("/"))


def _check_source_name(where: str, key: str, name: str) -> None:
    # Imported here: the registry imports every source module, which config does not otherwise need.
    from monitor.sources.registry import source_names

    if name not in source_names():
        raise ConfigError(
            f"{where}: {key}: unknown source {name!r}; expected one of {', '.join(source_names())}"
        )


# Keys whose values are secrets: never echoed in an error.
_SECRET = re.compile(r"password|secret|token|api_?key|webhook", re.IGNORECASE)
# Keys whose environment values are taken exactly as given, never read as TOML (0x1F is not 31,
# "true" is not a boolean, quotes are part of a password): secrets, names and addresses.
_AS_GIVEN = re.compile(
    r"password|secret|token|key|client_id|username|user_agent|handle|url|host", re.IGNORECASE
)


def is_secret(key: str) -> bool:
    return bool(_SECRET.search(key))


def _env_value(text: str) -> Any:
    """An environment variable read as a TOML value where it is one (50, 2.5, true, ["a"]), else as text."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_sources(reader: _Reader, environ: Mapping[str, str]) -> dict[str, SourceSettings]:
    from monitor.sources.registry import source_names

    tables: dict[str, dict[str, Any]] = {}
    for name in reader.table:
        _check_source_name(reader.where, "sources", name)
        tables[name] = dict(reader.sub(name).table)
    for name in source_names():
        prefix = f"{ENV_PREFIX}{name.upper()}_"
        for var, value in environ.items():
            if var.startswith(prefix):
                key = var[len(prefix) :].lower()
                tables.setdefault(name, {})[key] = value if _AS_GIVEN.search(key) else _env_value(value)
    settings = {}
    for name, table in tables.items():
        source_reader = _Reader(reader.where, table, f"sources.{name}")
        settings[name] = SourceSettings(
            name=name,
            base_url=source_reader.string("base_url"),
            max_backfill=source_reader.integer("max_backfill", 200, minimum=1),
            timeout_s=source_reader.number("timeout_s", 20.0, minimum=0.1),
            options={k: v for k, v in table.items() if k not in SOURCE_KNOWN_KEYS},
        )
    return settings


def _parse_watches(root: _Reader, where: str) -> tuple[Watch, ...]:
    watches: list[Watch] = []
    seen: set[str] = set()
    for reader in root.tables("watches"):
        table = reader.table
        reader.reject_unknown(WATCH_KEYS)
        name = reader.string("name")
        if not name or not name.strip():
            raise reader.fail("name", "a non-empty string naming the watch", table.get("name"))
        if name in seen:
            raise reader.fail("name", "a name no other watch has", name)
        seen.add(name)
        sources_reader = reader.sub("sources")
        sources: dict[str, dict[str, Any]] = {}
        for source_name in sources_reader.table:
            sources[source_name] = dict(sources_reader.sub(source_name).table)
        keywords = reader.words("keywords")
        required = reader.words("required")
        watches.append(
            Watch(
                name=name.strip(),
                keywords=keywords,
                required=required,
                excluded=reader.words("excluded"),
                languages=tuple(lang.lower() for lang in reader.words("languages")),
                sources=sources,
                brand=(reader.string("brand") or "").strip() or None,
                product=(reader.string("product") or "").strip() or None,
            )
        )
    return tuple(watches)


def _oidc(root: _Reader) -> bool:
    reader = root.sub("auth")
    reader.reject_unknown({"oidc"})
    value = reader.table.get("oidc", False)
    if not isinstance(value, bool):
        raise reader.fail("oidc", "true or false", value)
    return value


def _parse_users(root: _Reader, where: str) -> tuple[User, ...]:
    users: list[User] = []
    for reader in root.tables("users"):
        table = reader.table
        reader.reject_unknown({"name", "role", "password_hash", "email"})
        name = reader.string("name")
        if not name:
            raise reader.fail("name", "a user name", table.get("name"))
        role = reader.string("role", "viewer") or "viewer"
        if role not in ROLES:
            raise reader.fail("role", f"one of {', '.join(ROLES)}", role)
        password_hash = reader.string("password_hash")
        email = reader.string("email")
        if password_hash is not None and not is_password_hash(password_hash):
            raise reader.fail(
                "password_hash", "a hash from `grumble hash-password` (never the password)", "text"
            )
        if password_hash is None and email is None:
            raise reader.fail("password_hash", "a password hash, or an email for OpenID Connect", None)
        users.append(User(name=name, role=role, password_hash=password_hash, email=email))
    return tuple(users)


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
# No whitespace, commas or angle brackets: an address goes into a header, where a newline would let a
# config value write headers of its own.
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")


def _with_env(
    reader: _Reader, environ: Mapping[str, str], section: str, keys: set[str], numbers: Mapping[str, type]
) -> _Reader:
    """`GRUMBLE_<SECTION>_<KEY>` beats the file. The environment holds text, so numbers are converted
    here, and a bad one names the variable rather than the file."""
    table = dict(reader.table)
    for key in keys:
        var = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
        if var not in environ:
            continue
        value: Any = environ[var]
        kind = numbers.get(key)
        if kind is not None:
            try:
                value = kind(value)
            except ValueError:
                noun = "a whole number" if kind is int else "a number"
                raise ConfigError(f"environment variable {var}: expected {noun}, found {value!r}") from None
        table[key] = value
    return _Reader(reader.where, table, reader.key_path)


def _boolean(reader: _Reader, key: str, default: bool) -> bool:
    value = reader.table.get(key, default)
    if not isinstance(value, bool):
        raise reader.fail(key, "true or false", value)
    return value


def _addresses(reader: _Reader, key: str, required: bool) -> tuple[str, ...]:
    addresses = reader.words(key)
    if required and not addresses:
        raise reader.fail(key, "at least one email address", reader.table.get(key, []))
    for address in addresses:
        if not _ADDRESS.fullmatch(address):
            raise reader.fail(key, "email addresses like ops@example.com", address)
    return addresses


def _parse_smtp(root: _Reader, environ: Mapping[str, str]) -> SmtpSettings:
    numbers = {"port": int, "timeout_s": float, "max_attempts": int}
    reader = _with_env(root.sub("smtp"), environ, "smtp", SMTP_KEYS, numbers)
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


def _time_of_day(reader: _Reader, key: str) -> time:
    value = reader.string(key, "08:00") or "08:00"
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise reader.fail(key, 'a time of day like "08:00"', value)
    return time(int(match.group(1)), int(match.group(2)))


def _parse_digests(root: _Reader, where: str, watches: tuple[Watch, ...]) -> tuple[DigestList, ...]:
    known_watches = {watch.name for watch in watches}
    lists: list[DigestList] = []
    for reader in root.tables("digests"):
        reader.reject_unknown(DIGEST_KEYS)
        name = (reader.string("name") or "").strip()
        if not name or len(name) > 100:
            raise reader.fail("name", "a name of 1 to 100 characters for this recipient list", name)
        if any(other.name == name for other in lists):
            raise reader.fail("name", "a name no other digest list has", name)
        digest_watches = reader.words("watches")
        for watch_name in digest_watches:
            if watch_name not in known_watches:
                known = ", ".join(sorted(known_watches)) or "none"
                raise reader.fail("watches", f"names of configured watches ({known})", watch_name)
        every = (reader.string("every", "daily") or "daily").lower()
        if every not in DIGEST_FREQUENCIES:
            raise reader.fail("every", f"one of {', '.join(DIGEST_FREQUENCIES)}", every)
        weekday = (reader.string("weekday", "monday") or "monday").lower()
        if weekday not in WEEKDAYS:
            raise reader.fail("weekday", "a day name like monday", weekday)
        timezone = reader.string("timezone", "UTC") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise reader.fail("timezone", 'an IANA time zone like "Europe/Berlin"', timezone) from None
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
                send_when_quiet=_boolean(reader, "send_when_quiet", False),
                max_mentions=reader.integer("max_mentions", 50, minimum=1),
            )
        )
    return tuple(lists)


def _parse_alerts(root: _Reader, environ: Mapping[str, str]) -> AlertSettings:
    reader = _with_env(root.sub("alerts"), environ, "alerts", {"webhook_url"}, {})
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


RESPONDER_KEYS = {
    "response_target_minutes",
    "resolution_target_minutes",
    "approval_roles",
    "approval_min_priority",
    "approver_role",
    "brand",
    "product",
    "rules",
}
RULE_KEYS = {"watch", "source", "label", "assignee"}
RULE_LABELS = ("negative", "neutral", "positive", "any")


def _parse_responder(
    root: _Reader, where: str, watches: tuple[Watch, ...], users: tuple[User, ...]
) -> ResponderSettings:
    reader = root.sub("responder")
    reader.reject_unknown(RESPONDER_KEYS)
    approval_roles = reader.words("approval_roles")
    for role in approval_roles:
        if role not in ROLES:
            raise reader.fail("approval_roles", f"roles among {', '.join(ROLES)}", role)
    approver_role = reader.string("approver_role", "admin") or "admin"
    if approver_role not in ROLES or approver_role == "viewer":
        raise reader.fail("approver_role", "responder or admin", approver_role)
    min_priority = reader.table.get("approval_min_priority")
    return ResponderSettings(
        response_target_minutes=reader.number("response_target_minutes", 60.0, minimum=1.0),
        resolution_target_minutes=reader.number("resolution_target_minutes", 1440.0, minimum=1.0),
        approval_roles=approval_roles,
        approval_min_priority=(
            None if min_priority is None else reader.number("approval_min_priority", 0.0, minimum=0.0)
        ),
        approver_role=approver_role,
        brand=(reader.string("brand") or "").strip() or None,
        product=(reader.string("product") or "").strip() or None,
        rules=_parse_rules(reader, where, watches, users),
    )


def _parse_rules(
    reader: _Reader, where: str, watches: tuple[Watch, ...], users: tuple[User, ...]
) -> tuple[ResponderRule, ...]:
    known_watches = {watch.name for watch in watches}
    user_names = {user.name for user in users}
    rules: list[ResponderRule] = []
    for rule in reader.tables("rules"):
        table = rule.table
        rule.reject_unknown(RULE_KEYS)
        assignee = (rule.string("assignee") or "").strip()
        if not assignee:
            raise rule.fail("assignee", "the name of the person who gets these cases", table.get("assignee"))
        if user_names and assignee not in user_names:
            raise rule.fail("assignee", f"one of the [[users]] ({', '.join(sorted(user_names))})", assignee)
        watch = rule.string("watch")
        if watch is not None and watch not in known_watches:
            known = ", ".join(sorted(known_watches)) or "none"
            raise rule.fail("watch", f"the name of a configured watch ({known})", watch)
        source = rule.string("source")
        if source is not None:
            _check_source_name(where, f"{rule.key_path}.source", source)
        label = (rule.string("label", "negative") or "negative").lower()
        if label not in RULE_LABELS:
            raise rule.fail("label", f"one of {', '.join(RULE_LABELS)}", label)
        rules.append(
            ResponderRule(
                assignee=assignee, watch=watch, source=source, label=None if label == "any" else label
            )
        )
    return tuple(rules)


def _parse_reply_templates(root: _Reader, where: str) -> tuple[ReplyTemplate, ...]:
    from monitor.errors import TemplateError
    from monitor.respond.reply_text import placeholders

    templates: list[ReplyTemplate] = []
    for reader in root.tables("reply_templates"):
        table = reader.table
        reader.reject_unknown({"name", "text"})
        name = (reader.string("name") or "").strip()
        if not name:
            raise reader.fail("name", "a name to pick the template by", table.get("name"))
        if any(template.name == name for template in templates):
            raise reader.fail("name", "a name no other reply template has", name)
        text = reader.string("text") or ""
        if not text.strip():
            raise reader.fail("text", "the reply's text", text)
        try:
            placeholders(text, name)
        except TemplateError as exc:
            raise ConfigError(f"{where}: {reader.key_path}.text: {exc}") from None
        templates.append(ReplyTemplate(name=name, text=text))
    return tuple(templates)
