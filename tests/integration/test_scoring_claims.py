"""Scorers sharing a store: each batch is claimed by one scorer, batches page by keyset, and a scorer
that dies mid-batch leaves its batch for the next. On PostgreSQL the claim is a row lock (FOR UPDATE
SKIP LOCKED); SQLite has no row locks, so there the point is that the same code stays correct."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update

from models import Score
from monitor.score import run
from monitor.score.run import score_pending
from monitor.store.engine import connect
from monitor.store.mentions import SCORE_COLUMNS, PendingText, import_mentions
from monitor.store.schema import mentions
from monitor.store.triage import relabel
from tests.factories import mention

pytestmark = pytest.mark.both_databases


class CountingModel:
    """Reads a mention's number from its text, and counts how often it saw each one."""

    languages = frozenset({"en"})

    def __init__(self, version: str = "count-1", pause: float = 0.0, fail_on_call: int | None = None) -> None:
        self.version = version
        self.pause = pause  # sleep per batch, so two scorers' batches interleave
        self.fail_on_call = fail_on_call
        self.seen: Counter[int] = Counter()
        self.calls = 0
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str]) -> list[Score]:
        with self._lock:
            self.calls += 1
            if self.calls == self.fail_on_call:
                raise RuntimeError("the scorer died mid-batch")
            self.seen.update(number(text) for text in texts)
        time.sleep(self.pause)
        return [Score("negative" if number(t) % 3 == 0 else "neutral", 0.6, 0.3, 0.1, "en") for t in texts]


def number(text: str) -> int:
    return int(text.split()[2])  # "mention number N about acme"


def seed(engine: Engine, count: int) -> None:
    import_mentions(engine, "acme", [mention(n) for n in range(1, count + 1)])


