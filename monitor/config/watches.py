"""`[[watches]]`, and the one rule for watch names: what a valid one is, and how a setting that names
a watch (a digest list, an assignment rule) is checked and told which names exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.config.sources import check_source_name
from monitor.config.tables import TableReader
from monitor.mention import Watch

WATCH_KEYS = {"name", "keywords", "required", "excluded", "languages", "sources", "brand", "product"}


def watch_list(watches: Sequence[Watch]) -> str:
    """The configured watch names for a message: sorted, or "none"."""
    return ", ".join(sorted(watch.name for watch in watches)) or "none"


def check_watch(reader: TableReader, key: str, name: str, watches: Sequence[Watch], expected: str) -> None:
    """`name`, written at `key`, must be a configured watch's; the error lists those that are."""
    if not any(watch.name == name for watch in watches):
        raise reader.fail(key, f"{expected} ({watch_list(watches)})", name)


def parse_watches(root: TableReader) -> tuple[Watch, ...]:
    watches: list[Watch] = []
    for reader in root.tables("watches"):
        reader.reject_unknown(WATCH_KEYS)
        name = reader.text("name")
        # A valid watch name: not blank, and no other watch's (spaces around it do not count).
        if name is None:
            raise reader.fail("name", "a non-empty string naming the watch", reader.table.get("name"))
        if any(watch.name == name for watch in watches):
            raise reader.fail("name", "a name no other watch has", reader.table["name"])
        sources_reader = reader.sub("sources")
        sources: dict[str, dict[str, Any]] = {}
        for source_name in sources_reader.table:
            check_source_name(root.where, f"watches.{name}.sources", source_name)
            sources[source_name] = dict(sources_reader.sub(source_name).table)
        watches.append(
            Watch(
                name=name,
                keywords=reader.words("keywords"),
                required=reader.words("required"),
                excluded=reader.words("excluded"),
                languages=tuple(lang.lower() for lang in reader.words("languages")),
                sources=sources,
                brand=reader.text("brand"),
                product=reader.text("product"),
            )
        )
    return tuple(watches)
