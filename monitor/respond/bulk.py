"""Actions on a selection of mentions, and undoing a mark. Each mention goes through the same code as
one click on its card (transitions.py, cases.py, triage.relabel), so the rules and the audit trail are the
same whether a person acts on one mention or twenty.

Undo puts back only what nobody has touched since the mark: a mention with a later event in its audit
trail (someone replied, reopened, assigned, noted; the author edited it) is left as it is and named, so
a stale undo never puts a replied case back to new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select

from monitor.config import ResponderSettings
from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.cases import assign, clean_tags, open_case, set_tags
from monitor.respond.transitions import apply_transition
from monitor.store.cases import case_for_mention
from monitor.store.schema import mention_events
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
    # The mention's last audit event once marked: a later one means someone changed it since.
    last_event: int | None = None


@dataclass(frozen=True)
class Changed:
    """A mention undo left alone: what was done to it after the mark, and by whom."""

    mention_id: int
    action: str
    after: str | None
    actor: str

    def words(self) -> str:
        what = self.action.replace("_", " ") + (f" → {self.after}" if self.after else "")
        return f"mention {self.mention_id} ({what}, by {self.actor})"


def refusal(changed: Sequence[Changed]) -> str:
    """The sentence a person reads when undo left mentions alone."""
    listed = "; ".join(item.words() for item in changed)
    many = len(changed) > 1
    return (
        f"Not undone for {'these mentions' if many else 'this mention'}: "
        f"{'they were' if many else 'it was'} changed since the mark ({listed}). "
        "Open it to see what changed, and set it by hand if it still needs it."
    )


def _last_event(connection: Connection, mention_id: int) -> int | None:
    query = select(func.max(mention_events.c.id)).where(mention_events.c.mention_id == mention_id)
    found = connection.scalar(query)
    return None if found is None else int(found)


def _changed_since(connection: Connection, before: Before) -> Changed | None:
    query = (
        select(mention_events.c.action, mention_events.c.after, mention_events.c.actor)
        .where(mention_events.c.mention_id == before.mention_id)
        .order_by(mention_events.c.id)  # the first change since: what the rest followed
        .limit(1)
    )
    if before.last_event is not None:
        query = query.where(mention_events.c.id > before.last_event)
    row = connection.execute(query).first()
    return None if row is None else Changed(before.mention_id, row.action, row.after, row.actor)


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
            apply_transition(connection, mention_id, "triage", state, actor, now)
            last = _last_event(connection, mention_id)
            befores.append(
                Before(mention_id, triage, case.status, case.resolved_at, last)
                if case
                else Before(mention_id, triage, None, last_event=last)
            )
    return befores


def undo(engine: Engine, befores: Sequence[Before], actor: str, now: datetime | None = None) -> list[Changed]:
    """Put each mention and its case back as `mark` found them, with events noted "undo". The case goes
    first, so reopening the mention does not move it a second time. A mention already back as it was is
    left as it is (undoing twice does nothing more); one changed since the mark is left as it is too,
    and returned (`refusal` says it in words)."""
    now = now or utcnow()
    refused: list[Changed] = []
    with engine.begin() as connection:
        for before in befores:
            case = case_for_mention(connection, before.mention_id)
            if mention_triage(connection, before.mention_id) == before.triage and (
                case is None or case.status == before.case_status
            ):
                continue
            changed = _changed_since(connection, before)
            if changed is not None:
                refused.append(changed)
                continue
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
    return refused


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
