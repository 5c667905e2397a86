"""The labels people gave, read as a watch's learning set, and labels that arrive with an import (a
`label` column: a person's label, kept exactly as a relabel in the dashboard keeps one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, tuple_, update

from monitor.mention import utcnow
from monitor.store.mentions import scoring_text
from monitor.store.schema import label_feedback, mention_watches, mentions
from monitor.store.triage import record_event


@dataclass(frozen=True)
class Correction:
    mention_id: int
    text: str  # as scored: the title, then the text
    label: str


def watch_corrections(engine: Engine, watch: str) -> list[Correction]:
    """The latest label a person gave each mention of `watch`, oldest mention first."""
    latest = (
        select(func.max(label_feedback.c.id))
        .join(mention_watches, mention_watches.c.mention_id == label_feedback.c.mention_id)
        .where(mention_watches.c.watch == watch)
        .group_by(label_feedback.c.mention_id)
    )
    query = (
        select(mentions.c.id, mentions.c.title, mentions.c.text, label_feedback.c.corrected_label)
        .join(label_feedback, label_feedback.c.mention_id == mentions.c.id)
        .where(label_feedback.c.id.in_(latest))
        .order_by(mentions.c.id)
    )
    with engine.connect() as connection:
        return [
            Correction(row.id, scoring_text(row.title, row.text), row.corrected_label)
            for row in connection.execute(query)
        ]


def count_corrections(engine: Engine, watch: str) -> int:
    query = (
        select(func.count(func.distinct(label_feedback.c.mention_id)))
        .join(mention_watches, mention_watches.c.mention_id == label_feedback.c.mention_id)
        .where(mention_watches.c.watch == watch)
    )
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def record_labels(engine: Engine, labels: Mapping[tuple[str, str], str], actor: str) -> int:
    """Keep each imported row's label (keyed by source and external id) as a person's correction.

    Unlike a relabel in the dashboard, a label that agrees with the model is kept too: a learning set
    made only of the model's mistakes would teach it that it is always wrong. A label equal to the
    mention's latest correction is not kept twice (importing a file again adds nothing). Returns how
    many were kept."""
    if not labels:
        return 0
    now = utcnow()
    kept = 0
    with engine.begin() as connection:
        rows = connection.execute(
            select(
                mentions.c.id,
                mentions.c.source,
                mentions.c.external_id,
                mentions.c.label,
                mentions.c.model_version,
            ).where(tuple_(mentions.c.source, mentions.c.external_id).in_(list(labels)))
        ).all()
        ids = [row.id for row in rows]
        latest: dict[int, str] = {}
        for mention_id, label in connection.execute(
            select(label_feedback.c.mention_id, label_feedback.c.corrected_label)
            .where(label_feedback.c.mention_id.in_(ids))
            .order_by(label_feedback.c.id)
        ):
            latest[int(mention_id)] = str(label)
        for row in rows:
            label = labels[(row.source, row.external_id)]
            if latest.get(row.id) == label:
                continue
            connection.execute(
                label_feedback.insert().values(
                    mention_id=row.id,
                    model_label=row.label,
                    model_version=row.model_version,
                    corrected_label=label,
                    corrected_by=actor,
                    corrected_at=now,
                )
            )
            if row.label != label:
                connection.execute(update(mentions).where(mentions.c.id == row.id).values(label=label))
            record_event(connection, row.id, "relabel", row.label, label, actor, now, note="imported label")
            kept += 1
    return kept
