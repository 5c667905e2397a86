"""Each inbox order reads its first page along an index, on both databases: no sort of every match.

PostgreSQL keeps NULL above every value, SQLite below, so an index that gives "highest first, unscored
last" on one needn't on the other: on PostgreSQL the inbox sorted all open negatives for each page
(1.1 s on a million mentions) until the indexes were built in the inbox's own orders (migration 0014).
The plans are read with the planner told to prefer indexes: a small store would be scanned otherwise.
"""

import re

import pytest
from sqlalchemy import Engine, text

from bench.seed import seed
from monitor.store.filters import MentionFilter
from monitor.store.inbox import SORTS, ranked_query

INBOX = MentionFilter(labels=["negative"], triage=["open"])
INDEXED = ("priority", "reach", "most negative")  # newest walks ix_mentions_created by label


def plan(engine: Engine, sort: str) -> str:
    sql = str(ranked_query(INBOX, 25, sort=sort).compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
        return "\n".join(row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


@pytest.mark.both_databases
def test_every_order_of_the_inbox_walks_an_index_instead_of_sorting(engine: Engine) -> None:
    seed(engine, 2_000)
    assert set(INDEXED) < set(SORTS)
    for sort in SORTS:
        shown = plan(engine, sort)
        if engine.dialect.name == "postgresql":
            # A sort of every match; an incremental sort of the ties along an index is fine.
            assert not re.search(r"(^|->)\s*Sort\s+\(", shown, re.MULTILINE), f"{sort}: {shown}"
        else:
            assert "TEMP B-TREE FOR ORDER BY" not in shown, f"{sort}: {shown}"
        if sort in INDEXED:
            assert "ix_mentions_inbox" in shown, f"{sort}: {shown}"
