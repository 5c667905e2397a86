"""`[[watches]]`, and the one rule for watch names: what a valid one is, and how a setting that names
a watch (a digest list, an assignment rule, a brand's competitors) is checked and told which names exist.

A brand watch lists the watches it is compared with (`competitors = ["globex"]`): each must be another
configured watch, named once, and following competitors from watch to watch must never come back to
where it started. A comparison is drawn from the brand's side; two watches naming each other would be
the same group claimed by both, so the file says once which one is the brand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.config.sources import check_source_name
from monitor.config.tables import TableReader
from monitor.errors import ConfigError
from monitor.mention import Watch

WATCH_KEYS = {"name", "keywords", "required", "excluded", "languages", "sources", "brand", "product"}
WATCH_KEYS |= {"competitors"}
WATCH_KEYS |= {"topics"}  # seed complaint topics (monitor/topics/)


def watch_list(watches: Sequence[Watch]) -> str:
    """The configured watch names for a message: sorted, or "none"."""
    return ", ".join(sorted(watch.name for watch in watches)) or "none"


def competitor_watches(watches: Sequence[Watch]) -> tuple[str, ...]:
    """The watches some brand watch names among its competitors: what they match stays out of the
    care inbox, its count and the digests unless asked for (a competitor's customers are not ours)."""
    return tuple(sorted({name for watch in watches for name in watch.competitors}))


def check_watch(reader: TableReader, key: str, name: str, watches: Sequence[Watch], expected: str) -> None:
    """`name`, written at `key`, must be a configured watch's; the error lists those that are."""
    if not any(watch.name == name for watch in watches):
        raise reader.fail(key, f"{expected} ({watch_list(watches)})", name)


def parse_watches(root: TableReader) -> tuple[Watch, ...]:
    watches: list[Watch] = []
    readers = root.tables("watches")
    for reader in readers:
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
                competitors=reader.words("competitors"),
                topics=reader.words("topics"),
            )
        )
    # Checked once every watch is known: a brand may name a competitor defined further down.
    for reader, watch in zip(readers, watches, strict=True):
        _check_competitors(reader, watch, watches)
    _check_no_cycle(dict(zip((w.name for w in watches), readers, strict=True)), watches)
    return tuple(watches)


def _check_competitors(reader: TableReader, watch: Watch, watches: Sequence[Watch]) -> None:
    seen: set[str] = set()
    for name in watch.competitors:
        if name == watch.name:
            raise reader.fail(
                "competitors",
                f"other watches' names (a watch is not its own competitor: remove {name!r})",
                name,
            )
        check_watch(reader, "competitors", name, watches, "names of configured watches")
        if name in seen:
            raise reader.fail("competitors", "each competitor named once", name)
        seen.add(name)


def _check_no_cycle(readers: dict[str, TableReader], watches: Sequence[Watch]) -> None:
    """Depth first along competitors; an edge back to a watch still on the path closes a cycle, and
    the watch that wrote that edge (the later one, as the file is walked in order) is told to drop it."""
    competitors = {watch.name: watch.competitors for watch in watches}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for rival in competitors[name]:
            if rival in path:
                loop = " → ".join([*path[path.index(rival) :], rival])
                raise ConfigError(
                    f"{readers[name].location('competitors')}: competitors go round in a cycle ({loop}); "
                    f"list competitors on the brand watch only: remove {rival!r} from the competitors "
                    f"of {name!r}"
                )
            if rival not in done:
                visit(rival, [*path, rival])
        done.add(name)

    for watch in watches:
        if watch.name not in done:
            visit(watch.name, [watch.name])
