"""The file source: CSV or JSONL exports dropped in a folder, picked up by the scheduler.

A watch names files with `path` (a file or a glob). Files unchanged since the last run (same size and
modification time) are not read again; changed files are re-read whole, and the store's uniqueness on
(source, id) keeps each row once. `grumble import` reads a single file through the same parser.
"""

from __future__ import annotations

import glob
import json
import logging
from pathlib import Path
from typing import ClassVar

from monitor.errors import SourceNotFound, SourceResponseError
from monitor.mention import Page, Watch
from monitor.sources.base import SourceSettings
from monitor.sources.tabular import read_file

log = logging.getLogger(__name__)


class FileSource:
    name: ClassVar[str] = "file"

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        pattern = options.get("path")
        if not isinstance(pattern, str) or not pattern:
            raise SourceResponseError(
                self.name, f"watch {watch.name!r} needs [watches.sources.file] path = '...'"
            )
        seen: dict[str, list[float]] = json.loads(cursor) if cursor else {}
        paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not paths or not all(Path(p).exists() for p in paths):
            raise SourceNotFound(self.name, f"no file matches {pattern!r} (watch {watch.name!r})")
        mentions = []
        for name in paths:
            stat = Path(name).stat()
            signature = [stat.st_size, stat.st_mtime]
            if seen.get(name) == signature:
                continue
            batch = read_file(Path(name), columns=options.get("columns") or {}, source=self.name)
            for problem in batch.problems:
                log.warning("file %s: %s", name, problem)
            mentions.extend(batch.mentions)
            seen[name] = signature
        return Page(mentions=mentions, next_cursor=json.dumps(seen, sort_keys=True))


def build(settings: SourceSettings) -> FileSource:
    return FileSource()
