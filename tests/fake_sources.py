"""Sources for tests of the collector and scheduler: they follow the protocol, no HTTP."""

from __future__ import annotations

import json
from typing import ClassVar

from monitor.errors import SourceError
from monitor.mention import Page, Watch
from tests.factories import mention


class PagedSource:
    """Serves mentions 0..total-1, `page_size` a page, oldest first; the cursor is the next index."""

    name: ClassVar[str] = "paged"

    def __init__(
        self, total: int, page_size: int, fail_at: int | None = None, error: SourceError | None = None
    ):
        self.total = total
        self.page_size = page_size
        self.fail_at = fail_at
        self.error = error
        self.calls: list[str | None] = []

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        self.calls.append(cursor)
        start = json.loads(cursor)["next"] if cursor else 0
        if self.fail_at is not None and start >= self.fail_at:
            raise self.error or SourceError(self.name, "scripted failure")
        end = min(start + self.page_size, self.total)
        items = [mention(n, source=self.name, text=f"acme item {n}") for n in range(start, end)]
        return Page(items, json.dumps({"next": end}), has_more=end < self.total)
