"""A watch's calibrations: saving what `grumble learn` fitted, which one each watch uses, changing and
undoing that (every change is an event), and what scoring needs to apply them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.mentions import PendingText, pending_columns, pending_rows
from monitor.store.schema import (
    active_calibrations,
    adapted_models,
    calibration_events,
    calibrations,
    label_feedback,
    mention_watches,
    mentions,
)


class CalibrationError(GrumbleError):
    """A calibration change that cannot be made (nothing to roll back to, an unknown id)."""


@dataclass(frozen=True)
class Calibration:
    id: int
    watch: str
    model_version: str
    offsets: tuple[float, float, float]
    target: str
    corrections: int
    report: dict[str, Any]
    decision: str
    reason: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CalibrationEvent:
    action: str
    calibration_id: int | None
    previous_id: int | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class ScoringContext:
    """What scoring one mention takes from the store besides its text: its watch's active calibration
    for this model, and the label a person gave it (which the model's verdict does not overrule)."""

    calibration_id: int | None = None
    offsets: tuple[float, float, float] | None = None
    corrected_label: str | None = None
    # The hash of the calibration's fine-tuned model (monitor/store/adapted_models.py), if it is one.
    adapted: str | None = None


def _calibration(row: Any) -> Calibration:
    neg, neu, pos = (float(x) for x in row.offsets)
    return Calibration(
        row.id,
        row.watch,
        row.model_version,
        (neg, neu, pos),
        row.target,
        row.corrections,
        dict(row.report),
        row.decision,
        row.reason,
        row.created_by,
        row.created_at,
    )


def save_calibration(
    engine: Engine,
    *,
    watch: str,
    model_version: str,
    offsets: Sequence[float],
    target: str,
    corrections: int,
    report: dict[str, Any],
    decision: str,
    reason: str,
    actor: str,
    adapted: tuple[str, bytes, dict[str, Any]] | None = None,
) -> int:
    """Record a fitted calibration, with its fine-tuned weights where it is a fine-tuned model
    (`adapted`: their hash, the bytes, the recipe); activating it is `activate`'s (the caller decides)."""
    values = {
        "watch": watch,
        "model_version": model_version,
        "offsets": [round(float(x), 4) for x in offsets],
        "target": target,
        "corrections": corrections,
        "report": report,
        "decision": decision,
        "reason": reason,
        "created_by": actor,
        "created_at": utcnow(),
    }
    with engine.begin() as connection:
        key = connection.execute(calibrations.insert().values(values)).inserted_primary_key
        assert key is not None
        if adapted is not None:
            sha256, weights, recipe = adapted
            connection.execute(
                adapted_models.insert().values(
                    calibration_id=int(key[0]),
                    sha256=sha256,
                    weights=weights,
                    recipe=recipe,
                    created_at=values["created_at"],
                )
            )
        return int(key[0])


def get_calibration(engine: Engine, calibration_id: int) -> Calibration:
    with engine.connect() as connection:
        row = connection.execute(select(calibrations).where(calibrations.c.id == calibration_id)).first()
    if row is None:
        raise CalibrationError(f"no calibration with id {calibration_id}; `grumble model history` lists them")
    return _calibration(row)


def active_id(connection: Connection, watch: str) -> int | None:
    value = connection.scalar(
        select(active_calibrations.c.calibration_id).where(active_calibrations.c.watch == watch)
    )
    return None if value is None else int(value)


def active_calibration(engine: Engine, watch: str) -> Calibration | None:
    """The calibration `watch` scores with now; None: the model's own scores."""
    with engine.connect() as connection:
        current = active_id(connection, watch)
    return None if current is None else get_calibration(engine, current)


def activate(
    engine: Engine, watch: str, calibration_id: int | None, actor: str, action: str = "activate"
) -> int | None:
    """Make `calibration_id` (None: the model as shipped) the watch's; returns what was active before."""
    now = utcnow()
    with engine.begin() as connection:
        previous = active_id(connection, watch)
        exists = connection.scalar(
            select(active_calibrations.c.watch).where(active_calibrations.c.watch == watch)
        )
        values = {"calibration_id": calibration_id, "since": now, "changed_by": actor}
        if exists is None:
            connection.execute(active_calibrations.insert().values(watch=watch, **values))
        else:
            connection.execute(
                active_calibrations.update().where(active_calibrations.c.watch == watch).values(values)
            )
        connection.execute(
            calibration_events.insert().values(
                watch=watch,
                action=action,
                calibration_id=calibration_id,
                previous_id=previous,
                actor=actor,
                at=now,
            )
        )
    return previous


def rollback_target(engine: Engine, watch: str) -> int | None:
    """What a rollback goes back to: what was active before the current calibration was activated.
    Repeated rollbacks walk back through the activations, down to the model as shipped."""
    with engine.connect() as connection:
        current = active_id(connection, watch)
        if current is None:
            raise CalibrationError(
                f"watch {watch!r} scores with the model as shipped: there is nothing to roll back"
            )
        previous = connection.execute(
            select(calibration_events.c.previous_id)
            .where(
                calibration_events.c.watch == watch,
                calibration_events.c.action == "activate",
                calibration_events.c.calibration_id == current,
            )
            .order_by(calibration_events.c.id.desc())
            .limit(1)
        ).first()
    return None if previous is None or previous[0] is None else int(previous[0])


def history(engine: Engine, watch: str) -> tuple[list[Calibration], list[CalibrationEvent]]:
    """Every calibration fitted for the watch and every change of the active one, oldest first."""
    with engine.connect() as connection:
        fitted = connection.execute(
            select(calibrations).where(calibrations.c.watch == watch).order_by(calibrations.c.id)
        ).all()
        events = connection.execute(
            select(calibration_events)
            .where(calibration_events.c.watch == watch)
            .order_by(calibration_events.c.id)
        ).all()
    return [_calibration(row) for row in fitted], [
        CalibrationEvent(row.action, row.calibration_id, row.previous_id, row.actor, row.at) for row in events
    ]


def scoring_context(
    connection: Connection, mention_ids: Sequence[int], model_version: str
) -> dict[int, ScoringContext]:
    """Per mention: the active calibration of its watches fitted for `model_version` (a mention in
    several calibrated watches takes the first watch's by name, so its score never depends on the
    order it was collected in), and the latest label a person gave it. Mentions with neither are left
    out. Two queries per batch, whatever its size."""
    if not mention_ids:
        return {}
    ids = list(mention_ids)
    calibrated = connection.execute(
        select(
            mention_watches.c.mention_id, calibrations.c.id, calibrations.c.offsets, adapted_models.c.sha256
        )
        .join(active_calibrations, active_calibrations.c.watch == mention_watches.c.watch)
        .join(calibrations, calibrations.c.id == active_calibrations.c.calibration_id)
        .outerjoin(adapted_models, adapted_models.c.calibration_id == calibrations.c.id)
        .where(mention_watches.c.mention_id.in_(ids), calibrations.c.model_version == model_version)
        .order_by(mention_watches.c.mention_id, mention_watches.c.watch)
    ).all()
    found: dict[int, tuple[int, tuple[float, float, float], str | None]] = {}
    for mention_id, calibration_id, offsets, adapted in calibrated:
        neg, neu, pos = (float(x) for x in offsets)
        found.setdefault(int(mention_id), (int(calibration_id), (neg, neu, pos), adapted))
    corrected = connection.execute(
        select(label_feedback.c.mention_id, label_feedback.c.corrected_label)
        .where(label_feedback.c.mention_id.in_(ids))
        .order_by(label_feedback.c.id)
    ).all()
    labels = {int(mention_id): str(label) for mention_id, label in corrected}  # the latest wins
    context: dict[int, ScoringContext] = {}
    for mention_id in set(found) | set(labels):
        calibration = found.get(mention_id)
        context[mention_id] = ScoringContext(
            calibration[0] if calibration else None,
            calibration[1] if calibration else None,
            labels.get(mention_id),
            calibration[2] if calibration else None,
        )
    return context


def claim_open(connection: Connection, watch: str, limit: int, after: int = 0) -> list[PendingText]:
    """The watch's open inbox (scored, not handled, dismissed or deleted), from id `after` on, claimed
    for the caller's transaction like `claim_unscored`: what is re-scored when its calibration changes."""
    c = mentions.c
    query = (
        select(*pending_columns())
        .join(mention_watches, mention_watches.c.mention_id == c.id)
        .where(
            mention_watches.c.watch == watch,
            c.triage == "open",
            c.deleted_at.is_(None),
            c.scored_at.is_not(None),
            c.id > after,
        )
        .order_by(c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=mentions)
    )
    return pending_rows(connection, query)
