"""`[sources.<name>]` operator settings, with GRUMBLE_<SOURCE>_<KEY> variables over them, and the
check that a source named anywhere in the file exists."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.config.tables import TableReader
from monitor.errors import ConfigError
from monitor.sources.base import SourceSettings

SOURCE_KNOWN_KEYS = {"base_url", "max_backfill", "timeout_s", "collect_every_minutes"}


def check_source_name(where: str, key: str, name: str) -> None:
    # Imported here: the registry imports every source module, which config does not otherwise need.
    from monitor.sources.registry import source_names

    if name not in source_names():
        raise ConfigError(
            f"{where}: {key}: unknown source {name!r}; expected one of {', '.join(source_names())}"
        )


def parse_sources(reader: TableReader, environ: Mapping[str, str]) -> dict[str, SourceSettings]:
    """Every source with a table in the file or a variable in the environment. Options (credentials,
    page bounds) are open: any GRUMBLE_<SOURCE>_<KEY> sets `key`, and each source reads the keys it knows."""
    from monitor.sources.registry import source_names

    for name in reader.table:
        check_source_name(reader.where, "sources", name)
    settings = {}
    for name in source_names():
        source_reader = reader.sub(name).with_environment(environ, name, keys=None)
        if name not in reader.table and not source_reader.table:
            continue
        settings[name] = SourceSettings(
            name=name,
            base_url=source_reader.string("base_url"),
            max_backfill=source_reader.integer("max_backfill", 200, minimum=1),
            timeout_s=source_reader.number("timeout_s", 20.0, minimum=0.1),
            collect_every_minutes=source_reader.optional_number("collect_every_minutes", minimum=0.1),
            options={k: v for k, v in source_reader.table.items() if k not in SOURCE_KNOWN_KEYS},
        )
    return settings
