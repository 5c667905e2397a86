"""Actions on a selection of mentions, and undoing a mark. Each mention goes through the same code as
one click on its card (transitions.py, cases.py, triage.relabel), so the rules and the audit trail are the
same whether a person acts on one mention or twenty."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.config import ResponderSettings
from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.cases import assign, clean_tags, open_case, set_tags
from monitor.respond.transitions import apply_transition
from monitor.store.cases import case_for_mention
from monitor.store.triage import mention_triage, relabel

UNDO_NOTE = "undo"


@dataclass(frozen=True)
class Before:
    """A mention's triage and its case's status before a mark: what undo puts back. A resolved case
    keeps its resolution time, so undoing a reopen does not restart its clock."""

    mention_id: int
    triage: str
    case_status: str | None
    case_resolved_at: datetime | None = None


def mark(
    engine: Engine, mention_ids: Sequence[int], state: str, actor: str, now: datetime | None = None
) -> list[Before]:
    """Mark every mention `state` (handled, dismissed, open) in one transaction, each case following as
    the transition table says; returns what each was before, for `undo`."""
    now = now or utcnow()
    befores: list[Before] = []
    with engine.begin() as connection:
        for mention_id in dict.fromkeys(mention_ids):
            case = case_for_mention(connection, mention_id)
            triage = mention_triage(connection, mention_id)
            befores.append(
                Before(mention_id, triage, case.status, case.resolved_at)
                if case
                else Before(mention_id, triage, None)
            )
            apply_transition(connection, mention_id, "triage", state, actor, now)
    return befores


def undo(engine: Engine, befores: Sequence[Before], actor: str, now: datetime | None = None) -> None:
    """Put each mention and its case back as `mark` found them, with events noted "undo". The case goes
    first, so reopening the mention does not move it a second time."""
    now = now or utcnow()
    with engine.begin() as connection:
        for before in befores:
            if before.case_status is not None:
                apply_transition(
                    connection,
                    before.mention_id,
                    "undo",
                    before.case_status,
                    actor,
                    now,
                    UNDO_NOTE,
                    resolved_at=before.case_resolved_at,
                )
            apply_transition(connection, before.mention_id, "triage", before.triage, actor, now, UNDO_NOTE)


def assign_all(
    engine: Engine,
    mention_ids: Sequence[int],
    assignee: str | None,
    actor: str,
    settings: ResponderSettings,
    now: datetime | None = None,
) -> None:
    """Assign each mention's case, opening the case first where there is none."""
    now = now or utcnow()
    for mention_id in dict.fromkeys(mention_ids):
        case = open_case(engine, mention_id, actor, settings, now)
        assign(engine, case.id, assignee, actor, now)


def tag_all(
    engine: Engine,
    mention_ids: Sequence[int],
    tag: str,
    actor: str,
    settings: ResponderSettings,
    now: datetime | None = None,
) -> None:
    """Add `tag` to each mention's case (opened where there is none), keeping the tags it has."""
    now = now or utcnow()
    if not clean_tags([tag]):  # refused before any case is opened
        raise CaseError("a tag needs some text, such as “refund”")
    for mention_id in dict.fromkeys(mention_ids):
        case = open_case(engine, mention_id, actor, settings, now)
        set_tags(engine, case.id, [*case.tags, tag], actor, now)


def relabel_all(engine: Engine, mention_ids: Sequence[int], label: str, actor: str) -> None:
    for mention_id in dict.fromkeys(mention_ids):
        relabel(engine, mention_id, label, actor)
