"""Each event's JSON body, in the spec's shape: `{"type", "timestamp", "data"}`.

A body is written once, when its event is recorded, and stored as sent: every retry carries the same
bytes, so a receiver that de-duplicates on `webhook-id` never sees two versions of one event. Times are
ISO 8601 in UTC; a mention's `link` opens it in the dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any


def iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    payload = {"type": event_type, "timestamp": iso(occurred_at), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def mention_link(public_url: str, mention_id: int) -> str:
    return f"{public_url}/mention?id={mention_id}"


def mention_identity(mention_id: int, row: Any, public_url: str) -> dict[str, Any]:
    """Which mention, where: enough to find it here and on its source (`row` has its source,
    external_id, url and author)."""
    return {
        "id": mention_id,
        "source": row.source,
        "external_id": row.external_id,
        "url": row.url,
        "author": row.author,
        "link": mention_link(public_url, mention_id),
    }


def mention_full(row: Any, watches: Sequence[str], public_url: str) -> dict[str, Any]:
    """A stored mention with its score and verdict (`label` is the verdict; `text_label` the model's
    reading of the text alone; `label_basis` what decided: text, stars or language)."""
    return {
        **mention_identity(row.id, row, public_url),
        "watches": list(watches),
        "title": row.title,
        "text": row.text,
        "created_at": iso(row.created_at),
        "language": row.language,
        "rating": row.rating,
        "author_reach": row.author_reach,
        "engagement": row.engagement,
        "label": row.label,
        "text_label": row.text_label,
        "label_basis": row.label_basis,
        "scores": {"negative": row.negative, "neutral": row.neutral, "positive": row.positive},
        "model_version": row.model_version,
        "scored_at": iso(row.scored_at),
        "deleted_at": iso(row.deleted_at),
    }


def change(row: Any) -> dict[str, Any]:
    """One audited change (a row of mention_events): what, from what to what, by whom, when, and why.
    An internal note's text stays inside (respond/cases.py promises it is never sent anywhere): the
    event says a note was added, by whom and when."""
    return {
        "action": row.action,
        "before": row.before,
        "after": row.after,
        "actor": row.actor,
        "note": None if row.action == "note" else row.note,
        "at": iso(row.at),
    }


def case(row: Any) -> dict[str, Any] | None:
    """The case as it is when the event is recorded (None for a mention without one)."""
    if row.case_id is None:
        return None
    return {
        "id": row.case_id,
        "status": row.case_status,
        "assignee": row.case_assignee,
        "tags": list(row.case_tags or []),
    }


def reply(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.id,
        "text": row.text,
        "author": row.author,
        "remote_id": row.remote_id,
        "remote_url": row.remote_url,
        "posted_at": iso(row.posted_at),
        "by_hand": row.status == "posted_by_hand",
    }


def alert(row: Any, public_url: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "kind": row.kind,
        "summary": row.summary,
        "watch": row.watch,
        "source": row.source,
        "mention_id": row.mention_id,
        "link": mention_link(public_url, row.mention_id) if row.mention_id else None,
        "details": row.payload or {},
        "due_at": iso(row.due_at),
        "raised_at": iso(row.claimed_at),
    }
