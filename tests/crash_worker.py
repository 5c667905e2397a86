"""Run by the crash test in a subprocess, which kills it with SIGKILL mid-collection."""

from __future__ import annotations

import sys

from monitor.collect.run import collect
from monitor.store.engine import connect
from tests.factories import watch
from tests.fake_sources import PagedSource

TOTAL = 4000
PAGE_SIZE = 20

if __name__ == "__main__":
    engine = connect(sys.argv[1])
    collect(engine, watch(), PagedSource(total=TOTAL, page_size=PAGE_SIZE), force=True, max_pages=10_000)
