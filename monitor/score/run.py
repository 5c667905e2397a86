"""Store <-> model glue: unscored mentions in batches, predicted, stored with probabilities and version."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine

from monitor.errors import ScoringError
from monitor.mention import utcnow
from monitor.observe.metrics import count_scored, time_score_batch
from monitor.ranking import rank_key
from monitor.score.adapted import adapted_model
from monitor.score.cues import leaning
from monitor.store.calibrations import ScoringContext, scoring_context
from monitor.store.mentions import PendingText, claim_unscored, write_scores
from monitor.verdict import decide

if TYPE_CHECKING:
    from models import Score

log = logging.getLogger(__name__)


class Model(Protocol):
    """What scoring needs of a model: `models.SentimentModel`, or a stand-in in fast unit tests."""

    @property
    def version(self) -> str: ...

    @property
    def languages(self) -> frozenset[str]: ...

    def predict(self, texts: Sequence[str]) -> Sequence[Score]: ...


def load_model(name_or_path: str | None) -> Model:
    """The configured model, or the bundled one; load errors become a ScoringError that says what to fix."""
    # Imported here: torch and onnxruntime take seconds to import, and most commands never score.
    from models import ModelError, SentimentModel

    try:
        return SentimentModel.load(name_or_path)
    except ModelError as exc:
        raise ScoringError(f"cannot load the sentiment model: {exc}") from None


# Two jobs in one process (a collection and the periodic scoring) may both want the model on the same
# store; one at a time keeps the cores for one batch, and on SQLite (no row claims) never scores the
# same mention twice at once. Scorers on other engines (other processes, or other threads with an
# engine of their own) share a PostgreSQL store through the row claims in `_score_batch` instead.
_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _engine_lock(engine: Engine) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(engine, threading.Lock())


def score_pending(
    engine: Engine,
    model: Model,
    *,
    batch_size: int = 64,
    rescore: bool = False,
    limit: int | None = None,
    after_batch: Callable[[Sequence[int]], object] | None = None,
) -> int:
    """Score every unscored mention (or, with `rescore`, every one scored by another model version).

    Passes over the store in id order until one pass finds nothing: a later pass picks up what an
    earlier one stepped past, a batch another scorer held and then gave up (it died mid-batch), or a
    mention whose lower id was committed after the pass went by it (PostgreSQL hands out ids before
    commit). Ordinarily the second pass finds nothing, so the store is read once more, not per batch.

    `after_batch` is given each committed batch's ids (complaint topics assign them at once)."""
    version = model.version if rescore else None
    done = 0
    with _engine_lock(engine):
        while limit is None or done < limit:
            budget = None if limit is None else limit - done
            scored = _score_pass(engine, model, batch_size, version, budget, after_batch)
            done += scored
            if not scored:
                break
    if done:
        log.info("scored %d mentions with %s", done, model.version)
    return done


def _score_pass(
    engine: Engine,
    model: Model,
    batch_size: int,
    version: str | None,
    budget: int | None,
    after_batch: Callable[[Sequence[int]], object] | None = None,
) -> int:
    """One walk over the store by keyset: each batch starts after the last id the previous one saw."""
    done, last = 0, 0
    while budget is None or done < budget:
        size = batch_size if budget is None else min(batch_size, budget - done)
        scored = _score_batch(engine, model, size, version, last)
        if not scored:
            break
        if after_batch is not None:
            after_batch(scored)
        done += len(scored)
        last = scored[-1]
    return done


def _score_batch(engine: Engine, model: Model, size: int, version: str | None, after: int) -> list[int]:
    """Claim up to `size` mentions past id `after`, score them, and store the scores: one transaction.

    The claim is the row lock of that transaction (FOR UPDATE SKIP LOCKED on PostgreSQL), held while
    the model reads the batch, rather than a claimed-by column with a lease. A batch is about a second
    of inference, so the transaction stays short; a scorer that dies or raises rolls back, and its
    batch is free again at once, where a lease would leave it stuck until it expired (and need a
    timeout longer than the slowest batch, a migration, and a sweep). Returns the ids scored."""
    with engine.begin() as connection:
        pending = claim_unscored(connection, size, version, after=after)
        if not pending:
            return []
        now = score_claimed(connection, model, pending)
    count_scored(pending, now)  # once committed: a batch rolled back was not scored
    return [item.id for item in pending]


def score_claimed(connection: Connection, model: Model, pending: Sequence[PendingText]) -> datetime:
    """Score mentions claimed in the caller's transaction and write their scores; returns the time
    written. Each score is shifted by its watch's calibration (monitor/learn/) and names it, and a
    label a person gave stays the mention's label (the model's own is kept as its text label)."""
    context = scoring_context(connection, [item.id for item in pending], model.version)
    with time_score_batch():
        scores, fell_back = _predict(connection, model, pending, context)
    now = utcnow()
    rows = []
    for item, score in zip(pending, scores, strict=True):
        found = context.get(item.id, NO_CONTEXT)
        if item.id in fell_back:
            found = ScoringContext(corrected_label=found.corrected_label)
        if found.offsets is not None:
            score = _calibrated(score, found.offsets)
        row = _row(item, score, model, now)
        row["calibration_id"] = found.calibration_id
        if found.corrected_label is not None:
            row["label"] = found.corrected_label
        rows.append(row)
    write_scores(connection, rows)
    return now


NO_CONTEXT = ScoringContext()


def _predict(
    connection: Connection, model: Model, pending: Sequence[PendingText], context: dict[int, ScoringContext]
) -> tuple[list[Score], set[int]]:
    """Each mention's score from its watch's fine-tuned model where the calibration is one, else from
    `model`. A fine-tuned model that cannot be loaded is logged and its mentions are scored by `model`
    without the calibration (their ids are returned): nothing goes unscored for it."""
    groups: dict[tuple[int, str] | None, list[int]] = {}
    for index, item in enumerate(pending):
        found = context.get(item.id, NO_CONTEXT)
        key = (found.calibration_id, found.adapted) if found.adapted and found.calibration_id else None
        groups.setdefault(key, []).append(index)
    scores: list[Score | None] = [None] * len(pending)
    fell_back: set[int] = set()
    for key, indices in groups.items():
        scorer = model
        if key is not None:
            try:
                scorer = adapted_model(connection, model, key[0], key[1])
            except ScoringError as exc:
                log.error("%s; scoring %d mention(s) with %s instead", exc, len(indices), model.version)
                fell_back.update(pending[i].id for i in indices)
        for index, score in zip(indices, scorer.predict([pending[i].text for i in indices]), strict=True):
            scores[index] = score
    return [s for s in scores if s is not None], fell_back


def _calibrated(score: Score, offsets: Sequence[float]) -> Score:
    from models.sentiment import shifted  # here: most commands never score (see load_model)

    return shifted(score, offsets)


def _row(item: PendingText, score: Score, model: Model, now: datetime) -> dict[str, Any]:
    language = score.language or item.language
    verdict = decide(
        score.label,
        float(score.negative),
        item.rating,
        language,
        model.languages,
        cue=leaning(item.text, language),
    )
    return {
        "id": item.id,
        "label": verdict.label,
        "text_label": score.label,
        "label_basis": verdict.basis,
        "negative": float(score.negative),
        "neutral": float(score.neutral),
        "positive": float(score.positive),
        "detected_language": score.language,
        "model_version": model.version,
        "scored_at": now,
        "rank_key": rank_key(
            float(score.negative),
            item.created_at,
            item.author_reach,
            item.engagement,
            item.rating,
            item.vip,
            seen_at=item.collected_at,
        ),
    }
