"""A streamed batch stored with the cursor after it, in one transaction: a crash repeats the batch,
never skips or doubles it. Each watch's mentions go through the collector's own saving path
(collect/saving.py `store_batch`: new ones inserted, edits kept as versions and reopening answered
cases, deletions marked), so a streamed mention is stored exactly as a polled one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from monitor.collect.saving import store_batch
from monitor.mention import Mention
from monitor.store.streams import Progress, StreamKey, advance_stream


@dataclass(frozen=True)
class Saved:
    new: int = 0
    edited: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        """Something the scorer or the inbox must look at."""
        return bool(self.new or self.edited or self.deleted)


def save_stream_batch(
    engine: Engine,
    key: StreamKey,
    per_watch: Mapping[str, Sequence[Mention]],
    deleted: Sequence[str],
    cursor: str | None,
    progress: Progress,
) -> Saved:
    new = edited = gone = 0
    with engine.begin() as connection:
        # Deletions once (they are not per watch); a mention that two watches match is new once.
        names = [name for name, batch in per_watch.items() if batch] or ([""] if deleted else [])
        for index, name in enumerate(names):
            stored = store_batch(
                connection, name, key.source, per_watch.get(name, ()), deleted if index == 0 else ()
            )
            new, edited, gone = new + stored.new, edited + stored.edited, gone + stored.deleted
        advance_stream(connection, key, cursor, progress, new)
    return Saved(new, edited, gone)
