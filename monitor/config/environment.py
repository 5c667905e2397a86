"""The one lookup of GRUMBLE_* variables: a keyword argument, else the variable, else the file.

`monitor.config`'s docstring says which variable sets which key; this module is the only place that
reads the environment for configuration, so the precedence is the same for every setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "GRUMBLE_"
CONFIG_VARIABLE = f"{ENV_PREFIX}CONFIG"
DEFAULT_CONFIG_PATH = Path("grumble.toml")

# [model] name has always been GRUMBLE_MODEL, not GRUMBLE_MODEL_NAME.
_RENAMED = {("model", "name"): f"{ENV_PREFIX}MODEL"}

# Keys whose environment values are text by nature, taken exactly as given and never read as TOML
# (0x1F is not 31, "true" is not a boolean, quotes are part of a password): secrets, names, addresses.
_TEXT_KEYS = re.compile(
    r"password|secret|token|key|client_id|name|user_agent|handle|url|host|address|file|path", re.IGNORECASE
)


def variable(section: str, key: str) -> str:
    """The variable that sets `[section] key`: GRUMBLE_<SECTION>_<KEY>, or GRUMBLE_<KEY> at the top level.
    A source's section is its name alone: GRUMBLE_REDDIT_CLIENT_SECRET sets [sources.reddit] client_secret."""
    if (section, key) in _RENAMED:
        return _RENAMED[section, key]
    parts = [section, key] if section else [key]
    return ENV_PREFIX + "_".join(part.upper() for part in parts)


@dataclass(frozen=True)
class Found:
    """A setting's value and where it came from: "argument database_url", "environment variable ..."."""

    value: Any
    origin: str


def lookup(environ: Mapping[str, str], name: str, argument: Any = None, key: str = "") -> Found | None:
    """The keyword argument if given, else the variable `name`, else None (the file's value stands). An
    empty value counts as not set, as in PRAW's config (`env_value or ini_value`): `GRUMBLE_X=` in a
    compose file leaves the file's value. Variables hold text; `key` says how to read it (as_value)."""
    if argument is not None and argument != "":
        return Found(argument, f"argument {key or name}")
    text = environ.get(name)
    if not text:
        return None
    return Found(as_value(key, text) if key else text, f"environment variable {name}")


def config_path(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The configuration file asked for: `path`, else $GRUMBLE_CONFIG; None when neither names one (the
    caller then uses DEFAULT_CONFIG_PATH, which may be missing)."""
    found = lookup(os.environ if environ is None else environ, CONFIG_VARIABLE, path, "path")
    return None if found is None else Path(found.value)


def as_value(key: str, text: str) -> Any:
    """A variable's text as the value of `key`: text for text keys, else a TOML value where it is one
    (50, 2.5, true, ["a"]), else text, which the setting's own check then reports."""
    if _TEXT_KEYS.search(key):
        return text
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


@dataclass(frozen=True)
class Layered:
    """One table's values after the lookup, and for each key not from the file, the variable or
    argument it came from (so a bad value is reported there, not in the file)."""

    table: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)


def layered(
    file_table: Mapping[str, Any],
    environ: Mapping[str, str],
    section: str,
    keys: Iterable[str] | None,
    arguments: Mapping[str, Any] | None = None,
) -> Layered:
    """`file_table` with each key's variable over it and `arguments` over both. `keys` are the keys the
    environment may set; None means any GRUMBLE_<SECTION>_* variable (a source's options are open)."""
    if keys is None:
        prefix = variable(section, "")
        names = {name[len(prefix) :].lower(): name for name in environ if name.startswith(prefix)}
        names.pop("", None)
    else:
        names = {key: variable(section, key) for key in keys}
    table = dict(file_table)
    origins: dict[str, str] = {}
    for key, name in names.items():
        found = lookup(environ, name, (arguments or {}).get(key), key)
        if found is not None:
            table[key], origins[key] = found.value, found.origin
    return Layered(table, origins)
