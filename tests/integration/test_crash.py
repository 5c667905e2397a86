"""A collection killed with SIGKILL at any point repeats work on the next run, never loses or doubles it."""

import json
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine, func, select

from monitor.collect.run import collect
from monitor.store.collect_state import get_state
from monitor.store.engine import connect
from monitor.store.schema import mention_watches, mentions
from tests.conftest import REPO
from tests.crash_worker import PAGE_SIZE, TOTAL
from tests.factories import watch
from tests.fake_sources import PagedSource


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(mentions)) or 0)


def cursor_position(engine: Engine) -> int:
    cursor = get_state(engine, "acme", "paged").cursor
    return json.loads(cursor)["next"] if cursor else 0


@pytest.mark.both_databases
@pytest.mark.slow
def test_kill_9_mid_collection_then_rerun_stores_every_mention_exactly_once(database_url: str) -> None:
    engine = connect(database_url)
    for threshold in (100, 600, 1500):
        worker = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", database_url], cwd=REPO)
        deadline = time.monotonic() + 60
        while stored(engine) < threshold and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert worker.returncode == -signal.SIGKILL, "the worker finished before it could be killed"
        # The cursor moved exactly with the stored mentions: nothing past it, nothing missing before it.
        position = cursor_position(engine)
        assert stored(engine) == position
        assert position % PAGE_SIZE == 0
    assert stored(engine) < TOTAL
    result = collect(
        engine, watch(), PagedSource(total=TOTAL, page_size=PAGE_SIZE), force=True, max_pages=10_000
    )
    assert result.ok
    assert stored(engine) == TOTAL
    assert cursor_position(engine) == TOTAL
    with engine.connect() as connection:
        ids = connection.scalars(select(mentions.c.external_id)).all()
        links = connection.scalar(select(func.count()).select_from(mention_watches))
    assert sorted(ids) == sorted(f"m{n}" for n in range(TOTAL))
    assert links == TOTAL
    engine.dispose()
