"""Load and validate grumble.toml and GRUMBLE_* variables, once, into frozen objects.

Precedence, as in PRAW: keyword arguments, then environment variables, then the file. A bad value is
reported with the file, the key, what was expected and what was found, and nothing starts half-configured.
Secrets can stay out of the file: `GRUMBLE_<SOURCE>_<KEY>` (e.g. GRUMBLE_REDDIT_CLIENT_SECRET) sets
`[sources.<source>] <key>`, and GRUMBLE_DATABASE_URL sets `database_url`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Config:
    path: Path | None
    database_url: str = DEFAULT_DATABASE_URL
    watches: tuple[Watch, ...] = ()
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)
    model: ModelSettings = field(default_factory=ModelSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)

    def watch(self, name: str) -> Watch:
        for watch in self.watches:
            if watch.name == name:
                return watch
        known = ", ".join(w.name for w in self.watches) or "none"
        raise ConfigError(f"{self._where()}: no watch named {name!r}; configured watches: {known}")

    def source_settings(self, name: str) -> SourceSettings:
        return self.sources.get(name) or SourceSettings(name=name)

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

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number", value)
        if value < minimum:
            raise self.fail(key, f"a whole number of at least {minimum}", value)
        return value

    def words(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        return tuple(v.strip() for v in value if v.strip())

    def sub(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return _Reader(self.where, value, self._key(key))


TOP_LEVEL_KEYS = {"database_url", "watches", "sources", "schedule", "model", "dashboard"}
WATCH_KEYS = {"name", "keywords", "required", "excluded", "languages", "sources"}
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
    )


def _dashboard(reader: _Reader) -> DashboardSettings:
    host = reader.string("host", "localhost") or "localhost"
    port = reader.integer("port", 8501, minimum=1)
    public_url = reader.string("public_url") or f"http://{host}:{port}"
    return DashboardSettings(host=host, port=port, public_url=public_url.rstrip("/"))


def _check_source_name(where: str, key: str, name: str) -> None:
    # Imported here: the registry imports every source module, which config does not otherwise need.
    from monitor.sources.registry import source_names

    if name not in source_names():
        raise ConfigError(
            f"{where}: {key}: unknown source {name!r}; expected one of {', '.join(source_names())}"
        )


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
                tables.setdefault(name, {})[var[len(prefix) :].lower()] = value
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
    raw = root.table.get("watches", [])
    if not isinstance(raw, list):
        raise root.fail("watches", "an array of tables ([[watches]])", raw)
    watches: list[Watch] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise root.fail(f"watches[{index}]", "a table", table)
        reader = _Reader(where, table, f"watches[{index}]")
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
        if not keywords and not required and any(s != "demo" and s != "file" for s in sources):
            raise reader.fail("keywords", "at least one keyword for the sources to search", [])
        watches.append(
            Watch(
                name=name.strip(),
                keywords=keywords,
                required=required,
                excluded=reader.words("excluded"),
                languages=tuple(lang.lower() for lang in reader.words("languages")),
                sources=sources,
            )
        )
    return tuple(watches)
