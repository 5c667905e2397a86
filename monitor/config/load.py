"""Read grumble.toml, look up the environment over it, and check every section into a `Config`."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.auth.users import ROLES, User, is_password_hash
from monitor.config.api import parse_api
from monitor.config.environment import DEFAULT_CONFIG_PATH, config_path
from monitor.config.helpdesk import parse_helpdesk
from monitor.config.learn import parse_learn
from monitor.config.mail import parse_alerts, parse_digests, parse_smtp
from monitor.config.responder import parse_reply_templates, parse_responder
from monitor.config.settings import (
    DEFAULT_DATABASE_URL,
    Config,
    DashboardSettings,
    MetricsSettings,
    ModelSettings,
    QueueSettings,
    Schedule,
)
from monitor.config.sources import parse_sources
from monitor.config.tables import MAX_PORT, TableReader
from monitor.config.topics import parse_topics
from monitor.config.watches import parse_watches
from monitor.config.webhooks import parse_webhooks
from monitor.errors import ConfigError

TOP_LEVEL_KEYS = {"database_url", "watches", "sources", "schedule", "queue", "model", "dashboard", "users"}
TOP_LEVEL_KEYS |= {"auth", "smtp", "digests", "alerts", "responder", "reply_templates", "metrics"}
TOP_LEVEL_KEYS |= {"helpdesk"}
TOP_LEVEL_KEYS |= {"webhooks"}
TOP_LEVEL_KEYS |= {"learn"}
TOP_LEVEL_KEYS |= {"topics"}
TOP_LEVEL_KEYS |= {"api"}


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    database_url: str | None = None,
) -> Config:
    """Read `path` (default: $GRUMBLE_CONFIG, then ./grumble.toml). A missing default file gives defaults."""
    env = os.environ if environ is None else environ
    named = config_path(path, env)
    file = config_file(path, env)
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read: {exc}") from None
    elif named is not None:
        raise ConfigError(f"{file}: no such file; create one with `grumble init`")
    return parse_config(data, file if file.exists() else None, env, database_url)


def config_file(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The file `load_config` reads (or would read, once it exists)."""
    return config_path(path, os.environ if environ is None else environ) or DEFAULT_CONFIG_PATH


def file_fingerprint(file: Path) -> str | None:
    """What the file holds now, to tell later whether it was edited (None: it is missing). A hash, not
    the modification time: saving a file unchanged, or copying it, is no edit."""
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None


def parse_config(
    data: Mapping[str, Any],
    path: Path | None,
    environ: Mapping[str, str],
    database_url: str | None = None,
) -> Config:
    root = TableReader(str(path) if path else "configuration", data)
    root.reject_unknown(TOP_LEVEL_KEYS)
    top = root.with_environment(environ, "", {"database_url"}, {"database_url": database_url})
    sources = parse_sources(root.sub("sources"), environ)
    watches = parse_watches(root)
    users = _parse_users(root)
    return Config(
        path=path,
        database_url=top.string("database_url") or DEFAULT_DATABASE_URL,
        watches=watches,
        sources=sources,
        schedule=_parse_schedule(root),
        queue=_parse_queue(root),
        model=_parse_model(root, environ),
        dashboard=_parse_dashboard(root),
        metrics=_parse_metrics(root, environ),
        users=users,
        oidc=_parse_oidc(root),
        smtp=parse_smtp(root, environ),
        digests=parse_digests(root, watches),
        alerts=parse_alerts(root, environ),
        responder=parse_responder(root, watches, users),
        reply_templates=parse_reply_templates(root),
        helpdesk=parse_helpdesk(root, environ, watches),
        webhooks=parse_webhooks(root, environ),
        learn=parse_learn(root, watches),
        topics=parse_topics(root),
        api=parse_api(root),
    )


def _parse_schedule(root: TableReader) -> Schedule:
    reader = root.sub("schedule")
    reader.reject_unknown({"collect_every_minutes", "score_every_minutes"})
    return Schedule(
        collect_every_minutes=reader.number("collect_every_minutes", 15.0, minimum=0.1),
        score_every_minutes=reader.number("score_every_minutes", 5.0, minimum=0.1),
    )


def _parse_queue(root: TableReader) -> QueueSettings:
    reader = root.sub("queue")
    reader.reject_unknown({"concurrency", "heartbeat_seconds", "stalled_after_seconds"})
    heartbeat = reader.number("heartbeat_seconds", 10.0, minimum=0.1)
    stalled_after = reader.number("stalled_after_seconds", 60.0, minimum=0.1)
    if stalled_after <= 2 * heartbeat:
        # One late heartbeat (a busy database, a pause) must not get a live worker's jobs run twice.
        raise reader.fail(
            "stalled_after_seconds", f"more than twice heartbeat_seconds ({heartbeat:g})", stalled_after
        )
    return QueueSettings(
        concurrency=reader.integer("concurrency", 2, minimum=1),
        heartbeat_seconds=heartbeat,
        stalled_after_seconds=stalled_after,
    )


def _parse_model(root: TableReader, environ: Mapping[str, str]) -> ModelSettings:
    reader = root.sub("model").with_environment(environ, "model", {"name"})
    reader.reject_unknown({"name", "batch_size"})
    return ModelSettings(
        name=reader.string("name") or None,
        batch_size=reader.integer("batch_size", 64, minimum=1),
    )


def _parse_dashboard(root: TableReader) -> DashboardSettings:
    reader = root.sub("dashboard")
    reader.reject_unknown({"host", "port", "public_url", "timezone", "trusted_proxies"})
    host = reader.string("host", "localhost") or "localhost"
    port = reader.integer("port", 8501, minimum=1, maximum=MAX_PORT)
    public_url = reader.string("public_url") or f"http://{host}:{port}"
    proxies = reader.words("trusted_proxies")
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise reader.fail(
                "trusted_proxies", 'IP addresses or networks (e.g. ["10.0.0.5", "172.16.0.0/12"])', proxy
            ) from None
    return DashboardSettings(
        host=host,
        port=port,
        public_url=public_url.rstrip("/"),
        timezone=reader.timezone("timezone", "UTC") or "UTC",
        trusted_proxies=proxies,
    )


def _parse_metrics(root: TableReader, environ: Mapping[str, str]) -> MetricsSettings:
    reader = root.sub("metrics").with_environment(environ, "metrics", {"host", "port"})
    reader.reject_unknown({"host", "port"})
    host = reader.text("host") or "localhost"
    if reader.table.get("port") is None:
        return MetricsSettings(host=host)
    return MetricsSettings(host=host, port=reader.integer("port", 0, minimum=1, maximum=MAX_PORT))


def _parse_oidc(root: TableReader) -> bool:
    reader = root.sub("auth")
    reader.reject_unknown({"oidc"})
    return reader.boolean("oidc", False)


def _parse_users(root: TableReader) -> tuple[User, ...]:
    users: list[User] = []
    for reader in root.tables("users"):
        reader.reject_unknown({"name", "role", "password_hash", "email", "timezone"})
        name = reader.string("name")
        if not name:
            raise reader.fail("name", "a user name", reader.table.get("name"))
        if any(user.name == name for user in users):
            # The sign-in finds the first entry of a name: a second one could never sign in.
            raise reader.fail("name", "a name no other user has (each [[users]] entry is one person)", name)
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
        users.append(
            User(
                name=name,
                role=role,
                password_hash=password_hash,
                email=email,
                timezone=reader.timezone("timezone"),
            )
        )
    return tuple(users)