def scores(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """Every mention's stored score, scored_at aside (it is the time of scoring)."""
    columns = [mentions.c[name] for name in SCORE_COLUMNS if name != "scored_at"]
    with engine.connect() as connection:
        rows = connection.execute(select(mentions.c.external_id, *columns)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def clear_scores(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(mentions).values({name: None for name in SCORE_COLUMNS}))


def test_two_scorers_at_once_score_every_mention_once_as_one_scorer_would(database_url: str) -> None:
    total = 300
    engines = [connect(database_url), connect(database_url)]  # two scorers, as two processes would be
    seed(engines[0], total)
    models = [CountingModel(pause=0.003), CountingModel(pause=0.003)]
    start = threading.Barrier(2)
    done: list[int] = [0, 0]

    def scorer(i: int) -> None:
        start.wait()
        done[i] = score_pending(engines[i], models[i], batch_size=10)

    threads = [threading.Thread(target=scorer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    together = models[0].seen + models[1].seen
    assert set(together) == set(range(1, total + 1))
    if engines[0].dialect.name == "postgresql":
        assert max(together.values()) == 1, "a mention was scored twice"
        assert sum(done) == total
        assert all(model.seen for model in models), "one scorer did all the work"
    else:
        # SQLite has no row claims: two writers may score a batch twice, with the same result.
        assert sum(done) >= total
    shared = scores(engines[0])
    clear_scores(engines[0])
    assert score_pending(engines[0], CountingModel(), batch_size=10) == total
    assert scores(engines[0]) == shared
    for engine in engines:
        engine.dispose()


def test_threads_sharing_one_engine_score_each_mention_once(engine: Engine) -> None:
    seed(engine, 60)
    model = CountingModel(pause=0.002)
    options = {"batch_size": 7}
    threads = [threading.Thread(target=score_pending, args=(engine, model), kwargs=options) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert model.seen == Counter(range(1, 61))


def test_a_rescore_pages_by_keyset_and_never_asks_from_a_lower_id(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(engine, 50)
    score_pending(engine, CountingModel("v1"))
    asked: list[tuple[int, list[int]]] = []
    claim = run.claim_unscored

    def recording_claim(connection: Any, limit: int, version: str | None = None, *, after: int = 0) -> Any:
        batch: list[PendingText] = claim(connection, limit, version, after=after)
        asked.append((after, [item.id for item in batch]))
        return batch

    monkeypatch.setattr(run, "claim_unscored", recording_claim)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    model = CountingModel("v2")
    assert score_pending(engine, model, batch_size=7, rescore=True) == 50
    assert model.seen == Counter(range(1, 51))
    # 8 batches of up to 7, each asked from the last id of the one before, then the empty end of the
    # pass; then one closing pass from the start finds nothing left.
    assert len(asked) == 10 and asked[0][0] == 0
    for (_, ids), (next_after, _) in itertools.pairwise(asked[:9]):
        assert next_after == ids[-1]
    assert asked[8] == (asked[7][1][-1], []) and asked[9] == (0, [])
    pending_selects = [s for s in statements if "FROM mentions" in s and "ORDER BY mentions.id" in s]
    assert len(pending_selects) == len(asked)
    assert all("mentions.id >" in s for s in pending_selects)
    if engine.dialect.name == "postgresql":
        assert all("FOR UPDATE OF mentions SKIP LOCKED" in s for s in pending_selects)


def test_a_scorer_that_dies_mid_batch_leaves_its_batch_for_the_next(engine: Engine) -> None:
    seed(engine, 30)
    dying = CountingModel(fail_on_call=2)
    with pytest.raises(RuntimeError, match="died mid-batch"):
        score_pending(engine, dying, batch_size=10)
    assert len(scores_done(engine)) == 10  # the first batch was stored before the second failed
    after = CountingModel()
    assert score_pending(engine, after, batch_size=10) == 20
    assert after.seen == Counter(range(11, 31))
    assert len(scores_done(engine)) == 30


def test_a_batch_held_by_another_scorer_is_skipped_then_freed_when_it_dies(database_url: str) -> None:
    holder_engine, other_engine = connect(database_url), connect(database_url)
    seed(holder_engine, 40)
    holding, release = threading.Event(), threading.Event()

    class HoldingModel(CountingModel):
        def predict(self, texts: Sequence[str]) -> list[Score]:
            holding.set()  # the first batch is claimed: its transaction is open
            release.wait(30)
            raise RuntimeError("killed while holding its batch")

    errors: list[BaseException] = []

    def holder() -> None:
        try:
            score_pending(holder_engine, HoldingModel(), batch_size=10)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(30)
    other = CountingModel()
    score_pending(other_engine, other, batch_size=10)
    release.set()
    thread.join(30)
    assert errors, "the holder should have died"
    nxt = CountingModel()
    score_pending(other_engine, nxt, batch_size=10)
    if other_engine.dialect.name == "postgresql":
        # The other scorer stepped past the held batch; the holder's rollback freed it for the next.
        assert other.seen == Counter(range(11, 41))
        assert nxt.seen == Counter(range(1, 11))
    else:
        # No row claims on SQLite (one writer): the other scorer simply scored everything.
        assert other.seen == Counter(range(1, 41))
        assert not nxt.seen
    assert len(scores_done(other_engine)) == 40
    holder_engine.dispose()
    other_engine.dispose()


def scores_done(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(select(mentions.c.id).where(mentions.c.scored_at.is_not(None))))


def test_a_rescore_by_keyset_still_leaves_a_label_a_person_corrected(engine: Engine) -> None:
    seed(engine, 10)
    score_pending(engine, CountingModel("v1"))
    with engine.connect() as connection:
        corrected = connection.scalar(select(mentions.c.id).where(mentions.c.external_id == "m3"))
    assert corrected is not None
    relabel(engine, corrected, "positive", "ana")
    model = CountingModel("v2")
    assert score_pending(engine, model, batch_size=4, rescore=True) == 9
    assert model.seen == Counter(n for n in range(1, 11) if n != 3)
    with engine.connect() as connection:
        row = connection.execute(
            select(mentions.c.label, mentions.c.model_version).where(mentions.c.id == corrected)
        ).one()
    assert tuple(row) == ("positive", "v1")
