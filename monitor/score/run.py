"""Store <-> model glue: unscored mentions in batches, predicted, stored with probabilities and version."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from monitor.errors import ScoringError
from monitor.mention import utcnow
from monitor.ranking import rank_key
from monitor.score.cues import leaning
from monitor.score.verdict import decide
from monitor.store.mentions import PendingText, save_scores, unscored

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


# Two jobs (a collection and the periodic scoring) may both want the model; one at a time keeps the
# cores for one batch and never scores the same mention twice at once.
_scoring_lock = threading.Lock()


def score_pending(
    engine: Engine, model: Model, *, batch_size: int = 64, rescore: bool = False, limit: int | None = None
) -> int:
    """Score every unscored mention (or, with `rescore`, every one scored by another model version)."""
    done = 0
    with _scoring_lock:
        while limit is None or done < limit:
            size = batch_size if limit is None else min(batch_size, limit - done)
            pending = unscored(engine, size, model.version if rescore else None)
            if not pending:
                break
            scores = model.predict([item.text for item in pending])
            now = utcnow()
            save_scores(
                engine,
                [_row(item, score, model, now) for item, score in zip(pending, scores, strict=True)],
            )
            done += len(pending)
    if done:
        log.info("scored %d mentions with %s", done, model.version)
    return done


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
            float(score.negative), item.created_at, item.author_reach, item.engagement, item.rating
        ),
    }
