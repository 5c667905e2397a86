"""Type-checked reading of one TOML table, with errors that name the file, the key, what was expected
and what was found (or the variable or argument the value came from)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.config.environment import layered
from monitor.errors import ConfigError

# Keys whose values are secrets: never echoed in an error.
_SECRET = re.compile(r"password|secret|token|api_?key|private_?key|webhook", re.IGNORECASE)
MAX_PORT = 65535


def is_secret(key: str) -> bool:
    return bool(_SECRET.search(key))


class TableReader:
    """Type-checked access to one TOML table, remembering where it is for error messages."""

    def __init__(
        self,
        where: str,
        table: Mapping[str, Any],
        key_path: str = "",
        origins: Mapping[str, str] | None = None,
    ) -> None:
        self.where = where
        self.table = table
        self.key_path = key_path
        # key -> "environment variable GRUMBLE_..." for values that did not come from the file.
        self.origins = origins or {}

    def with_environment(
        self,
        environ: Mapping[str, str],
        section: str,
        keys: Iterable[str] | None,
        arguments: Mapping[str, Any] | None = None,
    ) -> TableReader:
        """This table after the one lookup (environment.layered): arguments, then variables, then it."""
        found = layered(self.table, environ, section, keys, arguments)
        return TableReader(self.where, found.table, self.key_path, found.origins)

    def _key(self, key: str) -> str:
        return f"{self.key_path}.{key}" if self.key_path else key

    def location(self, key: str) -> str:
        """Where `key` is, for a message that is not "expected X, found Y": the file and key path."""
        return f"{self.where}: {self._key(key)}"

    def fail(self, key: str, expected: str, found: Any) -> ConfigError:
        shown = f"{type(found).__name__} {found!r}"
        if is_secret(key):
            shown = f"{type(found).__name__} (not shown: a secret; quote it as a string)"
        where = self.origins.get(key) or f"{self.where}: {self._key(key)}"
        return ConfigError(f"{where}: expected {expected}, found {shown}")

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

    def text(self, key: str) -> str | None:
        """A string with its surrounding spaces removed; None when missing or blank."""
        return (self.string(key) or "").strip() or None

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "a number", value)
        # TOML and float() both accept nan and inf; no timeout, pace or threshold means either.
        if not math.isfinite(value):
            raise self.fail(key, "a finite number", value)
        if value < minimum:
            raise self.fail(key, f"a number of at least {minimum:g}", value)
        return float(value)

    def optional_number(self, key: str, minimum: float = 0.0) -> float | None:
        """A number when the key is given, None when it is not (the caller then uses a wider setting)."""
        return self.number(key, 0.0, minimum) if key in self.table else None

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number", value)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise self.fail(key, f"a whole number {bounds}", value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def timezone(self, key: str, default: str | None = None) -> str | None:
        """An IANA time zone name that this machine knows (its tz database or the tzdata package)."""
        value = self.string(key, default) or default
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, 'an IANA time zone like "Europe/Berlin" or "UTC"', value) from None
        return value

    def words(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        return tuple(v.strip() for v in value if v.strip())

    def tables(self, key: str) -> list[TableReader]:
        """An array of tables ([[key]]): one reader per table, each naming its index in errors."""
        value = self.table.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"an array of tables ([[{self._key(key)}]])", value)
        readers = []
        for index, table in enumerate(value):
            if not isinstance(table, dict):
                raise self.fail(f"{key}[{index}]", "a table", table)
            readers.append(TableReader(self.where, table, self._key(f"{key}[{index}]")))
        return readers

    def sub(self, key: str) -> TableReader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return TableReader(self.where, value, self._key(key))
