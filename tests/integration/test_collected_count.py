"""One item collected by two watches at the same moment is one new mention, however the race falls:
`grumble status`'s "collected" (the sum of each (watch, source)'s count) says 1, not 2. Real
PostgreSQL: the first watch's page is written and not yet committed while the second watch's page
runs, so the second sees no row, inserts, and waits on the first's unique key (the race itself)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from monitor.collect.saving import save_page, store_batch
from monitor.store.collect_state import advance_cursor, all_states
from tests.alerts.conftest import grumble
from tests.conftest import REPO
from tests.factories import mention

POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@POSTGRES
def test_an_item_two_watches_insert_at_once_is_collected_once(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    item = mention(1, source="paged", text="acme and globex both broke my order")
    second: dict[str, int] = {}

    with engine.connect() as first:
        transaction = first.begin()
        stored = store_batch(first, "acme", "paged", [item])
        advance_cursor(first, "acme", "paged", "1", stored.new)

        def globex_collects() -> None:
            second["new"] = save_page(engine, "globex", "paged", [item], "1").new

        racing = threading.Thread(target=globex_collects)
        racing.start()
        racing.join(timeout=1.0)
        assert racing.is_alive(), "the second watch's insert should wait on the first's uncommitted row"
        transaction.commit()
        racing.join(timeout=30)

    assert (stored.new, second["new"]) == (1, 0)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM mentions")).scalar_one() == 1
        links = connection.execute(text("SELECT watch FROM mention_watches ORDER BY watch")).scalars().all()
    assert links == ["acme", "globex"]  # both watches still have the item
    assert sum(state.mentions_collected for state in all_states(engine)) == 1

    config = tmp_path / "grumble.toml"
    config.write_text(
        f'database_url = "{database_url}"\n[[watches]]\nname = "acme"\n[[watches]]\nname = "globex"\n',
        encoding="utf-8",
    )
    status = subprocess.run(
        grumble(config, "status"), cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "collected:        1\n" in status, status
